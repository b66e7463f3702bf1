#include "cli/up_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/sha256.h"
#include "cli/client_commands_common.h"
#include "client/api_client.h"
#include "client/json.h"
#include "node/enrollment.h"
#include "node/node.h"
#include "node/server_url.h"
#include "server/server.h"

namespace milf::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 7> kExamples = {"hello", "echo", "sha256", "json_transform",
                                                  "compute", "wasm_main", "wordcount"};
constexpr char kAdmin[] = "admin";
constexpr std::int64_t kNodeTokenTtlSeconds = 600;

// Lines from several threads, whole.
class Console {
 public:
  void Out(const std::string& line) {
    std::lock_guard lock(mutex_);
    std::cout << line << std::endl;
  }
  void Err(const std::string& line) {
    std::lock_guard lock(mutex_);
    std::cerr << "milf up: " << line << std::endl;
  }

 private:
  std::mutex mutex_;
};

fs::path DefaultExamplesDir() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return "build/examples";
  return self.parent_path().parent_path() / "examples";
}

// The built dashboard near this binary: build/web beside build/bin (make
// build), else web/dist of the source tree holding build/ (npm run build).
std::optional<fs::path> DefaultWebRoot() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  const fs::path build = self.parent_path().parent_path();
  for (const fs::path& candidate : {build / "web", build.parent_path() / "web" / "dist"}) {
    if (fs::is_regular_file(candidate / "index.html", error)) return candidate;
  }
  return std::nullopt;
}

std::optional<std::string> ReadFirstLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) return std::nullopt;
  return line;
}

// Where this start can find the admin password, and what to tell the user.
struct AdminPassword {
  std::optional<std::string> password;
  std::string shown;
};

AdminPassword FindAdminPassword(const server::Server& server, const fs::path& data_dir) {
  const fs::path file = data_dir / "admin-password";
  if (auto generated = server.generated_admin_password()) {
    return {generated, *generated + "  (generated; also in " + file.string() + ")"};
  }
  if (const char* env = std::getenv("MILF_ADMIN_PASSWORD"); env != nullptr && *env != '\0') {
    return {std::string(env), "from $MILF_ADMIN_PASSWORD"};
  }
  if (auto stored = ReadFirstLine(file)) return {stored, *stored + "  (from " + file.string() + ")"};
  return {std::nullopt, "unknown (set when the data directory was created)"};
}

Result<std::unique_ptr<client::ApiClient>> SignInAsAdmin(const std::string& url, const std::string& password) {
  auto parsed = client::ParseServerUrl(url);
  if (!parsed) return Fail(std::move(parsed).error());
  auto http = client::HttpClient::Create(*parsed);
  if (!http) return Fail(std::move(http).error());
  auto credentials = client::Login(**http, kAdmin, password, SystemClock());
  if (!credentials) return Fail(std::move(credentials).error());
  client::HttpClientOptions options;
  options.request_timeout_ms = 120'000;
  return client::ApiClient::WithToken(*parsed, credentials->access_token, options);
}

// The sha256 of `name`'s latest version, or "" when it has none.
std::string DeployedSha256(client::ApiClient& api, const std::string& name) {
  auto shown = api.CallJson("GET", "/functions/" + Segment(name));
  if (!shown) return "";
  const auto latest = client::GetInt(*shown, "latest_version");
  for (const auto& version : client::GetArray(*shown, "versions")) {
    if (client::GetInt(version, "version") == latest) return client::GetString(version, "module_sha256");
  }
  return "";
}

// "hello v1" (deployed now) or "hello v1 (unchanged)".
Result<std::string> DeployExample(client::ApiClient& api, const std::string& name, const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail("io", "cannot open " + file.string() + ": " + std::strerror(errno));
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string sha256 = Sha256Hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (DeployedSha256(api, name) == sha256) return name + " (unchanged)";
  client::HttpRequest request;
  request.method = "PUT";
  request.target = "/functions/" + Segment(name);
  request.content_type = "application/wasm";
  request.body = bytes;
  auto response = api.Call(std::move(request));
  if (!response) return Fail(std::move(response).error());
  auto answer = client::ParseJson(response->body);
  if (!answer) return Fail(std::move(answer).error());
  return name + " v" + client::ScalarText(client::Member(*answer, "version"));
}

// Deploys the examples and invokes hello; runs beside the signal wait, so
// Ctrl-C is honoured even while it works.
void Showcase(client::ApiClient& api, const fs::path& examples_dir, const std::atomic<bool>& stopping,
              Console& console) {
  std::string deployed;
  bool have_hello = false;
  for (const char* name : kExamples) {
    const fs::path file = examples_dir / (std::string(name) + ".wasm");
    if (!fs::exists(file)) continue;
    auto result = DeployExample(api, name, file);
    if (stopping) return;
    if (!result) {
      console.Err("deploying " + std::string(name) + ": " + result.error().message);
      continue;
    }
    deployed += (deployed.empty() ? "" : ", ") + *result;
    have_hello = have_hello || std::string_view(name) == "hello";
  }
  if (deployed.empty()) {
    console.Err("no example modules in " + examples_dir.string() + " (build them with `make build`)");
  } else {
    console.Out("Functions:     " + deployed);
  }
  if (have_hello) {
    client::HttpRequest request;
    request.method = "POST";
    request.target = "/functions/hello/invoke";
    auto response = api.Call(std::move(request));
    if (stopping) return;
    if (!response) {
      console.Err("invoking hello: " + response.error().message);
    } else {
      std::string output = response->body;
      while (!output.empty() && output.back() == '\n') output.pop_back();
      console.Out("hello says:    " + output + "  [" + response->Header("x-milf-status").value_or("?") + " in " +
                  response->Header("x-milf-duration-ms").value_or("?") + " ms]");
    }
  }
  console.Out("\nPress Ctrl-C to stop.");
}

