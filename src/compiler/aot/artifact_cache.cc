#include "compiler/aot/artifact_cache.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "base/sha256.h"

namespace milf::aot {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExtension = ".milfaot";

// Artifacts are code this process will run: a directory made here is the
// owner's alone.
Status MakePrivateDirs(const fs::path& dir) {
  std::error_code error;
  if (fs::create_directories(dir, error)) {
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, error);
  }
  if (error) return Fail("io", "cannot make " + dir.string() + ": " + error.message());
  return {};
}

std::optional<std::vector<std::uint8_t>> ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return bytes;
}

// Writes `bytes` to a fresh temporary file beside `path`, then renames it
// over `path`.
Status WriteAtomically(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::string temp = (path.parent_path() / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) return Fail("io", "cannot create a file in " + path.parent_path().string());
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == bytes.size() && fsync(fd) == 0;
  close(fd);
  std::error_code error;
  if (ok) fs::rename(temp, path, error);
  if (!ok || error) {
    fs::remove(temp, error);
    return Fail("io", "cannot write " + path.string());
  }
  return {};
}

// Why `bytes` is not a valid artifact for `expected`; nullopt when it is.
std::optional<std::string> Verify(const Result<Artifact>& parsed, const ArtifactInfo& expected) {
  if (!parsed) return parsed.error().message;
  const ArtifactInfo& info = parsed->info;
  if (info.target != expected.target || info.module_sha256 != expected.module_sha256 ||
      info.toolchain != expected.toolchain) {
    return std::string("artifact was built for another module, target or toolchain");
  }
  return std::nullopt;
}

}  // namespace

ArtifactCache::ArtifactCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path ArtifactCache::DefaultDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "milf" / "aot";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    return fs::path(home) / ".cache" / "milf" / "aot";
  }
  return {};
}

Result<fs::path> ArtifactCache::PathFor(std::span<const std::uint8_t> wasm,
                                        const Toolchain& toolchain) const {
  auto fingerprint = toolchain.Fingerprint();
  if (!fingerprint) return Fail(fingerprint.error());
  const std::string& triple = toolchain.target().triple;
  const std::string key = Sha256Hex(Sha256(*fingerprint + "\n" + triple + "\n" + Sha256Hex(wasm)));
  return dir_ / triple / (key + std::string(kExtension));
}

Result<CacheOutcome> ArtifactCache::LoadOrBuild(std::span<const std::uint8_t> wasm,
                                                const Toolchain& toolchain) {
  auto path = PathFor(wasm, toolchain);
  if (!path) return Fail(path.error());
  const ArtifactInfo expected{toolchain.target().triple, Sha256Hex(wasm), *toolchain.Fingerprint()};
  std::optional<std::string> rejected;
  if (auto bytes = ReadAll(*path)) {
    auto parsed = ParseArtifact(*bytes);
    rejected = Verify(parsed, expected);
    if (!rejected) {
      CacheOutcome outcome;
      outcome.artifact = std::move(parsed).value();
      outcome.path = *path;
      outcome.hit = true;
      return outcome;
    }
    std::error_code ignored;
    fs::remove(*path, ignored);
  }
  auto built = Build(wasm, toolchain, expected, *path);
  if (!built) return Fail(built.error());
  built->rejected = std::move(rejected);
  return built;
}

Result<CacheOutcome> ArtifactCache::Build(std::span<const std::uint8_t> wasm,
                                          const Toolchain& toolchain, ArtifactInfo info,
                                          fs::path path) {
  const fs::path work_root = dir_ / "tmp";
  if (auto ok = MakePrivateDirs(work_root); !ok) return Fail(ok.error());
  if (auto ok = MakePrivateDirs(path.parent_path()); !ok) return Fail(ok.error());
  CacheOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  auto runtime = RuntimeObject(toolchain, info.toolchain);
  if (!runtime) return Fail(runtime.error());
  auto object = Translate(wasm, toolchain, work_root, &outcome.stats, *runtime);
  if (!object) return Fail(object.error());
  outcome.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<std::uint8_t> bytes = SerializeArtifact(info, *object);
  if (auto ok = WriteAtomically(path, bytes); !ok) return Fail(ok.error());
  outcome.artifact = Artifact{std::move(info), std::move(object).value()};
  outcome.path = std::move(path);
  return outcome;
}

Result<std::vector<std::uint8_t>> ArtifactCache::RuntimeObject(const Toolchain& toolchain,
                                                               const std::string& fingerprint) {
  const std::string& triple = toolchain.target().triple;
  const fs::path path = dir_ / triple / ("runtime-" + fingerprint + std::string(kExtension));
  const ArtifactInfo expected{triple, "runtime", fingerprint};
  if (auto bytes = ReadAll(path)) {
    auto parsed = ParseArtifact(*bytes);
    if (!Verify(parsed, expected)) return std::move(parsed->object);
  }
  auto object = BuildRuntimeObject(toolchain, dir_ / "tmp");
  if (!object) return Fail(object.error());
  if (auto ok = WriteAtomically(path, SerializeArtifact(expected, *object)); !ok) {
    return Fail(ok.error());
  }
  return object;
}

}  // namespace milf::aot
