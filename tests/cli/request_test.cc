#include "cli/request.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

using nlohmann::json;

JobOptions minimal() {
  JobOptions o;
  o.project = "vision";
  o.gpus = 2;
  return o;
}

const std::string kScript = "#!/bin/bash\necho hi\n";

TEST(SubmitRequest, MinimalBodyHasOnlyWhatWasGiven) {
  Result<json> body = build_submit_request(minimal(), kScript, {}, "/home/alice/run");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const json expected = {{"project", "vision"},
                         {"gpus", 2},
                         {"script", kScript},
                         {"args", json::array()},
                         {"workdir", "/home/alice/run"},
                         {"submit_dir", "/home/alice/run"}};
  EXPECT_EQ(*body, expected);
}

TEST(SubmitRequest, ChdirIsTheWorkdirRelativeToWhereItWasSubmitted) {
  JobOptions o = minimal();
  o.workdir = "runs/a";
  Result<json> body = build_submit_request(o, kScript, {}, "/home/alice");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["workdir"], "/home/alice/runs/a");
  EXPECT_EQ((*body)["submit_dir"], "/home/alice");
  o.workdir = "/scratch/alice";
  EXPECT_EQ((*build_submit_request(o, kScript, {}, "/home/alice"))["workdir"], "/scratch/alice");
}

TEST(SubmitRequest, CarriesSignalResourcesAndEnvironment) {
  JobOptions o = minimal();
  o.signal = "B:USR1@60";
  o.resources.mem_mb = 8192;
  o.resources.cpus_per_task = 4;
  o.resources.ntasks = 2;
  Result<json> body = build_submit_request(o, kScript, {}, "/w", {{"LR", "0.1"}});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["signal"], "B:USR1@60");
  EXPECT_EQ((*body)["resources"], json({{"mem_mb", 8192}, {"cpus_per_task", 4}, {"ntasks", 2}}));
  EXPECT_EQ((*body)["env"], json({{"LR", "0.1"}}));
}

TEST(CheckTier, ListsTheTiersItKnows) {
  EXPECT_TRUE(check_tier("spot").ok());
  EXPECT_EQ(check_tier("premium").message(),
            "tier (qos) 'premium' is not one of high, normal, spot");
}

TEST(SubmitRequest, CarriesEveryOption) {
  JobOptions o = minimal();
  o.gpu_model = "H100";
  o.time_limit_s = 3600;
  o.name = "train";
  o.partition = "gpu";
  o.output = "out-%j.txt";
  o.error = "err-%j.txt";
  o.nodes = 1;
  o.requeue = true;
  o.tier = "spot";
  Result<json> body = build_submit_request(o, kScript, {"--lr", "0.1"}, "/w");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["gpu_model"], "H100");
  EXPECT_EQ((*body)["time_limit_s"], 3600);
  EXPECT_EQ((*body)["name"], "train");
  EXPECT_EQ((*body)["partition"], "gpu");
  EXPECT_EQ((*body)["output"], "out-%j.txt");
  EXPECT_EQ((*body)["error"], "err-%j.txt");
  EXPECT_EQ((*body)["nodes"], 1);
  EXPECT_EQ((*body)["requeue"], true);
  EXPECT_EQ((*body)["tier"], "spot");
  EXPECT_EQ((*body)["args"], json({"--lr", "0.1"}));
}

TEST(SubmitRequest, CarriesHoldDependencyAndArray) {
  JobOptions o = minimal();
  o.hold = true;
  o.dependency = "afterok:12:13,afterany:14";
  o.array = "0-9%2";
  Result<json> body = build_submit_request(o, kScript, {}, "/w");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["hold"], true);
  EXPECT_EQ((*body)["dependency"], "afterok:12:13,afterany:14");
  EXPECT_EQ((*body)["array"], "0-9%2");

  o.hold = false;  // not held: the field is left out, as the server's default
  body = build_submit_request(o, kScript, {}, "/w");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_FALSE(body->contains("hold"));

  // A quote prices one job: none of them is sent.
  Result<json> quote = build_quote_request(o);
  ASSERT_TRUE(quote.ok()) << quote.status().ToString();
  EXPECT_FALSE(quote->contains("dependency"));
  EXPECT_FALSE(quote->contains("array"));
}

TEST(SubmitRequest, RefusesBadDependencyOrArray) {
  JobOptions o = minimal();
  o.dependency = "afterok:abc";
  EXPECT_NE(build_submit_request(o, kScript, {}, "/w")
                .status()
                .message()
                .find("dependency 'afterok:abc'"),
            std::string::npos);
  o = minimal();
  o.array = "0-9%0";
  EXPECT_NE(build_submit_request(o, kScript, {}, "/w").status().message().find("array '0-9%0'"),
            std::string::npos);
}

TEST(SubmitRequest, NumericProjectIsAnId) {
  JobOptions o = minimal();
  o.project = "12";
  EXPECT_EQ((*build_submit_request(o, kScript, {}, "/w"))["project"], 12);
}

