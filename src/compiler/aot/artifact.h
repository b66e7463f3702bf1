// Artifact: the unit an AOT build produces, stored in the cache and (later)
// shipped to nodes — the shared object plus a short text header saying what
// it was built from and the SHA-256 of the object, so that corruption or
// tampering is caught before anything is loaded:
//
//   "MILFAOT1" | u32 little-endian header length | header | object
//
// The header is "key value" lines: target, module (SHA-256 of the wasm),
// toolchain (fingerprint), object-sha256, object-size.
//
// The hash detects accidents and edits by anyone who does not also rewrite
// the header; defence against a deliberate attacker is the server's Ed25519
// signature over the same header (docs/aot.md), which this format leaves
// room for as one more header line.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace milf::aot {

struct ArtifactInfo {
  std::string target;         // "x86_64-linux-gnu"
  std::string module_sha256;  // hex, of the wasm it was built from
  std::string toolchain;      // Toolchain::Fingerprint()
};

struct Artifact {
  ArtifactInfo info;
  std::vector<std::uint8_t> object;  // the shared object
};

std::vector<std::uint8_t> SerializeArtifact(const ArtifactInfo& info,
                                            std::span<const std::uint8_t> object);

// Errors "corrupt", with what is wrong: bad magic or header, wrong size, or
// an object whose SHA-256 differs from the header's.
Result<Artifact> ParseArtifact(std::span<const std::uint8_t> bytes);

}  // namespace milf::aot
