// End to end: a real berthd, the real CLI, real processes, SQLite on disk, SIGKILL and restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <set>

#include <sqlite3.h>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

class BerthdTest : public DaemonTest {
 protected:
  // A centre with one university, one project with a 70% award and a funded wallet.
  void make_centre() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must(
        "scheme create ai-subsidy --rate 70% --fund 100000 --eligible university,institute "
        "--shortfall wallet");
    must(
        "award create --scheme ai-subsidy --project vision --amount 50000 --gpus 8 --start "
        "2020-01-01 --end 2100-01-01");
    must("topup vision 10000 --reference INV-1");
  }
};

Minor amount(const json& v) {
  return v.is_string() ? *parse_amount(v.get<std::string>(), true) : 0;
}

TEST_F(BerthdTest, BadInputGetsTheRightStatusAndChangesNothing) {
  make_centre();
  auto [st0, jobs0] = daemon->api("GET", "/v1/jobs");
  ASSERT_EQ(st0, 200);
  const std::string good =
      R"({"project":"vision","gpus":1,"script":"#!/bin/sh\ntrue\n","workdir":")" + work + R"("})";
  auto with = [&](const std::string& field) {
    json b = json::parse(good);
    json patch = json::parse("{" + field + "}");
    b.update(patch);
    return b.dump();
  };
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", good, "").first, 401);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", good, "not-a-token").first, 401);
  auto [s400, e400] = daemon->api("POST", "/v1/jobs", "{\"project\": ");
  EXPECT_EQ(s400, 400);
  EXPECT_NE(e400["error"]["message"].get<std::string>().find("JSON"), std::string::npos);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("gpus":0)")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("gpus":-2)")).first, 400);
  auto [s_many, e_many] = daemon->api("POST", "/v1/jobs", with(R"("gpus":9)"));
  EXPECT_EQ(s_many, 400);
  EXPECT_NE(e_many["error"]["message"].get<std::string>().find("largest node"), std::string::npos);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("time_limit_s":999999999)")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("gpu_model":"V100")")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("project":"nope")")).first, 404);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("gpus":"two")")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("nodes":2)")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("workdir":"relative/dir")")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", with(R"("tier":"gold")")).first, 400);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", "[1,2,3]").first, 400);
  const std::string huge = with("\"name\":\"" + std::string(2 << 20, 'x') + "\"");
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", huge).first, 413);
  EXPECT_EQ(daemon->api("POST", "/v1/projects/vision/topups", R"({"amount":"1.00001"})").first,
            400);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/12345").first, 404);
  EXPECT_EQ(daemon->api("GET", "/v1/nothing-here").first, 404);

  // Another organisation's member sees none of vision's jobs and may not touch them.
  must("org create acme --kind startup");
  must("project create llm --org acme");
  auto [st_tok, tok] = daemon->api("POST", "/v1/tokens", R"({"user":"bob","org":"acme"})");
  ASSERT_EQ(st_tok, 201);
  const std::string bob = tok["token"];
  auto [st_job, j] = daemon->api("POST", "/v1/jobs", with(R"("script":"#!/bin/sh\nsleep 30\n")"));
  ASSERT_EQ(st_job, 201) << j.dump();
  const std::string jid = std::to_string(j["id"].get<uint64_t>());
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + jid, "", bob).first, 403);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + jid + "/cancel", "{}", bob).first, 403);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs", good, bob).first, 404);  // vision is not visible to bob
  EXPECT_EQ(daemon->api("POST", "/v1/orgs", R"({"name":"evil","kind":"other"})", bob).first, 403);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs", "", bob).second["jobs"].size(), 0u);
  EXPECT_EQ(daemon->api("GET", "/v1/projects/vision/balance", "", bob).first, 404);

  // Cancel twice: the second is a conflict.
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + jid + "/cancel", "{}").first, 200);
  ASSERT_TRUE(eventually([&] { return state(std::stoull(jid)) == "CANCELLED"; }));
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + jid + "/cancel", "{}").first, 409);

  // Bad CLI input: a message and a non-zero exit, and nothing submitted.
  const CliResult zero = cli("submit -A vision --gpus 0 --wrap true");
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.out.find("GPU"), std::string::npos) << zero.out;
  const CliResult many = cli("submit -A vision --gpus 64 --wrap true");
  EXPECT_NE(many.exit_code, 0);
  EXPECT_NE(many.out.find("largest node"), std::string::npos) << many.out;

  EXPECT_TRUE(daemon->up());
  EXPECT_EQ(daemon->api("GET", "/v1/jobs").second["jobs"].size(), jobs0["jobs"].size() + 1);
}

