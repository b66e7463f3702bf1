#include "node/artifact_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/file_io.h"
#include "client/http_client.h"
#include "compiler/aot/signature.h"
#include "node/enrollment.h"

namespace milf::node {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kMaxRetry = std::chrono::seconds(60);
constexpr std::int64_t kDownloadTimeoutMs = 60'000;

struct Key {
  std::string module_sha256;
  std::int64_t memory_mb = 0;
  auto operator<=>(const Key&) const = default;
};

// Where a download stands.
struct Fetch {
  Clock::time_point not_before{};
  Clock::duration backoff = kFirstRetry;
  bool queued = false;
  bool never = false;  // the server cannot build it
};

}  // namespace

struct ArtifactStore::Impl {
  explicit Impl(ArtifactStoreOptions store_options) : options(std::move(store_options)) {}

  void Log(const std::string& line) const {
    if (options.log) options.log(line);
  }
  fs::path PathOf(const Key& key) const {
    return options.dir / fmt::format("{}-{}mb.milfsig", key.module_sha256, key.memory_mb);
  }

  // The verified container, or why not.
  Result<Bytes> Verify(const Key& key, std::span<const std::uint8_t> signed_bytes) const;
  void Refuse(const Key& key, const std::string& why);
  void Download(const Key& key);
  void Loop();

  const ArtifactStoreOptions options;
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::string pinned_key;
  std::map<Key, Bytes> verified;
  std::map<Key, Fetch> fetches;
  std::deque<Key> queue;
  bool downloading = false;
  bool stopping = false;
  std::uint64_t refused = 0;
  std::unique_ptr<client::HttpClient> http;  // the download thread's
  std::thread thread;
};

Result<ArtifactStore::Bytes> ArtifactStore::Impl::Verify(const Key& key,
                                                         std::span<const std::uint8_t> signed_bytes) const {
  std::string public_key;
  {
    const std::lock_guard lock(mutex);
    public_key = pinned_key;
  }
  if (public_key.empty()) return Fail("refused", "no server signing key is pinned");
  auto parsed = aot::ParseSignedArtifact(signed_bytes);
  if (!parsed) return Fail("refused", parsed.error().message);
  auto artifact = aot::VerifySignedArtifact(*parsed, public_key, key.module_sha256, options.target);
  if (!artifact) return Fail(artifact.error());
  return std::make_shared<const std::vector<std::uint8_t>>(std::move(parsed->artifact));
}

void ArtifactStore::Impl::Refuse(const Key& key, const std::string& why) {
  std::error_code ignored;
  fs::remove(PathOf(key), ignored);
  {
    const std::lock_guard lock(mutex);
    ++refused;
  }
  Log(fmt::format("refused the AOT artifact of module {} ({} MB): {}; it runs on the interpreter",
                  key.module_sha256, key.memory_mb, why));
}

void ArtifactStore::Impl::Download(const Key& key) {
  auto credential = LoadCredential(options.data_dir);
  if (!http) {
    auto url = client::ParseServerUrl(options.server);
    if (url) {
      client::HttpClientOptions http_options;
      http_options.request_timeout_ms = kDownloadTimeoutMs;
      if (auto created = client::HttpClient::Create(*url, http_options)) http = std::move(*created);
    }
  }
  int status = 0;
  std::optional<Bytes> stored;
  if (http && credential && *credential) {
    client::HttpRequest request;
    request.target = fmt::format("/api/v1/artifacts/{}/{}?memory_mb={}", key.module_sha256,
                                 options.target, key.memory_mb);
    request.headers.emplace_back("Authorization", AuthorizationHeader(**credential));
    auto response = http->Send(request);
    if (!response) http.reset();
    status = response ? response->status : 0;
    if (status == 200) {
      const std::span<const std::uint8_t> body(
          reinterpret_cast<const std::uint8_t*>(response->body.data()), response->body.size());
      auto checked = Verify(key, body);
      if (!checked) {
        Refuse(key, checked.error().message);
      } else if (!WriteFileAtomically(PathOf(key), body)) {
        Log("cannot store " + PathOf(key).string());
      } else {
        stored = *checked;
      }
    }
  }
  const std::lock_guard lock(mutex);
  Fetch& fetch = fetches[key];
  fetch.queued = false;
  if (stored) {
    verified[key] = *stored;
    fetches.erase(key);
    Log(fmt::format("AOT artifact of module {} ({} MB) ready", key.module_sha256, key.memory_mb));
    return;
  }
  if (status == 422) {
    fetch.never = true;
    return;
  }
  fetch.not_before = Clock::now() + fetch.backoff;
  fetch.backoff = std::min<Clock::duration>(2 * fetch.backoff, kMaxRetry);
}

