#include "server/metrics.h"

#include <fmt/format.h>

namespace milf::server {

void Metrics::CountHttpResponse(int status) {
  const std::lock_guard lock(mutex_);
  ++http_by_status_[status];
}

void Metrics::ObserveInvocation(const std::string& state, double seconds) {
  const std::lock_guard lock(mutex_);
  ++invocations_by_state_[state];
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  ++latency_buckets_[bucket];
  latency_sum_ += seconds;
  ++latency_count_;
}

void Metrics::SetGaugeSource(std::function<Gauges()> source) {
  const std::lock_guard lock(mutex_);
  gauge_source_ = std::move(source);
}

std::string Metrics::RenderPrometheus() const {
  std::function<Gauges()> source;
  {
    const std::lock_guard lock(mutex_);
    source = gauge_source_;
  }
  // Read outside the lock: the source may take its own locks.
  const Gauges gauges = source ? source() : Gauges{};

  const std::lock_guard lock(mutex_);
  std::string out;
  const auto gauge = [&out](const char* name, const char* help, std::int64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  gauge("milf_queue_depth", "Invocations queued and not yet dispatched.", gauges.queue_depth);
  gauge("milf_nodes_online", "Nodes connected to this server.", gauges.nodes_online);
  gauge("milf_slots_total", "Job slots on connected nodes.", gauges.slots_total);
  gauge("milf_slots_free", "Free job slots on connected nodes.", gauges.slots_free);

  out += "# HELP milf_invocations_total Finished invocations by final state.\n"
         "# TYPE milf_invocations_total counter\n";
  for (const auto& [state, count] : invocations_by_state_) {
    out += fmt::format("milf_invocations_total{{status=\"{}\"}} {}\n", state, count);
  }

  out += "# HELP milf_invocation_duration_seconds Queued-to-finished time of invocations.\n"
         "# TYPE milf_invocation_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i];
    out += fmt::format("milf_invocation_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                       cumulative);
  }
  out += fmt::format("milf_invocation_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", latency_count_);
  out += fmt::format("milf_invocation_duration_seconds_sum {}\n", latency_sum_);
  out += fmt::format("milf_invocation_duration_seconds_count {}\n", latency_count_);

  out += "# HELP milf_http_requests_total HTTP responses by status code.\n"
         "# TYPE milf_http_requests_total counter\n";
  for (const auto& [status, count] : http_by_status_) {
    out += fmt::format("milf_http_requests_total{{code=\"{}\"}} {}\n", status, count);
  }
  return out;
}

}  // namespace milf::server
