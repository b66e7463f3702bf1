// bench_backbone: the backbone end to end on loopback, with real processes.
//
//  1. latency: `milf server` + one `milf node`; one client invokes a trivial
//     function synchronously in a closed loop over one kept-alive
//     connection; p50/p99/p99.9 of the round trip (HTTP in, queue, dispatch
//     over the node's WebSocket, sandboxed run, result back, HTTP out).
//     Baseline in the same run: GET /healthz on the same connection, the
//     HTTP cost alone.
//  2. throughput: a second node joins; N closed-loop clients (default 64),
//     each on its own kept-alive connection, for a bounded time; completed
//     invocations per second.
//
// With each figure it prints the CPU time the run cost per invocation, per
// process (server; nodes with their sandbox workers; this load generator),
// from /proc: wall-clock figures on a shared machine are noisy, CPU time
// per invocation much less so. The throughput line also gives the load
// average, to judge how busy the machine was.
//
// Usage: bench_backbone [--latency-seconds S] [--throughput-seconds S]
//                       [--clients N] [--slots N] [--milf PATH]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/api_client.h"
#include "client/json.h"
#include "support/wat.h"

extern char** environ;

namespace milf::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kWarmup = 100;  // requests before each latency measurement
constexpr char kAdminPassword[] = "bench-admin-password";
// The smallest function there is: _start returns at once, no output.
constexpr char kTrivialWat[] = R"((module (memory (export "memory") 1) (func (export "_start"))))";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_backbone: %s\n", message.c_str());
  std::exit(1);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A child process, stopped with SIGTERM (then SIGKILL) when destroyed.
class Process {
 public:
  Process(std::vector<std::string> argv, const fs::path& log, const std::string& extra_env = "") {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
    if (!extra_env.empty()) env.push_back(extra_env);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> c_argv;
    for (std::string& arg : argv) c_argv.push_back(arg.data());
    c_argv.push_back(nullptr);
    std::vector<char*> c_env;
    for (std::string& entry : env) c_env.push_back(entry.data());
    c_env.push_back(nullptr);
    if (posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data()) != 0) {
      Die("cannot start " + argv[0]);
    }
    posix_spawn_file_actions_destroy(&actions);
  }

  pid_t pid() const { return pid_; }

  ~Process() {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  pid_t pid_ = 0;
};

template <class Condition>
void WaitFor(const std::string& what, Condition condition) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!condition()) {
    if (Clock::now() > deadline) Die("timed out waiting for " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// CPU seconds (user + system) a process and its live descendants have
// used, from /proc/PID/stat. Descendants count so that a node's sandbox
// workers are charged to it; workers that exited are in their parent's
// children times once reaped, which /proc also reports.
double CpuSeconds(pid_t root) {
  struct Stat {
    pid_t parent = 0;
    double seconds = 0;
  };
  std::map<pid_t, Stat> all;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadFile(entry.path() / "stat");
    // The command name (field 2) may hold spaces; the fields after it do not.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    Stat parsed;
    double skip = 0;
    double utime = 0;
    double stime = 0;
    double cutime = 0;
    double cstime = 0;
    fields >> state >> parsed.parent;
    for (int field = 5; field <= 13; ++field) fields >> skip;
    fields >> utime >> stime >> cutime >> cstime;
    if (!fields) continue;
    parsed.seconds = (utime + stime + cutime + cstime) / ticks;
    all.emplace(std::stoi(name), parsed);
  }
  double total = 0;
  for (const auto& [pid, stat] : all) {
    for (pid_t at = pid; at > 1;) {
      if (at == root) {
        total += stat.seconds;
        break;
      }
      const auto up = all.find(at);
      if (up == all.end()) break;
      at = up->second.parent;
    }
  }
  return total;
}

std::string LoadAverage() {
  const std::string text = ReadFile("/proc/loadavg");
  std::istringstream fields(text);
  std::string one, five, fifteen;
  fields >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// CPU seconds of the server, the nodes and this process, sampled together.
struct CpuSample {
  double server = 0;
  double nodes = 0;
  double loadgen = 0;
};

double Percentile(std::vector<double>& sorted, double p) {
  const std::size_t index = std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())));
  return sorted[index];
}

void ReportCpu(const CpuSample& before, const CpuSample& after, std::uint64_t invocations) {
  if (invocations == 0) return;
  const double n = static_cast<double>(invocations);
  const double server = (after.server - before.server) * 1e6 / n;
  const double nodes = (after.nodes - before.nodes) * 1e6 / n;
  const double loadgen = (after.loadgen - before.loadgen) * 1e6 / n;
  std::printf("%-38s server=%.0f us  nodes+workers=%.0f us  loadgen=%.0f us  total=%.0f us\n",
              "  cpu per invocation", server, nodes, loadgen, server + nodes + loadgen);
  std::fflush(stdout);
}

