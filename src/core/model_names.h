// Names users type for the cluster's GPU models, and how they are matched.
//
// GPU model names match whatever their case (`--gres=gpu:a100:2` asks for A100): this is the
// one place that matches a model a user typed. Pure functions of the cluster, no I/O.
#pragma once

#include <string>

#include "common/status.h"
#include "core/cluster.h"

namespace berth::core {

// The constraint ("h100", "a100|H100", "" for any) with each model as the cluster spells it
// ("H100", "A100|H100"). An error names the model no node has and lists those the cluster has.
Result<std::string> canonical_model_constraint(const Cluster& cluster,
                                               const std::string& constraint);

// Whether two GPU model names are the same model.
bool same_model_name(const std::string& a, const std::string& b);

}  // namespace berth::core
