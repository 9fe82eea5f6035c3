// bench sched: the scheduling benchmark of issue 3, run locally against an in-process core
// (no server), printing one JSON object on one line. See src/benchsched/sched_bench.h.
#include "benchsched/sched_bench.h"
#include "cli/commands.h"

namespace berth::cli {
namespace {

Status run_bench_sched(Context& ctx, const benchsched::SchedBenchOptions& options) {
  BERTH_ASSIGN_OR_RETURN(nlohmann::json result, benchsched::run_sched_bench(options));
  ctx.out() << result.dump() << "\n";
  return Status::Ok();
}

}  // namespace

void add_bench_commands(CLI::App& app, Context& ctx) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks run on this machine, without a server");
  bench->require_subcommand(1);
  auto& options = ctx.make<benchsched::SchedBenchOptions>();
  CLI::App* sched = bench->add_subcommand(
      "sched",
      "time the core's scheduler on a synthetic centre (single thread); prints one JSON object");
  sched->add_option("--nodes", options.nodes, "nodes in the synthetic centre")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  sched->add_option("--gpus-per-node", options.gpus_per_node, "GPUs on each node")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sched
      ->add_option("--jobs", options.jobs,
                   "jobs submitted in the burst, and kept pending in the steady phase")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  sched->add_option("--seed", options.seed, "seed of the synthetic centre and job stream")
      ->capture_default_str();
  on_run(sched, ctx, [&ctx, &options] { return run_bench_sched(ctx, options); });
}

}  // namespace berth::cli
