// Modules, functions and versions, schedules, and their tenancy.
#include <gtest/gtest.h>

#include "base/sha256.h"
#include "store_fixture.h"

namespace milf::store::testing {
namespace {

using FunctionsTest = StoreTest;

TEST_F(FunctionsTest, ModulesAreContentAddressedAndIdempotent) {
  const auto bytes = Bytes(std::string("\0asm module", 11));
  const std::string sha = Sha256Hex(bytes);
  MILF_ASSERT_OK(store_->PutModule(sha, bytes, 1));
  MILF_ASSERT_OK(store_->PutModule(sha, bytes, 2));
  auto got = store_->GetModule(sha);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, bytes);
  EXPECT_EQ(CodeOf(store_->GetModule(Sha256Hex(Bytes("other")))), "not_found");
  EXPECT_EQ(CodeOf(store_->PutModule(Sha256Hex(Bytes("other")), bytes, 1)), "invalid_argument");
  EXPECT_EQ(CodeOf(store_->PutModule("../../etc/passwd", bytes, 1)), "invalid_argument");
}

TEST_F(FunctionsTest, EmptyModuleIsStoredAsEmptyNotMissing) {
  const std::vector<std::uint8_t> empty;
  MILF_ASSERT_OK(store_->PutModule(Sha256Hex(empty), empty, 1));
  auto got = store_->GetModule(Sha256Hex(empty));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_F(FunctionsTest, PutFunctionAppendsImmutableVersions) {
  const User user = AddUser("u");
  const auto bytes = Bytes("v1 bytes");
  const std::string sha = Sha256Hex(bytes);
  MILF_ASSERT_OK(store_->PutModule(sha, bytes, 1));
  FunctionSettings settings;
  settings.memory_mb = 128;
  settings.timeout_ms = 2'000;
  settings.fuel = 1'000'000;
  settings.env = {"A=1", "QUOTE=\"x\"", "EMPTY=", "UNICODE=\xc3\xa9"};
  settings.entry = "wasm_main";
  auto v1 = store_->PutFunction(user.id, "hello", sha, 8, settings, 500);
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->version, 1);
  auto v2 = store_->PutFunction(user.id, "hello", sha, 8, FunctionSettings{}, 600);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->function_id, v1->function_id);

  auto function = store_->FindFunction(user.id, "hello");
  ASSERT_TRUE(function.ok());
  EXPECT_EQ(function->latest_version, 2);
  EXPECT_EQ(function->created_at, 500);
  EXPECT_EQ(function->updated_at, 600);
  EXPECT_EQ(function->owner_id, user.id);

  auto first = store_->GetVersion(v1->function_id, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->settings.memory_mb, 128);
  EXPECT_EQ(first->settings.timeout_ms, 2'000);
  EXPECT_EQ(first->settings.fuel, 1'000'000);
  EXPECT_EQ(first->settings.env, settings.env);
  EXPECT_EQ(first->settings.entry, "wasm_main");
  EXPECT_EQ(first->module_sha256, sha);
  EXPECT_EQ(first->module_size, 8);
  auto second = store_->GetVersion(v1->function_id, 2);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->settings.fuel, std::nullopt);
  EXPECT_TRUE(second->settings.env.empty());

  auto versions = store_->ListVersions(user.id, "hello");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_EQ(CodeOf(store_->GetVersion(v1->function_id, 3)), "not_found");
}

TEST_F(FunctionsTest, PutFunctionRejectsBadInput) {
  const User user = AddUser("u");
  const auto bytes = Bytes("m");
  const std::string sha = Sha256Hex(bytes);
  MILF_ASSERT_OK(store_->PutModule(sha, bytes, 1));
  EXPECT_EQ(CodeOf(store_->PutFunction(user.id, "f", Sha256Hex(Bytes("absent")), 1,
                                       FunctionSettings{}, 1)),
            "not_found");
  EXPECT_EQ(CodeOf(store_->FindFunction(user.id, "f")), "not_found");  // rolled back whole
  EXPECT_EQ(CodeOf(store_->PutFunction(999, "f", sha, 1, FunctionSettings{}, 1)), "not_found");
  EXPECT_EQ(CodeOf(store_->PutFunction(user.id, "", sha, 1, FunctionSettings{}, 1)),
            "invalid_argument");
  FunctionSettings no_memory;
  no_memory.memory_mb = 0;
  EXPECT_EQ(CodeOf(store_->PutFunction(user.id, "f", sha, 1, no_memory, 1)), "invalid_argument");
  FunctionSettings negative_fuel;
  negative_fuel.fuel = -1;
  EXPECT_EQ(CodeOf(store_->PutFunction(user.id, "f", sha, 1, negative_fuel, 1)),
            "invalid_argument");
}

TEST_F(FunctionsTest, ListsOwnFunctionsByName) {
  const User user = AddUser("u");
  Deploy(user.id, "zeta");
  Deploy(user.id, "alpha");
  auto functions = store_->ListFunctions(user.id);
  ASSERT_TRUE(functions.ok());
  ASSERT_EQ(functions->size(), 2u);
  EXPECT_EQ((*functions)[0].name, "alpha");
  EXPECT_EQ((*functions)[1].name, "zeta");
}

