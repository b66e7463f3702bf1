#include "cli/client_commands_output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace milf::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t DisplayWidth(const std::string& text) {
  // Code points: every byte that does not continue a UTF-8 sequence.
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

void ClearLine() { std::fputs("\r\033[K", stderr); }

void PrettyPrint(std::ostream& out, const boost::json::value& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (const auto* object = value.if_object(); object != nullptr && !object->empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& member : *object) {
      out << (first ? "" : ",\n") << inner << boost::json::serialize(boost::json::value(member.key())) << ": ";
      PrettyPrint(out, member.value(), indent + 1);
      first = false;
    }
    out << "\n" << pad << "}";
  } else if (const auto* array = value.if_array(); array != nullptr && !array->empty()) {
    out << "[\n";
    bool first = true;
    for (const auto& element : *array) {
      out << (first ? "" : ",\n") << inner;
      PrettyPrint(out, element, indent + 1);
      first = false;
    }
    out << "\n" << pad << "]";
  } else {
    out << boost::json::serialize(value);
  }
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const Column& column : columns_) widths.push_back(DisplayWidth(column.title));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  const auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string padding(widths[i] - DisplayWidth(cells[i]), ' ');
      const bool last = i + 1 == cells.size();
      if (columns_[i].numeric) {
        line += padding + cells[i];
      } else {
        line += cells[i];
        if (!last) line += padding;
      }
      if (!last) line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  };
  std::vector<std::string> titles;
  for (const Column& column : columns_) titles.push_back(column.title);
  print_row(titles);
  for (const auto& row : rows_) print_row(row);
}

void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& field : fields) width = std::max(width, DisplayWidth(field.first));
  for (const auto& [name, value] : fields) {
    out << name << ":" << std::string(width - DisplayWidth(name) + 1, ' ') << value << "\n";
  }
}

std::string FormatTime(std::optional<std::int64_t> unix_ms) {
  if (!unix_ms || *unix_ms <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(*unix_ms / 1000);
  std::tm local{};
  if (::localtime_r(&seconds, &local) == nullptr) return std::to_string(*unix_ms);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string FormatBytes(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  if (bytes < (1u << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30));
}

std::string FormatMillis(double ms) {
  if (ms < 0) return "-";
  if (ms < 10) return fmt::format("{:.2f} ms", ms);
  if (ms < 1000) return fmt::format("{:.0f} ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f} s", ms / 1000);
  const auto seconds = static_cast<std::int64_t>(ms / 1000);
  return fmt::format("{}m {:02}s", seconds / 60, seconds % 60);
}

void PrintJson(std::ostream& out, const boost::json::value& value) {
  PrettyPrint(out, value, 0);
  out << "\n";
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), enabled_(StderrIsTerminal()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(kWidth - filled), '.');
  ClearLine();
  std::fputs(fmt::format("{} [{}] {:3.0f}%  {} / {}", label_, bar, fraction * 100, FormatBytes(done),
                         FormatBytes(total)).c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  ClearLine();
  std::fflush(stderr);
  drawn_ = false;
}

WaitIndicator::WaitIndicator(std::string label) : label_(std::move(label)) {
  if (StderrIsTerminal()) thread_ = std::thread([this] { Loop(); });
}

WaitIndicator::~WaitIndicator() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WaitIndicator::Loop() {
  static constexpr const char* kFrames[] = {"|", "/", "-", "\\"};
  const auto start = Clock::now();
  std::unique_lock lock(mutex_);
  if (wake_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) return;
  for (std::size_t frame = 0;; ++frame) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ClearLine();
    std::fputs(fmt::format("{} {} {:.1f}s", kFrames[frame % 4], label_, seconds).c_str(), stderr);
    std::fflush(stderr);
    if (wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; })) break;
  }
  ClearLine();
  std::fflush(stderr);
}

}  // namespace milf::cli
