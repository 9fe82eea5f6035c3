// berth-agent: the daemon on every GPU node. A thin main over the agent library
// (src/agent/README.md): it reads its configuration, then registers with berthd and keeps its
// node heard until SIGINT or SIGTERM.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <thread>

#include "agent/agent_config.h"
#include "agent/job_runner.h"
#include "agent/idle_exit.h"
#include "agent/link.h"
#include "agent/step_server.h"
#include "agent/state_lock.h"
#include "agent/watchdog.h"
#include "common/spawn.h"
#include "executor/cgroup_leftovers.h"
#include "executor/local_executor.h"
#include "common/signals.h"

namespace {

// The cgroups of earlier agents of this node (killed, they left them behind, with whatever
// escaped the process groups the runner killed): emptied and removed.
void empty_old_cgroups(const std::string& node, const std::string& own_base) {
  auto own = berth::executor::detect_cgroups(own_base);
  if (!own.ok()) return;
  const std::string parent = std::filesystem::path((*own)->base_dir()).parent_path().string();
  const std::string program = berth::this_program();
  const auto an_agent_runs = [&program](int pid) {
    std::error_code ec;
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec) == program;
  };
  for (const std::string& name :
       berth::executor::find_leftover_agent_bases(parent, node, ::getpid(), an_agent_runs)) {
    auto old =
        berth::executor::detect_cgroups(std::filesystem::path(own_base).parent_path() / name);
    if (!old.ok()) continue;
    const int emptied = berth::executor::empty_cgroups(**old);
    spdlog::info("emptied {} cgroup(s) of an earlier agent ({})", emptied, name);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berth-agent: runs berth's jobs on this node for berthd"};
  std::string config_path, node, address, domain, gpu_model, state_dir, ca_file, cert_file,
      key_file;
  std::vector<std::string> servers;
  int gpus = -1, cpus = -1;
  int64_t memory_mb = -1;
  app.add_option("-c,--config", config_path, "TOML configuration file");
  app.add_option("--node", node, "this node's name in berthd's configuration");
  app.add_option("--server", servers, "berthd's agent address, host:port (repeat for several)");
  app.add_option("--address", address, "where other nodes reach this one (MASTER_ADDR)");
  app.add_option("--domain", domain, "this node's rack or NVLink domain");
  app.add_option("--gpus", gpus, "how many GPUs this node has (without NVML)");
  app.add_option("--gpu-model", gpu_model, "their model (without NVML)");
  app.add_option("--cpus", cpus, "CPUs to offer (default: this machine's)");
  app.add_option("--memory-mb", memory_mb, "memory to offer in MiB (default: this machine's)");
  app.add_option("--state-dir", state_dir, "where the agent keeps its book of launches");
  app.add_option("--ca", ca_file, "the CA's certificate (PEM) that signed berthd's");
  app.add_option("--cert", cert_file, "this node's certificate (PEM; berth admin node-cert)");
  app.add_option("--key", key_file, "this node's private key (PEM)");
  std::vector<uint64_t> watchdog_of;
  app.add_option("--watchdog", watchdog_of,
                 "(started by the agent) be the watchdog of the agent PID START_TICKS")
      ->expected(2);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l berth-agent: %v", spdlog::pattern_time_type::utc);
  if (!watchdog_of.empty() && state_dir.empty()) {
    spdlog::error("--watchdog needs --state-dir");
    return 2;
  }
  if (!watchdog_of.empty())
    return berth::agent::run_watchdog(
        state_dir, {static_cast<int>(watchdog_of[0]), static_cast<uint64_t>(watchdog_of[1])});

  auto config = config_path.empty()
                    ? berth::Result<berth::agent::AgentConfig>(berth::agent::AgentConfig{})
                    : berth::agent::load_agent_config(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  if (!node.empty()) config->node = node;
  if (!servers.empty()) config->servers = servers;
  if (!address.empty()) config->address = address;
  if (!domain.empty()) config->domain = domain;
  if (gpus >= 0) config->gpus = gpus;
  if (!gpu_model.empty()) config->gpu_model = gpu_model;
  if (cpus >= 0) config->cpus = cpus;
  if (memory_mb >= 0) config->memory_mb = memory_mb;
  if (!state_dir.empty()) config->state_dir = state_dir;
  if (!ca_file.empty()) config->ca_file = ca_file;
  if (!cert_file.empty()) config->cert_file = cert_file;
  if (!key_file.empty()) config->key_file = key_file;
  if (const berth::Status st = berth::agent::validate(*config); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }

  if (const berth::Status st = berth::agent::lock_state_dir(config->state_dir); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }

  auto credentials = berth::agent::channel_credentials(*config);
  if (!credentials.ok()) {
    spdlog::error("{}", credentials.status().message());
    return 2;
  }

  const sigset_t signals = berth::block_stop_signals();

  // The runner sends through the link, which is made after it: until then, and between
  // streams, what it sends is dropped and its ends are resent after the next registration.
  std::atomic<berth::agent::Link*> link_for_runner{nullptr};
  // Each job in its own cgroup when the agent is root (src/executor/cgroup.h), under a folder
  // of this agent's own, so that several agents can share a machine (the tests').
  const std::string cgroup_base = berth::executor::agent_cgroup_base(config->node, ::getpid());
  berth::agent::NodeFacts facts = berth::agent::discover_node(*config);
  if (auto cgroups = berth::executor::detect_cgroups(cgroup_base); cgroups.ok()) {
    facts.isolation = (*cgroups)->kind();
  } else {
    facts.isolation = "none (" + cgroups.status().message() + ")";
    spdlog::warn("jobs run without cgroups: {}", cgroups.status().message());
  }
  berth::RealClock clock;
  auto runner = berth::agent::JobRunner::Open(
      config->state_dir, clock,
      [&cgroup_base](berth::executor::ExitCallback on_exit) {
        auto cgroups = berth::executor::detect_cgroups(cgroup_base);
        return std::make_unique<berth::executor::LocalExecutor>(
            std::move(on_exit), cgroups.ok() ? std::move(*cgroups) : nullptr);
      },
      [&link_for_runner](const berth::agent::v1::FromAgent& m) {
        if (berth::agent::Link* l = link_for_runner.load()) l->send(m);
      });
  if (!runner.ok()) {
    spdlog::error("{}", runner.status().message());
    return 1;
  }
  empty_old_cgroups(config->node, cgroup_base);
  // The watchdog fences this agent's launches if it is stopped or killed (watchdog.h).
  berth::agent::clear_fence_marks(config->state_dir);
  const berth::agent::ProcessId self = berth::agent::this_process();
  berth::agent::FenceRecorder fence_file(config->state_dir, self,
                                         facts.isolation.rfind("none", 0) == 0 ? "" : cgroup_base);
  if (const berth::Status st = fence_file.start(); !st.ok()) return 1;
  if (const berth::Status st =
          berth::agent::start_watchdog(berth::this_program(), config->state_dir, self);
      !st.ok())
    spdlog::error("no watchdog: {}", st.message());
  (*runner)->on_fenceable_change(
      [&fence_file](const std::vector<berth::agent::FenceRecorder::Running>& running) {
        fence_file.launches_changed(running);
      });
  berth::agent::Link link(*config, facts, runner->get(), *credentials);
  link_for_runner.store(&link);
  link.on_lease_renewed([&fence_file](int64_t until_ms) { fence_file.lease_renewed(until_ms); });
  // Where `berth run` within a job asks for a step (src/agent/step_server.h): one address per
  // agent process, given to every launch.
  auto steps = berth::agent::StepServer::Open(
      "@berth-agent-" + config->node + "-" + std::to_string(::getpid()), **runner,
      [&link](const berth::agent::v1::FromAgent& m) { return link.send(m); });
  if (!steps.ok()) {
    spdlog::error("{}", steps.status().message());
    return 1;
  }
  (*runner)->set_step_socket((*steps)->address());
  link.set_steps(steps->get());
  std::thread([&link, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("stopping on signal {}", sig);
    link.stop();
  }).detach();
  // berthd's ExitWhenIdle (a local agent, berthd stopping): exit once no job runs here; the
  // ends are in agent.db, sent when the next berthd starts this agent again.
  berth::agent::IdleExit idle_exit;
  link.on_exit_when_idle([&idle_exit] { idle_exit.ask(); });
  std::thread idle_thread([&] {
    if (idle_exit.wait_until_idle([&] { return (*runner)->running() == 0; })) {
      spdlog::info("no job runs here: exiting, as berthd asked");
      link.stop();
    }
  });
  spdlog::info("node {}: berthd at {}", config->node, config->servers.front());
  link.run();
  idle_exit.cancel();
  idle_thread.join();
  link_for_runner.store(nullptr);
  (*runner)->on_fenceable_change(nullptr);  // the runner's threads outlive fence_file
  return 0;
}
