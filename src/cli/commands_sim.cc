// berth sim: replays a real workload trace through the core on a virtual clock (no server) and
// reports waits, utilisation, fairness and, with --economics, how each tenant's subsidy is
// spent. See src/sim/replay.h for what each policy and estimate means.
#include <unistd.h>

#include <algorithm>
#include <set>

#include <toml.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "common/civil.h"
#include "common/money.h"
#include "common/strings.h"
#include "config/config.h"
#include "sim/policy_table.h"
#include "sim/progress.h"
#include "sim/replay.h"
#include "sim/text.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct SimFlags {
  std::string trace;
  std::string format;
  std::string from, to;
  bool skip_bad = false;
  std::string cluster;
  int nodes = 0;
  int gpus_per_node = 8;
  std::string gpu_model = "GPU";
  std::string tenant_pools;
  std::string policy = "default";
  std::string estimates = "predict";
  std::string demote_after = "auto";  // GPU-hours, or learned from the jobs that finished
  double starve_after_hours = sim::kDefaultStarveAfterHours;
  int64_t restart_overhead_s = 30;
  int64_t preempt_exempt_s = 900;
  std::string economics;
  std::string report;
  double max_skipped_percent = 5;
  bool no_progress = false;
};

Result<int64_t> parse_day_or_time_s(const std::string& flag, const std::string& text) {
  std::string t = text;
  if (t.size() == 10) t += " 00:00:00";  // a date: its midnight, UTC
  auto s = sim::parse_utc_timestamp_s(t);
  if (!s)
    return Status::Invalid(flag + ": '" + text +
                           "' is not a date (YYYY-MM-DD) or time (YYYY-MM-DD HH:MM:SS)");
  return *s;
}

// --demote-after: GPU-hours from 0 (never) up, or "auto".
Result<int64_t> demote_after_gpu_s(const std::string& text) {
  char* end = nullptr;
  const double hours = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(hours >= 0 && hours <= 1e6))
    return Status::Invalid("--demote-after: '" + text +
                           "' is not \"auto\" or a number of GPU-hours from 0 to 1000000");
  return static_cast<int64_t>(std::llround(hours * kSecondsPerHour));
}

Result<Minor> amount_field(const toml::value& v, const char* key, const std::string& where) {
  if (!v.contains(key)) return Minor{0};
  const toml::value& f = v.at(key);
  std::string text;
  if (f.is_string())
    text = f.as_string();
  else if (f.is_integer())
    text = std::to_string(f.as_integer());
  else
    return Status::Invalid(where + "." + key + " must be an amount such as \"1000.50\"");
  auto amount = parse_amount(text);
  if (!amount.ok()) return Status::Invalid(where + "." + key + ": " + amount.status().message());
  return *amount;
}

Result<sim::TenantMoney> tenant_money(const toml::value& v, const std::string& where) {
  sim::TenantMoney m;
  BERTH_ASSIGN_OR_RETURN(auto award, amount_field(v, "award", where));
  m.award_minor = award;
  BERTH_ASSIGN_OR_RETURN(auto wallet, amount_field(v, "wallet", where));
  m.wallet_minor = wallet;
  m.gpu_level = static_cast<int>(toml::find_or<int64_t>(v, "gpu_level", m.gpu_level));
  m.award_days = toml::find_or<int64_t>(v, "days", m.award_days);
  if (m.gpu_level < 1 || m.award_days < 1)
    return Status::Invalid(where + ": gpu_level and days must be at least 1");
  return m;
}