TEST_F(BerthdTest, JobsRunChargeExactlyOnceAndSurviveSigkill) {
  make_centre();
  std::vector<uint64_t> short_jobs;
  for (int i = 0; i < 6; ++i)
    short_jobs.push_back(submit("--gpus 1 --time 5 --wrap 'echo hello-" + std::to_string(i) + "'"));
  for (uint64_t id : short_jobs) {
    ASSERT_TRUE(eventually([&] { return state(id) == "COMPLETED"; })) << job(id).dump();
    EXPECT_EQ(read_file(work + "/berth-" + std::to_string(id) + ".out").substr(0, 6), "hello-");
  }
  // Long jobs that will be running when berthd is killed; one asks to be requeued.
  const std::string sleeper = "--time 10 --wrap 'echo $$ > pid-$BERTH_JOB_ID; sleep 300'";
  const uint64_t lost1 = submit("--gpus 2 " + sleeper);
  const uint64_t lost2 = submit("--gpus 1 " + sleeper);
  const uint64_t requeued = submit("--gpus 1 --requeue " + sleeper);
  std::map<uint64_t, int> pids;
  for (uint64_t id : {lost1, lost2, requeued}) {
    const std::string f = work + "/pid-" + std::to_string(id);
    ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING" && !read_file(f).empty(); }))
        << job(id).dump();
    pids[id] = std::atoi(read_file(f).c_str());
  }
  daemon->kill_hard();
  daemon->start();

  // Every acknowledged job is there; the lost ones ended as NODE_FAIL, or were requeued.
  for (uint64_t id : short_jobs) EXPECT_EQ(state(id), "COMPLETED");
  EXPECT_EQ(state(lost1), "NODE_FAIL");
  EXPECT_EQ(state(lost2), "NODE_FAIL");
  EXPECT_EQ(job(requeued)["restarts"], 1);
  // Their processes were killed: nothing of a lost job keeps its GPUs.
  for (auto [id, pid] : pids) {
    EXPECT_TRUE(eventually([&] {
      const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
      return s.empty() || s.find(") Z") != std::string::npos;
    })) << "job "
        << id << " process " << pid << " still alive";
  }
  // The requeued job runs again and can be cancelled.
  ASSERT_TRUE(eventually([&] { return state(requeued) == "RUNNING"; }));
  must("cancel " + std::to_string(requeued));
  ASSERT_TRUE(eventually([&] { return state(requeued) == "CANCELLED"; }));

  // Books: every job's charge is split exactly, posted once, and all accounts sum to zero.
  Minor charged = 0;
  for (uint64_t id = 1; id <= requeued; ++id) {
    const json j = job(id);
    const Minor cost = amount(j["cost"]), subsidy = amount(j["subsidy"]),
                copay = amount(j["copay"]);
    EXPECT_EQ(subsidy + copay, cost) << j.dump();
    EXPECT_LE(subsidy, cost * 7000 / 10000) << j.dump();
    charged += cost;
    auto [st, tr] = daemon->api("GET", "/v1/transfers?job=" + std::to_string(id));
    ASSERT_EQ(st, 200);
    std::set<uint64_t> posted;
    Minor posted_sum = 0;
    for (const json& t : tr["transfers"]) {
      if (t["flags"].dump().find("post_pending") == std::string::npos) continue;
      EXPECT_TRUE(posted.insert(t["pending_id"].get<uint64_t>()).second)
          << "hold posted twice: " << tr.dump();
      posted_sum += amount(t["amount"]);
    }
    EXPECT_EQ(posted_sum, cost) << tr.dump();
  }
  Minor total = 0, revenue = 0, held = 0;
  const json accounts = daemon->api("GET", "/v1/accounts").second["accounts"];
  ASSERT_GE(accounts.size(), 6u);
  for (const json& a : accounts) {
    total += amount(a["balance"]);
    held += amount(a["held"]);
    if (a["kind"] == "revenue") revenue = amount(a["balance"]);
  }
  EXPECT_EQ(total, 0);
  EXPECT_EQ(held, 0);
  EXPECT_EQ(revenue, charged);
  const CliResult balance = cli("balance vision");
  EXPECT_EQ(balance.exit_code, 0) << balance.out;
  // Reconciliation agrees, for the jobs lost to the SIGKILL and the requeued one's two runs too.
  const CliResult reconciled = cli("reconcile");
  EXPECT_EQ(reconciled.exit_code, 0) << reconciled.out;
  EXPECT_NE(reconciled.out.find("no differences"), std::string::npos) << reconciled.out;
}

