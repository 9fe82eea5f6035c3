#include "server/leadership.h"

#include <unistd.h>

#include "server/auth.h"

namespace berth::server {

using json = nlohmann::json;

Leadership::Leadership(store::Candidate me, std::string store_kind)
    : me_(std::move(me)), store_kind_(std::move(store_kind)) {}

void Leadership::set(const store::LeaderInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  info_ = info;
}

store::LeaderInfo Leadership::info() const {
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

bool Leadership::leading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return info_.epoch != 0 && info_.holder.id == me_.id;
}

std::string Leadership::leader_http_address() const {
  const store::LeaderInfo i = info();
  return i.live() ? i.holder.http_address : "";
}

json Leadership::describe() const {
  const store::LeaderInfo i = info();
  const bool mine = i.epoch != 0 && i.holder.id == me_.id;
  return json{{"store", store_kind_},
              {"epoch", i.epoch},
              {"leader",
               {{"name", i.holder.name},
                {"http_address", i.holder.http_address},
                {"agents_address", i.holder.agents_address}}},
              {"since_ms", i.since_ms},
              {"expires_ms", i.expires_ms},
              {"this", {{"name", me_.name}, {"role", mine ? "leader" : "standby"}}}};
}

json Leadership::not_leader_body() const {
  const store::LeaderInfo i = info();
  const bool known = i.live() && i.holder.id != me_.id;
  const std::string leader = known ? i.holder.http_address : "";
  const std::string message =
      "this berthd (" + me_.name + ") is a standby; " +
      (known ? i.holder.name + " leads at " + leader : std::string("no berthd leads right now"));
  return json{{"error", {{"code", "not_leader"}, {"message", message}}}, {"leader", leader}};
}

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "berthd";
  return buf;
}

// host:port with a wildcard host ("0.0.0.0", "::", "") as the host name.
std::string reachable(const std::string& host, int port) {
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
  return (wildcard ? host_name() : host) + ":" + std::to_string(port);
}

}  // namespace

store::Candidate candidate_of(const DaemonConfig& c, int http_port, int agents_port) {
  store::Candidate me;
  me.id = new_token().substr(0, 16);
  me.name = c.store.name.empty() ? host_name() : c.store.name;
  me.http_address = !c.store.advertise.empty() ? c.store.advertise
                                               : "http://" + reachable(c.listen_host, http_port);
  if (!c.store.agents_advertise.empty()) {
    me.agents_address = c.store.agents_advertise;
  } else if (!c.agents.listen.empty()) {
    me.agents_address =
        reachable(c.agents.listen.substr(0, c.agents.listen.rfind(':')), agents_port);
  }
  return me;
}

}  // namespace berth::server
