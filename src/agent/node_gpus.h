// Which GPUs the agent registers: what NVML finds (nvml.h), else what the configuration says.
//
// choose_gpus() is the rule, pure so that a test can give it any answer of NVML's:
// - NVML answers: its GPUs are reported, each with its NVML name, UUID and minor number, even
//   where the configuration's `gpus` or `gpu_model` differ; the difference is noted (a warning)
//   and berthd, which schedules the node as configured, drains a node that reports fewer GPUs
//   or another model (src/core/node_agents.cc). The model registered is the configuration's
//   `gpu_model` when NVML's name contains it ("H100" in "NVIDIA H100 80GB HBM3", case aside),
//   since berthd names models by such labels; else NVML's name for GPU 0.
// - No NVML library (a node without NVIDIA's driver, a laptop, a test): the configuration's
//   `gpus` of model `gpu_model`, index and minor number 0, 1, ... (as /dev/nvidiaN numbers
//   them), no UUIDs; noted once, as information.
// - A library that fails (driver not loaded, a missing function): the configuration's figures
//   too, with a warning that says why.
#pragma once

#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/nvml.h"

namespace berth::agent {

struct NodeGpus {
  std::vector<GpuInfo> gpus;
  std::string model;  // Register.gpu_model
  std::string note;   // what the agent logs once at start
  bool warn = false;  // the note is a warning: NVML failed, or differs from the configuration
};

NodeGpus choose_gpus(const AgentConfig& config, const Result<std::vector<GpuInfo>>& found);

// choose_gpus over find_gpus(library), its note logged.
NodeGpus discover_gpus(const AgentConfig& config, const std::string& library = kNvmlLibrary);

}  // namespace berth::agent
