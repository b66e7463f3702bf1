// Whole-file reads and crash-safe whole-file writes for small files
// (artifacts, keys, markers). Neither throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace milf {

// The file's bytes, or nullopt when it cannot be opened or read.
std::optional<std::vector<std::uint8_t>> ReadFileBytes(const std::filesystem::path& path);

// Writes `bytes` to PATH.partial, then renames it over `path`, so a reader
// sees the old file or the whole new one, never a torn one. False on any
// failure (the old file, if any, is untouched).
bool WriteFileAtomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace milf
