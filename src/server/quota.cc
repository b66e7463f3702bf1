#include "server/quota.h"

#include <fmt/format.h>

#include <algorithm>

#include "server/cron.h"

namespace milf::server {
namespace {

std::string MoreRequested(std::int64_t requested) {
  return requested > 1 ? fmt::format(", {} more requested", requested) : std::string();
}

}  // namespace

std::optional<std::string> QuotaViolation(const store::Quota& quota, const QuotaUse& use,
                                          std::int64_t requested, std::int64_t memory_mb) {
  if (memory_mb > quota.max_memory_mb) {
    return fmt::format("memory per function: {} MB asked, {} MB allowed", memory_mb,
                       quota.max_memory_mb);
  }
  if (use.active + requested > quota.max_concurrent) {
    return fmt::format("concurrent invocations: {} of {} in use{}", use.active,
                       quota.max_concurrent, MoreRequested(requested));
  }
  if (use.today + requested > quota.max_per_day) {
    return fmt::format("invocations per day: {} of {} used{}", use.today, quota.max_per_day,
                       MoreRequested(requested));
  }
  return std::nullopt;
}

QuotaLedger::QuotaLedger(store::Store& store, store::Millis resync_ms)
    : store_(store), resync_ms_(resync_ms) {}

std::shared_ptr<QuotaLedger::Entry> QuotaLedger::Find(std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[user_id];
  if (!entry) entry = std::make_shared<Entry>();
  return entry;
}

Status QuotaLedger::Load(std::int64_t user_id, Entry& entry, store::Millis now) {
  const store::Millis day_start = UtcDayStart(now);
  auto quota = store_.GetQuota(user_id);
  if (!quota) return Fail(quota.error());
  auto active = store_.CountActive(user_id);
  if (!active) return Fail(active.error());
  auto today = store_.CountSince(user_id, day_start);
  if (!today) return Fail(today.error());
  entry.quota = *quota;
  entry.use = QuotaUse{*active, *today};
  entry.day_start = day_start;
  entry.loaded_at = now;
  entry.loaded = true;
  return {};
}

Status QuotaLedger::Reserve(std::int64_t user_id, std::int64_t count, std::int64_t memory_mb,
                            store::Millis now) {
  const auto entry = Find(user_id);
  std::lock_guard lock(entry->mutex);
  // The store is read under this user's lock only: other users are not held up.
  if (!entry->loaded || now - entry->loaded_at >= resync_ms_ ||
      UtcDayStart(now) != entry->day_start) {
    if (auto status = Load(user_id, *entry, now); !status) return status;
  }
  if (auto violation = QuotaViolation(entry->quota, entry->use, count, memory_mb)) {
    return Fail("quota_exceeded", std::move(*violation));
  }
  entry->use.active += count;
  entry->use.today += count;
  return {};
}

void QuotaLedger::Admit(std::int64_t user_id, std::int64_t count) {
  const auto entry = Find(user_id);
  std::lock_guard lock(entry->mutex);
  entry->use.active += count;
  entry->use.today += count;
}

void QuotaLedger::Cancel(std::int64_t user_id, std::int64_t count) {
  const auto entry = Find(user_id);
  std::lock_guard lock(entry->mutex);
  entry->use.active = std::max<std::int64_t>(0, entry->use.active - count);
  entry->use.today = std::max<std::int64_t>(0, entry->use.today - count);
}

void QuotaLedger::Finish(std::int64_t user_id, std::int64_t count) {
  const auto entry = Find(user_id);
  std::lock_guard lock(entry->mutex);
  entry->use.active = std::max<std::int64_t>(0, entry->use.active - count);
}

void QuotaLedger::Forget(std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(user_id);
}

}  // namespace milf::server
