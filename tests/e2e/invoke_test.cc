// End to end: deploy, sync, async and batch invocations, tenant isolation,
// the CLI's session handling and its tables and --json, all through a real
// `milf server`, a real `milf node` and the `milf` CLI as subprocesses.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "client/json.h"
#include "e2e_support.h"

namespace milf::e2e {
namespace {

using client::GetArray;
using client::GetInt;
using client::GetString;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr milliseconds kJobTimeout{60'000};

std::string OneLine(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n') == 1 && text.back() == '\n' ? text : "not one line: " + text;
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class InvokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<Cluster>();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_FALSE(cluster_->StartNode("n1", 2).empty());
    env_ = cluster_->CliEnvFor("admin", Cluster::kAdminPassword);
    ASSERT_FALSE(env_.empty());
  }

  CommandResult Milf(const std::vector<std::string>& args, const std::string& input = "") {
    return RunMilf(args, env_, input);
  }

  std::unique_ptr<Cluster> cluster_;
  std::vector<std::string> env_;
};

TEST_F(InvokeTest, DeployAndInvokeSynchronously) {
  CommandResult deployed = Milf({"fn", "deploy", "echo", ExamplePath("echo"), "--memory", "32", "--timeout", "5",
                                 "--env", "GREETING=hi", "--fuel", "100000000"});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.err;
  EXPECT_THAT(deployed.out, StartsWith("Deployed echo version 1 ("));
  EXPECT_THAT(deployed.out, HasSubstr("32 MB"));

  CommandResult invoked = Milf({"invoke", "echo", "--data", "round trip"});
  EXPECT_EQ(invoked.exit_code, 0) << invoked.err;
  EXPECT_EQ(invoked.out, "round trip");
  EXPECT_EQ(invoked.err, "");

  invoked = Milf({"invoke", "echo", "--data", "-"}, std::string("from stdin\n\0binary\xff", 19));
  EXPECT_EQ(invoked.exit_code, 0) << invoked.err;
  EXPECT_EQ(invoked.out, std::string("from stdin\n\0binary\xff", 19));

  const std::string file = (cluster_->dir() / "input.txt").string();
  std::ofstream(file) << "from a file";
  invoked = Milf({"invoke", "echo", "--data", "@" + file});
  EXPECT_EQ(invoked.out, "from a file");

  invoked = Milf({"invoke", "echo", "--data", "as json", "--json"});
  ASSERT_EQ(invoked.exit_code, 0) << invoked.err;
  auto record = client::ParseJson(invoked.out);
  ASSERT_TRUE(record) << invoked.out;
  EXPECT_EQ(GetString(*record, "state"), "succeeded");
  EXPECT_EQ(GetString(*record, "function"), "echo");

  // A second deploy is a new version.
  deployed = Milf({"fn", "deploy", "echo", ExamplePath("echo"), "--json"});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.err;
  auto answer = client::ParseJson(deployed.out);
  ASSERT_TRUE(answer) << deployed.out;
  EXPECT_EQ(GetInt(*answer, "version"), 2);
}

TEST_F(InvokeTest, FailedRunsExitNonZeroWithOneLine) {
  ASSERT_EQ(Milf({"fn", "deploy", "json_transform", ExamplePath("json_transform")}).exit_code, 0);
  const CommandResult failed = Milf({"invoke", "json_transform", "--data", "{\"name\":"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.out, "");
  EXPECT_EQ(OneLine(failed.err), failed.err);
  EXPECT_THAT(failed.err, StartsWith("milf: invocation "));
  EXPECT_THAT(failed.err, HasSubstr("failed"));

  const CommandResult ok = Milf({"invoke", "json_transform", "--data", R"({"name":"x","values":[1,2,3]})"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("\"sum\":6"));
}

TEST_F(InvokeTest, AsyncAndBatchInvocationsComplete) {
  cluster_->Deploy(cluster_->admin(), "echo", ExamplePath("echo"));
  const CommandResult queued = Milf({"invoke", "echo", "--data", "later", "--async"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  const std::string id = Trim(queued.out);
  ASSERT_EQ(id.size(), 26u) << queued.out;
  const auto record = cluster_->WaitFinished(cluster_->admin(), id, kJobTimeout);
  EXPECT_EQ(GetString(record, "state"), "succeeded");

  const CommandResult output = Milf({"inv", "output", id});
  EXPECT_EQ(output.out, "later");
  const CommandResult logs = Milf({"inv", "logs", id});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "later");
  const CommandResult shown = Milf({"inv", "show", id});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("succeeded"));
  EXPECT_THAT(shown.out, HasSubstr(cluster_->NodeIdOf("n1")));

  boost::json::array inputs;
  for (int i = 0; i < 20; ++i) {
    const std::string input = "item " + std::to_string(i);
    inputs.emplace_back(Base64Encode({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}));
  }
  auto batch = cluster_->admin().CallJson("POST", "/functions/echo/batch", boost::json::object{{"inputs", inputs}});
  ASSERT_TRUE(batch) << batch.error().message;
  const auto& ids = GetArray(*batch, "ids");
  ASSERT_EQ(ids.size(), 20u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string batch_id(ids[i].as_string());
    EXPECT_EQ(GetString(cluster_->WaitFinished(cluster_->admin(), batch_id, kJobTimeout), "state"), "succeeded");
    client::HttpRequest request;
    request.target = "/invocations/" + batch_id + "/output";
    auto bytes = cluster_->admin().Call(request);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->body, "item " + std::to_string(i));
  }
}

TEST_F(InvokeTest, ASecondUserCannotSeeOrInvokeTheFirstUsersFunction) {
  cluster_->Deploy(cluster_->admin(), "echo", ExamplePath("echo"));
  auto queued = cluster_->admin().CallJson("POST", "/functions/echo/invoke?async=1");
  ASSERT_TRUE(queued);
  const std::string id = GetString(*queued, "id");

  cluster_->AddUser("bob", "bob-password-1");
  auto bob = cluster_->SessionAs("bob", "bob-password-1");
  ASSERT_NE(bob, nullptr);
  const auto expect_404 = [&](const std::string& method, const std::string& target) {
    client::HttpRequest request;
    request.method = method;
    request.target = target;
    auto response = bob->Send(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 404) << method << " " << target << ": " << response->body;
    EXPECT_EQ(client::ErrorFromResponse(*response).code, "not_found");
  };
  expect_404("GET", "/functions/echo");
  expect_404("POST", "/functions/echo/invoke");
  expect_404("POST", "/functions/echo/invoke?async=1");
  expect_404("DELETE", "/functions/echo");
  expect_404("GET", "/functions/echo/schedules");
  expect_404("GET", "/invocations/" + id);
  expect_404("GET", "/invocations/" + id + "/output");
  expect_404("GET", "/invocations/" + id + "/logs");
  auto listed = bob->CallJson("GET", "/functions");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(GetArray(*listed, "functions").empty());
  auto invocations = bob->CallJson("GET", "/invocations");
  ASSERT_TRUE(invocations);
  EXPECT_TRUE(GetArray(*invocations, "invocations").empty());

  const auto bob_env = cluster_->CliEnvFor("bob", "bob-password-1");
  const CommandResult cli = RunMilf({"invoke", "echo", "--data", "x"}, bob_env);
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_EQ(OneLine(cli.err), cli.err);
  EXPECT_THAT(cli.err, HasSubstr("(404 not_found)"));

  // The same name is free for bob and stays separate.
  cluster_->Deploy(*bob, "echo", ExamplePath("hello"));
  auto mine = cluster_->admin().CallJson("GET", "/functions/echo");
  ASSERT_TRUE(mine);
  EXPECT_EQ(GetInt(*mine, "latest_version"), 1);
  EXPECT_EQ(RunMilf({"invoke", "echo"}, bob_env).out, "Hello from MILF!\n");
  EXPECT_EQ(Milf({"invoke", "echo", "--data", "admin's"}).out, "admin's");
}

TEST_F(InvokeTest, LoginKeepsAPrivateSessionAndRefreshesIt) {
  const std::string config = (cluster_->dir() / "login-config").string();
  const std::vector<std::string> env = {"XDG_CONFIG_HOME=" + config, "HOME=" + cluster_->dir().string()};
  CommandResult login = RunMilf({"login", "--server", cluster_->url(), "--user", "admin", "--password-stdin"}, env,
                                std::string(Cluster::kAdminPassword) + "\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_EQ(login.out, "Logged in to " + cluster_->url() + " as admin.\n");
  const std::string path = config + "/milf/credentials";
  struct stat info{};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(RunMilf({"fn", "ls"}, env).exit_code, 0);

  // An expired access token is refreshed, and the rotated tokens saved.
  auto saved = client::LoadCredentials(path);
  ASSERT_TRUE(saved && *saved);
  client::Credentials expired = **saved;
  expired.access_expires_at_ms = 0;
  ASSERT_TRUE(client::SaveCredentials(path, expired));
  CommandResult listed = RunMilf({"fn", "ls"}, env);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  auto refreshed = client::LoadCredentials(path);
  EXPECT_NE((*refreshed)->refresh_token, expired.refresh_token);
  EXPECT_GT((*refreshed)->access_expires_at_ms, 0);

  // A token the server rejects is refreshed once and the request retried.
  client::Credentials forged = **refreshed;
  forged.access_token = "not-a-token";
  ASSERT_TRUE(client::SaveCredentials(path, forged));
  listed = RunMilf({"fn", "ls"}, env);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;

  // The old refresh token was used up: a session holding it must log in again.
  client::Credentials stale = **refreshed;
  stale.access_expires_at_ms = 0;
  ASSERT_TRUE(client::SaveCredentials(path, stale));
  listed = RunMilf({"fn", "ls"}, env);
  EXPECT_EQ(listed.exit_code, 1);
  EXPECT_EQ(OneLine(listed.err), listed.err);
  EXPECT_THAT(listed.err, HasSubstr("milf login --server " + cluster_->url()));

  CommandResult wrong = RunMilf({"login", "--server", cluster_->url(), "--user", "admin", "--password-stdin"}, env,
                                "wrong password\n");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("(401 unauthorized)"));

  const CommandResult logout = RunMilf({"logout"}, env);
  EXPECT_EQ(logout.out, "Logged out of " + cluster_->url() + ".\n");
  const CommandResult after = RunMilf({"fn", "ls"}, env);
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_EQ(after.err, "milf: not logged in: run `milf login --server URL`, or set MILF_SERVER and MILF_API_KEY\n");
}

// The header and every row start their columns at the same offsets.
void ExpectAligned(const std::string& table, const std::string& second_title) {
  std::istringstream lines(table);
  std::string header;
  std::getline(lines, header);
  const std::size_t column = header.find(second_title);
  ASSERT_NE(column, std::string::npos) << table;
  for (std::string row; std::getline(lines, row);) {
    ASSERT_GT(row.size(), column) << table;
    EXPECT_EQ(row[column - 1], ' ') << table;
    EXPECT_NE(row[column], ' ') << "row '" << row << "' in\n" << table;
  }
}

TEST_F(InvokeTest, CliPrintsTablesAndJson) {
  ASSERT_EQ(Milf({"fn", "deploy", "hello", ExamplePath("hello")}).exit_code, 0);
  ASSERT_EQ(Milf({"fn", "deploy", "echo", ExamplePath("echo"), "--env", "A=1", "--entry", "_start"}).exit_code, 0);
  ASSERT_EQ(Milf({"invoke", "hello"}).exit_code, 0);

  CommandResult r = Milf({"fn", "ls"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("NAME   VERSION  UPDATED"));
  EXPECT_THAT(r.out, HasSubstr("\necho "));
  EXPECT_THAT(r.out, HasSubstr("\nhello "));
  ExpectAligned(r.out, "UPDATED");
  r = Milf({"fn", "ls", "--json"});
  auto json = client::ParseJson(r.out);
  ASSERT_TRUE(json) << r.out;
  EXPECT_EQ(GetArray(*json, "functions").size(), 2u);

  r = Milf({"fn", "show", "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Latest version: 1"));
  EXPECT_THAT(r.out, HasSubstr("A=1"));
  EXPECT_THAT(r.out, HasSubstr("_start"));
  json = client::ParseJson(Milf({"fn", "show", "echo", "--json"}).out);
  ASSERT_TRUE(json);
  EXPECT_EQ(GetString(*json, "name"), "echo");

  r = Milf({"nodes", "ls"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("ID "));
  EXPECT_THAT(r.out, HasSubstr(" n1 "));
  EXPECT_THAT(r.out, HasSubstr("online"));
  ExpectAligned(r.out, "NAME");
  json = client::ParseJson(Milf({"nodes", "ls", "--json"}).out);
  ASSERT_TRUE(json);
  ASSERT_EQ(GetArray(*json, "nodes").size(), 1u);
  EXPECT_EQ(GetString(GetArray(*json, "nodes")[0], "name"), "n1");

  r = Milf({"inv", "ls", "--function", "hello", "--state", "succeeded", "--limit", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("ID "));
  EXPECT_THAT(r.out, HasSubstr(" hello "));
  ExpectAligned(r.out, "FUNCTION");
  json = client::ParseJson(Milf({"inv", "ls", "--json"}).out);
  ASSERT_TRUE(json);
  EXPECT_EQ(GetArray(*json, "invocations").size(), 1u);
  EXPECT_EQ(Milf({"inv", "ls", "--state", "bogus"}).exit_code, 2);

  r = Milf({"usage"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("MONTH"));
  EXPECT_THAT(r.out, HasSubstr("concurrent invocations allowed"));
  json = client::ParseJson(Milf({"usage", "--json"}).out);
  ASSERT_TRUE(json);
  EXPECT_NE(client::Member(*json, "months"), nullptr);

  r = Milf({"keys", "create", "ci"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("milf_"));
  EXPECT_THAT(r.err, HasSubstr("not shown again"));
  json = client::ParseJson(Milf({"keys", "ls", "--json"}).out);
  ASSERT_TRUE(json);
  std::string ci_id;
  for (const auto& key : GetArray(*json, "keys")) {
    if (GetString(key, "name") == "ci") ci_id = client::ScalarText(client::Member(key, "id"));
  }
  ASSERT_FALSE(ci_id.empty());
  EXPECT_THAT(Milf({"keys", "ls"}).out, HasSubstr(" ci "));
  EXPECT_EQ(Milf({"keys", "revoke", ci_id}).out, "Revoked API key " + ci_id + ".\n");
  EXPECT_THAT(Milf({"keys", "ls"}).out, ::testing::Not(HasSubstr(" ci ")));

  r = Milf({"token", "create-node", "--ttl", "600"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(Trim(r.out).size(), 16u);
  EXPECT_THAT(r.err, HasSubstr("milf node --server " + cluster_->url()));
  json = client::ParseJson(Milf({"token", "create-node", "--json"}).out);
  ASSERT_TRUE(json);
  EXPECT_FALSE(GetString(*json, "token").empty());

  r = Milf({"fn", "schedule", "echo", "*/5 * * * *", "--data", "tick"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Scheduled echo at '*/5 * * * *'"));
  json = client::ParseJson(Milf({"fn", "schedules", "echo", "--json"}).out);
  ASSERT_TRUE(json);
  ASSERT_EQ(GetArray(*json, "schedules").size(), 1u);
  const std::string schedule_id = client::ScalarText(client::Member(GetArray(*json, "schedules")[0], "id"));
  EXPECT_THAT(Milf({"fn", "schedules", "echo"}).out, HasSubstr("*/5 * * * *"));
  EXPECT_EQ(Milf({"fn", "schedule", "echo", "not cron"}).exit_code, 1);
  EXPECT_EQ(Milf({"fn", "unschedule", "echo", schedule_id}).exit_code, 0);
  EXPECT_EQ(Milf({"fn", "schedules", "echo"}).out, "No schedules for echo.\n");

  r = Milf({"fn", "rm", "hello"});
  EXPECT_EQ(r.out, "Deleted function hello.\n");
  EXPECT_THAT(Milf({"fn", "ls"}).out, ::testing::Not(HasSubstr("hello")));
  r = Milf({"fn", "show", "hello"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(404 not_found)"));
}

}  // namespace
}  // namespace milf::e2e
