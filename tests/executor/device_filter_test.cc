// The cgroup v2 device filter against the real kernel: a cgroup2 hierarchy mounted for the
// test (root only), a filter that treats the memory devices (major 1) as the GPUs, and a child
// process in the filtered cgroup that opens devices. cgroup2 is one hierarchy however often it
// is mounted, so each test process makes a cgroup of its own name: tests run in parallel must
// not attach their filters to one another's cgroup.
#include "executor/device_filter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "executor/cgroup.h"

namespace berth::executor {
namespace {

namespace fs = std::filesystem;

class DeviceFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount cgroup2 and load BPF";
    root = (fs::temp_directory_path() / ("berth-cg2-" + std::to_string(::getpid()))).string();
    fs::create_directories(root);
    if (::mount("none", root.c_str(), "cgroup2", 0, nullptr) != 0) {
      fs::remove(root);
      GTEST_SKIP() << "cannot mount cgroup2 here";
    }
    mounted = true;
    job = root + "/berth-test-job-" + std::to_string(::getpid());
    fs::create_directories(job);
  }
  void TearDown() override {
    if (!mounted) return;
    ::rmdir(job.c_str());
    ::umount(root.c_str());
    fs::remove(root);
  }
  // In a child joined to the filtered cgroup: a bit per device opened (null, zero, tty).
  int opened_in_job() {
    const pid_t child = ::fork();
    if (child == 0) {
      std::ofstream(job + "/cgroup.procs") << "0\n";
      int bits = 0;
      const char* devices[] = {"/dev/null", "/dev/zero", "/dev/tty"};
      for (int i = 0; i < 3; ++i) {
        const int fd = ::open(devices[i], O_RDONLY | O_NOCTTY);
        if (fd >= 0 || errno != EPERM) bits |= 1 << i;
        if (fd >= 0) ::close(fd);
      }
      ::_exit(bits);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string root;
  std::string job;  // the cgroup the filter is attached to, named for this test process
  bool mounted = false;
};

TEST_F(DeviceFilterTest, OnlyTheJobsMinorsOfTheGpuMajorOpen) {
  EXPECT_EQ(opened_in_job(), 0b111) << "unfiltered, every device opens";
  const Status st = attach_device_filter(job, {3}, /*major=*/1);
  if (!st.ok() && st.code() == Code::kUnavailable && !device_filter_supported().ok())
    GTEST_SKIP() << "this kernel loads no device filter: " << st.message();
  ASSERT_TRUE(st.ok()) << st.message();
  // /dev/null is 1:3 (the job's "GPU"), /dev/zero 1:5 (another's), /dev/tty 5:0 (not a GPU).
  EXPECT_EQ(opened_in_job(), 0b101);
}

// NVIDIA's own numbers, on device nodes made for the test (no driver: an allowed open fails
// with ENXIO, a filtered one with EPERM): the job's GPU and nvidiactl open, another GPU does not.
TEST_F(DeviceFilterTest, NvidiasMajorAllowsTheJobsGpusAndNvidiactlOnly) {
  const std::string dev = root + "-dev";
  fs::create_directories(dev);
  struct Node {
    const char* name;
    int minor;
  };
  const Node nodes[] = {{"nvidia0", 0}, {"nvidia1", 1}, {"nvidiactl", 255}};
  for (const Node& n : nodes)
    ASSERT_EQ(::mknod((dev + "/" + n.name).c_str(), S_IFCHR | 0666, makedev(195, n.minor)), 0);
  const Status st = attach_device_filter(job, {0}, kNvidiaMajor);
  if (!st.ok() && !device_filter_supported().ok()) {
    fs::remove_all(dev);
    GTEST_SKIP() << "this kernel loads no device filter: " << st.message();
  }
  ASSERT_TRUE(st.ok()) << st.message();
  const pid_t child = ::fork();
  if (child == 0) {
    std::ofstream(job + "/cgroup.procs") << "0\n";
    int denied = 0;
    for (int i = 0; i < 3; ++i) {
      const int fd = ::open((dev + "/" + nodes[i].name).c_str(), O_RDONLY | O_NOCTTY);
      if (fd < 0 && errno == EPERM) denied |= 1 << i;
      if (fd >= 0) ::close(fd);
    }
    ::_exit(denied);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::remove_all(dev);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0b010) << "only nvidia1, another job's GPU, is denied";
}

TEST_F(DeviceFilterTest, AFolderThatIsNotACgroupIsRefusedNamingIt) {
  const Status st = attach_device_filter(root + "/missing", {0}, 195);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/missing"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace berth::executor
