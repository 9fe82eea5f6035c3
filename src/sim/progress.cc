#include "sim/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace berth::sim {

Progress::Progress(std::FILE* out, int64_t total, std::string label)
    : Progress(out, total, std::move(label), out != nullptr && isatty(fileno(out)) != 0) {}

Progress::Progress(std::FILE* out, int64_t total, std::string label, bool is_terminal)
    : out_(out),
      total_(total),
      label_(std::move(label)),
      enabled_(is_terminal && out != nullptr && total > 0) {}

void Progress::update(int64_t done) {
  if (!enabled_ || finished_) return;
  done = std::clamp<int64_t>(done, 0, total_);
  const int percent = static_cast<int>(done * 100 / total_);
  if (percent == shown_percent_) return;
  draw(done, percent);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (shown_percent_ < 0) return;
  if (shown_percent_ != 100) draw(total_, 100);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::draw(int64_t done, int percent) {
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  // "\r" returns to the line's start; "\x1b[K" clears what a longer earlier line left.
  std::fprintf(out_, "\r%s [%s] %3d%% (%lld/%lld)\x1b[K", label_.c_str(), bar.c_str(), percent,
               static_cast<long long>(done), static_cast<long long>(total_));
  std::fflush(out_);
  shown_percent_ = percent;
}

}  // namespace berth::sim
