// Scheduler: the durable invocation queue and its placement on nodes.
//
// Invocations are queued in the Store. The scheduler keeps a live view of
// the connected nodes (from their node sessions: slots, admission verdict,
// free memory, modules held) and dispatches queued invocations to nodes with
// a free slot whose admission state allows work and whose free memory fits
// the function's memory setting. Each dispatch carries a lease; heartbeats
// extend the leases of the node's jobs. A node that disconnects or misses
// heartbeats loses its leases and its jobs are re-queued, up to
// max_attempts dispatches, then failed with the reason. A job a node gives
// back unrun (proto::kRejectedStatus: its policy, draining, no free slot)
// is re-queued without counting the attempt, and that node gets no work
// until its next heartbeat says it admits work. On start, leases
// left over from a previous server process are expired the same way, so a
// restart loses nothing.
//
// It is also the NodeChannelHandler: node_session.cc speaks the node
// protocol (proto/messages.h) on each channel and reports to the scheduler.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "server/event_bus.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/node_channel.h"
#include "store/store.h"

namespace milf::server {

struct SchedulerOptions {
  std::int64_t heartbeat_interval_ms = 2'000;
  std::int64_t lease_ms = 10'000;     // a node silent this long loses its jobs
  std::string aot_public_key;         // sent in every welcome ("" = none)
  int max_attempts = 3;               // dispatches before an invocation fails
  std::int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // finished invocations kept
};

class Scheduler : public NodeChannelHandler {
 public:
  Scheduler(store::Store& store, EventBus& events, Metrics& metrics, const Clock& clock,
            SchedulerOptions options);
  ~Scheduler() override;

  // Starts the timers (dispatch, lease expiry, cron ticks, retention) on
  // `io`; expires leases left by a previous process first.
  void Start(boost::asio::io_context& io);
  void Stop();

  NodeChannelEvents OnConnected(const std::string& node_id,
                                std::shared_ptr<NodeChannel> channel) override;

  Gauges gauges() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  friend void AddInvocationRoutes(Router& router, Scheduler& scheduler, store::Store& store);
};

// /functions/{name}/invoke, /batch, /invocations..., /functions/{name}/schedules...,
// /usage, /users/{name}/quota (see docs/api.md).
void AddInvocationRoutes(Router& router, Scheduler& scheduler, store::Store& store);

}  // namespace milf::server
