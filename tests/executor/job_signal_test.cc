// Slurm's --signal=[B:]SIG[@SECS], read in one place for the CLI, berthd and the launch.
#include "executor/job_signal.h"

#include <csignal>

#include <gtest/gtest.h>

namespace berth::executor {
namespace {

TEST(JobSignal, ReadsSlurmsForms) {
  Result<JobSignal> s = parse_job_signal("B:USR1@60");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->number, SIGUSR1);
  EXPECT_EQ(s->before_s, 60);
  EXPECT_TRUE(s->batch_only);
  s = parse_job_signal("SIGUSR2");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->number, SIGUSR2);
  EXPECT_EQ(s->before_s, 60);  // Slurm's default
  EXPECT_FALSE(s->batch_only);
  s = parse_job_signal("10@300");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->number, SIGUSR1);
  EXPECT_EQ(s->before_s, 300);
}

TEST(JobSignal, FormatsCanonically) {
  EXPECT_EQ(format_job_signal(*parse_job_signal("B:SIGUSR1@90")), "B:USR1@90");
  EXPECT_EQ(format_job_signal(*parse_job_signal("TERM")), "TERM@60");
}

TEST(JobSignal, RefusesWhatCannotWarnAJob) {
  for (const char* bad :
       {"", "B:", "KILL", "STOP", "9@10", "USR1@", "USR1@-1", "USR1@65536", "R:USR1@60", "FOO"}) {
    Result<JobSignal> s = parse_job_signal(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find("[B:]SIG[@SECONDS]"), std::string::npos)
          << s.status().message();
    }
  }
}

}  // namespace
}  // namespace berth::executor
