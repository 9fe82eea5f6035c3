// Jobs as Slurm's commands print them: sacct's columns, scontrol's show job, sinfo's partitions.
#include "cli/job_views.h"

#include <gtest/gtest.h>

#include "common/timefmt.h"

namespace berth::cli {
namespace {

using nlohmann::json;

const int64_t kNow = *parse_time_ms("2026-03-01T12:00:00Z");

std::vector<const HistoryColumn*> columns(const std::string& format) {
  Result<std::vector<const HistoryColumn*>> c = history_columns(format);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : std::vector<const HistoryColumn*>{};
}

TEST(HistoryColumns, SlurmNamesAnyCaseWithWidthsAndAliases) {
  const auto c = columns("jobid,JOBNAME%40,gpus,Name,tier,AllocGPUS");
  ASSERT_EQ(c.size(), 6u);
  EXPECT_STREQ(c[0]->name, "JobID");
  EXPECT_STREQ(c[1]->name, "JobName");
  EXPECT_STREQ(c[2]->name, "AllocGPUS");
  EXPECT_STREQ(c[3]->name, "JobName");
  EXPECT_STREQ(c[4]->name, "QOS");
  EXPECT_STREQ(c[5]->name, "AllocGPUS");
  EXPECT_TRUE(history_columns(kDefaultHistoryFormat).ok());
}

TEST(HistoryColumns, UnknownNamesAndBadWidthsAreRefused) {
  EXPECT_EQ(history_columns("JobID,MaxRSS").status().message().substr(0, 60),
            "unknown --format column 'MaxRSS'; known: JobID, JobIDRaw, Jo");
  EXPECT_FALSE(history_columns("JobID,").ok());
  EXPECT_FALSE(history_columns("").ok());
  EXPECT_EQ(history_columns("JobName%x").status().message(),
            "--format column 'JobName%x' has a width that is not a number");
}

TEST(RenderHistory, GpuHoursElapsedAndExitCodeOfRunningAndEndedJobs) {
  const json jobs = json::array({
      {{"id", 3},
       {"state", "RUNNING"},
       {"gpus", 4},
       {"start_time", "2026-03-01T11:15:00Z"},
       {"runtime_s", nullptr},
       {"exit_code", nullptr}},
      {{"id", 4},
       {"state", "TIMEOUT"},
       {"gpus", 3},
       {"runtime_s", 1},
       {"exit_code", 0},
       {"signal", 15},
       {"node_list", {"n1", "n2"}},
       {"time_limit_s", 90061}},
      {{"id", 5},
       {"state", "CANCELLED"},
       {"gpus", 1},
       {"runtime_s", nullptr},
       {"exit_code", nullptr},
       {"node_list", json::array()}},
  });
  EXPECT_EQ(
      render_history(jobs, columns("JobID,State,Elapsed,GPUHours,ExitCode,NodeList,Timelimit"),
                     kNow, "HK$"),
      "JobID  State       Elapsed  GPUHours  ExitCode  NodeList   Timelimit\n"
      "3      RUNNING    00:45:00    3.0000  -         -           00:00:00\n"
      "4      TIMEOUT    00:00:01    0.0008  0:15      n1,n2     1-01:01:01\n"
      "5      CANCELLED  00:00:00    0.0000  -         -           00:00:00\n");
}

TEST(RenderHistory, AmountsReadAsMoneyInTheTable) {
  const json jobs = json::array(
      {{{"id", 8}, {"cost", "1234.5678"}, {"subsidy", "864.1975"}, {"copay", nullptr}}});
  EXPECT_EQ(render_history(jobs, columns("JobID,Cost,Subsidy,CoPay"), kNow, "HK$"),
            "JobID          Cost     Subsidy  CoPay\n"
            "8      HK$ 1,234.57  HK$ 864.20      -\n");
}

TEST(HistoryCsv, ExactValuesAndFormulaSafeText) {
  const json jobs =
      json::array({{{"id", 8}, {"name", "+SUM(A1)"}, {"cost", "1234.5678"}, {"user", "a,b"}}});
  EXPECT_EQ(history_csv(jobs, columns("JobID,JobName,User,Cost"), kNow),
            "JobID,JobName,User,Cost\n8,'+SUM(A1),\"a,b\",1234.5678\n");
}

TEST(RenderJobScontrol, KeyValueLinesWithHumanDurations) {
  const json job = {{"id", 14},
                    {"name", "train"},
                    {"user", "alice"},
                    {"project", "vision"},
                    {"tier", "normal"},
                    {"state", "COMPLETED"},
                    {"reason", nullptr},
                    {"dependency", nullptr},
                    {"held", false},
                    {"requeue", false},
                    {"restarts", 0},
                    {"exit_code", 0},
                    {"signal", nullptr},
                    {"runtime_s", 3723},
                    {"ran_s", 0},
                    {"time_limit_s", 172800},
                    {"planned_runtime_s", 172800},
                    {"submit_time", "2026-03-01T08:00:00Z"},
                    {"start_time", "2026-03-01T08:00:05Z"},
                    {"end_time", "2026-03-01T09:02:08Z"},
                    {"partition", "gpu"},
                    {"node_list", {"local"}},
                    {"nodes", 1},
                    {"gpus", 2},
                    {"gpus_per_node", 2},
                    {"gpu_model", "H100"},
                    {"gpu_ids", {0, 1}},
                    {"workdir", "/home/alice"},
                    {"stdout", "/home/alice/slurm-14.out"},
                    {"stderr", "/home/alice/slurm-14.out"},
                    {"cost", "10.3417"},
                    {"subsidy", "7.2391"},
                    {"copay", "3.1026"},
                    {"refunded", "0.0000"},
                    {"award_id", 3},
                    {"rate_bps", 7000},
                    {"end_reason", "exited"},
                    {"some_new_field", "x"}};
  EXPECT_EQ(render_job_scontrol(job, kNow),
            "JobId=14 JobName=train\n"
            "   UserId=alice Account=vision QOS=normal\n"
            "   JobState=COMPLETED Reason=None Dependency=(null)\n"
            "   Held=no Requeue=0 Restarts=0 ExitCode=0:0\n"
            "   RunTime=01:02:03 TimeLimit=2-00:00:00 PlannedRunTime=2-00:00:00 "
            "EarlierRunsTime=00:00:00\n"
            "   SubmitTime=2026-03-01T08:00:00Z StartTime=2026-03-01T08:00:05Z "
            "EndTime=2026-03-01T09:02:08Z\n"
            "   Partition=gpu NodeList=local ReqNodeList=(null) ExcNodeList=(null)\n"
            "   NumNodes=1 GPUs=2 GPUsPerNode=2 GPUModel=H100 GPUIds=0,1\n"
            "   WorkDir=/home/alice\n"
            "   StdOut=/home/alice/slurm-14.out\n"
            "   StdErr=/home/alice/slurm-14.out\n"
            "   Cost=10.3417 Subsidy=7.2391 CoPay=3.1026 Refunded=0.0000\n"
            "   MaxCost=(null) SubsidyHeld=(null) CoPayHeld=(null)\n"
            "   Award=3 SubsidyRate=70%\n"
            "   EndReason=exited\n"
            "   some_new_field=x\n");
}

TEST(RenderJobScontrol, APendingArrayTaskShowsItsArrayReasonAndPriority) {
  const json job = {{"id", 29},           {"array_id", 26},
                    {"array_index", 3},   {"name", "sweep\x1b[2J"},
                    {"state", "PENDING"}, {"reason", "JobHeldUser"},
                    {"priority", 1200},   {"expected_start", nullptr},
                    {"time_limit_s", 600}};
  const std::string out = render_job_scontrol(job, kNow);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "JobId=29 ArrayJobId=26 ArrayTaskId=3 JobName=sweep\\x1B[2J");
  EXPECT_NE(out.find("   JobState=PENDING Reason=JobHeldUser "), std::string::npos) << out;
  EXPECT_NE(out.find(" Priority=1200\n"), std::string::npos) << out;
  EXPECT_NE(out.find("StartTime=Unknown EndTime=Unknown ExpectedStart=Unknown\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("RunTime=00:00:00 TimeLimit=00:10:00"), std::string::npos) << out;
}

TEST(RenderPartitions, WithoutNodesEachPartitionStillShows) {
  const json partitions = {{{"name", "gpu"}, {"max_time_s", 3600}, {"default", true}}};
  EXPECT_EQ(render_partitions(partitions, json::array()),
            "PARTITION  AVAIL  TIMELIMIT  NODES  STATE  GPUS(A/I/O/T)  GPU_MODEL  NODELIST\n"
            "gpu*       up      01:00:00      0  n/a    0/0/0/0        -          -\n");
}

TEST(RenderPartitions, DrainingDownAndAllocatedNodes) {
  const json partitions = {{{"name", "gpu"}, {"max_time_s", 3600}, {"default", false}}};
  const json nodes = {
      {{"name", "n1"}, {"gpu_model", "H100"}, {"gpus", 4}, {"gpus_free", 0}, {"state", "up"}},
      {{"name", "n2"}, {"gpu_model", "H100"}, {"gpus", 4}, {"gpus_free", 1}, {"state", "drain"}},
      {{"name", "n3"}, {"gpu_model", "H100"}, {"gpus", 4}, {"gpus_free", 4}, {"state", "down"}}};
  EXPECT_EQ(render_partitions(partitions, nodes),
            "PARTITION  AVAIL  TIMELIMIT  NODES  STATE  GPUS(A/I/O/T)  GPU_MODEL  NODELIST\n"
            "gpu        up      01:00:00      1  alloc  4/0/0/4        H100       n1\n"
            "gpu        up      01:00:00      1  down   0/0/4/4        H100       n3\n"
            "gpu        up      01:00:00      1  drng   3/0/1/4        H100       n2\n");
}

}  // namespace
}  // namespace berth::cli
