#include "node_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <iterator>

#include "support/wat.h"
#include "wasm/engine.h"

namespace milf::node::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::path(::testing::TempDir()) / "milf-node-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void WriteFile(const fs::path& root, const std::string& relative, std::string_view text) {
  const fs::path path = root / relative;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path Fixture(const std::string& name) {
  return fs::path(MILF_SOURCE_DIR) / "tests" / "node" / "fixtures" / name;
}

wasm::RunRecord InProcessExecutor::Run(const wasm::RunRequest& request) {
  ++runs_;
  wasm::Runner runner(wasm::NewInterpreterEngine());
  return runner.Run(request);
}

const std::vector<std::uint8_t>& EchoModule() {
  static const auto bytes = milf::testing::Wasm(R"((module
    (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start")
      (loop $more
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 4096))
        (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (if (i32.eqz (i32.load (i32.const 8))) (then (return)))
        (i32.store (i32.const 4) (i32.load (i32.const 8)))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
        (br $more)))))");
  return bytes;
}

const std::vector<std::uint8_t>& LoopModule() {
  static const auto bytes =
      milf::testing::Wasm(R"((module (func (export "_start") (loop $l (br $l)))))");
  return bytes;
}

}  // namespace milf::node::testing
