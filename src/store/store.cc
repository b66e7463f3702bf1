#include "store/store.h"

#include <array>
#include <utility>

namespace milf::store {
namespace {

constexpr std::array<std::pair<InvocationState, const char*>, 6> kStateNames{{
    {InvocationState::kQueued, "queued"},
    {InvocationState::kDispatched, "dispatched"},
    {InvocationState::kRunning, "running"},
    {InvocationState::kSucceeded, "succeeded"},
    {InvocationState::kFailed, "failed"},
    {InvocationState::kTimedOut, "timed_out"},
}};

}  // namespace

std::string StateName(InvocationState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

Status Store::PutFunctionSource(std::int64_t, std::int64_t, const FunctionSource&) {
  return Fail("unsupported", "this store keeps no function sources");
}

Result<FunctionSource> Store::GetFunctionSource(std::int64_t, std::int64_t) {
  return Fail("not_found", "function source not found");
}

Result<std::vector<Status>> Store::ApplyTransitions(const std::vector<Transition>& transitions,
                                                    Millis now) {
  std::vector<Status> outcomes;
  outcomes.reserve(transitions.size());
  for (const Transition& transition : transitions) {
    const Millis at = transition.at != 0 ? transition.at : now;
    switch (transition.kind) {
      case Transition::Kind::kEnqueue:
        outcomes.push_back(EnqueueInvocations({transition.invocation}));
        break;
      case Transition::Kind::kDispatch:
        outcomes.push_back(
            MarkDispatched(transition.id, transition.node_id, transition.lease_deadline, at));
        break;
      case Transition::Kind::kStart:
        outcomes.push_back(MarkRunning(transition.id, transition.lease_deadline, at));
        break;
      case Transition::Kind::kComplete:
        outcomes.push_back(Complete(transition.id, transition.node_id, transition.final_state,
                                    transition.result, at));
        break;
      case Transition::Kind::kReturn:
        outcomes.push_back(
            ReturnUnrun(transition.id, transition.node_id, transition.result.message, at));
        break;
    }
  }
  return outcomes;
}

std::optional<InvocationState> ParseState(const std::string& name) {
  for (const auto& [value, name_of] : kStateNames) {
    if (name == name_of) return value;
  }
  return std::nullopt;
}

}  // namespace milf::store
