#include "sandbox/walls.h"

namespace milf::sandbox {

std::string_view WallStateName(WallState state) {
  switch (state) {
    case WallState::kActive:
      return "active";
    case WallState::kNotNeeded:
      return "not_needed";
    case WallState::kMissing:
      break;
  }
  return "missing";
}

}  // namespace milf::sandbox
