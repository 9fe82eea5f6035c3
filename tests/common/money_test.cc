#include "common/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth {
namespace {

Minor amount(std::string_view text, bool allow_negative = false) {
  Result<Minor> r = parse_amount(text, allow_negative);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(ParseAmount, WholeAndFractionalUnits) {
  EXPECT_EQ(amount("0"), 0);
  EXPECT_EQ(amount("12"), 120000);
  EXPECT_EQ(amount("12.5"), 125000);
  EXPECT_EQ(amount("12.3456"), 123456);
  EXPECT_EQ(amount("0.0001"), 1);
  EXPECT_EQ(amount(".5"), 5000);
  EXPECT_EQ(amount("007"), 70000);
  EXPECT_EQ(amount("+3"), 30000);
}

TEST(ParseAmount, RefusesFractionBelowMinorUnit) {
  Result<Minor> r = parse_amount("0.00001");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("minor unit"), std::string::npos);
  EXPECT_FALSE(parse_amount("1.23450").ok());  // Even a trailing zero is a fifth decimal.
}

TEST(ParseAmount, RefusesNegativeUnlessAllowed) {
  EXPECT_FALSE(parse_amount("-1").ok());
  EXPECT_FALSE(parse_amount("-0.0001").ok());
  EXPECT_EQ(amount("-1.5", /*allow_negative=*/true), -15000);
}

TEST(ParseAmount, RefusesOverflow) {
  // INT64_MAX minor units is 922337203685477.5807 currency units.
  EXPECT_EQ(amount("922337203685477.5807"), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(parse_amount("922337203685477.5808").ok());
  EXPECT_FALSE(parse_amount("922337203685478").ok());
  EXPECT_FALSE(parse_amount("99999999999999999999999999").ok());
}

TEST(ParseAmount, RefusesMalformedText) {
  for (const char* text : {"", "-", "+", ".", "1.", "abc", "1,000", "1e3", "1.2.3", " 1", "1 ",
                           "0x10", "1.-5", "--1", "HK$1"}) {
    EXPECT_FALSE(parse_amount(text).ok()) << "'" << text << "'";
  }
}

TEST(FormatAmount, AlwaysFourDecimals) {
  EXPECT_EQ(format_amount(0), "0.0000");
  EXPECT_EQ(format_amount(1), "0.0001");
  EXPECT_EQ(format_amount(125000), "12.5000");
  EXPECT_EQ(format_amount(123456), "12.3456");
  EXPECT_EQ(format_amount(-15000), "-1.5000");
  EXPECT_EQ(format_amount(std::numeric_limits<int64_t>::max()), "922337203685477.5807");
  EXPECT_EQ(format_amount(std::numeric_limits<int64_t>::min()), "-922337203685477.5808");
}

TEST(FormatAmount, RoundTripsThroughParse) {
  for (Minor m : {0LL, 1LL, 9999LL, 10000LL, 123456789LL}) {
    EXPECT_EQ(amount(format_amount(m)), m);
  }
}

TEST(MulDivFloor, FloorsExactly) {
  EXPECT_EQ(mul_div_floor(7, 3, 2), 10);
  EXPECT_EQ(mul_div_floor(10, 10, 3), 33);
  EXPECT_EQ(mul_div_floor(0, 5, 7), 0);
}

TEST(MulDivFloor, UsesWideIntermediate) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(mul_div_floor(big, 2, 2), big);
  EXPECT_EQ(mul_div_floor(big, big, big), big);
}

TEST(MulDivFloor, ReportsOverflowAndBadInput) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(mul_div_floor(big, 2, 1), -1);
  EXPECT_EQ(mul_div_floor(-1, 2, 1), -1);
  EXPECT_EQ(mul_div_floor(1, -2, 1), -1);
  EXPECT_EQ(mul_div_floor(1, 2, 0), -1);
  EXPECT_EQ(mul_div_floor(1, 2, -1), -1);
}

TEST(GpuCost, PricePerGpuHourTimesGpusTimesHours) {
  const Minor price = 100 * kMinorPerUnit;  // 100 per GPU-hour.
  EXPECT_EQ(gpu_cost_minor(price, 2, 3'600'000), 200 * kMinorPerUnit);
  EXPECT_EQ(gpu_cost_minor(price, 1, 1'800'000), 50 * kMinorPerUnit);
  EXPECT_EQ(gpu_cost_minor(price, 8, 0), 0);
  EXPECT_EQ(gpu_cost_minor(price, 0, 3'600'000), 0);
}

