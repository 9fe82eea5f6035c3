#include "core/predictor.h"

#include <algorithm>

namespace berth::core {

void RuntimePredictor::Recent::add(int64_t runtime_s) {
  last[1] = last[0];
  last[0] = std::max<int64_t>(runtime_s, 1);
  count = std::min(count + 1, 2);
}

int64_t RuntimePredictor::Recent::mean() const {
  return count == 1 ? last[0] : (last[0] + last[1] + 1) / 2;
}

void RuntimePredictor::record(ProjectId project, int gpus, int64_t runtime_s) {
  by_project_[project.value].add(runtime_s);
  by_size_[size_key(project, gpus)].add(runtime_s);
}

std::optional<int64_t> RuntimePredictor::predict(ProjectId project, int gpus) const {
  if (auto it = by_size_.find(size_key(project, gpus)); it != by_size_.end())
    return it->second.mean();
  if (auto it = by_project_.find(project.value); it != by_project_.end()) return it->second.mean();
  return std::nullopt;
}

}  // namespace berth::core
