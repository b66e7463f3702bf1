// The aarch64 `milf-node` (cross-built, docs/arm64.md) under qemu-aarch64
// against a real x86_64 `milf server` on 127.0.0.1: it enrolls, reports its
// target, runs invocations of examples in its worker pool, and stops cleanly.
//
// Without binfmt_misc the kernel cannot execve an aarch64 binary, so the
// node starts its workers through the emulator (--worker-emulator).
#include <signal.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "client/json.h"
#include "e2e/e2e_support.h"

namespace milf::e2e {
namespace {

const std::string kQemu = MILF_QEMU_AARCH64;
const std::string kNode = MILF_ARM64_NODE;
constexpr milliseconds kQemuTimeout{120'000};

std::string TargetOf(Cluster& cluster, const std::string& name) {
  auto nodes = cluster.admin().CallJson("GET", "/nodes");
  if (!nodes) return "error: " + nodes.error().message;
  for (const auto& node : client::GetArray(*nodes, "nodes")) {
    if (client::GetString(node, "name") == name) return client::GetString(node, "target");
  }
  return "not listed";
}

TEST(Arm64NodeUnderQemu, EnrollsRunsExamplesAndStops) {
  ASSERT_TRUE(std::filesystem::exists(kNode)) << kNode << " was not built";
  Cluster cluster;
  ASSERT_FALSE(HasFatalFailure());
  auto token = cluster.admin().CallJson("POST", "/tokens/node", boost::json::object{});
  ASSERT_TRUE(token) << token.error().message;

  auto node = Child::Spawn({kQemu, kNode, "--server", cluster.url(), "--token",
                            client::GetString(*token, "token"), "--data",
                            (cluster.dir() / "node-arm64").string(), "--name", "arm64",
                            "--worker-emulator=" + kQemu},
                           {}, cluster.dir(), "node-arm64");
  ASSERT_TRUE(node) << node.error().message;
  ASSERT_TRUE(cluster.WaitNodeOnline("arm64", true, kQemuTimeout))
      << "the aarch64 node did not come online; stderr:\n" << (*node)->Stderr();
  EXPECT_EQ(TargetOf(cluster, "arm64"), "aarch64-linux");

  const std::vector<std::string> env = cluster.CliEnvFor("admin", Cluster::kAdminPassword);
  ASSERT_FALSE(env.empty());
  for (const char* name : {"hello", "echo"}) {
    const CommandResult deployed = RunMilf({"fn", "deploy", name, ExamplePath(name)}, env);
    ASSERT_EQ(deployed.exit_code, 0) << deployed.err;
  }
  CommandResult invoked = RunMilf({"invoke", "hello"}, env, "", kQemuTimeout);
  EXPECT_EQ(invoked.exit_code, 0) << invoked.err << "\nnode stderr:\n" << (*node)->Stderr();
  EXPECT_EQ(invoked.out, "Hello from MILF!\n");

  const std::string input("bytes \0\xff across the emulator", 29);
  invoked = RunMilf({"invoke", "echo", "--data", "-"}, env, input, kQemuTimeout);
  EXPECT_EQ(invoked.exit_code, 0) << invoked.err;
  EXPECT_EQ(invoked.out, input);

  invoked = RunMilf({"invoke", "echo", "--data", "which node", "--json"}, env, "", kQemuTimeout);
  ASSERT_EQ(invoked.exit_code, 0) << invoked.err;
  auto record = client::ParseJson(invoked.out);
  ASSERT_TRUE(record) << invoked.out;
  EXPECT_EQ(client::GetString(*record, "state"), "succeeded");
  EXPECT_EQ(client::GetString(*record, "node_id"), cluster.NodeIdOf("arm64"));

  (*node)->Signal(SIGTERM);
  const std::optional<int> status = (*node)->WaitExit(kQemuTimeout);
  ASSERT_TRUE(status) << "the aarch64 node did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << (*node)->Stderr();
}

}  // namespace
}  // namespace milf::e2e