void Report(const std::string& label, std::vector<double> micros) {
  if (micros.empty()) Die(label + ": nothing measured");
  std::sort(micros.begin(), micros.end());
  double sum = 0;
  for (double m : micros) sum += m;
  std::printf("%-38s n=%-7zu p50=%.3f ms  p99=%.3f ms  p99.9=%.3f ms  mean=%.3f ms  max=%.3f ms\n", label.c_str(),
              micros.size(), Percentile(micros, 0.5) / 1000, Percentile(micros, 0.99) / 1000,
              Percentile(micros, 0.999) / 1000, sum / static_cast<double>(micros.size()) / 1000,
              micros.back() / 1000);
  std::fflush(stdout);
}

// One closed-loop client per connection, all on one io_context.
class LoadClient : public std::enable_shared_from_this<LoadClient> {
 public:
  LoadClient(asio::io_context& io, const tcp::resolver::results_type& endpoints, std::string host,
             std::string target, std::string token, Clock::time_point end, std::atomic<std::uint64_t>& done,
             std::atomic<std::uint64_t>& failed)
      : stream_(io), endpoints_(endpoints), end_(end), done_(done), failed_(failed) {
    request_ = {http::verb::post, target, 11};
    request_.set(http::field::host, host);
    request_.set(http::field::authorization, "Bearer " + token);
    request_.keep_alive(true);
    request_.prepare_payload();
  }

  void Start() {
    stream_.async_connect(endpoints_, [self = shared_from_this()](beast::error_code error, const tcp::endpoint&) {
      if (error) Die("connect: " + error.message());
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->Send();
    });
  }

 private:
  void Send() {
    if (Clock::now() >= end_) return;
    response_ = {};
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code error, std::size_t) {
      if (error) Die("write: " + error.message());
      http::async_read(self->stream_, self->buffer_, self->response_,
                       [self](beast::error_code read_error, std::size_t) {
                         if (read_error) Die("read: " + read_error.message());
                         const bool ok = self->response_.result_int() == 200 &&
                                         self->response_["X-Milf-Status"] == "succeeded";
                         (ok ? self->done_ : self->failed_)++;
                         self->Send();
                       });
    });
  }

  beast::tcp_stream stream_;
  tcp::resolver::results_type endpoints_;
  Clock::time_point end_;
  std::atomic<std::uint64_t>& done_;
  std::atomic<std::uint64_t>& failed_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

struct Options {
  double latency_seconds = 5;
  double throughput_seconds = 10;
  int clients = 64;
  int slots = 4;
  std::string milf = std::string(MILF_BINARY_DIR) + "/bin/milf";
};