TEST_F(BerthdTest, HoldsDependenciesAndArraysOverTheApi) {
  make_centre();
  auto submit_json = [&](const std::string& extra, const std::string& script) {
    json b = {{"project", "vision"},
              {"gpus", 1},
              {"time_limit_s", 600},
              {"workdir", work},
              {"script", script}};
    b.update(json::parse("{" + extra + "}"));
    auto [st, j] = daemon->api("POST", "/v1/jobs", b.dump());
    EXPECT_EQ(st, 201) << j.dump();
    return j;
  };
  const json first = submit_json(R"("name":"first")", "#!/bin/sh\nsleep 0.3\n");
  const uint64_t first_id = first["id"];
  const json after = submit_json(R"("dependency":"afterok:)" + std::to_string(first_id) + R"(")",
                                 "#!/bin/sh\necho after\n");
  EXPECT_EQ(after["reason"], "Dependency");
  const json held = submit_json(R"("hold":true)", "#!/bin/sh\necho held\n");
  EXPECT_EQ(held["reason"], "JobHeldUser");
  const json array = submit_json(R"("array":"0-3%2","output":"arr-%A_%a.out")",
                                 "#!/bin/sh\necho task $SLURM_ARRAY_TASK_ID\n");
  ASSERT_EQ(array["array_task_ids"].size(), 4u);
  // A submission with one more field, and the HTTP status berthd answers.
  const auto submit_status = [&](const char* field, const char* value) {
    json body{{"project", "vision"}, {"gpus", 1}, {"workdir", work}, {"script", "#!/bin/sh\n"}};
    body[field] = value;
    return daemon->api("POST", "/v1/jobs", body.dump()).first;
  };
  EXPECT_EQ(submit_status("array", "5-1"), 400);
  EXPECT_EQ(submit_status("dependency", "after:x"), 400);

  const uint64_t after_id = after["id"], held_id = held["id"];
  ASSERT_TRUE(eventually([&] { return state(after_id) == "COMPLETED"; })) << job(after_id).dump();
  EXPECT_GE(job(after_id)["start_time"].get<std::string>(),
            job(first_id)["end_time"].get<std::string>());
  const uint64_t array_id = array["id"];
  for (int i = 0; i < 4; ++i) {
    const uint64_t id = array["array_task_ids"][i];
    ASSERT_TRUE(eventually([&] { return state(id) == "COMPLETED"; })) << job(id).dump();
    EXPECT_EQ(
        read_file(work + "/arr-" + std::to_string(array_id) + "_" + std::to_string(i) + ".out"),
        "task " + std::to_string(i) + "\n");
  }
  EXPECT_EQ(state(held_id), "PENDING");
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + std::to_string(held_id) + "/release", "{}").first,
            200);
  ASSERT_TRUE(eventually([&] { return state(held_id) == "COMPLETED"; }));
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + std::to_string(held_id) + "/hold", "{}").first, 409);
}

