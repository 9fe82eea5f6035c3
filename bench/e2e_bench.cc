// End-to-end throughput: N one-GPU jobs running `true` on berthd's 8 logical GPUs, from the
// first submit until all have finished. Starts a real berthd (SQLite, real processes) in a
// temporary state directory. Prints one JSON line.
//
//   e2e_bench [--jobs N] [--clients C] [--via-cli] [--agents] [--store sqlite|postgresql]
//
// --agents: one node agent (berth-agent, a process of its own) runs the jobs, as on a cluster,
// rather than berthd itself. --store postgresql: berthd's state in a PostgreSQL 15 of the
// bench's own (tests/common/pg_server.h, with fsync on, as SQLite's synchronous=FULL), which
// needs agents (docs/high-availability.md).
//
// Submissions go over HTTP with keep-alive from C client threads, or, with --via-cli, one
// `berth submit` process per job (as sbatch is run per job in Slurm's baseline).
//
// Then the machine's floor: the same N scripts started directly with posix_spawn, 8 at a time,
// with no scheduler at all ("floor_jobs_per_s"). No workload manager can run them faster on
// this machine; "share_of_floor" is berth's rate over it.
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "../tests/common/pg_server.h"
#include "../tests/integration/agent_cluster.h"
#include "../tests/integration/harness.h"

using namespace berth::testing;

extern char** environ;

// Jobs per second when `jobs` runs of `/bin/sh script` are started directly, `slots` at a time.
double floor_rate(const std::string& script, int jobs, int slots) {
  const auto t0 = std::chrono::steady_clock::now();
  std::set<pid_t> running;
  int started = 0, done = 0;
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  posix_spawn_file_actions_addopen(&io, 1, "/dev/null", O_WRONLY, 0);
  while (done < jobs) {
    while (started < jobs && static_cast<int>(running.size()) < slots) {
      pid_t pid = 0;
      char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>(script.c_str()), nullptr};
      if (posix_spawn(&pid, "/bin/sh", &io, nullptr, argv, environ) != 0) return 0;
      running.insert(pid);
      ++started;
    }
    const pid_t pid = ::waitpid(-1, nullptr, 0);
    if (pid < 0) return 0;
    if (running.erase(pid) == 1) ++done;
  }
  posix_spawn_file_actions_destroy(&io);
  return jobs / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// berthd's configuration with a node agent for the node `local` (8 GPUs) and, with a store URL,
// its state in PostgreSQL.
std::string agents_config(int agent_port, const std::string& store_url) {
  std::string c;
  if (!store_url.empty()) c += "[store]\nurl = \"" + store_url + "\"\nname = \"bench\"\n";
  c += "[agents]\nlocal = false\ntls = \"none\"\nlisten = \"127.0.0.1:" +
       std::to_string(agent_port) + "\"\n";
  c += "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"30.0000\"\n"
       "[[nodes]]\nname = \"local\"\ngpu_model = \"H100\"\ngpus = 8\ncpus = 16\n"
       "memory_mb = 65536\n"
       "[[partitions]]\nname = \"gpu\"\nmax_time = \"7-00:00:00\"\ndefault_time = \"1:00:00\"\n"
       "default = true\n";
  return c;
}

