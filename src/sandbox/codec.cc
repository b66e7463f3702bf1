#include "sandbox/codec.h"

#include <algorithm>

namespace milf::sandbox {

void WireWriter::U32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void WireWriter::U64(std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void WireWriter::Bytes(std::span<const std::uint8_t> bytes) {
  U32(static_cast<std::uint32_t>(bytes.size()));
  Raw(bytes);
}

void WireWriter::String(const std::string& text) {
  Bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

void WireWriter::Raw(std::span<const std::uint8_t> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

std::optional<std::span<const std::uint8_t>> WireReader::Take(std::size_t size) {
  if (!ok_ || size > rest_.size()) {
    ok_ = false;
    return std::nullopt;
  }
  const auto taken = rest_.first(size);
  rest_ = rest_.subspan(size);
  return taken;
}

std::optional<std::uint8_t> WireReader::U8() {
  const auto bytes = Take(1);
  if (!bytes) return std::nullopt;
  return (*bytes)[0];
}

std::optional<bool> WireReader::Bool() {
  const auto value = U8();
  if (!value || *value > 1) {
    ok_ = false;
    return std::nullopt;
  }
  return *value == 1;
}

std::optional<std::uint32_t> WireReader::U32() {
  const auto bytes = Take(4);
  if (!bytes) return std::nullopt;
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>((*bytes)[i]) << (8 * i);
  return value;
}

std::optional<std::uint64_t> WireReader::U64() {
  const auto bytes = Take(8);
  if (!bytes) return std::nullopt;
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>((*bytes)[i]) << (8 * i);
  return value;
}

std::optional<std::int64_t> WireReader::I64() {
  const auto value = U64();
  if (!value) return std::nullopt;
  return static_cast<std::int64_t>(*value);
}

std::optional<std::vector<std::uint8_t>> WireReader::Bytes() {
  const auto size = U32();
  if (!size) return std::nullopt;
  const auto bytes = Take(*size);
  if (!bytes) return std::nullopt;
  return std::vector<std::uint8_t>(bytes->begin(), bytes->end());
}

std::optional<std::string> WireReader::String() {
  const auto size = U32();
  if (!size) return std::nullopt;
  const auto bytes = Take(*size);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

bool WireReader::Raw(std::span<std::uint8_t> out) {
  const auto bytes = Take(out.size());
  if (!bytes) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

std::optional<std::uint32_t> WireReader::Count(std::size_t min_item_bytes) {
  const auto count = U32();
  if (!count) return std::nullopt;
  if (min_item_bytes > 0 && *count > rest_.size() / min_item_bytes) {
    ok_ = false;
    return std::nullopt;
  }
  return count;
}

}  // namespace milf::sandbox