// A statement served in JSON, CSV and HTML, and printed by the CLI; a member of another
// organisation cannot read it; the scheme report is open to any token.
TEST_F(BerthdTest, StatementsReportsAndBalancesOverTheApiAndCli) {
  make_centre();
  // A name that must be escaped on the HTML page and quoted in the CSV.
  const json body = {{"project", "vision"}, {"name", "<b>tag</b>, & \"quoted\""},
                     {"gpus", 2},           {"time_limit_s", 60},
                     {"workdir", work},     {"script", "#!/bin/sh\nsleep 0.2\n"}};
  auto [st_job, j] = daemon->api("POST", "/v1/jobs", body.dump());
  ASSERT_EQ(st_job, 201) << j.dump();
  const uint64_t id = j["id"];
  ASSERT_TRUE(eventually([&] { return state(id) == "COMPLETED"; })) << job(id).dump();
  const std::string month = job(id)["end_time"].get<std::string>().substr(0, 7);
  const std::string path = "/v1/projects/vision/statement?month=" + month;

  auto [st_json, stmt] = daemon->api("GET", path);
  ASSERT_EQ(st_json, 200) << stmt.dump();
  EXPECT_EQ(stmt["month"], month);
  EXPECT_EQ(stmt["project"], "vision");
  ASSERT_EQ(stmt["jobs"].size(), 1u) << stmt.dump();
  const json& line = stmt["jobs"][0];
  EXPECT_EQ(line["job_id"], id);
  EXPECT_EQ(amount(line["subsidy"]) + amount(line["copay"]), amount(line["cost"]));
  EXPECT_EQ(amount(line["cost"]), amount(job(id)["cost"]));
  EXPECT_EQ(line["gpu_ms"], 2 * job(id)["runtime_ms"].get<int64_t>());
  ASSERT_EQ(stmt["topups"].size(), 1u);
  EXPECT_EQ(stmt["topups"][0]["reference"], "INV-1");
  EXPECT_EQ(amount(stmt["opening_balance"]) + amount(stmt["credits"]) - amount(stmt["debits"]),
            amount(stmt["closing_balance"]));
  EXPECT_EQ(amount(stmt["closing_balance"]),
            amount(daemon->api("GET", "/v1/projects/vision/balance").second["wallet"]["balance"]));

  httplib::Client http("127.0.0.1", daemon->port());
  const httplib::Headers auth = {{"Authorization", "Bearer " + daemon->admin_token()}};
  auto csv = http.Get((path + "&format=csv").c_str(), auth);
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
  EXPECT_EQ(csv->get_header_value("Content-Type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(csv->body.rfind("type,time,reference,description,", 0), 0u) << csv->body;
  EXPECT_NE(csv->body.find("\r\nopening,"), std::string::npos);
  EXPECT_NE(csv->body.find("\r\ntopup,"), std::string::npos);
  EXPECT_NE(csv->body.find(",\"<b>tag</b>, & \"\"quoted\"\"\","), std::string::npos) << csv->body;
  EXPECT_NE(csv->body.find("\r\nclosing,"), std::string::npos);
  auto html = http.Get((path + "&format=html").c_str(), auth);
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->get_header_value("Content-Type").rfind("text/html", 0), 0u);
  EXPECT_EQ(html->body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html->body.find("&lt;b&gt;tag&lt;/b&gt;, &amp; &quot;quoted&quot;"), std::string::npos);
  EXPECT_EQ(html->body.find("<b>tag"), std::string::npos);
  for (const char* external : {"<script", "<link", "src=", "http://", "https://"})
    EXPECT_EQ(html->body.find(external), std::string::npos) << external;

  // Bad input: 400 naming the parameter, in JSON, whatever the format asked.
  auto [st_bad, bad] = daemon->api("GET", "/v1/projects/vision/statement?month=2026-13&format=csv");
  EXPECT_EQ(st_bad, 400);
  EXPECT_NE(bad["error"]["message"].get<std::string>().find("'month'"), std::string::npos)
      << bad.dump();
  auto [st_fmt, fmt] = daemon->api("GET", path + "&format=pdf");
  EXPECT_EQ(st_fmt, 400);
  EXPECT_NE(fmt["error"]["message"].get<std::string>().find("'format'"), std::string::npos)
      << fmt.dump();

  // Another organisation's member: vision's statement does not exist for them; the scheme's
  // aggregate report does.
  must("org create acme --kind startup");
  auto [st_tok, tok] = daemon->api("POST", "/v1/tokens", R"({"user":"bob","org":"acme"})");
  ASSERT_EQ(st_tok, 201);
  const std::string bob = tok["token"];
  EXPECT_EQ(daemon->api("GET", path, "", bob).first, 404);
  EXPECT_EQ(cli("statement vision --month " + month, bob).exit_code, 1);
  auto [st_rep, rep] = daemon->api("GET", "/v1/schemes/ai-subsidy/report", "", bob);
  ASSERT_EQ(st_rep, 200) << rep.dump();
  EXPECT_EQ(amount(rep["spent"]), amount(line["subsidy"]));
  EXPECT_EQ(rep["subsidised_gpu_ms"], line["gpu_ms"]);
  EXPECT_EQ(rep["projects"]["subsidised"], 1);
  EXPECT_EQ(amount(rep["committed"]), 50000 * kMinorPerUnit);
  EXPECT_EQ(daemon->api("GET", "/v1/schemes/nope/report", "", bob).first, 404);

  // The balance keeps its fields and adds each award's rate and run-out estimate.
  const json balance = daemon->api("GET", "/v1/projects/vision/balance").second;
  ASSERT_EQ(balance["awards"].size(), 1u);
  EXPECT_TRUE(balance["awards"][0].contains("left"));
  EXPECT_EQ(balance["awards"][0]["active"], true);
  EXPECT_TRUE(balance["awards"][0].contains("run_out")) << balance.dump();

  // The CLI prints the same statement three ways, and refuses a bad month before asking.
  const CliResult text = cli("statement vision --month " + month);
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find(" of vision (hku) for "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("INV-1"), std::string::npos) << text.out;
  const CliResult as_csv = cli("statement vision --month " + month + " --csv");
  EXPECT_EQ(as_csv.exit_code, 0);
  EXPECT_EQ(as_csv.out, csv->body);
  const CliResult as_html = cli("statement vision --month " + month + " --html");
  EXPECT_EQ(as_html.exit_code, 0);
  EXPECT_EQ(as_html.out, html->body);
  const CliResult bad_month = cli("statement vision --month 11-2026");
  EXPECT_NE(bad_month.exit_code, 0);
  EXPECT_NE(bad_month.out.find("--month"), std::string::npos) << bad_month.out;
  const CliResult report = cli("report scheme ai-subsidy", bob);
  EXPECT_EQ(report.exit_code, 0) << report.out;
  EXPECT_NE(report.out.find("Scheme ai-subsidy (70%)"), std::string::npos) << report.out;
  const CliResult bal = cli("balance vision");
  EXPECT_EQ(bal.exit_code, 0) << bal.out;
  EXPECT_NE(bal.out.find("RUNS_OUT"), std::string::npos) << bal.out;
}

// A centre of three 4-GPU nodes, two in one NVLink domain: a 2-node job runs once, on the
// first of its nodes, knows all of them, and is charged for all its GPUs.
void write_gang_config(const std::string& dir) {
  std::ofstream config(dir + "/berth.toml");
  config << "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"36\"\n";
  for (const char* node :
       {"x1\"\ndomain = \"solo", "a1\"\ndomain = \"nvl-a", "a2\"\ndomain = \"nvl-a"})
    config << "[[nodes]]\nname = \"" << node << "\"\ngpu_model = \"H100\"\ngpus = 4\n";
  config << "[[partitions]]\nname = \"gpu\"\nmax_time = \"1:00:00\"\ndefault_time = \"0:10:00\"\n";
}

TEST(BerthdGang, AMultiNodeJobRunsOnAllItsNodesAndPaysForAll) {
  const std::string dir = temp_dir("gang");
  const std::string work = dir + "/work";
  make_work_dir(work);
  write_gang_config(dir);
  Berthd daemon(dir + "/state", dir + "/berth.toml");
  daemon.start();
  for (const char* args : {"org create hku --kind university", "project create llm --org hku",
                           "topup llm 100 --reference T1"})
    ASSERT_EQ(berth_cli(daemon, args, "", work).exit_code, 0) << args;
  const std::string script =
      "#!/bin/sh\n#SBATCH -A llm -N 2 --gpus-per-node=4 -t 10\n"
      "echo \"$SLURM_JOB_NUM_NODES $SLURM_JOB_NODELIST $CUDA_VISIBLE_DEVICES\"\nsleep 0.2\n";
  { std::ofstream(work + "/gang.sh") << script; }
  const CliResult r = berth_cli(daemon, "submit --parsable gang.sh", "", work);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string id = std::to_string(std::strtoull(r.out.c_str(), nullptr, 10));
  json j;
  ASSERT_TRUE(eventually([&] {
    j = daemon.api("GET", "/v1/jobs/" + id).second;
    return j.value("state", "") == "COMPLETED";
  })) << j.dump();
  EXPECT_EQ(j["nodes"], 2);
  EXPECT_EQ(j["gpus"], 8);
  EXPECT_EQ(j["node_list"], json({"a1", "a2"}));  // kept within its NVLink domain
  EXPECT_EQ(read_file(work + "/berth-" + id + ".out"), "2 a1,a2 0,1,2,3\n");
  // 8 GPUs x 36 per GPU-hour, for the time it ran: at least 0.2 s is 0.0160.
  EXPECT_GE(*parse_amount(j["cost"].get<std::string>(), true), 160);
  // A gang that could never be placed is refused, and says why.
  const auto [status, body] = daemon.api("POST", "/v1/jobs",
                                         json{{"project", "llm"},
                                              {"nodes", 4},
                                              {"gpus_per_node", 4},
                                              {"workdir", work},
                                              {"script", "#!/bin/sh\n"}}
                                             .dump());
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.dump().find("4 nodes"), std::string::npos) << body.dump();
  EXPECT_EQ(daemon
                .api("POST", "/v1/jobs",
                     json{{"project", "llm"},
                          {"nodes", 2},
                          {"gpus", 6},
                          {"gpus_per_node", 4},
                          {"workdir", work},
                          {"script", "#!/bin/sh\n"}}
                         .dump())
                .first,
            400);
  daemon.stop();
  fs::remove_all(dir);
}

