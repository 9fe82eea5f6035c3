#include "core/priority.h"

#include <algorithm>
#include <cmath>

#include "core/policy/queue_order.h"

namespace berth::core {

namespace {

// Sets one entry's shares and keeps the total right: a new entry was not counted before.
template <typename Map, typename Entry>
void set_entry_shares(Map& all, uint64_t id, int64_t shares, int64_t* total) {
  auto [it, inserted] = all.try_emplace(id);
  Entry& e = it->second;
  const int64_t now = std::max<int64_t>(shares, 0);
  *total += now - (inserted ? 0 : e.shares);
  e.shares = now;
}

}  // namespace

void FairShare::set_shares(OrgId org, int64_t shares) {
  set_entry_shares<decltype(orgs_), Entry>(orgs_, org.value, shares, &org_shares_);
}

void FairShare::set_shares(ProjectId project, int64_t shares) {
  set_entry_shares<decltype(projects_), Entry>(projects_, project.value, shares, &project_shares_);
}

void FairShare::add_usage(OrgId org, ProjectId project, double gpu_seconds) {
  auto add = [](std::unordered_map<uint64_t, Entry>& all, uint64_t id, double u, int64_t* shares) {
    auto [it, inserted] = all.try_emplace(id);
    if (inserted) *shares += it->second.shares;
    it->second.usage += u;
  };
  add(orgs_, org.value, gpu_seconds, &org_shares_);
  add(projects_, project.value, gpu_seconds, &project_shares_);
  org_usage_ += gpu_seconds;
  project_usage_ += gpu_seconds;
}

void FairShare::decay(int64_t now_ms) {
  if (now_ms <= decayed_to_ms_) return;
  if (decayed_to_ms_ > 0 && half_life_s_ > 0) {
    const double k = std::exp2(-static_cast<double>(now_ms - decayed_to_ms_) /
                               (1000.0 * static_cast<double>(half_life_s_)));
    for (auto& [id, e] : orgs_) e.usage *= k;
    for (auto& [id, e] : projects_) e.usage *= k;
    org_usage_ *= k;
    project_usage_ *= k;
  }
  decayed_to_ms_ = now_ms;
}

double FairShare::part(const std::unordered_map<uint64_t, Entry>& all, uint64_t id,
                       double total_usage, int64_t total_shares) {
  auto it = all.find(id);
  if (it == all.end() || total_usage <= 0) return 1.0;
  const double u = it->second.usage / total_usage;
  const double s = total_shares > 0
                       ? static_cast<double>(it->second.shares) / static_cast<double>(total_shares)
                       : 0;
  if (s <= 0) return 0.0;
  return std::exp2(-u / s);
}

double FairShare::factor(OrgId org, ProjectId project) const {
  return 0.5 * (part(orgs_, org.value, org_usage_, org_shares_) +
                part(projects_, project.value, project_usage_, project_shares_));
}

double FairShare::usage(OrgId org) const {
  auto it = orgs_.find(org.value);
  return it == orgs_.end() ? 0 : it->second.usage;
}

double FairShare::usage(ProjectId project) const {
  auto it = projects_.find(project.value);
  return it == projects_.end() ? 0 : it->second.usage;
}

int64_t job_priority(const Job& job, const PriorityWeights& w, double fairshare, int total_gpus,
                     int64_t now_ms) {
  const double age_s = static_cast<double>(std::max<int64_t>(0, now_ms - job.submit_ms)) / 1000.0;
  const double age =
      w.max_age_s > 0 ? std::min(1.0, age_s / static_cast<double>(w.max_age_s)) : 0.0;
  const double tier = job.tier == Tier::kHigh ? 1.0 : job.tier == Tier::kNormal ? 0.5 : 0.0;
  const double size =
      total_gpus > 0 ? std::min(1.0, static_cast<double>(job.gpus) / total_gpus) : 0.0;
  const double p = static_cast<double>(w.age) * age + static_cast<double>(w.fairshare) * fairshare +
                   static_cast<double>(w.tier) * tier + static_cast<double>(w.size) * size;
  return static_cast<int64_t>(std::llround(p));
}

bool demoted(const Job& job, const SchedulerConfig& config, int64_t now_ms) {
  return job.demoted(config.demote_after_gpu_s, now_ms);
}

bool starving(const Job& job, const SchedulerConfig& config, int64_t now_ms) {
  return job.state == JobState::kPending &&
         job.starving(config.starve_after_s, now_ms);
}

int64_t queue_priority(const Job& job, const SchedulerConfig& config, double fairshare,
                       int total_gpus, int64_t now_ms) {
  const QueueInputs in{config.weights,   fairshare, total_gpus, now_ms,
                       demoted(job, config, now_ms), starving(job, config, now_ms)};
  return queue_order_policy(config.order).priority(job, in);
}

const char* queue_order_name(QueueOrder o) { return kQueueOrderNames.name(o, "?"); }

bool parse_queue_order(const std::string& text, QueueOrder* out) {
  return kQueueOrderNames.parse_into(text, out);
}

}  // namespace berth::core
