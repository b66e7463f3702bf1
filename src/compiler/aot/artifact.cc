#include "compiler/aot/artifact.h"

#include <charconv>
#include <map>
#include <string_view>

#include "base/sha256.h"

namespace milf::aot {
namespace {

constexpr std::string_view kMagic = "MILFAOT1";
constexpr std::uint32_t kMaxHeaderBytes = 4096;

void PutU32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::uint32_t GetU32(std::span<const std::uint8_t> bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | bytes[static_cast<std::size_t>(i)];
  return value;
}

Unexpected<Error> Corrupt(std::string what) { return Fail("corrupt", std::move(what)); }

// "key value" lines; nullopt-like failure on anything else.
Result<std::map<std::string, std::string, std::less<>>> ParseHeader(std::string_view text) {
  std::map<std::string, std::string, std::less<>> fields;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) return Corrupt("unterminated header line");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space == 0) return Corrupt("malformed header line");
    fields.emplace(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  return fields;
}

}  // namespace

std::vector<std::uint8_t> SerializeArtifact(const ArtifactInfo& info,
                                            std::span<const std::uint8_t> object) {
  const std::string header = "target " + info.target + "\nmodule " + info.module_sha256 +
                             "\ntoolchain " + info.toolchain + "\nobject-sha256 " +
                             Sha256Hex(object) + "\nobject-size " + std::to_string(object.size()) +
                             "\n";
  std::vector<std::uint8_t> out(kMagic.begin(), kMagic.end());
  PutU32(out, static_cast<std::uint32_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), object.begin(), object.end());
  return out;
}

Result<Artifact> ParseArtifact(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kMagic.size() + 4 ||
      std::string_view(reinterpret_cast<const char*>(bytes.data()), kMagic.size()) != kMagic) {
    return Corrupt("not a MILF AOT artifact");
  }
  const std::uint32_t header_size = GetU32(bytes.subspan(kMagic.size(), 4));
  const std::size_t header_start = kMagic.size() + 4;
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - header_start) {
    return Corrupt("bad header length");
  }
  auto fields = ParseHeader(std::string_view(
      reinterpret_cast<const char*>(bytes.data() + header_start), header_size));
  if (!fields) return Fail(fields.error());
  const auto field = [&](std::string_view key) -> std::string {
    const auto it = fields->find(key);
    return it == fields->end() ? std::string() : it->second;
  };
  const std::span<const std::uint8_t> object = bytes.subspan(header_start + header_size);
  std::uint64_t declared_size = 0;
  const std::string size_text = field("object-size");
  const auto parsed =
      std::from_chars(size_text.data(), size_text.data() + size_text.size(), declared_size);
  if (size_text.empty() || parsed.ec != std::errc() || parsed.ptr != size_text.data() + size_text.size() ||
      declared_size != object.size()) {
    return Corrupt("object size differs from the header's");
  }
  if (Sha256Hex(object) != field("object-sha256")) {
    return Corrupt("object SHA-256 differs from the header's");
  }
  Artifact artifact;
  artifact.info = ArtifactInfo{field("target"), field("module"), field("toolchain")};
  if (artifact.info.target.empty() || artifact.info.module_sha256.empty() ||
      artifact.info.toolchain.empty()) {
    return Corrupt("header lacks target, module or toolchain");
  }
  artifact.object.assign(object.begin(), object.end());
  return artifact;
}

}  // namespace milf::aot
