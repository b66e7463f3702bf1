#include "server/cron.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace milf::server {
namespace {

constexpr Millis kMinute = 60'000;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(std::int64_t z, int& year, int& month, int& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

struct FieldSpec {
  const char* name;
  int low;
  int high;
  const std::array<const char*, 12>* names;  // names[i] stands for low + i
};

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> kDayNames = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr, nullptr, nullptr, nullptr, nullptr};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, &kMonthNames},
    {"day-of-week", 0, 7, &kDayNames},
}};

Unexpected<Error> Invalid(const FieldSpec& field, const std::string& message) {
  return Fail("invalid_argument", fmt::format("cron: {}: {}", field.name, message));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<int> ParseValue(const FieldSpec& field, std::string_view text) {
  if (text.empty()) return Invalid(field, "missing value");
  if (field.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    const std::string lower = Lower(text);
    for (std::size_t i = 0; i < field.names->size(); ++i) {
      const char* name = (*field.names)[i];
      if (name != nullptr && lower == name) return field.low + static_cast<int>(i);
    }
    return Invalid(field, fmt::format("unknown name '{}'", text));
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Invalid(field, fmt::format("'{}' is not a number", text));
  }
  if (value < field.low || value > field.high) {
    return Invalid(field, fmt::format("{} is out of range {}-{}", value, field.low, field.high));
  }
  return value;
}

// One comma-separated item: `*`, `N`, `A-B`, each with an optional `/STEP`.
Status ParseItem(const FieldSpec& field, std::string_view item, std::vector<bool>& set) {
  if (item.empty()) return Invalid(field, "empty list item");
  int step = 1;
  bool has_step = false;
  if (const auto slash = item.find('/'); slash != std::string_view::npos) {
    const std::string_view step_text = item.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
        step < 1 || step > field.high) {
      return Invalid(field, fmt::format("bad step '{}'", step_text));
    }
    has_step = true;
    item = item.substr(0, slash);
  }
  int low = field.low;
  int high = field.high;
  if (item != "*") {
    const auto dash = item.find('-');
    auto first = ParseValue(field, item.substr(0, dash));
    if (!first) return Fail(first.error());
    low = *first;
    if (dash != std::string_view::npos) {
      auto last = ParseValue(field, item.substr(dash + 1));
      if (!last) return Fail(last.error());
      high = *last;
      if (high < low) {
        return Invalid(field, fmt::format("range '{}' runs backwards", item));
      }
    } else if (!has_step) {
      high = low;  // a single value; "N/STEP" means N to the field's end
    }
  }
  for (int v = low; v <= high; v += step) set[static_cast<std::size_t>(v)] = true;
  return {};
}

Result<std::vector<bool>> ParseField(const FieldSpec& field, std::string_view text) {
  std::vector<bool> set(static_cast<std::size_t>(field.high) + 1, false);
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma - start);
    if (auto status = ParseItem(field, item, set); !status) return Fail(status.error());
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

