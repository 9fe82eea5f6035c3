// The order pending jobs are considered in: each order is a rule giving a queued job the
// priority the queue sorts by (highest first, then submit time, then id; scheduler.h).
//
// Least attained service (Tiresias's discretised LAS) is not an order of its own but a band
// every order honours: a job that has had demote_after_gpu_s GPU-seconds is `demoted` and
// comes after every job that is not (of its tier under shortest-first, of any tier under the
// others, where tier is only a weight or nothing).
//
// One file per order (multifactor_order.cc, fifo_order.cc, shortest_order.cc); a new order is
// a new file, a value of QueueOrder (priority.h) and a line in queue_order_policy.
#pragma once

#include <cstdint>

#include "core/model.h"
#include "core/priority.h"

namespace berth::core {

// What an order may use besides the job.
struct QueueInputs {
  const PriorityWeights& weights;
  double fairshare;  // the job's organisation and project's fair-share factor (priority.h)
  int total_gpus;    // in the cluster
  int64_t now_ms;
  bool demoted;   // least attained service: behind every job that is not
  bool starving;  // its delay reached the starvation limit: ahead of every job that has not
};

class QueueOrderPolicy {
 public:
  virtual ~QueueOrderPolicy() = default;
  virtual int64_t priority(const Job& job, const QueueInputs& in) const = 0;
};

// Below any multifactor priority (weights are at most 1e9 each): a demoted job's offset.
inline constexpr int64_t kDemotedOffset = int64_t{1} << 50;

const QueueOrderPolicy& multifactor_order();  // Slurm's multifactor priority, then submit time
const QueueOrderPolicy& fifo_order();         // submit time only
const QueueOrderPolicy& shortest_order();     // tier, then smallest planned GPU-time

const QueueOrderPolicy& queue_order_policy(QueueOrder order);

}  // namespace berth::core
