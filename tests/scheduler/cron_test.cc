#include "server/cron.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace milf::server {
namespace {

constexpr Millis kMinute = 60'000;

Millis At(int year, int month, int day, int hour = 0, int minute = 0) {
  return FromUtc(year, month, day, hour, minute);
}

CronExpr Cron(const std::string& text) {
  auto expr = CronExpr::Parse(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << (expr.ok() ? "" : expr.error().message);
  return expr.ok() ? *expr : *CronExpr::Parse("* * * * *");
}

std::string Show(std::optional<Millis> t) {
  if (!t) return "never";
  const UtcTime u = ToUtc(*t);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", u.year, u.month, u.day, u.hour,
                u.minute, u.second);
  return text;
}

void ExpectNext(const std::string& cron, Millis after, Millis expected) {
  EXPECT_EQ(Show(Cron(cron).NextAfter(after)), Show(expected)) << cron << " after " << Show(after);
}

TEST(CalendarTest, RoundTripsAndKnowsLeapYears) {
  EXPECT_EQ(At(1970, 1, 1), 0);
  EXPECT_EQ(At(2024, 1, 1), 1'704'067'200'000);
  const UtcTime u = ToUtc(At(2024, 2, 29, 23, 59) + 59'999);
  EXPECT_EQ(u.year, 2024);
  EXPECT_EQ(u.month, 2);
  EXPECT_EQ(u.day, 29);
  EXPECT_EQ(u.hour, 23);
  EXPECT_EQ(u.minute, 59);
  EXPECT_EQ(u.second, 59);
  EXPECT_EQ(u.weekday, 4);  // a Thursday
  EXPECT_EQ(ToUtc(0).weekday, 4);
  EXPECT_EQ(ToUtc(-1).year, 1969);
  EXPECT_EQ(ToUtc(-1).day, 31);
  EXPECT_EQ(ToUtc(-1).weekday, 3);
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2024, 4), 30);
  EXPECT_EQ(FromUtc(2024, 1, 32), At(2024, 2, 1));  // days roll over
  EXPECT_EQ(UtcMonth(At(2026, 11, 30, 23, 59)), "2026-11");
  EXPECT_EQ(UtcMonth(At(2027, 1, 1)), "2027-01");
  EXPECT_EQ(UtcDayStart(At(2024, 3, 5, 17, 42) + 1234), At(2024, 3, 5));
}

