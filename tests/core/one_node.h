// The cluster most engine tests run on: one node "h1" of 8 H100 GPUs at 30.0000 per GPU-hour,
// one default partition "gpu" (24 h at most, 1 h by default).
#pragma once

#include "core/cluster.h"

namespace berth::core {

inline ClusterConfig one_node() {
  ClusterConfig c;
  c.nodes = {Node{NodeId(), "h1", "H100", 8, 64, 1000, NodeState::kUp}};
  c.prices = {{"H100", 300'000}};
  c.partitions = {Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

}  // namespace berth::core