// Whether the local node holds a credential for this server (the port of
// --listen 127.0.0.1:0 differs on every start; credentials are per URL).
bool HasCredentialFor(const fs::path& node_dir, const std::string& url) {
  auto stored = node::LoadCredential(node_dir);
  auto parsed = node::ParseServerUrl(url);
  return stored && *stored && parsed && (*stored)->server == parsed->text;
}

std::optional<std::string> CreateNodeToken(client::ApiClient& api, Console& console) {
  auto answer = api.CallJson("POST", "/tokens/node", boost::json::object{{"ttl_seconds", kNodeTokenTtlSeconds}});
  if (!answer) {
    console.Err("creating the node's enrollment token: " + answer.error().message);
    return std::nullopt;
  }
  return client::GetString(*answer, "token");
}

}  // namespace

void AddUpCommand(CLI::App& app, int& exit_status) {
  auto options = std::make_shared<UpOptions>();
  CLI::App* command = app.add_subcommand("up", "Run a server and a local node in one process, with the examples");
  command->add_option("--listen", options->listen, "HOST:PORT to serve on (port 0: any free)")->capture_default_str();
  command->add_option("--data", options->data_dir, "Data directory")->capture_default_str();
  command->add_option("--slots", options->slots, "Slots of the local node")->check(CLI::Range(1, 256))->capture_default_str();
  command->add_option("--examples", options->examples_dir, "Directory of example .wasm modules (default: BIN/../examples)");
  command->add_option("--web", options->web_root,
                      "Serve the built dashboard in DIR at / (default: BIN/../web, else BIN/../../web/dist, if built)");
  command->callback([options, &exit_status] { exit_status = RunUp(*options); });
}

int RunUp(const UpOptions& options) {
  // Blocked before any thread starts, so every thread inherits the mask and
  // the signals wait for sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Console console;

  server::ServerOptions server_options;
  server_options.listen = options.listen;
  server_options.data_dir = options.data_dir;
  server_options.announce = nullptr;
  if (!options.web_root.empty()) {
    server_options.web_root = options.web_root;
  } else if (auto found = DefaultWebRoot()) {
    server_options.web_root = found->string();
  }
  const std::string web_root = server_options.web_root;
  auto started = server::Server::Start(std::move(server_options));
  if (!started) {
    console.Err("server: " + started.error().message);
    return 1;
  }
  server::Server& server = **started;
  const fs::path data_dir = options.data_dir;
  const AdminPassword admin = FindAdminPassword(server, data_dir);
  console.Out("MILF is up at  " + server.url());
  console.Out("Dashboard:     " + (web_root.empty() ? std::string("not built (make build puts it in build/web)")
                                                     : server.url() + "/  (from " + web_root + ")"));
  console.Out("Admin user:    " + std::string(kAdmin));
  console.Out("Password:      " + admin.shown);
  console.Out("Sign in with:  milf login --server " + server.url() + " --user admin");

  std::unique_ptr<client::ApiClient> api;
  if (admin.password) {
    auto signed_in = SignInAsAdmin(server.url(), *admin.password);
    if (signed_in) {
      api = std::move(*signed_in);
    } else {
      console.Err("cannot sign in as admin (" + signed_in.error().message + "); the examples are not deployed");
    }
  }

  node::NodeOptions node_options;
  node_options.server = server.url();
  node_options.slots = options.slots;
  node_options.data_dir = data_dir / "node";
  node_options.name = "local";
  node_options.log = [&console](const std::string& line) { console.Err("node: " + line); };
  if (!HasCredentialFor(node_options.data_dir, server.url())) {
    std::optional<std::string> token = api ? CreateNodeToken(*api, console) : std::nullopt;
    if (!token) {
      console.Err("the local node cannot enroll without the admin password");
      server.Stop();
      return 1;
    }
    node_options.token = *token;
  }
  auto node = node::Node::Start(std::move(node_options));
  if (!node) {
    console.Err("node: " + node.error().message);
    server.Stop();
    return 1;
  }
  console.Out("Local node:    local, " + std::to_string(options.slots) + " slot" + (options.slots == 1 ? "" : "s"));

  std::atomic<bool> stopping = false;
  Status node_status;
  std::thread node_waiter([&] {
    node_status = (*node)->Wait();
    // A node that ends on its own (a refused credential) ends `up` too.
    if (!stopping) ::kill(::getpid(), SIGTERM);
  });
  const fs::path examples = options.examples_dir.empty() ? DefaultExamplesDir() : fs::path(options.examples_dir);
  std::thread showcase;
  if (api) {
    showcase = std::thread([&] { Showcase(*api, examples, stopping, console); });
  } else {
    console.Out("\nPress Ctrl-C to stop.");
  }

  int received = 0;
  sigwait(&signals, &received);
  stopping = true;
  console.Out(std::string("\nmilf up: ") + (received == SIGINT ? "interrupted" : "terminated") + ", stopping");
  (*node)->Stop();
  node_waiter.join();
  server.Stop();
  if (showcase.joinable()) showcase.join();
  if (!node_status) {
    console.Err("node: " + node_status.error().message);
    return 1;
  }
  return 0;
}

}  // namespace milf::cli
