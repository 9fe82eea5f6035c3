// deploy/berth-agent.toml.example, the agent configuration the README's install section
// starts from, is one berth-agent accepts as it stands.
#include <gtest/gtest.h>

#include "agent/agent_config.h"

namespace berth::agent {
namespace {

TEST(DeployExampleTest, TheAgentsExampleConfigurationLoadsAndIsValid) {
  auto config =
      load_agent_config(std::string(BERTH_SOURCE_DIR) + "/deploy/berth-agent.toml.example");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(validate(*config).ok()) << validate(*config).message();
  EXPECT_EQ(config->node, "gpu-node-01");
  EXPECT_TRUE(config->tls());
}

}  // namespace
}  // namespace berth::agent
