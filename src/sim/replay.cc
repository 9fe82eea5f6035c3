#include "sim/replay.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "common/civil.h"
#include "core/engine.h"
#include "sim/policy_table.h"
#include "sim/virtual_cluster.h"

namespace berth::sim {

namespace {

constexpr int64_t kDefaultOriginMs = 1'767'225'600'000;  // 2026-01-01, for traces without dates
constexpr int64_t kRefusalsNoted = 10;  // refused submits noted one by one; the rest only counted

// One cluster's replay: the jobs (indices into the trace) that run on it.
class PoolReplay {
 public:
  PoolReplay(const Trace& trace, const ReplayConfig& config, ReplayResult* result)
      : trace_(trace), config_(config), result_(result) {}

  Status run(core::ClusterConfig cluster, const std::vector<size_t>& jobs, int64_t* done,
             int64_t total) {
    origin_ms_ = trace_.start_epoch_s > 0 ? trace_.start_epoch_s * 1000 : kDefaultOriginMs;
    // One partition longer than any job.
    int64_t longest_s = kSecondsPerDay;
    for (size_t i : jobs)
      longest_s = std::max({longest_s, trace_.jobs[i].runtime_s + 1, trace_.jobs[i].time_limit_s});
    cluster.partitions = {core::Partition{"sim", longest_s, longest_s, true, {}}};
    cluster.prices.clear();
    for (const core::Node& n : cluster.nodes) {
      if (std::any_of(cluster.prices.begin(), cluster.prices.end(),
                      [&](const core::GpuPrice& p) { return p.gpu_model == n.gpu_model; }))
        continue;
      Minor price = 0;
      if (config_.economics)
        for (const core::GpuPrice& p : config_.economics->prices)
          if (p.gpu_model == n.gpu_model) price = p.per_gpu_hour_minor;
      cluster.prices.push_back({n.gpu_model, price});
    }
    per_node_ = 0;
    for (const core::Node& n : cluster.nodes) per_node_ = std::max(per_node_, n.gpus);
    for (const core::Node& n : cluster.nodes) total_gpus_ += n.gpus;
    result_->total_gpus += total_gpus_;
    BERTH_ASSIGN_OR_RETURN(
        auto vc, VirtualCluster::Create(
                     cluster, origin_ms_,
                     SimOptions{.scheduling = scheduling_for(config_),
                                .preempt_grace_ms = 0,
                                .restart_overhead_ms = config_.restart_overhead_s * 1000}));
    vc_ = std::move(vc);
    core::Engine& e = vc_->engine();
    if (config_.economics) {
      auto scheme =
          e.create_scheme("sim", config_.economics->rate_bps, ~0u, config_.economics->shortfall,
                          config_.economics->fund_minor, origin_ms_);
      if (!scheme.ok()) return Status::Invalid("economics: " + scheme.status().message());
      scheme_ = scheme->id;
    }
    for (size_t i : jobs) {
      const TraceJob& t = trace_.jobs[i];
      BERTH_RETURN_IF_ERROR(advance_to(origin_ms_ + t.submit_s * 1000));
      BERTH_ASSIGN_OR_RETURN(auto project, project_for(t.tenant));
      core::JobRequest r = request(t, project);
      if (too_large(r)) {
        ++result_->skipped_too_large;
      } else {
        auto id = vc_->submit(
            r,
            SimProcess{.runtime_ms = t.runtime_s * 1000, .exit_code = 0, .checkpoints = r.requeue});
        if (id.ok()) {
          trace_index_.push_back(i);
          if (r.gpus != std::max(1, t.gpus)) ++result_->gpus_rounded_up;
        } else {
          refused(t, id.status());
        }
      }
      if (config_.progress && (++*done % std::max<int64_t>(1, total / 100) == 0))
        config_.progress(*done, total);
    }
    vc_->flush();  // the last submissions' pass: on an idle cluster nothing else is booked
    drain();
    while (auto next = vc_->next_event_ms()) {
      BERTH_RETURN_IF_ERROR(vc_->advance_to(*next));
      drain();
    }
    BERTH_RETURN_IF_ERROR(e.verify());
    result_->preemptions += static_cast<int64_t>(vc_->preemptions());
    collect();
    return Status::Ok();
  }

 private:
  // More GPUs or nodes than the cluster has (of the job's model, if it names one).
  bool too_large(const core::JobRequest& r) const {
    const core::Cluster& c = vc_->engine().cluster();
    const int per_node = r.gpus / r.nodes;
    return r.nodes * per_node_ < r.gpus || r.gpus > total_gpus_ ||
           per_node > c.max_gpus_per_node(r.gpu_model) ||
           (r.nodes > 1 && r.nodes > c.gang_capacity(r.gpu_model, per_node));
  }