// SIGKILL with a gang running and a node drained: after the restart the drain holds, the gang
// is settled as lost on both its nodes, and every GPU is free again.
TEST(BerthdGang, NodeStatesAndGangPlacementsSurviveACrash) {
  const std::string dir = temp_dir("gang-crash");
  const std::string work = dir + "/work";
  make_work_dir(work);
  write_gang_config(dir);
  Berthd daemon(dir + "/state", dir + "/berth.toml");
  daemon.start();
  for (const char* args : {"org create hku --kind university", "project create llm --org hku",
                           "topup llm 100 --reference T1", "node drain x1 --reason rewiring"})
    ASSERT_EQ(berth_cli(daemon, args, "", work).exit_code, 0) << args;
  const json drained = daemon.api("GET", "/v1/nodes").second["nodes"][0];
  EXPECT_EQ(drained["reason"], "rewiring") << drained.dump();
  EXPECT_EQ(drained["agent_version"], "") << drained.dump();
  EXPECT_TRUE(drained["last_heartbeat"].is_null()) << drained.dump();
  const auto [status, submitted] = daemon.api("POST", "/v1/jobs",
                                              json{{"project", "llm"},
                                                   {"nodes", 2},
                                                   {"gpus_per_node", 4},
                                                   {"workdir", work},
                                                   {"script", "#!/bin/sh\nsleep 60\n"}}
                                                  .dump());
  ASSERT_EQ(status, 201) << submitted.dump();
  const std::string id = std::to_string(submitted["id"].get<uint64_t>());
  ASSERT_TRUE(eventually(
      [&] { return daemon.api("GET", "/v1/jobs/" + id).second.value("state", "") == "RUNNING"; }));
  daemon.kill_hard();
  daemon.start();
  const json j = daemon.api("GET", "/v1/jobs/" + id).second;
  EXPECT_EQ(j["state"], "NODE_FAIL") << j.dump();
  EXPECT_EQ(j["node_list"], json({"a1", "a2"})) << j.dump();
  const json nodes = daemon.api("GET", "/v1/nodes").second["nodes"];
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0]["state"], "drain") << nodes.dump();
  for (const json& n : nodes) EXPECT_EQ(n["gpus_free"], 4) << n.dump();
  daemon.stop();
  fs::remove_all(dir);
}

