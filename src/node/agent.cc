#include "node/agent.h"

#include <fmt/format.h>

#include <utility>

#include "node/job_mapping.h"

namespace milf::node {

Agent::Agent(AgentOptions options, ModuleStore& store, JobRunner& runner,
             TelemetrySource& telemetry, Post post)
    : options_(std::move(options)),
      store_(store),
      runner_(runner),
      telemetry_source_(telemetry),
      post_(std::move(post)) {
  telemetry_.slots_total = options_.slots;
}

proto::Hello Agent::MakeHello() const {
  proto::Hello hello;
  hello.node_name = options_.name;
  hello.target = options_.target;
  hello.slots = options_.slots;
  hello.cached_modules = store_.List();
  if (options_.artifacts != nullptr) hello.aot_target = options_.artifacts->target();
  // Results still owed count as running: the server must keep their
  // invocations leased to this node until the results arrive.
  hello.running.assign(running_.begin(), running_.end());
  for (const proto::JobResult& result : owed_) hello.running.push_back(result.invocation_id);
  return hello;
}

void Agent::Attach(Link& link, const proto::Welcome& welcome) {
  link_ = &link;
  if (options_.artifacts != nullptr) options_.artifacts->UseServerKey(welcome.aot_public_key);
  draining_ = false;
  closing_ = false;
  requested_.clear();
  Heartbeat();
  while (!owed_.empty() && link_ != nullptr) {
    Send(owed_.front());
    owed_.pop_front();
  }
  MaybeClose();
}

void Agent::Detach() {
  link_ = nullptr;
  for (const auto& [hash, jobs] : waiting_) {
    Log(fmt::format("dropped {} job(s) waiting for module {}", jobs.size(), hash));
  }
  waiting_.clear();
  requested_.clear();
}

void Agent::OnText(std::string_view text) {
  auto message = proto::Decode(text);
  if (!message) return Violation(message.error().message);
  if (auto* job = std::get_if<proto::Job>(&*message)) return OnJob(std::move(*job));
  if (auto* missing = std::get_if<proto::ModuleMissing>(&*message)) {
    return OnModuleMissing(missing->sha256);
  }
  if (auto* drain = std::get_if<proto::Drain>(&*message)) {
    Log("server asked to drain: " + drain->reason);
    draining_ = true;
    Heartbeat();
    return MaybeClose();
  }
  if (auto* error = std::get_if<proto::ProtocolError>(&*message)) {
    Log("server reported a protocol error: " + error->message);
    closing_ = true;
    return link_->Close("protocol error");
  }
  Violation("unexpected message from the server");
}

void Agent::OnBinary(std::span<const std::uint8_t> frame) {
  auto module = proto::DecodeModuleFrame(frame);
  if (!module) return Violation(module.error().message);
  OnModule(std::move(*module));
}

void Agent::Heartbeat() {
  const int in_use = slots_in_use();
  telemetry_ = telemetry_source_.Sample(options_.slots > 0 ? double(in_use) / options_.slots : 1);
  telemetry_.slots_total = options_.slots;
  telemetry_.slots_in_use = in_use;
  const std::string refusal = Refusal();
  telemetry_.accepting = refusal.empty();
  telemetry_.refusal_reason = refusal;
  proto::Heartbeat heartbeat{telemetry_};
  if (options_.artifacts != nullptr) heartbeat.artifacts_refused = options_.artifacts->refused();
  if (link_ != nullptr) Send(heartbeat);
}

void Agent::Stop() {
  stopping_ = true;
  MaybeClose();
}

int Agent::slots_in_use() const {
  std::size_t waiting = 0;
  for (const auto& [hash, jobs] : waiting_) waiting += jobs.size();
  return static_cast<int>(running_.size() + waiting);
}

void Agent::OnJob(proto::Job job) {
  if (running_.contains(job.invocation_id)) return;  // a repeat of a job already here
  for (const auto& [hash, jobs] : waiting_) {
    for (const proto::Job& waiting : jobs) {
      if (waiting.invocation_id == job.invocation_id) return;
    }
  }
  if (const std::string refusal = Refusal(); !refusal.empty()) {
    return Send(NotRunResult(job.invocation_id, proto::kRejectedStatus, refusal));
  }
  if (options_.max_job_memory_mb != 0 &&
      static_cast<std::uint64_t>(job.limits.memory_mb) > options_.max_job_memory_mb) {
    return Send(NotRunResult(
        job.invocation_id, "memory_limit",
        fmt::format("the job asks for {} MB of memory; this node runs jobs of up to {} MB",
                    job.limits.memory_mb, options_.max_job_memory_mb)));
  }
  if (ModuleStore::Bytes module = store_.Get(job.module_sha256)) {
    return Start(std::move(job), std::move(module));
  }
  const std::string hash = job.module_sha256;
  waiting_[hash].push_back(std::move(job));
  if (requested_.insert(hash).second) Send(proto::ModuleRequest{hash});
}

void Agent::OnModule(proto::ModuleFrame frame) {
  if (auto stored = store_.Put(frame.sha256, std::move(frame.bytes)); !stored) {
    Log("cannot keep module " + frame.sha256 + ": " + stored.error().message);
  }
  auto found = waiting_.find(frame.sha256);
  if (found == waiting_.end()) return;
  std::vector<proto::Job> jobs = std::move(found->second);
  waiting_.erase(found);
  requested_.erase(frame.sha256);
  ModuleStore::Bytes module = store_.Get(frame.sha256);
  for (proto::Job& job : jobs) {
    if (module) {
      Start(std::move(job), module);
    } else {
      Send(NotRunResult(job.invocation_id, "internal_error",
                        "the node could not store module " + frame.sha256));
    }
  }
  MaybeClose();
}

void Agent::OnModuleMissing(const std::string& sha256) {
  auto found = waiting_.find(sha256);
  if (found == waiting_.end()) return;
  for (const proto::Job& job : found->second) {
    Send(NotRunResult(job.invocation_id, "internal_error",
                      "the server does not have module " + sha256));
  }
  waiting_.erase(found);
  requested_.erase(sha256);
  MaybeClose();
}

void Agent::Start(proto::Job job, ModuleStore::Bytes module) {
  const std::string id = job.invocation_id;
  running_.insert(id);
  Send(proto::JobStarted{id});
  // Tier-up: AOT once a verified artifact is here (asking for it otherwise).
  ModuleStore::Bytes artifact;
  if (options_.artifacts != nullptr && job.tier != "interp") {
    artifact = options_.artifacts->Get(job.module_sha256, job.limits.memory_mb);
  }
  runner_.Submit(
      std::move(job), std::move(module),
      [post = post_, this](proto::JobResult result) {
        post([this, result = std::move(result)]() mutable { Finished(std::move(result)); });
      },
      std::move(artifact));
}

void Agent::Finished(proto::JobResult result) {
  running_.erase(result.invocation_id);
  if (link_ != nullptr && !closing_) {
    Send(result);
  } else {
    owed_.push_back(std::move(result));
  }
  MaybeClose();
}

void Agent::Send(const proto::Message& message) {
  if (link_ != nullptr && !closing_) link_->SendText(proto::Encode(message));
}

void Agent::Violation(const std::string& what) {
  Log("protocol violation by the server: " + what);
  Send(proto::ProtocolError{what});
  closing_ = true;
  if (link_ != nullptr) link_->Close("protocol error");
}

void Agent::MaybeClose() {
  if (link_ == nullptr || closing_ || !(draining_ || stopping_) || slots_in_use() > 0) return;
  closing_ = true;
  link_->Close(stopping_ ? "node stopping" : "drained");
}

std::string Agent::Refusal() const {
  if (stopping_) return "node stopping";
  if (draining_) return "draining";
  const int in_use = slots_in_use();
  if (in_use >= options_.slots) return fmt::format("all {} slots in use", options_.slots);
  return Admit(telemetry_, options_.policy, in_use).reason;
}

void Agent::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

}  // namespace milf::node