int main(int argc, char** argv) {
  int jobs = 1000, clients = 8;
  bool via_cli = false, agents = false;
  std::string store = "sqlite";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--jobs" && i + 1 < argc)
      jobs = std::atoi(argv[++i]);
    else if (a == "--clients" && i + 1 < argc)
      clients = std::atoi(argv[++i]);
    else if (a == "--via-cli")
      via_cli = true;
    else if (a == "--agents")
      agents = true;
    else if (a == "--store" && i + 1 < argc &&
             (std::string(argv[i + 1]) == "sqlite" || std::string(argv[i + 1]) == "postgresql"))
      store = argv[++i];
    else {
      std::cerr << "usage: e2e_bench [--jobs N] [--clients C] [--via-cli] [--agents] "
                   "[--store sqlite|postgresql]\n";
      return 2;
    }
  }
  const std::string dir = temp_dir("e2e-bench");
  const std::string work = dir + "/work";
  fs::create_directories(work);
  std::unique_ptr<PgServer> pg;
  std::string store_url;
  if (store == "postgresql") {
    agents = true;
    pg = std::make_unique<PgServer>(/*durable=*/true);
    if (const std::string e = pg->start(); !e.empty()) {
      std::cerr << "PostgreSQL: " << e << "\n";
      return 1;
    }
    store_url = pg->fresh_database();
  }
  const int agent_port = agents ? free_port() : 0;
  std::string config_path;
  if (agents) {
    config_path = dir + "/berth.toml";
    std::ofstream(config_path) << agents_config(agent_port, store_url);
  }
  Berthd d(dir + "/state", config_path);
  d.may_stand_by();
  d.start();
  if (!eventually([&] { return d.api("GET", "/readyz", "", "").first == 200; })) {
    std::cerr << "berthd did not lead\n";
    return 1;
  }
  std::unique_ptr<AgentProcess> agent;
  if (agents) {
    agent = std::make_unique<AgentProcess>("local", "127.0.0.1:" + std::to_string(agent_port),
                                           dir + "/agent");
    agent->start();
    const bool up = eventually([&] {
      for (const json& n : d.api("GET", "/v1/nodes").second.value("nodes", json::array()))
        if (n.value("agent_version", "") != "" && n.value("state", "") == "up") return true;
      return false;
    });
    if (!up) {
      std::cerr << "the agent did not register: " << agent->log() << "\n";
      return 1;
    }
  }
  auto must = [&](const std::string& path, const std::string& body) {
    auto [st, j] = d.api("POST", path, body);
    if (st / 100 != 2) {
      std::cerr << path << " -> " << st << " " << j.dump() << "\n";
      std::exit(1);
    }
  };
  must("/v1/orgs", R"({"name":"bench","kind":"university"})");
  must("/v1/projects", R"({"name":"bench","org":"bench"})");
  must("/v1/schemes",
       R"({"name":"s","rate_bps":7000,"eligible_kinds":["university"],"fund":"100000000"})");
  must(
      "/v1/awards",
      R"({"scheme":"s","project":"bench","amount":"10000000","gpu_level":8,"start":"2020-01-01","end":"2100-01-01"})");
  must("/v1/projects/bench/topups", R"({"amount":"10000000"})");
  const std::string body =
      R"({"project":"bench","gpus":1,"time_limit_s":600,"script":"#!/bin/sh\ntrue\n","workdir":")" +
      work + R"(","output":"/dev/null"})";

  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client http("127.0.0.1", d.port());
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      const httplib::Headers h = {{"Authorization", "Bearer " + d.admin_token()}};
      while (next.fetch_add(1) < jobs) {
        if (via_cli) {
          const CliResult r =
              berth_cli(d, "submit --parsable -A bench --gpus 1 --time 10 -o /dev/null --wrap true",
                        "", work);
          if (r.exit_code != 0 && failed++ == 0)
            std::cerr << "berth submit failed: " << r.out << "\n";
        } else {
          auto r = http.Post("/v1/jobs", h, body, "application/json");
          if (!r || r->status != 201) ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto t1 = std::chrono::steady_clock::now();
  httplib::Client http("127.0.0.1", d.port());
  const httplib::Headers h = {{"Authorization", "Bearer " + d.admin_token()}};
  // Jobs in `states`, over every page of the listing (-1 when a page fails).
  auto count = [&](const std::string& states, bool stop_at_first) -> long {
    long n = 0;
    std::string after = "0";
    while (true) {
      // Whether any is left needs one job, not a page of 1,000 every few milliseconds: the
      // polling would take CPU from the jobs it waits for.
      const std::string limit = stop_at_first ? "1" : "1000";
      auto r =
          http.Get(("/v1/jobs?limit=" + limit + "&state=" + states + "&after=" + after).c_str(), h);
      if (!r || r->status != 200) return -1;
      const json page = json::parse(r->body);
      n += static_cast<long>(page["jobs"].size());
      if ((stop_at_first && n > 0) || !page.contains("next") || page["next"].is_null()) return n;
      after = page["next"].dump();
    }
  };
  while (count("PENDING,RUNNING", true) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto t2 = std::chrono::steady_clock::now();
  const size_t completed = static_cast<size_t>(std::max(0L, count("COMPLETED", false)));
  const double submit_s = std::chrono::duration<double>(t1 - t0).count();
  const double total_s = std::chrono::duration<double>(t2 - t0).count();
  d.stop();
  agent.reset();
  const std::string script = work + "/floor.sh";
  std::ofstream(script) << "#!/bin/sh\ntrue\n";
  const double floor = floor_rate(script, jobs, 8);
  std::cout << json{{"jobs", jobs},
                    {"completed", completed},
                    {"failed_submits", failed.load()},
                    {"mode", via_cli ? "cli" : "http"},
                    {"store", store},
                    {"agents", agents},
                    {"clients", clients},
                    {"submit_s", submit_s},
                    {"total_s", total_s},
                    {"jobs_per_s", jobs / total_s},
                    {"floor_jobs_per_s", floor},
                    {"share_of_floor", floor > 0 ? jobs / total_s / floor : 0}}
                   .dump()
            << std::endl;
  fs::remove_all(dir);
  return completed == static_cast<size_t>(jobs) && failed == 0 ? 0 : 1;
}
