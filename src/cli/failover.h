// berth with several berthd: finding the one that leads (issue 14).
//
// FailoverApi is the Api the commands use. It sends each request to the server that answered
// last (at first, the first one listed). A server that surely did not carry the request out
// (Api::not_served: its connection failed, or it is a standby answering 503 not_leader) sends
// it on: to the leader the standby names when it names one (an address that need not be
// listed), else to the next server listed. Going round again waits a short backoff; after
// kSearchMs in all the request fails, naming every server tried and what each said. Any other
// answer, error or not, is the leader's last word: a request that may have been carried out is
// never sent again here (submits are sent again, with their Idempotency-Key, by
// Context::post_idempotent).
//
// With a single server listed, a connection it refuses fails at once with its own message, as
// berth did before there were standbys: a stopped or mistyped server costs no wait.
//
// Not thread-safe, as HttpApi.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/client.h"
#include "common/status.h"

namespace berth::cli {

class FailoverApi final : public Api {
 public:
  // How long one request may look for the leader, and the waits between rounds.
  static constexpr int64_t kSearchMs = 15'000;
  static constexpr int64_t kFirstWaitMs = 100;
  static constexpr int64_t kMaxWaitMs = 1'000;
  // A bound on the servers asked for one request, whatever the clock says.
  static constexpr int kMaxAttempts = 100;

  // Opens the Api of one server (HttpApi::Create with the token).
  using ConnectFn = std::function<Result<std::unique_ptr<Api>>(const std::string& server)>;
  struct Clock {
    std::function<int64_t()> now_ms;           // monotonic; unset: only the waits count
    std::function<void(int64_t ms)> sleep_ms;  // unset: no waiting
  };

  // `servers` is not empty; each is checked as a server URL (parse_server_url). Connects to a
  // server only when a request first goes there.
  static Result<std::unique_ptr<FailoverApi>> Create(std::vector<std::string> servers,
                                                     ConnectFn connect, Clock clock);

  Result<nlohmann::json> get(const std::string& path) override;
  using Api::post;
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                              const Headers& headers) override;
  Result<std::string> get_text(const std::string& path) override;
  Status download(const std::string& path, const std::string& file) override;

  // Where the next request goes.
  const std::string& current() const { return current_; }
  // Whether the last request failed because the search for the leader ran out (kSearchMs).
  bool gave_up() const { return gave_up_; }

 private:
  FailoverApi(std::vector<std::string> servers, ConnectFn connect, Clock clock);

  // One server asked and what it said.
  struct Tried {
    std::string server, said;
  };
  // Sends `call` until a server carries it out or the search gives up.
  template <typename T>
  Result<T> send(const std::function<Result<T>(Api&)>& call);
  Result<Api*> api_of(const std::string& server);
  // Moves current_ on from a server that did not serve.
  void move_on(const NotServed& why);
  std::optional<size_t> listed_index(const std::string& server) const;
  int64_t elapsed_ms(int64_t start_ms) const;
  void wait(int64_t ms);
  Status give_up(const std::vector<Tried>& tried);

  const std::vector<std::string> servers_;
  const ConnectFn connect_;
  const Clock clock_;
  std::map<std::string, std::unique_ptr<Api>> apis_;
  std::string current_;
  size_t listed_ = 0;      // the listed server current_ is, or was last
  int64_t waited_ms_ = 0;  // the clock without clock_.now_ms
  bool gave_up_ = false;
};

// Whether two server addresses name the same berthd: "ctl1:8765", "http://ctl1:8765/" and
// "http://CTL1:8765" do.
bool same_server(const std::string& a, const std::string& b);

}  // namespace berth::cli
