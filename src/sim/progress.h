// Progress: a one-line terminal progress bar for long replays.
//
// It draws only when its stream is a terminal (isatty), so redirected output and logs stay
// clean, and it never reads a clock: it redraws when the whole percentage changes (at most 101
// times a run), which is rare enough for any replay and keeps results independent of timing.
// Writes go to `out` only; a Progress that never drew writes nothing, not even in finish().
// Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace berth::sim {

class Progress {
 public:
  // Draws on `out` when it is a terminal. `total` <= 0 draws nothing.
  Progress(std::FILE* out, int64_t total, std::string label);
  // As above, with the terminal test made by the caller (tests draw into a file this way).
  Progress(std::FILE* out, int64_t total, std::string label, bool is_terminal);

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` finished (clamped to [0, total]); redraws when the percentage moved.
  void update(int64_t done);
  // Draws 100% and ends the line, if anything was drawn. Later calls do nothing.
  void finish();

 private:
  void draw(int64_t done, int percent);

  std::FILE* out_;
  int64_t total_;
  std::string label_;
  bool enabled_;
  int shown_percent_ = -1;  // the last percentage drawn; -1 before the first draw
  bool finished_ = false;
};

}  // namespace berth::sim
