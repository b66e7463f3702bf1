// Users, quotas, credentials, nodes and usage.
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace milf::store::testing {
namespace {

using AccountsTest = StoreTest;

TEST_F(AccountsTest, CreatesAndFindsUsers) {
  auto admin = store_->CreateUser("admin", Role::kAdmin, "argon-a", 10);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_GT(admin->id, 0);
  EXPECT_EQ(admin->role, Role::kAdmin);
  auto dev = store_->CreateUser("dev", Role::kDeveloper, "argon-d", 11);
  ASSERT_TRUE(dev.ok());

  auto by_name = store_->FindUserByName("dev");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, dev->id);
  EXPECT_EQ(by_name->password_hash, "argon-d");
  EXPECT_EQ(by_name->created_at, 11);
  EXPECT_EQ(by_name->role, Role::kDeveloper);

  auto by_id = store_->FindUserById(admin->id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name, "admin");

  auto all = store_->ListUsers();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "admin");
  EXPECT_EQ((*all)[1].name, "dev");
}

TEST_F(AccountsTest, UserErrors) {
  AddUser("taken");
  EXPECT_EQ(CodeOf(store_->CreateUser("taken", Role::kAdmin, "h", 1)), "conflict");
  EXPECT_EQ(CodeOf(store_->CreateUser("", Role::kAdmin, "h", 1)), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->FindUserByName("nobody")), "not_found");
  EXPECT_EQ(CodeOf(store_->FindUserById(12345)), "not_found");
  EXPECT_EQ(CodeOf(store_->UpdatePassword(12345, "h")), "not_found");
  EXPECT_EQ(CodeOf(store_->DeleteUser(12345)), "not_found");
  // Hostile names are just data.
  auto odd = store_->CreateUser("'; DROP TABLE users; --", Role::kDeveloper, "h", 1);
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(store_->FindUserByName("'; DROP TABLE users; --").ok());
  EXPECT_EQ(store_->ListUsers()->size(), 2u);
}

TEST_F(AccountsTest, UpdatesPasswords) {
  const User user = AddUser("u");
  MILF_ASSERT_OK(store_->UpdatePassword(user.id, "new-hash"));
  EXPECT_EQ(store_->FindUserById(user.id)->password_hash, "new-hash");
}

TEST_F(AccountsTest, QuotasDefaultAndUpdate) {
  const User user = AddUser("u");
  auto quota = store_->GetQuota(user.id);
  ASSERT_TRUE(quota.ok());
  EXPECT_EQ(quota->max_concurrent, Quota{}.max_concurrent);
  EXPECT_EQ(quota->max_per_day, Quota{}.max_per_day);
  EXPECT_EQ(quota->max_memory_mb, Quota{}.max_memory_mb);

  MILF_ASSERT_OK(store_->SetQuota(user.id, Quota{3, 100, 256}));
  quota = store_->GetQuota(user.id);
  ASSERT_TRUE(quota.ok());
  EXPECT_EQ(quota->max_concurrent, 3);
  EXPECT_EQ(quota->max_per_day, 100);
  EXPECT_EQ(quota->max_memory_mb, 256);
  MILF_ASSERT_OK(store_->SetQuota(user.id, Quota{4, 5, 6}));
  EXPECT_EQ(store_->GetQuota(user.id)->max_concurrent, 4);

  EXPECT_EQ(CodeOf(store_->GetQuota(999)), "not_found");
  EXPECT_EQ(CodeOf(store_->SetQuota(999, Quota{})), "not_found");
  EXPECT_EQ(CodeOf(store_->SetQuota(user.id, Quota{0, 1, 1})), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->SetQuota(user.id, Quota{1, 1, -5})), "invalid_argument");
}