// Runs one SQL statement on a database file no one else has open; returns the rows it changed.
int sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  int changed = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
      sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK)
    changed = sqlite3_changes(db);
  sqlite3_close(db);
  return changed;
}

TEST_F(BerthdTest, ReconcileAgreesWithRealJobsAndReportsATamperedStore) {
  make_centre();
  const uint64_t ran = submit("--gpus 1 --time 30 --wrap 'sleep 1'");
  const uint64_t failed = submit("--gpus 2 --time 30 --wrap 'exit 3'");
  const uint64_t cancelled = submit("--gpus 1 --time 30 --wrap 'sleep 300'");
  ASSERT_TRUE(eventually([&] { return state(ran) == "COMPLETED" && state(failed) == "FAILED"; }));
  ASSERT_TRUE(eventually([&] { return state(cancelled) == "RUNNING"; }));
  must("cancel " + std::to_string(cancelled));
  ASSERT_TRUE(eventually([&] { return state(cancelled) == "CANCELLED"; }));

  const CliResult clean = cli("reconcile");
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_NE(clean.out.find("3 jobs"), std::string::npos) << clean.out;
  auto [st, report] = daemon->api("GET", "/v1/reconcile");
  ASSERT_EQ(st, 200) << report.dump();
  EXPECT_EQ(report["ok"], true) << report.dump();
  EXPECT_EQ(report["checked"]["jobs"], 3);
  EXPECT_EQ(report["checked"]["topups"], 1);
  EXPECT_EQ(report["engine"]["ok"], true) << report.dump();
  EXPECT_EQ(report["differences"].size(), 0u);

  // A member may not reconcile the centre's books.
  auto [st_tok, tok] = daemon->api("POST", "/v1/tokens", R"({"user":"alice","org":"hku"})");
  ASSERT_EQ(st_tok, 201);
  const std::string alice = tok["token"];
  auto [st_member, denied] = daemon->api("GET", "/v1/reconcile", "", alice);
  EXPECT_EQ(st_member, 403);
  EXPECT_EQ(denied["error"]["code"], "permission_denied") << denied.dump();
  EXPECT_EQ(cli("reconcile", alice).exit_code, 1);

  // Moving a minor unit of a job's subsidy to its co-payment in the database keeps the job's
  // own sums right, so berthd restarts; reconciliation finds it against the job's transfers.
  ASSERT_GT(amount(job(ran)["subsidy"]), 0) << job(ran).dump();
  daemon->stop();
  ASSERT_EQ(sql(daemon->state_dir() + "/berth.db",
                "UPDATE jobs SET subsidy_minor = subsidy_minor - 1, "
                "copay_minor = copay_minor + 1 WHERE id = " +
                    std::to_string(ran)),
            1);
  daemon->start();
  const CliResult tampered = cli("reconcile");
  EXPECT_EQ(tampered.exit_code, 1) << tampered.out;
  EXPECT_NE(tampered.out.find("job_subsidy"), std::string::npos) << tampered.out;
  auto [st2, found] = daemon->api("GET", "/v1/reconcile");
  ASSERT_EQ(st2, 200);
  EXPECT_EQ(found["ok"], false);
  bool reported = false;
  for (const json& d : found["differences"])
    reported |= d["source"] == "store" && d["kind"] == "job_subsidy" && d["entity"] == "job" &&
                d["id"] == ran;
  EXPECT_TRUE(reported) << found.dump(2);

  // With berthd stopped, the operator reconciles the state directory itself; a wallet balance
  // edited in the database (which berthd would refuse to start on) is named too.
  daemon->stop();
  const std::string state = daemon->state_dir();
  const CliResult offline = cli("reconcile --state-dir '" + state + "'");
  EXPECT_EQ(offline.exit_code, 1) << offline.out;
  EXPECT_NE(offline.out.find("job_subsidy"), std::string::npos) << offline.out;
  ASSERT_EQ(sql(state + "/berth.db",
                "UPDATE accounts SET credits_posted_minor = credits_posted_minor + 7 "
                "WHERE kind = 'wallet'"),
            1);
  const CliResult wallet = cli("--json reconcile --state-dir '" + state + "'");
  EXPECT_EQ(wallet.exit_code, 1) << wallet.out;
  const json offline_report =
      json::parse(wallet.out.substr(0, wallet.out.rfind('}') + 1), nullptr, false);
  ASSERT_TRUE(offline_report.is_object()) << wallet.out;
  bool balance_named = false;
  for (const json& d : offline_report["differences"]) balance_named |= d["entity"] == "account";
  EXPECT_TRUE(balance_named) << offline_report.dump(2);
  EXPECT_FALSE(offline_report.contains("engine"));
  EXPECT_NE(cli("reconcile --state-dir /nonexistent/berth").exit_code, 0);
}

}  // namespace
}  // namespace berth::testing
