// read_proc_stat and in_process_tree against real processes.
#include "executor/proc_stat.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace berth::executor {
namespace {

TEST(ProcStatTest, ReadsThisProcesssParentAndGroup) {
  const std::optional<ProcStat> st = read_proc_stat(::getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ppid, ::getppid());
  EXPECT_EQ(st->pgrp, ::getpgrp());
  EXPECT_FALSE(read_proc_stat(-5).has_value());
}

TEST(ProcStatTest, AChildInAGroupOfItsOwnIsStillInItsParentsTree) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setsid();  // a group (and session) of its own, as a job's process may make
    char c = 'x';
    [[maybe_unused]] ssize_t n = ::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_TRUE(in_process_tree(child, ::getpid())) << "a descendant of this leader";
  EXPECT_TRUE(in_process_tree(child, child)) << "the leader of its own group";
  EXPECT_FALSE(in_process_tree(::getpid(), child)) << "a parent is not in its child's tree";
  EXPECT_FALSE(in_process_tree(1, ::getpid()));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_FALSE(in_process_tree(child, ::getpid())) << "gone";
}

}  // namespace
}  // namespace berth::executor
