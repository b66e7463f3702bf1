// The AOT tier inside the sandboxed worker (seccomp on): the same records,
// output and fuel as the interpreter in the same pool, deterministic mode
// and limits included; an artifact for another module falls back to the
// interpreter; the calls seccomp forbids stay forbidden in an AOT pool.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "aot_test_support.h"
#include "compiler/aot/artifact_cache.h"
#include "sandbox/pool.h"
#include "support/wat.h"
#include "wasm/instrument.h"
#include "wasm/runner.h"

namespace milf::sandbox {
namespace {

std::vector<std::uint8_t> Example(const std::string& name) {
  std::ifstream in(std::string(MILF_BINARY_DIR) + "/examples/" + name + ".wasm", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The artifact container a server would build for `module` under `limits`.
std::vector<std::uint8_t> ArtifactFor(std::span<const std::uint8_t> module, const wasm::Limits& limits) {
  auto instrumented = wasm::Instrument(module, wasm::StaticLimits(limits));
  EXPECT_TRUE(instrumented);
  if (!instrumented) return {};
  aot::ArtifactCache cache(wasm::testing::SharedAotCacheDir());
  auto built = cache.LoadOrBuild(instrumented->wasm, aot::Toolchain(aot::HostTarget()));
  EXPECT_TRUE(built) << (built ? "" : built.error().message);
  if (!built) return {};
  return aot::SerializeArtifact(built->artifact.info, built->artifact.object);
}

class AotSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PoolOptions options;
    options.worker_command = {SANDBOX_TEST_WORKER};
    options.workers = 1;
    options.aot = true;
    auto pool = Pool::Start(std::move(options));
    ASSERT_TRUE(pool) << pool.error().message;
    pool_ = std::move(*pool);
    for (const Wall& wall : pool_->walls()) {
      if (wall.name == "seccomp") {
        ASSERT_EQ(wall.state, WallState::kActive) << wall.detail;
      }
    }
  }

  // Runs `request` on both tiers; expects the AOT run to have used the
  // artifact and both records to agree.
  void ExpectSameOnBothTiers(const wasm::RunRequest& request) {
    const std::vector<std::uint8_t> artifact = ArtifactFor(request.module, request.limits);
    const wasm::RunRecord interp = pool_->Run(request);
    bool ran_aot = false;
    const wasm::RunRecord native = pool_->Run(request, artifact, &ran_aot);
    EXPECT_TRUE(ran_aot) << native.message;
    EXPECT_EQ(native.status, interp.status) << native.message << " / " << interp.message;
    EXPECT_EQ(native.exit_code, interp.exit_code);
    EXPECT_EQ(native.fuel_used, interp.fuel_used);
    EXPECT_EQ(native.stdout_data, interp.stdout_data);
    EXPECT_EQ(native.stderr_data, interp.stderr_data);
  }

  std::unique_ptr<Pool> pool_;
};

TEST_F(AotSandboxTest, ExamplesGiveTheInterpretersRecords) {
  for (const std::string name : {"hello", "sha256", "compute"}) {
    SCOPED_TRACE(name);
    const std::vector<std::uint8_t> module = Example(name);
    ASSERT_FALSE(module.empty());
    wasm::RunRequest request;
    request.module = module;
    request.input = {'a', 'b', 'c'};
    ExpectSameOnBothTiers(request);
    // Twice: the second run finds the artifact and module held by hash.
    ExpectSameOnBothTiers(request);
  }
}

TEST_F(AotSandboxTest, DeterministicModeFuelLimitsAndTimeoutsHold) {
  const std::vector<std::uint8_t> module = Example("hello");
  wasm::RunRequest request;
  request.module = module;
  request.deterministic = true;
  request.seed = 42;
  ExpectSameOnBothTiers(request);
  request.limits.fuel = 500;
  ExpectSameOnBothTiers(request);

  const auto spin = milf::testing::Wasm(R"((module (func (export "_start") (loop (br 0)))))");
  wasm::RunRequest looping;
  looping.module = spin;
  looping.limits.timeout = std::chrono::milliseconds(200);
  const std::vector<std::uint8_t> artifact = ArtifactFor(spin, looping.limits);
  bool ran_aot = false;
  const wasm::RunRecord native = pool_->Run(looping, artifact, &ran_aot);
  EXPECT_TRUE(ran_aot);
  EXPECT_EQ(native.status, wasm::RunStatus::kTimeout) << native.message;
  looping.limits.fuel = 100'000;
  ExpectSameOnBothTiers(looping);
}

TEST_F(AotSandboxTest, AnArtifactOfAnotherModuleFallsBackToTheInterpreter) {
  const std::vector<std::uint8_t> hello = Example("hello");
  wasm::RunRequest request;
  request.module = hello;
  const std::vector<std::uint8_t> wrong = ArtifactFor(Example("sha256"), request.limits);
  bool ran_aot = true;
  const wasm::RunRecord record = pool_->Run(request, wrong, &ran_aot);
  EXPECT_FALSE(ran_aot);
  EXPECT_EQ(record.status, wasm::RunStatus::kOk) << record.message;
  EXPECT_EQ(record.fuel_used, pool_->Run(request).fuel_used);
}

TEST_F(AotSandboxTest, ForbiddenCallsStillKillAnAotWorker) {
  const auto module = milf::testing::Wasm(R"((module (func (export "_start"))))");
  wasm::RunRequest warm;
  warm.module = module;
  bool ran_aot = false;
  pool_->Run(warm, ArtifactFor(module, warm.limits), &ran_aot);
  EXPECT_TRUE(ran_aot);
  for (const std::string action : {"open", "socket", "connect", "execve", "ptrace", "fork", "mount", "kill"}) {
    wasm::RunRequest request;
    request.module = module;
    request.entry = "test:" + action;
    EXPECT_EQ(pool_->Run(request).status, wasm::RunStatus::kSandboxViolation) << action;
  }
  EXPECT_EQ(pool_->Run(warm).status, wasm::RunStatus::kOk);
}

}  // namespace
}  // namespace milf::sandbox
