// Helpers the sim tests share: test data files, the real traces, temporary files and outcomes.
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/metrics.h"

namespace berth::sim::testing {

// A file under tests/sim/data.
inline std::string data_file(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path() / "data" / name).string();
}

// The real traces: tests/sim -> <repo>/../shared/traces.
inline std::filesystem::path real_traces() {
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "shared" / "traces";
}

#define SKIP_WITHOUT_REAL_TRACES()                                            \
  do {                                                                        \
    if (!std::filesystem::is_directory(::berth::sim::testing::real_traces())) \
      GTEST_SKIP() << "no " << ::berth::sim::testing::real_traces().string(); \
  } while (0)

// Writes `content` to a file named `name` under the test temp dir and returns its path. The
// files are removed when the test program ends.
inline std::string temp_file(const std::string& name, const std::string& content) {
  static struct Written {
    std::vector<std::string> paths;
    ~Written() {
      for (const std::string& p : paths) std::remove(p.c_str());
    }
  } written;
  const std::string path = ::testing::TempDir() + "/berth_sim_test_" + name;
  std::ofstream(path, std::ios::binary) << content;
  written.paths.push_back(path);
  return path;
}

inline JobOutcome outcome(int64_t id, const std::string& tenant, int64_t submit_s, int64_t start_s,
                          int64_t end_s, int gpus, int64_t cost_minor = 0,
                          int64_t subsidy_minor = 0) {
  return JobOutcome{.id = std::to_string(id),
                    .tenant = tenant,
                    .submit_s = submit_s,
                    .start_s = start_s,
                    .end_s = end_s,
                    .gpus = gpus,
                    .cost_minor = cost_minor,
                    .subsidy_minor = subsidy_minor};
}

// A fresh directory under the test temp dir, its name starting with `prefix`; "" on failure.
inline std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string pattern = ::testing::TempDir() + "/" + prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

}  // namespace berth::sim::testing
