// Server: the central MILF server in one object. Start opens the data
// directory (the SQLite store DATA/milf.db, the JWT secret DATA/jwt.key),
// creates the `admin` account on first start, wires the HTTP API, the live
// event bus, the metrics and the scheduler together, and listens; it
// serves on its own threads until Stop.
//
// First start: when the store holds no administrator, the user `admin` is
// created with the password from ServerOptions::admin_password, else from
// $MILF_ADMIN_PASSWORD, else a generated one, which is then printed once to
// ServerOptions::announce and written to DATA/admin-password (mode 0600).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "server/event_bus.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace milf::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  std::string data_dir = "./milf-data";   // created (mode 0700) if missing
  int io_threads = 2;
  // Threads for CPU-heavy request work (password hashing, module checks).
  int blocking_threads = 2;
  // The first administrator's password; nullopt: $MILF_ADMIN_PASSWORD or
  // a generated one.
  std::optional<std::string> admin_password;
  // Where a generated admin password is announced; nullptr: nowhere (it is
  // still written to DATA/admin-password). Must outlive Start.
  std::ostream* announce = &std::cout;
  // nullptr: the system clock. Must outlive the Server.
  const Clock* clock = nullptr;
  std::int64_t access_token_ttl_seconds = 15 * 60;
  // The built dashboard, served at / for every path no API route has
  // (static_files.h); "": no dashboard. Start fails ("io") when it is not a
  // directory holding index.html.
  std::string web_root;
  HttpServerOptions http;
  SchedulerOptions scheduler;
  // AOT artifacts (docs/aot.md): built after each deploy on a background
  // thread, signed with DATA/aot-signing.key, served to nodes.
  bool aot_builds = true;
  // Targets to build for; empty: x86_64-linux-gnu, plus aarch64-linux-gnu
  // when the cross compiler is installed.
  std::vector<std::string> aot_targets;
};

class Server {
 public:
  // Error codes: "io" (data directory, key files, address in use),
  // "internal" (the store could not be opened or the admin created).
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  // Stops (see Stop) if still running.
  ~Server();
  struct Key;  // only Start makes Servers
  struct Impl;
  Server(Key, std::unique_ptr<Impl> impl);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // "http://HOST:PORT" (a wildcard host is given as 127.0.0.1).
  std::string url() const;
  // The admin password this start generated, if it generated one.
  std::optional<std::string> generated_admin_password() const;

  store::Store& store();
  EventBus& events();
  Metrics& metrics();

  // Stops accepting, closes every connection, stops the scheduler and
  // joins the server's threads (waiting up to about two seconds for
  // connections to close cleanly). Idempotent.
  void Stop();
  // Blocks until Stop has completed.
  void Wait();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace milf::server
