// StaticFiles: the files of one directory over HTTP, for the dashboard
// (`milf server --web DIR`). It answers the requests no API route has, as
// a single-page application's server does:
//  - GET or HEAD of a path naming a regular file under DIR: that file, with
//    the Content-Type of its extension and an ETag (If-None-Match with it
//    gets 304). Files under /assets/ carry a content hash in their name, so
//    they are cached for a year as immutable; any other file is "no-cache"
//    (revalidated with its ETag every time);
//  - GET or HEAD of any other path outside /assets/: DIR/index.html,
//    "no-cache", so that a deep link such as /functions/hello loads the
//    application, which routes it itself;
//  - a missing file under /assets/: 404.
// Refused, never answered with a file:
//  - the API's namespace (/api, /api/..., /healthz, /metrics): the same JSON
//    404 as any unknown route;
//  - a path with a "." or ".." segment (also when percent-encoded, since the
//    path arrives decoded) or a NUL: 400;
//  - a path that resolves outside DIR (a symlink pointing out of it): 404.
//    Files are opened through the WASI resolver confined beneath DIR
//    (openat2 RESOLVE_BENEATH, else its portable walk), so no path or
//    symlink can leave it;
//  - a file over `max_file_bytes`: 500;
//  - methods other than GET and HEAD: 405 with Allow.
// A HEAD answer carries the GET answer's body; the HTTP layer sends only
// its headers.
//
// DIR is opened by path on every request, so a dashboard rebuilt under a
// running server is served at once.
//
// Thread-safety: immutable after Open; Serve may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "server/http.h"
#include "wasm/wasi/host_resolve.h"

namespace milf::server {

class StaticFiles {
 public:
  static constexpr std::uint64_t kDefaultMaxFileBytes = 32u << 20;

  // Error "io" when `root` is not a directory holding index.html.
  static Result<std::unique_ptr<StaticFiles>> Open(
      const std::string& root, std::uint64_t max_file_bytes = kDefaultMaxFileBytes);

  StaticFiles(std::string root, std::uint64_t max_file_bytes, wasm::wasi::ResolveMode resolve);
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  const std::string& root() const { return root_; }

  // The answer to `request` (any method, any path; see above).
  HttpResponse Serve(const HttpRequest& request) const;

 private:
  const std::string root_;
  const std::uint64_t max_file_bytes_;
  const wasm::wasi::ResolveMode resolve_;
};

// Registers `files` as the router's fallback: every request whose path no
// route has is answered by files.Serve, its disk reads run through
// `run_blocking` (off the I/O threads). `files` must outlive the router.
void AddStaticFileFallback(Router& router, const StaticFiles& files,
                           std::function<void(std::function<void()>)> run_blocking);

}  // namespace milf::server
