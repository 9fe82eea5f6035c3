// The agent protocol's version numbers (src/proto/agent.proto), in one place.
//
// An agent sends kAgentProtocol in its Register; berthd takes protocols from kMinAgentProtocol
// to kAgentProtocol and refuses any other with a message naming both sides' versions.
#pragma once

#include <cstdint>
#include <string>

namespace berth::proto {

inline constexpr uint32_t kAgentProtocol = 1;
inline constexpr uint32_t kMinAgentProtocol = 1;

// Why an agent speaking `protocol` is refused, or "" when berthd takes it. `node` and
// `agent_version` name the agent in the message ("berth-agent 0.8.0 on gpu-node-07 speaks
// protocol 2; this berthd (0.9.0) accepts 3 to 4: upgrade the agent").
std::string protocol_refusal(uint32_t protocol, const std::string& node,
                             const std::string& agent_version);

}  // namespace berth::proto
