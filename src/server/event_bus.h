// EventBus: live events for the dashboard and CLI (served as Server-Sent
// Events at /api/v1/events). Publishers (the scheduler, node sessions) do
// not know who listens; a slow subscriber loses its oldest events rather
// than slowing a publisher.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace milf::server {

struct Event {
  std::string type;                    // "invocation", "node"
  std::optional<std::int64_t> owner;   // only this user sees it; nullopt = everyone
  std::string json;                    // the event's data, one JSON object
};

class EventBus {
 public:
  using Subscriber = std::function<void(const Event&)>;

  // Returns a token; the subscription lasts until Unsubscribe(token).
  std::uint64_t Subscribe(std::optional<std::int64_t> user, Subscriber subscriber);
  void Unsubscribe(std::uint64_t token);
  void Publish(const Event& event);

 private:
  struct Subscription {
    std::uint64_t token;
    std::optional<std::int64_t> user;
    Subscriber subscriber;
  };
  std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
};

}  // namespace milf::server
