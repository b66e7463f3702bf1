// HttpClient: HTTP/1.1 requests to one server over a kept-alive connection.
//
// Every request has a deadline covering connect, send and receive; a request
// past it fails with code "timeout". Bodies either come from memory or are
// streamed from a BodySource in chunks, reporting progress as they go, so a
// large module upload never has to sit in memory twice.
//
// A server that answers before it has read the whole body (413 for an
// oversized upload) and closes gets its answer returned, not the broken pipe.
//
// The connection is opened lazily and reused while the server keeps it
// alive. When a reused connection turns out to be closed before any byte of
// the answer arrived (the server dropped an idle connection), the request is
// sent once more on a fresh one; in-memory and rewindable bodies only.
//
// Transport: plain TCP. The I/O is written over a generic stream so that a
// TLS stream can be added; until then an https:// URL fails with code
// "unsupported" at construction.
//
// Errors (Error::code): "connect" (resolve or connect failed), "timeout",
// "io" (the connection broke), "protocol" (not a valid HTTP answer),
// "too_large" (answer over max_response_bytes), "unsupported", and whatever
// a BodySource returns. An HTTP error status is not an error here: callers
// get the response and decide.
//
// Thread-safety: not safe for concurrent use; give each thread its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "client/url.h"

namespace milf::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request body read in order, chunk by chunk.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual std::uint64_t size() const = 0;
  // Copies the next bytes into `out`; returns how many (0 only at the end).
  virtual Result<std::size_t> Read(std::span<char> out) = 0;
  // Starts over from the first byte; false if the source cannot.
  virtual bool Rewind() = 0;
};

// The file's bytes, read as the upload goes. Fails with code "io".
Result<std::unique_ptr<BodySource>> FileBody(const std::string& path);

// (bytes sent, bytes total)
using ProgressFn = std::function<void(std::uint64_t, std::uint64_t)>;

struct HttpRequest {
  std::string method = "GET";
  std::string target;              // path and query, e.g. "/api/v1/functions?x=1"
  Headers headers;                 // extra headers (Authorization, ...)
  std::string content_type;        // set when there is a body
  std::string body;                // used when `stream` is null
  BodySource* stream = nullptr;    // not owned; must outlive the call
  ProgressFn progress;             // called as a streamed body goes out
  std::optional<std::int64_t> timeout_ms;  // overrides HttpClientOptions
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  Headers headers;  // names lowercased
  std::string body;

  // The first header named `lowercase_name`.
  std::optional<std::string> Header(std::string_view lowercase_name) const;
};

struct HttpClientOptions {
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t request_timeout_ms = 60'000;  // whole request, connect included
  std::uint64_t max_response_bytes = 256ull << 20;
  std::string user_agent = "milf/0.1.0";
};

class HttpClient {
 public:
  // Fails with "unsupported" for https:// URLs.
  static Result<std::unique_ptr<HttpClient>> Create(ServerUrl url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` (its target is appended to the URL's base path) and
  // returns the answer, whatever its status.
  Result<HttpResponse> Send(const HttpRequest& request);

  const ServerUrl& url() const;

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::client
