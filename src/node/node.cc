#include "node/node.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/random.h"
#include "compiler/aot/toolchain.h"
#include "node/artifact_store.h"
#include "node/connection.h"
#include "node/enrollment.h"
#include "node/device_profile.h"
#include "node/job_runner.h"
#include "node/module_store.h"
#include "node/policy.h"
#include "node/server_url.h"
#include "node/telemetry.h"
#include "sandbox/pool.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;

// What a worker needs besides a job's linear memory: code, heap, the
// compiled module (as `milf run` reserves).
constexpr std::uint64_t kWorkerBaseMemoryBytes = 256ull << 20;
constexpr int kMaxSlots = 1024;

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "node";
  return name;
}

Status PrepareDataDir(const fs::path& dir) {
  std::error_code error;
  const bool created = fs::create_directories(dir, error);
  if (error) return Fail("io", "cannot create " + dir.string() + ": " + error.message());
  // A directory of our own holds the node's secret: private. An existing
  // one is left as the operator made it (credential.json is 0600 anyway).
  if (created && ::chmod(dir.c_str(), 0700) != 0) {
    return Fail("io", "cannot restrict " + dir.string());
  }
  return {};
}

std::function<void(const std::string&)> StderrLog() {
  return [mutex = std::make_shared<std::mutex>()](const std::string& line) {
    std::lock_guard lock(*mutex);
    std::cerr << "milf node: " << line << std::endl;
  };
}

}  // namespace

struct Node::Parts {
  std::unique_ptr<ModuleStore> store;
  std::unique_ptr<ArtifactStore> artifacts;
  std::unique_ptr<sandbox::Pool> pool;
  std::unique_ptr<JobExecutor> executor;
  std::unique_ptr<JobRunner> runner;
  std::unique_ptr<TelemetrySource> telemetry;
  std::unique_ptr<RandomSource> jitter;
  std::unique_ptr<Connection> connection;
  std::thread thread;
  Status status;
  bool joined = false;
};

Result<std::unique_ptr<Node>> Node::Start(NodeOptions options) {
  if (options.slots < 1 || options.slots > kMaxSlots) {
    return Fail("usage", "--slots must be between 1 and " + std::to_string(kMaxSlots));
  }
  if (!options.log) options.log = StderrLog();
  if (options.name.empty()) options.name = HostName();
  if (options.data_dir.empty()) options.data_dir = DefaultDataDir();
  auto server = ParseServerUrl(options.server);
  if (!server) return Fail(std::move(server).error());

  AgentOptions agent;
  agent.name = options.name;
  agent.target = HostTarget();
  agent.slots = options.slots;
  agent.max_job_memory_mb = options.max_job_memory_mb;
  agent.log = options.log;
  if (!options.policy.empty()) {
    auto policy = LoadPolicy(options.policy);
    if (!policy) return Fail(std::move(policy).error());
    agent.policy = *policy;
  }
  std::optional<DeviceProfile> profile;
  if (!options.device_profile.empty()) {
    auto loaded = LoadDeviceProfile(options.device_profile);
    if (!loaded) return Fail(std::move(loaded).error());
    profile = *loaded;
  }
  if (auto prepared = PrepareDataDir(options.data_dir); !prepared) return Fail(prepared.error());

  auto parts = std::make_unique<Parts>();
  ModuleStoreOptions store_options;
  store_options.disk_budget_bytes = options.module_cache_mb << 20;
  auto store = ModuleStore::Open(options.data_dir / "modules", store_options);
  if (!store) return Fail(std::move(store).error());
  parts->store = std::move(*store);

  ArtifactStoreOptions artifact_options;
  artifact_options.dir = options.data_dir / "artifacts";
  artifact_options.target = aot::HostTarget().triple;
  artifact_options.server = server->text;
  artifact_options.data_dir = options.data_dir;
  artifact_options.log = options.log;
  auto artifacts = ArtifactStore::Open(std::move(artifact_options));
  if (!artifacts) return Fail(std::move(artifacts).error());
  parts->artifacts = std::move(*artifacts);
  // The key pinned at enrollment, when the node already enrolled.
  if (auto credential = LoadCredential(options.data_dir); credential && *credential) {
    parts->artifacts->UseServerKey((*credential)->aot_public_key);
  }
  agent.artifacts = parts->artifacts.get();

  sandbox::PoolOptions pool_options;
  pool_options.aot = true;
  if (options.worker_command.empty()) {
    auto self = sandbox::SelfWorkerCommand();
    if (!self) return Fail(std::move(self).error());
    pool_options.worker_command = std::move(*self);
  } else {
    pool_options.worker_command = options.worker_command;
  }
  pool_options.workers = static_cast<std::size_t>(options.slots);
  pool_options.worker_memory_bytes = 2 * (options.max_job_memory_mb << 20) + kWorkerBaseMemoryBytes;
  pool_options.warn = [log = options.log](const std::string& warning) { log("warning: " + warning); };
  auto pool = sandbox::Pool::Start(std::move(pool_options));
  if (!pool) return Fail(std::move(pool).error());
  parts->pool = std::move(*pool);
  parts->executor = NewPoolExecutor(*parts->pool);
  parts->runner = std::make_unique<JobRunner>(*parts->executor, options.slots);

  parts->telemetry = NewHostTelemetry(NewRootedSensorFiles(options.sensor_root));
  if (profile) {
    parts->telemetry = NewProfiledTelemetry(*profile, std::move(parts->telemetry), SystemClock());
  }
  parts->jitter = NewSystemRandom();

  ConnectionOptions connection;
  connection.server = *server;
  connection.enrollment_token = options.token;
  connection.data_dir = options.data_dir;
  connection.backoff = options.backoff;
  connection.log = options.log;
  parts->connection = std::make_unique<Connection>(std::move(connection), std::move(agent),
                                                   *parts->store, *parts->runner,
                                                   *parts->telemetry, *parts->jitter);
  Parts& running = *parts;
  running.thread = std::thread([&running] {
    running.status = running.connection->Run();
    // Jobs still running report through the connection: let them end first.
    running.runner->WaitIdle();
  });
  return std::unique_ptr<Node>(new Node(std::move(parts)));
}

Node::Node(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Node::~Node() {
  Stop();
  (void)Wait();
}

void Node::Stop() { parts_->connection->Stop(); }

Status Node::Wait() {
  if (!parts_->joined) {
    parts_->thread.join();
    parts_->joined = true;
  }
  return parts_->status;
}

fs::path DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "milf" / "node";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return fs::path(home) / ".local" / "share" / "milf" / "node";
  }
  std::error_code error;
  const fs::path here = fs::current_path(error);
  return (error ? fs::path(".") : here) / "milf-node-data";
}

std::string HostTarget() {
  utsname host{};
  if (::uname(&host) != 0) return "unknown-linux";
  return std::string(host.machine) + "-linux";
}

}  // namespace milf::node