  // A submit the engine refused for another reason: counted, the first few noted with why.
  void refused(const TraceJob& t, const Status& why) {
    if (result_->skipped_refused++ >= kRefusalsNoted) return;
    std::ostringstream note;
    note << "job " << t.id << " refused at submit: " << why.message();
    result_->notes.push_back(note.str());
  }

  core::JobRequest request(const TraceJob& t, ProjectId project) {
    core::JobRequest r;
    r.project = project;
    r.name = "t" + t.id;  // at most kMaxTraceIdChars + 1, within the engine's limit
    r.gpus = std::max(1, t.gpus);
    r.nodes = t.nodes > 0 ? t.nodes : (r.gpus + per_node_ - 1) / std::max(1, per_node_);
    if (r.gpus % r.nodes != 0) r.gpus = (r.gpus / r.nodes + 1) * r.nodes;  // counted once accepted
    r.gpu_model = t.gpu_model;
    if (!r.gpu_model.empty() && !vc_->engine().cluster().has_model(r.gpu_model))
      r.gpu_model.clear();
    const bool oracle = config_.estimates == Estimates::kOracle || config_.policy == Policy::kSjf;
    r.time_limit_s = t.time_limit_s;
    // Without a limit the job runs for as long as it ran (the partition is longer than any),
    // but its money is held for the scheme's hold_hours only (docs/sim.md).
    if (config_.economics && t.time_limit_s == 0)
      r.hold_s = config_.economics->hold_hours * kSecondsPerHour;
    if (oracle) r.estimate_s = std::max<int64_t>(1, t.runtime_s);
    r.requeue =
        config_.policy == Policy::kDefault && config_.demote_after_gpu_s > 0;  // it checkpoints
    return r;
  }

  Result<ProjectId> project_for(const std::string& tenant) {
    if (auto it = projects_.find(tenant); it != projects_.end()) return it->second;
    core::Engine& e = vc_->engine();
    // The engine's names are restricted (no numbers, few symbols) and trace tenants are any
    // text, so the engine knows each by a number; messages name it as the trace does.
    const std::string name = "tenant-" + std::to_string(projects_.size() + 1);
    const std::string trace_name = tenant.empty() ? "(none)" : tenant;  // for messages
    BERTH_ASSIGN_OR_RETURN(auto org, e.create_org(name, core::OrgKind::kUniversity, vc_->now_ms()));
    BERTH_ASSIGN_OR_RETURN(auto project, e.create_project(org.id, name, vc_->now_ms()));
    if (config_.economics) {
      auto it = config_.economics->tenants.find(tenant);
      const TenantMoney& m =
          it != config_.economics->tenants.end() ? it->second : config_.economics->others;
      if (m.award_minor > 0) {
        auto award = e.create_award(scheme_, project.id, m.award_minor, m.gpu_level, origin_ms_,
                                    origin_ms_ + m.award_days * kMsPerDay, vc_->now_ms());
        if (!award.ok())
          return Status::Invalid("economics: award for tenant '" + trace_name +
                                 "': " + award.status().message());
        awards_[project.id.value] = award->id;
      }
      if (m.wallet_minor > 0) {
        auto topup = e.top_up(project.id, m.wallet_minor, "", vc_->now_ms());
        if (!topup.ok())
          return Status::Invalid("economics: wallet for tenant '" + trace_name +
                                 "': " + topup.status().message());
      }
      // No pass for this: an award or wallet of a new tenant changes nothing for jobs already
      // waiting, and its first job's submit asks for one.
    }
    tenants_[project.id.value] = tenant;
    projects_[tenant] = project.id;
    return project.id;
  }

  // Moves the clock one event time at a time, so that a job seen waiting for money is seen at
  // the time of the pass that left it waiting. The passes are the same with or without money
  // (VirtualCluster runs one per event time however far it is advanced).
  Status advance_to(int64_t at_ms) {
    vc_->flush();
    drain();
    for (auto next = vc_->next_event_ms(); next && *next <= at_ms; next = vc_->next_event_ms()) {
      BERTH_RETURN_IF_ERROR(vc_->advance_to(*next));
      drain();
    }
    BERTH_RETURN_IF_ERROR(vc_->advance_to(at_ms));
    drain();
    return Status::Ok();
  }

  // Jobs that waited for money, and why, and those its award's money fell short for, seen as
  // their rows change.
  void drain() {
    if (!config_.economics) return;
    const core::ChangeSet changes = vc_->engine().drain_changes();
    for (const core::Job& j : changes.jobs) {
      if (short_of_award_money(j)) short_of_money_.insert({j.id.value, vc_->now_ms()});
      if (j.state != core::JobState::kPending || !core::waits_for_money(j.reason)) continue;
      waited_.insert({j.id.value, vc_->now_ms()});
      waited_for_[j.id.value] |= 1u << static_cast<unsigned>(j.reason);
    }
  }

