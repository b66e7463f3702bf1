#include "server/aot_builder.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "base/file_io.h"
#include "compiler/aot/artifact_cache.h"
#include "compiler/aot/signature.h"
#include "wasm/limits.h"
#include "wasm/runner.h"

namespace milf::server {
namespace {

namespace fs = std::filesystem;

// Builds run below the server's own priority: they are background work.
constexpr int kBuildNice = 10;

struct BuildKey {
  std::string module_sha256;
  std::int64_t memory_mb = 0;
  std::string target;
  auto operator<=>(const BuildKey&) const = default;
  std::string FileStem() const { return fmt::format("{}-{}mb-{}", module_sha256, memory_mb, target); }
};

}  // namespace

struct AotBuilder::Impl {
  Impl(AotBuilderOptions builder_options, store::Store& builder_store, aot::SigningKey signing_key)
      : options(std::move(builder_options)),
        store(builder_store),
        key(std::move(signing_key)),
        public_key(key.PublicKeyHex()),
        cache(options.artifact_dir) {}

  void Log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  fs::path SignedPath(const BuildKey& build) const {
    return options.artifact_dir / "signed" / (build.FileStem() + ".milfsig");
  }
  fs::path UnsupportedPath(const BuildKey& build) const {
    return options.artifact_dir / "signed" / (build.FileStem() + ".unsupported");
  }

  void Loop();
  void Build(const BuildKey& build);
  void Push(BuildKey build);  // with mutex held

