// Whole command lines run against a fake server: what is sent, what is printed, exit codes.
#include "cli/app.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/failover.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct Call {
  std::string method, path;
  json body;
  Api::Headers headers;
};

// Records every request and answers from a table keyed by "METHOD path".
struct FakeServer {
  std::vector<Call> calls;
  std::map<std::string, Result<json>> replies;
  // Replies given first, in order, before the table's (a connection lost, then an answer).
  std::map<std::string, std::vector<Result<json>>> first_replies;
  std::string connected_server, connected_token;
  // Addresses where no berthd answers: a request there was never made.
  std::set<std::string> down;
  // GET /v1/health, where tables learn the currency: answered aside and counted, not recorded
  // in `calls`, so that tests of what a command sends see only its own requests.
  Result<json> health = json{{"status", "ok"}, {"currency", "HKD"}, {"currency_symbol", "HK$"}};
  int health_calls = 0;

  void reply(const std::string& key, Result<json> value) {
    replies.insert_or_assign(key, std::move(value));
  }
  Result<json> answer(const std::string& method, const std::string& path, json body,
                      Api::Headers headers = {}) {
    if (method == "GET" && path == "/v1/health") {
      ++health_calls;
      return health;
    }
    calls.push_back({method, path, std::move(body), std::move(headers)});
    if (auto first = first_replies.find(method + " " + path);
        first != first_replies.end() && !first->second.empty()) {
      Result<json> r = first->second.front();
      first->second.erase(first->second.begin());
      return r;
    }
    auto it = replies.find(method + " " + path);
    if (it == replies.end())
      return Status::NotFound("fake has no reply for " + method + " " + path);
    return it->second;
  }
};

class FakeApi final : public Api {
 public:
  FakeApi(FakeServer* server, std::string address)
      : server_(server), address_(std::move(address)) {}
  Result<json> get(const std::string& path) override {
    if (is_down()) return unreachable();
    return server_->answer("GET", path, nullptr);
  }
  using Api::post;
  Result<json> post(const std::string& path, const json& body, const Headers& headers) override {
    if (is_down()) return unreachable();
    return server_->answer("POST", path, body, headers);
  }
  // Text replies are kept as JSON strings in the same table.
  Result<std::string> get_text(const std::string& path) override {
    if (is_down()) return unreachable();
    Result<json> reply = server_->answer("GET", path, nullptr);
    if (!reply.ok()) return reply.status();
    return reply->is_string() ? reply->get<std::string>() : reply->dump();
  }
  std::optional<NotServed> not_served() const override {
    if (server_->down.contains(address_)) return NotServed{.unreachable = true};
    return std::nullopt;
  }

 private:
  bool is_down() const { return server_->down.contains(address_); }
  Status unreachable() const {
    return Status(Code::kUnavailable, "could not reach the berth server at " + address_);
  }
  FakeServer* server_;
  std::string address_;
};

class CliTest : public ::testing::Test {
 protected:
  int run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    CliIo io;
    io.out = &out_;
    io.err = &err_;
    io.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    io.environment = [this] { return env_; };
    io.read_file = [this](const std::string& path) -> Result<std::string> {
      auto it = files_.find(path);
      if (it == files_.end()) return Status::NotFound("No such file or directory");
      return it->second;
    };
    io.read_stdin = [this] { return stdin_; };
    io.cwd = [] { return std::string("/home/alice/proj"); };
    io.now_ms = [] { return *parse_time_ms("2026-03-01T12:00:00Z"); };
    io.new_request_key = [this] { return "key-" + std::to_string(++keys_made_); };
    io.sleep_ms = [this](int64_t ms) { slept_ms_.push_back(ms); };
    io.connect = [this](const std::string& server,
                        const std::string& token) -> Result<std::unique_ptr<Api>> {
      server_.connected_server = server;
      server_.connected_token = token;
      return std::unique_ptr<Api>(new FakeApi(&server_, server));
    };
    io.reconcile_state_dir = reconcile_state_dir_;
    return run_cli(args, io);
  }
  const Call& only_call() {
    EXPECT_EQ(server_.calls.size(), 1u);
    static const Call kNone;
    return server_.calls.empty() ? kNone : server_.calls.back();
  }

  FakeServer server_;
  std::ostringstream out_, err_;
  std::map<std::string, std::string> env_, files_;
  std::optional<std::string> stdin_;
  int keys_made_ = 0;
  std::vector<int64_t> slept_ms_;
  std::function<Result<core::ReconcileReport>(const std::string&, const core::ReconcileOptions&)>
      reconcile_state_dir_;
};

const char kTrainScript[] =
    "#!/bin/bash\n"
    "#SBATCH --account=vision\n"
    "#SBATCH --job-name=from-script\n"
    "#SBATCH --gres=gpu:H100:2\n"
    "#SBATCH --time=30\n"
    "#SBATCH --mail-type=END\n"
    "python train.py \"$@\"\n";

TEST_F(CliTest, SubmitSendsScriptOptionsAndWorkdir) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 42}, {"state", "PENDING"}});
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  const Call& call = only_call();
  EXPECT_EQ(call.path, "/v1/jobs");
  const json expected = {
      {"project", "vision"},   {"name", "from-script"},         {"gpus_per_node", 2},
      {"gpu_model", "H100"},   {"time_limit_s", 1800},          {"script", kTrainScript},
      {"args", json::array()}, {"workdir", "/home/alice/proj"}, {"submit_dir", "/home/alice/proj"}};
  EXPECT_EQ(call.body, expected);
  EXPECT_EQ(out_.str(), "Submitted batch job 42\n");
  EXPECT_NE(err_.str().find("berth: warning: line 6: --mail-type"), std::string::npos)
      << err_.str();
}

TEST_F(CliTest, SubmitFlagsOverrideTheScript) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 43}});
  ASSERT_EQ(run({"submit", "-G",      "4",         "--time=2:00:00",
                 "-J",     "flagged", "-A",        "12",
                 "--tier", "spot",    "--requeue", "-p",
                 "gpu",    "-o",      "out-%j",    "-e",
                 "err-%j", "-N",      "1",         "job.sh",
                 "--lr",   "0.1"}),
            0)
      << err_.str();
  const json& body = only_call().body;
  EXPECT_EQ(body["gpus"], 4);
  EXPECT_EQ(body["gpu_model"], "H100");  // Not overridden: the flags named no model.
  EXPECT_EQ(body["time_limit_s"], 7200);
  EXPECT_EQ(body["name"], "flagged");
  EXPECT_EQ(body["project"], 12);
  EXPECT_EQ(body["tier"], "spot");
  EXPECT_EQ(body["requeue"], true);
  EXPECT_EQ(body["partition"], "gpu");
  EXPECT_EQ(body["output"], "out-%j");
  EXPECT_EQ(body["error"], "err-%j");
  EXPECT_EQ(body["nodes"], 1);
  EXPECT_EQ(body["args"], json({"--lr", "0.1"}));  // Everything after the script belongs to it.
}

TEST_F(CliTest, SubmitHoldDependencyAndArrayFlags) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 50},
                                      {"array_id", 50},
                                      {"array_index", 0},
                                      {"array_task_ids", {50, 51, 52, 53, 54}}});
  ASSERT_EQ(run({"submit", "-H", "-d", "afterok:12:13,afterany:14", "-a", "0-8:2%2", "job.sh"}), 0)
      << err_.str();
  const json& body = only_call().body;
  EXPECT_EQ(body["hold"], true);
  EXPECT_EQ(body["dependency"], "afterok:12:13,afterany:14");
  EXPECT_EQ(body["array"], "0-8:2%2");
  EXPECT_EQ(out_.str(), "Submitted batch job 50 (job array, 5 tasks)\n");

  server_.calls.clear();
  ASSERT_EQ(run({"submit", "--hold", "--dependency=afternotok:7", "--array=1,3,5", "--parsable",
                 "job.sh"}),
            0)
      << err_.str();
  EXPECT_EQ(only_call().body["dependency"], "afternotok:7");
  EXPECT_EQ(only_call().body["array"], "1,3,5");
  EXPECT_EQ(only_call().body["hold"], true);
  EXPECT_EQ(out_.str(), "50\n");

  server_.calls.clear();
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();  // none of them unless asked
  EXPECT_FALSE(only_call().body.contains("hold"));
  EXPECT_FALSE(only_call().body.contains("dependency"));
  EXPECT_FALSE(only_call().body.contains("array"));
}

TEST_F(CliTest, SubmitReadsHoldDependencyAndArrayFromTheScript) {
  files_["job.sh"] =
      "#!/bin/bash\n#SBATCH -A vision -G 1\n#SBATCH --hold\n#SBATCH "
      "--dependency=afterany:9\n#SBATCH -a 0-3%1\necho\n";
  server_.reply("POST /v1/jobs", json{{"id", 60}});
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["hold"], true);
  EXPECT_EQ(only_call().body["dependency"], "afterany:9");
  EXPECT_EQ(only_call().body["array"], "0-3%1");
  server_.calls.clear();
  ASSERT_EQ(run({"submit", "-d", "afterok:10", "--array", "5", "job.sh"}), 0)
      << err_.str();  // flags win
  EXPECT_EQ(only_call().body["dependency"], "afterok:10");
  EXPECT_EQ(only_call().body["array"], "5");
  EXPECT_EQ(only_call().body["hold"], true);
}