TEST_F(AccountsTest, RefreshTokensAreSingleUse) {
  const User user = AddUser("u");
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"rt1", user.id, 5'000}));
  EXPECT_EQ(CodeOf(store_->AddRefreshToken(RefreshToken{"rt1", user.id, 5'000})), "conflict");
  auto taken = store_->TakeRefreshToken("rt1", 1'000);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->user_id, user.id);
  EXPECT_EQ(taken->expires_at, 5'000);
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("rt1", 1'000)), "not_found");
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("never-issued", 1'000)), "not_found");
  EXPECT_EQ(CodeOf(store_->AddRefreshToken(RefreshToken{"orphan", 999, 5'000})), "not_found");
}

TEST_F(AccountsTest, ExpiredRefreshTokensAreRefusedAndRemoved) {
  const User user = AddUser("u");
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"old", user.id, 1'000}));
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"stale", user.id, 1'500}));
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"live", user.id, 9'000}));
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("old", 1'000)), "not_found");  // expires_at is exclusive
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"old", user.id, 1'000}));
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("old", 2'000)), "not_found");
  // Taking a token of the user purged their other expired one: asking with
  // an earlier clock does not bring it back.
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("stale", 1'400)), "not_found");
  EXPECT_TRUE(store_->TakeRefreshToken("live", 2'000).ok());
}

TEST_F(AccountsTest, ApiKeysAreFoundByHashAndTouched) {
  const User user = AddUser("u");
  ApiKey key{0, user.id, "ci", "milf_ab", "hash-1", 50, std::nullopt};
  auto added = store_->AddApiKey(key);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_GT(added->id, 0);
  EXPECT_EQ(CodeOf(store_->AddApiKey(key)), "conflict");

  auto found = store_->FindApiKey("hash-1", 10'000);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, added->id);
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->prefix, "milf_ab");
  EXPECT_EQ(found->last_used_at, 10'000);
  auto listed = store_->ListApiKeys(user.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].last_used_at, 10'000);

  // Use within the resolution is not written again; later use is.
  EXPECT_EQ(store_->FindApiKey("hash-1", 10'400)->last_used_at, 10'000);
  EXPECT_EQ((*store_->ListApiKeys(user.id))[0].last_used_at, 10'000);
  EXPECT_EQ(store_->FindApiKey("hash-1", 12'000)->last_used_at, 12'000);
  EXPECT_EQ((*store_->ListApiKeys(user.id))[0].last_used_at, 12'000);

  EXPECT_EQ(CodeOf(store_->FindApiKey("hash-unknown", 1)), "not_found");
}

TEST_F(AccountsTest, ApiKeysAreRevokedOnlyByTheirOwner) {
  const User alice = AddUser("alice");
  const User bob = AddUser("bob");
  auto key = store_->AddApiKey(ApiKey{0, alice.id, "k", "p", "h", 1, std::nullopt});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(CodeOf(store_->RevokeApiKey(bob.id, key->id)), "not_found");
  EXPECT_TRUE(store_->ListApiKeys(bob.id)->empty());
  EXPECT_TRUE(store_->FindApiKey("h", 2).ok());
  MILF_ASSERT_OK(store_->RevokeApiKey(alice.id, key->id));
  EXPECT_EQ(CodeOf(store_->FindApiKey("h", 3)), "not_found");
  EXPECT_EQ(CodeOf(store_->RevokeApiKey(alice.id, key->id)), "not_found");
}

TEST_F(AccountsTest, EnrollmentTokensBindToOneNode) {
  const User admin = AddUser("admin", Role::kAdmin);
  MILF_ASSERT_OK(store_->AddEnrollmentToken(EnrollmentToken{"et", admin.id, 5'000, std::nullopt}));
  EXPECT_EQ(CodeOf(store_->AddEnrollmentToken(EnrollmentToken{"et", admin.id, 5'000, std::nullopt})),
            "conflict");
  MILF_ASSERT_OK(store_->UseEnrollmentToken("et", "node-1", 1'000));
  MILF_ASSERT_OK(store_->UseEnrollmentToken("et", "node-1", 1'001));  // re-enrollment
  EXPECT_EQ(CodeOf(store_->UseEnrollmentToken("et", "node-2", 1'002)), "not_found");
  EXPECT_EQ(CodeOf(store_->UseEnrollmentToken("et", "node-1", 5'000)), "not_found");  // expired
  EXPECT_EQ(CodeOf(store_->UseEnrollmentToken("missing", "node-1", 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->UseEnrollmentToken("et", "", 1)), "invalid_argument");
}

TEST_F(AccountsTest, NodesUpsertKeepingCreationTime) {
  Node node{"n1", "phone", "secret-1", "aarch64-linux", 100, 100, "{}"};
  MILF_ASSERT_OK(store_->UpsertNode(node));
  node.secret_hash = "secret-2";
  node.created_at = 999;
  node.last_seen_at = 200;
  node.name = "phone-renamed";
  MILF_ASSERT_OK(store_->UpsertNode(node));
  auto found = store_->FindNode("n1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->created_at, 100);
  EXPECT_EQ(found->secret_hash, "secret-2");
  EXPECT_EQ(found->name, "phone-renamed");
  EXPECT_EQ(found->target, "aarch64-linux");
  EXPECT_EQ(found->last_seen_at, 200);

  MILF_ASSERT_OK(store_->TouchNode("n1", 300, R"({"battery":80})"));
  found = store_->FindNode("n1");
  EXPECT_EQ(found->last_seen_at, 300);
  EXPECT_EQ(found->telemetry_json, R"({"battery":80})");

  MILF_ASSERT_OK(store_->UpsertNode(Node{"n0", "board", "s", "x86_64-linux", 150, 150, "{}"}));
  auto nodes = store_->ListNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].id, "n1");  // by creation time
  EXPECT_EQ((*nodes)[1].id, "n0");

  EXPECT_EQ(CodeOf(store_->FindNode("nx")), "not_found");
  EXPECT_EQ(CodeOf(store_->TouchNode("nx", 1, "{}")), "not_found");
  EXPECT_EQ(CodeOf(store_->UpsertNode(Node{})), "invalid_argument");
}

TEST_F(AccountsTest, UsageAccumulatesPerMonth) {
  const User user = AddUser("u");
  const User other = AddUser("other");
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-10", 1, 0.5, 100));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11", 2, 1.25, 10));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11", 3, 0.25, 5));
  MILF_ASSERT_OK(store_->AddUsage(other.id, "2026-11", 7, 7, 7));
  const std::uint64_t big_fuel = (std::uint64_t{1} << 63) + 5;  // survives the int64 column
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-12", 0, 0, big_fuel));
  auto usage = store_->ListUsage(user.id);
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 3u);
  EXPECT_EQ((*usage)[0].month, "2026-12");  // newest first
  EXPECT_EQ((*usage)[0].fuel, big_fuel);
  EXPECT_EQ((*usage)[1].month, "2026-11");
  EXPECT_EQ((*usage)[1].invocations, 5);
  EXPECT_DOUBLE_EQ((*usage)[1].compute_mb_seconds, 1.5);
  EXPECT_EQ((*usage)[1].fuel, 15u);
  EXPECT_EQ((*usage)[2].invocations, 1);

  EXPECT_EQ(CodeOf(store_->AddUsage(999, "2026-11", 1, 1, 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->AddUsage(user.id, "November", 1, 1, 1)), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->AddUsage(user.id, "2026-11", -1, 1, 1)), "invalid_argument");
  EXPECT_TRUE(store_->ListUsage(999)->empty());
}

TEST_F(AccountsTest, DeleteUserRemovesTheirCredentialsAndUsage) {
  const User user = AddUser("u");
  const User keep = AddUser("keep");
  MILF_ASSERT_OK(store_->AddRefreshToken(RefreshToken{"rt", user.id, 9'000}));
  ASSERT_TRUE(store_->AddApiKey(ApiKey{0, user.id, "k", "p", "kh", 1, std::nullopt}).ok());
  ASSERT_TRUE(store_->AddApiKey(ApiKey{0, keep.id, "k", "p", "kh2", 1, std::nullopt}).ok());
  MILF_ASSERT_OK(store_->AddEnrollmentToken(EnrollmentToken{"et", user.id, 9'000, std::nullopt}));
  MILF_ASSERT_OK(store_->SetQuota(user.id, Quota{1, 1, 1}));
  MILF_ASSERT_OK(store_->AddUsage(user.id, "2026-11", 1, 1, 1));

  MILF_ASSERT_OK(store_->DeleteUser(user.id));
  EXPECT_EQ(CodeOf(store_->FindUserById(user.id)), "not_found");
  EXPECT_EQ(CodeOf(store_->TakeRefreshToken("rt", 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->FindApiKey("kh", 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->UseEnrollmentToken("et", "n", 1)), "not_found");
  EXPECT_TRUE(store_->ListUsage(user.id)->empty());
  EXPECT_TRUE(store_->FindApiKey("kh2", 1).ok());
  // The name is free again, and the new user starts clean.
  auto again = store_->CreateUser("u", Role::kDeveloper, "h", 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(store_->GetQuota(again->id)->max_concurrent, Quota{}.max_concurrent);
}

TEST_F(AccountsTest, AccountsSurviveReopening) {
  const User user = AddUser("durable", Role::kAdmin);
  MILF_ASSERT_OK(store_->SetQuota(user.id, Quota{2, 3, 4}));
  MILF_ASSERT_OK(store_->UpsertNode(Node{"n", "name", "s", "t", 1, 2, "{}"}));
  Reopen();
  auto found = store_->FindUserByName("durable");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->role, Role::kAdmin);
  EXPECT_EQ(store_->GetQuota(user.id)->max_per_day, 3);
  EXPECT_TRUE(store_->FindNode("n").ok());
}

}  // namespace
}  // namespace milf::store::testing
