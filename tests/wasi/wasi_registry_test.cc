// The whole of preview1 is registered, each function with the signature
// the witx definitions give it, and the ones MILF does not implement answer
// ENOSYS whatever they are passed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wasi_test_support.h"

namespace milf::wasm::wasi {
namespace {

using testing::WasiHarness;

struct Expected {
  const char* name;
  const char* params;  // 'i' i32, 'I' i64
  bool implemented;
};

// From wasi_snapshot_preview1.witx, independently of the host's own table.
const std::vector<Expected> kPreview1 = {
    {"args_get", "ii", true},
    {"args_sizes_get", "ii", true},
    {"environ_get", "ii", true},
    {"environ_sizes_get", "ii", true},
    {"clock_res_get", "ii", true},
    {"clock_time_get", "iIi", true},
    {"fd_advise", "iIIi", false},
    {"fd_allocate", "iII", false},
    {"fd_close", "i", true},
    {"fd_datasync", "i", false},
    {"fd_fdstat_get", "ii", true},
    {"fd_fdstat_set_flags", "ii", false},
    {"fd_fdstat_set_rights", "iII", false},
    {"fd_filestat_get", "ii", true},
    {"fd_filestat_set_size", "iI", false},
    {"fd_filestat_set_times", "iIIi", false},
    {"fd_pread", "iiiIi", false},
    {"fd_prestat_get", "ii", true},
    {"fd_prestat_dir_name", "iii", true},
    {"fd_pwrite", "iiiIi", false},
    {"fd_read", "iiii", true},
    {"fd_readdir", "iiiIi", true},
    {"fd_renumber", "ii", false},
    {"fd_seek", "iIii", true},
    {"fd_sync", "i", false},
    {"fd_tell", "ii", true},
    {"fd_write", "iiii", true},
    {"path_create_directory", "iii", true},
    {"path_filestat_get", "iiiii", true},
    {"path_filestat_set_times", "iiiiIIi", false},
    {"path_link", "iiiiiii", false},
    {"path_open", "iiiiiIIii", true},
    {"path_readlink", "iiiiii", false},
    {"path_remove_directory", "iii", true},
    {"path_rename", "iiiiii", true},
    {"path_symlink", "iiiii", false},
    {"path_unlink_file", "iii", true},
    {"poll_oneoff", "iiii", true},
    {"proc_exit", "i", true},
    {"proc_raise", "i", false},
    {"sched_yield", "", true},
    {"random_get", "ii", true},
    {"sock_accept", "iii", false},
    {"sock_recv", "iiiiii", false},
    {"sock_send", "iiiii", false},
    {"sock_shutdown", "ii", false},
};

TEST(WasiRegistry, EveryPreview1FunctionHasItsWitxSignature) {
  WasiHarness h;
  for (const Expected& expected : kPreview1) {
    SCOPED_TRACE(expected.name);
    const HostFunction* function = h.Find(expected.name);
    ASSERT_NE(function, nullptr);
    EXPECT_EQ(function->module, "wasi_snapshot_preview1");
    FuncSig sig;
    for (const char* p = expected.params; *p != '\0'; ++p) {
      sig.params.push_back(*p == 'I' ? ValType::kI64 : ValType::kI32);
    }
    if (std::string(expected.name) != "proc_exit") sig.results.push_back(ValType::kI32);
    EXPECT_EQ(function->sig, sig);
  }
}

TEST(WasiRegistry, UnimplementedFunctionsAnswerEnosys) {
  WasiHarness h;
  for (const Expected& expected : kPreview1) {
    if (expected.implemented) continue;
    SCOPED_TRACE(expected.name);
    const std::size_t arity = std::string(expected.params).size();
    const HostFunction* function = h.Find(expected.name);
    ASSERT_NE(function, nullptr);
    // Zeros, then hostile values: neither may do anything but ENOSYS.
    for (const std::uint64_t fill : {std::uint64_t{0}, ~std::uint64_t{0}}) {
      std::vector<Value> args;
      for (const ValType type : function->sig.params) {
        args.push_back(type == ValType::kI64 ? Value::I64(fill)
                                             : Value::I32(static_cast<std::uint32_t>(fill)));
      }
      ASSERT_EQ(args.size(), arity);
      std::vector<Value> results(1);
      struct Context final : HostContext {
        GuestMemory Memory() override { return {}; }
      } context;
      EXPECT_EQ(function->callback(context, args, results), HostAction::kContinue);
      EXPECT_EQ(static_cast<Errno>(results[0].i32()), Errno::kNosys);
    }
  }
  EXPECT_FALSE(h.host.stop().has_value());
}

TEST(WasiRegistry, MismatchedCallsStopInsteadOfCrashing) {
  WasiHarness h;
  const HostFunction* function = h.Find("fd_write");
  ASSERT_NE(function, nullptr);
  struct Context final : HostContext {
    GuestMemory Memory() override { return {}; }
  } context;
  std::vector<Value> too_few{Value::I32(1)};
  std::vector<Value> results(1);
  EXPECT_EQ(function->callback(context, too_few, results), HostAction::kStop);
  ASSERT_TRUE(h.host.stop().has_value());
  EXPECT_EQ(h.host.stop()->status, RunStatus::kInternalError);
}

TEST(WasiRegistry, NoMemoryMeansEveryPointerFaults) {
  WasiHarness h;
  h.memory.clear();
  EXPECT_EQ(h.Call("args_sizes_get", {0, 4}), Errno::kFault);
  EXPECT_EQ(h.Call("fd_write", {1, 0, 1, 8}), Errno::kFault);
  EXPECT_EQ(h.Call("random_get", {0, 1}), Errno::kFault);
  EXPECT_EQ(h.Call("random_get", {0, 0}), Errno::kSuccess);
}

}  // namespace
}  // namespace milf::wasm::wasi
