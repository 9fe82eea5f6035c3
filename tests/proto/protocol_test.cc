#include "proto/protocol.h"

#include <gtest/gtest.h>

#include "common/version.h"

namespace berth::proto {
namespace {

TEST(ProtocolTest, TheVersionsThisBerthdSpeaksAreTaken) {
  for (uint32_t p = kMinAgentProtocol; p <= kAgentProtocol; ++p)
    EXPECT_EQ(protocol_refusal(p, "gpu-node-07", kBerthVersion), "");
}

TEST(ProtocolTest, AnotherVersionIsRefusedNamingTheAgentBothVersionsAndWhatToDo) {
  const std::string older = protocol_refusal(kMinAgentProtocol - 1, "gpu-node-07", "0.0.1");
  EXPECT_NE(older.find("berth-agent 0.0.1 on gpu-node-07 speaks protocol " +
                       std::to_string(kMinAgentProtocol - 1)),
            std::string::npos)
      << older;
  EXPECT_NE(older.find(std::string("this berthd (") + kBerthVersion + ") accepts"),
            std::string::npos);
  EXPECT_NE(older.find("upgrade the agent"), std::string::npos);
  const std::string newer = protocol_refusal(kAgentProtocol + 1, "gpu-node-07", "9.0.0");
  EXPECT_NE(newer.find("upgrade berthd"), std::string::npos) << newer;
}

}  // namespace
}  // namespace berth::proto
