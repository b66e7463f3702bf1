#include "wasm/wasi/output_capture.h"

#include <algorithm>

namespace milf::wasm::wasi {

bool OutputCapture::Append(std::span<const std::uint8_t> data) {
  const std::uint64_t kept = std::min<std::uint64_t>(data.size(), room());
  if (kept > 0) {
    const std::uint64_t needed = bytes_.size() + kept;
    if (needed > bytes_.capacity()) {
      // Grow geometrically, but never reserve past the cap.
      bytes_.reserve(std::min<std::uint64_t>(cap_, std::max<std::uint64_t>(needed, 2 * bytes_.capacity())));
    }
    bytes_.insert(bytes_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(kept));
  }
  if (kept < data.size()) truncated_ = true;
  return kept == data.size();
}

}  // namespace milf::wasm::wasi
