#include "server/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

#include "wasm/wasi/path.h"
#include "wasm/wasi/unique_fd.h"

namespace milf::server {
namespace {

namespace wasi = wasm::wasi;

constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr std::string_view kIndex = "index.html";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kNoCache[] = "no-cache";

struct ContentType {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<ContentType, 16> kContentTypes{{
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
}};

std::string_view ContentTypeOf(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return "application/octet-stream";
  }
  std::string extension(path.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const ContentType& known : kContentTypes) {
    if (known.extension == extension) return known.type;
  }
  return "application/octet-stream";
}

// Paths the API owns: a miss there is an unknown route, never a file.
bool IsApiPath(std::string_view path) {
  for (std::string_view reserved : {"/api", "/healthz", "/metrics"}) {
    if (path == reserved) return true;
    if (path.starts_with(reserved) && path.size() > reserved.size() &&
        path[reserved.size()] == '/') {
      return true;
    }
  }
  return false;
}

// "." and ".." segments would be resolved (or refused) by the resolver;
// refusing them outright keeps a traversal attempt from ever reaching the
// SPA fallback, where it would look like success.
bool IsClean(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

// A strong validator from what changes when a file is rewritten.
std::string EtagOf(const struct stat& st) {
  char buffer[64];
  const long long nanos = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL +
                          st.st_mtim.tv_nsec;
  std::snprintf(buffer, sizeof buffer, "\"%llx-%llx\"", static_cast<long long>(st.st_size), nanos);
  return buffer;
}

// If-None-Match: a list of entity tags (weak ones compare equal here, as
// RFC 9110 asks for GET), or "*".
bool EtagMatches(const std::string& header, const std::string& etag) {
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string::npos) end = header.size();
    std::string_view tag(header.data() + start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

HttpResponse NotFound(const std::string& path) {
  return ErrorResponse(404, "not_found", "no route for " + path);
}

// A regular file opened beneath the root, with its status.
struct OpenFile {
  wasi::UniqueFd fd;
  struct stat st {};
};

// Why a path gives no file: it names none (or a directory, a FIFO...), it
// leads out of the root, or the root itself cannot be opened.
enum class Miss { kNotAFile, kEscapes, kFailed };

Result<std::string> ReadAll(int fd, std::uint64_t size) {
  std::string bytes(size, '\0');
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("io", std::strerror(errno));
    if (n == 0) break;  // shrank since fstat
    done += static_cast<std::uint64_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

// The file `relative` names beneath `root`, or why there is none.
Result<OpenFile, Miss> OpenUnder(const std::string& root, std::string_view relative,
                                 wasi::ResolveMode resolve) {
  auto parsed = wasi::ParseRelativePath(relative);
  if (!parsed) {
    return Fail(parsed.error() == wasi::Errno::kNotcapable ? Miss::kEscapes : Miss::kNotAFile);
  }
  wasi::UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Fail(Miss::kFailed);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
  // below as not a regular file.
  auto opened = wasi::OpenBeneath(dir.get(), *parsed, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0,
                                  /*follow_final=*/true, resolve);
  if (!opened) {
    return Fail(opened.error() == wasi::Errno::kNotcapable ? Miss::kEscapes : Miss::kNotAFile);
  }
  OpenFile file{std::move(*opened), {}};
  if (::fstat(file.fd.get(), &file.st) != 0) return Fail(Miss::kFailed);
  if (!S_ISREG(file.st.st_mode)) return Fail(Miss::kNotAFile);
  return file;
}

}  // namespace

Result<std::unique_ptr<StaticFiles>> StaticFiles::Open(const std::string& root,
                                                       std::uint64_t max_file_bytes) {
  wasi::UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Fail("io", "dashboard directory " + root + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstatat(dir.get(), std::string(kIndex).c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) {
    return Fail("io", "dashboard directory " + root + " has no index.html (is the dashboard built?)");
  }
  return std::make_unique<StaticFiles>(root, max_file_bytes, wasi::DetectResolveMode(dir.get()));
}

StaticFiles::StaticFiles(std::string root, std::uint64_t max_file_bytes,
                         wasm::wasi::ResolveMode resolve)
    : root_(std::move(root)), max_file_bytes_(max_file_bytes), resolve_(resolve) {}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
  const std::string& path = request.path;
  if (IsApiPath(path)) return NotFound(path);
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse refused = ErrorResponse(405, "method_not_allowed",
                                         request.method + " is not allowed on " + path);
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return refused;
  }
  if (!IsClean(path)) {
    return ErrorResponse(400, "bad_request", "path has a '.' or '..' segment or a NUL");
  }

  const bool asset = path.starts_with(kAssetsPrefix);
  std::string_view relative(path);
  while (relative.starts_with('/')) relative.remove_prefix(1);
  std::string served(relative.empty() ? kIndex : relative);
  auto file = OpenUnder(root_, served, resolve_);
  if (!file && file.error() == Miss::kNotAFile && !asset) {
    served = kIndex;
    file = OpenUnder(root_, served, resolve_);
  }
  if (!file) {
    if (file.error() == Miss::kFailed) {
      return ErrorResponse(500, "internal", "cannot open " + served + " under " + root_);
    }
    return NotFound(path);
  }

  const std::string etag = EtagOf(file->st);
  HttpResponse response;
  response.headers = {{"ETag", etag},
                      {"Cache-Control", asset ? kImmutable : kNoCache},
                      {"X-Content-Type-Options", "nosniff"}};
  if (const auto match = request.Header("if-none-match"); match && EtagMatches(*match, etag)) {
    response.status = 304;
    response.content_type.clear();
    return response;
  }
  const auto size = static_cast<std::uint64_t>(file->st.st_size);
  if (size > max_file_bytes_) {
    return ErrorResponse(500, "internal",
                         served + " is over the " + std::to_string(max_file_bytes_) + " byte limit");
  }
  auto bytes = ReadAll(file->fd.get(), size);
  if (!bytes) return ErrorResponse(500, "internal", "cannot read " + served + ": " + bytes.error().message);
  response.content_type = std::string(ContentTypeOf(served));
  response.body = std::move(*bytes);
  return response;
}

void AddStaticFileFallback(Router& router, const StaticFiles& files,
                           std::function<void(std::function<void()>)> run_blocking) {
  router.SetFallback([&files, run_blocking = std::move(run_blocking)](HandlerContext& ctx) {
    // The request stays valid until the reply is sent (api.h).
    run_blocking([&files, &request = ctx.request, reply = ctx.reply] { reply(files.Serve(request)); });
  });
}

}  // namespace milf::server
