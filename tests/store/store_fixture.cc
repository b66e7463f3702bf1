#include "store_fixture.h"

#include <stdlib.h>

#include "base/sha256.h"

namespace milf::store::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "milf-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::uint8_t> Bytes(const std::string& text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

void StoreTest::SetUp() {
  auto opened = OpenSqliteStore(db_path());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store_ = std::move(*opened);
}

void StoreTest::Reopen() {
  store_.reset();
  auto opened = OpenSqliteStore(db_path());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store_ = std::move(*opened);
}

User StoreTest::AddUser(const std::string& name, Role role) {
  auto user = store_->CreateUser(name, role, "hash-of-" + name, 100);
  EXPECT_TRUE(user.ok()) << user.error().message;
  return user.ok() ? *user : User{};
}

FunctionVersion StoreTest::Deploy(std::int64_t owner, const std::string& name,
                                  const std::string& module_text) {
  const auto bytes = Bytes(module_text);
  const std::string sha = Sha256Hex(bytes);
  auto put = store_->PutModule(sha, bytes, 200);
  EXPECT_TRUE(put.ok()) << put.error().message;
  auto version = store_->PutFunction(owner, name, sha, static_cast<std::int64_t>(bytes.size()),
                                     FunctionSettings{}, 300);
  EXPECT_TRUE(version.ok()) << version.error().message;
  if (!version.ok()) return FunctionVersion{};
  function_names_[version->function_id] = name;
  return *version;
}

Invocation StoreTest::MakeInvocation(const FunctionVersion& version, std::int64_t owner,
                                     const std::string& id, Millis queued_at,
                                     const std::string& input) {
  Invocation invocation;
  invocation.id = id;
  invocation.owner_id = owner;
  invocation.function_id = version.function_id;
  invocation.function_name = function_names_[version.function_id];
  invocation.version = version.version;
  invocation.input = Bytes(input);
  invocation.queued_at = queued_at;
  return invocation;
}

Invocation StoreTest::Enqueue(const FunctionVersion& version, std::int64_t owner,
                              const std::string& id, Millis queued_at) {
  Invocation invocation = MakeInvocation(version, owner, id, queued_at);
  auto enqueued = store_->EnqueueInvocations({invocation});
  EXPECT_TRUE(enqueued.ok()) << enqueued.error().message;
  return invocation;
}

}  // namespace milf::store::testing