std::string_view ExpandMacro(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
      {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  }};
  for (const auto& [name, expansion] : kMacros) {
    if (text == name) return expansion;
  }
  return {};
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  std::vector<std::string_view> fields = SplitFields(text);
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    const std::string lower = Lower(fields[0]);
    const std::string_view expansion = ExpandMacro(lower);
    if (expansion.empty()) {
      return Fail("invalid_argument", fmt::format("cron: unknown macro '{}'", fields[0]));
    }
    fields = SplitFields(expansion);
  }
  if (fields.size() != 5) {
    return Fail("invalid_argument",
                fmt::format("cron: expected 5 fields (minute hour day-of-month month "
                            "day-of-week), got {}",
                            fields.size()));
  }
  CronExpr expr;
  expr.text_ = std::string(text.substr(text.find_first_not_of(" \t")));
  expr.text_.erase(expr.text_.find_last_not_of(" \t\r\n") + 1);
  std::array<std::vector<bool>, 5> sets;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto set = ParseField(kFields[i], fields[i]);
    if (!set) return Fail(set.error());
    sets[i] = std::move(*set);
  }
  for (int v = 0; v < 60; ++v) expr.minutes_[v] = sets[0][v];
  for (int v = 0; v < 24; ++v) expr.hours_[v] = sets[1][v];
  for (int v = 1; v <= 31; ++v) expr.days_[v] = sets[2][v];
  for (int v = 1; v <= 12; ++v) expr.months_[v] = sets[3][v];
  for (int v = 0; v <= 7; ++v) {
    if (sets[4][v]) expr.weekdays_[v % 7] = true;
  }
  expr.days_star_ = fields[2].starts_with('*');
  expr.weekdays_star_ = fields[4].starts_with('*');

  // With only the day of month restricted, some chosen month must have one
  // of the chosen days (February counts 29: leap years come round).
  if (!expr.days_star_ && expr.weekdays_star_) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      if (!expr.months_[m]) continue;
      const int max_day = m == 2 ? 29 : DaysInMonth(2001, m);
      for (int d = 1; d <= max_day && !possible; ++d) possible = expr.days_[d];
    }
    if (!possible) {
      return Fail(
          "invalid_argument",
          fmt::format("cron: '{}' never fires: no chosen month has the chosen day", expr.text_));
    }
  }
  return expr;
}

bool CronExpr::DayMatches(int year, int month, int day) const {
  const bool by_day = days_[day];
  const int weekday =
      static_cast<int>(((DaysFromCivil(year, month, day) % 7) + 11) % 7);  // epoch: Thursday
  const bool by_weekday = weekdays_[weekday];
  if (!days_star_ && !weekdays_star_) return by_day || by_weekday;
  return by_day && by_weekday;
}

std::optional<Millis> CronExpr::NextAfter(Millis after) const {
  Millis t = FloorDiv(after, kMinute) * kMinute + kMinute;
  const int last_year = ToUtc(t).year + 8;
  while (true) {
    const UtcTime u = ToUtc(t);
    if (u.year > last_year) return std::nullopt;
    if (!months_[u.month]) {
      t = u.month == 12 ? FromUtc(u.year + 1, 1, 1) : FromUtc(u.year, u.month + 1, 1);
    } else if (!DayMatches(u.year, u.month, u.day)) {
      t = FromUtc(u.year, u.month, u.day + 1);
    } else if (!hours_[u.hour]) {
      t = FloorDiv(t, kHour) * kHour + kHour;
    } else if (!minutes_[u.minute]) {
      t += kMinute;
    } else {
      return t;
    }
  }
}

UtcTime ToUtc(Millis t) {
  UtcTime u;
  const std::int64_t days = FloorDiv(t, kDay);
  const std::int64_t rest = t - days * kDay;
  CivilFromDays(days, u.year, u.month, u.day);
  u.hour = static_cast<int>(rest / kHour);
  u.minute = static_cast<int>(rest % kHour / kMinute);
  u.second = static_cast<int>(rest % kMinute / 1000);
  u.weekday = static_cast<int>(((days % 7) + 11) % 7);
  return u;
}

Millis FromUtc(int year, int month, int day, int hour, int minute) {
  const std::int64_t days = DaysFromCivil(year, month, 1) + (day - 1);
  return days * kDay + hour * kHour + minute * kMinute;
}

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

Millis UtcDayStart(Millis t) { return FloorDiv(t, kDay) * kDay; }

std::string UtcMonth(Millis t) {
  const UtcTime u = ToUtc(t);
  return fmt::format("{:04}-{:02}", u.year, u.month);
}

std::string UtcDay(Millis t) {
  const UtcTime u = ToUtc(t);
  return fmt::format("{:04}-{:02}-{:02}", u.year, u.month, u.day);
}

}  // namespace milf::server
