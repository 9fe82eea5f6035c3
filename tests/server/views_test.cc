#include "server/views.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

core::Job job_named(const std::string& name) {
  core::Job j;
  j.id = JobId(42);
  j.name = name;
  return j;
}

TEST(ExpandJobPattern, FillsEachPlaceholderOnceLeftToRight) {
  EXPECT_EQ(expand_job_pattern("%x.out", job_named("%x")), "%x.out");
  EXPECT_EQ(expand_job_pattern("%x-%x.out", job_named("a%x")), "a%x-a%x.out");
  EXPECT_EQ(expand_job_pattern("%j-%x", job_named("%j")), "42-%j");
  EXPECT_EQ(expand_job_pattern("berth-%j.out", job_named("train")), "berth-42.out");
}

TEST(ExpandJobPattern, DoublePercentIsALiteralPercentAndUnknownOnesStay) {
  EXPECT_EQ(expand_job_pattern("100%%-%j", job_named("t")), "100%-42");
  EXPECT_EQ(expand_job_pattern("%%j", job_named("t")), "%j");
  EXPECT_EQ(expand_job_pattern("%q%", job_named("t")), "%q%");
}

TEST(ExpandJobPattern, ArrayPlaceholders) {
  core::Job j = job_named("t");
  EXPECT_EQ(expand_job_pattern("%A_%a", j), "42_0");
  j.array_id = JobId(40);
  j.array_index = 2;
  EXPECT_EQ(expand_job_pattern("%A_%a", j), "40_2");
}

TEST(ExpandJobPattern, StopsGrowingPastAPathsLength) {
  std::string many;
  for (int i = 0; i < 50'000; ++i) many += "%x";
  const std::string out = expand_job_pattern(many, job_named(std::string(10'000, 'n')));
  EXPECT_LE(out.size(), 4096u + 10'000u);
}

}  // namespace
}  // namespace berth::server