TEST_F(FunctionsTest, FunctionsAreInvisibleToOtherUsers) {
  const User alice = AddUser("alice");
  const User bob = AddUser("bob");
  const FunctionVersion version = Deploy(alice.id, "private");
  EXPECT_EQ(CodeOf(store_->FindFunction(bob.id, "private")), "not_found");
  EXPECT_EQ(CodeOf(store_->ListVersions(bob.id, "private")), "not_found");
  EXPECT_TRUE(store_->ListFunctions(bob.id)->empty());
  EXPECT_EQ(CodeOf(store_->DeleteFunction(bob.id, "private")), "not_found");
  EXPECT_TRUE(store_->FindFunction(alice.id, "private").ok());
  // Bob may use the same name for his own, separate function.
  const FunctionVersion bobs = Deploy(bob.id, "private");
  EXPECT_NE(bobs.function_id, version.function_id);
  EXPECT_EQ(bobs.version, 1);
  // And cannot attach a schedule to Alice's function.
  Schedule schedule;
  schedule.function_id = version.function_id;
  schedule.owner_id = bob.id;
  schedule.cron = "* * * * *";
  EXPECT_EQ(CodeOf(store_->AddSchedule(schedule)), "not_found");
}

TEST_F(FunctionsTest, DeleteFunctionRemovesVersionsSchedulesAndInvocations) {
  const User user = AddUser("u");
  const FunctionVersion version = Deploy(user.id, "doomed");
  const FunctionVersion other = Deploy(user.id, "kept");
  Schedule schedule{0, version.function_id, user.id, "* * * * *", {}, 60'000, 1};
  ASSERT_TRUE(store_->AddSchedule(schedule).ok());
  Enqueue(version, user.id, "inv-doomed");
  Enqueue(other, user.id, "inv-kept");

  MILF_ASSERT_OK(store_->DeleteFunction(user.id, "doomed"));
  EXPECT_EQ(CodeOf(store_->FindFunction(user.id, "doomed")), "not_found");
  EXPECT_EQ(CodeOf(store_->GetVersion(version.function_id, 1)), "not_found");
  EXPECT_TRUE(store_->ListSchedules(user.id, version.function_id)->empty());
  EXPECT_TRUE(store_->DueSchedules(1'000'000)->empty());
  EXPECT_EQ(CodeOf(store_->FindInvocation(user.id, "inv-doomed")), "not_found");
  EXPECT_EQ(CodeOf(store_->ListEvents(user.id, "inv-doomed")), "not_found");
  EXPECT_TRUE(store_->FindInvocation(user.id, "inv-kept").ok());
  auto queued = store_->ListQueued(10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].id, "inv-kept");

  // Redeploying the name starts a new function at version 1.
  const FunctionVersion reborn = Deploy(user.id, "doomed");
  EXPECT_EQ(reborn.version, 1);
}

TEST_F(FunctionsTest, SchedulesAddListRemoveAndComeDue) {
  const User user = AddUser("u");
  const FunctionVersion version = Deploy(user.id, "cronjob");
  Schedule every_minute{0, version.function_id, user.id, "* * * * *", Bytes("tick"), 60'000, 5};
  Schedule hourly{0, version.function_id, user.id, "0 * * * *", {}, 3'600'000, 6};
  auto a = store_->AddSchedule(every_minute);
  auto b = store_->AddSchedule(hourly);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id, b->id);

  auto listed = store_->ListSchedules(user.id, version.function_id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].cron, "* * * * *");
  EXPECT_EQ((*listed)[0].input, Bytes("tick"));
  EXPECT_EQ((*listed)[0].created_at, 5);

  EXPECT_TRUE(store_->DueSchedules(59'999)->empty());
  ASSERT_EQ(store_->DueSchedules(60'000)->size(), 1u);
  auto both = store_->DueSchedules(4'000'000);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].id, a->id);  // soonest first

  const User other = AddUser("other");
  EXPECT_EQ(CodeOf(store_->RemoveSchedule(other.id, a->id)), "not_found");
  EXPECT_TRUE(store_->ListSchedules(other.id, version.function_id)->empty());
  MILF_ASSERT_OK(store_->RemoveSchedule(user.id, a->id));
  EXPECT_EQ(CodeOf(store_->RemoveSchedule(user.id, a->id)), "not_found");
  EXPECT_EQ(store_->ListSchedules(user.id, version.function_id)->size(), 1u);

  Schedule no_cron = hourly;
  no_cron.cron = "";
  EXPECT_EQ(CodeOf(store_->AddSchedule(no_cron)), "invalid_argument");
}

TEST_F(FunctionsTest, FunctionsSurviveReopening) {
  const User user = AddUser("u");
  const FunctionVersion version = Deploy(user.id, "durable", "durable module");
  Reopen();
  auto found = store_->FindFunction(user.id, "durable");
  ASSERT_TRUE(found.ok());
  auto module = store_->GetModule(version.module_sha256);
  ASSERT_TRUE(module.ok());
  EXPECT_EQ(*module, Bytes("durable module"));
}

}  // namespace
}  // namespace milf::store::testing
