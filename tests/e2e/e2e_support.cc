#include "e2e_support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "client/json.h"

extern char** environ;

namespace milf::e2e {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool IsScrubbed(std::string_view entry) {
  for (const char* name : {"MILF_SERVER=", "MILF_API_KEY=", "MILF_ADMIN_PASSWORD=", "XDG_CONFIG_HOME="}) {
    if (entry.starts_with(name)) return true;
  }
  return false;
}

std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!IsScrubbed(*entry)) env.emplace_back(*entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Result<pid_t> SpawnWithFiles(std::vector<std::string> argv, std::vector<std::string> env,
                             const fs::path& in, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  // A test runner may block signals; children start with none blocked.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, c_argv[0], &actions, &attributes, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) return Fail("spawn", "cannot start " + argv[0] + ": " + std::strerror(error));
  return pid;
}

}  // namespace

std::string MilfPath() { return std::string(MILF_BINARY_DIR) + "/bin/milf"; }

std::string ExamplePath(const std::string& name) {
  return std::string(MILF_BINARY_DIR) + "/examples/" + name + ".wasm";
}

std::string SleeperPath() { return std::string(MILF_BINARY_DIR) + "/tests/e2e/e2e_sleeper.wasm"; }

bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "milf-e2e-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

Result<std::unique_ptr<Child>> Child::Spawn(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env, const fs::path& log_dir,
                                            const std::string& label) {
  const fs::path out = log_dir / (label + ".out");
  const fs::path err = log_dir / (label + ".err");
  auto pid = SpawnWithFiles(argv, ChildEnvironment(env), "/dev/null", out, err);
  if (!pid) return Fail(std::move(pid).error());
  return std::unique_ptr<Child>(new Child(*pid, out, err));
}

Child::Child(pid_t pid, fs::path out, fs::path err) : pid_(pid), out_(std::move(out)), err_(std::move(err)) {}

Child::~Child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Child::Signal(int signal) const {
  if (!reaped_) ::kill(pid_, signal);
}

std::optional<int> Child::WaitExit(milliseconds timeout) {
  WaitUntil(
      [&] {
        if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
        return reaped_;
      },
      timeout);
  return reaped_ ? std::optional<int>(status_) : std::nullopt;
}

bool Child::running() { return !reaped_ && !WaitExit(milliseconds(0)); }

std::string Child::Stdout() const { return ReadFile(out_); }

std::string Child::Stderr() const { return ReadFile(err_); }

