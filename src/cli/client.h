// Talking to berthd: the REST API as the commands see it, and its HTTP implementation.
//
// Commands depend only on the Api interface, so tests drive them with a hand-written fake.
// HttpApi speaks plain HTTP (no TLS) through cpp-httplib. Every call is synchronous and
// returns the decoded JSON reply, or a Status: a non-2xx reply carries the server's own error
// code and message; a failed connection names the server that could not be reached. After a
// failed call, not_served() says whether that server surely did not carry it out, so that
// FailoverApi (cli/failover.h) may send it to another.
// Not thread-safe; use one HttpApi per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace httplib {
class Client;
}

namespace berth::cli {

// Why a server surely did not carry out a request: it could not be reached (the connection
// was never made), or it is a standby (503 with error.code "not_leader"), which names the
// leader's address when it knows one.
struct NotServed {
  bool unreachable = false;
  std::string leader;  // "http://host:port"; "" when none was named
};

class Api {
 public:
  virtual ~Api() = default;
  // `path` starts with "/v1/" and is already encoded (see path_segment and query_string).
  virtual Result<nlohmann::json> get(const std::string& path) = 0;
  // Extra request headers (an Idempotency-Key).
  using Headers = std::vector<std::pair<std::string, std::string>>;
  virtual Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                                      const Headers& headers) = 0;
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body) {
    return post(path, body, {});
  }
  // A GET whose reply is not JSON (a statement as CSV or HTML): the body as it came. Errors
  // are still the server's JSON errors, turned into a Status.
  virtual Result<std::string> get_text(const std::string& path) = 0;
  // A GET whose reply is a file (a database backup), written to `file`: whole or not at all
  // (through `file`.partial, synced and renamed), never over an existing file. Errors are the
  // server's JSON errors. By default through get_text; HttpApi streams it to disk.
  virtual Status download(const std::string& path, const std::string& file);
  // After a call that failed: set when that call surely was not carried out (NotServed);
  // nullopt when it may have been, or when the implementation cannot tell.
  virtual std::optional<NotServed> not_served() const { return std::nullopt; }
};

// Writes `bytes` to `file` whole or not at all (see Api::download).
Status write_file_atomically(const std::string& file, std::string_view bytes);

// A server address split up: "http://host:port/base" -> {host, port, "/base"}.
struct ServerUrl {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  int port = 80;
  std::string base_path;  // "" or "/prefix" without a trailing slash
};

// Accepts "http://host[:port][/base]" and, for convenience, "host[:port]". Refuses other schemes.
Result<ServerUrl> parse_server_url(std::string_view url);

// Percent-encodes one path segment or query value (RFC 3986 unreserved characters pass).
std::string path_segment(std::string_view text);

// "?k=v&k2=v2" with values encoded; pairs with an empty value are left out; "" when none remain.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

// The Status for a non-2xx reply: the code and message from {"error":{"code","message"}} when
// the body has them, otherwise the HTTP status and the start of the body.
Status status_from_reply(int http_status, std::string_view body);

// A standby's reply (503 {"error": {"code": "not_leader", ...}, "leader": "..."}) as NotServed;
// nullopt for any other reply.
std::optional<NotServed> not_leader_reply(int http_status, std::string_view body);

class HttpApi final : public Api {
 public:
  // Checks the URL; opens no connection yet. An empty token sends no Authorization header.
  static Result<std::unique_ptr<HttpApi>> Create(const std::string& url, const std::string& token);
  ~HttpApi() override;
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  Result<nlohmann::json> get(const std::string& path) override;
  using Api::post;
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                              const Headers& headers) override;
  Result<std::string> get_text(const std::string& path) override;
  Status download(const std::string& path, const std::string& file) override;
  std::optional<NotServed> not_served() const override { return not_served_; }

 private:
  HttpApi(std::string url, ServerUrl parsed, const std::string& token);

  std::string url_;  // as the user gave it, for messages
  ServerUrl parsed_;
  std::unique_ptr<httplib::Client> http_;
  std::optional<NotServed> not_served_;  // of the last call
};

}  // namespace berth::cli
