// The Engine's pricing: checking a job request against the cluster and its partition (its
// GPUs, time, CPUs and memory), and what a job costs and who pays for it (quote, and price at
// a given GPU model).
#include <algorithm>
#include <limits>

#include "core/check.h"
#include "core/engine.h"
#include "core/model_names.h"

namespace berth::core {

namespace {
constexpr size_t kMaxJobNameChars = 256;
}  // namespace

Status Engine::validate_request(const JobRequest& r, const Partition** partition) const {
  const Project* p = funding_.project(r.project);
  if (!p) return Status::NotFound("project " + std::to_string(r.project.value) + " not found");
  if (r.gpus < 1)
    return Status::Invalid("a job needs at least 1 GPU, got " + std::to_string(r.gpus));
  if (r.nodes < 1)
    return Status::Invalid("a job needs at least 1 node, got " + std::to_string(r.nodes));
  if (r.gpus % r.nodes != 0)
    return Status::Invalid("a job on " + std::to_string(r.nodes) +
                           " nodes needs the same GPUs on each: " + std::to_string(r.gpus) +
                           " GPUs do not divide evenly");
  if (r.name.size() > kMaxJobNameChars)
    return Status::Invalid("job name is longer than 256 characters");
  if (!r.gpu_model.empty() && !cluster_.has_model(r.gpu_model))
    return Status::Invalid("no node has GPU model '" + r.gpu_model + "'");
  const int per_node = r.gpus / r.nodes;
  const int largest = cluster_.max_gpus_per_node(r.gpu_model);
  if (per_node > largest)
    return Status::Invalid("the job asks for " + std::to_string(per_node) +
                           " GPUs per node but the largest node" +
                           (r.gpu_model.empty() ? "" : " of model " + r.gpu_model) + " has " +
                           std::to_string(largest));
  if (r.nodes > 1) {
    const int suitable = cluster_.gang_capacity(r.gpu_model, per_node);
    if (r.nodes > suitable)
      return Status::Invalid("the job asks for " + std::to_string(r.nodes) + " nodes with " +
                             std::to_string(per_node) + " GPUs but the cluster has " +
                             std::to_string(suitable) +
                             (r.gpu_model.empty() ? "" : " of model " + r.gpu_model));
  }
  BERTH_RETURN_IF_ERROR(
      resolve_node_choice(cluster_, r.node_names, r.gpu_model, r.nodes, per_node).status());
  if (r.estimate_s < 0) return Status::Invalid("runtime estimate must not be negative");
  if (r.hold_s < 0) return Status::Invalid("hold time must not be negative");
  const Partition* part = cluster_.partition(r.partition);
  if (!part) return Status::Invalid("partition '" + r.partition + "' does not exist");
  BERTH_RETURN_IF_ERROR(check_box_request(r.box));
  BERTH_RETURN_IF_ERROR(check_box_fits(cluster_, r.gpu_model, r.nodes, per_node,
                                       job_box(r.box, r.nodes, per_node, part->box_defaults)));
  if (r.time_limit_s < 0) return Status::Invalid("time limit must not be negative");
  if (r.time_limit_s > part->max_time_s)
    return Status::Invalid("time limit " + std::to_string(r.time_limit_s) +
                           " s is over partition '" + part->name + "' limit of " +
                           std::to_string(part->max_time_s) + " s");
  // The most the job could cost, at the dearest price, must be an amount the ledger can hold.
  const int64_t limit_s = r.time_limit_s > 0 ? r.time_limit_s : part->default_time_s;
  Minor dearest = 0;
  for (const GpuPrice& p : cluster_.prices()) dearest = std::max(dearest, p.per_gpu_hour_minor);
  if (r.tier == Tier::kSpot)
    dearest = mul_div_floor(dearest, scheduling_.spot_price_bps, 10'000);  // as price() does
  if (dearest < 0 || limit_s > std::numeric_limits<int64_t>::max() / 1000 ||
      gpu_cost_minor(dearest, r.gpus, limit_s * 1000) < 0)
    return Status::Invalid("the job's maximum cost (" + std::to_string(r.gpus) + " GPUs for " +
                           std::to_string(limit_s) + " s) is too large to hold");
  *partition = part;
  return Status::Ok();
}

Quote Engine::price(const Job& job, const std::string& gpu_model, int64_t now_ms) const {
  Quote q;
  q.gpu_model = gpu_model;
  q.time_limit_s = job.time_limit_s;
  q.price_per_gpu_hour_minor = cluster_.price(gpu_model).value_or(0);
  if (job.tier == Tier::kSpot)
    q.price_per_gpu_hour_minor =
        mul_div_floor(q.price_per_gpu_hour_minor, scheduling_.spot_price_bps, 10'000);
  q.max_cost_minor = gpu_cost_minor(q.price_per_gpu_hour_minor, job.gpus, job.held_s() * 1000);
  BERTH_CHECK(q.max_cost_minor >= 0, "max cost overflow");
  const Project* p = funding_.project(job.project);
  // The wallet's credit limit counts: a job is held while the wallet plus its credit covers it.
  const Minor wallet_left = ledger_.account(p->wallet)->spendable();
  q.subsidy_minor = 0;
  // The sources in the project's order: the first that can pay its share pays it. A source
  // whose GPU level is below the job's GPUs never pays for it (the wallet does, whatever the
  // scheme's rule: waiting would be for ever). One that cannot pay now is passed over, and the
  // next is tried, then the first's scheme rule decides; it cannot pay when a progress report
  // is overdue, when the GPUs of the running jobs it pays for plus this job's would go over its
  // level (AwardCap), or when it cannot cover the share.
  const Award* first = nullptr;
  PendingReason first_short = PendingReason::kInsufficientFunds;  // why the first did not pay
  auto try_source = [&](const Award* a) {
    if (job.gpus > a->gpu_level) return false;
    PendingReason shortfall = PendingReason::kNone;
    if (a->report_every_months > 0 && report_standing(a->id, now_ms).overdue()) {
      if (!q.report_overdue_award.valid()) q.report_overdue_award = a->id;
      shortfall = PendingReason::kProgressReportOverdue;
    } else if (jobs_.gpus_of(a->id) + job.gpus > a->gpu_level) {
      shortfall = PendingReason::kAwardCap;
    } else if (ledger_.account(a->account)->available() <
               subsidy_share_minor(q.max_cost_minor, a->rate_bps)) {
      shortfall = PendingReason::kInsufficientFunds;
    }
    if (!first) {
      first = a;
      first_short = shortfall;
    }
    if (shortfall != PendingReason::kNone) return false;
    q.award = a->id;
    q.rate_bps = a->rate_bps;
    q.subsidy_minor = subsidy_share_minor(q.max_cost_minor, a->rate_bps);
    return true;
  };
  bool paid = false;
  if (funding_.funding_order(job.project).empty()) {  // the common case, without building a list
    for (AwardId id : funding_.awards_of(job.project)) {
      const Award* a = funding_.award(id);
      if (a->active_at(now_ms) && try_source(a)) {
        paid = true;
        break;
      }
    }
  } else {
    for (const Award* a : funding_.active_sources(job.project, now_ms))
      if (try_source(a)) {
        paid = true;
        break;
      }
  }
  if (!paid && first && funding_.scheme(first->scheme)->shortfall == Shortfall::kWait)
    q.reason = first_short;
  q.copay_minor = q.max_cost_minor - q.subsidy_minor;
  if (q.reason == PendingReason::kNone && wallet_left < q.copay_minor)
    q.reason = PendingReason::kInsufficientFunds;
  q.affordable = q.reason == PendingReason::kNone;
  return q;
}

Result<const JobRequest*> Engine::with_canonical_model(const JobRequest& request,
                                                       JobRequest* storage) const {
  if (request.gpu_model.empty()) return &request;
  BERTH_ASSIGN_OR_RETURN(std::string model,
                         canonical_model_constraint(cluster_, request.gpu_model));
  if (model == request.gpu_model) return &request;
  *storage = request;
  storage->gpu_model = std::move(model);
  return storage;
}

Result<Quote> Engine::quote(const JobRequest& asked, int64_t now_ms) const {
  JobRequest storage;
  BERTH_ASSIGN_OR_RETURN(const JobRequest* canonical, with_canonical_model(asked, &storage));
  const JobRequest& request = *canonical;
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(validate_request(request, &part));
  Job job;
  job.project = request.project;
  job.gpus = request.gpus;
  job.nodes = request.nodes;
  job.time_limit_s = request.time_limit_s > 0 ? request.time_limit_s : part->default_time_s;
  job.estimate_s = estimate(request, job.time_limit_s);
  job.hold_s = request.hold_s;
  job.tier = request.tier;
  job.node_choice = resolve_node_choice(cluster_, request.node_names, request.gpu_model,
                                        request.nodes, request.gpus / request.nodes)
                        .value();
  // Quote the dearest model the job could run on (of those its constraint and chosen nodes allow).
  const std::vector<int>& allowed = cluster_.models_for(request.gpu_model);
  const bool any = allowed.size() == 1 && allowed[0] < 0;
  std::string model = any || allowed.empty() ? std::string() : cluster_.model_name(allowed.back());
  Minor best = -1;
  for (const Node& n : cluster_.nodes()) {
    const Minor p = cluster_.price(n.gpu_model).value_or(0);
    const bool ok = any || std::find(allowed.begin(), allowed.end(),
                                     cluster_.model_index(n.gpu_model)) != allowed.end();
    if (ok && job.node_choice.allows(n.id) && n.gpus >= request.gpus / request.nodes &&
        n.state != NodeState::kDown && p > best) {
      best = p;
      model = n.gpu_model;
    }
  }
  job.gpu_model = request.gpu_model;
  Quote q = price(job, model, now_ms);
  int64_t at = 0;
  if (scheduler_.earliest_start(
          cluster_, job, now_ms, [this](JobId id) -> const Job& { return jobs_.at(id); }, &at))
    q.earliest_start_ms = at;
  return q;
}

}  // namespace berth::core
