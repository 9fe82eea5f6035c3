#include "cli/client.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <httplib.h>

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxReplyBytes = 64 * 1024 * 1024;
constexpr time_t kConnectTimeoutS = 5;
constexpr time_t kReadTimeoutS = 60;
constexpr size_t kErrorBodyShown = 200;
// A backup is copied whole on the server before its first byte is sent.
constexpr time_t kDownloadReadTimeoutS = 600;
constexpr size_t kMaxErrorBytes = 1024 * 1024;

bool unreserved(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

Code code_from_http(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kPayloadTooLarge;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

// A code name berth does not know ("not_leader") is taken from the HTTP status.
Code code_from_name(const std::string& name, int http_status) {
  const std::optional<Code> code = parse_code_name(name);
  return code && *code != Code::kOk ? *code : code_from_http(http_status);
}

// A connection that was never made carried nothing to the server.
std::optional<NotServed> not_served_by(httplib::Error error) {
  if (error == httplib::Error::Connection || error == httplib::Error::ConnectionTimeout)
    return NotServed{.unreachable = true};
  return std::nullopt;
}

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed; is berthd running there?";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no complete reply (read failed or timed out)";
    case httplib::Error::Write:
      return "the request could not be sent";
    case httplib::Error::Canceled:
      return "the reply was larger than " + std::to_string(kMaxReplyBytes) + " bytes";
    default:
      return httplib::to_string(error);
  }
}

Result<int> parse_port(std::string_view text, std::string_view url) {
  if (text.empty() || text.size() > 5)
    return Status::Invalid("server URL '" + std::string(url) + "' has a bad port");
  int port = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      return Status::Invalid("server URL '" + std::string(url) + "' has a bad port");
    port = port * 10 + (ch - '0');
  }
  if (port < 1 || port > 65535)
    return Status::Invalid("server URL '" + std::string(url) + "' has a bad port");
  return port;
}

}  // namespace

Result<ServerUrl> parse_server_url(std::string_view url) {
  std::string_view rest = url;
  const size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    if (rest.substr(0, scheme_end) != "http")
      return Status::Invalid("server URL '" + std::string(url) +
                             "': only http:// is supported (no TLS)");
    rest.remove_prefix(scheme_end + 3);
  }
  ServerUrl out;
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view base = rest.substr(slash);
    while (base.ends_with("/")) base.remove_suffix(1);
    out.base_path = std::string(base);
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::Invalid("server URL '" + std::string(url) + "' is malformed");
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":"))
      return Status::Invalid("server URL '" + std::string(url) + "' is malformed");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::Invalid("server URL '" + std::string(url) + "' has no host");
  if (!port_text.empty() || authority.ends_with(":")) {
    BERTH_ASSIGN_OR_RETURN(int port, parse_port(port_text, url));
    out.port = port;
  }
  return out;
}

std::string path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (unreserved(ch)) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += path_segment(key) + "=" + path_segment(value);
  }
  return out;
}

Status status_from_reply(int http_status, std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const json& error = parsed["error"];
    const std::string message = error.contains("message") && error["message"].is_string()
                                    ? error["message"].get<std::string>()
                                    : "(no message)";
    const Code code = error.contains("code") && error["code"].is_string()
                          ? code_from_name(error["code"].get<std::string>(), http_status)
                          : code_from_http(http_status);
    return Status(code, message);
  }
  std::string shown(body.substr(0, kErrorBodyShown));
  if (body.size() > kErrorBodyShown) shown += "...";
  return Status(code_from_http(http_status), "server replied HTTP " + std::to_string(http_status) +
                                                 (shown.empty() ? "" : ": " + shown));
}

std::optional<NotServed> not_leader_reply(int http_status, std::string_view body) {
  if (http_status != 503) return std::nullopt;
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_object() ||
      parsed["error"].value("code", json()) != "not_leader")
    return std::nullopt;
  const json leader = parsed.value("leader", json());
  return NotServed{.leader = leader.is_string() ? leader.get<std::string>() : ""};
}

Result<std::unique_ptr<HttpApi>> HttpApi::Create(const std::string& url, const std::string& token) {
  BERTH_ASSIGN_OR_RETURN(ServerUrl parsed, parse_server_url(url));
  return std::unique_ptr<HttpApi>(new HttpApi(url, std::move(parsed), token));
}

HttpApi::HttpApi(std::string url, ServerUrl parsed, const std::string& token)
    : url_(std::move(url)),
      parsed_(std::move(parsed)),
      http_(std::make_unique<httplib::Client>(parsed_.host, parsed_.port)) {
  http_->set_connection_timeout(kConnectTimeoutS);
  http_->set_tcp_nodelay(true);  // small requests: no Nagle delay waiting for an ACK
  http_->set_read_timeout(kReadTimeoutS);
  http_->set_write_timeout(kReadTimeoutS);
  if (!token.empty()) http_->set_bearer_token_auth(token);
}

HttpApi::~HttpApi() = default;