class Bench {
 public:
  explicit Bench(Options options) : options_(std::move(options)) {
    char pattern[] = "/tmp/milf-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) Die("cannot create a temporary directory");
    dir_ = pattern;
  }
  ~Bench() {
    nodes_.clear();
    server_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void StartServer() {
    const fs::path log = dir_ / "server.log";
    server_ = std::make_unique<Process>(
        std::vector<std::string>{options_.milf, "server", "--listen", "127.0.0.1:0", "--data", (dir_ / "data").string()},
        log, std::string("MILF_ADMIN_PASSWORD=") + kAdminPassword);
    std::string out;
    WaitFor("the server", [&] {
      out = ReadFile(log);
      return out.find(" (data in") != std::string::npos;
    });
    const std::string marker = "listening on ";
    const auto start = out.find(marker) + marker.size();
    url_ = *client::ParseServerUrl(out.substr(start, out.find(' ', start) - start));
    auto http = client::HttpClient::Create(url_);
    auto credentials = client::Login(**http, "admin", kAdminPassword, SystemClock());
    if (!credentials) Die("login: " + credentials.error().message);
    token_ = credentials->access_token;
    auto api = client::ApiClient::WithToken(url_, token_);
    if (!api) Die(api.error().message);
    api_ = std::move(*api);
    // The default quota (64 at once) would count in-flight invocations of
    // the 64 clients; the benchmark measures the platform, not the quota.
    auto quota = api_->CallJson("PUT", "/users/admin/quota",
                                boost::json::object{{"max_concurrent", 100'000},
                                                    {"max_per_day", 1'000'000'000},
                                                    {"max_memory_mb", 512}});
    if (!quota) Die("quota: " + quota.error().message);
    auto wasm = testing::WatToWasm(kTrivialWat);
    if (!wasm) Die("wat: " + wasm.error().message);
    client::HttpRequest deploy;
    deploy.method = "PUT";
    deploy.target = "/functions/noop";
    deploy.body.assign(wasm->begin(), wasm->end());
    if (auto deployed = api_->Call(deploy); !deployed) Die("deploy: " + deployed.error().message);
  }

  void StartNode(const std::string& name) {
    auto token = api_->CallJson("POST", "/tokens/node", boost::json::object{});
    if (!token) Die("token: " + token.error().message);
    nodes_.push_back(std::make_unique<Process>(
        std::vector<std::string>{options_.milf, "node", "--server", url_.ToString(), "--token",
                                 client::GetString(*token, "token"), "--slots", std::to_string(options_.slots),
                                 "--data", (dir_ / name).string(), "--name", name},
        dir_ / (name + ".log")));
    WaitFor("node " + name, [&] {
      auto nodes = api_->CallJson("GET", "/nodes");
      if (!nodes) return false;
      for (const auto& node : client::GetArray(*nodes, "nodes")) {
        if (client::GetString(node, "name") == name && client::GetBool(node, "online").value_or(false)) return true;
      }
      return false;
    });
  }

  CpuSample Cpu() const {
    CpuSample sample;
    sample.server = CpuSeconds(server_->pid());
    for (const auto& node : nodes_) sample.nodes += CpuSeconds(node->pid());
    sample.loadgen = CpuSeconds(::getpid()) - sample.server - sample.nodes;
    return sample;
  }

  void Latency() {
    auto http = client::HttpClient::Create(url_);
    client::HttpRequest invoke;
    invoke.method = "POST";
    invoke.target = std::string(client::kApiPrefix) + "/functions/noop/invoke";
    invoke.headers = {{"Authorization", "Bearer " + token_}};
    client::HttpRequest health;
    health.target = "/healthz";
    const auto measure = [&](const client::HttpRequest& request, double seconds, bool invocation) {
      std::vector<double> micros;
      for (int warmup = 0; warmup < kWarmup; ++warmup) (void)(*http)->Send(request);
      const auto end = Clock::now() + std::chrono::duration<double>(seconds);
      while (Clock::now() < end) {
        const auto start = Clock::now();
        auto response = (*http)->Send(request);
        const auto elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        if (!response || response->status != 200 ||
            (invocation && response->Header("x-milf-status") != "succeeded")) {
          Die("request failed: " + (response ? response->body : response.error().message));
        }
        micros.push_back(elapsed);
      }
      return micros;
    };
    Report("baseline: GET /healthz", measure(health, 1, false));
    const CpuSample before = Cpu();
    auto micros = measure(invoke, options_.latency_seconds, true);
    const CpuSample after = Cpu();
    const std::size_t count = micros.size() + kWarmup;  // the CPU figures include the warm-up
    Report("sync invoke, 1 node, 1 client", std::move(micros));
    ReportCpu(before, after, count);
  }

  void Throughput() {
    asio::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(url_.host, std::to_string(url_.port));
    std::atomic<std::uint64_t> done = 0;
    std::atomic<std::uint64_t> failed = 0;
    const CpuSample cpu_before = Cpu();
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options_.throughput_seconds));
    for (int i = 0; i < options_.clients; ++i) {
      std::make_shared<LoadClient>(io, endpoints, url_.HostHeader(), "/api/v1/functions/noop/invoke", token_, end,
                                   done, failed)
          ->Start();
    }
    io.run();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const CpuSample cpu_after = Cpu();
    std::printf("%-38s %.0f invocations/s  (%llu in %.1f s, %llu not succeeded; load average %s)\n",
                fmt::format("throughput, 2 nodes x {} slots, {} clients", options_.slots, options_.clients).c_str(),
                static_cast<double>(done) / seconds, static_cast<unsigned long long>(done.load()), seconds,
                static_cast<unsigned long long>(failed.load()), LoadAverage().c_str());
    ReportCpu(cpu_before, cpu_after, done + failed);
  }

 private:
  Options options_;
  fs::path dir_;
  std::unique_ptr<Process> server_;
  std::vector<std::unique_ptr<Process>> nodes_;
  client::ServerUrl url_;
  std::string token_;
  std::unique_ptr<client::ApiClient> api_;
};

}  // namespace
}  // namespace milf::bench

int main(int argc, char** argv) {
  milf::bench::Options options;
  CLI::App app{"bench_backbone: invoke latency and throughput through server and nodes on loopback"};
  app.add_option("--latency-seconds", options.latency_seconds, "Duration of the latency run")->capture_default_str();
  app.add_option("--throughput-seconds", options.throughput_seconds, "Duration of the throughput run")
      ->capture_default_str();
  app.add_option("--clients", options.clients, "Concurrent closed-loop clients")->capture_default_str();
  app.add_option("--slots", options.slots, "Slots per node")->capture_default_str();
  app.add_option("--milf", options.milf, "The milf binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);

  milf::bench::Bench bench(options);
  bench.StartServer();
  bench.StartNode("bench-1");
  bench.Latency();
  bench.StartNode("bench-2");
  bench.Throughput();
  return 0;
}
