#include "agent/node_gpus.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace berth::agent {
namespace {

bool contains_ignoring_case(const std::string& text, const std::string& part) {
  return std::search(text.begin(), text.end(), part.begin(), part.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }) != text.end();
}

std::string described(int gpus, const std::string& model) {
  return std::to_string(gpus) + " GPUs" + (model.empty() ? "" : " of model " + model);
}

NodeGpus from_config(const AgentConfig& c, const std::string& why, bool warn) {
  NodeGpus out;
  for (int i = 0; i < c.gpus; ++i) out.gpus.push_back(GpuInfo{i, c.gpu_model, "", i});
  out.model = c.gpu_model;
  out.note = why + ": " + described(c.gpus, c.gpu_model) + " from the configuration";
  out.warn = warn;
  return out;
}

}  // namespace

NodeGpus choose_gpus(const AgentConfig& c, const Result<std::vector<GpuInfo>>& found) {
  if (!found.ok()) {
    const bool absent = found.status().code() == Code::kNotFound;
    return from_config(c, (absent ? "no NVML (" : "NVML failed (") + found.status().message() + ")",
                       !absent);
  }
  NodeGpus out;
  out.gpus = found.value();
  const std::string nvml_model = out.gpus.empty() ? "" : out.gpus.front().model;
  const bool same_model =
      c.gpu_model.empty() || out.gpus.empty() || contains_ignoring_case(nvml_model, c.gpu_model);
  out.model = same_model && !c.gpu_model.empty() ? c.gpu_model : nvml_model;
  out.note = "NVML finds " + described(static_cast<int>(out.gpus.size()), nvml_model);
  std::vector<std::string> differences;
  if (c.gpus > 0 && c.gpus != static_cast<int>(out.gpus.size()))
    differences.push_back("gpus = " + std::to_string(c.gpus));
  if (!same_model) differences.push_back("gpu_model = \"" + c.gpu_model + "\"");
  if (!differences.empty()) {
    out.note += " but the configuration says ";
    for (size_t i = 0; i < differences.size(); ++i) out.note += (i ? " and " : "") + differences[i];
    out.note += ": reporting what NVML finds";
    out.warn = true;
  }
  return out;
}

NodeGpus discover_gpus(const AgentConfig& config, const std::string& library) {
  NodeGpus gpus = choose_gpus(config, find_gpus(library));
  if (gpus.warn)
    spdlog::warn("{}", gpus.note);
  else
    spdlog::info("{}", gpus.note);
  return gpus;
}

}  // namespace berth::agent