TEST_F(CliTest, QuoteHasNoHoldDependencyOrArrayFlags) {
  EXPECT_NE(run({"quote", "-A", "vision", "-G", "1", "--hold"}), 0);
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, SubmitArgsAfterDoubleDash) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 44}});
  ASSERT_EQ(run({"submit", "job.sh", "--", "-x", "y"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["args"], json({"-x", "y"}));
}

TEST_F(CliTest, SubmitGpuModelFlagAndGresFlag) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 1}});
  ASSERT_EQ(run({"submit", "--gres=gpu:A100:8", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body["gpu_model"], "A100");
  EXPECT_EQ(server_.calls.back().body["gpus_per_node"], 8);  // Slurm's --gres counts per node
  ASSERT_EQ(run({"submit", "--gpus-per-node=4", "-N", "2", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body["gpus_per_node"], 4);
  EXPECT_EQ(server_.calls.back().body["nodes"], 2);
  EXPECT_FALSE(server_.calls.back().body.contains("gpus"));
  ASSERT_EQ(run({"submit", "--constraint", "L40S", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body["gpu_model"], "L40S");
}

TEST_F(CliTest, SubmitWrapMakesAScriptNamedWrap) {
  server_.reply("POST /v1/jobs", json{{"id", 5}});
  ASSERT_EQ(run({"submit", "--wrap", "nvidia-smi -L", "-G", "1", "-A", "vision"}), 0) << err_.str();
  const json& body = only_call().body;
  EXPECT_EQ(body["script"], "#!/bin/sh\nnvidia-smi -L\n");
  EXPECT_EQ(body["name"], "wrap");
}

TEST_F(CliTest, SubmitReadsStdinWhenNoScriptIsNamed) {
  stdin_ = "#!/bin/sh\n#SBATCH -A vision -G 1\necho\n";
  server_.reply("POST /v1/jobs", json{{"id", 6}});
  ASSERT_EQ(run({"submit"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["name"], "sbatch");
}

TEST_F(CliTest, SubmitWithoutAnyScriptIsRefused) {
  EXPECT_EQ(run({"submit", "-G", "1", "-A", "v"}), 1);
  EXPECT_NE(err_.str().find("berth: error: no batch script"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, SubmitParsableAndJson) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 42}, {"state", "PENDING"}});
  ASSERT_EQ(run({"submit", "--parsable", "job.sh"}), 0);
  EXPECT_EQ(out_.str(), "42\n");
  ASSERT_EQ(run({"--json", "submit", "job.sh"}), 0);
  EXPECT_EQ(json::parse(out_.str()), json({{"id", 42}, {"state", "PENDING"}}));
  ASSERT_EQ(run({"submit", "--json", "job.sh"}), 0);  // A global flag may follow the subcommand.
  EXPECT_EQ(json::parse(out_.str())["id"], 42);
}

TEST_F(CliTest, BadLocalInputNeverReachesTheServer) {
  files_["job.sh"] = kTrainScript;
  files_["bad.sh"] = "#!/bin/sh\n#SBATCH --licenses=matlab\n";
  files_["badarray.sh"] = "#!/bin/sh\n#SBATCH --array=3-1\n";
  const std::vector<std::vector<std::string>> cases = {
      {"submit", "-G", "0", "job.sh"},
      {"submit", "-G", "-2", "job.sh"},
      {"submit", "--time", "soon", "job.sh"},
      {"submit", "--time", "UNLIMITED", "job.sh"},
      {"submit", "--nodes", "0", "job.sh"},
      {"submit", "bad.sh"},
      {"submit", "missing.sh"},
      {"submit", "-G", "1", "--gres", "gpu:1", "job.sh"},
      {"topup", "vision", "10.00001"},
      {"topup", "vision", "-5"},
      {"scheme", "fund", "s", "1.23456"},
      {"scheme", "create", "s", "--rate", "170%", "--eligible", "startup"},
      {"award", "create", "--scheme", "s", "--project", "p", "--amount", "1", "--gpus", "0",
       "--start", "2026-01-01", "--end", "2027-01-01"},
      {"award", "create", "--scheme", "s", "--project", "p", "--amount", "1", "--gpus", "1",
       "--start", "2026-02-30", "--end", "2027-01-01"},
      {"award", "create", "--scheme", "s", "--project", "p", "--amount", "1", "--gpus", "1",
       "--start", "2027-01-01", "--end", "2026-01-01"},
      {"show", "abc"},
      {"cancel", "1", "x"},
      {"quote", "-A", "vision"},
      {"transfers", "--job", "12a"},
      {"submit", "-d", "after:12", "job.sh"},
      {"submit", "--dependency", "afterok", "job.sh"},
      {"submit", "-a", "0-9%0", "job.sh"},
      {"submit", "--array", "1,,2", "job.sh"},
      {"submit", "badarray.sh"},
      {"hold", "12", "x"},
      {"release", "1_x"},
      {"credit-limit", "vision", "-5"},
      {"credit-limit", "vision", "1.00001"},
      {"refund", "12", "--reason", ""},
      {"refund", "12x", "--reason", "r"},
      {"refund", "12", "--amount", "-1", "--reason", "r"},
      {"adjust", "vision", "-3.00001", "--reason", "r"},
      {"adjust", "vision", "3", "--reason", ""},
  };
  for (const auto& args : cases) {
    EXPECT_EQ(run(args), 1) << args[0] << " " << args[1];
    EXPECT_NE(err_.str().find("berth: error: "), std::string::npos) << err_.str();
  }
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, ScriptErrorsNameTheLine) {
  files_["bad.sh"] = "#!/bin/sh\n#SBATCH -J ok\n#SBATCH --licenses=matlab\n";
  EXPECT_EQ(run({"submit", "bad.sh"}), 1);
  EXPECT_NE(err_.str().find("line 3"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("--licenses"), std::string::npos) << err_.str();
  files_["bad.sh"] = "#!/bin/sh\n#SBATCH -J ok\n#SBATCH --dependency=afterok:x\n";
  EXPECT_EQ(run({"submit", "bad.sh"}), 1);
  EXPECT_NE(err_.str().find("line 3: --dependency: dependency 'afterok:x'"), std::string::npos)
      << err_.str();
}

TEST_F(CliTest, UsageErrorsKeepCli11ExitCodes) {
  EXPECT_NE(run({"submit", "--tier", "urgent", "x"}), 0);
  EXPECT_NE(err_.str().find("berth: error: "), std::string::npos);
  EXPECT_NE(run({"frobnicate"}), 0);
  EXPECT_NE(run({"org", "create", "x", "--kind", "bank"}), 0);
  EXPECT_NE(run({"show"}), 0);
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, SlurmOptionsFromOtherClustersWorkOnTheCommandLineToo) {
  files_["job.sh"] = kTrainScript;
  env_ = {{"PATH", "/opt/conda/bin"}, {"LR", "0.1"}, {"BERTH_TOKEN", "tok"}, {"HF_TOKEN", "hf_x"}};
  server_.reply("POST /v1/jobs", json{{"id", 60}});
  ASSERT_EQ(run({"submit", "--qos=high", "--chdir", "runs", "--signal=B:USR1@90", "-c", "8",
                 "--mem=16G", "--cpus-per-gpu", "4", "-n", "2", "--mail-type=ALL", "job.sh"}),
            0)
      << err_.str();
  const json& body = only_call().body;
  EXPECT_EQ(body["tier"], "high");
  EXPECT_EQ(body["workdir"], "/home/alice/proj/runs");
  EXPECT_EQ(body["submit_dir"], "/home/alice/proj");
  EXPECT_EQ(body["signal"], "B:USR1@90");
  EXPECT_EQ(body["resources"],
            json({{"cpus_per_task", 8}, {"mem_mb", 16384}, {"cpus_per_gpu", 4}, {"ntasks", 2}}));
  // Slurm's default --export=ALL, less BERTH_TOKEN and the deny list's *TOKEN*.
  EXPECT_EQ(body["env"], json({{"PATH", "/opt/conda/bin"}, {"LR", "0.1"}}));
  EXPECT_NE(err_.str().find("berth: warning: --mail-type is not used by berth; ignored"),
            std::string::npos)
      << err_.str();
}

TEST_F(CliTest, ExportNoneAndTheConfiguredDenyList) {
  files_["job.sh"] = kTrainScript;
  env_ = {{"HOME", "/home/alice"}, {"LR", "0.1"}, {"HF_TOKEN", "hf_x"}};
  files_["/home/alice/.config/berth/cli.toml"] = "export_deny = \"LR\"\n";
  server_.reply("POST /v1/jobs", json{{"id", 61}});
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["env"], json({{"HF_TOKEN", "hf_x"}}));
  server_.calls.clear();
  ASSERT_EQ(run({"submit", "--export=NONE", "job.sh"}), 0) << err_.str();
  EXPECT_FALSE(only_call().body.contains("env"));
  server_.calls.clear();
  ASSERT_EQ(run({"submit", "--export=LR,EPOCHS=3", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["env"], json({{"LR", "0.1"}, {"EPOCHS", "3"}}));
}

TEST_F(CliTest, NodeListsAreSentAsNames) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 62}});
  ASSERT_EQ(run({"submit", "-w", "gpu-[01-02]", "--exclude=gpu03", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(only_call().body["required_nodes"], json({"gpu-01", "gpu-02"}));
  EXPECT_EQ(only_call().body["excluded_nodes"], json({"gpu03"}));
}

TEST_F(CliTest, SlurmOptionsBerthDoesNotDoAreRefusedBeforeAnyRequest) {
  files_["job.sh"] = kTrainScript;
  EXPECT_EQ(run({"submit", "--begin=now+1hour", "job.sh"}), 1);
  EXPECT_NE(err_.str().find("--begin is not supported: jobs start as soon as they fit"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"submit", "-w", "gpu[2-1]", "job.sh"}), 1);
  EXPECT_NE(err_.str().find("range '2-1' in node list runs backwards"), std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"submit", "--qos=gold", "job.sh"}), 1);
  EXPECT_NE(err_.str().find("'gold' is not one of high, normal, spot"), std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"submit", "--signal=R:USR1@60", "job.sh"}), 1);
  EXPECT_NE(err_.str().find("R: (reservations)"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"submit", "--export=BERTH_TOKEN", "job.sh"}), 1);
  EXPECT_NE(err_.str().find("never passes"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, HelpExitsZero) {
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out_.str().find("submit"), std::string::npos);
  EXPECT_EQ(run({"submit", "--help"}), 0);
  EXPECT_NE(out_.str().find("--wrap"), std::string::npos);
}

TEST_F(CliTest, ServerErrorsPrintTheServersMessage) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", Status::Funds("project vision cannot afford 200.0000"));
  EXPECT_EQ(run({"submit", "job.sh"}), 1);
  EXPECT_EQ(err_.str(),
            "berth: warning: line 6: --mail-type is not used by berth; ignored\n"
            "berth: error: project vision cannot afford 200.0000\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliTest, UnauthenticatedGetsATokenHint) {
  server_.reply("GET /v1/whoami", Status::Unauthenticated("missing token"));
  EXPECT_EQ(run({"whoami"}), 1);
  EXPECT_NE(err_.str().find("missing token (no token found"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"--token", "t", "whoami"}), 1);
  EXPECT_NE(err_.str().find("(token from --token)"), std::string::npos) << err_.str();
}

