// Runtime prediction for backfill, from a project's own finished jobs.
//
// A job submitted without a time limit gets its partition's default, usually far longer than
// it runs; planning backfill with that limit wastes the holes backfill exists to fill. As
// Tsafrir, Etsion and Feitelson found for EASY (IEEE TPDS 2007), the mean of a user's last
// two runtimes predicts well; berth keys it by project and GPU count (a project's 1-GPU
// experiments and 64-GPU training runs differ), falling back to the project's last two
// runtimes of any size. A prediction is only a plan: the time limit still ends the job.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "common/ids.h"

namespace berth::core {

class RuntimePredictor {
 public:
  // A job of the project on `gpus` GPUs ran for runtime_s (it ended on its own or at its limit).
  void record(ProjectId project, int gpus, int64_t runtime_s);
  // The predicted runtime of its next job of that size, or nullopt without history.
  std::optional<int64_t> predict(ProjectId project, int gpus) const;

 private:
  struct Recent {
    int64_t last[2] = {0, 0};
    int count = 0;  // 0, 1 or 2 runtimes held
    void add(int64_t runtime_s);
    int64_t mean() const;
  };
  static uint64_t size_key(ProjectId project, int gpus) {
    return project.value << 16 | static_cast<uint64_t>(gpus & 0xffff);
  }
  std::unordered_map<uint64_t, Recent> by_project_;
  std::unordered_map<uint64_t, Recent> by_size_;
};

}  // namespace berth::core
