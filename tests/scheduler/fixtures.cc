#include "fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <variant>

#include "base/sha256.h"
#include "support/wat.h"

namespace milf::server::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "milf-sched-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::unique_ptr<store::Store> OpenStore(const std::filesystem::path& file) {
  auto store = store::OpenSqliteStore(file.string());
  if (!store) {
    ADD_FAILURE() << "cannot open the store: " << store.error().message;
    std::abort();
  }
  return std::move(*store);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// --- FakeChannel -----------------------------------------------------------

void FakeChannel::SendText(std::string text) {
  std::lock_guard lock(mutex_);
  texts_.push_back(std::move(text));
}

void FakeChannel::SendBinary(std::vector<std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  binaries_.push_back(std::move(bytes));
}

void FakeChannel::Close(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (!closed_) close_reason_ = reason;
  closed_ = true;
}

std::vector<proto::Message> FakeChannel::Messages() const {
  std::lock_guard lock(mutex_);
  std::vector<proto::Message> messages;
  for (const std::string& text : texts_) {
    auto decoded = proto::Decode(text);
    if (!decoded) {
      ADD_FAILURE() << "the server sent an undecodable message: " << text;
      continue;
    }
    messages.push_back(std::move(*decoded));
  }
  return messages;
}

std::vector<std::vector<std::uint8_t>> FakeChannel::Binaries() const {
  std::lock_guard lock(mutex_);
  return binaries_;
}

bool FakeChannel::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::string FakeChannel::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

// --- FakeNode --------------------------------------------------------------

FakeNode::FakeNode(NodeChannelHandler& handler, std::string node_id)
    : id_(std::move(node_id)), channel_(std::make_shared<FakeChannel>()) {
  events_ = handler.OnConnected(id_, channel_);
}

FakeNode::FakeNode(Harness& harness, std::string node_id)
    : id_(std::move(node_id)), channel_(std::make_shared<FakeChannel>()) {
  store::Node node;
  node.id = id_;
  node.name = id_;
  node.secret_hash = std::string(64, '0');
  node.target = "x86_64-linux";
  node.created_at = harness.clock.NowMs();
  EXPECT_TRUE(harness.store->UpsertNode(node).ok());
  events_ = harness.scheduler->OnConnected(id_, channel_);
}

FakeNode::~FakeNode() { Disconnect(); }

void FakeNode::SendHello(int slots, std::vector<std::string> running,
                         std::vector<std::string> cached) {
  proto::Hello hello;
  hello.node_name = id_;
  hello.target = "x86_64-linux";
  hello.slots = slots;
  hello.running = std::move(running);
  hello.cached_modules = std::move(cached);
  SendRaw(proto::Encode(hello));
}

void FakeNode::SendHeartbeat(const proto::Telemetry& telemetry) {
  SendRaw(proto::Encode(proto::Heartbeat{telemetry}));
}

void FakeNode::SendStarted(const std::string& id) { SendRaw(proto::Encode(proto::JobStarted{id})); }

void FakeNode::SendResult(const std::string& id, const std::string& status,
                          const std::string& output) {
  proto::JobResult result;
  result.invocation_id = id;
  result.status = status;
  result.exit_code = status == "ok" ? 0 : 1;
  result.message = status == "ok" ? "" : "it went " + status;
  result.fuel_used = 1234;
  result.peak_memory_bytes = 65536;
  result.wall_micros = 2'500'000;  // 2.5 s
  result.output.assign(output.begin(), output.end());
  result.stderr_data = {'e', 'r', 'r'};
  result.output_sha256 = Sha256Hex(result.output);
  SendRaw(proto::Encode(result));
}

void FakeNode::SendRaw(const std::string& text) {
  if (!closed_) events_.on_text(text);
}

void FakeNode::SendBinary(std::vector<std::uint8_t> bytes) {
  if (!closed_) events_.on_binary(std::move(bytes));
}

void FakeNode::Disconnect() {
  if (closed_) return;
  closed_ = true;
  events_.on_closed();
}

