// Backoff: how long a node waits before reconnecting. Delays grow
// exponentially from `initial` by `multiplier` up to `max`, and each is
// drawn uniformly from the upper half of its step ("equal jitter"), so a
// fleet of nodes that lost the same server does not come back in lockstep,
// yet no node waits less than half its step. Reset after a connection
// succeeds. The randomness is injected, so a test fixes the schedule with a
// seeded source. Not safe for concurrent use.
#pragma once

#include <chrono>

#include "base/random.h"

namespace milf::node {

struct BackoffOptions {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2;
};

class Backoff {
 public:
  // `random` must outlive the Backoff.
  Backoff(BackoffOptions options, RandomSource& random);

  // The delay before the next attempt, in [step / 2, step] where step is
  // min(max, initial x multiplier^failures); counts one more failure.
  std::chrono::milliseconds Next();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  BackoffOptions options_;
  RandomSource& random_;
  int failures_ = 0;
};

}  // namespace milf::node
