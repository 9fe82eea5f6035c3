#include "agent/agent_config.h"

#include <gtest/gtest.h>

namespace berth::agent {
namespace {

TEST(AgentConfigTest, ReadsEverySetting) {
  auto c = parse_agent_config(R"(
node = "gpu-node-01"
servers = ["ctl1:8766", "ctl2:8766"]
address = "10.0.0.11"
domain = "rack-a"
gpus = 4
gpu_model = "A100"
cpus = 32
memory_mb = 262144
ca_file = "/etc/berth/ca.crt"
cert_file = "/etc/berth/node.crt"
key_file = "/etc/berth/node.key"
)",
                              "agent.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node, "gpu-node-01");
  EXPECT_EQ(c->servers, (std::vector<std::string>{"ctl1:8766", "ctl2:8766"}));
  EXPECT_EQ(c->address, "10.0.0.11");
  EXPECT_EQ(c->domain, "rack-a");
  EXPECT_EQ(c->gpus, 4);
  EXPECT_EQ(c->gpu_model, "A100");
  EXPECT_EQ(c->cpus, 32);
  EXPECT_EQ(c->memory_mb, 262144);
  EXPECT_EQ(c->ca_file, "/etc/berth/ca.crt");
  EXPECT_EQ(c->cert_file, "/etc/berth/node.crt");
  EXPECT_EQ(c->key_file, "/etc/berth/node.key");
  EXPECT_TRUE(c->tls());
  EXPECT_TRUE(validate(*c).ok());
}

TEST(AgentConfigTest, DefaultsToTheLocalBerthd) {
  auto c = parse_agent_config("node = \"n1\"\n", "agent.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->servers, (std::vector<std::string>{"127.0.0.1:8766"}));
  EXPECT_TRUE(validate(*c).ok());
}

TEST(AgentConfigTest, AnUnknownSettingOrAWrongTypeIsNamed) {
  auto typo = parse_agent_config("nodes = \"n1\"\n", "agent.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("unknown setting 'nodes'"), std::string::npos);
  auto type = parse_agent_config("node = \"n1\"\ngpus = \"eight\"\n", "agent.toml");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("agent.toml"), std::string::npos);
}

TEST(AgentConfigTest, ValidateNamesWhatIsWrong) {
  AgentConfig c;
  EXPECT_NE(validate(c).message().find("node must name this node"), std::string::npos);
  c.node = "n1";
  c.servers = {"ctl1"};
  EXPECT_NE(validate(c).message().find("'ctl1' is not host:port"), std::string::npos);
  c.servers = {"ctl1:70000"};
  EXPECT_NE(validate(c).message().find("'ctl1:70000' is not host:port"), std::string::npos);
  c.servers = {};
  EXPECT_NE(validate(c).message().find("at least one berthd"), std::string::npos);
  c.servers = {"ctl1:8766"};
  c.gpus = 65;
  EXPECT_NE(validate(c).message().find("gpus must be 0 to 64"), std::string::npos);
}

TEST(AgentConfigTest, TheTlsFilesGoTogetherOrNotAtAll) {
  AgentConfig c;
  c.node = "n1";
  EXPECT_TRUE(validate(c).ok()) << "none: plaintext";
  EXPECT_FALSE(c.tls());
  c.ca_file = "ca.crt";
  c.cert_file = "node.crt";
  EXPECT_NE(validate(c).message().find("give all three, or none"), std::string::npos);
  c.key_file = "node.key";
  EXPECT_TRUE(validate(c).ok());
}

}  // namespace
}  // namespace berth::agent