std::vector<proto::Job> FakeNode::Jobs() const {
  std::vector<proto::Job> jobs;
  for (auto& message : channel_->Messages()) {
    if (auto* job = std::get_if<proto::Job>(&message)) jobs.push_back(std::move(*job));
  }
  return jobs;
}

std::vector<std::string> FakeNode::JobIds() const {
  std::vector<std::string> ids;
  for (const proto::Job& job : Jobs()) ids.push_back(job.invocation_id);
  return ids;
}

bool FakeNode::WaitForJobs(std::size_t count) const {
  return WaitFor([&] { return Jobs().size() >= count; });
}

std::vector<proto::Job> FakeNode::AwaitJobs(std::size_t count) const {
  EXPECT_TRUE(WaitForJobs(count)) << id_ << " got " << Jobs().size() << " jobs, not " << count;
  return Jobs();
}

std::vector<std::string> FakeNode::AwaitJobIds(std::size_t count) const {
  AwaitJobs(count);
  return JobIds();
}

proto::Telemetry Telemetry(int slots, bool accepting, std::uint64_t mem_free_mb) {
  proto::Telemetry telemetry;
  telemetry.cpu_load = 0.25;
  telemetry.mem_total_bytes = 8ull << 30;
  telemetry.mem_free_bytes = mem_free_mb << 20;
  telemetry.slots_total = slots;
  telemetry.accepting = accepting;
  if (!accepting) telemetry.refusal_reason = "battery below 20%";
  return telemetry;
}

// --- Answer ----------------------------------------------------------------

Reply Answer::reply() {
  return [state = state_](HttpResponse response) {
    std::lock_guard lock(state->mutex);
    ++state->calls;
    state->response = std::move(response);
    state->cv.notify_all();
  };
}

bool Answer::ready() const {
  std::lock_guard lock(state_->mutex);
  return state_->response.has_value();
}

int Answer::calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->calls;
}

HttpResponse Answer::Get() const {
  std::unique_lock lock(state_->mutex);
  if (!state_->cv.wait_for(lock, std::chrono::seconds(10),
                           [&] { return state_->response.has_value(); })) {
    ADD_FAILURE() << "no answer within 10 s";
    HttpResponse none;
    none.status = 0;
    return none;
  }
  return *state_->response;
}