  const AotBuilderOptions options;
  store::Store& store;
  const aot::SigningKey key;
  const std::string public_key;
  aot::ArtifactCache cache;
  std::map<std::string, std::unique_ptr<aot::Toolchain>> toolchains;  // by triple

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<BuildKey> queue;
  std::set<BuildKey> queued;  // in `queue` or building
  bool building = false;
  bool stopping = false;
  std::thread thread;
};

void AotBuilder::Impl::Push(BuildKey build) {
  if (queued.contains(build)) return;
  if (queue.size() >= options.max_queued) {
    Log("artifact build queue full; dropped module " + build.module_sha256);
    return;
  }
  queued.insert(build);
  queue.push_back(std::move(build));
  changed.notify_all();
}

void AotBuilder::Impl::Loop() {
  // This thread's builds (and the compilers it starts) yield to the server.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), kBuildNice);
  std::unique_lock lock(mutex);
  for (;;) {
    changed.wait(lock, [this] { return stopping || !queue.empty(); });
    if (stopping) return;
    BuildKey build = std::move(queue.front());
    queue.pop_front();
    building = true;
    lock.unlock();
    Build(build);
    lock.lock();
    building = false;
    queued.erase(build);
    changed.notify_all();
  }
}

void AotBuilder::Impl::Build(const BuildKey& build) {
  std::error_code ignored;
  if (fs::exists(SignedPath(build), ignored) || fs::exists(UnsupportedPath(build), ignored)) return;
  const auto toolchain = toolchains.find(build.target);
  if (toolchain == toolchains.end()) return;
  // The tools are probed on first use, so a server nobody deploys to runs
  // none; a target whose compiler is missing is dropped, once.
  if (auto fingerprint = toolchain->second->Fingerprint(); !fingerprint) {
    Log("no AOT artifacts for " + build.target + ": " + fingerprint.error().message);
    const std::lock_guard lock(mutex);
    toolchains.erase(toolchain);
    return;
  }
  auto module = store.GetModule(build.module_sha256);
  if (!module) return Log("artifact of " + build.module_sha256 + ": " + module.error().message);
  wasm::Limits limits;
  limits.memory_bytes = static_cast<std::uint64_t>(build.memory_mb) << 20;
  auto instrumented = wasm::Instrument(*module, wasm::StaticLimits(limits));
  std::optional<std::string> unsupported;
  if (!instrumented) {
    unsupported = instrumented.error().message;
  } else if (auto built = cache.LoadOrBuild(instrumented->wasm, *toolchain->second); !built) {
    if (built.error().code != "unsupported" && built.error().code != "invalid") {
      return Log(fmt::format("artifact of {} for {} failed: {}", build.module_sha256, build.target,
                             built.error().message));
    }
    unsupported = built.error().message;
  } else {
    const aot::ArtifactInfo& info = built->artifact.info;
    std::vector<std::uint8_t> container = aot::SerializeArtifact(info, built->artifact.object);
    const auto envelope =
        aot::SerializeSignedArtifact(key.Sign(std::move(container), info, build.module_sha256));
    if (!WriteFileAtomically(SignedPath(build), envelope)) {
      return Log("cannot write " + SignedPath(build).string());
    }
    Log(fmt::format("built the {} artifact of module {} ({} MB) in {:.2f} s", build.target,
                    build.module_sha256, build.memory_mb, built->build_seconds));
    return;
  }
  const std::string& why = *unsupported;
  WriteFileAtomically(UnsupportedPath(build),
                      std::span(reinterpret_cast<const std::uint8_t*>(why.data()), why.size()));
  Log(fmt::format("module {} stays on the interpreter: {}", build.module_sha256, why));
}

Result<std::unique_ptr<AotBuilder>> AotBuilder::Start(AotBuilderOptions options,
                                                      store::Store& store) {
  std::error_code error;
  fs::create_directories(options.artifact_dir / "signed", error);
  if (error) return Fail("io", "cannot create " + options.artifact_dir.string() + ": " + error.message());
  fs::permissions(options.artifact_dir, fs::perms::owner_all, fs::perm_options::replace, error);
  auto key = aot::SigningKey::LoadOrCreate(options.key_path);
  if (!key) return Fail(key.error());
  std::vector<std::string> triples = options.targets;
  if (triples.empty()) triples = {"x86_64-linux-gnu", "aarch64-linux-gnu"};
  auto impl = std::make_unique<Impl>(std::move(options), store, std::move(*key));
  if (impl->options.enabled) {
    for (const std::string& triple : triples) {
      auto target = aot::FindTarget(triple);
      if (!target) return Fail("usage", "unknown AOT target " + triple);
      impl->toolchains.emplace(triple,
                               std::make_unique<aot::Toolchain>(*target, impl->options.toolchain));
    }
    Impl& running = *impl;
    impl->thread = std::thread([&running] { running.Loop(); });
  }
  return std::unique_ptr<AotBuilder>(new AotBuilder(std::move(impl)));
}

AotBuilder::AotBuilder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AotBuilder::~AotBuilder() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::string& AotBuilder::public_key_hex() const { return impl_->public_key; }

void AotBuilder::Enqueue(const std::string& module_sha256, std::int64_t memory_mb) {
  if (!impl_->options.enabled) return;
  const std::lock_guard lock(impl_->mutex);
  if (impl_->stopping) return;
  for (const auto& [triple, toolchain] : impl_->toolchains) {
    impl_->Push(BuildKey{module_sha256, memory_mb, triple});
  }
}

void AotBuilder::EnqueueMissing() {
  if (!impl_->options.enabled) return;
  auto users = impl_->store.ListUsers();
  if (!users) return impl_->Log("cannot list functions to build: " + users.error().message);
  for (const store::User& user : *users) {
    auto functions = impl_->store.ListFunctions(user.id);
    if (!functions) continue;
    for (const store::Function& function : *functions) {
      auto versions = impl_->store.ListVersions(user.id, function.name);
      if (!versions || versions->empty()) continue;
      const auto latest = std::max_element(
          versions->begin(), versions->end(),
          [](const auto& a, const auto& b) { return a.version < b.version; });
      Enqueue(latest->module_sha256, latest->settings.memory_mb);
    }
  }
}

ArtifactLookup AotBuilder::Find(const std::string& module_sha256, std::int64_t memory_mb,
                                const std::string& target) {
  ArtifactLookup lookup;
  const BuildKey build{module_sha256, memory_mb, target};
  {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->toolchains.contains(target)) {
      lookup.state = ArtifactLookup::State::kUnknownTarget;
      lookup.message = impl_->options.enabled ? "this server builds no artifacts for " + target
                                              : "this server builds no AOT artifacts";
      return lookup;
    }
  }
  if (auto bytes = ReadFileBytes(impl_->SignedPath(build))) {
    lookup.state = ArtifactLookup::State::kReady;
    lookup.signed_artifact = std::move(*bytes);
  } else if (auto why = ReadFileBytes(impl_->UnsupportedPath(build))) {
    lookup.state = ArtifactLookup::State::kUnsupported;
    lookup.message.assign(why->begin(), why->end());
  }
  return lookup;
}

void AotBuilder::WaitIdle() {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [this] {
    return impl_->stopping || (impl_->queue.empty() && !impl_->building);
  });
}

}  // namespace milf::server
