// How the client commands present things: aligned tables, human times,
// sizes and durations, an upload progress bar and a "still waiting"
// indicator. Both live indicators draw on stderr, and only when stderr is
// a terminal, so scripts and pipes see clean output.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace milf::cli {

// Columns separated by two spaces, padded to the widest cell (counted in
// code points); columns marked numeric are right-aligned.
class Table {
 public:
  struct Column {
    std::string title;
    bool numeric = false;
  };
  explicit Table(std::vector<Column> columns);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// "name: value" lines with the values aligned.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// Unix milliseconds as local "2026-01-31 14:05:09"; "-" for a missing time.
std::string FormatTime(std::optional<std::int64_t> unix_ms);
// "512 B", "12.3 KiB", "4.0 MiB".
std::string FormatBytes(std::uint64_t bytes);
// "850 ms", "12.4 s", "3m 05s".
std::string FormatMillis(double ms);
// The raw API JSON, pretty enough to read, then a newline.
void PrintJson(std::ostream& out, const boost::json::value& value);

bool StderrIsTerminal();

// A bar for a transfer of known size: "[#####.....]  52%  1.2 MiB / 2.3 MiB".
// Redraws at most ten times a second; Finish() erases it.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void Update(std::uint64_t done, std::uint64_t total);
  void Finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// After about a second of waiting, shows "<label> 3.2s" with a spinner
// until destroyed, then erases the line. Does nothing off a terminal.
class WaitIndicator {
 public:
  explicit WaitIndicator(std::string label);
  ~WaitIndicator();
  WaitIndicator(const WaitIndicator&) = delete;
  WaitIndicator& operator=(const WaitIndicator&) = delete;

 private:
  void Loop();

  std::string label_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace milf::cli
