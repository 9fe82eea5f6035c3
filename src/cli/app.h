// The `berth` command-line client: entry point and the seams it uses to touch the world.
//
// run_cli(argc, argv, io) is what src/bin/berth.cc calls. Everything the commands do outside the
// process (read files, the environment, stdin, the clock, the server, a stopped berthd's
// database) goes through CliIo, so tests run whole commands against a fake Api and string
// streams, and the CLI library links neither the server nor the store.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/config.h"
#include "common/status.h"
#include "core/reconcile.h"

namespace berth::cli {

struct CliIo {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  GetEnvFn getenv;
  // The whole environment, for `berth submit --export=ALL` (Slurm's default); empty when unset.
  std::function<std::map<std::string, std::string>()> environment;
  ReadFileFn read_file;
  // The whole of stdin, or nullopt when stdin is a terminal (nothing was piped in).
  std::function<std::optional<std::string>()> read_stdin;
  std::function<std::string()> cwd;  // absolute
  std::function<int64_t()> now_ms;   // wall clock, for "running for" columns only
  // A monotonic clock, for how long a request has looked for the leading berthd
  // (cli/failover.h); unset, only the waits slept are counted.
  std::function<int64_t()> steady_ms;
  // A fresh random key that makes one submit idempotent (sent as Idempotency-Key); none when unset.
  std::function<std::string()> new_request_key;
  // Waits before a retry; a retry does not wait when unset.
  std::function<void(int64_t ms)> sleep_ms;
  // Opens the API at one server URL with a token (may be empty); commands use a FailoverApi
  // over one of these per server listed.
  std::function<Result<std::unique_ptr<Api>>(const std::string& server, const std::string& token)>
      connect;
  // Reconciles the database of a state directory without a server (`reconcile --state-dir`):
  // berth's main sets it to the store's ReconcileStateDir. Unset, the command is refused.
  std::function<Result<core::ReconcileReport>(const std::string& state_dir,
                                              const core::ReconcileOptions&)>
      reconcile_state_dir;
};

// The real process: std::cout/cerr, getenv, the file system, the system clock, HttpApi
// (reconcile_state_dir is left for main to set).
CliIo process_io();

// Runs one command line. `args` excludes the program name. Returns the exit status: 0 on
// success, 1 on a usage or server error (after printing "berth: error: ..." to err), or
// CLI11's own code for errors it detects while parsing.
int run_cli(const std::vector<std::string>& args, const CliIo& io);

// main()'s entry point: runs argv[1..] with `io` (normally process_io()).
int run_cli(int argc, char** argv, const CliIo& io);

}  // namespace berth::cli
