// Batch scripts brought from other Slurm clusters, submitted with the berth CLI to a real berthd:
// the options they use run, record or are refused, and the job sees what sbatch would give it.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

#include "harness.h"

namespace berth::testing {
namespace {

class SlurmCompatTest : public DaemonTest {
 protected:
  void make_centre() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(work + "/" + name) << text;
  }
  bool ends(uint64_t id, const std::string& final_state) {
    return eventually([&] { return state(id) == final_state; });
  }
};

TEST_F(SlurmCompatTest,
       AScriptFromAnotherClusterRunsWithSlurmsVariablesAndTheSubmittersEnvironment) {
  make_centre();
  make_work_dir(work + "/runs");
  ::setenv("IT_SLURM_LEARNING_RATE", "0.1", 1);
  ::setenv("IT_SLURM_API_TOKEN", "never-copied", 1);
  write("train.sh",
        "#!/bin/bash\n"
        "#SBATCH --job-name=train\n"
        "#SBATCH --gres=gpu:h100:1\n"
        "#SBATCH --qos=high\n"
        "#SBATCH --chdir=runs\n"
        "#SBATCH -c 4 --mem=8G --ntasks=2\n"
        "#SBATCH --signal=B:USR1@60\n"
        "#SBATCH --time=10\n"
        "#SBATCH --output=%x-%j.out\n"
        "env | grep -E '^(SLURM_|IT_SLURM_)' | sort > env.txt\n"
        "pwd > pwd.txt\n");
  const uint64_t id = submit("train.sh");
  ASSERT_TRUE(ends(id, "COMPLETED")) << job(id).dump();
  const json j = job(id);
  EXPECT_EQ(j.value("gpu_model", ""), "H100");
  EXPECT_EQ(j.value("tier", ""), "high");
  EXPECT_EQ(j.value("cpus_per_node", 0), 8);  // 4 per task, 2 tasks
  EXPECT_EQ(j.value("memory_per_node_mb", 0), 8192);
  EXPECT_EQ(read_file(work + "/runs/pwd.txt"), work + "/runs\n");
  const std::string env = read_file(work + "/runs/env.txt");
  for (const std::string& line :
       {"SLURM_SUBMIT_DIR=" + work, std::string("SLURM_JOB_NAME=train"),
        std::string("SLURM_NTASKS=2"), std::string("SLURM_CPUS_PER_TASK=4"),
        std::string("SLURM_JOB_PARTITION=gpu"), std::string("SLURM_JOB_ACCOUNT=vision"),
        std::string("SLURM_MEM_PER_NODE=8192"), std::string("IT_SLURM_LEARNING_RATE=0.1")})
    EXPECT_NE(env.find(line + "\n"), std::string::npos) << line << " not in\n" << env;
  EXPECT_EQ(env.find("IT_SLURM_API_TOKEN"), std::string::npos) << env;
  EXPECT_EQ(env.find("BERTH_TOKEN"), std::string::npos) << env;
  ::unsetenv("IT_SLURM_LEARNING_RATE");
  ::unsetenv("IT_SLURM_API_TOKEN");
}

// A job that asks for no CPUs or memory gets its partition's defaults (the embedded
// configuration's: a GPU's share of the node), and its record says so; one that asks for more
// than a node has is refused at submit, saying so.
TEST_F(SlurmCompatTest, AJobWithoutMemGetsThePartitionsDefaultAndOneTooLargeIsRefused) {
  make_centre();
  write("plain.sh", "#!/bin/sh\n#SBATCH -G 2 --time=1\ntrue\n");
  const uint64_t id = submit("plain.sh");
  const json j = job(id);
  EXPECT_EQ(j.value("cpus_per_node", 0), 4) << j.dump();
  EXPECT_EQ(j.value("memory_per_node_mb", 0), 16384) << j.dump();
  const json partition = daemon->api("GET", "/v1/partitions").second["partitions"][0];
  EXPECT_EQ(partition.value("default_cpus_per_gpu", 0), 2) << partition.dump();
  EXPECT_EQ(partition.value("default_mem_per_gpu_mb", 0), 8192) << partition.dump();
  write("big.sh", "#!/bin/sh\n#SBATCH -G 1 --mem=100G\ntrue\n");
  const CliResult big = cli("submit -A vision big.sh");
  EXPECT_NE(big.exit_code, 0);
  EXPECT_NE(big.out.find("the job asks for 102400 MB of memory per node but the largest node "
                         "has 65536"),
            std::string::npos)
      << big.out;
  auto [status, out] = daemon->api("POST", "/v1/jobs",
                                   json{{"project", "vision"},
                                        {"gpus", 1},
                                        {"script", "#!/bin/sh\ntrue\n"},
                                        {"workdir", work},
                                        {"resources", {{"cpus_per_task", 17}}}}
                                       .dump());
  EXPECT_EQ(status, 400) << out.dump();
  EXPECT_NE(out.dump().find("17 CPUs per node but the largest node has 16"), std::string::npos)
      << out.dump();
}

// --signal=B:USR1@59 on a one-minute job: the script is warned a second after it starts and
// ends on its own, long before the limit. Should it not have set its trap yet (a very slow
// start), USR1 itself ends it: either way the warning came, not the limit's TERM.
TEST_F(SlurmCompatTest, ASignalBeforeTheTimeLimitReachesTheScript) {
  make_centre();
  write("warned.sh",
        "#!/bin/sh\n"
        "#SBATCH -G 1 --time=1 --signal=B:USR1@59\n"
        "trap 'echo warned > warned-$SLURM_JOB_ID; exit 0' USR1\n"
        "while :; do sleep 0.05; done\n");
  const uint64_t id = submit("warned.sh");
  ASSERT_TRUE(eventually([&] { return state(id) != "PENDING" && state(id) != "RUNNING"; }))
      << job(id).dump();
  if (state(id) == "COMPLETED") {
    EXPECT_EQ(read_file(work + "/warned-" + std::to_string(id)), "warned\n");
  } else {
    EXPECT_EQ(job(id)["signal"], json(SIGUSR1)) << job(id).dump();
  }
}

TEST_F(SlurmCompatTest, AnOutputInAMissingFolderFailsTheJobSayingWhy) {
  make_centre();
  write("logs.sh", "#!/bin/sh\n#SBATCH --output=logs/%x-%j.out\necho hi\n");
  const uint64_t id = submit("-G 1 logs.sh");
  ASSERT_TRUE(ends(id, "FAILED")) << job(id).dump();
  const std::string reason = job(id).value("end_reason", "");
  EXPECT_NE(
      reason.find("cannot open output " + work + "/logs/logs.sh-" + std::to_string(id) + ".out"),
      std::string::npos)
      << reason;
  EXPECT_NE(reason.find("No such file or directory (its directory " + work + "/logs/ must exist"),
            std::string::npos)
      << reason;
  const CliResult show = cli("show " + std::to_string(id));
  EXPECT_NE(show.out.find("must exist before the job starts"), std::string::npos) << show.out;
}

TEST_F(SlurmCompatTest, UnknownModelsAndOptionsBerthDoesNotDoAreRefusedSayingWhy) {
  make_centre();
  write("a100.sh", "#!/bin/sh\n#SBATCH --gres=gpu:a100:2\ntrue\n");
  CliResult r = cli("submit -A vision a100.sh");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no node has GPU model 'a100'; this cluster has H100"), std::string::npos)
      << r.out;
  write("begin.sh", "#!/bin/sh\n#SBATCH -G 1 --begin=now+1hour\ntrue\n");
  r = cli("submit -A vision begin.sh");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("line 2: --begin is not supported"), std::string::npos) << r.out;
}

TEST_F(SlurmCompatTest, NodesChosenByNameAreKeptOrRefusedSayingWhy) {
  make_centre();
  write("pinned.sh", "#!/bin/sh\n#SBATCH -G 1 --nodelist=local\ntrue\n");
  const uint64_t id = submit("pinned.sh");
  ASSERT_TRUE(ends(id, "COMPLETED")) << job(id).dump();
  EXPECT_EQ(job(id)["required_nodes"], json::array({"local"}));
  const CliResult show = cli("show " + std::to_string(id));
  EXPECT_NE(show.out.find("NodeList=local ReqNodeList=local ExcNodeList=(null)"), std::string::npos)
      << show.out;
  CliResult r = cli("submit -A vision -G 1 -w gpu01 --wrap true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--nodelist: no node is named 'gpu01'"), std::string::npos) << r.out;
  r = cli("submit -A vision -G 1 --exclude=local --wrap true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--exclude leaves 0 suitable nodes"), std::string::npos) << r.out;
  r = cli("submit -A vision -G 1 -w 'n[3-1]' --wrap true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("range '3-1' in node list runs backwards"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace berth::testing
