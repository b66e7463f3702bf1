#include "server/server.h"

#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "compiler/source/source_compiler.h"
#include "server/aot_builder.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/static_files.h"

namespace milf::server {
namespace {

namespace net = boost::asio;

constexpr std::string_view kAdminName = "admin";
constexpr std::size_t kGeneratedPasswordChars = 20;
// How long Stop waits for connections to close cleanly before cutting them.
constexpr auto kStopGrace = std::chrono::seconds(2);
// Compiles that may run at once; more are refused with 503.
constexpr int kCompileSlots = 2;

Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("io", dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return {};
}

std::string UrlFor(const std::string& listen, std::uint16_t port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "127.0.0.1";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace

struct Server::Key {};

struct Server::Impl {
  explicit Impl(ServerOptions server_options)
      : options(std::move(server_options)),
        clock(options.clock != nullptr ? *options.clock : SystemClock()),
        // Compiles get threads of their own, so they never hold up the
        // other blocking work (password hashing, module checks).
        blocking(static_cast<std::size_t>(std::max(1, options.blocking_threads) +
                                          kCompileSlots)) {}

  ~Impl() { Stop(); }

  Status Open();
  compiler::SourceCompiler* SourceCompilerOnce();
  Status EnsureAdmin();
  Status Listen();
  void RunIoThread();
  void Stop();

  ServerOptions options;
  const Clock& clock;
  std::unique_ptr<store::Store> store;
  Metrics metrics;
  EventBus events;
  std::unique_ptr<JwtSigner> signer;
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<LoginRateLimiter> login_limiter;
  std::unique_ptr<AotBuilder> aot;
  std::unique_ptr<ApiContext> api;
  // The compiler service, set up by the first compile (docs/compiler.md).
  std::once_flag compiler_once;
  std::unique_ptr<compiler::SourceCompiler> source_compiler;
  std::unique_ptr<StaticFiles> web;
  Router router;
  // After everything connections reference (a connection left over at
  // shutdown dies with the io_context) and before what owns timers or
  // sockets on it (the scheduler, the acceptor), which must die first.
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::thread_pool blocking;
  std::unique_ptr<Scheduler> scheduler;
  bool scheduler_started = false;
  std::unique_ptr<HttpServer> http;
  std::vector<std::thread> threads;

  std::uint16_t port = 0;
  std::optional<std::string> generated_password;

  std::mutex mutex;
  std::condition_variable changed;
  int running_threads = 0;
  bool stopping = false;
  bool stopped = false;
};

Status Server::Impl::Open() {
  if (auto made = MakeDataDir(options.data_dir); !made) return made;
  const std::filesystem::path dir(options.data_dir);
  auto opened = store::OpenSqliteStore((dir / "milf.db").string());
  if (!opened) return Fail("internal", "store: " + opened.error().message);
  store = std::move(*opened);
  auto secret = LoadOrCreateJwtSecret((dir / "jwt.key").string());
  if (!secret) return Fail(secret.error());
  signer = std::make_unique<JwtSigner>(std::move(*secret));
  authenticator = std::make_unique<Authenticator>(*store, *signer, clock);
  login_limiter = std::make_unique<LoginRateLimiter>(clock);
  AotBuilderOptions aot_options;
  aot_options.enabled = options.aot_builds;
  aot_options.artifact_dir = dir / "artifacts";
  aot_options.key_path = dir / "aot-signing.key";
  aot_options.targets = options.aot_targets;
  aot_options.log = [](const std::string& line) { std::cerr << "milf server: " << line << "\n"; };
  auto builder = AotBuilder::Start(std::move(aot_options), *store);
  if (!builder) return Fail("io", "AOT artifacts: " + builder.error().message);
  aot = std::move(*builder);
  aot->EnqueueMissing();
  return EnsureAdmin();
}

compiler::SourceCompiler* Server::Impl::SourceCompilerOnce() {
  std::call_once(compiler_once, [this] {
    const std::filesystem::path dir(options.data_dir);
    compiler::SourceCompilerOptions compiler_options;
    compiler_options.toolchain = compiler::DefaultToolchain();
    compiler_options.cache_dir = (dir / "compile-cache").string();
    compiler_options.scratch_dir = (dir / "compile-scratch").string();
    compiler_options.max_concurrent = kCompileSlots;
    auto created = compiler::SourceCompiler::Create(std::move(compiler_options));
    if (!created) {
      std::cerr << "milf server: compiler service off: " << created.error().message << "\n";
      return;
    }
    source_compiler = std::move(*created);
  });
  return source_compiler.get();
}

Status Server::Impl::EnsureAdmin() {
  auto users = store->ListUsers();
  if (!users) return Fail("internal", "store: " + users.error().message);
  for (const store::User& user : *users) {
    if (user.role == store::Role::kAdmin) return {};
  }
  std::string password;
  if (options.admin_password) {
    password = *options.admin_password;
  } else if (const char* env = std::getenv("MILF_ADMIN_PASSWORD"); env != nullptr && *env != 0) {
    password = env;
  } else {
    password = RandomBase62(kGeneratedPasswordChars);
    const auto path = (std::filesystem::path(options.data_dir) / "admin-password").string();
    if (auto written = WritePrivateFile(path, password + "\n"); !written) return written;
    generated_password = password;
  }
  auto hash = HashPassword(password);
  if (!hash) return Fail(hash.error());
  const store::Millis now = clock.RealtimeNanos() / 1'000'000;
  if (auto created = store->CreateUser(std::string(kAdminName), store::Role::kAdmin, *hash, now);
      !created) {
    return Fail("internal", "cannot create the admin account: " + created.error().message);
  }
  if (generated_password && options.announce != nullptr) {
    *options.announce << "Created the administrator 'admin' with password: " << password
                      << "\n(also in " << options.data_dir << "/admin-password)" << std::endl;
  }
  return {};
}

Status Server::Impl::Listen() {
  api = std::make_unique<ApiContext>(ApiContext{
      *store, clock, *signer, *authenticator, *login_limiter, metrics,
      [this](std::function<void()> work_item) {
        net::post(blocking, [work_item = std::move(work_item)] {
          // A throwing task loses its reply, which answers 500 by itself.
          try {
            work_item();
          } catch (...) {
          }
        });
      },
      options.access_token_ttl_seconds});
  api->node_online_window_ms = options.scheduler.lease_ms;
  api->aot_public_key = aot->public_key_hex();
  api->module_deployed = [builder = aot.get()](const std::string& sha256, std::int64_t memory_mb) {
    builder->Enqueue(sha256, memory_mb);
  };
  options.scheduler.aot_public_key = aot->public_key_hex();

  scheduler = std::make_unique<Scheduler>(*store, events, metrics, clock, options.scheduler);
  metrics.SetGaugeSource([scheduler = scheduler.get()] { return scheduler->gauges(); });
  AddHealthRoutes(router, metrics);
  AddAuthRoutes(router, *api);
  AddUserRoutes(router, *api);
  AddKeyRoutes(router, *api);
  AddNodeRoutes(router, *api);
  AddFunctionRoutes(router, *api);
  AddModuleRoutes(router, *api);
  AddSourceRoutes(router, *api, [this] { return SourceCompilerOnce(); });
  AddArtifactRoutes(router, *api, *aot);
  AddInvocationRoutes(router, *scheduler, *store);
  if (!options.web_root.empty()) {
    auto files = StaticFiles::Open(options.web_root);
    if (!files) return Fail(files.error());
    web = std::move(*files);
    AddStaticFileFallback(router, *web, api->run_blocking);
  }

  http = std::make_unique<HttpServer>(io, options.http, router, *authenticator, *scheduler, events,
                                      metrics);
  auto bound = http->Listen(options.listen);
  if (!bound) return Fail(bound.error());
  port = *bound;

  work.emplace(io.get_executor());
  scheduler->Start(io);
  scheduler_started = true;
  const int count = std::max(1, options.io_threads);
  running_threads = count;
  for (int i = 0; i < count; ++i) threads.emplace_back([this] { RunIoThread(); });
  return {};
}

void Server::Impl::RunIoThread() {
  // A handler that throws must not take the server down: log and go on.
  while (true) {
    try {
      io.run();
      break;
    } catch (const std::exception& error) {
      std::cerr << "milf server: unexpected exception in an I/O handler: " << error.what() << "\n";
    } catch (...) {
      std::cerr << "milf server: unexpected exception in an I/O handler\n";
    }
  }
  const std::lock_guard lock(mutex);
  --running_threads;
  changed.notify_all();
}

void Server::Impl::Stop() {
  {
    std::unique_lock lock(mutex);
    if (stopping) {
      changed.wait(lock, [this] { return stopped; });
      return;
    }
    stopping = true;
  }
  if (http) http->Stop();
  if (scheduler_started) scheduler->Stop();
  blocking.join();
  aot.reset();
  work.reset();
  {
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, kStopGrace, [this] { return running_threads == 0; })) {
      io.stop();
    }
  }
  for (std::thread& thread : threads) thread.join();
  threads.clear();
  const std::lock_guard lock(mutex);
  stopped = true;
  changed.notify_all();
}

Server::Server(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto opened = impl->Open(); !opened) return Fail(opened.error());
  if (auto listening = impl->Listen(); !listening) return Fail(listening.error());
  return std::make_unique<Server>(Key{}, std::move(impl));
}

std::uint16_t Server::port() const { return impl_->port; }

std::string Server::url() const { return UrlFor(impl_->options.listen, impl_->port); }

std::optional<std::string> Server::generated_admin_password() const {
  return impl_->generated_password;
}

store::Store& Server::store() { return *impl_->store; }
EventBus& Server::events() { return impl_->events; }
Metrics& Server::metrics() { return impl_->metrics; }

void Server::Stop() { impl_->Stop(); }

void Server::Wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace milf::server