namespace {

// Sends one request, reading at most kMaxReplyBytes of reply; the body of a 2xx reply. Sets
// *not_served when the request surely was not carried out.
Result<std::string> exchange_text(httplib::Client& http, const std::string& url,
                                  httplib::Request request, std::optional<NotServed>* not_served) {
  std::string reply;
  request.content_receiver = [&reply](const char* data, size_t length, uint64_t, uint64_t) {
    if (reply.size() + length > kMaxReplyBytes) return false;
    reply.append(data, length);
    return true;
  };
  *not_served = std::nullopt;
  const httplib::Result result = http.send(request);
  if (!result) {
    *not_served = not_served_by(result.error());
    return Status(Code::kUnavailable,
                  "could not reach the berth server at " + url + ": " + describe(result.error()));
  }
  const int status = result->status;
  if (status < 200 || status > 299) {
    *not_served = not_leader_reply(status, reply);
    return status_from_reply(status, reply);
  }
  return reply;
}

// The same, decoded as JSON.
Result<json> exchange(httplib::Client& http, const std::string& url, httplib::Request request,
                      std::optional<NotServed>* not_served) {
  BERTH_ASSIGN_OR_RETURN(std::string text,
                         exchange_text(http, url, std::move(request), not_served));
  const std::string& reply = text;
  if (reply.empty()) return json();
  json parsed = json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return Status::Internal("the server at " + url + " sent a reply that is not JSON");
  return parsed;
}

}  // namespace

Result<json> HttpApi::get(const std::string& path) {
  httplib::Request request;
  request.method = "GET";
  request.path = parsed_.base_path + path;
  request.set_header("Accept", "application/json");
  return exchange(*http_, url_, std::move(request), &not_served_);
}

Result<std::string> HttpApi::get_text(const std::string& path) {
  httplib::Request request;
  request.method = "GET";
  request.path = parsed_.base_path + path;
  return exchange_text(*http_, url_, std::move(request), &not_served_);
}

Result<json> HttpApi::post(const std::string& path, const json& body, const Headers& headers) {
  not_served_ = std::nullopt;
  httplib::Request request;
  request.method = "POST";
  request.path = parsed_.base_path + path;
  request.set_header("Accept", "application/json");
  request.set_header("Content-Type", "application/json");
  for (const auto& [name, value] : headers) request.set_header(name, value);
  try {
    request.body = body.dump();
  } catch (const json::exception&) {
    // nlohmann::json refuses to encode strings that are not UTF-8, such as a Latin-1 script.
    return Status::Invalid(
        "the request holds text that is not valid UTF-8 (check the script's encoding)");
  }
  return exchange(*http_, url_, std::move(request), &not_served_);
}

namespace {

// A file being written in place of `file`, removed unless finished.
class PartialFile {
 public:
  explicit PartialFile(const std::string& file) : file_(file), partial_(file + ".partial") {}
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!done_) ::unlink(partial_.c_str());
  }
  Status open() {
    if (::access(file_.c_str(), F_OK) == 0)
      return Status::Conflict(file_ + " exists; name a new file");
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return Status::Internal("cannot write " + partial_ + ": " + std::strerror(errno));
    return Status::Ok();
  }
  bool write(const char* data, size_t length) {
    while (length > 0) {
      const ssize_t n = ::write(fd_, data, length);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      length -= static_cast<size_t>(n);
    }
    return true;
  }
  Status finish() {
    const bool synced = ::fsync(fd_) == 0;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    if (!synced || !closed)
      return Status::Internal("cannot write " + partial_ + ": " + std::strerror(errno));
    if (::rename(partial_.c_str(), file_.c_str()) != 0)
      return Status::Internal("cannot rename " + partial_ + " to " + file_ + ": " +
                              std::strerror(errno));
    done_ = true;
    return Status::Ok();
  }
  const std::string& partial() const { return partial_; }

 private:
  std::string file_, partial_;
  int fd_ = -1;
  bool done_ = false;
};

}  // namespace

Status write_file_atomically(const std::string& file, std::string_view bytes) {
  PartialFile out(file);
  BERTH_RETURN_IF_ERROR(out.open());
  if (!out.write(bytes.data(), bytes.size()))
    return Status::Internal("cannot write " + out.partial() + ": " + std::strerror(errno));
  return out.finish();
}

Status Api::download(const std::string& path, const std::string& file) {
  if (::access(file.c_str(), F_OK) == 0) return Status::Conflict(file + " exists; name a new file");
  BERTH_ASSIGN_OR_RETURN(std::string bytes, get_text(path));
  return write_file_atomically(file, bytes);
}

Status HttpApi::download(const std::string& path, const std::string& file) {
  not_served_ = std::nullopt;
  PartialFile out(file);
  BERTH_RETURN_IF_ERROR(out.open());
  httplib::Request request;
  request.method = "GET";
  request.path = parsed_.base_path + path;
  int status = 0;
  bool write_failed = false;
  std::string error_body;
  request.response_handler = [&status](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (status < 200 || status > 299) {
      if (error_body.size() + length > kMaxErrorBytes) return false;
      error_body.append(data, length);
      return true;
    }
    write_failed = !out.write(data, length);
    return !write_failed;
  };
  http_->set_read_timeout(kDownloadReadTimeoutS);
  const httplib::Result result = http_->send(request);
  http_->set_read_timeout(kReadTimeoutS);
  if (write_failed)
    return Status::Internal("cannot write " + out.partial() + ": " + std::strerror(errno));
  if (!result) {
    not_served_ = not_served_by(result.error());
    return Status(Code::kUnavailable,
                  "could not reach the berth server at " + url_ + ": " + describe(result.error()));
  }
  if (result->status < 200 || result->status > 299) {
    not_served_ = not_leader_reply(result->status, error_body);
    return status_from_reply(result->status, error_body);
  }
  return out.finish();
}

}  // namespace berth::cli
