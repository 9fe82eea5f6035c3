#include "config/config.h"

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth {
namespace {

// A centre of one node, after the settings a test gives.
constexpr char kOneNode[] =
    "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"30\"\n"
    "[[nodes]]\nname = \"n1\"\ngpu_model = \"H100\"\ngpus = 8\n[[partitions]]\nname = \"gpu\"\n";

TEST(ConfigTest, EmbeddedDefaultIsOneNodeOfEightGpus) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8765);
  ASSERT_EQ(c->cluster.nodes.size(), 1u);
  EXPECT_EQ(c->cluster.nodes[0].gpus, 8);
  ASSERT_EQ(c->cluster.prices.size(), 1u);
  EXPECT_EQ(c->cluster.prices[0].per_gpu_hour_minor, 300'000);
  EXPECT_EQ(c->cluster.partitions[0].max_time_s, 7 * 24 * 3600);
  EXPECT_EQ(c->grace_ms, 10'000);
  EXPECT_EQ(c->scheduling.demote_after_gpu_s, 0);  // least attained service is opt-in
  EXPECT_EQ(c->scheduling.preempt_exempt_s, 0);
}

// The embedded node's 16 CPUs and 64 GB shared by its 8 GPUs: a job that asks for no CPUs or
// memory gets a GPU's share of each, so that one job cannot take the whole machine.
TEST(ConfigTest, TheEmbeddedPartitionGivesAJobItsGpusShareOfTheNode) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const core::BoxDefaults& d = c->cluster.partitions[0].box_defaults;
  EXPECT_EQ(d.cpus_per_gpu, 2);
  EXPECT_EQ(d.mem_per_gpu_mb, 8192);
  EXPECT_EQ(d.mem_per_cpu_mb, 0);
  const core::Node& n = c->cluster.nodes[0];
  EXPECT_EQ(d.cpus_per_gpu * n.gpus, n.cpus);
  EXPECT_EQ(d.mem_per_gpu_mb * n.gpus, n.memory_mb);
  auto without = parse_config(kOneNode, "one.toml");
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(without->cluster.partitions[0].box_defaults, core::BoxDefaults{}) << "no limit";
}

TEST(ConfigTest, JobsRunAsNobodyAndNeverAsRootByDefault) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->job_user, "nobody");
  EXPECT_FALSE(c->allow_root_jobs);
  const std::string rest = kOneNode;
  auto set =
      parse_config("[jobs]\nuser = \"berthjobs\"\nallow_root = true\n" + rest, "centre.toml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->job_user, "berthjobs");
  EXPECT_TRUE(set->allow_root_jobs);
  auto unset = parse_config(rest, "centre.toml");  // no [jobs] table at all
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->job_user, "nobody");
  EXPECT_FALSE(unset->allow_root_jobs);
  auto empty = parse_config("[jobs]\nuser = \"\"\n" + rest, "centre.toml");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("jobs.user"), std::string::npos)
      << empty.status().message();
}

