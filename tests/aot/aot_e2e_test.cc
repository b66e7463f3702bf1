// AOT distribution end to end: a real `milf server` and `milf node` on
// 127.0.0.1. The first invocation of a new module runs on the interpreter
// while the server builds and the node downloads the signed artifact; later
// ones run natively inside the sandboxed worker (seccomp on), with the same
// output and fuel. A planted corrupt artifact is refused, reported, and the
// job still succeeds on the interpreter.
#include <gtest/gtest.h>

#include <fstream>

#include "client/json.h"
#include "e2e_support.h"

namespace milf::e2e {
namespace {

constexpr milliseconds kJobTimeout{60'000};

boost::json::value Invoke(Cluster& cluster, const std::string& function, const std::string& input) {
  client::HttpRequest request;
  request.method = "POST";
  request.target = "/functions/" + function + "/invoke?async=1";
  request.body = input;
  auto response = cluster.admin().Call(request);
  if (!response) {
    ADD_FAILURE() << response.error().message;
    return nullptr;
  }
  EXPECT_EQ(response->status, 202) << response->body;
  const std::string id = client::GetString(*client::ParseJson(response->body), "id");
  return cluster.WaitFinished(cluster.admin(), id, kJobTimeout);
}

const boost::json::value& Result(const boost::json::value& record) {
  static const boost::json::value kNull;
  if (!record.is_object() || !record.as_object().contains("result")) return kNull;
  return record.as_object().at("result");
}

std::string Field(const boost::json::value& record, const char* name) {
  const auto& result = Result(record);
  if (!result.is_object() || !result.as_object().contains(name)) return "";
  const auto& value = result.as_object().at(name);
  return value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value);
}

// GET /functions/{name} reports `tier` as the one node's last tier.
void ExpectNodeTier(Cluster& cluster, const std::string& function, const std::string& tier) {
  client::HttpRequest request;
  request.method = "GET";
  request.target = "/functions/" + function;
  auto response = cluster.admin().Call(request);
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_EQ(response->status, 200) << response->body;
  const auto shown = client::ParseJson(response->body);
  ASSERT_TRUE(shown);
  const auto& tiers = client::GetArray(*shown, "node_tiers");
  ASSERT_EQ(tiers.size(), 1u) << response->body;
  EXPECT_EQ(client::GetString(tiers[0], "tier"), tier);
  EXPECT_FALSE(client::GetString(tiers[0], "node_id").empty());
}

// Invokes until a run reports the AOT tier (the artifact is built and
// fetched in the background).
boost::json::value InvokeUntilAot(Cluster& cluster, const std::string& function, const std::string& input) {
  boost::json::value record;
  WaitUntil(
      [&] {
        record = Invoke(cluster, function, input);
        return Field(record, "tier") == "aot";
      },
      milliseconds(180'000));
  return record;
}

TEST(AotE2eTest, TiersUpWithIdenticalResultsAndRefusesATamperedArtifact) {
  Cluster cluster;
  ASSERT_FALSE(cluster.StartNode("n1").empty());
  cluster.Deploy(cluster.admin(), "wc", ExamplePath("hello"), "?memory_mb=32");

  const boost::json::value first = Invoke(cluster, "wc", "one two three\nfour\n");
  ASSERT_EQ(Field(first, "status"), "ok") << boost::json::serialize(first);
  EXPECT_EQ(Field(first, "tier"), "interp");

  const boost::json::value native = InvokeUntilAot(cluster, "wc", "one two three\nfour\n");
  ASSERT_EQ(Field(native, "tier"), "aot") << cluster.node("n1").Stderr();
  EXPECT_EQ(Field(native, "status"), "ok");
  EXPECT_EQ(Field(native, "output_sha256"), Field(first, "output_sha256"));
  EXPECT_EQ(Field(native, "fuel_used"), Field(first, "fuel_used"));
  ExpectNodeTier(cluster, "wc", "aot");

  // Plant a corrupt artifact: flip one byte of the stored object.
  cluster.node("n1").Signal(SIGTERM);
  ASSERT_TRUE(cluster.node("n1").WaitExit(milliseconds(30'000)));
  const auto dir = cluster.dir() / "node-n1" / "artifacts";
  std::filesystem::path planted;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".milfsig") planted = entry.path();
  }
  ASSERT_FALSE(planted.empty());
  {
    std::fstream file(planted, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(-100, std::ios::end);
    const char byte = static_cast<char>(file.get());
    file.seekp(-100, std::ios::end);
    file.put(static_cast<char>(byte ^ 0x40));
  }
  ASSERT_FALSE(cluster.StartNode("n1").empty());
  const boost::json::value refused = Invoke(cluster, "wc", "one two three\nfour\n");
  EXPECT_EQ(Field(refused, "status"), "ok") << boost::json::serialize(refused);
  EXPECT_EQ(Field(refused, "tier"), "interp");
  EXPECT_EQ(Field(refused, "fuel_used"), Field(first, "fuel_used"));
  EXPECT_NE(cluster.node("n1").Stderr().find("refused the AOT artifact"), std::string::npos)
      << cluster.node("n1").Stderr();
  // It is fetched again, intact, and the function tiers up once more.
  EXPECT_EQ(Field(InvokeUntilAot(cluster, "wc", "one two three\nfour\n"), "tier"), "aot");
}

}  // namespace
}  // namespace milf::e2e