TEST(SubmitRequest, ScriptOptionsUnderFlags) {
  // The precedence the submit command applies: defaults < #SBATCH lines < flags.
  const std::string script =
      "#!/bin/sh\n#SBATCH -A vision -J from-script --gres=gpu:H100:2 -t 10\necho\n";
  Result<SbatchScript> parsed = parse_sbatch(script);
  ASSERT_TRUE(parsed.ok());
  JobOptions defaults;
  defaults.name = "job.sh";
  JobOptions flags;
  flags.gpus = 4;
  flags.time_limit_s = 120;
  const JobOptions merged = overlay(overlay(defaults, parsed->options), flags);
  Result<json> body = build_submit_request(merged, script, {}, "/w");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["name"], "from-script");
  EXPECT_EQ((*body)["gpus"], 4);
  EXPECT_EQ((*body)["gpu_model"], "H100");
  EXPECT_EQ((*body)["time_limit_s"], 120);
  EXPECT_EQ((*body)["project"], "vision");
}

TEST(SubmitRequest, RefusesMissingProjectOrGpus) {
  JobOptions o = minimal();
  o.project.reset();
  EXPECT_NE(build_submit_request(o, kScript, {}, "/w").status().message().find("--account"),
            std::string::npos);
  o = minimal();
  o.gpus.reset();
  EXPECT_NE(build_submit_request(o, kScript, {}, "/w").status().message().find("--gpus"),
            std::string::npos);
}

TEST(SubmitRequest, RefusesBadValues) {
  JobOptions o = minimal();
  o.gpus = 0;
  EXPECT_FALSE(build_submit_request(o, kScript, {}, "/w").ok());
  o = minimal();
  o.time_limit_s = 0;
  EXPECT_FALSE(build_submit_request(o, kScript, {}, "/w").ok());
  o = minimal();
  o.tier = "urgent";
  EXPECT_FALSE(build_submit_request(o, kScript, {}, "/w").ok());
}

TEST(SubmitRequest, RefusesScriptsWithoutInterpreterLine) {
  Result<json> body = build_submit_request(minimal(), "echo hi\n", {}, "/w");
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("#!"), std::string::npos);
  EXPECT_FALSE(build_submit_request(minimal(), "", {}, "/w").ok());
}

TEST(SubmitRequest, RefusesHugeScripts) {
  const std::string huge = "#!/bin/sh\n" + std::string(kMaxScriptBytes, '#');
  EXPECT_FALSE(build_submit_request(minimal(), huge, {}, "/w").ok());
}

TEST(SubmitRequest, RefusesRelativeWorkdir) {
  EXPECT_FALSE(build_submit_request(minimal(), kScript, {}, "relative").ok());
  EXPECT_FALSE(build_submit_request(minimal(), kScript, {}, "").ok());
}

TEST(QuoteRequest, HasTheJobShapeOnly) {
  JobOptions o = minimal();
  o.time_limit_s = 3600;
  o.gpu_model = "H100";
  o.partition = "gpu";
  o.tier = "normal";
  o.name = "ignored";
  o.output = "ignored";
  Result<json> body = build_quote_request(o);
  ASSERT_TRUE(body.ok());
  const json expected = {{"project", "vision"}, {"gpus", 2},          {"time_limit_s", 3600},
                         {"gpu_model", "H100"}, {"partition", "gpu"}, {"tier", "normal"}};
  EXPECT_EQ(*body, expected);
}

TEST(WrapCommand, MakesAShellScript) {
  EXPECT_EQ(wrap_command("nvidia-smi -L"), "#!/bin/sh\nnvidia-smi -L\n");
}

TEST(RateParsing, AllThreeFormsMeanTheSame) {
  EXPECT_EQ(*parse_rate_bps("70%"), 7000);
  EXPECT_EQ(*parse_rate_bps("7000bps"), 7000);
  EXPECT_EQ(*parse_rate_bps("0.7"), 7000);
}

TEST(RateParsing, FinerAndEdgeRates) {
  EXPECT_EQ(*parse_rate_bps("70.5%"), 7050);
  EXPECT_EQ(*parse_rate_bps("0.01%"), 1);
  EXPECT_EQ(*parse_rate_bps("0.7055"), 7055);
  EXPECT_EQ(*parse_rate_bps("0"), 0);
  EXPECT_EQ(*parse_rate_bps("1"), 10000);
  EXPECT_EQ(*parse_rate_bps("100%"), 10000);
  EXPECT_EQ(*parse_rate_bps("0bps"), 0);
  EXPECT_EQ(*parse_rate_bps("10000bps"), 10000);
}

TEST(RateParsing, RefusesNonsense) {
  for (const char* bad : {"", "%", "bps", "70", "101%", "10001bps", "1.5", "-0.5", "-5%", "70.555%",
                          "0.70001", "seventy", "70 %", "7000 bps", "1e-1", "0.7bps"}) {
    EXPECT_FALSE(parse_rate_bps(bad).ok()) << bad;
  }
}

TEST(NameOrId, DigitsAreIds) {
  EXPECT_EQ(name_or_id("7"), json(7));
  EXPECT_EQ(name_or_id("hku"), json("hku"));
  EXPECT_EQ(name_or_id("7a"), json("7a"));
  EXPECT_EQ(name_or_id("-7"), json("-7"));
}

TEST(CheckedAmount, NormalisesAndRefuses) {
  EXPECT_EQ(*checked_amount("1000"), "1000.0000");
  EXPECT_EQ(*checked_amount("12.5"), "12.5000");
  EXPECT_EQ(*checked_amount("0.0001"), "0.0001");
  EXPECT_FALSE(checked_amount("0.00001").ok());
  EXPECT_FALSE(checked_amount("-5").ok());
  EXPECT_FALSE(checked_amount("5k").ok());
}

}  // namespace
}  // namespace berth::cli
