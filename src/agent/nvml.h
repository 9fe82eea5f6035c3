// The node's GPUs as NVIDIA's management library (NVML) sees them, loaded at run time.
//
// berth has no build dependency on CUDA or NVML: find_gpus() dlopens the library (by default
// "libnvidia-ml.so.1", found as the dynamic loader finds any library), looks up the few functions
// it needs (declared in nvml.cc, as NVML's ABI has them), lists the devices and unloads it again.
// A node without NVIDIA's driver has no such library: NotFound, and the agent takes its GPUs
// from its configuration (node_gpus.h). Not thread-safe against another NVML user in the same
// process (nvmlInit/nvmlShutdown are counted by NVML itself); the agent calls it once at start.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace berth::agent {

// The library's name as NVIDIA's driver installs it.
inline constexpr const char* kNvmlLibrary = "libnvidia-ml.so.1";
// More devices than this on one node is taken as a broken answer.
inline constexpr int kMaxGpusPerNode = 64;

// One GPU: its NVML index, name ("NVIDIA H100 80GB HBM3"), UUID ("GPU-…") and the minor number
// of its /dev/nvidiaN (the device cgroup allows or denies char 195:minor).
struct GpuInfo {
  int index = 0;
  std::string model;
  std::string uuid;
  int minor = 0;
};

// Every GPU NVML reports, in index order. NotFound when the library cannot be loaded (no
// NVIDIA driver: dlerror's text), Unavailable when it loads but lacks a function or NVML fails
// (nvmlErrorString's text, e.g. "Driver Not Loaded").
Result<std::vector<GpuInfo>> find_gpus(const std::string& library = kNvmlLibrary);

}  // namespace berth::agent