TEST(GpuCost, FloorsToTheMinorUnit) {
  // One minor unit per GPU-hour for one millisecond is far below one minor unit.
  EXPECT_EQ(gpu_cost_minor(1, 1, 1), 0);
  // 1 minor unit/h for 1.5 h floors to 1.
  EXPECT_EQ(gpu_cost_minor(1, 1, 5'400'000), 1);
  // 3 units of 1/10,000 per hour for 20 minutes is exactly 1.
  EXPECT_EQ(gpu_cost_minor(3, 1, 1'200'000), 1);
}

TEST(GpuCost, RefusesNegativesAndOverflow) {
  EXPECT_EQ(gpu_cost_minor(-1, 1, 1000), -1);
  EXPECT_EQ(gpu_cost_minor(1, -1, 1000), -1);
  EXPECT_EQ(gpu_cost_minor(1, 1, -1000), -1);
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(gpu_cost_minor(big, 2, 3'600'000), -1);
  EXPECT_EQ(gpu_cost_minor(big / 2, 2, big), -1);
}

TEST(SubsidyShare, FloorsTheFundersPart) {
  EXPECT_EQ(subsidy_share_minor(10000, 7000), 7000);
  EXPECT_EQ(subsidy_share_minor(3, 7000), 2);  // floor(2.1)
  EXPECT_EQ(subsidy_share_minor(1, 9999), 0);
  EXPECT_EQ(subsidy_share_minor(12345, 10000), 12345);
  EXPECT_EQ(subsidy_share_minor(12345, 0), 0);
}

TEST(SubsidyShare, CopayTakesTheRemainder) {
  for (Minor cost : {1LL, 7LL, 99LL, 123457LL}) {
    const Minor subsidy = subsidy_share_minor(cost, 7000);
    const Minor copay = cost - subsidy;
    EXPECT_GE(copay, 0);
    EXPECT_EQ(subsidy + copay, cost);
    EXPECT_LE(subsidy * 10000, cost * 7000);
  }
}

TEST(FormatMoney, ReadsLikeAnInvoice) {
  EXPECT_EQ(format_money(2'000'000'000, "HK$"), "HK$ 200,000.00");
  EXPECT_EQ(format_money(0, "HK$"), "HK$ 0.00");
  EXPECT_EQ(format_money(12'3456, "HKD"), "HKD 12.35");
  EXPECT_EQ(format_money_exact(12'3456, "HKD"), "HKD 12.3456");
  EXPECT_EQ(format_money_exact(3339, "HK$"), "HK$ 0.3339");
  EXPECT_EQ(format_money_exact(-35'050, "HK$"), "-HK$ 3.505");
  EXPECT_EQ(format_money_exact(2'000'000'000, "HK$"), "HK$ 200,000.00");
  EXPECT_EQ(format_money_exact(0, ""), "0.00");
  EXPECT_EQ(format_money(9'999'999'9999, "HK$"), "HK$ 10,000,000.00");
  EXPECT_EQ(format_money(1'234'567'8900, ""), "1,234,567.89");
  EXPECT_EQ(format_money(999'0000, "$"), "$ 999.00");
  EXPECT_EQ(format_money(1000'0000, "$"), "$ 1,000.00");
}

TEST(FormatMoney, RoundsHalfAwayFromZeroAndKeepsTheSign) {
  EXPECT_EQ(format_money(50, "HK$"), "HK$ 0.01");  // 0.0050
  EXPECT_EQ(format_money(49, "HK$"), "HK$ 0.00");  // 0.0049
  EXPECT_EQ(format_money(-35'000, "HK$"), "-HK$ 3.50");
  EXPECT_EQ(format_money(-50, "HK$"), "-HK$ 0.01");
  EXPECT_EQ(format_money(-49, "HK$"), "HK$ 0.00");  // no "-0.00"
  EXPECT_EQ(format_money(std::numeric_limits<int64_t>::min(), ""), "-922,337,203,685,477.58");
  EXPECT_EQ(format_money(std::numeric_limits<int64_t>::max(), ""), "922,337,203,685,477.58");
}

}  // namespace
}  // namespace berth
