// poll_oneoff. Clock subscriptions wait through WasiEnvironment::Sleep (so
// virtual time works); fd subscriptions on stdin, stdout, stderr and regular
// files are ready at once, others report ENOTSUP in their event.
#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "wasm/wasi/calls.h"

namespace milf::wasm::wasi {
namespace {

struct Event {
  std::uint64_t userdata = 0;
  Errno error = Errno::kSuccess;
  std::uint8_t type = 0;
  std::uint64_t nbytes = 0;
  std::uint16_t flags = 0;
};

struct PendingClock {
  std::uint64_t userdata;
  std::int64_t remaining;  // nanoseconds until it fires, > 0
};

// Nanoseconds from `now` until the absolute `deadline`, saturating.
std::int64_t Until(std::uint64_t deadline, std::int64_t now) {
  const auto capped = static_cast<std::int64_t>(
      std::min<std::uint64_t>(deadline, std::numeric_limits<std::int64_t>::max()));
  std::int64_t remaining;
  if (__builtin_sub_overflow(capped, now, &remaining)) return std::numeric_limits<std::int64_t>::max();
  return remaining;
}

Event FdEvent(WasiState& state, std::uint64_t userdata, EventType type, std::uint32_t fd) {
  Event event{userdata, Errno::kSuccess, static_cast<std::uint8_t>(type), 0, 0};
  const Descriptor* d = state.fds.Get(fd);
  if (d == nullptr) {
    event.error = Errno::kBadf;
    return event;
  }
  const bool reading = type == EventType::kFdRead;
  if (reading && d->kind == DescriptorKind::kStdin) {
    event.nbytes = state.stdin_data.size() - std::min<std::uint64_t>(state.stdin_position,
                                                                     state.stdin_data.size());
    if (event.nbytes == 0) event.flags = kEventFdReadwriteHangup;
  } else if (!reading && d->kind == DescriptorKind::kStdout) {
    event.nbytes = state.stdout_capture.room();
  } else if (!reading && d->kind == DescriptorKind::kStderr) {
    event.nbytes = state.stderr_capture.room();
  } else if (d->kind == DescriptorKind::kFile &&
             (d->base & (reading ? rights::kFdRead : rights::kFdWrite)) != 0) {
    if (reading) {
      const auto stat = d->file->Stat();
      if (stat && stat->size > d->position) event.nbytes = stat->size - d->position;
    }
  } else {
    event.error = Errno::kNotsup;
  }
  return event;
}

void StoreEvent(const GuestMemory& memory, std::uint32_t offset, const Event& event) {
  std::array<std::uint8_t, layout::kEventSize> zeros{};
  memory.Write(offset, zeros);
  memory.Store<std::uint64_t>(offset + 0, event.userdata);
  memory.Store<std::uint16_t>(offset + 8, static_cast<std::uint16_t>(event.error));
  memory.Store<std::uint8_t>(offset + 10, event.type);
  memory.Store<std::uint64_t>(offset + 16, event.nbytes);
  memory.Store<std::uint16_t>(offset + 24, event.flags);
}

Errno PollOneoff(WasiState& state, const GuestMemory& memory, const CallArgs& args) {
  const std::uint32_t in = args.u32(0);
  const std::uint32_t out = args.u32(1);
  const std::uint32_t count = args.u32(2);
  const std::uint32_t nevents_ptr = args.u32(3);
  if (count == 0) return Errno::kInval;
  if (!InBounds(memory, in, std::uint64_t{count} * layout::kSubscriptionSize) ||
      !InBounds(memory, out, std::uint64_t{count} * layout::kEventSize) ||
      !InBounds(memory, nevents_ptr, 4)) {
    return Errno::kFault;
  }

  std::vector<Event> ready;
  std::vector<PendingClock> clocks;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t sub = in + i * layout::kSubscriptionSize;
    std::uint64_t userdata = 0;
    std::uint8_t tag = 0;
    memory.Load(sub + 0, &userdata);
    memory.Load(sub + 8, &tag);
    if (tag == static_cast<std::uint8_t>(EventType::kClock)) {
      std::uint32_t id = 0;
      std::uint64_t timeout = 0;
      std::uint16_t flags = 0;
      memory.Load(sub + 16, &id);
      memory.Load(sub + 24, &timeout);
      memory.Load(sub + 40, &flags);
      const auto now = GuestClockNow(state, id);
      if (!now) {
        ready.push_back({userdata, Errno::kInval, tag, 0, 0});
        continue;
      }
      const std::int64_t remaining =
          (flags & kSubclockAbstime) != 0
              ? Until(timeout, *now)
              : static_cast<std::int64_t>(std::min<std::uint64_t>(
                    timeout, std::numeric_limits<std::int64_t>::max()));
      if (remaining <= 0) {
        ready.push_back({userdata, Errno::kSuccess, tag, 0, 0});
      } else {
        clocks.push_back({userdata, remaining});
      }
    } else if (tag == static_cast<std::uint8_t>(EventType::kFdRead) ||
               tag == static_cast<std::uint8_t>(EventType::kFdWrite)) {
      std::uint32_t fd = 0;
      memory.Load(sub + 16, &fd);
      ready.push_back(FdEvent(state, userdata, static_cast<EventType>(tag), fd));
    } else {
      ready.push_back({userdata, Errno::kInval, tag, 0, 0});
    }
  }

  if (ready.empty()) {
    const std::int64_t wait =
        std::min_element(clocks.begin(), clocks.end(), [](const auto& a, const auto& b) {
          return a.remaining < b.remaining;
        })->remaining;
    if (!state.env.Sleep(wait)) {
      state.Stop(RunStatus::kTimeout, 0,
                 "the deadline passed while the guest slept in poll_oneoff");
      return Errno::kSuccess;
    }
    for (const PendingClock& clock : clocks) {
      if (clock.remaining <= wait) {
        ready.push_back({clock.userdata, Errno::kSuccess,
                         static_cast<std::uint8_t>(EventType::kClock), 0, 0});
      }
    }
  }

  for (std::size_t i = 0; i < ready.size(); ++i) {
    StoreEvent(memory, out + static_cast<std::uint32_t>(i * layout::kEventSize), ready[i]);
  }
  memory.Store(nevents_ptr, static_cast<std::uint32_t>(ready.size()));
  return Errno::kSuccess;
}

}  // namespace

void RegisterPollCalls(Registrar& registrar) {
  registrar.Add("poll_oneoff", "iiii", PollOneoff);
}

}  // namespace milf::wasm::wasi
