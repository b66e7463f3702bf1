// Agent: the node side of the node protocol (proto/messages.h,
// docs/protocol.md), with no I/O of its own. The connection feeds it the
// frames that arrive and gives it a Link to answer on; the agent decides
// what to do with them:
//
//  - a Job is admitted (policy, free slot, not draining) or answered at once
//    with a "rejected" JobResult; an admitted job whose module the node does
//    not hold waits while the node sends one ModuleRequest per hash, and
//    starts when the module's binary frame arrives (or fails on
//    ModuleMissing);
//  - admitted jobs go to the JobRunner; JobStarted is sent as a job is
//    handed over and JobResult when it ends. Results of jobs that end while
//    the node is disconnected are kept and sent after the next Welcome;
//  - every heartbeat samples the telemetry, applies the admission policy and
//    reports both;
//  - Drain (or a local Stop) refuses new jobs, lets running ones finish,
//    sends their results, then closes the link.
//
// Thread-safety: every method must be called on the connection's I/O
// thread. Job completions reach that thread through `post`.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "node/artifact_store.h"
#include "node/job_runner.h"
#include "node/module_store.h"
#include "node/policy.h"
#include "node/telemetry.h"
#include "proto/messages.h"

namespace milf::node {

// The connection the agent is attached to.
class Link {
 public:
  virtual ~Link() = default;
  // Queues one text frame.
  virtual void SendText(std::string text) = 0;
  // Sends what is queued, then closes the WebSocket normally.
  virtual void Close(std::string reason) = 0;
};

struct AgentOptions {
  std::string name;
  std::string target;
  int slots = 1;                      // execution slots offered (the runner's threads)
  AdmissionPolicy policy;
  std::uint64_t max_job_memory_mb = 0;  // jobs asking for more fail with memory_limit; 0 = no cap
  ArtifactStore* artifacts = nullptr;   // the AOT tier's artifacts; null: interpreter only
  std::function<void(const std::string& line)> log;
};

class Agent {
 public:
  // Runs `task` on the I/O thread, later.
  using Post = std::function<void(std::function<void()> task)>;

  // `store`, `runner` and `telemetry` must outlive the agent.
  Agent(AgentOptions options, ModuleStore& store, JobRunner& runner, TelemetrySource& telemetry,
        Post post);

  // What the node says first on a new connection.
  proto::Hello MakeHello() const;

  // The server welcomed the node on `link` (valid until Detach): sends a
  // first heartbeat and every result still owed.
  void Attach(Link& link, const proto::Welcome& welcome);
  // The link is gone. Jobs that were waiting for a module are dropped: the
  // server re-queues what the node did not report as running.
  void Detach();

  void OnText(std::string_view text);
  void OnBinary(std::span<const std::uint8_t> frame);
  void Heartbeat();

  // Stop taking work; close the link once every job has ended and its
  // result was sent.
  void Stop();

  bool stopping() const { return stopping_; }
  bool attached() const { return link_ != nullptr; }
  // Jobs admitted and not yet ended (running, queued, or waiting for a module).
  int slots_in_use() const;
  const proto::Telemetry& last_telemetry() const { return telemetry_; }

 private:
  void OnJob(proto::Job job);
  void OnModule(proto::ModuleFrame frame);
  void OnModuleMissing(const std::string& sha256);
  void Start(proto::Job job, ModuleStore::Bytes module);
  void Finished(proto::JobResult result);
  void Send(const proto::Message& message);
  void Violation(const std::string& what);
  void MaybeClose();
  std::string Refusal() const;  // why a job would be refused now, "" to accept
  void Log(const std::string& line) const;

  const AgentOptions options_;
  ModuleStore& store_;
  JobRunner& runner_;
  TelemetrySource& telemetry_source_;
  const Post post_;

  Link* link_ = nullptr;
  bool draining_ = false;
  bool stopping_ = false;
  bool closing_ = false;
  proto::Telemetry telemetry_;
  std::set<std::string> running_;                      // handed to the runner
  std::map<std::string, std::vector<proto::Job>> waiting_;  // module hash -> jobs
  std::set<std::string> requested_;                    // modules asked for on this link
  std::deque<proto::JobResult> owed_;                  // ended while disconnected
};

}  // namespace milf::node