// The economics file: prices ([[gpu_models]] as in berthd's configuration), [scheme] and the
// tenants' awards and wallets ([[tenants]], [others] for the rest).
Result<sim::Economics> load_economics(const std::string& path, const core::ClusterConfig& cluster) {
  sim::Economics e;
  try {
    const toml::value root = toml::parse(path);
    for (const auto& m : toml::find_or<std::vector<toml::value>>(root, "gpu_models", {})) {
      BERTH_ASSIGN_OR_RETURN(auto price,
                             amount_field(m, "price_per_gpu_hour", path + ": gpu_models"));
      e.prices.push_back({toml::find<std::string>(m, "name"), price});
    }
    if (e.prices.empty()) e.prices = cluster.prices;
    if (e.prices.empty())
      return Status::Invalid(path + ": no prices: give [[gpu_models]] with price_per_gpu_hour");
    if (!root.contains("scheme"))
      return Status::Invalid(path + ": no [scheme] (rate, fund, shortfall)");
    const toml::value& s = toml::find(root, "scheme");
    const std::string rate = toml::find_or<std::string>(s, "rate", "70%");
    if (rate.empty() || rate.back() != '%')
      return Status::Invalid(path + ": scheme.rate must look like \"70%\"");
    auto bps = parse_amount(rate.substr(0, rate.size() - 1));
    if (!bps.ok() || *bps > 100 * 10'000 || *bps % 100 != 0)
      return Status::Invalid(
          path + ": scheme.rate must be 0% to 100% with at most two decimals, got '" + rate + "'");
    e.rate_bps = *bps / 100;
    BERTH_ASSIGN_OR_RETURN(auto fund, amount_field(s, "fund", path + ": scheme"));
    e.fund_minor = fund;
    e.hold_hours = toml::find_or<int64_t>(s, "hold_hours", e.hold_hours);
    if (e.hold_hours < 1 || e.hold_hours > 366 * 24)
      return Status::Invalid(path + ": scheme.hold_hours must be 1 to 8784 (a leap year), got " +
                             std::to_string(e.hold_hours));
    const std::string shortfall = toml::find_or<std::string>(s, "shortfall", "wallet");
    if (!core::parse_shortfall(shortfall, &e.shortfall))
      return Status::Invalid(path + ": scheme.shortfall must be " +
                             core::kShortfallNames.choices() + ", got '" + shortfall + "'");
    for (const auto& t : toml::find_or<std::vector<toml::value>>(root, "tenants", {})) {
      const std::string name = toml::find<std::string>(t, "name");
      BERTH_ASSIGN_OR_RETURN(auto m, tenant_money(t, path + ": tenant " + name));
      if (!e.tenants.emplace(name, m).second)
        return Status::Invalid(path + ": tenant " + name + " is listed twice");
    }
    if (root.contains("others")) {
      BERTH_ASSIGN_OR_RETURN(auto m, tenant_money(toml::find(root, "others"), path + ": others"));
      e.others = m;
    }
  } catch (const std::exception& ex) {
    return Status::Invalid(std::string("economics: ") + ex.what());
  }
  return e;
}

Result<core::ClusterConfig> cluster_from(const SimFlags& f) {
  if (!f.cluster.empty()) {
    if (f.nodes > 0) return Status::Invalid("give --cluster or --nodes, not both");
    BERTH_ASSIGN_OR_RETURN(auto config, load_config_file(f.cluster));
    return config.cluster;
  }
  if (f.nodes < 1 && f.tenant_pools.empty())
    return Status::Invalid(
        "no cluster: give --cluster FILE (berthd's format), --nodes N --gpus-per-node G, or "
        "--tenant-pools FILE");
  core::ClusterConfig c;
  for (int i = 0; i < std::max(1, f.nodes); ++i) {
    core::Node n;
    n.name = "n" + std::to_string(i + 1);
    n.gpu_model = f.gpu_model;
    n.gpus = f.gpus_per_node;
    c.nodes.push_back(n);
  }
  return c;
}

json result_json(const sim::ReplayResult& r, const sim::Trace& trace, sim::Policy policy,
                 sim::Estimates estimates) {
  json m = sim::compute_metrics(r.jobs, r.total_gpus);
  m["policy"] = sim::policy_name(policy);
  m["estimates"] = estimates_name(estimates);
  m["gpus"] = r.total_gpus;
  m["jobs_skipped"] = trace.skipped_bad + trace.skipped_unusable + r.skipped_no_pool +
                      r.skipped_too_large + r.skipped_refused;
  m["skipped"] = {{"bad_rows", trace.skipped_bad},
                  {"unusable_rows", trace.skipped_unusable},
                  {"tenant_without_pool", r.skipped_no_pool},
                  {"too_large", r.skipped_too_large},
                  {"refused", r.skipped_refused}};
  m["gpus_rounded_up"] = r.gpus_rounded_up;
  m["never_started"] = r.never_started;
  m["preemptions"] = r.preemptions;
  // Apart from jobs_skipped: the user chose the window (see report_skipped).
  m["skipped"]["outside_window"] = trace.skipped_window;
  if (!r.money.empty()) {
    json money = json::object();
    for (const auto& [tenant, t] : r.money.items()) {
      json out = {{"cost", format_amount(t["cost_minor"].get<int64_t>())},
                  {"subsidy", format_amount(t["subsidy_minor"].get<int64_t>())},
                  {"copay", format_amount(t["copay_minor"].get<int64_t>())}};
      const json& ran_out = t["award_ran_out_s"];
      out["award_ran_out_day"] =
          ran_out.is_null() ? json(nullptr) : json(ran_out.get<int64_t>() / kSecondsPerDay);
      out["award_ran_out_s"] = ran_out;
      money[tenant] = out;
    }
    m["money"] = money;
    m["jobs_delayed_by_funds"] = r.jobs_delayed_by_funds;
    m["delayed_by"] = r.delayed_by;
  }
  return m;
}

std::string seconds_cell(const json& m, const char* key) {
  return m.contains(key) ? format_human_duration(m[key]) : "-";
}

std::string fixed_cell(const char* format, double v) {
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// A row per policy: its headline figures.
std::string policy_table(const json& all) {
  Table table({"POLICY", "JOBS", "AVG_JCT", "P50_JCT", "P99_JCT", "AVG_WAIT", "P99_WAIT",
               "SLOWDOWN", "AVG_DELAY", "P99_DELAY", "MAX_DELAY", "UTIL", "JAIN", "PREEMPTED"});
  for (const json& m : all)
    table.add_row(
        {m["policy"].get<std::string>(), std::to_string(m.value("jobs", int64_t{0})),
         seconds_cell(m, "avg_jct_s"), seconds_cell(m, "p50_jct_s"), seconds_cell(m, "p99_jct_s"),
         seconds_cell(m, "avg_wait_s"), seconds_cell(m, "p99_wait_s"),
         fixed_cell("%.2f", m.value("avg_bounded_slowdown", 0.0)), seconds_cell(m, "avg_delay_s"),
         seconds_cell(m, "p99_delay_s"), seconds_cell(m, "max_delay_s"),
         fixed_cell("%.1f%%", 100 * m.value("utilization", 0.0)),
         fixed_cell("%.3f", m.value("jain_fairness", 0.0)),
         std::to_string(m.value("preemptions", int64_t{0}))});
  return table.render();
}

// A row per policy and size class: how jobs of each size fared, to see who starves.
std::string size_class_table(const json& all) {
  Table table({"POLICY", "CLASS", "JOBS", "AVG_JCT", "SLOWDOWN", "AVG_DELAY", "P99_DELAY"});
  for (const json& m : all)
    for (const char* label : sim::kSizeClasses) {
      if (!m.contains("size_classes") || !m["size_classes"].contains(label)) continue;
      const json& c = m["size_classes"][label];
      table.add_row({m["policy"].get<std::string>(), label,
                     std::to_string(c.value("jobs", int64_t{0})), seconds_cell(c, "avg_jct_s"),
                     fixed_cell("%.2f", c.value("avg_bounded_slowdown", 0.0)),
                     seconds_cell(c, "avg_delay_s"), seconds_cell(c, "p99_delay_s")});
    }
  return table.render();
}

// The trace's tenants without a pool, as it names them: a few, for a message.
std::string tenants_without_pool(const sim::Trace& trace,
                                 const std::vector<std::pair<std::string, int>>& pools) {
  std::set<std::string> pooled, seen;
  for (const auto& [tenant, nodes] : pools)
    if (nodes > 0) pooled.insert(tenant);
  constexpr size_t kShown = 5;
  std::string out;
  for (const sim::TraceJob& j : trace.jobs)
    if (!pooled.count(j.tenant) && seen.insert(j.tenant).second && seen.size() <= kShown)
      out += (out.empty() ? "" : ", ") + ("'" + terminal_safe(j.tenant) + "'");
  if (seen.size() > kShown) out += " and " + std::to_string(seen.size() - kShown) + " more";
  return out;
}

std::string percent_text(double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g%%", percent);
  return text;
}

// Says on stderr what a replay (its result_json `m`) skipped, by cause as m's "skipped" names
// them; an error when more than --max-skipped percent of the trace's jobs were. Jobs outside
// the window are said apart and do not count: the user chose the window.
Status report_skipped(Context& ctx, const json& m, const sim::Trace& trace,
                      const std::vector<std::pair<std::string, int>>& pools, double max_percent) {
  const int64_t skipped = m.value("jobs_skipped", int64_t{0});
  const int64_t outside_window = trace.skipped_window;
  if (skipped == 0 && outside_window == 0) return Status::Ok();
  std::string causes;  // "bad rows 1, tenant without pool 2 ('b')"
  for (const auto& [cause, jobs] : m["skipped"].items()) {
    if (cause == "outside_window" || jobs.get<int64_t>() == 0) continue;
    std::string words = cause;
    std::replace(words.begin(), words.end(), '_', ' ');
    causes += (causes.empty() ? "" : ", ") + words + " " + sim::with_commas(jobs.get<int64_t>());
    if (cause == "tenant_without_pool") causes += " (" + tenants_without_pool(trace, pools) + ")";
  }
  const int64_t trace_jobs =
      static_cast<int64_t>(trace.jobs.size()) + trace.skipped_bad + trace.skipped_unusable;
  const std::string counts =
      "skipped " + sim::with_commas(skipped) + " of " + sim::with_commas(trace_jobs) + " jobs";
  const double percent =
      trace_jobs > 0 ? 100.0 * static_cast<double>(skipped) / static_cast<double>(trace_jobs) : 0;
  if (percent > max_percent)
    return Status::Invalid(counts + " (" + percent_text(percent) + ", more than --max-skipped " +
                           percent_text(max_percent) + "): " + causes +
                           "; fix the trace or the cluster, or raise --max-skipped");
  const std::string window = outside_window == 0 ? ""
                                                 : "; " + sim::with_commas(outside_window) +
                                                       " outside the window (not counted)";
  ctx.err() << "berth: " << counts << (causes.empty() ? "" : ": " + causes) << window << "\n";
  return Status::Ok();
}

Status run_sim(Context& ctx, const SimFlags& f) {
  if (f.trace.empty())
    return Status::Invalid("berth sim needs a trace file (or: berth sim gen to make one)");
  if (f.format.empty()) return Status::Invalid("--format is required");
  sim::TraceFormat format;
  if (!sim::parse_trace_format(f.format, &format))
    return Status::Invalid("--format must be " + sim::kTraceFormatNames.choices() + ", got '" +
                           f.format + "'");
  sim::TraceOptions options;
  options.skip_bad = f.skip_bad;
  if (!f.from.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto s, parse_day_or_time_s("--from", f.from));
    options.from_epoch_s = s;
  }
  if (!f.to.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto s, parse_day_or_time_s("--to", f.to));
    options.to_epoch_s =
        s + (f.to.size() == 10 ? kSecondsPerDay : 0);  // a date includes its whole day
  }
  auto policies = sim::parse_policies(f.policy);
  if (!policies.ok()) return Status::Invalid("--policy: " + policies.status().message());
  sim::Estimates estimates;
  if (!sim::parse_estimates(f.estimates, &estimates))
    return Status::Invalid("--estimates must be " + sim::kEstimatesNames.choices() + ", got '" +
                           f.estimates + "'");
  BERTH_ASSIGN_OR_RETURN(auto cluster, cluster_from(f));
  std::vector<std::pair<std::string, int>> pools;
  if (!f.tenant_pools.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto p, sim::read_tenant_pools(f.tenant_pools));
    pools = std::move(p);
  }
  std::optional<sim::Economics> economics;
  if (!f.economics.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto e, load_economics(f.economics, cluster));
    economics = std::move(e);
  }
  BERTH_ASSIGN_OR_RETURN(auto trace, sim::read_trace(f.trace, format, options));
  for (const std::string& note : trace.notes) ctx.err() << "berth: note: " << note << "\n";

  std::vector<sim::PolicyRun> runs;
  std::vector<sim::AwardSeries> awards;
  json all = json::array();
  int64_t total_gpus = 0;
  const bool show_progress = !f.no_progress && ctx.io().err == &std::cerr;
  for (sim::Policy policy : *policies) {
    sim::ReplayConfig config;
    config.cluster = cluster;
    config.pools = pools;
    config.policy = policy;
    config.estimates = estimates;
    config.adapt_demotion = f.demote_after == "auto";
    if (!config.adapt_demotion) {
      BERTH_ASSIGN_OR_RETURN(config.demote_after_gpu_s, demote_after_gpu_s(f.demote_after));
    }
    config.starve_after_s = std::llround(f.starve_after_hours * kSecondsPerHour);
    config.restart_overhead_s = f.restart_overhead_s;
    config.preempt_exempt_s = f.preempt_exempt_s;
    config.economics = economics ? &*economics : nullptr;
    sim::Progress bar(stderr, show_progress ? static_cast<int64_t>(trace.jobs.size()) : 0,
                      std::string("sim ") + sim::policy_name(policy));
    config.progress = [&bar](int64_t done, int64_t) { bar.update(done); };
    auto result = sim::replay(trace, config);
    bar.finish();
    if (!result.ok()) return result.status();
    for (const std::string& note : result->notes)
      ctx.err() << "berth: note: " << sim::policy_name(policy) << ": " << note << "\n";
    json m = result_json(*result, trace, policy, estimates);
    total_gpus = result->total_gpus;
    runs.push_back(
        sim::PolicyRun{sim::policy_name(policy), m, result->jobs, sim::policy_description(policy)});
    if (awards.empty()) awards = result->awards;
    all.push_back(m);
    if (all.size() == 1)  // what is skipped does not depend on the policy
      BERTH_RETURN_IF_ERROR(report_skipped(ctx, m, trace, pools, f.max_skipped_percent));
  }
  json out = all[0];
  if (all.size() > 1) out["policies"] = all;
  // What the log itself recorded (SWF has each job's real wait), to set beside the replay.
  std::vector<int64_t> log_waits;
  for (const sim::TraceJob& j : trace.jobs)
    if (j.log_wait_s >= 0) log_waits.push_back(j.log_wait_s);
  std::string log_line;
  if (!log_waits.empty()) {
    double sum = 0;
    for (int64_t w : log_waits) sum += static_cast<double>(w);
    out["log_avg_wait_s"] = sum / static_cast<double>(log_waits.size());
    out["log_p50_wait_s"] = sim::percentile_nearest_rank(&log_waits, 50);
    log_line = "the log's own waits: avg " + format_human_duration(out["log_avg_wait_s"]) +
               ", p50 " + format_human_duration(out["log_p50_wait_s"]) + "\n";
  }
  if (!f.report.empty()) {
    BERTH_RETURN_IF_ERROR(sim::write_report(f.report, out, runs, total_gpus, awards));
    ctx.err() << "berth: report written to " << f.report << "/index.html\n";
  }
  ctx.print(out, policy_table(all) + "\n" + size_class_table(all) + log_line);
  return Status::Ok();
}

