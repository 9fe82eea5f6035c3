// deploy/berthd.toml.example, the configuration the README's install section starts from,
// is one berthd accepts as it stands.
#include <gtest/gtest.h>

#include "config/config.h"

namespace berth {
namespace {

TEST(DeployExampleTest, BerthdsExampleConfigurationLoadsWithAgentsOverMutualTls) {
  auto config = load_config_file(std::string(BERTH_SOURCE_DIR) + "/deploy/berthd.toml.example");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->agents.listen, "0.0.0.0:8766");
  EXPECT_EQ(config->agents.tls, AgentsTls::kBerthCa);
  EXPECT_EQ(config->state_dir, "/var/lib/berth");
  EXPECT_EQ(config->cluster.nodes.size(), 2u);
}

}  // namespace
}  // namespace berth
