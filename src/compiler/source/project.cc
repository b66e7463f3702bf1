#include "compiler/source/project.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace milf::compiler {
namespace {

constexpr std::string_view kConventionalEntries[] = {"main.c",      "main.cc",          "main.cpp",
                                                     "main.cxx",    "index.ts",         "main.rs",
                                                     "src/main.rs", "assembly/index.ts"};

Unexpected<Error> BadArchive(std::string message) {
  return Fail("invalid_archive", std::move(message));
}

// "a/./b" -> "a/b"; nullopt for absolute paths, "..", empty names,
// backslashes or control characters.
std::optional<std::string> NormalisePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return std::nullopt;
  std::string normal;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    if (std::any_of(part.begin(), part.end(),
                    [](unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\'; })) {
      return std::nullopt;
    }
    if (!normal.empty()) normal += '/';
    normal += part;
  }
  if (normal.empty()) return std::nullopt;
  return normal;
}

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// The entry's bytes, refusing past the per-file or total cap whatever the
// header claimed.
Result<std::string> ReadEntryData(archive* reader, const std::string& path, std::size_t& total,
                                  const ProjectLimits& limits) {
  std::string data;
  char buffer[65536];
  while (true) {
    const la_ssize_t got = archive_read_data(reader, buffer, sizeof buffer);
    if (got == 0) return data;
    if (got < 0) return BadArchive(fmt::format("{}: {}", path, archive_error_string(reader)));
    total += static_cast<std::size_t>(got);
    if (data.size() + static_cast<std::size_t>(got) > limits.max_file_bytes) {
      return BadArchive(fmt::format("{} is larger than {} bytes", path, limits.max_file_bytes));
    }
    if (total > limits.max_total_bytes) {
      return BadArchive(
          fmt::format("the archive holds more than {} bytes", limits.max_total_bytes));
    }
    data.append(buffer, static_cast<std::size_t>(got));
  }
}

Result<std::vector<SourceFile>> ReadArchive(std::span<const std::uint8_t> bytes,
                                            const ProjectLimits& limits) {
  ArchivePtr reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  archive_read_support_format_zip(reader.get());
  if (archive_read_open_memory(reader.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return BadArchive(
        fmt::format("not a tar, tar.gz or zip archive: {}", archive_error_string(reader.get())));
  }
  std::vector<SourceFile> files;
  std::set<std::string> seen;
  std::size_t total = 0;
  archive_entry* entry = nullptr;
  while (true) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK) {
      return BadArchive(fmt::format("unreadable archive: {}", archive_error_string(reader.get())));
    }
    const char* raw_path = archive_entry_pathname(entry);
    const std::string shown = raw_path == nullptr ? "(unnamed)" : raw_path;
    if (archive_entry_hardlink(entry) != nullptr || archive_entry_symlink(entry) != nullptr) {
      return BadArchive(fmt::format("{}: links are not allowed", shown));
    }
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      if (!NormalisePath(shown) && shown != "./") {
        return BadArchive(fmt::format("{}: paths must be relative, without ..", shown));
      }
      continue;
    }
    if (type != AE_IFREG)
      return BadArchive(fmt::format("{}: only regular files are allowed", shown));
    const auto path = NormalisePath(shown);
    if (!path) return BadArchive(fmt::format("{}: paths must be relative, without ..", shown));
    if (path->size() > limits.max_path_bytes)
      return BadArchive(fmt::format("{}: path too long", shown));
    if (!seen.insert(*path).second) return BadArchive(fmt::format("{}: listed twice", *path));
    if (files.size() == limits.max_files) {
      return BadArchive(fmt::format("more than {} files", limits.max_files));
    }
    auto data = ReadEntryData(reader.get(), *path, total, limits);
    if (!data) return Fail(data.error());
    files.push_back({*path, std::move(*data)});
  }
  if (files.empty()) return BadArchive("the archive holds no files");
  return files;
}

// "proj/main.c", "proj/util.h" -> "main.c", "util.h".
void StripCommonTop(std::vector<SourceFile>& files) {
  const std::size_t slash = files.front().path.find('/');
  if (slash == std::string::npos) return;
  const std::string top = files.front().path.substr(0, slash + 1);
  for (const SourceFile& file : files) {
    if (!file.path.starts_with(top)) return;
  }
  for (SourceFile& file : files) file.path.erase(0, top.size());
}

Result<std::string> ChooseEntry(const std::vector<SourceFile>& files, std::string_view wanted) {
  const auto has = [&files](std::string_view path) {
    return std::any_of(files.begin(), files.end(),
                       [path](const SourceFile& file) { return file.path == path; });
  };
  if (!wanted.empty()) {
    const auto normal = NormalisePath(wanted);
    if (!normal || !has(*normal)) {
      return Fail("invalid_source", fmt::format("entry '{}' is not in the archive", wanted));
    }
    return *normal;
  }
  for (std::string_view candidate : kConventionalEntries) {
    if (has(candidate)) return std::string(candidate);
  }
  std::vector<std::string> top_sources;
  for (const SourceFile& file : files) {
    if (file.path.find('/') == std::string::npos && LanguageOfFile(file.path)) {
      top_sources.push_back(file.path);
    }
  }
  if (top_sources.size() == 1) return top_sources.front();
  return Fail("invalid_source",
              "no entry file: name it main.c, main.cpp, index.ts or main.rs, or pass entry_file=");
}

}  // namespace

