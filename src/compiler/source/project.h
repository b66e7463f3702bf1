// Project: the sources of one compile, as uploaded: a single file, or a
// tar (optionally gzip) or zip archive of a small project. Building a
// Project is where untrusted input is checked: paths are relative, without
// "..", and names of regular files only (no links, devices or FIFOs); the
// number of files and the bytes extracted are capped while reading, so a
// compression bomb stops at the cap. Nothing touches the filesystem here.
//
// Errors: "invalid_source" (name, extension, entry or size refused) and
// "invalid_archive" (unreadable or hostile archive), each with one line
// meant for the uploader.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace milf::compiler {

enum class Language { kC, kCxx, kAssemblyScript, kRust };

// "c", "c++", "assemblyscript", "rust".
std::string_view LanguageName(Language language);
// By extension: .c; .cc .cpp .cxx; .ts; .rs. nullopt for anything else.
std::optional<Language> LanguageOfFile(std::string_view path);

struct SourceFile {
  std::string path;  // relative, '/'-separated, normalised
  std::string text;
};

struct Project {
  std::vector<SourceFile> files;  // sorted by path, unique
  std::string entry;              // one of files[].path
  Language language = Language::kC;
};

struct ProjectLimits {
  std::size_t max_files = 256;
  std::size_t max_file_bytes = 1 << 20;
  std::size_t max_total_bytes = 8 << 20;  // extracted, all files together
  std::size_t max_path_bytes = 200;
};

// One file named `filename` (a bare name such as "hello.c").
Result<Project> SingleFileProject(std::string_view filename, std::string text,
                                  const ProjectLimits& limits = {});

// An archive, its format recognised from its bytes. When every file sits
// under one top directory, that directory is stripped. The entry is
// `entry` when given, else the first of main.c, main.cc, main.cpp,
// main.cxx, index.ts, main.rs, src/main.rs, assembly/index.ts present,
// else the only source file at the top.
Result<Project> ArchiveProject(std::span<const std::uint8_t> bytes, std::string_view entry,
                               const ProjectLimits& limits = {});

// A directory on this machine as a gzip-compressed tar for ArchiveProject
// (what `milf fn deploy NAME DIR` uploads). Names starting with '.' are
// skipped (.git and the like); a symlink or special file, or a tree over
// the limits, is refused with "invalid_source". Errors also: "io".
Result<std::string> PackDirectory(const std::string& dir, const ProjectLimits& limits = {});

}  // namespace milf::compiler
