// Cron expressions for schedules, and the UTC calendar arithmetic they need.
//
// An expression has five fields, "minute hour day-of-month month
// day-of-week", each a comma list of `*`, `N`, `A-B`, optionally with a
// `/STEP` (`*/5`, `1-30/10`, `5/15` = from 5 to the field's end). Months
// accept JAN..DEC and days SUN..SAT (case-insensitive); day-of-week 7 is
// Sunday too. The macros @yearly (@annually), @monthly, @weekly, @daily
// (@midnight) and @hourly stand for their usual expressions. As in Vixie
// cron, when both day fields are restricted (neither starts with `*`) a day
// matches if EITHER matches; otherwise the restricted one decides.
//
// All times are UTC Unix milliseconds: there is no daylight-saving time, so
// every matching minute exists exactly once.
//
// Thread-safety: a CronExpr is immutable after Parse; share it freely.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace milf::server {

using Millis = std::int64_t;

class CronExpr {
 public:
  // Error code "invalid_argument"; the message names the field and the
  // offending text, e.g. "cron: hour: 24 is out of range 0-23".
  static Result<CronExpr> Parse(std::string_view text);

  // The first matching minute strictly after `after` (a whole minute, in
  // milliseconds). nullopt only if nothing matches within 8 years, which
  // Parse already rules out for every accepted expression.
  std::optional<Millis> NextAfter(Millis after) const;

  const std::string& text() const { return text_; }

 private:
  bool DayMatches(int year, int month, int day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_star_ = true;
  bool weekdays_star_ = true;
};

// The proleptic Gregorian calendar in UTC.
struct UtcTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;  // 0 = Sunday; 1970-01-01 was a Thursday
};

UtcTime ToUtc(Millis t);
// Unix milliseconds of the given civil time (fields need not be normalised
// beyond month 1..12; day may exceed the month, rolling into the next).
Millis FromUtc(int year, int month, int day, int hour = 0, int minute = 0);
int DaysInMonth(int year, int month);
// Midnight UTC of the day holding `t`.
Millis UtcDayStart(Millis t);
// "2026-11" for the month holding `t`: the key of monthly usage.
std::string UtcMonth(Millis t);
// "2026-11-22" for the day holding `t`: the key of daily usage, which the
// store also adds into that day's month.
std::string UtcDay(Millis t);

}  // namespace milf::server
