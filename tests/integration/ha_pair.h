// Two berthds on one PostgreSQL with the agents of two nodes, each agent given both berthds
// (docs/high-availability.md): what the high-availability tests (ha_test.cc) and the takeover
// benchmark (bench/takeover_bench.cc) run on. Real processes throughout.
#pragma once

#include <memory>
#include <string>

#include "common/pg_server.h"
#include "integration/agent_cluster.h"

namespace berth::testing {

class HaPair {
 public:
  // `dir` holds the berthds' state directories, logs and the agents'; `url` is the database.
  HaPair(std::string dir, std::string url, double lease_s)
      : dir_(std::move(dir)), url_(std::move(url)), lease_s_(lease_s) {
    for (int i = 0; i < 2; ++i) {
      agent_ports_[i] = free_port();
      const std::string config = dir_ + "/ctl" + std::to_string(i) + ".toml";
      std::ofstream(config) << config_of(i);
      ctl[i] = std::make_unique<Berthd>(dir_ + "/ctl" + std::to_string(i), config);
      ctl[i]->may_stand_by();
    }
  }
  ~HaPair() {
    agents.clear();
    for (auto& c : ctl) {
      const std::string state = c->state_dir();
      c.reset();
      kill_jobs_of_run(state);
    }
  }

  // GET /readyz: {status, body}.
  static std::pair<int, json> ready(const Berthd& b) { return b.api("GET", "/readyz", "", ""); }
  static bool leads(const Berthd& b) { return ready(b).first == 200; }
  // `b` stands by, naming `leader` as the one that leads.
  static bool stands_by_for(const Berthd& b, const std::string& leader) {
    auto [status, body] = ready(b);
    return status == 503 && body["leader"].value("name", "") == leader &&
           body["this"].value("role", "") == "standby";
  }
  // The index of the berthd that leads now, -1 when neither does.
  int leader() const { return leads(*ctl[0]) ? 0 : leads(*ctl[1]) ? 1 : -1; }
  std::string log(int i) const { return read_file(dir_ + "/ctl" + std::to_string(i) + ".log"); }
  int agent_port(int i) const { return agent_ports_[i]; }

  // ctl0 leads, ctl1 stands by for it with the shared admin token (copied, as an operator
  // does), and project pa of org a has 5000 in its wallet. An empty string when all is well,
  // otherwise what went wrong.
  std::string start() {
    ctl[0]->start();
    if (!eventually([&] { return leads(*ctl[0]); })) return "ctl0 does not lead: " + log(0);
    ctl[1]->start();
    if (!eventually([&] { return stands_by_for(*ctl[1], "ctl0"); }))
      return "ctl1 does not stand by: " + ready(*ctl[1]).second.dump() + log(1);
    fs::copy_file(ctl[0]->state_dir() + "/admin.token", ctl[1]->state_dir() + "/admin.token",
                  fs::copy_options::overwrite_existing);
    for (const auto& [path, body] :
         {std::pair<const char*, const char*>{"/v1/orgs", R"({"name":"a","kind":"university"})"},
          {"/v1/projects", R"({"name":"pa","org":"a"})"},
          {"/v1/projects/pa/topups", R"({"amount":"5000"})"}}) {
      auto [status, reply] = ctl[0]->api("POST", path, body);
      if (status / 100 != 2) return std::string(path) + ": " + reply.dump();
    }
    return "";
  }

  // Starts n1 and n2's agents, each given both berthds; an empty string once `leader` hears
  // both, otherwise what went wrong.
  std::string start_agents(const Berthd& leader) {
    for (const char* node : {"n1", "n2"}) {
      auto& a = agents[node];
      a = std::make_unique<AgentProcess>(node, "127.0.0.1:" + std::to_string(agent_ports_[0]),
                                         dir_ + "/agent-" + node);
      a->start({"--server", "127.0.0.1:" + std::to_string(agent_ports_[1])});
    }
    for (const char* node : {"n1", "n2"})
      if (!eventually([&] { return heard(leader, node); }))
        return std::string("the agent of ") + node + " was not heard: " + agents[node]->log();
    return "";
  }
  static bool heard(const Berthd& b, const std::string& node) {
    for (const json& n : b.api("GET", "/v1/nodes").second.value("nodes", json::array()))
      if (n.value("name", "") == node)
        return n.value("agent_version", "") != "" && n.value("state", "") == "up";
    return false;
  }
  // How many times `node`'s agent registered with berthd `i` (its log says so each time).
  size_t registrations(const std::string& node, int i) const {
    const std::string log = agents.at(node)->log();
    const std::string line =
        "registered node " + node + " with berthd at 127.0.0.1:" + std::to_string(agent_ports_[i]);
    size_t n = 0;
    for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++n;
    return n;
  }

  std::unique_ptr<Berthd> ctl[2];
  std::map<std::string, std::unique_ptr<AgentProcess>> agents;

 private:
  std::string config_of(int i) const {
    return "[store]\nurl = \"" + url_ + "\"\nname = \"ctl" + std::to_string(i) +
           "\"\nlease_s = " + std::to_string(lease_s_) +
           "\n"
           "[agents]\ntls = \"none\"\nlisten = \"127.0.0.1:" +
           std::to_string(agent_ports_[i]) +
           "\"\nnode_timeout_s = 30\nheartbeat_s = 0.5\n"
           "[executor]\ngrace_s = 2\n"
           "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"30.0000\"\n"
           "[[nodes]]\nname = \"n1\"\ngpu_model = \"H100\"\ngpus = 8\ncpus = 16\nmemory_mb = "
           "65536\n"
           "[[nodes]]\nname = \"n2\"\ngpu_model = \"H100\"\ngpus = 8\ncpus = 16\nmemory_mb = "
           "65536\n"
           "[[partitions]]\nname = \"gpu\"\nmax_time = \"1-00:00:00\"\ndefault_time = "
           "\"1:00:00\"\ndefault = true\n";
  }

  std::string dir_, url_;
  double lease_s_;
  int agent_ports_[2] = {0, 0};
};

}  // namespace berth::testing