  // Whether its tenant's award, valid now, lacked the money for the job's share: it waits for
  // funds, or it has just started on its wallet alone though within the award's GPU level while
  // the award cannot cover its share (not because the award's GPUs were all in use).
  bool short_of_award_money(const core::Job& j) const {
    if (j.state == core::JobState::kPending)
      return j.reason == core::PendingReason::kInsufficientFunds;
    if (j.state != core::JobState::kRunning || j.award.valid() || j.start_ms != vc_->now_ms())
      return false;
    auto a = awards_.find(j.project.value);
    if (a == awards_.end()) return false;
    const core::Engine& e = vc_->engine();
    const core::Award* award = e.funding().award(a->second);
    return award->active_at(j.start_ms) && j.gpus <= award->gpu_level &&
           e.ledger().account(award->account)->available() <
               subsidy_share_minor(j.max_cost_minor, award->rate_bps);
  }

  // Counts a job that waited for money (whether it started later or never), under each reason.
  void count_delays(JobId id) {
    auto w = waited_for_.find(id.value);
    if (w == waited_for_.end()) return;
    ++result_->jobs_delayed_by_funds;
    for (int r = 0; r < core::kPendingReasonCount; ++r)
      if (w->second & (1u << r))
        ++result_->delayed_by[core::pending_reason_name(static_cast<core::PendingReason>(r))];
  }

  void collect() {
    const core::Engine& e = vc_->engine();
    std::unordered_map<uint64_t, std::vector<std::pair<int64_t, Minor>>> subsidy_by_award;
    for (size_t k = 0; k < e.jobs().size(); ++k) {
      const core::Job& j = e.jobs()[k];
      count_delays(j.id);
      if (j.start_ms == 0 || j.end_ms == 0) {
        ++result_->never_started;
        continue;
      }
      JobOutcome o;
      o.id = trace_.jobs[trace_index_[k]].id;
      o.tenant = tenants_[j.project.value];
      o.submit_s = (j.submit_ms - origin_ms_) / 1000;
      o.start_s = (vc_->first_start_ms(j.id) - origin_ms_) / 1000;
      o.end_s = (j.end_ms - origin_ms_) / 1000;
      if (const auto& stopped = vc_->stopped_runs_ms(j.id); !stopped.empty()) {
        for (const auto& [from, to] : stopped)
          o.runs_s.push_back({(from - origin_ms_) / 1000, (to - origin_ms_) / 1000});
        o.runs_s.push_back({(j.start_ms - origin_ms_) / 1000, o.end_s});
      }
      o.gpus = j.gpus;
      o.cost_minor = j.cost_minor;
      o.subsidy_minor = j.subsidy_minor;
      o.waited_for_funds = waited_.count(j.id.value) > 0;
      result_->jobs.push_back(o);
      if (!config_.economics) continue;
      json& t = result_->money[o.tenant.empty() ? "(none)" : o.tenant];
      if (t.is_null())
        t = {{"cost_minor", 0},
             {"subsidy_minor", 0},
             {"copay_minor", 0},
             {"award_ran_out_s", nullptr}};
      t["cost_minor"] = t["cost_minor"].get<int64_t>() + j.cost_minor;
      t["subsidy_minor"] = t["subsidy_minor"].get<int64_t>() + j.subsidy_minor;
      t["copay_minor"] = t["copay_minor"].get<int64_t>() + j.copay_minor;
      // The award ran out when a job of its tenant first could not be subsidised for want of
      // the award's money while it was valid: it started paying all from the wallet, or it
      // waited for money (short_of_award_money).
      if (auto a = awards_.find(j.project.value); a != awards_.end()) {
        const core::Award* award = e.funding().award(a->second);
        int64_t short_at_ms = -1;
        if (auto w = short_of_money_.find(j.id.value); w != short_of_money_.end())
          short_at_ms = w->second;
        if (short_at_ms >= 0 && award->active_at(short_at_ms)) {
          const int64_t at_s = (short_at_ms - origin_ms_) / 1000;
          json& ran_out = t["award_ran_out_s"];
          if (ran_out.is_null() || ran_out.get<int64_t>() > at_s) ran_out = at_s;
        }
        if (j.subsidy_minor > 0)
          subsidy_by_award[a->second.value].push_back({o.end_s, j.subsidy_minor});
      }
    }
    for (const auto& [project, award_id] : awards_) {
      const core::Award* award = e.funding().award(award_id);
      AwardSeries series;
      series.tenant = tenants_[project];
      auto& spent = subsidy_by_award[award_id.value];
      std::sort(spent.begin(), spent.end());
      Minor left = award->amount_minor;
      series.left_minor.push_back({0, left});
      for (const auto& [at_s, amount] : spent) {
        left -= amount;
        if (!series.left_minor.empty() && series.left_minor.back().first == at_s)
          series.left_minor.back().second = left;
        else
          series.left_minor.push_back({at_s, left});
      }
      result_->awards.push_back(std::move(series));
    }
  }