std::optional<std::string> Answer::Header(const std::string& name) const {
  const HttpResponse response = Get();
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// --- Harness ---------------------------------------------------------------

SchedulerOptions Harness::Options() {
  SchedulerOptions options;
  options.heartbeat_interval_ms = 5;  // real time between ticks
  options.lease_ms = 10'000;          // manual-clock time
  options.max_attempts = 3;
  return options;
}

Harness::Harness(const std::filesystem::path& db, SchedulerOptions options_in, store::Millis start)
    : db_path(db),
      options(options_in),
      clock(start),
      store(std::make_unique<store::testing::ForwardingStore>(OpenStore(db))),
      work_(boost::asio::make_work_guard(io)) {
  subscription_ = events.Subscribe(std::nullopt, [this](const Event& event) {
    if (event.type != "invocation") return;
    boost::system::error_code ec;
    const boost::json::value data = boost::json::parse(event.json, ec);
    if (ec || !data.is_object()) return;
    const auto* state = data.as_object().if_contains("state");
    if (state == nullptr || !state->is_string()) return;
    const auto final_state = store::ParseState(std::string(state->as_string()));
    if (final_state == store::InvocationState::kSucceeded ||
        final_state == store::InvocationState::kFailed ||
        final_state == store::InvocationState::kTimedOut) {
      std::lock_guard lock(finished_mutex_);
      finished_.emplace_back(data.as_object().at("id").as_string());
    }
  });
  io_thread_ = std::thread([this] { io.run(); });
  module = milf::testing::Wasm(R"((module (func (export "_start"))))");
  module_sha256 = Sha256Hex(module);
  StartScheduler();
}

Harness::~Harness() {
  Stop();
  events.Unsubscribe(subscription_);
  work_.reset();
  io.stop();
  io_thread_.join();
}

void Harness::StartScheduler() {
  scheduler = std::make_unique<Scheduler>(*store, events, metrics, clock, options);
  router = std::make_unique<Router>();
  AddInvocationRoutes(*router, *scheduler, *store);
  scheduler->Start(io);
}

void Harness::Stop() {
  if (!scheduler) return;
  scheduler->Stop();
  router.reset();
  scheduler.reset();
}

void Harness::Restart() {
  Stop();
  store.reset();
  store = std::make_unique<store::testing::ForwardingStore>(OpenStore(db_path));
  StartScheduler();
}

std::int64_t Harness::AddUser(const std::string& name, store::Role role) {
  auto user = store->CreateUser(name, role, "not-a-hash", clock.NowMs());
  EXPECT_TRUE(user.ok());
  return user ? user->id : 0;
}

void Harness::Deploy(std::int64_t owner, const std::string& name, std::int64_t memory_mb,
                     std::int64_t timeout_ms) {
  ASSERT_TRUE(store->PutModule(module_sha256, module, clock.NowMs()).ok());
  store::FunctionSettings settings;
  settings.memory_mb = memory_mb;
  settings.timeout_ms = timeout_ms;
  settings.env = {"GREETING=hi"};
  ASSERT_TRUE(store
                  ->PutFunction(owner, name, module_sha256,
                                static_cast<std::int64_t>(module.size()), settings, clock.NowMs())
                  .ok());
}

Answer Harness::Call(std::int64_t user, const std::string& method, const std::string& target,
                     const std::string& body, store::Role role) {
  HttpRequest request;
  request.method = method;
  const auto question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string query = target.substr(question + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      const auto amp = std::min(query.find('&', start), query.size());
      const std::string pair = query.substr(start, amp - start);
      const auto equals = pair.find('=');
      if (!pair.empty()) {
        request.query.emplace(pair.substr(0, equals),
                              equals == std::string::npos ? "" : pair.substr(equals + 1));
      }
      start = amp + 1;
    }
  }
  request.body = body;
  request.remote_address = "127.0.0.1:1";
  Answer answer;
  const Router::Match match = router->Find(method, request.path);
  if (match.handler == nullptr) {
    ADD_FAILURE() << "no route for " << method << " " << request.path;
    answer.reply()(ErrorResponse(404, "not_found", "no route"));
    return answer;
  }
  HandlerContext ctx{request, match.params, Principal{user, "user", role}, answer.reply()};
  (*match.handler)(ctx);
  return answer;
}

HttpResponse Harness::Request(std::int64_t user, const std::string& method,
                              const std::string& target, const std::string& body,
                              store::Role role) {
  return Call(user, method, target, body, role).Get();
}

std::string Harness::InvokeAsync(std::int64_t user, const std::string& function,
                                 const std::string& input) {
  const HttpResponse response =
      Request(user, "POST", "/api/v1/functions/" + function + "/invoke?async=1", input);
  EXPECT_EQ(response.status, 202) << response.body;
  const auto key = std::string("\"id\":\"");
  const auto at = response.body.find(key);
  if (at == std::string::npos) return "";
  return response.body.substr(at + key.size(), 26);
}

store::Invocation Harness::Find(std::int64_t user, const std::string& id) {
  auto invocation = store->FindInvocation(user, id);
  EXPECT_TRUE(invocation.ok()) << id;
  return invocation ? *invocation : store::Invocation{};
}

bool Harness::WaitFinished(const std::string& id) {
  return WaitFor([&] {
    std::lock_guard lock(finished_mutex_);
    return std::find(finished_.begin(), finished_.end(), id) != finished_.end();
  });
}

void Harness::AwaitTicks() {
  const int seen = store->requeue_expired_calls.load();
  EXPECT_TRUE(WaitFor([&] { return store->requeue_expired_calls.load() >= seen + 2; }));
}

}  // namespace milf::server::testing
