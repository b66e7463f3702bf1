// OutputCapture: a guest's stdout or stderr, kept in memory up to a cap.
// Bytes past the cap are dropped and remembered only as the truncated flag;
// the buffer never holds, nor reserves, more than `cap` bytes.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace milf::wasm::wasi {

class OutputCapture {
 public:
  explicit OutputCapture(std::uint64_t cap) : cap_(cap) {}

  // Keeps as much of `data` as fits under the cap. Returns false, and sets
  // the truncated flag, when some of it did not fit.
  bool Append(std::span<const std::uint8_t> data);

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  std::string_view text() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  bool truncated() const { return truncated_; }
  std::uint64_t cap() const { return cap_; }
  std::uint64_t room() const { return cap_ - bytes_.size(); }

 private:
  std::uint64_t cap_;
  std::vector<std::uint8_t> bytes_;
  bool truncated_ = false;
};

}  // namespace milf::wasm::wasi
