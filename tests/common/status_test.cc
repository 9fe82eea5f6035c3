// Status, Result<T> and the early-return macros that pass a failure up unchanged.
#include "common/status.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Status::Invalid("odd: " + std::to_string(n));
  return n / 2;
}

Status check_even(int n) { return n % 2 == 0 ? Status::Ok() : Status::Conflict("odd"); }

// Halves twice, declaring a variable with each step.
Result<int> quarter(int n) {
  BERTH_ASSIGN_OR_RETURN(int h, half(n));
  BERTH_ASSIGN_OR_RETURN(auto q, half(h));
  return q;
}

// Assigns into a variable that already exists and reports the steps it reached.
Status quarter_into(int n, int* out, int* steps) {
  *steps = 0;
  BERTH_ASSIGN_OR_RETURN(*out, half(n));
  ++*steps;
  BERTH_ASSIGN_OR_RETURN(*out, half(*out));
  ++*steps;
  return Status::Ok();
}

Status both_even(int a, int b, int* steps) {
  *steps = 0;
  BERTH_RETURN_IF_ERROR(check_even(a));
  ++*steps;
  BERTH_RETURN_IF_ERROR(check_even(b));
  ++*steps;
  return Status::Ok();
}

TEST(AssignOrReturn, GivesTheValueWhenEveryStepSucceeds) {
  const auto q = quarter(12);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 3);
}

TEST(AssignOrReturn, ReturnsTheFirstFailureUnchanged) {
  const auto q = quarter(6);  // 6 -> 3, then 3 is odd
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(q.status().message(), "odd: 3");
}

TEST(AssignOrReturn, AssignsToAnExistingVariableAndStopsAtTheFailure) {
  int out = -1;
  int steps = 0;
  EXPECT_TRUE(quarter_into(8, &out, &steps).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(steps, 2);

  out = -1;
  const Status st = quarter_into(5, &out, &steps);
  EXPECT_EQ(st.message(), "odd: 5");
  EXPECT_EQ(out, -1);  // a failed step assigns nothing
  EXPECT_EQ(steps, 0);
}

TEST(AssignOrReturn, MovesAValueThatCannotBeCopied) {
  auto make = [](bool ok) -> Result<std::unique_ptr<int>> {
    if (!ok) return Status::Internal("no");
    return std::make_unique<int>(7);
  };
  auto take = [&](bool ok) -> Result<int> {
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<int> p, make(ok));
    return *p;
  };
  EXPECT_EQ(*take(true), 7);
  EXPECT_EQ(take(false).status().code(), Code::kInternal);
}

TEST(ReturnIfError, StopsAtTheFirstFailure) {
  int steps = 0;
  EXPECT_TRUE(both_even(2, 4, &steps).ok());
  EXPECT_EQ(steps, 2);

  const Status st = both_even(2, 3, &steps);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(steps, 1);
}

TEST(CodeNames, NameEveryCode) {
  enum_testing::expect_every_enumerator_named<Code>(code_name, parse_code_name);
  EXPECT_STREQ(code_name(Code::kInsufficientFunds), "insufficient_funds");
  EXPECT_EQ(parse_code_name("not_found"), Code::kNotFound);
  EXPECT_EQ(parse_code_name("NOT_FOUND"), std::nullopt);
}

}  // namespace
}  // namespace berth
