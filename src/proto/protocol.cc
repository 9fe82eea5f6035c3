#include "proto/protocol.h"

#include "common/version.h"

namespace berth::proto {

std::string protocol_refusal(uint32_t protocol, const std::string& node,
                             const std::string& agent_version) {
  if (protocol >= kMinAgentProtocol && protocol <= kAgentProtocol) return "";
  const std::string accepts =
      kMinAgentProtocol == kAgentProtocol
          ? std::to_string(kAgentProtocol)
          : std::to_string(kMinAgentProtocol) + " to " + std::to_string(kAgentProtocol);
  return "berth-agent " + agent_version + " on " + node + " speaks protocol " +
         std::to_string(protocol) + "; this berthd (" + kBerthVersion + ") accepts " + accepts +
         ": " + (protocol < kMinAgentProtocol ? "upgrade the agent" : "upgrade berthd");
}

}  // namespace berth::proto
