#include "cli/failover.h"

#include <algorithm>
#include <cctype>

namespace berth::cli {

using nlohmann::json;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return text;
}

}  // namespace

bool same_server(const std::string& a, const std::string& b) {
  const Result<ServerUrl> x = parse_server_url(a);
  const Result<ServerUrl> y = parse_server_url(b);
  if (!x.ok() || !y.ok()) return a == b;
  return lower(x->host) == lower(y->host) && x->port == y->port && x->base_path == y->base_path;
}

Result<std::unique_ptr<FailoverApi>> FailoverApi::Create(std::vector<std::string> servers,
                                                         ConnectFn connect, Clock clock) {
  if (servers.empty()) return Status::Invalid("no berth server given");
  for (const std::string& server : servers)
    BERTH_RETURN_IF_ERROR(parse_server_url(server).status());
  return std::unique_ptr<FailoverApi>(
      new FailoverApi(std::move(servers), std::move(connect), std::move(clock)));
}

FailoverApi::FailoverApi(std::vector<std::string> servers, ConnectFn connect, Clock clock)
    : servers_(std::move(servers)),
      connect_(std::move(connect)),
      clock_(std::move(clock)),
      current_(servers_.front()) {}

Result<json> FailoverApi::get(const std::string& path) {
  return send<json>([&path](Api& api) { return api.get(path); });
}

Result<json> FailoverApi::post(const std::string& path, const json& body, const Headers& headers) {
  return send<json>([&](Api& api) { return api.post(path, body, headers); });
}

Result<std::string> FailoverApi::get_text(const std::string& path) {
  return send<std::string>([&path](Api& api) { return api.get_text(path); });
}

Status FailoverApi::download(const std::string& path, const std::string& file) {
  Result<bool> done = send<bool>([&](Api& api) -> Result<bool> {
    BERTH_RETURN_IF_ERROR(api.download(path, file));
    return true;
  });
  return done.ok() ? Status::Ok() : done.status();
}

template <typename T>
Result<T> FailoverApi::send(const std::function<Result<T>(Api&)>& call) {
  const int64_t start_ms = elapsed_ms(0);
  gave_up_ = false;
  std::vector<Tried> tried;
  int64_t wait_ms = kFirstWaitMs;
  for (int attempt = 1;; ++attempt) {
    const std::string server = current_;
    Status failed;
    NotServed why{.unreachable = true};
    if (Result<Api*> api = api_of(server); !api.ok()) {
      failed = api.status();  // an address a standby named that is no server URL
    } else {
      Result<T> result = call(**api);
      const std::optional<NotServed> not_served = result.ok() ? std::nullopt : (*api)->not_served();
      if (!not_served) return result;  // carried out, or berthd's own answer: current_ stays
      failed = result.status();
      why = *not_served;
    }
    auto seen = std::find_if(tried.begin(), tried.end(),
                             [&](const Tried& t) { return same_server(t.server, server); });
    if (seen == tried.end()) {
      tried.push_back({server, failed.message()});
    } else {
      seen->said = failed.message();
    }
    if (servers_.size() == 1 && tried.size() == 1 && why.unreachable) return failed;
    move_on(why);
    if (attempt >= kMaxAttempts || elapsed_ms(start_ms) >= kSearchMs) return give_up(tried);
    const bool again = std::any_of(tried.begin(), tried.end(),
                                   [&](const Tried& t) { return same_server(t.server, current_); });
    if (!again) continue;  // a server not asked yet is asked at once
    if (elapsed_ms(start_ms) + wait_ms > kSearchMs) return give_up(tried);
    wait(wait_ms);
    wait_ms = std::min(wait_ms * 2, kMaxWaitMs);
  }
}

Result<Api*> FailoverApi::api_of(const std::string& server) {
  auto it = apis_.find(server);
  if (it == apis_.end()) {
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Api> api, connect_(server));
    it = apis_.emplace(server, std::move(api)).first;
  }
  return it->second.get();
}

void FailoverApi::move_on(const NotServed& why) {
  if (!why.leader.empty() && !same_server(why.leader, current_)) {
    const std::optional<size_t> listed = listed_index(why.leader);
    if (listed) listed_ = *listed;
    current_ = listed ? servers_[*listed] : why.leader;
    return;
  }
  listed_ = (listed_index(current_).value_or(listed_) + 1) % servers_.size();
  current_ = servers_[listed_];
}

std::optional<size_t> FailoverApi::listed_index(const std::string& server) const {
  for (size_t i = 0; i < servers_.size(); ++i)
    if (same_server(servers_[i], server)) return i;
  return std::nullopt;
}

int64_t FailoverApi::elapsed_ms(int64_t start_ms) const {
  return (clock_.now_ms ? clock_.now_ms() : waited_ms_) - start_ms;
}

void FailoverApi::wait(int64_t ms) {
  if (clock_.sleep_ms) clock_.sleep_ms(ms);
  waited_ms_ += ms;
}

Status FailoverApi::give_up(const std::vector<Tried>& tried) {
  gave_up_ = true;
  std::string message =
      "no berthd took the request within " + std::to_string(kSearchMs / 1000) + " s; asked ";
  for (size_t i = 0; i < tried.size(); ++i)
    message += (i == 0 ? "" : "; ") + tried[i].server + " (" + tried[i].said + ")";
  return Status(Code::kUnavailable, message);
}

}  // namespace berth::cli