TEST_F(CliTest, ConnectionSettingsReachConnect) {
  server_.reply("GET /v1/whoami", json{{"user", "root"}, {"role", "admin"}});
  files_["berth-state/admin.token"] = "local-admin\n";
  ASSERT_EQ(run({"whoami"}), 0);
  EXPECT_EQ(server_.connected_server, "http://127.0.0.1:8765");
  EXPECT_EQ(server_.connected_token, "local-admin");
  env_["BERTH_SERVER"] = "http://env:1";
  env_["BERTH_TOKEN"] = "env-token";
  ASSERT_EQ(run({"whoami"}), 0);
  EXPECT_EQ(server_.connected_server, "http://env:1");
  EXPECT_EQ(server_.connected_token, "env-token");
  ASSERT_EQ(run({"--server", "http://flag:2", "--token", "flag-token", "whoami"}), 0);
  EXPECT_EQ(server_.connected_server, "http://flag:2");
  EXPECT_EQ(server_.connected_token, "flag-token");
  EXPECT_EQ(out_.str(), "user: root\nrole: admin\n");
}

TEST_F(CliTest, AListOfServersFallsOverFromOneThatIsDown) {
  server_.reply("GET /v1/whoami", json{{"user", "root"}, {"role", "admin"}});
  server_.down = {"http://ctl1:8765"};
  ASSERT_EQ(run({"--server", "http://ctl1:8765", "--server", "http://ctl2:8765", "whoami"}), 0)
      << err_.str();
  EXPECT_EQ(server_.connected_server, "http://ctl2:8765");
  EXPECT_EQ(out_.str(), "user: root\nrole: admin\n");
  server_.connected_server.clear();
  env_["BERTH_SERVER"] = "http://ctl1:8765, http://ctl3:8765";
  ASSERT_EQ(run({"whoami"}), 0) << err_.str();
  EXPECT_EQ(server_.connected_server, "http://ctl3:8765");
  ASSERT_EQ(run({"--server", "http://ctl1:8765,http://ctl4:8765", "whoami"}), 0) << err_.str();
  EXPECT_EQ(server_.connected_server, "http://ctl4:8765");
  EXPECT_TRUE(slept_ms_.empty());
}

TEST_F(CliTest, EveryServerDownNamesEachAfterTheSearch) {
  server_.down = {"http://ctl1:8765", "http://ctl2:8765"};
  EXPECT_EQ(run({"--server", "http://ctl1:8765,http://ctl2:8765", "whoami"}), 1);
  EXPECT_EQ(err_.str(),
            "berth: error: no berthd took the request within 15 s; asked http://ctl1:8765 "
            "(could not reach the berth server at http://ctl1:8765); http://ctl2:8765 (could not "
            "reach the berth server at http://ctl2:8765)\n");
  EXPECT_FALSE(slept_ms_.empty());
  // One server, as before: its own message at once.
  slept_ms_.clear();
  EXPECT_EQ(run({"--server", "http://ctl1:8765", "whoami"}), 1);
  EXPECT_EQ(err_.str(), "berth: error: could not reach the berth server at http://ctl1:8765\n");
  EXPECT_TRUE(slept_ms_.empty());
}

