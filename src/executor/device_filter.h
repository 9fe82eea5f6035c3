// Only a job's own GPUs on cgroup v2, which has no devices files: a BPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the job's cgroup (as runc and crun do), assembled
// here from a handful of instructions (no libbpf, no compiler).
//
// The rule is cgroup v1's (cgroup_v1.cc): every device may be opened but the character devices
// of `major` (NVIDIA's, 195), of which only the job's GPUs' minors and nvidiactl (255) may.
// The program is attached with BPF_F_ALLOW_MULTI, so a filter above (systemd's) still applies.
// It lives as long as the cgroup: the descriptor is closed once attached.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::executor {

// Attaches the filter to the cgroup folder `dir` (v2), allowing `gpus` (minors of `major`).
// Unavailable, saying why, where the kernel refuses (no CONFIG_CGROUP_BPF, not root).
Status attach_device_filter(const std::string& dir, const std::vector<int>& gpus, int major);

// Whether this kernel loads such a program (a probe, once at start).
Status device_filter_supported();

}  // namespace berth::executor
