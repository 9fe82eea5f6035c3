// The progress bar draws only on terminals, and only when the percentage moves.
#include "sim/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace berth::sim {
namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(Progress, WritesNothingToAFile) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p(f, 1000, "replay");
    for (int i = 0; i <= 1000; ++i) p.update(i);
    p.finish();
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

TEST(Progress, OnATerminalRedrawsOncePerPercent) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(f, 1000, "replay", /*is_terminal=*/true);
  for (int i = 0; i <= 1000; ++i) p.update(i);
  p.update(1000);
  p.finish();
  p.finish();
  const std::string out = contents(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 101);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_NE(out.find("replay [##############################] 100% (1000/1000)"), std::string::npos)
      << out;
  EXPECT_EQ(out.back(), '\n');
  std::fclose(f);
}

TEST(Progress, FinishCompletesTheBarAndClamps) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(f, 10, "x", true);
  p.update(-5);
  p.update(3);
  p.finish();
  p.update(7);  // after finish: nothing
  const std::string out = contents(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 3);  // 0%, 30%, 100%
  EXPECT_NE(out.find("100% (10/10)"), std::string::npos) << out;
  std::fclose(f);
}

TEST(Progress, NothingDrawnMeansNothingFinished) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress(f, 10, "x", true).finish();
  Progress empty(f, 0, "x", true);
  empty.update(0);
  empty.finish();
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace berth::sim