std::string_view LanguageName(Language language) {
  switch (language) {
    case Language::kC:
      return "c";
    case Language::kCxx:
      return "c++";
    case Language::kAssemblyScript:
      return "assemblyscript";
    case Language::kRust:
      return "rust";
  }
  return "c";
}

std::optional<Language> LanguageOfFile(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view extension = path.substr(dot);
  if (extension == ".c") return Language::kC;
  if (extension == ".cc" || extension == ".cpp" || extension == ".cxx") return Language::kCxx;
  if (extension == ".ts") return Language::kAssemblyScript;
  if (extension == ".rs") return Language::kRust;
  return std::nullopt;
}

Result<Project> SingleFileProject(std::string_view filename, std::string text,
                                  const ProjectLimits& limits) {
  const auto path = NormalisePath(filename);
  if (!path || path->find('/') != std::string::npos || path->size() > limits.max_path_bytes) {
    return Fail("invalid_source", "the file name must be a bare name such as hello.c");
  }
  const auto language = LanguageOfFile(*path);
  if (!language) {
    return Fail("invalid_source",
                fmt::format("{}: unknown language (use .c, .cc/.cpp/.cxx, .ts or .rs)", *path));
  }
  if (text.size() > limits.max_file_bytes) {
    return Fail("invalid_source",
                fmt::format("{} is larger than {} bytes", *path, limits.max_file_bytes));
  }
  Project project;
  project.entry = *path;
  project.language = *language;
  project.files.push_back({*path, std::move(text)});
  return project;
}

Result<Project> ArchiveProject(std::span<const std::uint8_t> bytes, std::string_view entry,
                               const ProjectLimits& limits) {
  auto files = ReadArchive(bytes, limits);
  if (!files) return Fail(files.error());
  StripCommonTop(*files);
  std::sort(files->begin(), files->end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  auto chosen = ChooseEntry(*files, entry);
  if (!chosen) return Fail(chosen.error());
  const auto language = LanguageOfFile(*chosen);
  if (!language) {
    return Fail("invalid_source", fmt::format("{}: the entry must be a .c, .cc, .cpp, .cxx, .ts "
                                              "or .rs file",
                                              *chosen));
  }
  Project project;
  project.files = std::move(*files);
  project.entry = std::move(*chosen);
  project.language = *language;
  // A C entry with C++ files beside it links as C++.
  if (project.language == Language::kC &&
      std::any_of(project.files.begin(), project.files.end(), [](const SourceFile& file) {
        return LanguageOfFile(file.path) == Language::kCxx;
      })) {
    project.language = Language::kCxx;
  }
  return project;
}

namespace {

Result<std::vector<SourceFile>> ListDirectory(const std::string& dir, const ProjectLimits& limits) {
  namespace fs = std::filesystem;
  std::vector<SourceFile> files;
  std::size_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    const std::string path = fs::relative(it->path(), dir).generic_string();
    if (it->is_symlink()) return Fail("invalid_source", path + ": symlinks are not uploaded");
    if (it->is_directory()) continue;
    if (!it->is_regular_file()) return Fail("invalid_source", path + ": not a regular file");
    if (files.size() == limits.max_files) {
      return Fail("invalid_source",
                  fmt::format("{} holds more than {} files", dir, limits.max_files));
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Fail("io", "cannot read " + it->path().string());
    total += text.str().size();
    if (text.str().size() > limits.max_file_bytes || total > limits.max_total_bytes) {
      return Fail("invalid_source", fmt::format("{} is too large to upload", path));
    }
    files.push_back({path, text.str()});
  }
  if (ec) return Fail("io", fmt::format("{}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace

Result<std::string> PackDirectory(const std::string& dir, const ProjectLimits& limits) {
  auto files = ListDirectory(dir, limits);
  if (!files) return Fail(files.error());
  if (files->empty()) return Fail("invalid_source", dir + " holds no files");
  std::size_t size = 4096;
  for (const SourceFile& file : *files) size += file.text.size() + 2048;
  std::string bytes(size, '\0');
  std::size_t used = 0;
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                 archive_write_free);
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_add_filter_gzip(writer.get());
  if (archive_write_open_memory(writer.get(), bytes.data(), bytes.size(), &used) != ARCHIVE_OK) {
    return Fail("io", archive_error_string(writer.get()));
  }
  for (const SourceFile& file : *files) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry_set_pathname(entry.get(), file.path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.text.size()));
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK ||
        archive_write_data(writer.get(), file.text.data(), file.text.size()) < 0) {
      return Fail("io", fmt::format("{}: {}", file.path, archive_error_string(writer.get())));
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return Fail("io", archive_error_string(writer.get()));
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace milf::compiler
