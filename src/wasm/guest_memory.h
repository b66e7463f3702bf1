// GuestMemory: a bounds-checked view of a guest's linear memory, handed to
// host functions for the duration of one host call. A memory.grow in the
// guest may move the bytes, so a view must not be kept across calls.
// All multi-byte accesses are little-endian, as WebAssembly defines them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace milf::wasm {

class GuestMemory {
 public:
  GuestMemory() = default;
  explicit GuestMemory(std::span<std::uint8_t> bytes) : bytes_(bytes) {}

  std::uint64_t size() const { return bytes_.size(); }

  // The bytes [offset, offset+length), or nullopt when any of them lies
  // outside the memory (including on 32-bit overflow of offset+length).
  std::optional<std::span<std::uint8_t>> Slice(std::uint32_t offset, std::uint32_t length) const {
    const std::uint64_t end = std::uint64_t{offset} + length;
    if (end > bytes_.size()) return std::nullopt;
    return bytes_.subspan(offset, length);
  }

  std::optional<std::string_view> String(std::uint32_t offset, std::uint32_t length) const {
    const auto slice = Slice(offset, length);
    if (!slice) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(slice->data()), slice->size());
  }

  template <class T>
  bool Load(std::uint32_t offset, T* out) const {
    const auto slice = Slice(offset, sizeof(T));
    if (!slice) return false;
    std::memcpy(out, slice->data(), sizeof(T));
    return true;
  }

  template <class T>
  bool Store(std::uint32_t offset, T value) const {
    const auto slice = Slice(offset, sizeof(T));
    if (!slice) return false;
    std::memcpy(slice->data(), &value, sizeof(T));
    return true;
  }

  bool Write(std::uint32_t offset, std::span<const std::uint8_t> data) const {
    const auto slice = Slice(offset, static_cast<std::uint32_t>(data.size()));
    if (!slice || data.size() > UINT32_MAX) return false;
    if (!data.empty()) std::memcpy(slice->data(), data.data(), data.size());
    return true;
  }

 private:
  std::span<std::uint8_t> bytes_;
};

static_assert(std::endian::native == std::endian::little,
              "GuestMemory assumes a little-endian host (x86_64, aarch64)");

}  // namespace milf::wasm
