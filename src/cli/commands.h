// Internal to the CLI: the state one command line shares, and the functions that register each
// group of subcommands. A subcommand's callback only records what to run (Context::action);
// run_cli runs it after CLI11 has finished parsing, so parse errors never reach the server.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/client.h"
#include "cli/config.h"
#include "cli/failover.h"
#include "common/status.h"

namespace berth::cli {

class Context {
 public:
  explicit Context(const CliIo& io) : io_(io) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const CliIo& io() const { return io_; }
  std::ostream& out() const { return *io_.out; }
  std::ostream& err() const { return *io_.err; }

  // Global flags, bound by run_cli.
  bool json_output = false;
  ConnectionFlags connection_flags;

  // What the parsed command line asks for; set by a subcommand's callback.
  std::function<Status()> action;
  // The exit status when the action succeeds: 0, or what the command reports on its own
  // (`submit --wait` gives the job's exit code, as sbatch does).
  int exit_status = 0;

  // The API, connected on first use (so that `--help` and local errors need no server).
  Result<Api*> api();

  // GET/POST through api(), adding a hint to 401 replies about where a token may come from.
  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                              const Api::Headers& headers = {});
  // A POST made idempotent with a fresh Idempotency-Key (CliIo::new_request_key) and sent again
  // with the same key, after a growing wait, when berthd could not be reached or gave no reply
  // (at most kIdempotentAttempts in all): berthd applies it once whichever attempt reached it.
  // A request for which FailoverApi looked for the leader until it gave up is not sent again:
  // that search was the whole wait.
  static constexpr int kIdempotentAttempts = 4;
  Result<nlohmann::json> post_idempotent(const std::string& path, const nlohmann::json& body);
  // A GET whose reply is text (CSV, HTML), with the same hint.
  Result<std::string> get_text(const std::string& path);
  // A GET whose reply is a file, written to `file` (Api::download), with the same hint.
  Status download(const std::string& path, const std::string& file);

  // What tables print before an amount ("HK$"): the server's currency symbol, else its code,
  // from GET /v1/health, asked once. "" with --json (nothing is rendered) and when the server
  // does not say: amounts are then printed without it.
  const std::string& currency();
  // An amount field of a reply as people read it, in currency() (table.h's money_cell).
  std::string money(const nlohmann::json& object, const char* key);
  // The same, unrounded (format_money_exact): for confirming money that moved.
  std::string exact_money(const nlohmann::json& object, const char* key);

  // Prints `reply` as indented JSON when --json was given, otherwise `text`.
  void print(const nlohmann::json& reply, const std::string& text) const;

  // Storage for a subcommand's flag values, alive as long as the Context.
  template <typename T>
  T& make() {
    auto holder = std::make_unique<Holder<T>>();
    T& value = holder->value;
    owned_.push_back(std::move(holder));
    return value;
  }

 private:
  struct HolderBase {
    virtual ~HolderBase() = default;
  };
  template <typename T>
  struct Holder : HolderBase {
    T value{};
  };

  Status with_hint(const Status& status) const;

  const CliIo& io_;
  std::unique_ptr<FailoverApi> api_;
  std::string token_source_;
  std::optional<std::string> currency_;
  std::vector<std::unique_ptr<HolderBase>> owned_;
};

// The whole of a text file the user names (a justification, a report), or Invalid.
Result<std::string> read_text_file(const std::string& path);

// report submit|accept|return|list, beside report scheme (under the `report` command given).
void add_progress_report_commands(CLI::App& report, Context& ctx);

// submit, quote, queue, show, cancel, hold, release
void add_job_commands(CLI::App& app, Context& ctx);
// history (sacct), partitions (sinfo)
void add_history_commands(CLI::App& app, Context& ctx);

// A job id as the user typed it: digits, or ARRAYID_INDEX ("12_3") for a task of a job array
// (the server resolves it). Anything else is Invalid, before any request.
Status check_job_id(const std::string& id);

// --state's comma-separated codes or names ("PD,r,completed") as the API's state names.
std::string state_names(const std::string& codes);
// balance, transfers, topup, reconcile, scheme ..., award ...
void add_money_commands(CLI::App& app, Context& ctx);
// apply ..., review ... (funding applications)
void add_funding_commands(CLI::App& app, Context& ctx);
// org ..., project ..., token create|list|revoke, admin rotate-token, whoami, nodes
void add_admin_commands(CLI::App& app, Context& ctx);
// statement, report scheme
void add_report_commands(CLI::App& app, Context& ctx);
// bench sched (runs locally, no server)
void add_bench_commands(CLI::App& app, Context& ctx);
// sim (replays a trace locally, no server)
void add_sim_commands(CLI::App& app, Context& ctx);
// `berth sim gen` under `sim`; *run is set to its action, for sim's own action to call when
// gen was given (sim takes a positional, so gen cannot have an action of its own beside it).
CLI::App* add_sim_gen_command(CLI::App* sim, Context& ctx, std::function<Status()>* run);

// Sets ctx.action when `sub` is chosen.
void on_run(CLI::App* sub, Context& ctx, std::function<Status()> action);

// GETs every page of a listing: follows the reply's `next` cursor (as `after`) until it is null
// or absent, and returns {key: every item}.
Result<nlohmann::json> get_every_page(Context& ctx, const std::string& path, const char* key);

// GETs every page of `path` and prints the array under `key` with `render`, or the whole
// reply with --json.
Status run_listing(Context& ctx, const std::string& path, const char* key,
                   const std::function<std::string(const nlohmann::json&)>& render);
// A listing's renderer given the server's currency, for run_listing.
std::function<std::string(const nlohmann::json&)> in_currency(
    Context& ctx, std::string (*render)(const nlohmann::json&, const std::string&));

}  // namespace berth::cli
