#include "cli/app.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "cli/failover.h"
#include "cli/table.h"
#include "cli/views.h"
#include "common/strings.h"

namespace berth::cli {
namespace {

using nlohmann::json;

// No file the CLI reads (script, token, config) has a reason to be larger.
constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

Result<std::string> read_stream(std::FILE* file, const std::string& what) {
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxFileBytes) return Status::Invalid(what + " is larger than 16 MiB");
  }
  if (std::ferror(file))
    return Status::Internal("cannot read " + what + ": " + std::strerror(errno));
  return text;
}

Result<std::string> read_whole_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int err = errno;
    return Status(err == ENOENT ? Code::kNotFound : Code::kInvalidArgument, std::strerror(err));
  }
  Result<std::string> text = read_stream(file, path);
  std::fclose(file);
  return text;
}

std::optional<std::string> read_all_stdin() {
  if (isatty(STDIN_FILENO)) return std::nullopt;
  Result<std::string> text = read_stream(stdin, "standard input");
  if (!text.ok()) return std::nullopt;
  return *text;
}

std::string current_dir() {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::current_path(ec);
  return ec ? std::string() : path.string();
}

// The first word of `args` that names no command where a command is expected ("berth frob",
// "berth node frob"), as "frob" or "node frob"; "" when every command word is known. The global
// options that take a value (--server, --token) are skipped with their values.
std::string unknown_command(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* group = &app;
  std::string path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (group == &app && (word == "--server" || word == "--token")) {
      ++i;
      continue;
    }
    if (word.starts_with("-")) continue;
    // Only a group of commands expects a command word here, not a command's own arguments.
    const bool takes_positionals =
        !group->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
    if (group->get_subcommands({}).empty() || takes_positionals) return "";
    const CLI::App* sub = nullptr;
    for (const CLI::App* candidate : group->get_subcommands({}))
      if (candidate->check_name(word)) sub = candidate;
    if (sub == nullptr) return path + word;
    path += word + " ";
    group = sub;
  }
  return "";
}

// CLI11 wants argv with the program name first.
int parse_and_run(CLI::App& app, Context& ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"berth"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, ctx.out(), ctx.err());  // --help
    if (const std::string unknown = unknown_command(app, args); !unknown.empty()) {
      const size_t space = unknown.rfind(' ');
      const std::string group = space == std::string::npos ? "" : unknown.substr(0, space) + " ";
      ctx.err() << "berth: error: unknown command '" << unknown << "'; see berth " << group
                << "--help\n";
      return e.get_exit_code();
    }
    ctx.err() << "berth: error: " << e.what() << "\nRun with --help for more information.\n";
    return e.get_exit_code();
  }
  if (!ctx.action) {
    ctx.err() << app.help();
    return 1;
  }
  const Status status = ctx.action();
  if (status.ok()) return ctx.exit_status;
  // An empty message means the command already reported each failure itself.
  if (!status.message().empty()) ctx.err() << "berth: error: " << status.message() << "\n";
  return 1;
}

}  // namespace

Result<Api*> Context::api() {
  if (api_) return api_.get();
  BERTH_ASSIGN_OR_RETURN(Connection connection,
                         resolve_connection(connection_flags, io_.getenv, io_.read_file));
  auto connect = [this, token = connection.token](const std::string& server) {
    return io_.connect(server, token);
  };
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<FailoverApi> api,
                         FailoverApi::Create(std::move(connection.servers), std::move(connect),
                                             {.now_ms = io_.steady_ms, .sleep_ms = io_.sleep_ms}));
  token_source_ = connection.token_source;
  api_ = std::move(api);
  return api_.get();
}

Status Context::with_hint(const Status& status) const {
  if (status.code() != Code::kUnauthenticated) return status;
  const std::string hint =
      token_source_.empty()
          ? " (no token found: use --token, BERTH_TOKEN, BERTH_TOKEN_FILE or token = \"...\" "
            "in ~/.config/berth/cli.toml)"
          : " (token from " + token_source_ + ")";
  return Status(status.code(), status.message() + hint);
}

Result<json> Context::get(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(Api * client, api());
  Result<json> reply = client->get(path);
  if (!reply.ok()) return with_hint(reply.status());
  return reply;
}

Result<json> Context::post(const std::string& path, const json& body, const Api::Headers& headers) {
  BERTH_ASSIGN_OR_RETURN(Api * client, api());
  Result<json> reply = client->post(path, body, headers);
  if (!reply.ok()) return with_hint(reply.status());
  return reply;
}

Result<json> Context::post_idempotent(const std::string& path, const json& body) {
  const std::string key = io_.new_request_key ? io_.new_request_key() : "";
  if (key.empty()) return post(path, body);
  const Api::Headers headers = {{"Idempotency-Key", key}};
  int64_t wait_ms = 250;
  for (int attempt = 1;; ++attempt) {
    Result<json> reply = post(path, body, headers);
    // kUnavailable: no reply came (or berthd was stopping), so it may or may not have been
    // applied; any other answer is berthd's last word.
    if (reply.ok() || reply.status().code() != Code::kUnavailable ||
        attempt == kIdempotentAttempts || (api_ && api_->gave_up()))
      return reply;
    err() << "berth: warning: " << reply.status().message() << "; trying again (" << attempt
          << " of " << kIdempotentAttempts - 1 << ")\n";
    if (io_.sleep_ms) io_.sleep_ms(wait_ms);
    wait_ms *= 2;
  }
}

