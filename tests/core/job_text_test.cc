// The one parser of --dependency and --array, shared by berthd, the CLI and the scenarios.
#include "core/job_text.h"

#include <gtest/gtest.h>

namespace berth::core {
namespace {

using DepKind = DependencyTextError::Kind;
using ArrayKind = ArrayTextError::Kind;

DependencyTextError dependency_error(std::string_view text) {
  std::vector<Dependency> deps = {{DependencyType::kAfterAny, JobId(99)}};
  DependencyTextError error;
  EXPECT_FALSE(parse_dependency_text(text, &deps, &error)) << text;
  EXPECT_EQ(deps.size(), 1u) << "a refused text leaves the output as it was";
  return error;
}

ArrayTextError array_error(std::string_view text) {
  ArraySpec spec;
  ArrayTextError error;
  EXPECT_FALSE(parse_array_text(text, &spec, &error)) << text;
  EXPECT_TRUE(spec.indices.empty());
  return error;
}

TEST(DependencyText, ReadsEachTypeWithOneOrMoreJobs) {
  std::vector<Dependency> deps;
  DependencyTextError error;
  ASSERT_TRUE(parse_dependency_text("afterok:12:13,afterany:14,afternotok:0", &deps, &error));
  const std::vector<Dependency> want = {{DependencyType::kAfterOk, JobId(12)},
                                        {DependencyType::kAfterOk, JobId(13)},
                                        {DependencyType::kAfterAny, JobId(14)},
                                        {DependencyType::kAfterNotOk, JobId(0)}};
  EXPECT_EQ(deps, want);
  EXPECT_EQ(format_dependencies(deps), "afterok:12:13,afterany:14,afternotok:0");
}

TEST(DependencyText, SaysWhatIsWrongAndWhere) {
  EXPECT_EQ(dependency_error("after:12").kind, DepKind::kUnknownType);
  EXPECT_EQ(dependency_error("after:12").text, "after");
  EXPECT_EQ(dependency_error("AFTEROK:12").kind, DepKind::kUnknownType);
  EXPECT_EQ(dependency_error("afterok:12,").text, "");  // an empty part names no type
  EXPECT_EQ(dependency_error("").kind, DepKind::kUnknownType);
  EXPECT_EQ(dependency_error("afterok").kind, DepKind::kNoJob);
  EXPECT_EQ(dependency_error("afterok").text, "afterok");
  for (const char* text : {"afterok:", "afterok::12", "afterok:12:", "afterok:x", "afterok:-3",
                           "afterok:12_3", "afterok:1234567890123456"}) {
    EXPECT_EQ(dependency_error(text).kind, DepKind::kNotAJobId) << text;
  }
  EXPECT_EQ(dependency_error("afterok:x").text, "x");
}

TEST(DependencyText, AtMostSixtyFourJobs) {
  std::string text = "afterok";
  for (size_t i = 1; i <= kMaxDependencies; ++i) text += ":" + std::to_string(i);
  std::vector<Dependency> deps;
  DependencyTextError error;
  ASSERT_TRUE(parse_dependency_text(text, &deps, &error));
  EXPECT_EQ(deps.size(), kMaxDependencies);
  EXPECT_EQ(dependency_error(text + ":65").kind, DepKind::kTooMany);
}

TEST(ArrayText, ReadsIndicesStepsAndTheThrottle) {
  ArraySpec spec;
  ArrayTextError error;
  ASSERT_TRUE(parse_array_text("20-30:5,0-3,10%4", &spec, &error));
  EXPECT_EQ(spec.indices, (std::vector<int>{0, 1, 2, 3, 10, 20, 25, 30}));
  EXPECT_EQ(spec.throttle, 4);
  ASSERT_TRUE(parse_array_text("1000000", &spec, &error));
  EXPECT_EQ(spec.indices, std::vector<int>{kMaxArrayIndex});
  EXPECT_EQ(spec.throttle, 0);
  ASSERT_TRUE(parse_array_text("0-9999", &spec, &error));
  EXPECT_EQ(spec.indices.size(), static_cast<size_t>(kMaxArrayTasks));
}

TEST(ArrayText, SaysWhatIsWrongAndWhere) {
  for (const char* text : {"0-9%", "0-9%0", "0-9%x", "1-3%2%2"})
    EXPECT_EQ(array_error(text).kind, ArrayKind::kBadThrottle) << text;
  EXPECT_EQ(array_error("").kind, ArrayKind::kNoIndexes);
  EXPECT_EQ(array_error("%2").kind, ArrayKind::kNoIndexes);
  const ArrayTextError step = array_error("1,0-9:0");
  EXPECT_EQ(step.kind, ArrayKind::kBadStep);
  EXPECT_EQ(step.item, "0-9:0");
  EXPECT_EQ(step.range, "0-9");
  for (const char* text : {"1,,2", "1,", "-1", "1-", "a-b", "0-9 ", "12345678"})
    EXPECT_EQ(array_error(text).kind, ArrayKind::kNotARange) << text;
  const ArrayTextError reversed = array_error("9-1:2");
  EXPECT_EQ(reversed.kind, ArrayKind::kReversed);
  EXPECT_EQ(reversed.item, "9-1:2");
  EXPECT_EQ(reversed.range, "9-1");
  EXPECT_EQ(array_error("1000001").kind, ArrayKind::kIndexTooHigh);
  EXPECT_EQ(array_error("0-10000").kind, ArrayKind::kTooManyTasks);
  EXPECT_EQ(array_error("1-5,3").kind, ArrayKind::kRepeats);
}

// berthd's and the scenarios' wording, through the older interface.
TEST(ArrayText, ParseArraySpecKeepsItsMessages) {
  std::vector<int> indices;
  int throttle = 0;
  std::string error;
  EXPECT_FALSE(parse_array_spec("3-1", &indices, &throttle, &error));
  EXPECT_EQ(error, "array range '3-1' is not N or N-M with N <= M <= 1000000");
  EXPECT_FALSE(parse_array_spec("0-9:0", &indices, &throttle, &error));
  EXPECT_EQ(error, "array step in '0-9:0' must be a positive number");
  EXPECT_FALSE(parse_array_spec("0-9%0", &indices, &throttle, &error));
  EXPECT_EQ(error, "array throttle after % must be a positive number");
  EXPECT_FALSE(parse_array_spec("0-10000", &indices, &throttle, &error));
  EXPECT_EQ(error, "an array may have at most 10000 tasks");
  EXPECT_FALSE(parse_array_spec("1,1", &indices, &throttle, &error));
  EXPECT_EQ(error, "array indices repeat");
  ASSERT_TRUE(parse_array_spec("0-4:2%1", &indices, &throttle, &error));
  EXPECT_EQ(indices, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(throttle, 1);
}

}  // namespace
}  // namespace berth::core
