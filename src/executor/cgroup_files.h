// The few file operations cgroup_v1.cc and cgroup_v2.cc share: a control file written or read,
// a folder made or removed, the processes a cgroup lists killed. Internal to src/executor.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::executor::cgroup_files {

// Writes `text` to `dir`/`file` (appending, so that a test's temporary tree keeps every write;
// a kernel control file takes each write whole). Errors name the file, the folder and errno.
Status write(const std::string& dir, const std::string& file, const std::string& text);
// A control file's text, or "" when it cannot be read.
std::string read(const std::string& path);
// Makes `path` and the folders above it that are missing (mode 0755).
Status make_dirs(const std::string& path);
// Removes the folder `path` (already gone is fine), retrying for about a second while the
// kernel says its processes have not all exited (EBUSY).
Status remove_dir(const std::string& path);
// The names of the folders in `dir` (none when it cannot be read).
std::vector<std::string> subfolders(const std::string& dir);
// Whether `dir` is a folder.
bool is_dir(const std::string& dir);
// SIGKILLs every pid listed in a cgroup.procs file; returns how many were listed.
int kill_listed(const std::string& procs_path);
// Sleeps `ms` milliseconds (the sweep's short waits for the kernel).
void pause_ms(int ms);

}  // namespace berth::executor::cgroup_files
