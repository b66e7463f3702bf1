// End to end: `milf up` runs a server and a node in one process, deploys
// the examples, serves hello, and stops cleanly on SIGINT; a second start
// reuses the data directory and the node's credential.
#include <signal.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "e2e_support.h"

namespace milf::e2e {
namespace {

using ::testing::HasSubstr;

std::string UpUrl(const std::string& out) {
  const std::string marker = "MILF is up at  ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return "";
  const auto start = at + marker.size();
  return out.substr(start, out.find('\n', start) - start);
}

void RunUpOnce(const TempDir& temp, const std::string& label, const std::string& expect_deployed) {
  auto up = Child::Spawn({MilfPath(), "up", "--listen", "127.0.0.1:0", "--data", (temp.path() / "data").string(),
                          "--slots", "1", "--examples", std::string(MILF_BINARY_DIR) + "/examples"},
                         {}, temp.path(), label);
  ASSERT_TRUE(up) << up.error().message;
  Child& child = **up;
  std::string out;
  const bool ready = WaitUntil(
      [&] {
        out = child.Stdout();
        return out.find("Press Ctrl-C to stop.") != std::string::npos || !child.running();
      },
      milliseconds(60'000));
  ASSERT_TRUE(ready) << out << child.Stderr();
  SCOPED_TRACE("milf up stderr:\n" + child.Stderr());
  EXPECT_THAT(out, HasSubstr("Admin user:    admin\n"));
  EXPECT_THAT(out, HasSubstr("Password:      "));
  EXPECT_THAT(out, HasSubstr("hello says:    Hello from MILF!  [succeeded"));
  EXPECT_THAT(out, HasSubstr(expect_deployed));
  const std::string url = UpUrl(out);
  EXPECT_THAT(url, ::testing::StartsWith("http://127.0.0.1:"));

  // It keeps serving: the CLI reaches it with the printed credentials.
  const std::string password_file = (temp.path() / "data" / "admin-password").string();
  std::ifstream in(password_file);
  std::string password;
  std::getline(in, password);
  const std::vector<std::string> env = {"XDG_CONFIG_HOME=" + (temp.path() / "config").string()};
  EXPECT_EQ(RunMilf({"login", "--server", url, "--user", "admin", "--password-stdin"}, env, password).exit_code, 0);
  const CommandResult echoed = RunMilf({"invoke", "echo", "--data", "still up"}, env);
  EXPECT_EQ(echoed.out, "still up") << echoed.err;

  child.Signal(SIGINT);
  const auto status = child.WaitExit(milliseconds(30'000));
  ASSERT_TRUE(status) << "milf up did not stop on SIGINT";
  EXPECT_TRUE(WIFEXITED(*status)) << "ended by signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0) << child.Stderr();
  EXPECT_THAT(child.Stdout(), HasSubstr("interrupted, stopping"));
}

TEST(UpTest, ServesHelloAndStopsOnSigint) {
  TempDir temp;
  RunUpOnce(temp, "up-1", "hello v1, echo v1, sha256 v1, json_transform v1, compute v1, wasm_main v1, wordcount v1");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  RunUpOnce(temp, "up-2", "hello (unchanged), echo (unchanged)");
}

}  // namespace
}  // namespace milf::e2e
