#include "wasm/module_cache.h"

#include "base/sha256.h"

namespace milf::wasm {

ModuleCache::ModuleCache(Engine& engine, std::size_t capacity)
    : engine_(engine), capacity_(capacity == 0 ? 1 : capacity) {}

std::string ModuleCache::Key(const std::string& sha256, const InstrumentOptions& options) {
  return sha256 + "/" + std::to_string(options.max_memory_pages) + "/" +
         std::to_string(options.max_table_elements) + "/" + std::to_string(options.max_call_depth);
}

std::shared_ptr<const LoadedModule> ModuleCache::Find(const std::string& sha256,
                                                      const InstrumentOptions& options) {
  const auto it = index_.find(Key(sha256, options));
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  return it->second->second;
}

Result<std::shared_ptr<const LoadedModule>, Failure> ModuleCache::Load(
    std::span<const std::uint8_t> wasm, const InstrumentOptions& options) {
  std::string sha256 = Sha256Hex(wasm);
  if (auto cached = Find(sha256, options)) return cached;
  ++misses_;
  auto instrumented = Instrument(wasm, options);
  if (!instrumented) return Fail(std::move(instrumented).error());
  auto compiled = engine_.Compile(instrumented->wasm);
  if (!compiled) return Fail(std::move(compiled).error());
  auto loaded = std::make_shared<const LoadedModule>(LoadedModule{
      sha256, std::move(compiled).value(), std::move(instrumented->function_names)});
  const std::string key = Key(sha256, options);
  lru_.emplace_front(key, loaded);
  index_[key] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return std::shared_ptr<const LoadedModule>(loaded);
}

}  // namespace milf::wasm
