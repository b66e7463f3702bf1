// Shared pieces of the store tests: a temporary directory that removes
// itself, and a fixture with an open SqliteStore plus helpers that create
// users, functions and invocations.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace milf::store::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Aborts the test with the error's code and message when `result` failed.
#define MILF_ASSERT_OK(expr)                                                         \
  do {                                                                               \
    const auto& milf_result_ = (expr);                                               \
    ASSERT_TRUE(milf_result_.ok()) << #expr << ": " << milf_result_.error().code << ": " \
                                   << milf_result_.error().message;                  \
  } while (0)

template <class R>
std::string CodeOf(const R& result) {
  return result.ok() ? "ok" : result.error().code;
}

std::vector<std::uint8_t> Bytes(const std::string& text);

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void Reopen();
  std::string db_path() const { return (dir_.path() / "milf.db").string(); }

  User AddUser(const std::string& name, Role role = Role::kDeveloper);
  // Stores a module and deploys it as `name` for `owner`; returns the version.
  FunctionVersion Deploy(std::int64_t owner, const std::string& name,
                         const std::string& module_text = "module bytes");
  Invocation MakeInvocation(const FunctionVersion& version, std::int64_t owner,
                            const std::string& id, Millis queued_at,
                            const std::string& input = "in");
  // Enqueues one invocation of `version` and returns it.
  Invocation Enqueue(const FunctionVersion& version, std::int64_t owner, const std::string& id,
                     Millis queued_at = 1'000);

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::map<std::int64_t, std::string> function_names_;  // by function id, from Deploy
};

}  // namespace milf::store::testing
