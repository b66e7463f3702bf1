// AOT artifacts and their cache: the container format, verification before
// loading, rebuilds after tampering, concurrent builders, the cache
// directory, and wasm2c's name mangling.
#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "aot_test_support.h"
#include "base/sha256.h"
#include "compiler/aot/artifact.h"
#include "compiler/aot/artifact_cache.h"
#include "compiler/aot/glue_writer.h"
#include "support/wat.h"
#include "wasm/aot/aot_engine.h"

namespace milf::wasm {
namespace {

namespace fs = std::filesystem;
using milf::testing::Wasm;
using testing::ScratchDir;

std::vector<std::uint8_t> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(Artifact, RoundTripsItsHeaderAndObject) {
  const std::vector<std::uint8_t> object = {0x7f, 'E', 'L', 'F', 1, 2, 3};
  const aot::ArtifactInfo info{"x86_64-linux-gnu", std::string(64, 'a'), std::string(64, 'b')};
  auto parsed = aot::ParseArtifact(aot::SerializeArtifact(info, object));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->info.target, info.target);
  EXPECT_EQ(parsed->info.module_sha256, info.module_sha256);
  EXPECT_EQ(parsed->info.toolchain, info.toolchain);
  EXPECT_EQ(parsed->object, object);
}

TEST(Artifact, EveryCorruptionIsCaught) {
  const std::vector<std::uint8_t> object(1000, 0x90);
  const std::vector<std::uint8_t> good =
      aot::SerializeArtifact({"x86_64-linux-gnu", "m", "t"}, object);
  // Any single flipped bit anywhere is refused (or, in a header value the
  // check does not cover, changes what the artifact says it is).
  for (std::size_t i = 0; i < good.size(); i += 7) {
    std::vector<std::uint8_t> bad = good;
    bad[i] ^= 0x10;
    auto parsed = aot::ParseArtifact(bad);
    if (parsed.ok()) {
      EXPECT_TRUE(parsed->info.target != "x86_64-linux-gnu" || parsed->info.module_sha256 != "m" ||
                  parsed->info.toolchain != "t")
          << "flip at " << i << " went unnoticed";
    } else {
      EXPECT_EQ(parsed.error().code, "corrupt");
    }
  }
  for (std::size_t cut : {0ul, 5ul, 12ul, good.size() / 2, good.size() - 1}) {
    EXPECT_FALSE(aot::ParseArtifact(std::span(good.data(), cut)).ok()) << "cut at " << cut;
  }
  std::vector<std::uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(aot::ParseArtifact(longer).ok());
  std::vector<std::uint8_t> huge_header = good;
  huge_header[8] = 0xff;
  huge_header[9] = 0xff;
  huge_header[10] = 0xff;
  EXPECT_FALSE(aot::ParseArtifact(huge_header).ok());
}

TEST(GlueWriter, MangleNamesAsWasm2cDoes) {
  EXPECT_EQ(aot::MangleName("env"), "Z_env");
  EXPECT_EQ(aot::MangleName(""), "Z_");
  EXPECT_EQ(aot::MangleName("Z"), "Z_Z5A");
  EXPECT_EQ(aot::MangleName("fd_write"), "Z_fd_write");
  EXPECT_EQ(aot::MangleName("a-b\xc3\xbf"), "Z_aZ2DbZC3ZBF");
  EXPECT_EQ(aot::MangleName(std::string_view("\0x", 2)), "Z_Z00x");
}

TEST(GlueWriter, ElementSegmentsMoveAheadOfDataSegments) {
  std::string source =
      "void Z_m_instantiate(Z_m_instance_t* instance) {\n"
      "  init_globals(instance);\n  init_memories(instance);\n  init_tables(instance);\n}\n";
  ASSERT_TRUE(aot::ApplyElementSegmentsFirst(source));
  EXPECT_NE(source.find("init_tables(instance);\n  init_memories(instance);"), std::string::npos);
  std::string no_tables = "  init_globals(instance);\n  init_memories(instance);\n";
  EXPECT_FALSE(aot::ApplyElementSegmentsFirst(no_tables));
  EXPECT_EQ(no_tables, "  init_globals(instance);\n  init_memories(instance);\n");
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ArtifactCache, DefaultDirFollowsXdgThenHome) {
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/var/cache/someone");
    EXPECT_EQ(aot::ArtifactCache::DefaultDir(), fs::path("/var/cache/someone/milf/aot"));
  }
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    EXPECT_EQ(aot::ArtifactCache::DefaultDir(), fs::path("/home/someone/.cache/milf/aot"));
  }
  {
    // The XDG spec says relative paths are invalid and must be ignored.
    ScopedEnv xdg("XDG_CACHE_HOME", "relative/cache");
    EXPECT_EQ(aot::ArtifactCache::DefaultDir(), fs::path("/home/someone/.cache/milf/aot"));
  }
}

constexpr std::string_view kModule = R"((module
  (func (export "answer") (result i32) i32.const 42)))";

class AotCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> NewEngine() {
    AotOptions options;
    options.cache_dir = dir_.path();
    options.on_event = [this](const AotEvent& event) { events_.push_back(event); };
    return NewAotEngine(std::move(options));
  }

  // Compiles kModule on a fresh engine and checks it still answers.
  void CompileAndRun() {
    auto engine = NewEngine();
    auto module = engine->Compile(Wasm(kModule));
    ASSERT_TRUE(module.ok()) << module.error().message;
    auto instance = engine->Instantiate(*module, {});
    ASSERT_TRUE(instance.ok()) << instance.error().message;
    auto answer = (*instance)->Call("answer", {});
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ((*answer)[0].i32(), 42u);
  }

  std::vector<AotEvent::Kind> Kinds() const {
    std::vector<AotEvent::Kind> kinds;
    for (const AotEvent& event : events_) kinds.push_back(event.kind);
    return kinds;
  }

  ScratchDir dir_;
  std::vector<AotEvent> events_;
};

using Kind = AotEvent::Kind;

TEST_F(AotCacheTest, BuildsOnceThenLoadsFromTheCache) {
  CompileAndRun();
  CompileAndRun();
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kBuilt, Kind::kCacheHit}));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].path, events_[1].path);
  EXPECT_EQ(events_[0].path.parent_path(), dir_.path() / aot::HostTarget().triple);
  EXPECT_EQ(events_[0].module_sha256, Sha256Hex(Wasm(kModule)));
  EXPECT_TRUE(fs::exists(events_[0].path));
}

TEST_F(AotCacheTest, ATamperedArtifactIsRefusedAndRebuilt) {
  CompileAndRun();
  const fs::path path = events_.at(0).path;
  std::vector<std::uint8_t> bytes = ReadBytes(path);
  // Patch the shared object's code: the header still claims the old hash.
  bytes[bytes.size() - 300] ^= 0xff;
  WriteBytes(path, bytes);
  CompileAndRun();
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kBuilt, Kind::kRejected, Kind::kBuilt}));
  EXPECT_NE(events_[1].detail.find("SHA-256"), std::string::npos) << events_[1].detail;
  CompileAndRun();
  EXPECT_EQ(events_.back().kind, Kind::kCacheHit) << "the rebuilt artifact is good";
}

TEST_F(AotCacheTest, TruncatedGarbageOrForeignArtifactsAreRefused) {
  CompileAndRun();
  const fs::path path = events_.at(0).path;
  const std::vector<std::uint8_t> good = ReadBytes(path);
  // Another module's valid artifact, renamed into this one's place.
  auto other_engine = NewEngine();
  ASSERT_TRUE(other_engine->Compile(Wasm("(module (func (export \"x\")))")).ok());
  const std::vector<std::uint8_t> foreign = ReadBytes(events_.back().path);
  const std::vector<std::vector<std::uint8_t>> bad = {
      std::vector<std::uint8_t>(good.begin(), good.begin() + good.size() / 2),
      std::vector<std::uint8_t>(4096, 0x5a),
      {},
      foreign,
  };
  for (const auto& contents : bad) {
    events_.clear();
    WriteBytes(path, contents);
    CompileAndRun();
    EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kRejected, Kind::kBuilt}));
  }
}

TEST_F(AotCacheTest, ConcurrentBuildersOfOneKeyAllSucceed) {
  const std::vector<std::uint8_t> wasm = Wasm(kModule);
  const aot::Toolchain toolchain(aot::HostTarget());
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      aot::ArtifactCache cache(dir_.path());  // as separate processes would
      auto outcome = cache.LoadOrBuild(wasm, toolchain);
      ok[i] = outcome.ok() && !outcome->artifact.object.empty();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
  auto path = aot::ArtifactCache(dir_.path()).PathFor(wasm, toolchain);
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(aot::ParseArtifact(ReadBytes(*path)).ok());
  // Nothing half-written is left behind.
  for (const auto& entry : fs::directory_iterator(path->parent_path())) {
    EXPECT_EQ(entry.path().extension(), ".milfaot") << entry.path();
  }
  CompileAndRun();
  EXPECT_EQ(Kinds(), (std::vector<Kind>{Kind::kCacheHit}));
}

TEST_F(AotCacheTest, AnUnusableCacheDirectoryIsAnErrorNotACrash) {
  const fs::path blocker = dir_.path() / "not-a-directory";
  WriteBytes(blocker, {1, 2, 3});
  AotOptions options;
  options.cache_dir = blocker / "aot";
  auto engine = NewAotEngine(options);
  auto module = engine->Compile(Wasm(kModule));
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().status, RunStatus::kInternalError);
  EXPECT_NE(module.error().message.find("not-a-directory"), std::string::npos)
      << module.error().message;
}

TEST_F(AotCacheTest, AMissingCompilerIsReportedNotFatal) {
  AotOptions options;
  options.cache_dir = dir_.path();
  options.toolchain.wasm2c = "/nonexistent/wasm2c";
  auto engine = NewAotEngine(options);
  auto module = engine->Compile(Wasm(kModule));
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.error().status, RunStatus::kInternalError);
  EXPECT_NE(module.error().message.find("wasm2c"), std::string::npos) << module.error().message;
}

}  // namespace
}  // namespace milf::wasm
