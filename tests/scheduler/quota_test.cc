#include "server/quota.h"

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "fixtures.h"
#include "server/cron.h"
#include "store/ids.h"

namespace milf::server {
namespace {

using testing::kEpoch2024;

store::Quota Limits(std::int64_t concurrent, std::int64_t per_day, std::int64_t memory_mb) {
  store::Quota quota;
  quota.max_concurrent = concurrent;
  quota.max_per_day = per_day;
  quota.max_memory_mb = memory_mb;
  return quota;
}

TEST(QuotaViolationTest, NamesTheLimitCrossed) {
  const store::Quota quota = Limits(64, 1000, 512);
  EXPECT_EQ(QuotaViolation(quota, {0, 0}, 1, 64), std::nullopt);
  EXPECT_EQ(QuotaViolation(quota, {63, 999}, 1, 512), std::nullopt);
  EXPECT_EQ(QuotaViolation(quota, {64, 10}, 1, 64), "concurrent invocations: 64 of 64 in use");
  EXPECT_EQ(QuotaViolation(quota, {60, 10}, 10, 64),
            "concurrent invocations: 60 of 64 in use, 10 more requested");
  EXPECT_EQ(QuotaViolation(quota, {0, 1000}, 1, 64), "invocations per day: 1000 of 1000 used");
  EXPECT_EQ(QuotaViolation(quota, {0, 995}, 6, 64),
            "invocations per day: 995 of 1000 used, 6 more requested");
  EXPECT_EQ(QuotaViolation(quota, {0, 0}, 1, 513),
            "memory per function: 513 MB asked, 512 MB allowed");
  // Memory is checked first: it does not change by waiting.
  EXPECT_EQ(QuotaViolation(quota, {64, 1000}, 1, 1024),
            "memory per function: 1024 MB asked, 512 MB allowed");
  EXPECT_NE(QuotaViolation(Limits(0, 1000, 512), {0, 0}, 1, 64), std::nullopt);
}

class QuotaLedgerTest : public ::testing::Test {
 protected:
  QuotaLedgerTest() : store_(testing::OpenStore(dir_.path() / "milf.db")) {
    auto user = store_->CreateUser("ada", store::Role::kDeveloper, "x", kEpoch2024);
    EXPECT_TRUE(user.ok());
    user_ = user->id;
  }

  void SetLimits(const store::Quota& quota) { ASSERT_TRUE(store_->SetQuota(user_, quota).ok()); }

  // Puts `count` queued invocations of a fresh function in the store.
  void Enqueue(int count, store::Millis at) {
    const std::vector<std::uint8_t> module = {0, 'a', 's', 'm', 1, 0, 0, 0};
    const std::string sha256 = Sha256Hex(module);
    ASSERT_TRUE(store_->PutModule(sha256, module, at).ok());
    auto version = store_->PutFunction(user_, "fn", sha256, 8, {}, at);
    ASSERT_TRUE(version.ok());
    std::vector<store::Invocation> rows;
    for (int i = 0; i < count; ++i) {
      store::Invocation row;
      row.id = store::NewInvocationId(at);
      row.owner_id = user_;
      row.function_id = version->function_id;
      row.function_name = "fn";
      row.version = version->version;
      row.queued_at = at;
      rows.push_back(row);
    }
    ASSERT_TRUE(store_->EnqueueInvocations(rows).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::int64_t user_ = 0;
};

TEST_F(QuotaLedgerTest, CountsConcurrentInvocations) {
  SetLimits(Limits(2, 100, 512));
  QuotaLedger ledger(*store_);
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  auto refused = ledger.Reserve(user_, 1, 64, kEpoch2024);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "quota_exceeded");
  EXPECT_EQ(refused.error().message, "concurrent invocations: 2 of 2 in use");
  ledger.Finish(user_, 1);
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  // A batch is admitted whole or not at all.
  ledger.Finish(user_, 2);
  EXPECT_FALSE(ledger.Reserve(user_, 3, 64, kEpoch2024).ok());
  EXPECT_TRUE(ledger.Reserve(user_, 2, 64, kEpoch2024).ok());
}

TEST_F(QuotaLedgerTest, CountsPerUtcDayAndResetsAtMidnight) {
  SetLimits(Limits(100, 3, 512));
  QuotaLedger ledger(*store_);
  const store::Millis noon = kEpoch2024 + 12 * 3600 * 1000;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ledger.Reserve(user_, 1, 64, noon).ok());
    ledger.Finish(user_, 1);
  }
  auto refused = ledger.Reserve(user_, 1, 64, noon + 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "invocations per day: 3 of 3 used");
  // The next UTC day starts from what the store holds since its midnight.
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024 + 24 * 3600 * 1000).ok());
}

TEST_F(QuotaLedgerTest, CancelTakesBackAReservation) {
  SetLimits(Limits(1, 1, 512));
  QuotaLedger ledger(*store_);
  ASSERT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  ledger.Cancel(user_, 1);
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
}

TEST_F(QuotaLedgerTest, RefusesMemoryOverTheLimit) {
  SetLimits(Limits(10, 10, 128));
  QuotaLedger ledger(*store_);
  auto refused = ledger.Reserve(user_, 1, 256, kEpoch2024);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "memory per function: 256 MB asked, 128 MB allowed");
}

TEST_F(QuotaLedgerTest, SeedsFromTheStoreAndResyncs) {
  SetLimits(Limits(3, 100, 512));
  Enqueue(2, kEpoch2024);
  QuotaLedger ledger(*store_, /*resync_ms=*/1'000);
  ASSERT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());  // 2 in the store + 1
  auto refused = ledger.Reserve(user_, 1, 64, kEpoch2024);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "concurrent invocations: 3 of 3 in use");
  // The reservation never reached the store; a re-read forgets it.
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024 + 1'000).ok());
}

TEST_F(QuotaLedgerTest, ForgetRereadsAChangedQuota) {
  SetLimits(Limits(1, 100, 512));
  QuotaLedger ledger(*store_);
  ASSERT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  ASSERT_FALSE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
  SetLimits(Limits(5, 100, 512));
  ASSERT_FALSE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());  // cached
  ledger.Forget(user_);
  EXPECT_TRUE(ledger.Reserve(user_, 1, 64, kEpoch2024).ok());
}

TEST_F(QuotaLedgerTest, UnknownUserIsAnError) {
  QuotaLedger ledger(*store_);
  auto refused = ledger.Reserve(user_ + 100, 1, 64, kEpoch2024);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().code, "quota_exceeded");
}

}  // namespace
}  // namespace milf::server