// "fifo: ...; easy: ..." for --policy's help, from the policies' own sentences.
std::string policy_help() {
  std::string out = "one of, or several comma-separated, or all:";
  for (const auto& p : sim::kPolicyNames.entries())
    out += std::string("\n  ") + p.name + ": " + sim::policy_description(p.value);
  return out;
}

}  // namespace

void add_sim_commands(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<SimFlags>();
  CLI::App* sim = app.add_subcommand(
      "sim", "replay a workload trace through berth's scheduler and ledger, offline");
  // Not ->required(): `berth sim gen` has neither; run_sim says what is missing.
  sim->add_option("trace", f.trace, "the trace file");
  sim->add_option(
      "--format", f.format,
      "swf, philly, pai or csv (submit_s,runtime_s,gpus[,id,tenant,time_limit_s,gpu_model,nodes])");
  sim->add_option("--from", f.from,
                  "keep jobs submitted from this date (YYYY-MM-DD, UTC; dated traces)");
  sim->add_option("--to", f.to, "... up to and including this date");
  sim->add_flag("--skip-bad", f.skip_bad,
                "count and skip malformed rows instead of stopping at the first");
  sim->add_option("--cluster", f.cluster,
                  "the cluster: a berthd configuration file ([[nodes]], [[gpu_models]])");
  sim->add_option("--nodes", f.nodes, "or: this many identical nodes")
      ->check(CLI::Range(1, 1'000'000));
  sim->add_option("--gpus-per-node", f.gpus_per_node, "GPUs on each node")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sim->add_option("--gpu-model", f.gpu_model, "their GPU model")->capture_default_str();
  sim->add_option("--tenant-pools", f.tenant_pools,
                  "CSV tenant,nodes: each tenant gets its own nodes (like --nodes)");
  sim->add_option("--policy", f.policy, policy_help())->capture_default_str();
  sim->add_option("--estimates", f.estimates,
                  "runtimes backfill plans with: limit, predict or oracle")
      ->capture_default_str();
  sim->add_option("--demote-after", f.demote_after,
                  "default: GPU-hours a job runs before jobs that have had less may preempt it "
                  "(0: never), or auto: learned from the jobs that finished")
      ->capture_default_str();
  sim->add_option("--starve-after", f.starve_after_hours,
                  "default: hours of delay after which a waiting job goes first (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  sim->add_option("--restart-overhead", f.restart_overhead_s,
                  "default: seconds a preempted job takes to resume from its checkpoint")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kSecondsPerDay));
  sim->add_option("--preempt-exempt", f.preempt_exempt_s,
                  "default: seconds a job runs after each start before it may be preempted")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, kSecondsPerDay));
  sim->add_option("--economics", f.economics,
                  "TOML: prices, [scheme] rate/fund/shortfall, [[tenants]] award/wallet");
  sim->add_option("--report", f.report,
                  "write metrics.json, jobs.csv and index.html (plots) into this folder");
  sim->add_option("--max-skipped", f.max_skipped_percent,
                  "fail when more than this percent of the trace's jobs are skipped (bad, "
                  "unusable, without a pool, too large)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sim->add_flag("--no-progress", f.no_progress, "no progress bar");
  // `berth sim gen ...` parses as sim with its subcommand gen: sim's one action picks.
  std::function<Status()> run_gen;
  CLI::App* gen = add_sim_gen_command(sim, ctx, &run_gen);
  on_run(sim, ctx, [&ctx, &f, gen, run_gen = std::move(run_gen)] {
    return gen->parsed() ? run_gen() : run_sim(ctx, f);
  });
}

}  // namespace berth::cli
