// Quotas: per-user limits on invocations running at once, invocations per
// UTC day, and memory per function (store::Quota). Going over answers
// 429 quota_exceeded with a message naming the limit, e.g.
// "concurrent invocations: 64 of 64 in use".
//
// QuotaViolation is the pure rule. QuotaLedger applies it at invoke time
// without asking the store on every call: it keeps each user's counts in
// memory, seeded from the store (GetQuota, CountActive, CountSince) and
// re-read every `resync_ms` or on a new UTC day, and moves them as the
// scheduler admits and finishes invocations. Reserve checks and counts in
// one step, so concurrent callers cannot overshoot a limit together. The
// counts are exact within one server; drift (an invocation deleted while
// queued, a restart) is corrected at the next re-read.
//
// Thread-safety: QuotaLedger's methods may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/result.h"
#include "store/store.h"

namespace milf::server {

struct QuotaUse {
  std::int64_t active = 0;  // queued, dispatched or running
  std::int64_t today = 0;   // accepted since midnight UTC
};

// nullopt if `requested` more invocations of a function configured with
// `memory_mb` fit in `quota` given `use`; otherwise the message naming the
// first limit crossed.
std::optional<std::string> QuotaViolation(const store::Quota& quota, const QuotaUse& use,
                                          std::int64_t requested, std::int64_t memory_mb);

class QuotaLedger {
 public:
  explicit QuotaLedger(store::Store& store, store::Millis resync_ms = 10'000);

  // Admits and counts `count` invocations of a function with `memory_mb`.
  // Errors: "quota_exceeded" with the QuotaViolation message, or the
  // store's error while loading the user's counts.
  Status Reserve(std::int64_t user_id, std::int64_t count, std::int64_t memory_mb,
                 store::Millis now);
  // Counts `count` invocations admitted without a check (schedule ticks).
  void Admit(std::int64_t user_id, std::int64_t count);
  // Takes back a Reserve whose invocations were never enqueued.
  void Cancel(std::int64_t user_id, std::int64_t count);
  // `count` of the user's invocations reached a final state.
  void Finish(std::int64_t user_id, std::int64_t count);
  // Reload the user's quota and counts at the next Reserve (quota changed).
  void Forget(std::int64_t user_id);

 private:
  struct Entry {
    std::mutex mutex;
    bool loaded = false;
    store::Millis loaded_at = 0;
    store::Millis day_start = 0;
    store::Quota quota;
    QuotaUse use;
  };
  std::shared_ptr<Entry> Find(std::int64_t user_id);
  Status Load(std::int64_t user_id, Entry& entry, store::Millis now);

  store::Store& store_;
  const store::Millis resync_ms_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, std::shared_ptr<Entry>> entries_;
};

}  // namespace milf::server
