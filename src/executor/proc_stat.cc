#include "executor/proc_stat.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace berth::executor {

std::optional<ProcStat> read_proc_stat(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');  // the command name may itself contain ')' or spaces
  if (paren == std::string::npos) return std::nullopt;
  ProcStat st;
  // Fields 3-5, then 22 (starttime).
  if (std::sscanf(text.c_str() + paren + 1,
                  " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                  &st.state, &st.ppid, &st.pgrp, &st.start_ticks) < 3)
    return std::nullopt;
  return st;
}

bool in_process_tree(int pid, int pgid) {
  if (pid <= 1 || pgid <= 1) return false;
  // Bounded: a tree deeper than this is not a job's.
  for (int hops = 0; hops < 1024 && pid > 1; ++hops) {
    if (pid == pgid) return true;
    const std::optional<ProcStat> st = read_proc_stat(pid);
    if (!st) return false;
    if (st->pgrp == pgid) return true;
    pid = st->ppid;
  }
  return false;
}

}  // namespace berth::executor
