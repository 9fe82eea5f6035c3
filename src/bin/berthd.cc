// berthd: the berth daemon. A thin main over the server library.

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "common/signals.h"
#include "config/config.h"
#include "server/candidacy.h"
#include "server/daemon.h"
#include "server/log.h"

namespace {

// Runs `server` (a Daemon or a Candidacy) until it ends, stopping it on the first of `signals`:
// berthd's exit code.
template <typename Server>
int serve_until_signal(Server& server, sigset_t signals) {
  std::thread([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    berth::server::log_info("stopping on signal " + std::to_string(sig));
    server.stop();
  }).detach();
  const berth::Status st = server.run();
  if (!st.ok()) {
    berth::server::log_error(st.message());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berthd: the berth daemon (GPU scheduler and subsidy ledger)"};
  std::string config_path, listen, state_dir, log_format;
  bool print_default = false;
  app.add_option("-c,--config", config_path, "TOML configuration file (default: the embedded one)");
  app.add_option("--listen", listen,
                 "override the listen address, host:port (port 0: any free port)");
  app.add_option("--state-dir", state_dir, "override the state directory");
  app.add_option("--log-format", log_format, "text or json (JSON lines); overrides [log] format")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--print-default-config", print_default,
               "print the embedded default configuration and exit");
  CLI11_PARSE(app, argc, argv);
  if (print_default) {
    std::cout << berth::default_config_toml();
    return 0;
  }
  auto config = config_path.empty()
                    ? berth::parse_config(berth::default_config_toml(), "(embedded default)")
                    : berth::load_config_file(config_path);
  if (!config.ok()) {
    berth::server::log_error(config.status().message());
    return 2;
  }
  if (!log_format.empty()) berth::parse_log_format(log_format, &config->log_format);
  berth::server::configure_log(config->log_format);
  if (!listen.empty()) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      berth::server::log_error("--listen must be host:port");
      return 2;
    }
    config->listen_host = listen.substr(0, colon);
    try {
      config->listen_port = std::stoi(listen.substr(colon + 1));
    } catch (...) {
      berth::server::log_error("--listen port is not a number");
      return 2;
    }
  }
  if (!state_dir.empty()) config->state_dir = state_dir;

  const sigset_t signals = berth::block_stop_signals();
  if (config->store.shared()) {
    // On PostgreSQL every berthd is a candidate: it stands by until it holds the lease, and
    // stands by again when it loses it (docs/high-availability.md).
    auto candidacy = berth::server::Candidacy::OnPostgres(std::move(*config));
    return serve_until_signal(*candidacy, signals);
  }
  auto daemon = berth::server::Daemon::Open(std::move(*config));
  if (!daemon.ok()) {
    berth::server::log_error(daemon.status().message());
    return 1;
  }
  return serve_until_signal(**daemon, signals);
}