void ArtifactStore::Impl::Loop() {
  std::unique_lock lock(mutex);
  for (;;) {
    changed.wait(lock, [this] { return stopping || !queue.empty(); });
    if (stopping) return;
    const Key key = queue.front();
    queue.pop_front();
    downloading = true;
    lock.unlock();
    Download(key);
    lock.lock();
    downloading = false;
    changed.notify_all();
  }
}

Result<std::unique_ptr<ArtifactStore>> ArtifactStore::Open(ArtifactStoreOptions options) {
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) return Fail("io", "cannot create " + options.dir.string() + ": " + error.message());
  fs::permissions(options.dir, fs::perms::owner_all, fs::perm_options::replace, error);
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto pinned = ReadFileBytes(impl->options.dir / "server-key")) {
    impl->pinned_key.assign(pinned->begin(), pinned->end());
    if (!aot::IsPublicKeyHex(impl->pinned_key)) return Fail("io", "corrupt pinned server key");
  }
  Impl& running = *impl;
  impl->thread = std::thread([&running] { running.Loop(); });
  return std::unique_ptr<ArtifactStore>(new ArtifactStore(std::move(impl)));
}

ArtifactStore::ArtifactStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ArtifactStore::~ArtifactStore() {
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  impl_->thread.join();
}

const std::string& ArtifactStore::target() const { return impl_->options.target; }

bool ArtifactStore::UseServerKey(const std::string& public_key) {
  if (public_key.empty()) return true;
  std::unique_lock lock(impl_->mutex);
  if (impl_->pinned_key == public_key) return true;
  if (!impl_->pinned_key.empty() || !aot::IsPublicKeyHex(public_key)) {
    lock.unlock();
    impl_->Log("the server presented another artifact signing key than the pinned one; "
               "its artifacts are refused");
    return false;
  }
  impl_->pinned_key = public_key;
  lock.unlock();
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(public_key.data()),
                                            public_key.size());
  if (!WriteFileAtomically(impl_->options.dir / "server-key", bytes)) {
    impl_->Log("cannot store the pinned server key");
  }
  return true;
}

ArtifactStore::Bytes ArtifactStore::Get(const std::string& module_sha256, std::int64_t memory_mb) {
  const Key key{module_sha256, memory_mb};
  {
    const std::lock_guard lock(impl_->mutex);
    if (auto found = impl_->verified.find(key); found != impl_->verified.end()) return found->second;
  }
  if (auto bytes = ReadFileBytes(impl_->PathOf(key))) {
    auto checked = impl_->Verify(key, *bytes);
    if (checked) {
      const std::lock_guard lock(impl_->mutex);
      impl_->verified[key] = *checked;
      return *checked;
    }
    impl_->Refuse(key, checked.error().message);
  }
  const std::lock_guard lock(impl_->mutex);
  if (impl_->pinned_key.empty()) return nullptr;
  Fetch& fetch = impl_->fetches[key];
  if (fetch.queued || fetch.never || Clock::now() < fetch.not_before) return nullptr;
  fetch.queued = true;
  impl_->queue.push_back(key);
  impl_->changed.notify_all();
  return nullptr;
}

std::uint64_t ArtifactStore::refused() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->refused;
}

void ArtifactStore::WaitIdle() {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [this] { return impl_->queue.empty() && !impl_->downloading; });
}

}  // namespace milf::node
