#include "cli/config.h"

#include <tuple>
#include <utility>

#include "common/strings.h"

namespace berth::cli {
namespace {

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char ch : key) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-'))
      return false;
  }
  return true;
}

// Reads a quoted TOML basic string ("...", with \" \\ \n \t escapes) or a literal one ('...'),
// followed only by blanks or a comment.
Result<std::string> parse_value(std::string_view text) {
  if (text.size() < 2 || (text.front() != '"' && text.front() != '\''))
    return Status::Invalid("value must be a quoted string");
  const char quote = text.front();
  std::string value;
  size_t i = 1;
  for (; i < text.size() && text[i] != quote; ++i) {
    if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) {
      const char next = text[++i];
      value += next == 'n' ? '\n' : next == 't' ? '\t' : next;
    } else {
      value += text[i];
    }
  }
  if (i >= text.size()) return Status::Invalid("unterminated string");
  const std::string_view after = trim(text.substr(i + 1), kSpacesTabsAndLineEnds);
  if (!after.empty() && after.front() != '#')
    return Status::Invalid("unexpected text after the value");
  return value;
}

std::optional<std::string> nonempty(std::optional<std::string> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

// Reads a token file, dropping surrounding whitespace (editors add a final newline).
Result<std::string> read_token_file(const ReadFileFn& read_file, const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text.ok())
    return Status::Invalid("cannot read token file '" + path + "': " + text.status().message());
  return std::string(trim(*text, kSpacesTabsAndLineEnds));
}

std::string config_path(const GetEnvFn& getenv) {
  if (auto xdg = nonempty(getenv("XDG_CONFIG_HOME"))) return *xdg + "/berth/cli.toml";
  if (auto home = nonempty(getenv("HOME"))) return *home + "/.config/berth/cli.toml";
  return "";
}

// The token from the config file or the local state directory, or "" when neither has one.
Result<std::pair<std::string, std::string>> fallback_token(
    const std::map<std::string, std::string>& config, const ReadFileFn& read_file) {
  if (auto it = config.find("token"); it != config.end() && !it->second.empty())
    return std::pair{it->second, std::string("the config file")};
  if (auto it = config.find("token_file"); it != config.end() && !it->second.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string token, read_token_file(read_file, it->second));
    return std::pair{token, it->second};
  }
  Result<std::string> local = read_file(kLocalAdminTokenPath);
  if (local.ok())
    return std::pair{std::string(trim(*local, kSpacesTabsAndLineEnds)),
                     std::string(kLocalAdminTokenPath)};
  return std::pair{std::string(), std::string()};
}

}  // namespace

Result<std::map<std::string, std::string>> parse_cli_config(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view line =
        trim(text.substr(start, end == std::string_view::npos ? end : end - start),
             kSpacesTabsAndLineEnds);
    start = end == std::string_view::npos ? text.size() : end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string at = "line " + std::to_string(line_number) + ": ";
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Status::Invalid(at + "expected key = \"value\"");
    const std::string_view key = trim(line.substr(0, eq), kSpacesTabsAndLineEnds);
    if (!valid_key(key)) return Status::Invalid(at + "bad key '" + std::string(key) + "'");
    Result<std::string> value = parse_value(trim(line.substr(eq + 1), kSpacesTabsAndLineEnds));
    if (!value.ok()) return Status::Invalid(at + value.status().message());
    out[std::string(key)] = std::move(*value);
  }
  return out;
}

Result<std::map<std::string, std::string>> load_cli_config(const GetEnvFn& getenv,
                                                           const ReadFileFn& read_file) {
  const std::string path = config_path(getenv);
  if (path.empty()) return std::map<std::string, std::string>();
  Result<std::string> text = read_file(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return std::map<std::string, std::string>();
    return Status::Invalid("cannot read " + path + ": " + text.status().message());
  }
  Result<std::map<std::string, std::string>> parsed = parse_cli_config(*text);
  if (!parsed.ok()) return Status::Invalid(path + ": " + parsed.status().message());
  return parsed;
}

std::vector<std::string> split_servers(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view part : split(text, ',')) {
    const std::string_view server = trim(part, kSpacesTabsAndLineEnds);
    if (!server.empty()) out.emplace_back(server);
  }
  return out;
}

Result<Connection> resolve_connection(const ConnectionFlags& flags, const GetEnvFn& getenv,
                                      const ReadFileFn& read_file) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_cli_config(getenv, read_file));
  Connection out;
  std::string_view from;  // where the list came from, for an error
  if (!flags.servers.empty()) {
    for (const std::string& flag : flags.servers)
      for (std::string& server : split_servers(flag)) out.servers.push_back(std::move(server));
    from = "--server";
  } else if (auto env = nonempty(getenv("BERTH_SERVER"))) {
    out.servers = split_servers(*env);
    from = "BERTH_SERVER";
  } else if (auto it = config.find("server"); it != config.end() && !it->second.empty()) {
    out.servers = split_servers(it->second);
    from = "the config file's server";
  } else {
    out.servers = {kDefaultServer};
  }
  if (out.servers.empty()) return Status::Invalid(std::string(from) + " names no server");
  if (!flags.token.empty()) {
    out.token = flags.token;
    out.token_source = "--token";
  } else if (auto env = nonempty(getenv("BERTH_TOKEN"))) {
    out.token = *env;
    out.token_source = "BERTH_TOKEN";
  } else if (auto file = nonempty(getenv("BERTH_TOKEN_FILE"))) {
    BERTH_ASSIGN_OR_RETURN(std::string token, read_token_file(read_file, *file));
    out.token = token;
    out.token_source = *file;
  } else {
    BERTH_ASSIGN_OR_RETURN(auto fallback, fallback_token(config, read_file));
    std::tie(out.token, out.token_source) = fallback;
  }
  return out;
}

}  // namespace berth::cli