CommandResult RunMilf(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::string& stdin_data, milliseconds timeout) {
  TempDir temp;
  const fs::path in = temp.path() / "stdin";
  std::ofstream(in, std::ios::binary) << stdin_data;
  std::vector<std::string> argv = {MilfPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result;
  auto pid = SpawnWithFiles(argv, ChildEnvironment(env), in, temp.path() / "out", temp.path() / "err");
  if (!pid) {
    result.err = pid.error().message;
    return result;
  }
  int status = 0;
  const bool exited = WaitUntil([&] { return ::waitpid(*pid, &status, WNOHANG) == *pid; }, timeout);
  if (!exited) {
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, &status, 0);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(temp.path() / "out");
  result.err = ReadFile(temp.path() / "err");
  return result;
}

Cluster::Cluster() : data_dir_(temp_.path() / "data") {
  StartServer("127.0.0.1:0");
}

Cluster::~Cluster() {
  for (auto& [name, node] : nodes_) node->Signal(SIGTERM);
  for (auto& [name, node] : nodes_) node->WaitExit(milliseconds(10'000));
  nodes_.clear();
  if (server_ != nullptr) {
    server_->Signal(SIGTERM);
    server_->WaitExit(milliseconds(10'000));
  }
}

void Cluster::StartServer(const std::string& listen) {
  const std::string label = "server-" + std::to_string(++server_starts_);
  auto child = Child::Spawn({MilfPath(), "server", "--listen", listen, "--data", data_dir_.string()},
                            {std::string("MILF_ADMIN_PASSWORD=") + kAdminPassword}, temp_.path(), label);
  ASSERT_TRUE(child) << child.error().message;
  server_ = std::move(*child);
  const std::string marker = "listening on ";
  std::string out;
  const bool up = WaitUntil(
      [&] {
        out = server_->Stdout();
        const bool listening =
            out.find(marker) != std::string::npos && out.find(" (data in", out.find(marker)) != std::string::npos;
        return listening || !server_->running();
      },
      milliseconds(30'000));
  ASSERT_TRUE(up && server_->running()) << "the server did not start; stdout:\n"
                                         << out << "\nstderr:\n" << server_->Stderr();
  const std::size_t start = out.find(marker) + marker.size();
  url_ = out.substr(start, out.find(' ', start) - start);
  auto parsed = client::ParseServerUrl(url_);
  ASSERT_TRUE(parsed) << url_;
  port_ = parsed->port;
  admin_.reset();
}

void Cluster::KillServer() {
  server_->Signal(SIGKILL);
  ASSERT_TRUE(server_->WaitExit(milliseconds(10'000)));
}

void Cluster::RestartServer() { StartServer("127.0.0.1:" + std::to_string(port_)); }

std::unique_ptr<client::ApiClient> Cluster::SessionAs(const std::string& user, const std::string& password) {
  auto url = client::ParseServerUrl(url_);
  auto http = client::HttpClient::Create(*url);
  auto credentials = client::Login(**http, user, password, SystemClock());
  if (!credentials) {
    ADD_FAILURE() << "login as " << user << ": " << credentials.error().message;
    return nullptr;
  }
  auto api = client::ApiClient::WithToken(*url, credentials->access_token);
  return api ? std::move(*api) : nullptr;
}

client::ApiClient& Cluster::admin() {
  if (admin_ == nullptr) admin_ = SessionAs("admin", kAdminPassword);
  return *admin_;
}

void Cluster::AddUser(const std::string& name, const std::string& password) {
  auto created = admin().CallJson("POST", "/users",
                                  boost::json::object{{"name", name}, {"password", password}, {"role", "developer"}});
  ASSERT_TRUE(created) << created.error().message;
}

std::vector<std::string> Cluster::CliEnvFor(const std::string& user, const std::string& password) {
  auto session = SessionAs(user, password);
  if (session == nullptr) return {};
  auto key = session->CallJson("POST", "/keys", boost::json::object{{"name", "e2e-cli"}});
  if (!key) {
    ADD_FAILURE() << "creating an API key: " << key.error().message;
    return {};
  }
  const fs::path home = temp_.path() / ("home-" + user);
  fs::create_directories(home);
  return {"MILF_SERVER=" + url_, "MILF_API_KEY=" + client::GetString(*key, "key"), "HOME=" + home.string(),
          "XDG_CONFIG_HOME=" + (home / "config").string()};
}

std::string Cluster::StartNode(const std::string& name, int slots) {
  auto token = admin().CallJson("POST", "/tokens/node", boost::json::object{});
  if (!token) {
    ADD_FAILURE() << "creating a node token: " << token.error().message;
    return "";
  }
  auto child = Child::Spawn({MilfPath(), "node", "--server", url_, "--token", client::GetString(*token, "token"),
                             "--slots", std::to_string(slots), "--data", (temp_.path() / ("node-" + name)).string(),
                             "--name", name},
                            {}, temp_.path(), "node-" + name);
  if (!child) {
    ADD_FAILURE() << child.error().message;
    return "";
  }
  nodes_[name] = std::move(*child);
  if (!WaitNodeOnline(name, true, milliseconds(30'000))) {
    ADD_FAILURE() << "node " << name << " did not come online; stderr:\n" << nodes_[name]->Stderr();
    return "";
  }
  return node_ids_[name];
}

bool Cluster::WaitNodeOnline(const std::string& name, bool online, milliseconds timeout) {
  return WaitUntil(
      [&] {
        auto nodes = admin().CallJson("GET", "/nodes");
        if (!nodes) return false;
        for (const auto& node : client::GetArray(*nodes, "nodes")) {
          if (client::GetString(node, "name") != name) continue;
          node_ids_[name] = client::GetString(node, "id");
          if (client::GetBool(node, "online").value_or(false) == online) return true;
        }
        return false;
      },
      timeout);
}

void Cluster::Deploy(client::ApiClient& api, const std::string& name, const std::string& path,
                     const std::string& query) {
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing module " << path;
  client::HttpRequest request;
  request.method = "PUT";
  request.target = "/functions/" + name + query;
  request.content_type = "application/wasm";
  request.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  auto response = api.Call(std::move(request));
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_EQ(response->status, 201) << response->body;
}

boost::json::value Cluster::WaitFinished(client::ApiClient& api, const std::string& id, milliseconds timeout) {
  boost::json::value record;
  const bool finished = WaitUntil(
      [&] {
        auto got = api.CallJson("GET", "/invocations/" + id);
        if (!got) return false;
        record = std::move(*got);
        const std::string state = client::GetString(record, "state");
        return state == "succeeded" || state == "failed" || state == "timed_out";
      },
      timeout);
  if (!finished) ADD_FAILURE() << "invocation " << id << " did not finish: " << boost::json::serialize(record);
  return record;
}

}  // namespace milf::e2e
