// Runs every tests/scenario/*.scenario file through the scenario driver, one test per file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "scenario/driver.h"

namespace berth::scenario {
namespace {

namespace fs = std::filesystem;

// The scenarios live beside this source file; __FILE__ is the path the build gave the compiler.
fs::path scenario_dir() { return fs::path(__FILE__).parent_path(); }

std::vector<fs::path> scenario_files() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scenario_dir(), ec))
    if (entry.is_regular_file() && entry.path().extension() == ".scenario")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// A test name from a file name: letters, digits and '_' only.
std::string test_name(const fs::path& file) {
  std::string name = file.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class ScenarioFile : public ::testing::TestWithParam<fs::path> {};

TEST_P(ScenarioFile, Passes) {
  const Outcome outcome = run_scenario_file(GetParam());
  for (const std::string& failure : outcome.failures) ADD_FAILURE() << failure;
  EXPECT_GT(outcome.expectations, 0) << GetParam().string() << " checks nothing";
}

INSTANTIATE_TEST_SUITE_P(All, ScenarioFile, ::testing::ValuesIn(scenario_files()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                           return test_name(info.param);
                         });

TEST(ScenarioFiles, AreFound) {
  EXPECT_GE(scenario_files().size(), 10u) << "no scenarios found in " << scenario_dir().string();
}

}  // namespace
}  // namespace berth::scenario
