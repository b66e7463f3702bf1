#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/event_bus.h"
#include "server/metrics.h"

namespace milf::server {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, RendersCountersGaugesAndHistogram) {
  Metrics metrics;
  metrics.CountHttpResponse(200);
  metrics.CountHttpResponse(200);
  metrics.CountHttpResponse(404);
  metrics.ObserveInvocation("succeeded", 0.003);
  metrics.ObserveInvocation("succeeded", 0.2);
  metrics.ObserveInvocation("failed", 30);
  metrics.SetGaugeSource([] { return Gauges{5, 2, 8, 3}; });
  const std::string text = metrics.RenderPrometheus();

  EXPECT_TRUE(Contains(text, "milf_http_requests_total{code=\"200\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "milf_http_requests_total{code=\"404\"} 1\n"));
  EXPECT_TRUE(Contains(text, "milf_invocations_total{status=\"succeeded\"} 2\n"));
  EXPECT_TRUE(Contains(text, "milf_invocations_total{status=\"failed\"} 1\n"));
  EXPECT_TRUE(Contains(text, "milf_queue_depth 5\n"));
  EXPECT_TRUE(Contains(text, "milf_nodes_online 2\n"));
  EXPECT_TRUE(Contains(text, "milf_slots_total 8\n"));
  EXPECT_TRUE(Contains(text, "milf_slots_free 3\n"));
  EXPECT_TRUE(Contains(text, "# TYPE milf_invocation_duration_seconds histogram\n"));
  // Buckets are cumulative.
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_bucket{le=\"0.001\"} 0\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_bucket{le=\"0.005\"} 1\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_bucket{le=\"0.25\"} 2\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_bucket{le=\"10\"} 2\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_count 3\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_sum 30.2"));
}

TEST(MetricsTest, GaugesAreZeroWithoutASource) {
  const std::string text = Metrics().RenderPrometheus();
  EXPECT_TRUE(Contains(text, "milf_queue_depth 0\n"));
  EXPECT_TRUE(Contains(text, "milf_invocation_duration_seconds_count 0\n"));
}

TEST(EventBusTest, OwnedEventsReachOnlyTheirOwner) {
  EventBus bus;
  std::vector<std::string> alice, bob, everyone;
  bus.Subscribe(1, [&alice](const Event& event) { alice.push_back(event.json); });
  bus.Subscribe(2, [&bob](const Event& event) { bob.push_back(event.json); });
  bus.Subscribe(std::nullopt, [&everyone](const Event& event) { everyone.push_back(event.json); });

  bus.Publish({"invocation", 1, "a"});
  bus.Publish({"invocation", 2, "b"});
  bus.Publish({"node", std::nullopt, "n"});

  EXPECT_EQ(alice, (std::vector<std::string>{"a", "n"}));
  EXPECT_EQ(bob, (std::vector<std::string>{"b", "n"}));
  EXPECT_EQ(everyone, (std::vector<std::string>{"a", "b", "n"}));
}

TEST(EventBusTest, UnsubscribedSubscribersHearNothingMore) {
  EventBus bus;
  int heard = 0;
  const auto token = bus.Subscribe(1, [&heard](const Event&) { ++heard; });
  bus.Publish({"invocation", 1, "{}"});
  bus.Unsubscribe(token);
  bus.Publish({"invocation", 1, "{}"});
  bus.Unsubscribe(token);
  EXPECT_EQ(heard, 1);
}

TEST(EventBusTest, SubscriberMayUnsubscribeItself) {
  EventBus bus;
  int heard = 0;
  std::uint64_t token = 0;
  token = bus.Subscribe(std::nullopt, [&](const Event&) {
    ++heard;
    bus.Unsubscribe(token);
  });
  bus.Publish({"node", std::nullopt, "{}"});
  bus.Publish({"node", std::nullopt, "{}"});
  EXPECT_EQ(heard, 1);
}

}  // namespace
}  // namespace milf::server
