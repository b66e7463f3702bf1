// ModuleCache: modules instrumented and compiled once, then shared by every
// run of the same bytes under the same static limits. Keyed by the SHA-256 of
// the module bytes plus the InstrumentOptions, so a cache hit skips decoding,
// validation, instrumentation and compilation entirely.
//
// The cache holds modules of one Engine and must be destroyed before it.
// Not safe for concurrent use (neither is the Engine).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "wasm/engine.h"
#include "wasm/instrument.h"

namespace milf::wasm {

struct LoadedModule {
  std::string sha256;  // of the original (uninstrumented) bytes
  std::shared_ptr<const CompiledModule> compiled;
  std::vector<std::string> function_names;  // see InstrumentedModule
};

class ModuleCache {
 public:
  // Keeps at most `capacity` modules, evicting the least recently used.
  explicit ModuleCache(Engine& engine, std::size_t capacity = 32);

  // The compiled module for `wasm`, from the cache or freshly built.
  // Errors: kInvalidModule, kMemoryLimit, kTableLimit (see Instrument).
  Result<std::shared_ptr<const LoadedModule>, Failure> Load(std::span<const std::uint8_t> wasm,
                                                            const InstrumentOptions& options);

  // The module with this SHA-256 if it is cached under these options.
  std::shared_ptr<const LoadedModule> Find(const std::string& sha256,
                                           const InstrumentOptions& options);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const LoadedModule>>;
  static std::string Key(const std::string& sha256, const InstrumentOptions& options);

  Engine& engine_;
  const std::size_t capacity_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace milf::wasm
