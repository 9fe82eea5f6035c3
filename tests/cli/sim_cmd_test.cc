// berth sim end to end through run_cli: the JSON it prints, the report it writes, and the
// errors it gives for bad input. The trace files are small temporary files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/app.h"
#include "sim/sim_testing.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One 4-GPU node under EASY with limits (see tests/sim/replay_test.cc, EasyBackfills...):
// job 1 runs 0-100, 2 100-150 (wait 90), 3 backfills 20-70, 4 runs 150-350 (wait 120).
constexpr char kTrace[] =
    "submit_s,runtime_s,gpus,tenant,time_limit_s\n"
    "0,100,2,a,100\n"
    "10,50,4,b,50\n"
    "20,50,1,a,50\n"
    "30,200,1,b,200\n";

class SimCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sim::testing::make_temp_dir("berth_sim_cmd_");
    ASSERT_FALSE(dir_.empty());
    trace_ = write("jobs.csv", kTrace);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  int run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    const CliIo io{
        .out = &out_,
        .err = &err_,
        .getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
        .read_file = [](const std::string&) -> Result<std::string> {
          return Status::NotFound("no files");
        },
        .read_stdin = [] { return std::optional<std::string>(); },
        .cwd = [] { return std::string("/tmp"); },
        .now_ms = [] { return int64_t{0}; },
        .connect = [](const std::string&, const std::string&) -> Result<std::unique_ptr<Api>> {
          return Status::Internal("berth sim must not connect to a server");
        },
    };
    return run_cli(args, io);
  }

  // `berth sim TRACE --format csv --nodes 1 --gpus-per-node 4 --estimates limit ...more`.
  std::vector<std::string> sim_args(const std::vector<std::string>& more) const {
    std::vector<std::string> args = {"sim",         trace_,  "--format",        "csv",
                                     "--nodes",     "1",     "--gpus-per-node", "4",
                                     "--estimates", "limit", "--no-progress"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  json run_json(const std::vector<std::string>& args) {
    const int rc = run(args);
    EXPECT_EQ(rc, 0) << err_.str();
    if (rc != 0) return json();
    return json::parse(out_.str());
  }

  // Fails with a non-zero exit, no output, and `what` in the error.
  void expect_error(const std::vector<std::string>& args, const std::string& what) {
    EXPECT_NE(run(args), 0);
    EXPECT_NE(err_.str().find(what), std::string::npos) << err_.str();
    EXPECT_EQ(out_.str(), "");
  }

  fs::path dir_;
  std::string trace_;
  std::ostringstream out_, err_;
};

TEST_F(SimCommandTest, JsonHasTheHeadlineMetrics) {
  const json m = run_json(sim_args({"--policy", "easy", "--json"}));
  for (const char* key : {"jobs", "jobs_skipped", "makespan_s", "utilization", "avg_jct_s",
                          "p50_jct_s", "p99_jct_s", "avg_wait_s", "p50_wait_s", "p99_wait_s",
                          "avg_bounded_slowdown", "jain_fairness", "tenants"})
    EXPECT_TRUE(m.contains(key)) << key << " in " << m.dump();
  EXPECT_FALSE(m.contains("policies"));
  EXPECT_EQ(m["policy"], "easy");
  EXPECT_EQ(m["estimates"], "limit");
  EXPECT_EQ(m["jobs"], 4);
  EXPECT_EQ(m["jobs_skipped"], 0);
  EXPECT_EQ(m["gpus"], 4);
  EXPECT_EQ(m["makespan_s"], 350);
  // Waits 0, 90, 0, 120; JCTs 100, 140, 50, 320.
  EXPECT_DOUBLE_EQ(m["avg_wait_s"].get<double>(), 52.5);
  EXPECT_EQ(m["p50_wait_s"], 0);
  EXPECT_EQ(m["p99_wait_s"], 120);
  EXPECT_DOUBLE_EQ(m["avg_jct_s"].get<double>(), 152.5);
  EXPECT_EQ(m["p99_jct_s"], 320);
  // GPU-seconds 200 + 200 + 50 + 200 = 650 over 4 GPUs x 350 s.
  EXPECT_NEAR(m["utilization"].get<double>(), 650.0 / 1400.0, 1e-9);
  EXPECT_EQ(m["tenants"].size(), 2u);
  EXPECT_EQ(m["tenants"]["b"]["jobs"], 2);
  EXPECT_FALSE(m.contains("money"));
}

TEST_F(SimCommandTest, SeveralPoliciesAreListed) {
  const json m = run_json(sim_args({"--policy", "fifo,easy", "--json"}));
  ASSERT_TRUE(m.contains("policies"));
  ASSERT_EQ(m["policies"].size(), 2u);
  EXPECT_EQ(m["policies"][0]["policy"], "fifo");
  EXPECT_EQ(m["policies"][1]["policy"], "easy");
  EXPECT_EQ(m["policy"], "fifo");  // the top level is the first policy's
  // Strict FIFO: job 3 waits for job 2 (150-200, wait 130).
  EXPECT_EQ(m["policies"][0]["p99_wait_s"], 130);
  EXPECT_EQ(m["policies"][1]["p99_wait_s"], 120);
}

TEST_F(SimCommandTest, TableWithoutJson) {
  ASSERT_EQ(run(sim_args({"--policy", "all"})), 0) << err_.str();
  for (const char* word :
       {"POLICY", "AVG_JCT", "P99_WAIT", "fifo", "easy", "multifactor", "sjf", "default"})
    EXPECT_NE(out_.str().find(word), std::string::npos) << word << " in\n" << out_.str();
  // Durations for people: FIFO's p99 wait of 130 s (see SeveralPoliciesAreListed) reads 2m 10s.
  ASSERT_EQ(run(sim_args({"--policy", "fifo"})), 0) << err_.str();
  EXPECT_NE(out_.str().find("2m 10s"), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("_S "), std::string::npos) << out_.str();
}

TEST_F(SimCommandTest, ReportWritesTheThreeFiles) {
  const fs::path report = dir_ / "report";
  ASSERT_EQ(run(sim_args({"--policy", "fifo,sjf", "--report", report.string()})), 0) << err_.str();
  for (const char* name : {"metrics.json", "jobs.csv", "index.html"})
    EXPECT_TRUE(fs::is_regular_file(report / name)) << name;
  std::ifstream metrics(report / "metrics.json");
  const json m = json::parse(metrics);
  EXPECT_EQ(m["policies"].size(), 2u);
  std::ifstream jobs(report / "jobs.csv");
  std::string line;
  int rows = 0;
  std::getline(jobs, line);
  EXPECT_EQ(line.rfind("policy,id,tenant,submit_s,start_s,end_s,gpus,wait_s", 0), 0u) << line;
  while (std::getline(jobs, line)) ++rows;
  EXPECT_EQ(rows, 8);  // 4 jobs x 2 policies
  EXPECT_NE(err_.str().find("report written to"), std::string::npos);
}

TEST_F(SimCommandTest, EconomicsAddsMoney) {
  const std::string economics =
      write("economics.toml",
            "[[gpu_models]]\nname = \"GPU\"\nprice_per_gpu_hour = \"36\"\n"
            "[scheme]\nrate = \"70%\"\nfund = \"1000000\"\nshortfall = \"wallet\"\n"
            "[[tenants]]\nname = \"a\"\naward = \"1000\"\nwallet = \"100\"\n"
            "[others]\nwallet = \"100\"\n");
  const json m = run_json(sim_args({"--policy", "easy", "--economics", economics, "--json"}));
  ASSERT_TRUE(m.contains("money")) << m.dump();
  // a: 2 GPUs x 100 s + 1 GPU x 50 s = 250 GPU-s at 36/h = 2.5000; 70% of it subsidised.
  EXPECT_EQ(m["money"]["a"]["cost"], "2.5000");
  EXPECT_EQ(m["money"]["a"]["subsidy"], "1.7500");
  EXPECT_EQ(m["money"]["a"]["copay"], "0.7500");
  EXPECT_TRUE(m["money"]["a"]["award_ran_out_s"].is_null());
  // b has no award: its wallet pays 4 x 50 + 1 x 200 = 400 GPU-s = 4.0000.
  EXPECT_EQ(m["money"]["b"]["cost"], "4.0000");
  EXPECT_EQ(m["money"]["b"]["subsidy"], "0.0000");
  EXPECT_EQ(m["jobs_delayed_by_funds"], 0);
  EXPECT_EQ(m["delayed_by"], json::object());
  EXPECT_EQ(m["skipped"]["refused"], 0);
}

TEST_F(SimCommandTest, HoldHoursMustBeAtLeastAnHour) {
  const std::string economics = write("hold.toml",
                                      "[[gpu_models]]\nname = \"GPU\"\nprice_per_gpu_hour = \"1\"\n"
                                      "[scheme]\nhold_hours = 0\n");
  expect_error(sim_args({"--economics", economics}),
               "scheme.hold_hours must be 1 to 8784 (a leap year), got 0");
}

TEST_F(SimCommandTest, BadEconomicsIsAnError) {
  const std::string economics = write("bad.toml",
                                      "[[gpu_models]]\nname = \"GPU\"\nprice_per_gpu_hour = \"1\"\n"
                                      "[scheme]\nrate = \"70\"\n");
  expect_error(sim_args({"--economics", economics}), "scheme.rate must look like \"70%\"");
}

TEST_F(SimCommandTest, UnknownFormat) {
  expect_error({"sim", trace_, "--format", "xml", "--nodes", "1"},
               "--format must be swf, philly, pai or csv, got 'xml'");
}

TEST_F(SimCommandTest, UnknownPolicy) {
  expect_error(sim_args({"--policy", "easy,lifo"}), "unknown policy 'lifo'");
}

TEST_F(SimCommandTest, UnknownEstimates) {
  expect_error({"sim", trace_, "--format", "csv", "--nodes", "1", "--estimates", "guess"},
               "--estimates must be limit, predict or oracle, got 'guess'");
}

TEST_F(SimCommandTest, MalformedRowNamesFileAndLine) {
  trace_ = write("bad.csv", std::string(kTrace) + "40,ten,1,a,10\n");
  expect_error(sim_args({}), trace_ + ":6: runtime_s 'ten' is not a whole number");
}

TEST_F(SimCommandTest, SkipBadCountsTheRow) {
  trace_ = write("bad.csv", std::string(kTrace) + "40,ten,1,a,10\n");
  const json m = run_json(sim_args({"--skip-bad", "--max-skipped", "20", "--json"}));
  EXPECT_EQ(m["jobs"], 4);
  EXPECT_EQ(m["jobs_skipped"], 1);
  EXPECT_EQ(m["skipped"]["bad_rows"], 1);
  EXPECT_NE(err_.str().find("1 malformed rows skipped."), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("berth: skipped 1 of 5 jobs: bad rows 1\n"), std::string::npos)
      << err_.str();
}

TEST_F(SimCommandTest, MissingTraceFile) {
  trace_ = (dir_ / "nope.csv").string();
  expect_error(sim_args({}), trace_ + ": no such file");
}

TEST_F(SimCommandTest, ClusterAndNodesTogether) {
  expect_error(sim_args({"--cluster", (dir_ / "berthd.toml").string()}),
               "give --cluster or --nodes, not both");
}

TEST_F(SimCommandTest, NoClusterAtAll) {
  expect_error({"sim", trace_, "--format", "csv"}, "no cluster");
}

TEST_F(SimCommandTest, WindowOnADatelessTrace) {
  expect_error(sim_args({"--from", "2017-10-01"}), "has no dates");
}

TEST_F(SimCommandTest, BadDate) {
  expect_error(sim_args({"--from", "10/01/2017"}), "--from: '10/01/2017' is not a date");
}

TEST_F(SimCommandTest, TenantPoolsSkipTenantsWithoutAPool) {
  const std::string pools = write("pools.csv", "vc,nodes\na,1\n");
  const json m =
      run_json({"sim", trace_, "--format", "csv", "--tenant-pools", pools, "--gpus-per-node", "4",
                "--policy", "easy", "--no-progress", "--max-skipped", "50", "--json"});
  EXPECT_EQ(m["jobs"], 2);
  EXPECT_EQ(m["jobs_skipped"], 2);
  EXPECT_EQ(m["skipped"]["tenant_without_pool"], 2);
  EXPECT_EQ(m["gpus"], 4);
}

TEST_F(SimCommandTest, TooManySkippedIsAnErrorNamingTheCauses) {
  // b's two jobs have no pool: half the trace, above the default 5%.
  const std::string pools = write("pools.csv", "vc,nodes\na,1\n");
  const std::vector<std::string> args = {
      "sim", trace_,         "--format", "csv", "--tenant-pools", pools, "--gpus-per-node",
      "4",   "--no-progress"};
  expect_error(args,
               "skipped 2 of 4 jobs (50%, more than --max-skipped 5%): tenant without pool 2 "
               "('b'); fix the trace or the cluster, or raise --max-skipped");
  // Shown in the table output too, with the share allowed.
  std::vector<std::string> allowed = args;
  allowed.insert(allowed.end(), {"--max-skipped", "50"});
  ASSERT_EQ(run(allowed), 0) << err_.str();
  EXPECT_NE(err_.str().find("berth: skipped 2 of 4 jobs: tenant without pool 2 ('b')"),
            std::string::npos)
      << err_.str();
}

TEST_F(SimCommandTest, JobsTooLargeCountAgainstMaxSkipped) {
  trace_ = write("big.csv", "submit_s,runtime_s,gpus\n0,10,1\n0,10,8\n");
  expect_error(sim_args({}),
               "skipped 1 of 2 jobs (50%, more than --max-skipped 5%): too large "
               "1");
}

TEST_F(SimCommandTest, JobsOutsideTheWindowAreSaidButNotCounted) {
  trace_ = write("philly.csv",
                 "timestamp,duration,num_gpus,gpu_time,cluster\n"
                 "2017-10-01 10:00:00,60,1,60,vc\n"
                 "2017-10-02 10:00:00,60,1,60,vc\n"
                 "2017-10-03 10:00:00,60,1,60,vc\n");
  const json m = run_json({"sim", trace_, "--format", "philly", "--from", "2017-10-02", "--nodes",
                           "1", "--no-progress", "--json"});
  EXPECT_EQ(m["jobs"], 2);
  EXPECT_EQ(m["jobs_skipped"], 0);
  EXPECT_EQ(m["skipped"]["outside_window"], 1);
  EXPECT_NE(err_.str().find("berth: skipped 0 of 2 jobs; 1 outside the window (not counted)\n"),
            std::string::npos)
      << err_.str();
}

TEST_F(SimCommandTest, DelaysAndSizeClassesInTheJson) {
  // Waits 0, 90, 0, 120 (JsonHasTheHeadlineMetrics): never preempted, so delay = wait.
  const json m = run_json(sim_args({"--policy", "easy", "--json"}));
  EXPECT_DOUBLE_EQ(m["avg_delay_s"].get<double>(), 52.5);
  EXPECT_EQ(m["p99_delay_s"], 120);
  EXPECT_EQ(m["max_delay_s"], 120);
  EXPECT_EQ(m["tenants"]["b"]["max_delay_s"], 120);
  ASSERT_TRUE(m.contains("size_classes")) << m.dump();
  // Jobs of 2 and 4 GPUs are "2-8", of 1 GPU "1".
  EXPECT_EQ(m["size_classes"].size(), 2u);
  const json& small = m["size_classes"]["1"];
  const json& mid = m["size_classes"]["2-8"];
  EXPECT_EQ(small["jobs"], 2);
  EXPECT_EQ(mid["jobs"], 2);
  for (const char* key : {"jobs", "avg_jct_s", "p99_jct_s", "avg_bounded_slowdown", "avg_delay_s",
                          "p99_delay_s", "max_delay_s"})
    EXPECT_TRUE(mid.contains(key)) << key;
  EXPECT_DOUBLE_EQ(mid["avg_delay_s"].get<double>(), 45);  // jobs 1 (0) and 2 (90)
  EXPECT_EQ(small["max_delay_s"], 120);                    // job 4
}

TEST_F(SimCommandTest, TableHasDelaysAndASizeClassTable) {
  ASSERT_EQ(run(sim_args({"--policy", "fifo,easy"})), 0) << err_.str();
  const std::string out = out_.str();
  for (const char* word : {"AVG_DELAY", "P99_DELAY", "MAX_DELAY", "CLASS"})
    EXPECT_NE(out.find(word), std::string::npos) << word << " in\n" << out;
  // The class table: a row per policy and class, easy's 1-GPU jobs waiting 0 and 120 s.
  const size_t classes = out.find("CLASS");
  ASSERT_NE(classes, std::string::npos);
  EXPECT_NE(out.find("easy    2-8", classes), std::string::npos) << out;
  EXPECT_NE(out.find("fifo    1 ", classes), std::string::npos) << out;
}

TEST_F(SimCommandTest, TextIdsAndTenantsAreKeptAsTheTraceWritesThem) {
  trace_ = write("text.csv",
                 "id,submit_s,runtime_s,gpus,tenant,note\n"
                 "\"job,1\",0,10,1,team a/1,x\n"
                 "007,0,10,1,team a/1,y\n");
  const fs::path report = dir_ / "report";
  const json m = run_json(sim_args({"--policy", "easy", "--report", report.string(), "--json"}));
  EXPECT_EQ(m["jobs"], 2);
  EXPECT_TRUE(m["tenants"].contains("team a/1")) << m.dump();
  EXPECT_NE(err_.str().find("columns not used by berth sim ignored: 'note'."), std::string::npos)
      << err_.str();
  std::ifstream jobs(report / "jobs.csv");
  std::stringstream text;
  text << jobs.rdbuf();
  EXPECT_NE(text.str().find("\neasy,\"job,1\",team a/1,0,0,10,1,0,"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("\neasy,007,team a/1,"), std::string::npos) << text.str();
}

TEST_F(SimCommandTest, ReportSaysWhatEachPolicyDoesAndHasSizeClasses) {
  const fs::path report = dir_ / "report";
  ASSERT_EQ(run(sim_args({"--policy", "fifo,default", "--report", report.string()})), 0)
      << err_.str();
  std::ifstream page(report / "index.html");
  std::stringstream html;
  html << page.rdbuf();
  EXPECT_NE(html.str().find("<b>fifo</b>: submit order, strict"), std::string::npos);
  EXPECT_NE(html.str().find("<b>default</b>: berth&#39;s best without an oracle"),
            std::string::npos)
      << html.str();
  EXPECT_NE(html.str().find("<h2>By job size</h2>"), std::string::npos);
  EXPECT_NE(html.str().find("<th>preemptions</th>"), std::string::npos);
  EXPECT_NE(html.str().find("<th>p99 delay</th>"), std::string::npos);
}

TEST_F(SimCommandTest, PolicyHelpSaysWhatEachDoes) {
  ASSERT_EQ(run({"sim", "--help"}), 0);
  EXPECT_NE(out_.str().find("sjf: smallest GPU-time"), std::string::npos) << out_.str();
}

TEST_F(SimCommandTest, ATraceIsNeeded) {
  expect_error({"sim", "--format", "csv", "--nodes", "1"}, "berth sim needs a trace file");
  expect_error({"sim", trace_, "--nodes", "1"}, "--format is required");
}

// ---------------------------------------------------------------------------------------------
// berth sim gen

TEST_F(SimCommandTest, GenWritesTheSameCsvForTheSameSeed) {
  ASSERT_EQ(run({"sim", "gen", "--class", "gangs", "--jobs", "40", "--seed", "3"}), 0)
      << err_.str();
  const std::string first = out_.str();
  EXPECT_EQ(first.rfind("id,submit_s,runtime_s,gpus,tenant\n1,0,", 0), 0u) << first;
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 41);
  ASSERT_EQ(run({"sim", "gen", "--class", "gangs", "--jobs", "40", "--seed", "3"}), 0);
  EXPECT_EQ(out_.str(), first);
  ASSERT_EQ(run({"sim", "gen", "--class", "gangs", "--jobs", "40", "--seed", "4"}), 0);
  EXPECT_NE(out_.str(), first);
}

TEST_F(SimCommandTest, GenOutputReplays) {
  const std::string path = (dir_ / "gen.csv").string();
  ASSERT_EQ(run({"sim", "gen", "--class", "heavy-tailed", "--jobs", "60", "--nodes", "2",
                 "--gpus-per-node", "8", "--load", "0.9", "--tenants", "2", "--out", path}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("60 jobs written to " + path), std::string::npos) << err_.str();
  // 16-GPU and 32-GPU gangs may not fit 2 nodes: allow them to be skipped here.
  const json m = run_json({"sim", path, "--format", "csv", "--nodes", "4", "--gpus-per-node", "8",
                           "--policy", "easy", "--no-progress", "--json"});
  EXPECT_EQ(m["jobs"].get<int64_t>() + m["jobs_skipped"].get<int64_t>(), 60);
  EXPECT_EQ(m["tenants"].size(), 2u);
}

TEST_F(SimCommandTest, GenErrors) {
  expect_error({"sim", "gen", "--class", "spiky"},
               "--class must be homogeneous, heavy-tailed, gangs or bursty, got 'spiky'");
  expect_error({"sim", "gen"}, "--class is required");
  expect_error({"sim", "gen", "--class", "gangs", "--jobs", "0"}, "sim gen: jobs must be 1 to");
  expect_error({"sim", "gen", "--class", "gangs", "--load", "0"}, "sim gen: load must be above 0");
  expect_error({"sim", "gen", "--class", "gangs", "--tenants", "0"}, "sim gen: tenants must be");
  expect_error(
      {"sim", "gen", "--class", "gangs", "--out", (dir_ / "no" / "such" / "x.csv").string()},
      "x.csv");
}

}  // namespace
}  // namespace berth::cli
