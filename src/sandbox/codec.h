// Byte codec for the supervisor-worker protocol: little-endian integers and
// length-prefixed byte strings, written into and read from a flat buffer.
//
// WireReader is strict: every length is checked against the bytes that
// remain before anything is allocated, and any short read, oversized count
// or leftover byte makes the whole decode fail. It never reads past its
// span. Neither class is safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace milf::sandbox {

class WireWriter {
 public:
  void U8(std::uint8_t value) { bytes_.push_back(value); }
  void Bool(bool value) { U8(value ? 1 : 0); }
  void U32(std::uint32_t value);
  void U64(std::uint64_t value);
  void I64(std::int64_t value) { U64(static_cast<std::uint64_t>(value)); }
  // u32 length, then the bytes.
  void Bytes(std::span<const std::uint8_t> bytes);
  void String(const std::string& text);
  void Raw(std::span<const std::uint8_t> bytes);

  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  std::vector<std::uint8_t> Take() && { return std::move(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Each getter returns nullopt (and poisons the reader: every later call
// fails too) when the input is short or malformed.
class WireReader {
 public:
  explicit WireReader(std::span<const std::uint8_t> bytes) : rest_(bytes) {}

  std::optional<std::uint8_t> U8();
  std::optional<bool> Bool();  // only 0 or 1
  std::optional<std::uint32_t> U32();
  std::optional<std::uint64_t> U64();
  std::optional<std::int64_t> I64();
  std::optional<std::vector<std::uint8_t>> Bytes();
  std::optional<std::string> String();
  bool Raw(std::span<std::uint8_t> out);
  // A count of items that each take at least `min_item_bytes` on the wire:
  // fails when that many could not fit in what remains.
  std::optional<std::uint32_t> Count(std::size_t min_item_bytes);

  bool ok() const { return ok_; }
  // True when every byte was consumed and nothing failed.
  bool Done() const { return ok_ && rest_.empty(); }

 private:
  std::optional<std::span<const std::uint8_t>> Take(std::size_t size);

  std::span<const std::uint8_t> rest_;
  bool ok_ = true;
};

}  // namespace milf::sandbox
