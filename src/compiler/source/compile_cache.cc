#include "compiler/source/compile_cache.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace milf::compiler {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// One diagnostic a line: severity, line, column, file, message, tab-separated.
std::string Serialise(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const Diagnostic& d : diagnostics) {
    text += fmt::format("{}\t{}\t{}\t{}\t{}\n", OneLine(d.severity), d.line, d.column,
                        OneLine(d.file), OneLine(d.message));
  }
  return text;
}

std::optional<std::vector<Diagnostic>> Deserialise(std::string_view text) {
  std::vector<Diagnostic> diagnostics;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string_view fields[5];
    for (int i = 0; i < 4; ++i) {
      const std::size_t tab = line.find('\t');
      if (tab == std::string_view::npos) return std::nullopt;
      fields[i] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    fields[4] = line;
    Diagnostic d;
    d.severity = fields[0];
    std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), d.line);
    std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), d.column);
    d.file = fields[3];
    d.message = fields[4];
    diagnostics.push_back(std::move(d));
  }
  return diagnostics;
}

Status WriteAtomically(const std::string& path, std::string_view bytes) {
  std::string temporary = path + ".XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return Fail("io", fmt::format("{}: {}", temporary, std::strerror(errno)));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t wrote = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (wrote <= 0) break;
    written += static_cast<std::size_t>(wrote);
  }
  const bool complete = written == bytes.size() && ::fchmod(fd, 0644) == 0;
  ::close(fd);
  std::error_code ec;
  if (complete) std::filesystem::rename(temporary, path, ec);
  if (!complete || ec) {
    ::unlink(temporary.c_str());
    return Fail("io", fmt::format("cannot write {}", path));
  }
  return {};
}

}  // namespace

std::string CompileCache::PathFor(const std::string& key, const char* suffix) const {
  return fmt::format("{}/{}/{}{}", dir_, key.substr(0, 2), key, suffix);
}

std::optional<CachedCompile> CompileCache::Find(const std::string& key) const {
  // The diagnostics are written last: their presence marks a whole entry.
  const auto diagnostics_text = ReadFile(PathFor(key, ".diag"));
  if (!diagnostics_text) return std::nullopt;
  const auto wasm = ReadFile(PathFor(key, ".wasm"));
  auto diagnostics = Deserialise(*diagnostics_text);
  if (!wasm || !diagnostics) return std::nullopt;
  return CachedCompile{{wasm->begin(), wasm->end()}, std::move(*diagnostics)};
}

Status CompileCache::Put(const std::string& key, const CachedCompile& entry) const {
  std::error_code ec;
  std::filesystem::create_directories(fmt::format("{}/{}", dir_, key.substr(0, 2)), ec);
  if (ec) return Fail("io", fmt::format("{}: {}", dir_, ec.message()));
  const std::string_view wasm(reinterpret_cast<const char*>(entry.wasm.data()), entry.wasm.size());
  if (auto written = WriteAtomically(PathFor(key, ".wasm"), wasm); !written) return written;
  return WriteAtomically(PathFor(key, ".diag"), Serialise(entry.diagnostics));
}

}  // namespace milf::compiler