TEST_F(CliTest, AdminLeaderShowsWhoLeads) {
  const json reply = {
      {"store", "postgresql"},
      {"epoch", 7},
      {"leader",
       {{"name", "ctl1"}, {"http_address", "http://ctl1:8765"}, {"agents_address", "ctl1:8766"}}},
      {"since_ms", *parse_time_ms("2026-03-01T11:58:00Z")},
      {"expires_ms", *parse_time_ms("2026-03-01T12:00:03Z")},
      {"this", {{"name", "ctl2"}, {"role", "standby"}}}};
  server_.reply("GET /v1/admin/leader", reply);
  ASSERT_EQ(run({"admin", "leader"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "STORE       EPOCH  LEADER  HTTP              AGENTS     SINCE                 "
            "EXPIRES               THIS\n"
            "postgresql      7  ctl1    http://ctl1:8765  ctl1:8766  2026-03-01T11:58:00Z  "
            "2026-03-01T12:00:03Z  ctl2 (standby)\n");
  ASSERT_EQ(run({"admin", "leader", "--json"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str()), reply);
  EXPECT_EQ(server_.calls.back().path, "/v1/admin/leader");
}

TEST_F(CliTest, AdminLeaderWhileNoneLeads) {
  server_.reply("GET /v1/admin/leader",
                json{{"store", "postgresql"},
                     {"epoch", 7},
                     {"leader", {{"name", ""}, {"http_address", ""}, {"agents_address", ""}}},
                     {"since_ms", 0},
                     {"expires_ms", 0},
                     {"this", {{"name", "ctl2"}, {"role", "standby"}}}});
  ASSERT_EQ(run({"admin", "leader"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("postgresql      7  -       -     -       -      -        ctl2 "
                            "(standby)\n"),
            std::string::npos)
      << out_.str();
}

TEST_F(CliTest, QueueDefaultsToPendingAndRunning) {
  server_.reply("GET /v1/jobs?state=PENDING%2CRUNNING&limit=1000",
                json{{"jobs",
                      {{{"id", 1},
                        {"project", "p"},
                        {"name", "n"},
                        {"user", "u"},
                        {"state", "PENDING"},
                        {"gpus", 1},
                        {"reason", "Priority"}}}}});
  ASSERT_EQ(run({"queue"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "JOBID  PARTITION  PROJECT  NAME  USER  ST  TIME  NODES  GPUS  NODELIST(REASON)\n"
            "    1  -          p        n     u     PD  0:00      -     1  (Priority)\n");
}

// A long queue comes in pages: the CLI follows each page's `next` cursor until it is null.
TEST_F(CliTest, QueueFollowsNextCursorToTheEnd) {
  auto job = [](int id) {
    return json{{"id", id},           {"project", "p"}, {"name", "n"},         {"user", "u"},
                {"state", "PENDING"}, {"gpus", 1},      {"reason", "Priority"}};
  };
  server_.reply("GET /v1/jobs?state=PENDING%2CRUNNING&limit=1000",
                json{{"jobs", {job(1)}}, {"next", 5000}});
  server_.reply("GET /v1/jobs?state=PENDING%2CRUNNING&limit=1000&after=5000",
                json{{"jobs", json::array()}, {"next", 10000}});
  server_.reply("GET /v1/jobs?state=PENDING%2CRUNNING&limit=1000&after=10000",
                json{{"jobs", {job(10001)}}, {"next", nullptr}});
  ASSERT_EQ(run({"queue"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.size(), 3u);
  EXPECT_EQ(out_.str(),
            "JOBID  PARTITION  PROJECT  NAME  USER  ST  TIME  NODES  GPUS  NODELIST(REASON)\n"
            "    1  -          p        n     u     PD  0:00      -     1  (Priority)\n"
            "10001  -          p        n     u     PD  0:00      -     1  (Priority)\n");
}

TEST_F(CliTest, QueueFilters) {
  server_.reply("GET /v1/jobs?state=COMPLETED%2CFAILED&project=vision&user=bob&limit=1000",
                json{{"jobs", json::array()}});
  ASSERT_EQ(run({"queue", "--state", "cd,f", "--project", "vision", "--user", "bob"}), 0)
      << err_.str();
  server_.reply("GET /v1/jobs?limit=1000", json{{"jobs", json::array()}});
  ASSERT_EQ(run({"queue", "--all"}), 0) << err_.str();
  EXPECT_NE(run({"queue", "--all", "--state", "R"}), 0);
}

TEST_F(CliTest, ShowPrintsTheJobAsScontrolDoesAndJsonAsItCame) {
  const json job = {{"id", 14},
                    {"name", "train"},
                    {"state", "RUNNING"},
                    {"time_limit_s", 172800},
                    {"start_time", "2026-03-01T11:00:00Z"},
                    {"array_id", 12},
                    {"array_index", 2}};
  server_.reply("GET /v1/jobs/12_2", job);
  ASSERT_EQ(run({"show", "12_2"}), 0) << err_.str();
  EXPECT_EQ(only_call().path, "/v1/jobs/12_2");
  EXPECT_EQ(out_.str().substr(0, out_.str().find('\n')),
            "JobId=14 ArrayJobId=12 ArrayTaskId=2 JobName=train");
  EXPECT_NE(out_.str().find("RunTime=01:00:00 TimeLimit=2-00:00:00 "), std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("time_limit_s"), std::string::npos) << out_.str();
  ASSERT_EQ(run({"--json", "show", "12_2"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str()), job);
}

TEST_F(CliTest, ArrayTaskIdsAreAcceptedWhereverAJobIdIs) {
  server_.reply("POST /v1/jobs/26_3/cancel", json{{"id", 29}, {"state", "CANCELLED"}});
  ASSERT_EQ(run({"cancel", "26_3"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Cancelled job 26_3\n");
  server_.reply("POST /v1/jobs/26_1/hold", json{{"id", 27}, {"state", "PENDING"}});
  ASSERT_EQ(run({"hold", "26_1"}), 0) << err_.str();
  server_.reply("POST /v1/jobs/26_1/refund", json{{"id", 27}, {"refund", {{"amount", "1.0000"}}}});
  ASSERT_EQ(run({"refund", "26_1", "--reason", "node fault"}), 0) << err_.str();
  server_.reply("GET /v1/transfers?job=26_1&limit=1000", json{{"transfers", json::array()}});
  ASSERT_EQ(run({"transfers", "--job", "26_1"}), 0) << err_.str();
  server_.calls.clear();
  for (const char* bad : {"26_", "_3", "26_x", "26-3", "26_3_1"}) {
    EXPECT_EQ(run({"show", bad}), 1) << bad;
    EXPECT_NE(err_.str().find("neither a number nor ARRAYID_INDEX"), std::string::npos)
        << err_.str();
    EXPECT_EQ(run({"cancel", bad}), 1) << bad;
    EXPECT_EQ(run({"refund", bad, "--reason", "x"}), 1) << bad;
  }
  EXPECT_TRUE(server_.calls.empty());
}

// An array's own id names the whole array (as scancel's does): the reply lists the tasks acted on.
TEST_F(CliTest, CancelHoldAndReleaseOfAWholeArraySayHowManyTasks) {
  const json cancelled = {{"id", 26},
                          {"state", "CANCELLED"},
                          {"array_id", 26},
                          {"array_index", 0},
                          {"array_tasks",
                           {{{"id", 26}, {"state", "CANCELLED"}},
                            {{"id", 27}, {"state", "RUNNING"}},
                            {{"id", 28}, {"state", "CANCELLED"}}}}};
  server_.reply("POST /v1/jobs/26/cancel", cancelled);
  ASSERT_EQ(run({"cancel", "26"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Cancelled job array 26 (3 tasks; 1 task running, being stopped)\n");
  server_.reply("POST /v1/jobs/26/hold",
                json{{"id", 26}, {"array_tasks", {{{"id", 26}}, {{"id", 27}}}}});
  ASSERT_EQ(run({"hold", "26"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Held job array 26 (2 tasks)\n");
  server_.reply("POST /v1/jobs/26/release", json{{"id", 26}, {"array_tasks", {{{"id", 27}}}}});
  ASSERT_EQ(run({"release", "26"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Released job array 26 (1 task)\n");
}

// sacct: ended jobs since today's midnight (UTC) by default, in sacct's columns.
TEST_F(CliTest, HistoryListsEndedJobsSinceMidnightInSacctColumns) {
  const json done = {{"id", 9},
                     {"name", "train"},
                     {"project", "vision"},
                     {"user", "alice"},
                     {"state", "COMPLETED"},
                     {"start_time", "2026-03-01T08:00:00Z"},
                     {"end_time", "2026-03-01T09:30:00Z"},
                     {"runtime_s", 5400},
                     {"gpus", 2},
                     {"exit_code", 0},
                     {"signal", nullptr},
                     {"cost", "30.0000"},
                     {"subsidy", "21.0000"}};
  server_.reply(
      "GET "
      "/v1/"
      "jobs?since=2026-03-01T00%3A00%3A00Z&state=COMPLETED%2CFAILED%2CCANCELLED%2CTIMEOUT%"
      "2CPREEMPTED%2CNODE_FAIL%2COUT_OF_MEMORY&limit=1000",
      json{{"jobs", {done}}, {"next", nullptr}});
  ASSERT_EQ(run({"history"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "JobID  JobName  Account  User   State      Start                 End                  "
            "  Elapsed  AllocGPUS  "
            "ExitCode  GPUHours       Cost    Subsidy\n"
            "9      train    vision   alice  COMPLETED  2026-03-01T08:00:00Z  2026-03-01T09:30:00Z "
            " 01:30:00          2  "
            "0:0         3.0000  HK$ 30.00  HK$ 21.00\n");
}

TEST_F(CliTest, HistoryWindowFiltersFormatAndCsv) {
  const std::string path =
      "GET "
      "/v1/"
      "jobs?since=2026-02-01T00%3A00%3A00Z&until=2026-02-28T12%3A00%3A00Z&state=FAILED%2CTIMEOUT"
      "&project=vision&user=bob&limit=1000";
  const json failed = {{"id", 7},     {"name", "=cmd"}, {"state", "FAILED"}, {"exit_code", 1},
                       {"signal", 9}, {"array_id", 5},  {"array_index", 2},  {"partition", "gpu"}};
  server_.reply(path, json{{"jobs", {failed}}});
  ASSERT_EQ(run({"history", "-S", "2026-02-01", "-E", "02/28-12:00", "-s", "f,to", "-A", "vision",
                 "-u", "bob", "--format", "jobid,JobName%30,partition,State,exitcode"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(),
            "JobID  JobName  Partition  State   ExitCode\n"
            "5_2    =cmd     gpu        FAILED  1:9\n");
  ASSERT_EQ(run({"history", "-S", "2026-02-01", "-E", "02/28-12:00", "-s", "f,to", "-A", "vision",
                 "-u", "bob", "--format", "JobID,JobName,State", "--csv"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "JobID,JobName,State\n5_2,'=cmd,FAILED\n");
  ASSERT_EQ(run({"--json", "history", "-S", "2026-02-01", "-E", "02/28-12:00", "-s", "f,to", "-A",
                 "vision", "-u", "bob"}),
            0);
  EXPECT_EQ(json::parse(out_.str())["jobs"][0]["id"], 7);

  server_.reply("GET /v1/jobs?since=2026-02-27T12%3A00%3A00Z&limit=1000",
                json{{"jobs", json::array()}});
  ASSERT_EQ(run({"history", "-a", "-S", "now-2days", "--format", "JobID"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "JobID\n");
}

// sacct -j: the jobs named, in any state; an array's own id stands for all its tasks.
TEST_F(CliTest, HistoryOfNamedJobsAndWholeArrays) {
  server_.reply("GET /v1/jobs/7", json{{"id", 7}, {"state", "RUNNING"}});
  server_.reply("GET /v1/jobs/26",
                json{{"id", 26}, {"array_id", 26}, {"array_index", 0}, {"state", "COMPLETED"}});
  server_.reply("GET /v1/jobs?array=26&limit=1000",
                json{{"jobs",
                      {{{"id", 26}, {"array_id", 26}, {"array_index", 0}, {"state", "COMPLETED"}},
                       {{"id", 27}, {"array_id", 26}, {"array_index", 1}, {"state", "FAILED"}}}}});
  server_.reply("GET /v1/jobs/26_1",
                json{{"id", 27}, {"array_id", 26}, {"array_index", 1}, {"state", "FAILED"}});
  ASSERT_EQ(run({"history", "-j", "7,26", "-j", "26_1", "--format", "JobID,State", "--csv"}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(), "JobID,State\n7,RUNNING\n26_0,COMPLETED\n26_1,FAILED\n26_1,FAILED\n");
  server_.calls.clear();
  EXPECT_EQ(run({"history", "-j", "7,x"}), 1);
  EXPECT_NE(run({"history", "-j", "7", "-S", "today"}), 0);
  EXPECT_TRUE(server_.calls.empty());
  server_.reply("GET /v1/jobs/8", Status::NotFound("job 8 not found"));
  EXPECT_EQ(run({"history", "-j", "8"}), 1);
  EXPECT_EQ(err_.str(), "berth: error: job 8: job 8 not found\n");
}

TEST_F(CliTest, HistoryRefusesBadTimesColumnsAndFormatsBeforeAsking) {
  EXPECT_EQ(run({"history", "-S", "yesterday-ish"}), 1);
  EXPECT_NE(err_.str().find("-S/--starttime: time 'yesterday-ish' is not one Slurm takes"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"history", "-S", "2026-02-10", "-E", "2026-02-01"}), 1);
  EXPECT_NE(err_.str().find("is before -S/--starttime"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"history", "--format", "JobID,MaxRSS"}), 1);
  EXPECT_NE(err_.str().find("unknown --format column 'MaxRSS'; known: JobID, "), std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"--json", "history", "--csv"}), 1);
  EXPECT_NE(run({"history", "-a", "-s", "CD"}), 0);
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, PartitionsShowGpusByNodeStateAsSinfoDoes) {
  server_.reply("GET /v1/partitions",
                json{{"partitions",
                      {{{"name", "gpu"}, {"max_time_s", 172800}, {"default", true}},
                       {{"name", "long"}, {"max_time_s", 604800}, {"default", false}}}}});
  server_.reply(
      "GET /v1/nodes",
      json{
          {"nodes",
           {{{"name", "a1"}, {"gpu_model", "A100"}, {"gpus", 8}, {"gpus_free", 8}, {"state", "up"}},
            {{"name", "h1"}, {"gpu_model", "H100"}, {"gpus", 8}, {"gpus_free", 2}, {"state", "up"}},
            {{"name", "h2"}, {"gpu_model", "H100"}, {"gpus", 8}, {"gpus_free", 3}, {"state", "up"}},
            {{"name", "h3"},
             {"gpu_model", "H100"},
             {"gpus", 8},
             {"gpus_free", 8},
             {"state", "drain"}}}}});
  ASSERT_EQ(run({"partitions"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "PARTITION  AVAIL   TIMELIMIT  NODES  STATE  GPUS(A/I/O/T)  GPU_MODEL  NODELIST\n"
            "gpu*       up     2-00:00:00      1  drain  0/0/8/8        H100       h3\n"
            "gpu*       up     2-00:00:00      1  idle   0/8/0/8        A100       a1\n"
            "gpu*       up     2-00:00:00      2  mix    11/5/0/16      H100       h1,h2\n"
            "long       up     7-00:00:00      1  drain  0/0/8/8        H100       h3\n"
            "long       up     7-00:00:00      1  idle   0/8/0/8        A100       a1\n"
            "long       up     7-00:00:00      2  mix    11/5/0/16      H100       h1,h2\n");
}

TEST_F(CliTest, UnknownCommandsAreNamed) {
  EXPECT_NE(run({"frobnicate"}), 0);
  EXPECT_EQ(err_.str(), "berth: error: unknown command 'frobnicate'; see berth --help\n");
  EXPECT_NE(run({"--server", "http://x:1", "sacct"}), 0);
  EXPECT_EQ(err_.str(), "berth: error: unknown command 'sacct'; see berth --help\n");
  EXPECT_NE(run({"org", "frob"}), 0);
  EXPECT_EQ(err_.str(), "berth: error: unknown command 'org frob'; see berth org --help\n");
  // A command's own bad argument is still CLI11's message.
  EXPECT_NE(run({"show", "1", "2"}), 0);
  EXPECT_EQ(err_.str().find("unknown command"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, CancelGoesOnAfterAFailure) {
  server_.reply("POST /v1/jobs/1/cancel", json{{"id", 1}, {"state", "CANCELLED"}});
  server_.reply("POST /v1/jobs/2/cancel", Status::Denied("job 2 belongs to another organisation"));
  server_.reply("POST /v1/jobs/3/cancel", json{{"id", 3}, {"state", "RUNNING"}});
  EXPECT_EQ(run({"cancel", "1", "2", "3"}), 1);
  EXPECT_EQ(server_.calls.size(), 3u);
  EXPECT_EQ(out_.str(), "Cancelled job 1\nCancelling job 3 (RUNNING)\n");
  EXPECT_EQ(err_.str(), "berth: error: job 2: job 2 belongs to another organisation\n");
}

TEST_F(CliTest, HoldAndReleaseGoOnAfterAFailure) {
  server_.reply("POST /v1/jobs/1/hold", json{{"id", 1}, {"held", true}, {"state", "PENDING"}});
  server_.reply("POST /v1/jobs/2/hold",
                Status::Invalid("job 2 is RUNNING; only a pending job can be held"));
  server_.reply("POST /v1/jobs/3/hold", json{{"id", 3}, {"held", true}, {"state", "PENDING"}});
  EXPECT_EQ(run({"hold", "1", "2", "3"}), 1);
  ASSERT_EQ(server_.calls.size(), 3u);
  EXPECT_EQ(server_.calls[0].path, "/v1/jobs/1/hold");
  EXPECT_EQ(server_.calls[0].method, "POST");
  EXPECT_EQ(server_.calls[0].body, json::object());
  EXPECT_EQ(out_.str(), "Held job 1\nHeld job 3\n");
  EXPECT_EQ(err_.str(), "berth: error: job 2: job 2 is RUNNING; only a pending job can be held\n");

  server_.calls.clear();
  server_.reply("POST /v1/jobs/1/release", json{{"id", 1}, {"held", false}, {"state", "PENDING"}});
  ASSERT_EQ(run({"release", "1"}), 0) << err_.str();
  EXPECT_EQ(only_call().path, "/v1/jobs/1/release");
  EXPECT_EQ(only_call().body, json::object());
  EXPECT_EQ(out_.str(), "Released job 1\n");

  ASSERT_EQ(run({"--json", "release", "1"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str()),
            json({{"jobs", {{{"id", 1}, {"held", false}, {"state", "PENDING"}}}}}));
}

TEST_F(CliTest, QueueShowsArrayTasksLikeSqueue) {
  server_.reply("GET /v1/jobs?state=PENDING%2CRUNNING&limit=1000",
                json{{"jobs",
                      {{{"id", 12},
                        {"project", "p"},
                        {"name", "a"},
                        {"user", "u"},
                        {"state", "PENDING"},
                        {"gpus", 1},
                        {"reason", "JobArrayTaskLimit"},
                        {"array_id", 12},
                        {"array_index", 0}},
                       {{"id", 15},
                        {"project", "p"},
                        {"name", "a"},
                        {"user", "u"},
                        {"state", "PENDING"},
                        {"gpus", 1},
                        {"reason", "Dependency"},
                        {"array_id", 12},
                        {"array_index", 3}},
                       {{"id", 16},
                        {"project", "p"},
                        {"name", "b"},
                        {"user", "u"},
                        {"state", "PENDING"},
                        {"gpus", 1},
                        {"reason", "JobHeldUser"},
                        {"array_id", nullptr},
                        {"array_index", nullptr},
                        {"held", true}}}}});
  ASSERT_EQ(run({"queue"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "JOBID  PARTITION  PROJECT  NAME  USER  ST  TIME  NODES  GPUS  NODELIST(REASON)\n"
            " 12_0  -          p        a     u     PD  0:00      -     1  (JobArrayTaskLimit)\n"
            " 12_3  -          p        a     u     PD  0:00      -     1  (Dependency)\n"
            "   16  -          p        b     u     PD  0:00      -     1  (JobHeldUser)\n");
}

TEST_F(CliTest, QuoteFromFlagsOrScript) {
  server_.reply("POST /v1/quote",
                json{{"max_cost", "100.0000"}, {"affordable", true}, {"rate_bps", 7000}});
  ASSERT_EQ(run({"quote", "-A", "vision", "-G", "2", "-t", "1:00:00", "--gpu-model", "H100"}), 0)
      << err_.str();
  EXPECT_EQ(
      only_call().body,
      json({{"project", "vision"}, {"gpus", 2}, {"time_limit_s", 3600}, {"gpu_model", "H100"}}));
  EXPECT_NE(out_.str().find("affordable          yes"), std::string::npos) << out_.str();
  files_["job.sh"] = kTrainScript;
  ASSERT_EQ(run({"quote", "job.sh", "-G", "1"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body["gpus"], 1);
  EXPECT_EQ(server_.calls.back().body["project"], "vision");
}

TEST_F(CliTest, StatementAsTableCsvOrHtml) {
  const json st = {{"project", "vision"},
                   {"org", "hku"},
                   {"opening_balance", "1.0000"},
                   {"jobs", json::array()}};
  server_.reply("GET /v1/projects/vision/statement?month=2026-11", st);
  ASSERT_EQ(run({"statement", "vision", "--month", "2026-11"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("Statement of vision (hku)"), std::string::npos) << out_.str();
  ASSERT_EQ(run({"statement", "vision", "--month", "2026-11", "--json"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str()), st);
  server_.reply("GET /v1/projects/vision/statement?month=2026-11&format=csv",
                json("type,time\r\nopening,x\r\n"));
  ASSERT_EQ(run({"statement", "vision", "--month", "2026-11", "--csv"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "type,time\r\nopening,x\r\n");  // as the server sent it
  server_.reply("GET /v1/projects/vision/statement?format=html", json("<!DOCTYPE html>\n"));
  ASSERT_EQ(run({"statement", "vision", "--html"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "<!DOCTYPE html>\n");
}

TEST_F(CliTest, StatementRefusesABadMonthOrTwoFormatsBeforeAsking) {
  EXPECT_EQ(run({"statement", "vision", "--month", "2026-13"}), 1);
  EXPECT_NE(err_.str().find("--month: month '2026-13' is not a month"), std::string::npos)
      << err_.str();
  EXPECT_NE(run({"statement", "vision", "--csv", "--html"}), 0);
  EXPECT_EQ(run({"--json", "statement", "vision", "--csv"}), 1);
  EXPECT_NE(err_.str().find("--json cannot be combined"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
  server_.reply("GET /v1/projects/other/statement",
                Status::NotFound("project \"other\" not found"));
  EXPECT_EQ(run({"statement", "other"}), 1);
  EXPECT_NE(err_.str().find("not found"), std::string::npos) << err_.str();
}

TEST_F(CliTest, ReportScheme) {
  server_.reply("GET /v1/schemes/ai-subsidy/report?from=2026-11-01",
                json{{"scheme", "ai-subsidy"}, {"rate_bps", 7000}});
  ASSERT_EQ(run({"report", "scheme", "ai-subsidy", "--from", "2026-11-01"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("Scheme ai-subsidy (70%)"), std::string::npos) << out_.str();
  EXPECT_EQ(run({"report", "scheme", "ai-subsidy", "--from", "November"}), 1);
  EXPECT_NE(err_.str().find("--from"), std::string::npos) << err_.str();
}

TEST_F(CliTest, BalanceOfOneProjectAndOfAll) {
  const json vision = {
      {"project", "vision"}, {"wallet", {{"balance", "1.0000"}}}, {"awards", json::array()}};
  server_.reply("GET /v1/projects/vision/balance", vision);
  ASSERT_EQ(run({"balance", "vision"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("vision   HK$ 1.00"), std::string::npos) << out_.str();
  server_.reply("GET /v1/projects",
                json{{"projects", {{{"id", 1}, {"name", "vision"}}, {{"id", 2}}}}});
  server_.reply("GET /v1/projects/1/balance", vision);
  server_.reply("GET /v1/projects/2/balance", json{{"project", "nlp"}});
  ASSERT_EQ(run({"--json", "balance"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str())["balances"].size(), 2u);
}

TEST_F(CliTest, TablesShowMoneyInTheServersCurrencyAndJsonKeepsItExact) {
  server_.reply("GET /v1/projects/vision/balance", json{{"project", "vision"},
                                                        {"wallet", {{"balance", "200000.0000"}}},
                                                        {"awards", json::array()}});
  ASSERT_EQ(run({"balance", "vision"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("HK$ 200,000.00"), std::string::npos) << out_.str();
  EXPECT_EQ(server_.health_calls, 1);
  ASSERT_EQ(run({"--json", "balance", "vision"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str())["wallet"]["balance"], "200000.0000");
  EXPECT_EQ(server_.health_calls, 1);  // --json renders no table: the currency is not asked for
  // A server that names only its code, and one that does not answer: the code, then no currency.
  server_.health = json{{"status", "ok"}, {"currency", "SGD"}};
  ASSERT_EQ(run({"balance", "vision"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("SGD 200,000.00"), std::string::npos) << out_.str();
  server_.health = Status::NotFound("no such route");
  ASSERT_EQ(run({"balance", "vision"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("vision   200,000.00"), std::string::npos) << out_.str();
}

TEST_F(CliTest, ANodeDrainedIsSaidSo) {
  server_.reply("POST /v1/nodes/local/state",
                json{{"name", "local"}, {"state", "drain"}, {"jobs_ended", json::array()}});
  ASSERT_EQ(run({"node", "drain", "local"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Node local is drained\n");
  server_.reply("POST /v1/nodes/local/state",
                json{{"name", "local"}, {"state", "up"}, {"jobs_ended", json::array()}});
  ASSERT_EQ(run({"node", "resume", "local"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Node local is up\n");
  EXPECT_EQ(server_.calls.back().body, (json{{"state", "resume"}}));
}

TEST_F(CliTest, ANodeDrainOrDownSendsItsReason) {
  server_.reply("POST /v1/nodes/local/state",
                json{{"name", "local"}, {"state", "down"}, {"jobs_ended", json::array()}});
  ASSERT_EQ(run({"node", "down", "local", "--reason", "PSU failed"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, (json{{"state", "down"}, {"reason", "PSU failed"}}));
  EXPECT_EQ(out_.str(), "Node local is down\n");
}

TEST_F(CliTest, NodesListTheirAgentsHeartbeatsAndReasons) {
  server_.reply("GET /v1/nodes", json{{"nodes",
                                       {{{"name", "h1"},
                                         {"state", "drain"},
                                         {"agent_version", "0.9.0"},
                                         {"last_heartbeat", "2026-03-01T11:59:57Z"},
                                         {"reason", "agent reports 4 GPUs, configured 8"}}}}});
  ASSERT_EQ(run({"nodes"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("0.9.0  3s ago     agent reports 4 GPUs, configured 8\n"),
            std::string::npos)
      << out_.str();
}

TEST_F(CliTest, ReconcileStateDirReadsTheDatabaseThroughTheStoreWithoutAServer) {
  std::string asked_dir;
  reconcile_state_dir_ = [&](const std::string& dir,
                             const core::ReconcileOptions&) -> Result<core::ReconcileReport> {
    asked_dir = dir;
    core::ReconcileReport report;
    report.accounts_checked = 7;
    report.transfers_checked = 20;
    report.jobs_checked = 5;
    report.topups_checked = 1;
    return report;
  };
  ASSERT_EQ(run({"reconcile", "--state-dir", "/srv/berth"}), 0) << err_.str();
  EXPECT_EQ(asked_dir, "/srv/berth");
  EXPECT_TRUE(server_.calls.empty());
  EXPECT_EQ(out_.str(),
            "Reconciled 7 accounts, 20 transfers, 5 jobs and 1 top-up: no differences.\n");
  ASSERT_EQ(run({"--json", "reconcile", "--state-dir", "/srv/berth"}), 0) << err_.str();
  const json reply = json::parse(out_.str());
  EXPECT_EQ(reply["checked"]["transfers"], 20);
  EXPECT_FALSE(reply.contains("engine"));  // no engine runs offline

  reconcile_state_dir_ = [](const std::string&,
                            const core::ReconcileOptions&) -> Result<core::ReconcileReport> {
    return Status::NotFound("no berth database at /srv/berth/berth.db");
  };
  EXPECT_EQ(run({"reconcile", "--state-dir", "/srv/berth"}), 1);
  EXPECT_NE(err_.str().find("no berth database at /srv/berth/berth.db"), std::string::npos)
      << err_.str();

  reconcile_state_dir_ = nullptr;
  EXPECT_EQ(run({"reconcile", "--state-dir", "/srv/berth"}), 1);
  EXPECT_NE(err_.str().find("cannot read a state directory"), std::string::npos) << err_.str();
}

TEST_F(CliTest, ReconcileExitsZeroWhenCleanAndOneOnAnyDifference) {
  const json checked = {{"accounts", 7}, {"transfers", 20}, {"jobs", 5}, {"topups", 1}};
  server_.reply("GET /v1/reconcile", json{{"ok", true},
                                          {"checked", checked},
                                          {"differences_found", 0},
                                          {"differences", json::array()}});
  ASSERT_EQ(run({"reconcile"}), 0) << err_.str();
  EXPECT_EQ(only_call().path, "/v1/reconcile");
  EXPECT_EQ(out_.str(),
            "Reconciled 7 accounts, 20 transfers, 5 jobs and 1 top-up: no differences.\n");

  const json difference = {
      {"source", "store"},  {"kind", "job_subsidy"},
      {"entity", "job"},    {"id", 3},
      {"field", "subsidy"}, {"expected", "1.0000"},
      {"found", "0.9999"},  {"message", "job 3 subsidy against its runs' charges"}};
  server_.reply("GET /v1/reconcile", json{{"ok", false},
                                          {"checked", checked},
                                          {"differences_found", 2},
                                          {"differences", json::array({difference})}});
  EXPECT_EQ(run({"reconcile"}), 1);
  EXPECT_NE(out_.str().find("2 differences (1 listed)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("job_subsidy"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("0.9999"), std::string::npos) << out_.str();
  EXPECT_EQ(err_.str(), "");  // the differences are the message
  EXPECT_EQ(run({"reconcile", "--json"}), 1);
  EXPECT_EQ(json::parse(out_.str())["differences"][0]["kind"], "job_subsidy");
}

TEST_F(CliTest, ProjectNamesAreEncodedInPaths) {
  server_.reply("POST /v1/projects/my%20proj/topups", json{{"amount", "5.0000"}});
  ASSERT_EQ(run({"topup", "my proj", "5", "--reference", "INV-1"}), 0) << err_.str();
  EXPECT_EQ(only_call().body, json({{"amount", "5.0000"}, {"reference", "INV-1"}}));
}

TEST_F(CliTest, WalletCommandsSendTheirBodies) {
  server_.reply("POST /v1/projects/vision/credit-limit",
                json{{"wallet", {{"credit_limit", "5000.0000"}, {"spendable", "5010.0000"}}}});
  ASSERT_EQ(run({"credit-limit", "vision", "5000", "--note", "trusted"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"limit", "5000.0000"}, {"note", "trusted"}}));
  EXPECT_EQ(out_.str(), "Credit limit of vision's wallet: HK$ 5,000.00; spendable HK$ 5,010.00\n");

  server_.reply(
      "POST /v1/jobs/12/refund",
      json{{"refunded", "12.5000"}, {"cost", "30.0000"}, {"refund", {{"amount", "12.5000"}}}});
  out_.str("");
  ASSERT_EQ(run({"refund", "12", "--amount", "12.5", "--reason", "slow node"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"amount", "12.5000"}, {"reason", "slow node"}}));
  EXPECT_EQ(out_.str(), "Refunded HK$ 12.50 of job 12 (refunded in all HK$ 12.50 of HK$ 30.00)\n");
  server_.reply(
      "POST /v1/jobs/13/refund",
      json{{"refunded", "0.3339"}, {"cost", "0.3339"}, {"refund", {{"amount", "0.3339"}}}});
  out_.str("");
  ASSERT_EQ(run({"refund", "13", "--reason", "all of it"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "Refunded HK$ 0.3339 of job 13 (refunded in all HK$ 0.3339 of HK$ 0.3339)\n");
  ASSERT_EQ(run({"refund", "12", "--reason", "all of it"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"reason", "all of it"}}));  // the whole rest

  server_.reply("POST /v1/projects/vision/adjustments",
                json{{"adjustment", {{"amount", "-3.5050"}, {"transfer_id", 9}}},
                     {"wallet", {{"balance", "6.4950"}}}});
  // A negative amount is taken as typed, and after a -- separator.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"adjust", "vision", "-3.5", "--reason", "fix"},
           {"adjust", "vision", "--reason", "fix", "--", "-3.5"}}) {
    out_.str("");
    ASSERT_EQ(run(args), 0) << err_.str();
    EXPECT_EQ(server_.calls.back().body, json({{"amount", "-3.5000"}, {"reason", "fix"}}));
    EXPECT_EQ(out_.str(), "Adjusted vision's wallet by -HK$ 3.505; balance HK$ 6.495\n");
  }
}

// submit --wait, as sbatch -W: it returns once the job has ended, with the job's exit code, so a
// script (or the README's tour) can go on with a job that has ended.
TEST_F(CliTest, SubmitWaitReturnsWhenTheJobHasEndedWithItsExitCode) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 7}});
  server_.first_replies["GET /v1/jobs/7"] = {json{{"id", 7}, {"state", "PENDING"}},
                                             json{{"id", 7}, {"state", "RUNNING"}}};
  server_.reply("GET /v1/jobs/7",
                json{{"id", 7}, {"state", "FAILED"}, {"exit_code", 3}, {"signal", nullptr}});
  EXPECT_EQ(run({"submit", "--wait", "job.sh"}), 3);
  EXPECT_EQ(out_.str(), "Submitted batch job 7\n");
  EXPECT_NE(err_.str().find("\nberth: job 7 ended FAILED (exit code 3)\n"), std::string::npos)
      << err_.str();
  EXPECT_EQ(server_.calls.size(), 4u);  // the submit and three looks at the job
  EXPECT_EQ(slept_ms_, (std::vector<int64_t>{100, 200}));

  server_.reply("GET /v1/jobs/7",
                json{{"id", 7}, {"state", "COMPLETED"}, {"exit_code", 0}, {"signal", nullptr}});
  EXPECT_EQ(run({"submit", "-W", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(err_.str().find("berth: job"), std::string::npos) << err_.str();

  // An array: every task is waited for, and the highest status wins; a task ended by a signal
  // counts 1.
  server_.reply("POST /v1/jobs", json{{"id", 8}, {"array_task_ids", {8, 9}}});
  server_.reply("GET /v1/jobs/8", json{{"id", 8}, {"state", "COMPLETED"}, {"exit_code", 0}});
  server_.reply("GET /v1/jobs/9",
                json{{"id", 9}, {"state", "TIMEOUT"}, {"exit_code", nullptr}, {"signal", 9}});
  const size_t before = server_.calls.size();
  EXPECT_EQ(run({"submit", "--wait", "--array", "0-1", "job.sh"}), 1);
  EXPECT_EQ(server_.calls.size(), before + 3);
  EXPECT_NE(err_.str().find("\nberth: job 9 ended TIMEOUT (signal 9)\n"), std::string::npos)
      << err_.str();
  EXPECT_EQ(err_.str().find("job 8 ended"), std::string::npos) << err_.str();

  // Without --wait, nothing is looked at after the submit.
  EXPECT_EQ(run({"submit", "job.sh"}), 0);
  EXPECT_EQ(server_.calls.back().method, "POST");
}

TEST_F(CliTest, AdminCreateBodies) {
  server_.reply("POST /v1/orgs", json{{"id", 1}});
  ASSERT_EQ(run({"org", "create", "hku", "--kind", "university"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"name", "hku"}, {"kind", "university"}}));
  EXPECT_EQ(out_.str(), "Created org 1 (hku, university)\n");

  server_.reply("POST /v1/projects", json{{"id", 2}, {"wallet_account", 7}});
  ASSERT_EQ(run({"project", "create", "vision", "--org", "1"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"name", "vision"}, {"org", 1}}));

  server_.reply("POST /v1/schemes", json{{"id", 3}});
  ASSERT_EQ(run({"scheme", "create", "ai-subsidy", "--rate", "70%", "--fund", "1000000",
                 "--eligible", "university,startup", "--shortfall", "wait"}),
            0)
      << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"name", "ai-subsidy"},
                                             {"rate_bps", 7000},
                                             {"fund", "1000000.0000"},
                                             {"eligible_kinds", {"university", "startup"}},
                                             {"shortfall", "wait"}}));

  server_.reply("POST /v1/schemes/ai-subsidy/fund", json{{"fund_balance", "1500000.0000"}});
  ASSERT_EQ(run({"scheme", "fund", "ai-subsidy", "500000"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"amount", "500000.0000"}}));

  server_.reply("POST /v1/awards", json{{"id", 4}});
  ASSERT_EQ(run({"award", "create", "--scheme", "ai-subsidy", "--project", "vision", "--amount",
                 "200000", "--gpus", "8", "--start", "2026-01-01", "--end", "2027-01-01"}),
            0)
      << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"scheme", "ai-subsidy"},
                                             {"project", "vision"},
                                             {"amount", "200000.0000"},
                                             {"gpu_level", 8},
                                             {"start", "2026-01-01"},
                                             {"end", "2027-01-01"}}));
}

TEST_F(CliTest, ProgressReportCommandsPostTheirSteps) {
  const json report = {
      {"award_id", 3}, {"period", 2}, {"state", "submitted"}, {"due", "2026-03-31T00:00:00Z"}};
  server_.reply("POST /v1/awards/3/reports", report);
  ASSERT_EQ(run({"report", "submit", "3", "--period", "2", "--text", "trained the model"}), 0)
      << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"period", 2}, {"text", "trained the model"}}));
  EXPECT_EQ(out_.str(), "Report for period 2 of award 3: submitted (due 2026-03-31T00:00:00Z)\n");

  server_.reply("POST /v1/awards/3/reports/2/return", report);
  ASSERT_EQ(run({"report", "return", "3", "2", "--reason", "add numbers"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().body, json({{"reason", "add numbers"}}));
  server_.reply("POST /v1/awards/3/reports/2/accept", report);
  ASSERT_EQ(run({"report", "accept", "3", "2"}), 0) << err_.str();
  EXPECT_EQ(server_.calls.back().path, "/v1/awards/3/reports/2/accept");

  // Without a text, and with a bad award id, nothing is sent.
  const size_t calls = server_.calls.size();
  EXPECT_NE(run({"report", "submit", "3", "--period", "2"}), 0);
  EXPECT_NE(run({"report", "accept", "x3", "2"}), 0);
  EXPECT_EQ(server_.calls.size(), calls);
}

TEST_F(CliTest, TokenCreatePrintsOnlyTheToken) {
  server_.reply("POST /v1/tokens", json{{"token", "tok-123"}, {"user", "alice"}});
  ASSERT_EQ(run({"token", "create", "--user", "alice", "--org", "hku"}), 0) << err_.str();
  EXPECT_EQ(only_call().body, json({{"user", "alice"}, {"role", "member"}, {"org", "hku"}}));
  EXPECT_EQ(out_.str(), "tok-123\n");
}

TEST_F(CliTest, OrgCreateSendsTheRegistrationFieldsGivenAndNoOthers) {
  server_.reply("POST /v1/orgs", json{{"id", 3}, {"name", "acme"}, {"kind", "startup"}});
  ASSERT_EQ(run({"org", "create", "acme", "--kind", "startup", "--reg-number", "71234567",
                 "--contact-email", "ann@acme.hk", "--address", "1 Science Park Rd, Hong Kong"}),
            0)
      << err_.str();
  EXPECT_EQ(only_call().body, json({{"name", "acme"},
                                    {"kind", "startup"},
                                    {"registration_number", "71234567"},
                                    {"contact_email", "ann@acme.hk"},
                                    {"address", "1 Science Park Rd, Hong Kong"}}));
  EXPECT_EQ(out_.str(), "Created org 3 (acme, startup)\n");
}

TEST_F(CliTest, OrgUpdatePostsTheChangedFieldsWithTheNote) {
  server_.reply("POST /v1/orgs/acme/update", json{{"id", 3},
                                                  {"name", "acme"},
                                                  {"kind", "startup"},
                                                  {"contact_name", "Bo Chan"},
                                                  {"contact_email", "bo@acme.hk"},
                                                  {"registration_number", ""}});
  ASSERT_EQ(run({"org", "update", "acme", "--contact-name", "Bo Chan", "--contact-email",
                 "bo@acme.hk", "--note", "new finance lead"}),
            0)
      << err_.str();
  EXPECT_EQ(only_call().body, json({{"contact_name", "Bo Chan"},
                                    {"contact_email", "bo@acme.hk"},
                                    {"note", "new finance lead"}}));
  EXPECT_NE(out_.str().find("Updated org 3 (acme)\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("contact_email:       bo@acme.hk\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("registration_number: -\n"), std::string::npos) << out_.str();
}

TEST_F(CliTest, OrgUpdateWithNothingToChangeIsRefusedBeforeTheServer) {
  EXPECT_NE(run({"org", "update", "acme", "--note", "nothing"}), 0);
  EXPECT_NE(err_.str().find("at least one of --reg-number"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
}

TEST_F(CliTest, OrgShowPrintsTheRegistrationRecordAndAServerErrorExitsNonZero) {
  server_.reply("GET /v1/orgs/hku", json{{"id", 1},
                                         {"name", "hku"},
                                         {"kind", "university"},
                                         {"registration_number", "HKU-1911"},
                                         {"address", "Pokfulam Road, Hong Kong"},
                                         {"contact_name", "Ann Lee"},
                                         {"contact_email", "ann@hku.hk"},
                                         {"jurisdiction", "Hong Kong"}});
  ASSERT_EQ(run({"org", "show", "hku"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "id:                  1\n"
            "name:                hku\n"
            "kind:                university\n"
            "registration_number: HKU-1911\n"
            "address:             Pokfulam Road, Hong Kong\n"
            "jurisdiction:        Hong Kong\n"
            "contact_name:        Ann Lee\n"
            "contact_email:       ann@hku.hk\n");
  server_.reply("GET /v1/orgs/nope", Status::NotFound("organisation \"nope\" not found"));
  EXPECT_NE(run({"org", "show", "nope"}), 0);
  EXPECT_NE(err_.str().find("not found"), std::string::npos) << err_.str();
}

TEST_F(CliTest, ListingsPrintTablesOrJson) {
  server_.reply("GET /v1/orgs",
                json{{"orgs", {{{"id", 1}, {"name", "hku"}, {"kind", "university"}}}}});
  ASSERT_EQ(run({"org", "list"}), 0);
  EXPECT_EQ(out_.str(),
            "ID  NAME  KIND        REG_NUMBER  JURISDICTION  CONTACT\n"
            " 1  hku   university  -           -             -\n");
  ASSERT_EQ(run({"org", "list", "--json"}), 0);
  EXPECT_EQ(json::parse(out_.str())["orgs"][0]["name"], "hku");
  for (const auto& [args, key] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"project", "list"}, "GET /v1/projects"},
           {{"scheme", "list"}, "GET /v1/schemes"},
           {{"award", "list"}, "GET /v1/awards"},
           {{"nodes"}, "GET /v1/nodes"},
           {{"transfers", "--account", "7", "--job", "12"},
            "GET /v1/transfers?account=7&job=12&limit=1000"}}) {
    server_.reply(key, json::object());
    EXPECT_EQ(run(args), 0) << key << ": " << err_.str();
  }
}

TEST_F(CliTest, GroupWithoutSubcommandIsAUsageError) {
  EXPECT_NE(run({"org"}), 0);
  EXPECT_NE(run({}), 0);
}

// ---- idempotent submits and tokens ----

TEST_F(CliTest, SubmitSendsOneIdempotencyKeyPerInvocation) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 42}});
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  ASSERT_EQ(server_.calls.size(), 2u);
  EXPECT_EQ(server_.calls[0].headers, (Api::Headers{{"Idempotency-Key", "key-1"}}));
  EXPECT_EQ(server_.calls[1].headers, (Api::Headers{{"Idempotency-Key", "key-2"}}));
}

TEST_F(CliTest, SubmitRetriesWithTheSameKeyWhenTheReplyIsLost) {
  files_["job.sh"] = kTrainScript;
  const Status lost(Code::kUnavailable,
                    "could not reach the berth server at http://x: no complete reply");
  server_.first_replies["POST /v1/jobs"] = {lost, lost};
  server_.reply("POST /v1/jobs", json{{"id", 42}, {"replayed", true}});
  ASSERT_EQ(run({"submit", "job.sh"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Submitted batch job 42\n");
  ASSERT_EQ(server_.calls.size(), 3u);
  for (const Call& c : server_.calls) {
    EXPECT_EQ(c.headers, (Api::Headers{{"Idempotency-Key", "key-1"}}));
    EXPECT_EQ(c.body, server_.calls[0].body);
  }
  EXPECT_EQ(slept_ms_, (std::vector<int64_t>{250, 500}));
  EXPECT_NE(err_.str().find("trying again (1 of 3)"), std::string::npos) << err_.str();
}

TEST_F(CliTest, SubmitToAStandbyGoesToTheLeaderAndIsNotSentAgainAfterTheSearch) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", json{{"id", 42}});
  server_.down = {"http://ctl1:8765"};
  ASSERT_EQ(run({"--server", "http://ctl1:8765,http://ctl2:8765", "submit", "job.sh"}), 0)
      << err_.str();
  EXPECT_EQ(server_.connected_server, "http://ctl2:8765");
  EXPECT_EQ(only_call().headers, (Api::Headers{{"Idempotency-Key", "key-1"}}));
  // Nothing answers: one search of 15 s, not one per attempt of the submit.
  server_.down.insert("http://ctl2:8765");
  EXPECT_EQ(run({"--server", "http://ctl1:8765,http://ctl2:8765", "submit", "job.sh"}), 1);
  EXPECT_EQ(err_.str().find("trying again"), std::string::npos) << err_.str();
  int64_t slept = 0;
  for (int64_t ms : slept_ms_) slept += ms;
  EXPECT_LE(slept, FailoverApi::kSearchMs);
}

TEST_F(CliTest, SubmitGivesUpAfterItsBoundedRetries) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs", Status(Code::kUnavailable, "could not reach the berth server"));
  EXPECT_EQ(run({"submit", "job.sh"}), 1);
  EXPECT_EQ(server_.calls.size(), static_cast<size_t>(4));
  EXPECT_EQ(slept_ms_.size(), 3u);
  EXPECT_NE(err_.str().find("could not reach the berth server"), std::string::npos) << err_.str();
}

TEST_F(CliTest, SubmitDoesNotRetryARefusal) {
  files_["job.sh"] = kTrainScript;
  server_.reply("POST /v1/jobs",
                Status::Conflict("idempotency key 'key-1' was already used for another request"));
  EXPECT_EQ(run({"submit", "job.sh"}), 1);
  EXPECT_EQ(server_.calls.size(), 1u);
  EXPECT_TRUE(slept_ms_.empty());
}

TEST_F(CliTest, TokenCreateSendsExpiryAndUnixUser) {
  server_.reply("POST /v1/tokens", json{{"token", "abc123"}, {"id", "tok_0123456789ab"}});
  ASSERT_EQ(run({"token", "create", "--user", "alice", "--org", "hku", "--expires", "30d",
                 "--unix-user", "alice"}),
            0)
      << err_.str();
  const json expected = {{"user", "alice"},
                         {"role", "member"},
                         {"org", "hku"},
                         {"expires", "30d"},
                         {"unix_user", "alice"}};
  EXPECT_EQ(only_call().body, expected);
  EXPECT_EQ(out_.str(), "abc123\n");
}

TEST_F(CliTest, TokenListShowsNoSecrets) {
  server_.reply("GET /v1/tokens", json{{"tokens",
                                        {{{"id", "tok_0123456789ab"},
                                          {"user", "alice"},
                                          {"role", "member"},
                                          {"org", "hku"},
                                          {"unix_user", "alice"},
                                          {"state", "revoked"},
                                          {"created", "2026-03-01T12:00:00Z"},
                                          {"expires", nullptr},
                                          {"revoked", "2026-03-02T12:00:00Z"},
                                          {"last_used", nullptr}}}}});
  ASSERT_EQ(run({"token", "list"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("tok_0123456789ab"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("revoked"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("2026-03-02T12:00:00Z"), std::string::npos) << out_.str();
}

TEST_F(CliTest, TokenRevokeAndAdminRotation) {
  server_.reply(
      "POST /v1/tokens/tok_0123456789ab/revoke",
      json{{"id", "tok_0123456789ab"}, {"user", "alice"}, {"role", "member"}, {"replayed", false}});
  ASSERT_EQ(run({"token", "revoke", "tok_0123456789ab"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Token tok_0123456789ab revoked (alice, member)\n");
  server_.reply("POST /v1/tokens/rotate-admin", json{{"id", "tok_new"},
                                                     {"token", "secret"},
                                                     {"path", "/s/admin.token"},
                                                     {"revoked_ids", {"tok_old"}}});
  ASSERT_EQ(run({"admin", "rotate-token"}), 0) << err_.str();
  EXPECT_EQ(
      out_.str(),
      "New admin token tok_new written to /s/admin.token on berthd's machine; revoked tok_old\n");
  EXPECT_EQ(out_.str().find("secret"), std::string::npos);
}

// `admin backup` writes the server's bytes to a new file, never over one, and keeps no file
// that is not a database.
TEST_F(CliTest, AdminBackupWritesANewFileAndNeverOverwrites) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("berth-cli-backup-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string file = (dir / "saved.db").string();
  const std::string bytes = std::string("SQLite format 3\0", 16) + std::string(100, '\x07');
  server_.reply("GET /v1/admin/backup", json(bytes));
  ASSERT_EQ(run({"admin", "backup", file}), 0) << err_.str();
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes);
  EXPECT_NE(out_.str().find("Backup written to " + file + " (116 bytes)"), std::string::npos)
      << out_.str();
  EXPECT_FALSE(fs::exists(file + ".partial"));

  EXPECT_EQ(run({"admin", "backup", file}), 1);  // taken: refused before asking the server
  EXPECT_NE(err_.str().find("exists"), std::string::npos) << err_.str();

  const std::string other = (dir / "other.db").string();
  server_.reply("GET /v1/admin/backup", json("<html>not a database</html>"));
  EXPECT_EQ(run({"admin", "backup", other}), 1);
  EXPECT_NE(err_.str().find("not an SQLite database"), std::string::npos) << err_.str();
  EXPECT_FALSE(fs::exists(other));

  server_.reply("GET /v1/admin/backup", Status::Denied("only an admin may do this"));
  EXPECT_EQ(run({"admin", "backup", other}), 1);
  EXPECT_FALSE(fs::exists(other));
  EXPECT_FALSE(fs::exists(other + ".partial"));
  fs::remove_all(dir);
}

// `admin node-cert` makes the node's key here and sends berthd only the request: the key is
// written 0600 beside what berthd signed, and nothing is written when berthd refuses.
TEST_F(CliTest, AdminNodeCertKeepsTheKeyAndSendsOnlyTheRequest) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("berth-cli-cert-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  server_.reply("POST /v1/admin/node-certs", Status::Conflict("berthd keeps no CA"));
  EXPECT_EQ(run({"admin", "node-cert", "n1", "--out", dir.string()}), 1);
  EXPECT_FALSE(fs::exists(dir / "node.key"));

  server_.calls.clear();
  server_.reply("POST /v1/admin/node-certs", json{{"certificate", "CERT"}, {"ca", "CA"}});
  ASSERT_EQ(run({"admin", "node-cert", "n1", "--out", dir.string()}), 0) << err_.str();
  const Call& call = only_call();
  EXPECT_EQ(call.body.size(), 2u) << call.body.dump();
  EXPECT_EQ(call.body["node"], "n1");
  EXPECT_NE(call.body.value("csr", "").find("BEGIN CERTIFICATE REQUEST"), std::string::npos);
  EXPECT_EQ(call.body.dump().find("PRIVATE KEY"), std::string::npos) << "the key stays here";
  const auto read = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_NE(read("node.key").find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(fs::status(dir / "node.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(read("node.crt"), "CERT");
  EXPECT_EQ(read("ca.crt"), "CA");
  EXPECT_NE(out_.str().find("key_file = \"" + (dir / "node.key").string() + "\""),
            std::string::npos)
      << out_.str();

  server_.calls.clear();  // a folder that has them keeps them, and berthd is not asked
  EXPECT_EQ(run({"admin", "node-cert", "n1", "--out", dir.string()}), 1);
  EXPECT_NE(err_.str().find("exists"), std::string::npos) << err_.str();
  EXPECT_TRUE(server_.calls.empty());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace berth::cli