TEST(CronTest, EveryMinuteIsStrictlyAfter) {
  ExpectNext("* * * * *", At(2024, 1, 1, 0, 0), At(2024, 1, 1, 0, 1));
  ExpectNext("* * * * *", At(2024, 1, 1, 0, 0) + 59'999, At(2024, 1, 1, 0, 1));
  ExpectNext("* * * * *", At(2024, 1, 1, 0, 0) - 1, At(2024, 1, 1, 0, 0));
}

TEST(CronTest, Steps) {
  ExpectNext("*/15 * * * *", At(2024, 1, 1, 0, 7), At(2024, 1, 1, 0, 15));
  ExpectNext("*/15 * * * *", At(2024, 1, 1, 0, 15), At(2024, 1, 1, 0, 30));
  ExpectNext("*/15 * * * *", At(2024, 1, 1, 0, 45), At(2024, 1, 1, 1, 0));
  ExpectNext("10-30/10 * * * *", At(2024, 1, 1, 0, 10), At(2024, 1, 1, 0, 20));
  ExpectNext("10-30/10 * * * *", At(2024, 1, 1, 0, 30), At(2024, 1, 1, 1, 10));
  ExpectNext("5/20 * * * *", At(2024, 1, 1, 0, 25), At(2024, 1, 1, 0, 45));
  ExpectNext("5/20 * * * *", At(2024, 1, 1, 0, 45), At(2024, 1, 1, 1, 5));
  ExpectNext("0 */6 * * *", At(2024, 1, 1, 7, 0), At(2024, 1, 1, 12, 0));
  ExpectNext("0 0 */10 * *", At(2024, 1, 1, 0, 0), At(2024, 1, 11));
  ExpectNext("0 0 */10 * *", At(2024, 1, 31, 0, 0), At(2024, 2, 1));
}

TEST(CronTest, ListsAndRanges) {
  ExpectNext("1,2,5-7 * * * *", At(2024, 1, 1, 0, 2), At(2024, 1, 1, 0, 5));
  ExpectNext("1,2,5-7 * * * *", At(2024, 1, 1, 0, 7), At(2024, 1, 1, 1, 1));
  ExpectNext("30 9-17 * * *", At(2024, 1, 1, 17, 30), At(2024, 1, 2, 9, 30));
}

TEST(CronTest, MonthEnds) {
  // The 31st skips months without one.
  ExpectNext("0 0 31 * *", At(2024, 4, 15), At(2024, 5, 31));
  ExpectNext("0 0 31 * *", At(2024, 5, 31), At(2024, 7, 31));
  // February 29th waits for a leap year.
  ExpectNext("0 0 29 2 *", At(2023, 3, 1), At(2024, 2, 29));
  ExpectNext("0 0 29 2 *", At(2024, 2, 29), At(2028, 2, 29));
  // The year turns over.
  ExpectNext("0 0 1 1 *", At(2024, 12, 31, 23, 59), At(2025, 1, 1));
  ExpectNext("59 23 31 12 *", At(2024, 12, 31, 23, 58), At(2024, 12, 31, 23, 59));
}

TEST(CronTest, NamesAndWeekdays) {
  // 2024-01-06 is a Saturday.
  ExpectNext("0 12 * * MON-FRI", At(2024, 1, 6), At(2024, 1, 8, 12, 0));
  ExpectNext("0 12 * * mon-fri", At(2024, 1, 8, 12, 0), At(2024, 1, 9, 12, 0));
  ExpectNext("0 0 * * 0", At(2024, 1, 1), At(2024, 1, 7));
  ExpectNext("0 0 * * 7", At(2024, 1, 1), At(2024, 1, 7));  // 7 is Sunday too
  ExpectNext("0 0 * * SUN", At(2024, 1, 1), At(2024, 1, 7));
  ExpectNext("0 0 1 jan,Jul *", At(2024, 1, 1), At(2024, 7, 1));
  ExpectNext("0 0 1 DEC *", At(2024, 1, 1), At(2024, 12, 1));
}

TEST(CronTest, BothDayFieldsRestrictedMeansEither) {
  // The 13th or any Friday: 2024-01-05 is the first Friday.
  ExpectNext("0 0 13 * FRI", At(2024, 1, 1), At(2024, 1, 5));
  ExpectNext("0 0 13 * FRI", At(2024, 1, 12), At(2024, 1, 13));
  // A starred day-of-week leaves the day of month in charge, and the
  // reverse; "*/2" counts as starred, as in Vixie cron.
  ExpectNext("0 0 13 * *", At(2024, 1, 1), At(2024, 1, 13));
  ExpectNext("0 0 * * FRI", At(2024, 1, 1), At(2024, 1, 5));
  ExpectNext("0 0 */2 * FRI", At(2024, 1, 1), At(2024, 1, 5));
}

TEST(CronTest, Macros) {
  ExpectNext("@hourly", At(2024, 1, 1, 0, 30), At(2024, 1, 1, 1, 0));
  ExpectNext("@daily", At(2024, 1, 1, 0, 30), At(2024, 1, 2));
  ExpectNext("@midnight", At(2024, 1, 1, 0, 30), At(2024, 1, 2));
  ExpectNext("@weekly", At(2024, 1, 1), At(2024, 1, 7));
  ExpectNext("@monthly", At(2024, 1, 1), At(2024, 2, 1));
  ExpectNext("@yearly", At(2024, 1, 1), At(2025, 1, 1));
  ExpectNext("@ANNUALLY", At(2024, 1, 1), At(2025, 1, 1));
}

TEST(CronTest, KeepsTrimmedText) { EXPECT_EQ(Cron("  */5  *  * * *\n").text(), "*/5  *  * * *"); }

TEST(CronTest, RejectsBadExpressionsWithAClearMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expected 5 fields"},
      {"   ", "expected 5 fields"},
      {"* * * *", "got 4"},
      {"* * * * * *", "got 6"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"* 24 * * *", "hour: 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"* * 32 * *", "day-of-month: 32 is out of range"},
      {"* * * 13 *", "month: 13 is out of range 1-12"},
      {"* * * * 8", "day-of-week: 8 is out of range 0-7"},
      {"*/0 * * * *", "minute: bad step '0'"},
      {"*/ * * * *", "minute: bad step ''"},
      {"*/x * * * *", "bad step 'x'"},
      {"5-1 * * * *", "range '5-1' runs backwards"},
      {"a * * * *", "minute: 'a' is not a number"},
      {"* * * FOO *", "month: unknown name 'FOO'"},
      {"* * * * MONDAY", "day-of-week: unknown name 'MONDAY'"},
      {"* * * JAN-FOO *", "unknown name 'FOO'"},
      {"1,,2 * * * *", "minute: empty list item"},
      {"1, * * * *", "empty list item"},
      {"-1 * * * *", "minute: missing value"},
      {"1-2-3 * * * *", "'2-3' is not a number"},
      {"99999999999 * * * *", "is not a number"},
      {"0 0 30 2 *", "never fires"},
      {"0 0 31 4,6,9,11 *", "never fires"},
      {"@reboot", "unknown macro '@reboot'"},
      {"* * * * * @", "got 6"},
  };
  for (const auto& [text, message] : cases) {
    auto expr = CronExpr::Parse(text);
    ASSERT_FALSE(expr.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(expr.error().code, "invalid_argument");
    EXPECT_NE(expr.error().message.find(message), std::string::npos)
        << "'" << text << "': " << expr.error().message;
    EXPECT_EQ(expr.error().message.rfind("cron: ", 0), 0u) << expr.error().message;
  }
}

// NextAfter against a minute-by-minute scan with hand-written predicates,
// over random start times.
TEST(CronTest, AgreesWithBruteForce) {
  using Predicate = std::function<bool(const UtcTime&)>;
  const std::vector<std::pair<std::string, Predicate>> cases = {
      {"*/7 3-5 * * 1,3",
       [](const UtcTime& u) {
         return u.minute % 7 == 0 && u.hour >= 3 && u.hour <= 5 &&
                (u.weekday == 1 || u.weekday == 3);
       }},
      {"0 0 * * *", [](const UtcTime& u) { return u.minute == 0 && u.hour == 0; }},
      {"15,45 */2 * * *",
       [](const UtcTime& u) { return (u.minute == 15 || u.minute == 45) && u.hour % 2 == 0; }},
      {"0 9 1-7 * MON",
       [](const UtcTime& u) {
         return u.minute == 0 && u.hour == 9 && (u.day <= 7 || u.weekday == 1);
       }},
      {"30 * 15 * *", [](const UtcTime& u) { return u.minute == 30 && u.day == 15; }},
      {"0 22 * * SAT",
       [](const UtcTime& u) { return u.minute == 0 && u.hour == 22 && u.weekday == 6; }},
      {"*/13 * * JAN,Apr *",
       [](const UtcTime& u) { return u.minute % 13 == 0 && (u.month == 1 || u.month == 4); }},
      {"5 4 */3 * SUN",
       [](const UtcTime& u) {
         return u.minute == 5 && u.hour == 4 && u.day % 3 == 1 && u.weekday == 0;
       }},
      {"* * 29 2 *", [](const UtcTime& u) { return u.month == 2 && u.day == 29; }},
  };
  std::mt19937_64 random(42);
  for (const auto& [text, matches] : cases) {
    const CronExpr expr = Cron(text);
    for (int trial = 0; trial < 10; ++trial) {
      const Millis after =
          At(2024, 1, 1) + static_cast<Millis>(random() % (800ull * 24 * 3600 * 1000)) + 17;
      std::optional<Millis> scanned;
      Millis t = (after / kMinute + 1) * kMinute;
      for (int i = 0; i < 5 * 366 * 24 * 60 && !scanned; ++i, t += kMinute) {
        if (matches(ToUtc(t))) scanned = t;
      }
      EXPECT_EQ(Show(expr.NextAfter(after)), Show(scanned)) << text << " after " << Show(after);
    }
  }
}

}  // namespace
}  // namespace milf::server
