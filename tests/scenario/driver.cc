#include "scenario/driver.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/money.h"
#include "common/status.h"
#include "common/timefmt.h"
#include "core/engine.h"
#include "core/reconcile.h"
#include "core/statements.h"
#include "sim/virtual_cluster.h"

namespace berth::scenario {
namespace {

using core::Engine;
using core::Job;
using core::JobState;
using core::NodeState;

// Returns early with the status of a failed Result, else binds its value.
#define SCENARIO_ASSIGN(var, expr)                      \
  auto var##_result = (expr);                           \
  if (!var##_result.ok()) return var##_result.status(); \
  auto var = std::move(*var##_result)

constexpr int64_t kSecondMs = 1000;
constexpr int64_t kMinuteMs = 60 * kSecondMs;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr const char* kDefaultStart = "2026-01-01";
constexpr size_t kMaxLines = 100'000;  // a scenario is a short story

// The words of a line, without its comment.
std::vector<std::string> split_words(std::string_view line) {
  if (const size_t hash = line.find('#'); hash != std::string_view::npos)
    line = line.substr(0, hash);
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string join(const std::vector<std::string>& words, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < words.size(); ++i) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

// A duration as a short text: "1h30m", "45s", "250ms", "0s".
std::string format_span(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  if (ms < 0) ms = -ms;
  const struct {
    int64_t unit;
    const char* name;
  } units[] = {{kDayMs, "d"}, {kHourMs, "h"}, {kMinuteMs, "m"}, {kSecondMs, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (ms >= u.unit) {
      out += std::to_string(ms / u.unit) + u.name;
      ms %= u.unit;
    }
  }
  return out;
}

// The key=value options and bare flags after a command's positional words. Every one must be
// used by the command; leftovers are an error (a misspelt option must not pass silently).
class Options {
 public:
  explicit Options(std::vector<std::string> words)
      : words_(std::move(words)), used_(words_.size(), false) {}

  std::optional<std::string> take(std::string_view key) {
    for (size_t i = 0; i < words_.size(); ++i) {
      const std::string& w = words_[i];
      if (!used_[i] && w.size() > key.size() && w.compare(0, key.size(), key) == 0 &&
          w[key.size()] == '=') {
        used_[i] = true;
        return w.substr(key.size() + 1);
      }
    }
    return std::nullopt;
  }
  bool flag(std::string_view word) {
    for (size_t i = 0; i < words_.size(); ++i) {
      if (!used_[i] && words_[i] == word) {
        used_[i] = true;
        return true;
      }
    }
    return false;
  }
  // The first word no one took, or "" when all were.
  std::string leftover() const {
    for (size_t i = 0; i < words_.size(); ++i)
      if (!used_[i]) return words_[i];
    return "";
  }

 private:
  std::vector<std::string> words_;
  std::vector<bool> used_;
};

// Collects the differences between what an expect line asks and what the engine shows.
class Mismatches {
 public:
  void compare(const std::string& what, const std::string& expected, const std::string& found) {
    if (expected != found)
      list_ += (list_.empty() ? "" : "; ") + what + ": expected " + expected + ", found " + found;
  }
  void money(const std::string& what, std::optional<Minor> expected, Minor found) {
    if (expected) compare(what, format_amount(*expected), format_amount(found));
  }
  void count(const std::string& what, std::optional<int64_t> expected, int64_t found) {
    if (expected) compare(what, std::to_string(*expected), std::to_string(found));
  }
  const std::string& text() const { return list_; }

 private:
  std::string list_;
};

class Driver {
 public:
  explicit Driver(std::string file) : file_(std::move(file)) {}

  Outcome run(const std::string& text);

 private:
  std::string where() const { return file_ + ":" + std::to_string(line_); }
  // A mistake in the scenario itself (not a refusal by the engine): always stops the run.
  Status bad(const std::string& message) {
    scenario_error_ = true;
    return Status::Invalid(message);
  }
  void fail(const std::string& message) { outcome_.failures.push_back(where() + ": " + message); }

  Status line(const std::vector<std::string>& w);
  Status expect(const std::vector<std::string>& w);

  // Values as scenarios write them.
  Result<int64_t> integer(const std::string& text, const std::string& what);
  Result<int64_t> duration_ms(const std::string& text);
  Result<int64_t> time_ms(const std::string& text);  // a date/time, or +DURATION from the start
  Result<Minor> money(const std::string& text);
  Result<int64_t> percent_bps(const std::string& text);
  Result<ProjectId> project(const std::string& name);
  Result<SchemeId> scheme(const std::string& name);
  Result<NodeId> node(const std::string& name);
  Result<JobId> job(const std::string& text);
  Result<std::optional<Minor>> money_option(Options& o, std::string_view key);
  Result<std::optional<int64_t>> count_option(Options& o, std::string_view key);
  Status no_leftovers(const Options& o);
  std::string format_time(int64_t ms) const;

  // Setup, before `start`.
  Status define_node(const std::vector<std::string>& w);
  Status define_price(const std::vector<std::string>& w);
  Status define_partition(const std::vector<std::string>& w);
  Status define_scheduler(const std::vector<std::string>& w);
  Status define_limit(const std::vector<std::string>& w);
  Status define_share(const std::vector<std::string>& w);
  Result<bool> on_off(Options& o, std::string_view key, bool current);
  Status start(int64_t start_ms);
  Status ensure_started();

  // Commands.
  Status org(const std::vector<std::string>& w);
  Status project_cmd(const std::vector<std::string>& w);
  Status scheme_cmd(const std::vector<std::string>& w);
  Status fund(const std::vector<std::string>& w);
  Status award(const std::vector<std::string>& w);
  Status supplement(const std::vector<std::string>& w);
  Status close_award(const std::vector<std::string>& w);
  Status funding_order(const std::vector<std::string>& w);
  Status report(const std::vector<std::string>& w);
  Status criteria(const std::vector<std::string>& w);
  Status apply(const std::vector<std::string>& w);
  Status review(const std::vector<std::string>& w);
  Status decide(const std::vector<std::string>& w);
  Status expect_application(const std::vector<std::string>& w);
  Result<ApplicationId> application(const std::string& text);
  Status topup(const std::vector<std::string>& w);
  Status submit(const std::vector<std::string>& w);
  Status cancel(const std::vector<std::string>& w);
  Status hold_or_release(const std::vector<std::string>& w);
  Status node_state(const std::vector<std::string>& w);

  // Expectations (w without the leading "expect").
  Status expect_refused(const std::vector<std::string>& w);
  Status expect_job(const std::vector<std::string>& w);
  Status expect_balance(const std::vector<std::string>& w);
  Status expect_award(const std::vector<std::string>& w);
  Status expect_fund(const std::vector<std::string>& w);
  Status expect_revenue(const std::vector<std::string>& w);
  Status expect_gpus(const std::vector<std::string>& w);
  Status expect_node(const std::vector<std::string>& w);
  Status expect_jobs(const std::vector<std::string>& w);
  Status expect_books(const std::vector<std::string>& w);

  Engine& engine() { return vc_->engine(); }
  int64_t now() const { return vc_->now_ms(); }

  std::string file_;
  size_t line_ = 0;
  bool scenario_error_ = false;
  Outcome outcome_;
  core::ClusterConfig config_;
  sim::SimOptions options_;
  std::unique_ptr<sim::VirtualCluster> vc_;
  int64_t start_ms_ = 0;
};

// ---- values ----

Result<int64_t> Driver::integer(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 15 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad(what + " must be a whole number, got '" + text + "'");
  return std::stoll(text);
}

// "90s", "30m", "2h", "1d", "250ms", "1h30m", "0", or Slurm's "1:30:00".
Result<int64_t> Driver::duration_ms(const std::string& text) {
  if (text.find(':') != std::string::npos) {
    auto s = parse_duration_s(text);
    if (!s.ok()) return bad(s.status().message());
    return *s * kSecondMs;
  }
  if (text == "0") return int64_t{0};
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    size_t k = j;
    while (k < text.size() && !(text[k] >= '0' && text[k] <= '9')) ++k;
    const std::string digits = text.substr(i, j - i), unit = text.substr(j, k - j);
    int64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = kSecondMs;
    else if (unit == "m")
      scale = kMinuteMs;
    else if (unit == "h")
      scale = kHourMs;
    else if (unit == "d")
      scale = kDayMs;
    if (digits.empty() || digits.size() > 9 || scale == 0)
      return bad("duration '" + text + "' is not like 90s, 30m, 2h, 1d, 1h30m or 1:30:00");
    total += std::stoll(digits) * scale;
    i = k;
  }
  return total;
}

Result<int64_t> Driver::time_ms(const std::string& text) {
  if (!text.empty() && text[0] == '+') {
    SCENARIO_ASSIGN(offset, duration_ms(text.substr(1)));
    return start_ms_ + offset;
  }
  auto t = parse_time_ms(text);
  if (!t.ok()) return bad(t.status().message() + " (or write +DURATION from the start)");
  return *t;
}

Result<Minor> Driver::money(const std::string& text) {
  auto m = parse_amount(text);
  if (!m.ok()) return bad(m.status().message());
  return *m;
}

// "70%", "12.5%", "0.01%" -> basis points.
Result<int64_t> Driver::percent_bps(const std::string& text) {
  if (text.size() < 2 || text.back() != '%')
    return bad("rate '" + text + "' must be a percentage like 70%");
  auto m = parse_amount(text.substr(0, text.size() - 1));  // 4 fraction digits: 1% = 10000
  if (!m.ok() || *m % 100 != 0)
    return bad("rate '" + text + "' must be a percentage with at most 2 decimals");
  return *m / 100;
}

Result<ProjectId> Driver::project(const std::string& name) {
  const core::Project* p = engine().funding().project_by_name(name);
  if (!p) return bad("no project named '" + name + "'");
  return p->id;
}

Result<SchemeId> Driver::scheme(const std::string& name) {
  const core::Scheme* s = engine().funding().scheme_by_name(name);
  if (!s) return bad("no scheme named '" + name + "'");
  return s->id;
}

Result<NodeId> Driver::node(const std::string& name) {
  const core::Node* n = engine().cluster().node_by_name(name);
  if (!n) return bad("no node named '" + name + "'");
  return n->id;
}

Result<JobId> Driver::job(const std::string& text) {
  SCENARIO_ASSIGN(id, integer(text, "a job id"));
  return JobId(static_cast<uint64_t>(id));
}

Result<std::optional<Minor>> Driver::money_option(Options& o, std::string_view key) {
  const auto text = o.take(key);
  if (!text) return std::optional<Minor>();
  SCENARIO_ASSIGN(m, money(*text));
  return std::optional<Minor>(m);
}

Result<std::optional<int64_t>> Driver::count_option(Options& o, std::string_view key) {
  const auto text = o.take(key);
  if (!text) return std::optional<int64_t>();
  SCENARIO_ASSIGN(n, integer(*text, std::string(key)));
  return std::optional<int64_t>(n);
}

Status Driver::no_leftovers(const Options& o) {
  const std::string extra = o.leftover();
  if (!extra.empty()) return bad("unexpected '" + extra + "'");
  return Status::Ok();
}

std::string Driver::format_time(int64_t ms) const {
  return format_time_ms(ms) + " (+" + format_span(ms - start_ms_) + ")";
}

// ---- setup ----

Status Driver::define_node(const std::vector<std::string>& w) {
  if (vc_)
    return bad("nodes are defined before `start`; after it, write `node NAME up|drain|down`");
  if (w.size() < 4) return bad("usage: node NAME MODEL GPUS [cpus=N] [mem=MB] [domain=D]");
  SCENARIO_ASSIGN(gpus, integer(w[3], "GPUs"));
  Options o({w.begin() + 4, w.end()});
  SCENARIO_ASSIGN(cpus, count_option(o, "cpus"));
  SCENARIO_ASSIGN(mem, count_option(o, "mem"));
  const std::string domain = o.take("domain").value_or("");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  core::Node n;
  n.name = w[1];
  n.gpu_model = w[2];
  n.gpus = static_cast<int>(gpus);
  n.cpus = static_cast<int>(cpus.value_or(64));
  n.memory_mb = mem.value_or(512 * 1024);
  n.domain = domain;
  config_.nodes.push_back(n);
  return Status::Ok();
}

Status Driver::define_price(const std::vector<std::string>& w) {
  if (vc_) return bad("prices are set before `start`");
  if (w.size() != 3) return bad("usage: price MODEL AMOUNT_PER_GPU_HOUR");
  SCENARIO_ASSIGN(amount, money(w[2]));
  config_.prices.push_back({w[1], amount});
  return Status::Ok();
}

Status Driver::define_partition(const std::vector<std::string>& w) {
  if (vc_) return bad("partitions are defined before `start`");
  if (w.size() < 3) return bad("usage: partition NAME MAX_TIME [default] [default_time=D]");
  SCENARIO_ASSIGN(max_ms, duration_ms(w[2]));
  Options o({w.begin() + 3, w.end()});
  core::Partition p;
  p.name = w[1];
  p.max_time_s = max_ms / kSecondMs;
  p.default_time_s = std::min<int64_t>(3600, p.max_time_s);
  p.is_default = o.flag("default");
  if (const auto d = o.take("default_time")) {
    SCENARIO_ASSIGN(d_ms, duration_ms(*d));
    p.default_time_s = d_ms / kSecondMs;
  }
  // What a job that asks for no CPUs or memory gets (core/job_box.h).
  SCENARIO_ASSIGN(cpus_per_gpu, count_option(o, "cpus_per_gpu"));
  SCENARIO_ASSIGN(mem_per_gpu, count_option(o, "mem_per_gpu"));
  SCENARIO_ASSIGN(mem_per_cpu, count_option(o, "mem_per_cpu"));
  p.box_defaults = {cpus_per_gpu.value_or(0), mem_per_cpu.value_or(0), mem_per_gpu.value_or(0)};
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  config_.partitions.push_back(p);
  return Status::Ok();
}

Result<bool> Driver::on_off(Options& o, std::string_view key, bool current) {
  const auto v = o.take(key);
  if (!v) return current;
  if (*v != "on" && *v != "off")
    return bad(std::string(key) + " must be on or off, got '" + *v + "'");
  return *v == "on";
}

// scheduler [backfill=on|off] [preemption=on|off] [spot_price=P%] [grace=D] [half_life=D]
//           [w_age=N] [w_fairshare=N] [w_tier=N] [w_size=N] [conservative=on|off]
//           [order=priority|fifo|shortest] [strict=on|off] [predict=on|off]
//           [demote_after=D (GPU-time)] [restart=D (a checkpointing job's restart)]
Status Driver::define_scheduler(const std::vector<std::string>& w) {
  if (vc_) return bad("the scheduler is set before `start`");
  Options o({w.begin() + 1, w.end()});
  core::SchedulerConfig& c = options_.scheduling;
  SCENARIO_ASSIGN(backfill, on_off(o, "backfill", c.backfill));
  SCENARIO_ASSIGN(preemption, on_off(o, "preemption", c.preemption));
  SCENARIO_ASSIGN(conservative, on_off(o, "conservative", c.conservative));
  SCENARIO_ASSIGN(strict, on_off(o, "strict", c.strict));
  SCENARIO_ASSIGN(predict, on_off(o, "predict", c.predict_runtimes));
  c.backfill = backfill;
  c.preemption = preemption;
  c.conservative = conservative;
  c.strict = strict;
  c.predict_runtimes = predict;
  if (const auto order = o.take("order"); order && !core::parse_queue_order(*order, &c.order))
    return bad("order must be priority, fifo or shortest, got '" + *order + "'");
  if (const auto p = o.take("spot_price")) {
    SCENARIO_ASSIGN(bps, percent_bps(*p));
    c.spot_price_bps = bps;
  }
  if (const auto g = o.take("grace")) {
    SCENARIO_ASSIGN(grace, duration_ms(*g));
    options_.preempt_grace_ms = grace;
  }
  if (const auto d = o.take("demote_after")) {
    SCENARIO_ASSIGN(gpu_ms, duration_ms(*d));
    if (gpu_ms <= 0 || gpu_ms % kSecondMs != 0)
      return bad("demote_after is a positive GPU-time of whole seconds");
    c.demote_after_gpu_s = gpu_ms / kSecondMs;
  }
  if (const auto r = o.take("restart")) {
    SCENARIO_ASSIGN(restart_ms, duration_ms(*r));
    options_.restart_overhead_ms = restart_ms;
  }
  if (const auto h = o.take("half_life")) {
    SCENARIO_ASSIGN(half_life_ms, duration_ms(*h));
    if (half_life_ms <= 0 || half_life_ms % kSecondMs != 0)
      return bad("half_life is a positive number of whole seconds");
    c.usage_half_life_s = half_life_ms / kSecondMs;
  }
  const struct {
    const char* key;
    int64_t* weight;
  } weights[] = {{"w_age", &c.weights.age},
                 {"w_fairshare", &c.weights.fairshare},
                 {"w_tier", &c.weights.tier},
                 {"w_size", &c.weights.size}};
  for (const auto& weight : weights) {
    SCENARIO_ASSIGN(n, count_option(o, weight.key));
    if (n) *weight.weight = *n;
  }
  return no_leftovers(o);
}

// limit org|project NAME [gpus=N] [pending=N]
Status Driver::define_limit(const std::vector<std::string>& w) {
  if (vc_) return bad("limits are set before `start`");
  if (w.size() < 3 || (w[1] != "org" && w[1] != "project"))
    return bad("usage: limit org|project NAME [gpus=N] [pending=N]");
  Options o({w.begin() + 3, w.end()});
  SCENARIO_ASSIGN(gpus, count_option(o, "gpus"));
  SCENARIO_ASSIGN(pending, count_option(o, "pending"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  core::Limit& limit =
      (w[1] == "org" ? options_.scheduling.org_limits : options_.scheduling.project_limits)[w[2]];
  if (gpus) limit.max_gpus = *gpus;
  if (pending) limit.max_pending = *pending;
  return Status::Ok();
}

// share org|project NAME N: its fair share (1 when not given), for org or project NAME.
Status Driver::define_share(const std::vector<std::string>& w) {
  if (vc_) return bad("shares are set before `start`");
  if (w.size() != 4 || (w[1] != "org" && w[1] != "project"))
    return bad("usage: share org|project NAME N");
  SCENARIO_ASSIGN(n, integer(w[3], "a share"));
  (w[1] == "org" ? options_.scheduling.org_shares : options_.scheduling.project_shares)[w[2]] = n;
  return Status::Ok();
}

Status Driver::start(int64_t start_ms) {
  if (vc_)
    return bad("`start` comes once, after node, price, partition, scheduler and limit lines");
  if (config_.partitions.empty())
    config_.partitions.push_back(core::Partition{"gpu", 24 * 3600, 3600, true});
  auto vc = sim::VirtualCluster::Create(config_, start_ms, options_);
  if (!vc.ok()) return bad("the cluster cannot start: " + vc.status().message());
  vc_ = std::move(*vc);
  start_ms_ = start_ms;
  return Status::Ok();
}

Status Driver::ensure_started() {
  if (vc_) return Status::Ok();
  return start(*parse_time_ms(kDefaultStart));
}

// ---- commands ----

Status Driver::org(const std::vector<std::string>& w) {
  core::OrgKind kind;
  if (w.size() != 3 || !core::parse_org_kind(w[2], &kind))
    return bad("usage: org NAME startup|enterprise|university|institute|other");
  return engine().create_org(w[1], kind, now()).status();
}

Status Driver::project_cmd(const std::vector<std::string>& w) {
  if (w.size() != 3) return bad("usage: project NAME ORG");
  const core::Org* o = engine().funding().org_by_name(w[2]);
  if (!o) return bad("no organisation named '" + w[2] + "'");
  return engine().create_project(o->id, w[1], now()).status();
}

Status Driver::scheme_cmd(const std::vector<std::string>& w) {
  if (w.size() < 3)
    return bad(
        "usage: scheme NAME RATE% [fund=AMOUNT] [eligible=KIND,KIND] [shortfall=wallet|wait]");
  SCENARIO_ASSIGN(rate, percent_bps(w[2]));
  Options o({w.begin() + 3, w.end()});
  SCENARIO_ASSIGN(fund, money_option(o, "fund"));
  uint32_t kinds = (1u << core::kOrgKindCount) - 1;
  if (const auto e = o.take("eligible")) {
    kinds = 0;
    std::istringstream in(*e);
    for (std::string k; std::getline(in, k, ',');) {
      core::OrgKind kind;
      if (!core::parse_org_kind(k, &kind)) return bad("unknown organisation kind '" + k + "'");
      kinds |= 1u << static_cast<int>(kind);
    }
  }
  core::Shortfall shortfall = core::Shortfall::kWallet;
  if (const auto s = o.take("shortfall"); s && !core::parse_shortfall(*s, &shortfall))
    return bad("shortfall must be wallet or wait, got '" + *s + "'");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  return engine().create_scheme(w[1], rate, kinds, shortfall, fund.value_or(0), now()).status();
}

Status Driver::fund(const std::vector<std::string>& w) {
  if (w.size() != 3) return bad("usage: fund SCHEME AMOUNT");
  SCENARIO_ASSIGN(s, scheme(w[1]));
  SCENARIO_ASSIGN(amount, money(w[2]));
  return engine().fund_scheme(s, amount, now());
}

Status Driver::award(const std::vector<std::string>& w) {
  if (w.size() < 3)
    return bad(
        "usage: award PROJECT SCHEME amount=X gpus=N [from=TIME] [to=TIME] [reports=MONTHS] "
        "[grace=DAYS]");
  SCENARIO_ASSIGN(p, project(w[1]));
  SCENARIO_ASSIGN(s, scheme(w[2]));
  Options o({w.begin() + 3, w.end()});
  SCENARIO_ASSIGN(amount, money_option(o, "amount"));
  SCENARIO_ASSIGN(gpus, count_option(o, "gpus"));
  if (!amount || !gpus) return bad("an award needs amount= and gpus=");
  int64_t from = now();
  if (const auto t = o.take("from")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    from = v;
  }
  int64_t to = from + 365 * kDayMs;
  if (const auto t = o.take("to")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    to = v;
  }
  SCENARIO_ASSIGN(every, count_option(o, "reports"));
  SCENARIO_ASSIGN(grace, count_option(o, "grace"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  return engine()
      .create_award(s, p, *amount, static_cast<int>(*gpus), from, to, now(),
                    static_cast<int>(every.value_or(0)), static_cast<int>(grace.value_or(0)))
      .status();
}

// report AWARD PERIOD submit [by=USER] [text=WORD] | accept [by=USER] | return reason=WORD
// [by=USER]: a member of the award's organisation submits (mia by default), a reviewer decides
// (rita). as=member|reviewer acts in the other role, to show a refusal.
Status Driver::report(const std::vector<std::string>& w) {
  if (w.size() < 4)
    return bad(
        "usage: report AWARD PERIOD submit|accept|return [reason=WORD] [text=WORD] [by=USER] "
        "[as=ROLE]");
  SCENARIO_ASSIGN(id, integer(w[1], "an award id"));
  SCENARIO_ASSIGN(period, integer(w[2], "a report period"));
  const AwardId award(static_cast<uint64_t>(id));
  const core::Award* a = engine().funding().award(award);
  if (!a) return Status::NotFound("no award " + w[1]);
  const std::string& step = w[3];
  Options o({w.begin() + 4, w.end()});
  const std::string role = o.take("as").value_or(step == "submit" ? "member" : "reviewer");
  core::Actor actor;
  actor.role = role == "member" ? core::FundingRole::kMember : core::FundingRole::kReviewer;
  actor.user = o.take("by").value_or(actor.role == core::FundingRole::kMember ? "mia" : "rita");
  actor.org = engine().funding().project(a->project)->org;
  const std::string text = o.take("text").value_or("progress");
  const std::string reason = o.take("reason").value_or("");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const int k = static_cast<int>(period);
  if (step == "submit") return engine().submit_report(actor, award, k, text, now());
  if (step == "accept") return engine().accept_report(actor, award, k, now());
  if (step == "return") return engine().return_report(actor, award, k, reason, now());
  return bad("a report step is submit, accept or return, not '" + step + "'");
}

// supplement AWARD [amount=X] [to=TIME]: more money from the fund, a later end, or both.
Status Driver::supplement(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: supplement AWARD [amount=X] [to=TIME]");
  SCENARIO_ASSIGN(id, integer(w[1], "an award id"));
  Options o({w.begin() + 2, w.end()});
  SCENARIO_ASSIGN(amount, money_option(o, "amount"));
  int64_t to = 0;
  if (const auto t = o.take("to")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    to = v;
  }
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  return engine()
      .supplement_award(AwardId(static_cast<uint64_t>(id)), amount.value_or(0), to, "scenario",
                        now())
      .status();
}

// The people of an application's story: a member of the applying organisation ("member"), and
// the scheme's reviewer ("reviewer").
core::Actor reviewer_actor() {
  return core::Actor{"reviewer", core::FundingRole::kReviewer, OrgId()};
}

Result<ApplicationId> Driver::application(const std::string& text) {
  SCENARIO_ASSIGN(id, integer(text, "an application id"));
  if (!engine().applications().get(ApplicationId(static_cast<uint64_t>(id))))
    return bad("no application " + text);
  return ApplicationId(static_cast<uint64_t>(id));
}

// criteria SCHEME NAME=P% [NAME=P%...]: the scheme's weighted review criteria.
Status Driver::criteria(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: criteria SCHEME NAME=P% [NAME=P%...]");
  SCENARIO_ASSIGN(s, scheme(w[1]));
  std::vector<core::Criterion> list;
  for (size_t i = 2; i < w.size(); ++i) {
    const size_t eq = w[i].find('=');
    if (eq == std::string::npos) return bad("a criterion is NAME=P%, got '" + w[i] + "'");
    SCENARIO_ASSIGN(bps, percent_bps(w[i].substr(eq + 1)));
    list.push_back({w[i].substr(0, eq), bps});
  }
  return engine().set_criteria(reviewer_actor(), s, list, now());
}

// apply PROJECT SCHEME amount=X gpus=N days=D: a member drafts and submits an application.
Status Driver::apply(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: apply PROJECT SCHEME amount=X gpus=N days=D");
  SCENARIO_ASSIGN(p, project(w[1]));
  SCENARIO_ASSIGN(s, scheme(w[2]));
  Options o({w.begin() + 3, w.end()});
  SCENARIO_ASSIGN(amount, money_option(o, "amount"));
  SCENARIO_ASSIGN(gpus, count_option(o, "gpus"));
  SCENARIO_ASSIGN(days, count_option(o, "days"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  if (!amount || !gpus || !days) return bad("an application needs amount=, gpus= and days=");
  const core::Actor member{"member", core::FundingRole::kMember,
                           engine().funding().project(p)->org};
  core::ApplicationTerms terms;
  terms.amount_minor = *amount;
  terms.gpu_level = static_cast<int>(*gpus);
  terms.duration_days = static_cast<int>(*days);
  terms.justification = "scenario";
  auto id = engine().draft_application(member, s, p, terms, now());
  if (!id.ok()) return id.status();
  return engine().submit_application(member, *id, now());
}

// review APP NAME=SCORE [NAME=SCORE...]: the reviewer scores a submitted application.
Status Driver::review(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: review APP NAME=SCORE [NAME=SCORE...]");
  SCENARIO_ASSIGN(id, application(w[1]));
  std::vector<core::CriterionScore> scores;
  for (size_t i = 2; i < w.size(); ++i) {
    const size_t eq = w[i].find('=');
    if (eq == std::string::npos) return bad("a score is NAME=SCORE, got '" + w[i] + "'");
    SCENARIO_ASSIGN(score, integer(w[i].substr(eq + 1), "a score"));
    scores.push_back({w[i].substr(0, eq), static_cast<int>(score)});
  }
  return engine().review_application(reviewer_actor(), id, scores, "", now());
}

// approve APP [amount=X] [days=D] [reports=MONTHS] [exceptional] | reject APP reason=WORD
Status Driver::decide(const std::vector<std::string>& w) {
  if (w.size() < 2)
    return bad(
        "usage: approve APP [amount=X] [days=D] [reports=MONTHS] [exceptional] | reject APP "
        "reason=WORD");
  SCENARIO_ASSIGN(id, application(w[1]));
  std::vector<std::string> rest(w.begin() + 2, w.end());
  bool exceptional = false;
  std::erase_if(
      rest, [&](const std::string& word) { return word == "exceptional" && (exceptional = true); });
  Options o(rest);
  if (w[0] == "reject") {
    const std::string reason = o.take("reason").value_or("");
    BERTH_RETURN_IF_ERROR(no_leftovers(o));
    return engine().reject_application(reviewer_actor(), id, reason, now());
  }
  SCENARIO_ASSIGN(amount, money_option(o, "amount"));
  SCENARIO_ASSIGN(days, count_option(o, "days"));
  SCENARIO_ASSIGN(reports, count_option(o, "reports"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  core::Approval approval;
  approval.amount_minor = amount.value_or(0);
  approval.duration_days = static_cast<int>(days.value_or(0));
  approval.report_every_months = static_cast<int>(reports.value_or(0));
  approval.exceptional_rate = exceptional;
  return engine().approve_application(reviewer_actor(), id, approval, now()).status();
}

// expect application ID STATE [award=N]
Status Driver::expect_application(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: expect application ID STATE [award=N]");
  SCENARIO_ASSIGN(id, application(w[1]));
  core::ApplicationState state;
  if (!core::parse_application_state(w[2], &state))
    return bad("unknown application state '" + w[2] + "'");
  Options o({w.begin() + 3, w.end()});
  SCENARIO_ASSIGN(award, count_option(o, "award"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Application& a = *engine().applications().get(id);
  Mismatches m;
  if (a.state != state) m.compare("state", w[2], core::application_state_name(a.state));
  m.count("award", award, static_cast<int64_t>(a.award.value));
  if (!m.text().empty()) fail("expect application " + w[1] + ": " + m.text());
  return Status::Ok();
}

// order PROJECT [AWARD...]: the order the project's awards pay in (none: the order granted).
Status Driver::funding_order(const std::vector<std::string>& w) {
  if (w.size() < 2) return bad("usage: order PROJECT [AWARD...]");
  SCENARIO_ASSIGN(p, project(w[1]));
  std::vector<AwardId> order;
  for (size_t i = 2; i < w.size(); ++i) {
    SCENARIO_ASSIGN(id, integer(w[i], "an award id"));
    order.emplace_back(static_cast<uint64_t>(id));
  }
  return engine().set_funding_order(p, order, now());
}

// close AWARD reason=WORD: ends an award early.
Status Driver::close_award(const std::vector<std::string>& w) {
  if (w.size() < 2) return bad("usage: close AWARD reason=WORD");
  SCENARIO_ASSIGN(id, integer(w[1], "an award id"));
  Options o({w.begin() + 2, w.end()});
  const std::string reason = o.take("reason").value_or("");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  return engine().close_award(AwardId(static_cast<uint64_t>(id)), reason, now()).status();
}

Status Driver::topup(const std::vector<std::string>& w) {
  if (w.size() < 3) return bad("usage: topup PROJECT AMOUNT [ref=REFERENCE]");
  SCENARIO_ASSIGN(p, project(w[1]));
  SCENARIO_ASSIGN(amount, money(w[2]));
  Options o({w.begin() + 3, w.end()});
  const std::string ref = o.take("ref").value_or("");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  return engine().top_up(p, amount, ref, now()).status();
}

Status Driver::submit(const std::vector<std::string>& w) {
  if (w.size() < 2)
    return bad(
        "usage: submit PROJECT [gpus=N] [nodes=N] [gpus_per_node=N] [time=D] [run=D] [exit=N] "
        "[model=M] [partition=P] "
        "[tier=high|normal|spot] [requeue] [checkpoint] [name=X] [user=U] [hold] [after=DEPS] "
        "[array=SPEC [runs=D,D,...]] [key=K]");
  SCENARIO_ASSIGN(p, project(w[1]));
  Options o({w.begin() + 2, w.end()});
  // key= makes it idempotent; what it promises is the rest of the line, as berthd digests a body.
  std::string asked;
  for (size_t i = 1; i < w.size(); ++i)
    if (w[i].rfind("key=", 0) != 0) asked += w[i] + ' ';
  core::JobRequest r;
  r.project = p;
  // GPUs as the API takes them: gpus= in all, or gpus_per_node= on each of nodes=.
  SCENARIO_ASSIGN(gpus, count_option(o, "gpus"));
  SCENARIO_ASSIGN(nodes, count_option(o, "nodes"));
  SCENARIO_ASSIGN(per_node, count_option(o, "gpus_per_node"));
  if (nodes.value_or(1) > 100'000 || per_node.value_or(0) > 1'000)
    return bad("nodes= or gpus_per_node= is too large");
  r.nodes = static_cast<int>(nodes.value_or(1));
  if (per_node && gpus && *gpus != *per_node * r.nodes)
    return bad("gpus=" + std::to_string(*gpus) + " is not gpus_per_node x nodes (" +
               std::to_string(*per_node * r.nodes) + ")");
  r.gpus = static_cast<int>(per_node ? *per_node * r.nodes : gpus.value_or(1));
  if (const auto t = o.take("time")) {
    SCENARIO_ASSIGN(limit_ms, duration_ms(*t));
    if (limit_ms % kSecondMs != 0) return bad("a time limit is whole seconds");
    r.time_limit_s = limit_ms / kSecondMs;
  }
  sim::SimProcess process;
  if (const auto t = o.take("run")) {
    SCENARIO_ASSIGN(run_ms, duration_ms(*t));
    process.runtime_ms = run_ms;
  }
  SCENARIO_ASSIGN(exit_code, count_option(o, "exit"));
  process.exit_code = static_cast<int>(exit_code.value_or(0));
  process.oom = o.flag("oom");
  SCENARIO_ASSIGN(cpus, count_option(o, "cpus"));  // --cpus-per-task
  SCENARIO_ASSIGN(mem, count_option(o, "mem"));    // --mem, MB
  r.box.cpus_per_task = cpus.value_or(0);
  r.box.mem_mb = mem.value_or(0);
  r.gpu_model = o.take("model").value_or("");
  r.partition = o.take("partition").value_or("");
  r.name = o.take("name").value_or("");
  r.user = o.take("user").value_or("");
  if (const auto t = o.take("tier"); t && !core::parse_tier(*t, &r.tier))
    return bad("tier must be high, normal or spot, got '" + *t + "'");
  r.requeue = o.flag("requeue");
  process.checkpoints = o.flag("checkpoint");  // requeued, it resumes where it stopped
  if (process.checkpoints) r.requeue = true;
  r.hold = o.flag("hold");
  if (const auto key = o.take("key")) {
    r.idempotency_key = *key;
    r.request_digest = asked;
  }
  const auto after = o.take("after"), dependency = o.take("dependency");
  if (after && dependency) return bad("write after= or dependency=, not both");
  if (const auto& deps = after ? after : dependency;
      deps && !core::parse_dependencies(*deps, &r.dependencies))
    return bad("dependencies '" + *deps + "' are not like afterok:3,afterany:4:5 (or afternotok)");
  const auto array = o.take("array");
  const auto runs = o.take("runs");
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  if (!array) {
    if (runs)
      return bad("runs= gives each task of an array its runtime; this submit has no array=");
    return vc_->submit(r, process).status();
  }
  std::vector<int> indices;
  int throttle = 0;
  std::string error;
  if (!core::parse_array_spec(*array, &indices, &throttle, &error)) return bad(error);
  std::vector<sim::SimProcess> processes{process};
  if (runs) {
    if (process.runtime_ms) return bad("write run= (every task) or runs= (each task), not both");
    processes.clear();
    std::istringstream in(*runs);
    for (std::string d; std::getline(in, d, ',');) {
      SCENARIO_ASSIGN(run_ms, duration_ms(d));
      processes.push_back(sim::SimProcess{run_ms, process.exit_code});
    }
    if (processes.size() != indices.size())
      return bad("runs= has " + std::to_string(processes.size()) + " runtimes for " +
                 std::to_string(indices.size()) + " tasks");
  }
  return vc_->submit_array(r, indices, throttle, processes).status();
}

Status Driver::cancel(const std::vector<std::string>& w) {
  if (w.size() != 2) return bad("usage: cancel JOB");
  SCENARIO_ASSIGN(id, job(w[1]));
  return vc_->cancel(id).status();
}

// hold JOB | release JOB
Status Driver::hold_or_release(const std::vector<std::string>& w) {
  if (w.size() != 2) return bad("usage: " + w[0] + " JOB");
  SCENARIO_ASSIGN(id, job(w[1]));
  return w[0] == "hold" ? vc_->hold(id) : vc_->release(id);
}

Status Driver::node_state(const std::vector<std::string>& w) {
  SCENARIO_ASSIGN(id, node(w[1]));
  NodeState state = w[2] == "up"      ? NodeState::kUp
                    : w[2] == "drain" ? NodeState::kDrain
                                      : NodeState::kDown;
  return vc_->set_node_state(id, state).status();
}

// ---- expectations ----

// expect refused COMMAND... [code=CODE]: the command must fail (and so change nothing).
Status Driver::expect_refused(const std::vector<std::string>& w) {
  std::vector<std::string> command;
  std::optional<std::string> code;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i].rfind("code=", 0) == 0)
      code = w[i].substr(5);
    else
      command.push_back(w[i]);
  }
  if (command.empty() || command[0] == "expect")
    return bad("usage: expect refused COMMAND... [code=CODE]");
  scenario_error_ = false;
  const Status st = line(command);
  if (scenario_error_) return st;  // the scenario is wrong, not the engine
  if (st.ok()) {
    fail("expected `" + join(command) + "` to be refused, but it succeeded");
  } else if (code && *code != code_name(st.code())) {
    fail("expected `" + join(command) + "` to be refused with " + *code + ", found " +
         code_name(st.code()) + ": " + st.message());
  }
  return Status::Ok();
}

// expect job ID STATE [on NODE[,NODE...]] [reason=R] [cost=X] [subsidy=X] [copay=X] [max=X]
// [restarts=N]
//                     [award=N] [start=TIME] [end=TIME] [expected=TIME] [planned=D] [ran=D]
Status Driver::expect_job(const std::vector<std::string>& w) {
  if (w.size() < 3)
    return bad("usage: expect job ID STATE [on NODE[,NODE...]] [reason=R] [cost=X] ...");
  SCENARIO_ASSIGN(id, job(w[1]));
  JobState state;
  if (!core::parse_job_state(w[2], &state)) return bad("unknown job state '" + w[2] + "'");
  size_t rest = 3;
  std::optional<std::string> on;
  if (w.size() >= 5 && w[3] == "on") {
    on = w[4];
    rest = 5;
    std::istringstream names(*on);
    for (std::string name; std::getline(names, name, ',');) {
      SCENARIO_ASSIGN(n, node(name));
      (void)n;
    }
  }
  Options o({w.begin() + static_cast<long>(rest), w.end()});
  const auto reason = o.take("reason");
  core::PendingReason parsed_reason;
  if (reason && !core::parse_pending_reason(*reason, &parsed_reason))
    return bad("unknown pending reason '" + *reason + "'");
  SCENARIO_ASSIGN(cost, money_option(o, "cost"));
  SCENARIO_ASSIGN(subsidy, money_option(o, "subsidy"));
  SCENARIO_ASSIGN(copay, money_option(o, "copay"));
  SCENARIO_ASSIGN(max, money_option(o, "max"));
  SCENARIO_ASSIGN(restarts, count_option(o, "restarts"));
  SCENARIO_ASSIGN(award, count_option(o, "award"));  // the funding source that paid (0: none)
  SCENARIO_ASSIGN(cpus, count_option(o, "cpus"));    // its box on each node
  SCENARIO_ASSIGN(mem, count_option(o, "mem"));
  std::optional<int64_t> start_at, end_at, expected_at;
  if (const auto t = o.take("start")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    start_at = v;
  }
  if (const auto t = o.take("end")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    end_at = v;
  }
  if (const auto t = o.take("expected")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    expected_at = v;
  }
  std::optional<int64_t> planned_ms, ran_ms;
  if (const auto d = o.take("planned")) {
    SCENARIO_ASSIGN(v, duration_ms(*d));
    planned_ms = v;
  }
  if (const auto d = o.take("ran")) {
    SCENARIO_ASSIGN(v, duration_ms(*d));
    ran_ms = v;
  }
  BERTH_RETURN_IF_ERROR(no_leftovers(o));

  const Job* j = engine().job(id);
  if (!j) {
    fail("expect job " + w[1] + ": there is no job " + w[1]);
    return Status::Ok();
  }
  Mismatches m;
  std::string found_state = core::job_state_name(j->state);
  if (j->state == JobState::kPending)
    found_state += std::string(" (reason=") + core::pending_reason_name(j->reason) + ")";
  if (j->state != state) m.compare("state", w[2], found_state);
  if (on) {
    // Its nodes in order: the first (where its batch script runs), then a gang's others.
    const core::Node* first = engine().cluster().node(j->node);
    std::string names = first ? first->name : "(none)";
    for (const core::Placement& p : j->more_nodes)
      names += "," + engine().cluster().node(p.node)->name;
    m.compare(j->more_nodes.empty() && on->find(',') == std::string::npos ? "node" : "nodes", *on,
              names);
  }
  if (reason) m.compare("reason", *reason, core::pending_reason_name(j->reason));
  m.money("cost", cost, j->cost_minor);
  m.money("subsidy", subsidy, j->subsidy_minor);
  m.money("copay", copay, j->copay_minor);
  m.money("max", max, j->max_cost_minor);
  m.count("restarts", restarts, j->restarts);
  m.count("award", award, static_cast<int64_t>(j->award.value));
  m.count("cpus", cpus, j->cpus_per_node);
  m.count("mem", mem, j->memory_per_node_mb);
  if (start_at)
    m.compare("start", format_time(*start_at),
              j->start_ms ? format_time(j->start_ms) : "(not started)");
  if (end_at)
    m.compare("end", format_time(*end_at), j->end_ms ? format_time(j->end_ms) : "(not ended)");
  if (expected_at)
    m.compare(
        "expected start", format_time(*expected_at),
        j->expected_start_ms ? format_time(j->expected_start_ms) : std::string("(not planned)"));
  if (planned_ms)
    m.compare("planned", format_span(*planned_ms), format_span(j->planned_s() * kSecondMs));
  if (ran_ms) m.compare("ran", format_span(*ran_ms), format_span(j->ran_ms));
  if (!m.text().empty()) fail("expect job " + w[1] + ": " + m.text());
  return Status::Ok();
}

// expect balance PROJECT [wallet=X] [held=X] [available=X]
Status Driver::expect_balance(const std::vector<std::string>& w) {
  if (w.size() < 2) return bad("usage: expect balance PROJECT [wallet=X] [held=X] [available=X]");
  SCENARIO_ASSIGN(p, project(w[1]));
  Options o({w.begin() + 2, w.end()});
  SCENARIO_ASSIGN(wallet, money_option(o, "wallet"));
  SCENARIO_ASSIGN(held, money_option(o, "held"));
  SCENARIO_ASSIGN(available, money_option(o, "available"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Account& a = *engine().ledger().account(engine().funding().project(p)->wallet);
  Mismatches m;
  m.money("wallet", wallet, a.balance());
  m.money("held", held, a.debits_pending);
  m.money("available", available, a.available());
  if (!m.text().empty()) fail("expect balance " + w[1] + ": " + m.text());
  return Status::Ok();
}

// expect award ID [spent=X] [held=X] [left=X] [returned=X]: spent by jobs (net of the subsidy
// part of refunds), held by running jobs, left to spend, and returned to the fund after the
// award ended (core::AwardMoney).
Status Driver::expect_award(const std::vector<std::string>& w) {
  if (w.size() < 2)
    return bad(
        "usage: expect award ID [spent=X] [held=X] [left=X] [returned=X] [overdue=yes|no] "
        "[next_due=TIME]");
  SCENARIO_ASSIGN(id, integer(w[1], "an award id"));
  const core::Award* award = engine().funding().award(AwardId(static_cast<uint64_t>(id)));
  if (!award) return bad("no award " + w[1]);
  Options o({w.begin() + 2, w.end()});
  SCENARIO_ASSIGN(spent, money_option(o, "spent"));
  SCENARIO_ASSIGN(held, money_option(o, "held"));
  SCENARIO_ASSIGN(left, money_option(o, "left"));
  SCENARIO_ASSIGN(returned, money_option(o, "returned"));
  const std::optional<std::string> overdue = o.take("overdue");
  std::optional<int64_t> next_due;
  if (const auto t = o.take("next_due")) {
    SCENARIO_ASSIGN(v, time_ms(*t));
    next_due = v;
  }
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::AwardMoney money = core::award_money(engine(), *award);
  Mismatches m;
  const core::ReportStanding standing = engine().report_standing(award->id, now());
  if (overdue) m.compare("overdue", *overdue, standing.overdue() ? "yes" : "no");
  if (next_due)
    m.compare("next_due", format_time(*next_due),
              standing.next_due_ms ? format_time(standing.next_due_ms) : "(none)");
  m.money("spent", spent, money.spent_minor);
  m.money("returned", returned, money.returned_minor);
  m.money("held", held, money.held_minor);
  m.money("left", left, money.left_minor);
  if (!m.text().empty()) fail("expect award " + w[1] + ": " + m.text());
  return Status::Ok();
}

// expect fund SCHEME [left=X]
Status Driver::expect_fund(const std::vector<std::string>& w) {
  if (w.size() < 2) return bad("usage: expect fund SCHEME [left=X]");
  SCENARIO_ASSIGN(s, scheme(w[1]));
  Options o({w.begin() + 2, w.end()});
  SCENARIO_ASSIGN(left, money_option(o, "left"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Account& a = *engine().ledger().account(engine().funding().scheme(s)->fund);
  Mismatches m;
  m.money("left", left, a.available());
  if (!m.text().empty()) fail("expect fund " + w[1] + ": " + m.text());
  return Status::Ok();
}

// expect revenue [earned=X] [held=X]
Status Driver::expect_revenue(const std::vector<std::string>& w) {
  Options o({w.begin() + 1, w.end()});
  SCENARIO_ASSIGN(earned, money_option(o, "earned"));
  SCENARIO_ASSIGN(held, money_option(o, "held"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Account& a = *engine().ledger().account(core::kRevenueAccount);
  Mismatches m;
  m.money("earned", earned, a.balance());
  m.money("held", held, a.credits_pending);
  if (!m.text().empty()) fail("expect revenue: " + m.text());
  return Status::Ok();
}

// expect gpus [used=N] [free=N]
Status Driver::expect_gpus(const std::vector<std::string>& w) {
  Options o({w.begin() + 1, w.end()});
  SCENARIO_ASSIGN(used, count_option(o, "used"));
  SCENARIO_ASSIGN(free, count_option(o, "free"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Cluster& c = engine().cluster();
  Mismatches m;
  m.count("used", used, c.used_gpus());
  m.count("free", free, c.total_gpus() - c.used_gpus());
  if (!m.text().empty()) fail("expect gpus: " + m.text());
  return Status::Ok();
}

// expect node NAME [up|drain|down] [free=N]
Status Driver::expect_node(const std::vector<std::string>& w) {
  if (w.size() < 2) return bad("usage: expect node NAME [up|drain|down] [free=N]");
  SCENARIO_ASSIGN(id, node(w[1]));
  Options o({w.begin() + 2, w.end()});
  std::optional<std::string> state;
  for (const char* s : {"up", "drain", "down"})
    if (o.flag(s)) state = s;
  SCENARIO_ASSIGN(free, count_option(o, "free"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  const core::Node& n = *engine().cluster().node(id);
  Mismatches m;
  if (state) m.compare("state", *state, core::node_state_name(n.state));
  m.count("free", free, engine().cluster().free_gpus(id));
  if (!m.text().empty()) fail("expect node " + w[1] + ": " + m.text());
  return Status::Ok();
}

// expect jobs [pending=N] [running=N]
Status Driver::expect_jobs(const std::vector<std::string>& w) {
  Options o({w.begin() + 1, w.end()});
  SCENARIO_ASSIGN(pending, count_option(o, "pending"));
  SCENARIO_ASSIGN(running, count_option(o, "running"));
  BERTH_RETURN_IF_ERROR(no_leftovers(o));
  int64_t n_pending = 0, n_running = 0;
  for (const Job& j : engine().jobs()) {
    n_pending += j.state == JobState::kPending;
    n_running += j.state == JobState::kRunning;
  }
  Mismatches m;
  m.count("pending", pending, n_pending);
  m.count("running", running, n_running);
  if (!m.text().empty()) fail("expect jobs: " + m.text());
  return Status::Ok();
}

// expect books balanced: the engine's full check, debits equal credits, and reconciliation of
// its snapshot finds no difference.
Status Driver::expect_books(const std::vector<std::string>& w) {
  if (w.size() != 2 || w[1] != "balanced") return bad("usage: expect books balanced");
  const Status st = engine().verify();
  if (!st.ok()) fail("expect books balanced: " + st.ToString());
  const core::ReconcileReport reconciled = core::reconcile(engine().snapshot());
  if (!reconciled.ok())
    fail("expect books balanced: reconcile finds " + std::to_string(reconciled.differences_found) +
         " difference(s), the first: " + reconciled.differences.front().message);
  const core::Ledger& l = engine().ledger();
  if (l.total_debits_posted() != l.total_credits_posted() ||
      l.total_debits_pending() != l.total_credits_pending())
    fail("expect books balanced: posted debits " + format_amount(l.total_debits_posted()) +
         " vs credits " + format_amount(l.total_credits_posted()) + ", pending debits " +
         format_amount(l.total_debits_pending()) + " vs credits " +
         format_amount(l.total_credits_pending()));
  return Status::Ok();
}

Status Driver::expect(const std::vector<std::string>& w) {
  if (w.size() < 2)
    return bad("usage: expect refused|job|balance|award|fund|revenue|gpus|node|jobs|books ...");
  const std::vector<std::string> rest(w.begin() + 1, w.end());
  const std::string& what = rest[0];
  if (what == "refused") {
    BERTH_RETURN_IF_ERROR(ensure_started());
    return expect_refused(rest);
  }
  BERTH_RETURN_IF_ERROR(ensure_started());
  // Looking closes the batch: the scheduler sees what was commanded at this time first, as
  // berthd schedules a batch before it answers.
  vc_->flush();
  if (what == "job") return expect_job(rest);
  if (what == "balance") return expect_balance(rest);
  if (what == "award") return expect_award(rest);
  if (what == "application") return expect_application(rest);
  if (what == "fund") return expect_fund(rest);
  if (what == "revenue") return expect_revenue(rest);
  if (what == "gpus") return expect_gpus(rest);
  if (what == "node") return expect_node(rest);
  if (what == "jobs") return expect_jobs(rest);
  if (what == "books") return expect_books(rest);
  return bad("unknown expectation '" + what + "'");
}

// ---- dispatch ----

Status Driver::line(const std::vector<std::string>& w) {
  const std::string& verb = w[0];
  if (verb == "expect") {
    outcome_.expectations += 1;
    return expect(w);
  }
  // Setup: before the engine exists.
  if (verb == "node" && !(w.size() == 3 && (w[2] == "up" || w[2] == "drain" || w[2] == "down")))
    return define_node(w);
  if (verb == "price") return define_price(w);
  if (verb == "partition") return define_partition(w);
  if (verb == "scheduler") return define_scheduler(w);
  if (verb == "limit") return define_limit(w);
  if (verb == "share") return define_share(w);
  if (verb == "start") {
    if (w.size() > 2) return bad("usage: start [DATE]");
    int64_t at = 0;
    if (w.size() == 2) {
      auto t = parse_time_ms(w[1]);
      if (!t.ok()) return bad(t.status().message());
      at = *t;
    } else {
      at = *parse_time_ms(kDefaultStart);
    }
    return start(at);
  }
  BERTH_RETURN_IF_ERROR(ensure_started());
  Status st;
  if (verb == "advance" || verb == "at") {
    if (w.size() != 2) return bad("usage: advance DURATION | at TIME");
    int64_t target = 0;
    if (verb == "advance") {
      SCENARIO_ASSIGN(d, duration_ms(w[1]));
      target = now() + d;
    } else {
      SCENARIO_ASSIGN(t, time_ms(w[1]));
      if (t < now()) return bad("`at " + w[1] + "` is before now, " + format_time(now()));
      target = t;
    }
    return vc_->advance_to(target);
  }
  if (verb == "node")
    st = node_state(w);
  else if (verb == "org")
    st = org(w);
  else if (verb == "project")
    st = project_cmd(w);
  else if (verb == "scheme")
    st = scheme_cmd(w);
  else if (verb == "fund")
    st = fund(w);
  else if (verb == "award")
    st = award(w);
  else if (verb == "supplement")
    st = supplement(w);
  else if (verb == "close")
    st = close_award(w);
  else if (verb == "order")
    st = funding_order(w);
  else if (verb == "criteria")
    st = criteria(w);
  else if (verb == "apply")
    st = apply(w);
  else if (verb == "review")
    st = review(w);
  else if (verb == "approve" || verb == "reject")
    st = decide(w);
  else if (verb == "report")
    st = report(w);
  else if (verb == "topup")
    st = topup(w);
  else if (verb == "submit")
    st = submit(w);
  else if (verb == "cancel")
    st = cancel(w);
  else if (verb == "hold" || verb == "release")
    st = hold_or_release(w);
  else
    return bad("unknown command '" + verb + "'");
  // Administration done on the engine directly is part of this time's batch too.
  if (st.ok()) vc_->mark_dirty();
  return st;
}

Outcome Driver::run(const std::string& text) {
  std::istringstream in(text);
  std::string raw;
  for (line_ = 1; std::getline(in, raw); ++line_) {
    if (line_ > kMaxLines) {
      fail("a scenario has at most " + std::to_string(kMaxLines) + " lines");
      break;
    }
    const std::vector<std::string> w = split_words(raw);
    if (w.empty()) continue;
    scenario_error_ = false;
    const Status st = line(w);
    outcome_.lines_run += 1;
    if (!st.ok()) {
      fail((scenario_error_ ? "" : "`" + join(w) + "` failed: ") + st.message());
      break;
    }
    if (vc_) {
      const Status books = vc_->engine().verify();
      if (!books.ok()) {
        fail("the books do not verify after this line: " + books.ToString());
        break;
      }
    }
  }
  return std::move(outcome_);
}

}  // namespace

Outcome run_scenario(const std::string& text, const std::string& file_name) {
  Driver driver(file_name);
  return driver.run(text);
}

Outcome run_scenario_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    Outcome o;
    o.failures.push_back(path.string() + ": cannot read the file");
    return o;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return run_scenario(text.str(), path.string());
}

}  // namespace berth::scenario
