// A process's place in the process tree, read from /proc/<pid>/stat.
#pragma once

#include <optional>

namespace berth::executor {

struct ProcStat {
  char state = 0;  // 'R', 'S', 'Z', ...
  int ppid = 0;
  int pgrp = 0;
  unsigned long long start_ticks = 0;  // clock ticks after boot: with the pid, who it is
};

// Nothing for a process that is gone (or a /proc that cannot be read).
std::optional<ProcStat> read_proc_stat(int pid);

// Whether process `pid` is in process group `pgid` or descends from its leader (pid `pgid`):
// a process of a job, even one that moved to a group of its own.
bool in_process_tree(int pid, int pgid);

}  // namespace berth::executor
