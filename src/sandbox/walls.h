// Walls: the layers a sandbox worker is locked behind, each reported as
// active, missing (with the reason the kernel gave) or not needed (with why).
// `milf sandbox-check` prints them; Pool::walls() returns them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace milf::sandbox {

enum class WallState : std::uint8_t {
  kActive,     // raised
  kMissing,    // wanted but refused or unavailable; detail says why
  kNotNeeded,  // deliberately not raised; detail says why
};

struct Wall {
  std::string name;  // stable snake_case: "pid_namespace", "seccomp", "rlimit_as", ...
  WallState state = WallState::kMissing;
  std::string detail;  // one line
};

using Walls = std::vector<Wall>;

std::string_view WallStateName(WallState state);  // "active", "missing", "not_needed"

}  // namespace milf::sandbox
