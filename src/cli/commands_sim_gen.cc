// berth sim gen: a seeded synthetic trace as berth CSV (src/sim/gen.h), for `berth sim` to replay.
#include "cli/client.h"
#include "cli/commands.h"
#include "sim/gen.h"
#include "sim/text.h"

namespace berth::cli {
namespace {

struct GenFlags {
  std::string cls;
  sim::GenOptions options;
  std::string out;
};

// berth sim gen: a synthetic trace as berth CSV, on stdout or into --out.
Status run_gen(Context& ctx, GenFlags& g) {
  if (!sim::kGenClassNames.parse_into(g.cls, &g.options.cls))
    return Status::Invalid("--class must be " + sim::kGenClassNames.choices() + ", got '" + g.cls +
                           "'");
  auto trace = sim::generate_trace(g.options);
  if (!trace.ok()) return Status::Invalid("sim gen: " + trace.status().message());
  BERTH_ASSIGN_OR_RETURN(const std::string csv, sim::write_trace_csv(*trace));
  if (g.out.empty()) {
    ctx.out() << csv;
    return Status::Ok();
  }
  BERTH_RETURN_IF_ERROR(write_file_atomically(g.out, csv));
  ctx.err() << "berth: " << sim::with_commas(static_cast<int64_t>(trace->jobs.size()))
            << " jobs written to " << g.out << "\n";
  return Status::Ok();
}

}  // namespace

CLI::App* add_sim_gen_command(CLI::App* sim, Context& ctx, std::function<Status()>* run) {
  auto& g = ctx.make<GenFlags>();
  CLI::App* gen = sim->add_subcommand(
      "gen", "write a synthetic trace (berth CSV) from a seed; see docs/sim.md for the classes");
  gen->add_option("--class", g.cls, sim::kGenClassNames.list())->required();
  gen->add_option("--jobs", g.options.jobs, "how many jobs")->capture_default_str();
  gen->add_option("--seed", g.options.seed, "the same seed gives the same trace everywhere")
      ->capture_default_str();
  gen->add_option("--nodes", g.options.nodes, "the cluster the load is computed for: its nodes")
      ->capture_default_str();
  gen->add_option("--gpus-per-node", g.options.gpus_per_node, "... and GPUs per node")
      ->capture_default_str();
  gen->add_option("--load", g.options.load,
                  "offered load: GPU-time asked / (cluster GPUs x span of arrivals)")
      ->capture_default_str();
  gen->add_option("--tenants", g.options.tenants, "tenants t1..tN")->capture_default_str();
  gen->add_option("--out", g.out, "write here (default: standard output)");
  *run = [&ctx, &g] { return run_gen(ctx, g); };
  return gen;
}

}  // namespace berth::cli
