// Metrics: counters and histograms for /metrics (Prometheus text format).
// Gauges that live elsewhere (queue depth, nodes online, free slots) are
// read at scrape time through a source callback.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace milf::server {

struct Gauges {
  std::int64_t queue_depth = 0;
  std::int64_t nodes_online = 0;
  std::int64_t slots_total = 0;
  std::int64_t slots_free = 0;
};

class Metrics {
 public:
  void CountHttpResponse(int status);
  // A finished invocation: its final state and queued-to-finished seconds.
  void ObserveInvocation(const std::string& state, double seconds);
  void SetGaugeSource(std::function<Gauges()> source);
  std::string RenderPrometheus() const;

 private:
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  mutable std::mutex mutex_;
  std::map<int, std::uint64_t> http_by_status_;
  std::map<std::string, std::uint64_t> invocations_by_state_;
  std::array<std::uint64_t, kBuckets.size() + 1> latency_buckets_{};
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::function<Gauges()> gauge_source_;
};

}  // namespace milf::server