TEST(ConfigTest, TheFencingLeaseLeavesRoomForTheGracePeriodAndTwoHeartbeats) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(fence_ms(*c), 40'000);  // 60 s - 10 s grace - 2 x 5 s
  c->agents.node_timeout_ms = 3'000;
  c->agents.heartbeat_ms = 500;
  EXPECT_EQ(fence_ms(*c), 0) << "no room: no lease";
  c->grace_ms = 1'000;
  c->agents.node_timeout_ms = 6'000;
  EXPECT_EQ(fence_ms(*c), 4'000);
}

TEST(ConfigTest, TheEmbeddedDefaultStartsLocalAgentsAndAFileOnlyWhenItSaysSo) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->agents.local);
  EXPECT_TRUE(agents_run_jobs(c->agents));
  const std::string rest = kOneNode;
  auto file = parse_config(rest, "centre.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_FALSE(file->agents.local);
  EXPECT_FALSE(agents_run_jobs(file->agents));
  auto wrong = parse_config("[agents]\nlocal = \"yes\"\n" + rest, "c.toml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("agents.local must be true or false"), std::string::npos)
      << wrong.status().message();
}

TEST(ConfigTest, AgentsListenNowhereByDefaultAndTheirTimesAreChecked) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->agents.listen, "");
  EXPECT_EQ(c->agents.node_timeout_ms, 60'000);
  EXPECT_EQ(c->agents.heartbeat_ms, 5'000);
  EXPECT_EQ(c->agents.launch_timeout_ms, 30'000);
  const std::string rest = kOneNode;
  auto set = parse_config(
      "[agents]\nlisten = \"0.0.0.0:8766\"\nnode_timeout_s = 30\nheartbeat_s = 2.5\n"
      "launch_timeout_s = 90\n" +
          rest,
      "centre.toml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->agents.listen, "0.0.0.0:8766");
  EXPECT_EQ(set->agents.node_timeout_ms, 30'000);
  EXPECT_EQ(set->agents.heartbeat_ms, 2'500);
  EXPECT_EQ(set->agents.launch_timeout_ms, 90'000);
  auto never = parse_config("[agents]\nlaunch_timeout_s = \"soon\"\n" + rest, "c.toml");
  ASSERT_FALSE(never.ok());
  EXPECT_NE(never.status().message().find("agents.launch_timeout_s must be a number of seconds"),
            std::string::npos)
      << never.status().message();
  auto often = parse_config("[agents]\nnode_timeout_s = 10\nheartbeat_s = 4\n" + rest, "c.toml");
  ASSERT_FALSE(often.ok());
  EXPECT_NE(often.status().message().find("agents.heartbeat_s must be at most a third"),
            std::string::npos)
      << often.status().message();
  auto zero = parse_config("[agents]\nnode_timeout_s = 0\n" + rest, "c.toml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("agents.node_timeout_s must be a number of seconds"),
            std::string::npos)
      << zero.status().message();
  auto no_port = parse_config("[agents]\nlisten = \"ctl1\"\n" + rest, "c.toml");
  ASSERT_FALSE(no_port.ok());
  EXPECT_NE(no_port.status().message().find("agents.listen must be host:port"), std::string::npos);
}

TEST(ConfigTest, AgentsSpeakTlsWithBerthdsCaUnlessTold) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->agents.tls, AgentsTls::kBerthCa);
  auto files = parse_config(
      "[agents]\ntls = \"files\"\nca_file = \"ca.pem\"\ncert_file = \"b.pem\"\n"
      "key_file = \"b.key\"\n" +
          std::string(kOneNode),
      "c.toml");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->agents.tls, AgentsTls::kFiles);
  EXPECT_EQ(files->agents.ca_file, "ca.pem");
  EXPECT_EQ(files->agents.cert_file, "b.pem");
  EXPECT_EQ(files->agents.key_file, "b.key");
  // What is wrong with an [agents] table: its error, or "accepted".
  const auto refusal = [](const std::string& agents) {
    auto r = parse_config("[agents]\n" + agents + kOneNode, "c.toml");
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  EXPECT_NE(refusal("tls = \"files\"\nca_file = \"ca.pem\"\n")
                .find("agents.cert_file must name a PEM file"),
            std::string::npos);
  EXPECT_NE(
      refusal("ca_file = \"ca.pem\"\n").find("agents.ca_file is read only with tls = \"files\""),
      std::string::npos);
  EXPECT_NE(refusal("tls = \"yes\"\n").find("agents.tls must be berth-ca, files or none"),
            std::string::npos);
  EXPECT_EQ(refusal("tls = \"none\"\n"), "accepted");
}

// toml::find_or returns a reference to its default: a configuration without the optional
// arrays of tables once read a destroyed temporary (found by tests/fuzz/config_fuzz).
TEST(ConfigTest, OptionalTablesMayBeAbsent) {
  auto c = parse_config("", "empty.toml");
  EXPECT_FALSE(c.ok());  // no nodes: refused, by a message rather than undefined behaviour
  EXPECT_NE(c.status().message().find("empty.toml"), std::string::npos);
}

TEST(ConfigTest, ErrorsNameTheProblem) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    auto c = parse_config(text, "centre.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("centre.toml"), std::string::npos);
  };
  const std::string part = "[[partitions]]\nname = \"gpu\"\n";
  const std::string model = "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"30\"\n";
  const std::string node = "[[nodes]]\nname = \"n1\"\ngpu_model = \"H100\"\ngpus = 8\n";
  expect_error(model + part, "no [[nodes]]");
  expect_error(model + node, "no [[partitions]]");
  expect_error(node + part, "has no price");
  expect_error("listen = \"nowhere\"\n" + model + node + part, "host:port");
  expect_error("[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"30.00001\"\n" + node + part,
               "minor unit");
  expect_error(model + node + "[[partitions]]\nname = \"gpu\"\nmax_time = \"forever\"\n",
               "max_time");
  expect_error("this is = not toml [", "centre.toml");
  // Numbers whose products would overflow: the grace in ms, a job's maximum cost.
  expect_error("[executor]\ngrace_s = 9223372036854775807\n" + model + node + part,
               "grace_s must be 0 to 3600");
  expect_error(
      "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"922337203685477\"\n" + node + part,
      "price_per_gpu_hour is above 1000000.0000");
  expect_error(model + node + "[[partitions]]\nname = \"gpu\"\nmax_time = \"99999999-00:00:00\"\n",
               "3650 days");
  expect_error(model + node + part + "[scheduler]\ndemote_after_gpu_hours = -1\n",
               "demote_after_gpu_hours");
  // A partition's defaults for a job's CPUs and memory: bounded, not both memory defaults, and
  // fitting every node whose CPUs and memory are given.
  const std::string big_node =
      "[[nodes]]\nname = \"n1\"\ngpu_model = \"H100\"\ngpus = 8\ncpus = 16\nmemory_mb = 65536\n";
  const std::pair<const char*, const char*> box_defaults[] = {
      {"default_mem_per_gpu_mb = -1",
       "partition gpu: default_mem_per_gpu_mb must be 0 to 1000000000"},
      {"default_mem_per_gpu_mb = 1\ndefault_mem_per_cpu_mb = 1", "not both"},
      {"default_cpus_per_gpu = 3",
       "default_cpus_per_gpu 3 x node n1's 8 GPUs is more than its cpus 16"},
      {"default_mem_per_cpu_mb = 5000",
       "default_mem_per_cpu_mb 5000 x node n1's 16 CPUs is more than its memory_mb 65536"},
      {"default_cpus_per_gpu = \"two\"",
       "partition gpu: default_cpus_per_gpu must be a whole number"}};
  for (const auto& [keys, message] : box_defaults)
    expect_error(model + big_node + part + keys + "\n", message);
  expect_error(model + node + part + "[scheduler]\ndemote_after_gpu_hours = \"1h\"\n",
               "demote_after_gpu_hours");
  expect_error(model + node + part + "[scheduler]\nstarve_after = \"soon\"\n", "starve_after");
}

TEST(ConfigTest, LeastAttainedServiceMayBeLearned) {
  const std::string model = "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"1\"\n";
  const std::string node = "[[nodes]]\nname = \"n1\"\ngpu_model = \"H100\"\ngpus = 8\n" +
                           std::string("[[partitions]]\nname = \"gpu\"\n");
  auto c = parse_config(model + node +
                            "[scheduler]\norder = \"shortest\"\ndemote_after_gpu_hours = "
                            "\"auto\"\nstarve_after = \"1-00:00:00\"\n",
                        "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->scheduling.adapt_demotion);
  EXPECT_GT(c->scheduling.demote_after_gpu_s, 0);
  EXPECT_EQ(c->scheduling.starve_after_s, 86'400);
  auto fixed = parse_config(model + node + "[scheduler]\ndemote_after_gpu_hours = 2\n", "t");
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_FALSE(fixed->scheduling.adapt_demotion);
  EXPECT_EQ(fixed->scheduling.starve_after_s, 0);
}

TEST(ConfigTest, TheCentreNamesItselfAndItsCurrency) {
  auto def = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->centre.name, "berth GPU centre");
  EXPECT_EQ(def->currency, "HKD");
  EXPECT_EQ(currency_shown(*def), "HK$");
  EXPECT_EQ(def->log_format, LogFormat::kText);
  const std::string rest = kOneNode;
  auto set = parse_config(
      "currency = \"SGD\"\n[centre]\nname = \"Lion Compute\"\naddress = \"1 "
      "Fusionopolis\\nSingapore\"\n"
      "currency_symbol = \"S$\"\n[log]\nformat = \"json\"\n" +
          rest,
      "centre.toml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->centre.name, "Lion Compute");
  EXPECT_EQ(set->centre.address, "1 Fusionopolis\nSingapore");
  EXPECT_EQ(currency_shown(*set), "S$");
  EXPECT_EQ(set->log_format, LogFormat::kJson);
  auto bare =
      parse_config("currency = \"EUR\"\n" + rest, "centre.toml");  // no [centre]: the code is shown
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(currency_shown(*bare), "EUR");
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"[centre]\nname = \"\"\n", "centre.name"},
           {"[centre]\ncurrency_symbol = \"too long a symbol\"\n", "centre.currency_symbol"},
           {"currency = \"\"\n", "currency must be"},
           {"[log]\nformat = \"xml\"\n", "log.format must be text or json, got 'xml'"}}) {
    auto c = parse_config(text + rest, "centre.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().message();
  }
}

TEST(ConfigTest, SeveralNodesAndModels) {
  auto c = parse_config(R"(
listen = "127.0.0.1:0"
state_dir = "/tmp/x"
[[gpu_models]]
name = "A100"
price_per_gpu_hour = "20.5"
[[gpu_models]]
name = "H100"
price_per_gpu_hour = "30"
[[nodes]]
name = "a1"
gpu_model = "A100"
gpus = 4
[[nodes]]
name = "h1"
gpu_model = "H100"
gpus = 8
[[partitions]]
name = "short"
max_time = "1:00:00"
default_time = "10"
[[partitions]]
name = "long"
max_time = "2-00:00:00"
default = true
allowed_orgs = ["hku"]
[scheduler]
weight_size = 50
backfill = false
spot_price_bps = 2500
demote_after_gpu_hours = 1.5
preempt_exempt_time = "15:00"
[[limits]]
project = "vision"
max_gpus = 16
[[shares]]
org = "hku"
shares = 10
)",
                        "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_port, 0);
  EXPECT_EQ(c->cluster.nodes.size(), 2u);
  EXPECT_EQ(c->cluster.prices[0].per_gpu_hour_minor, 205'000);
  EXPECT_EQ(c->cluster.partitions[0].default_time_s, 600);
  EXPECT_TRUE(c->cluster.partitions[1].is_default);
  EXPECT_EQ(c->cluster.partitions[1].allowed_orgs, std::vector<std::string>{"hku"});
  EXPECT_EQ(c->scheduling.weights.size, 50);
  EXPECT_FALSE(c->scheduling.backfill);
  EXPECT_EQ(c->scheduling.spot_price_bps, 2500);
  EXPECT_EQ(c->scheduling.demote_after_gpu_s, 5400);
  EXPECT_EQ(c->scheduling.preempt_exempt_s, 900);
  EXPECT_EQ(c->scheduling.project_limits.at("vision").max_gpus, 16);
  EXPECT_EQ(c->scheduling.project_limits.at("vision").max_pending, -1);
  EXPECT_EQ(c->scheduling.org_shares.at("hku"), 10);
}

TEST(ConfigTest, HttpLimitsDefaultAndOverride) {
  auto d = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->http.workers, 64);
  EXPECT_EQ(d->http.header_timeout_ms, 10'000);
  EXPECT_EQ(d->http.idle_timeout_ms, 30'000);
  EXPECT_EQ(d->http.max_header_bytes, 16384u);
  EXPECT_EQ(d->http.max_connections_per_client, 256);

  const std::string base = std::string(default_config_toml());
  const size_t at = base.find("[http]");
  ASSERT_NE(at, std::string::npos);
  auto with_http = [&](const std::string& lines) {
    return base.substr(0, at) + "[http]\n" + lines + "\n" +
           base.substr(base.find("\n[[gpu_models]]", at));
  };
  auto c = parse_config(with_http("header_timeout_s = 0.5\nbody_timeout_s = "
                                  "2\nmax_connections_per_client = 3\nworkers = 4"),
                        "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.header_timeout_ms, 500);
  EXPECT_EQ(c->http.body_timeout_ms, 2000);
  EXPECT_EQ(c->http.max_connections_per_client, 3);
  EXPECT_EQ(c->http.workers, 4);
  EXPECT_EQ(c->http.idle_timeout_ms, 30'000);  // not given: the default

  for (const std::string& bad :
       {std::string("header_timeout_s = 0"), std::string("idle_timeout_s = \"1\""),
        std::string("workers = 0"), std::string("max_header_bytes = 10")}) {
    auto r = parse_config(with_http(bad), "centre.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("http."), std::string::npos) << r.status().message();
  }
}

TEST(LogFormatNames, NameEveryFormat) {
  enum_testing::expect_every_enumerator_named(kLogFormatNames);
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(parse_log_format("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(parse_log_format("JSON", &format));
  EXPECT_EQ(format, LogFormat::kJson);
}

// SQLite in the state directory unless [store] names a PostgreSQL database, which needs agents on
// a fixed port of their own, so that whichever berthd leads, the agents and jobs go on.
TEST(ConfigTest, AStoreUrlMustBePostgresqlWithAgentsOnAFixedPort) {
  auto c = parse_config(default_config_toml(), "default");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->store.shared());
  EXPECT_EQ(c->store.lease_ms, 3'000);
  const std::string agents = "[agents]\nlocal = false\nlisten = \"127.0.0.1:8766\"\n";
  auto shared = parse_config(
      "[store]\nurl = \"postgresql://berth@127.0.0.1:5432/berth\"\nname = \"ctl1\"\n"
      "lease_s = 1.5\nadvertise = \"http://ctl1:8765\"\n" + agents + kOneNode,
      "c.toml");
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  EXPECT_TRUE(shared->store.shared());
  EXPECT_EQ(shared->store.name, "ctl1");
  EXPECT_EQ(shared->store.lease_ms, 1'500);
  EXPECT_EQ(shared->store.advertise, "http://ctl1:8765");
  const struct {
    std::string text, error;
  } bad[] = {
      {"[store]\nurl = \"mysql://x\"\n" + agents, "store.url must be a PostgreSQL URL"},
      {"[store]\nurl = \"postgresql://x/b\"\n", "needs node agents on a listener of their own"},
      {"[store]\nurl = \"postgresql://x/b\"\n[agents]\nlocal = false\nlisten = \"0.0.0.0:0\"\n",
       "agents.listen needs a fixed port"},
      {"[store]\nurl = \"postgresql://x/b\"\nlease_s = 0.5\n" + agents,
       "store.lease_s must be at least 1 second"},
      {"[store]\nurl = \"postgresql://x/b\"\nadvertise = \"ctl1:8765\"\n" + agents,
       "store.advertise must be an http:// address"},
  };
  for (const auto& b : bad) {
    auto r = parse_config(b.text + kOneNode, "c.toml");
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.status().message().find(b.error), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(listen_port("0.0.0.0:8766"), 8766);
  EXPECT_EQ(listen_port("[::]:1"), 1);
  EXPECT_EQ(listen_port("host"), -1);
  EXPECT_EQ(listen_port("host:x"), -1);
  EXPECT_EQ(listen_port("host:70000"), -1);
}

}  // namespace
}  // namespace berth