  using json = nlohmann::json;
  const Trace& trace_;
  const ReplayConfig& config_;
  ReplayResult* result_;
  std::unique_ptr<VirtualCluster> vc_;
  int64_t origin_ms_ = 0;
  int per_node_ = 1;
  int64_t total_gpus_ = 0;
  SchemeId scheme_;
  std::vector<size_t> trace_index_;  // engine job id - 1 -> trace index
  std::unordered_map<std::string, ProjectId> projects_;
  std::unordered_map<uint64_t, std::string> tenants_;  // project id -> tenant
  std::map<uint64_t, AwardId> awards_;                 // project id -> award
  std::unordered_map<uint64_t, int64_t> waited_;  // job id -> when first seen waiting for money
  std::unordered_map<uint64_t, unsigned> waited_for_;     // job id -> money reasons seen (bit each)
  std::unordered_map<uint64_t, int64_t> short_of_money_;  // job id -> when its award fell short
};

}  // namespace

const char* policy_name(Policy p) { return kPolicyNames.name(p, "?"); }

bool parse_policy(const std::string& text, Policy* out) {
  return kPolicyNames.parse_into(text, out);
}

Result<std::vector<Policy>> parse_policies(const std::string& text) {
  std::vector<Policy> out;
  if (text == "all") {
    for (const EnumName<Policy>& p : kPolicyNames.entries()) out.push_back(p.value);
    return out;
  }
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string word = text.substr(start, comma - start);
    Policy p;
    if (!parse_policy(word, &p))
      return Status::Invalid("unknown policy '" + word + "' (" + kPolicyNames.list() + " or all)");
    if (std::find(out.begin(), out.end(), p) != out.end())
      return Status::Invalid("policy '" + word + "' is given twice");
    out.push_back(p);
    start = comma + 1;
  }
  return out;
}

const char* estimates_name(Estimates e) { return kEstimatesNames.name(e, "?"); }

bool parse_estimates(const std::string& text, Estimates* out) {
  return kEstimatesNames.parse_into(text, out);
}

Result<ReplayResult> replay(const Trace& trace, const ReplayConfig& config) {
  if (config.cluster.nodes.empty()) return Status::Invalid("the simulated cluster has no nodes");
  ReplayResult result;
  result.start_epoch_s = trace.start_epoch_s;
  result.money = nlohmann::json::object();
  int64_t done = 0;
  const int64_t total = static_cast<int64_t>(trace.jobs.size());
  if (config.pools.empty()) {
    std::vector<size_t> all(trace.jobs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    PoolReplay pool(trace, config, &result);
    BERTH_RETURN_IF_ERROR(pool.run(config.cluster, all, &done, total));
  } else {
    std::unordered_map<std::string, std::vector<size_t>> by_tenant;
    for (size_t i = 0; i < trace.jobs.size(); ++i) by_tenant[trace.jobs[i].tenant].push_back(i);
    for (const auto& [tenant, nodes] : config.pools) {
      auto it = by_tenant.find(tenant);
      if (it == by_tenant.end() || nodes <= 0) continue;
      core::ClusterConfig cluster;
      const core::Node& like = config.cluster.nodes.front();
      for (int n = 0; n < nodes; ++n) {
        core::Node node = like;
        node.id = NodeId();
        node.name = tenant + "-" + std::to_string(n + 1);
        cluster.nodes.push_back(node);
      }
      PoolReplay pool(trace, config, &result);
      BERTH_RETURN_IF_ERROR(pool.run(cluster, it->second, &done, total));
      by_tenant.erase(it);
    }
    for (const auto& [tenant, jobs] : by_tenant)
      result.skipped_no_pool += static_cast<int64_t>(jobs.size());
    // A tenant's pool without jobs still counts toward capacity.
    // A pair, not a structured binding: clang 14 (the fuzz build's) cannot capture one in a lambda.
    for (const auto& pool : config.pools)
      if (std::none_of(trace.jobs.begin(), trace.jobs.end(),
                       [&](const TraceJob& j) { return j.tenant == pool.first; }))
        result.total_gpus += int64_t{pool.second} * config.cluster.nodes.front().gpus;
    std::stable_sort(
        result.jobs.begin(), result.jobs.end(),
        [](const JobOutcome& a, const JobOutcome& b) { return a.submit_s < b.submit_s; });
  }
  if (result.skipped_refused > kRefusalsNoted)
    result.notes.push_back(std::to_string(result.skipped_refused - kRefusalsNoted) +
                           " more jobs refused at submit");
  if (config.progress) config.progress(total, total);
  return result;
}

}  // namespace berth::sim
