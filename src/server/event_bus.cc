#include "server/event_bus.h"

#include <algorithm>

namespace milf::server {

std::uint64_t EventBus::Subscribe(std::optional<std::int64_t> user, Subscriber subscriber) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t token = next_token_++;
  subscriptions_.push_back(
      std::make_shared<Subscription>(Subscription{token, user, std::move(subscriber)}));
  return token;
}

void EventBus::Unsubscribe(std::uint64_t token) {
  const std::lock_guard lock(mutex_);
  std::erase_if(subscriptions_, [token](const std::shared_ptr<Subscription>& subscription) {
    return subscription->token == token;
  });
}

void EventBus::Publish(const Event& event) {
  // Subscribers run outside the lock so that they may subscribe or
  // unsubscribe themselves; one that has just unsubscribed may therefore see
  // one last event, which is why subscribers hold weak references to
  // whatever they feed.
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& subscription : subscriptions_) {
      if (!event.owner || !subscription->user || *subscription->user == *event.owner) {
        targets.push_back(subscription);
      }
    }
  }
  for (const auto& subscription : targets) subscription->subscriber(event);
}

}  // namespace milf::server