Result<std::string> Context::get_text(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(Api * client, api());
  Result<std::string> reply = client->get_text(path);
  if (!reply.ok()) return with_hint(reply.status());
  return reply;
}

Status Context::download(const std::string& path, const std::string& file) {
  BERTH_ASSIGN_OR_RETURN(Api * client, api());
  const Status st = client->download(path, file);
  return st.ok() ? st : with_hint(st);
}

const std::string& Context::currency() {
  if (currency_) return *currency_;
  currency_.emplace();
  if (json_output) return *currency_;
  Result<Api*> client = api();
  Result<json> health = client.ok() ? (*client)->get("/v1/health") : Result<json>(client.status());
  if (!health.ok() || !health->is_object()) return *currency_;
  for (const char* key : {"currency_symbol", "currency"})
    if (health->contains(key) && (*health)[key].is_string() &&
        !(*health)[key].get<std::string>().empty()) {
      *currency_ = terminal_safe((*health)[key].get<std::string>());
      break;
    }
  return *currency_;
}

std::string Context::money(const json& object, const char* key) {
  return money_cell(object, key, currency());
}

std::string Context::exact_money(const json& object, const char* key) {
  return exact_money_cell(object, key, currency());
}

std::function<std::string(const json&)> in_currency(Context& ctx,
                                                    std::string (*render)(const json&,
                                                                          const std::string&)) {
  return [&ctx, render](const json& items) { return render(items, ctx.currency()); };
}

void Context::print(const json& reply, const std::string& text) const {
  if (json_output) {
    out() << reply.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    out() << text;
  }
}

void on_run(CLI::App* sub, Context& ctx, std::function<Status()> action) {
  sub->callback([&ctx, action = std::move(action)] { ctx.action = action; });
}

Result<json> get_every_page(Context& ctx, const std::string& path, const char* key) {
  json all = json::array();
  std::string page = path;
  int64_t last_cursor = -1;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(json reply, ctx.get(page));
    for (const json& item : items(reply, key)) all.push_back(item);
    const json next = reply.is_object() ? reply.value("next", json()) : json();
    // A cursor that does not move on would loop forever: stop there.
    if (!next.is_number_integer() || next.get<int64_t>() <= last_cursor) break;
    last_cursor = next.get<int64_t>();
    page = path + (path.find('?') == std::string::npos ? "?" : "&") +
           "after=" + std::to_string(last_cursor);
  }
  return json{{key, all}};
}

Status run_listing(Context& ctx, const std::string& path, const char* key,
                   const std::function<std::string(const json&)>& render) {
  BERTH_ASSIGN_OR_RETURN(json reply, get_every_page(ctx, path, key));
  ctx.print(reply, render(items(reply, key)));
  return Status::Ok();
}

namespace {

// 128 bits from the OS's random source, as 32 hex digits: unique enough that two submits never
// share a key by chance.
std::string random_request_key() {
  std::random_device random;
  static const char* kDigits = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 4; ++i) {
    const uint32_t word = random();
    for (int shift = 28; shift >= 0; shift -= 4) key += kDigits[(word >> shift) & 15];
  }
  return key;
}

}  // namespace

CliIo process_io() {
  CliIo io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  io.environment = [] {
    std::map<std::string, std::string> out;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      const size_t eq = text.find('=');
      if (eq != std::string_view::npos && eq > 0)
        out.emplace(text.substr(0, eq), text.substr(eq + 1));
    }
    return out;
  };
  io.read_file = read_whole_file;
  io.read_stdin = read_all_stdin;
  io.cwd = current_dir;
  io.now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  io.steady_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  io.new_request_key = random_request_key;
  io.sleep_ms = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  io.connect = [](const std::string& server,
                  const std::string& token) -> Result<std::unique_ptr<Api>> {
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<HttpApi> api, HttpApi::Create(server, token));
    return std::unique_ptr<Api>(std::move(api));
  };
  return io;
}

int run_cli(const std::vector<std::string>& args, const CliIo& io) {
  CLI::App app{"berth: run GPU jobs on a subsidised compute centre and follow their money.",
               "berth"};
  app.require_subcommand(1);
  app.fallthrough();
  Context ctx(io);
  app.add_option("--server", ctx.connection_flags.servers,
                 "berthd URL; several (repeated or comma separated): a leader and its standbys "
                 "(default $BERTH_SERVER, cli.toml, " +
                     std::string(kDefaultServer) + ")")
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--token", ctx.connection_flags.token,
                 "bearer token (default $BERTH_TOKEN, $BERTH_TOKEN_FILE, "
                 "cli.toml, ./berth-state/admin.token)");
  app.add_flag("--json", ctx.json_output, "print the server's JSON instead of a table");
  add_job_commands(app, ctx);
  add_history_commands(app, ctx);
  add_money_commands(app, ctx);
  add_funding_commands(app, ctx);
  add_admin_commands(app, ctx);
  add_report_commands(app, ctx);
  add_bench_commands(app, ctx);
  add_sim_commands(app, ctx);
  try {
    return parse_and_run(app, ctx, args);
  } catch (const std::exception& e) {
    // A reply of an unexpected shape can make nlohmann::json throw; report it, do not crash.
    io.err->flush();
    *io.err << "berth: error: internal: " << e.what() << "\n";
    return 1;
  }
}

int run_cli(int argc, char** argv, const CliIo& io) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return run_cli(args, io);
}

}  // namespace berth::cli
