#include "workers/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>

#include "compute/compute.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "proto/codec.h"

namespace zfactor::workers {

using proto::ErrorCode;
using proto::Internal;
using proto::JobState;
using proto::MakeError;
using proto::MsgType;

namespace {

// Answers are never dropped for want of buffer: at most `threads` results and
// a few progress messages are in flight at once.
constexpr int kDealerHwm = 10000;
// Time given to `bye` (and answers already queued) to reach the broker on exit.
constexpr int kExitLingerMs = 1000;
constexpr int kMaxPollMs = 100;
constexpr size_t kMaxStageBytes = 64;  // PROTOCOL.md progress.stage limit in the codec

// Frame 0 of a compute thread's message: what it is.
constexpr const char* kTagProgress = "progress";
constexpr const char* kTagFinal = "final";

std::string DefaultName() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid());
}

}  // namespace

Worker::Worker(WorkerConfig config)
    : config_(std::move(config)), context_(1), results_(context_, zmq::socket_type::pull) {
  if (config_.threads <= 0) {
    config_.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  config_.threads = std::min(config_.threads, 4096);  // the codec's capacity limit
  config_.job_threads = std::clamp(config_.job_threads, 1, kMaxJobThreads);
  if (config_.name.empty()) config_.name = DefaultName();
  config_.heartbeat_ms = std::max(1, config_.heartbeat_ms);
  config_.liveness = std::max(1, config_.liveness);
  const char* jobs_help = "Jobs this worker answered, by outcome";
  done_ = &metrics_.Counter("zfactor_worker_jobs_total", jobs_help, {{"outcome", "done"}});
  failed_ = &metrics_.Counter("zfactor_worker_jobs_total", jobs_help, {{"outcome", "failed"}});
  cancelled_ =
      &metrics_.Counter("zfactor_worker_jobs_total", jobs_help, {{"outcome", "cancelled"}});
  reconnects_ = &metrics_.Counter("zfactor_worker_reconnects_total",
                                  "Reconnections after the broker went silent");
  in_progress_ =
      &metrics_.Gauge("zfactor_worker_jobs_in_progress", "Jobs received and not yet answered");
  metrics_.Gauge("zfactor_worker_threads", "Compute threads (the capacity announced in ready)")
      .Set(config_.threads);
  compute_seconds_ =
      &metrics_.LatencyHistogram("zfactor_compute_seconds", "Seconds of compute per answered job");

  results_.set(zmq::sockopt::rcvhwm, 0);  // unlimited: see kDealerHwm
  results_.set(zmq::sockopt::linger, 0);
  char endpoint[64];
  std::snprintf(endpoint, sizeof(endpoint), "inproc://zfactor-worker-%p", static_cast<void*>(this));
  results_endpoint_ = endpoint;
  results_.bind(results_endpoint_);
}

Worker::~Worker() {
  StopThreads();
  dealer_.reset();
}

proto::Status Worker::Start() {
  try {
    zmq::socket_t probe(context_, zmq::socket_type::dealer);  // rejects a malformed endpoint early
    probe.set(zmq::sockopt::linger, 0);
    probe.connect(config_.broker);
  } catch (const zmq::error_t& e) {
    return MakeError(ErrorCode::kBadRequest,
                     "cannot connect to " + config_.broker + ": " + e.what());
  }
  proto::Status served = metrics_.Serve(config_.metrics);
  if (!served.ok()) return served;
  for (int i = 0; i < config_.threads; ++i) threads_.emplace_back([this, i] { ComputeLoop(i); });
  return proto::Status::Ok();
}

void Worker::StopThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& t : pending_) t->cancel.store(true);
  }
  for (auto& [id, task] : tasks_) task->cancel.store(true);
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

unsigned JobSeed(std::string_view job_id) {
  uint32_t h = 2166136261u;  // FNV-1a: the same on every platform and build
  for (unsigned char c : job_id) h = (h ^ c) * 16777619u;
  return h;
}

// ---------------------------------------------------------------- compute threads

void Worker::ComputeLoop(int index) {
  zmq::socket_t out(context_, zmq::socket_type::push);
  out.set(zmq::sockopt::sndhwm, 0);  // never block or drop an answer
  out.set(zmq::sockopt::linger, 0);
  out.connect(results_endpoint_);
  while (true) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return shutting_down_ || !pending_.empty(); });
      if (shutting_down_) return;
      task = std::move(pending_.front());
      pending_.pop_front();
    }
    try {
      RunTask(*task, out);
    } catch (const std::exception& e) {
      // Every job is answered, or the broker would hold its credit forever.
      ZF_LOG(kError) << "compute thread " << index << ": job " << task->job.job << ": " << e.what();
      Internal failed;
      failed.type = MsgType::kFailed;
      failed.job = task->job.job;
      failed.error = MakeError(ErrorCode::kInternal, std::string("compute: ") + e.what());
      failed_->Increment();
      core::SendMultipart(out, {kTagFinal, failed.job, proto::EncodeInternal(failed)},
                          zmq::send_flags::none);
    }
  }
}

void Worker::RunTask(Task& task, zmq::socket_t& out) {
  const Internal& job = task.job;
  auto send = [&](const char* tag, const Internal& m) {
    core::SendMultipart(out, {tag, job.job, proto::EncodeInternal(m)}, zmq::send_flags::none);
  };
  Internal answer;
  answer.job = job.job;
  answer.kind = job.kind;
  answer.n = job.n;
  if (task.cancel.load()) {
    answer.type = MsgType::kResult;
    answer.state = JobState::kCancelled;
    cancelled_->Increment();
    send(kTagFinal, answer);
    return;
  }
  math::Budget budget;
  budget.max_seconds = job.max_seconds.value_or(0);
  budget.threads = config_.job_threads;
  budget.seed = JobSeed(job.job);
  math::Hooks hooks;
  hooks.cancel = &task.cancel;
  hooks.polls = &task.polls;
  task.polls.fetch_add(1, std::memory_order_relaxed);  // started
  // Progress reports: at most one per progress_ms, each with the factors split
  // off so far. Only this thread sends (`out` is its socket): calls from an
  // algorithm's helper threads are skipped.
  const std::thread::id compute_thread = std::this_thread::get_id();
  int64_t last_progress = core::NowMs();
  Internal p;
  p.type = MsgType::kProgress;
  p.job = job.job;
  p.stage = "start";
  auto report = [&] {
    const int64_t now = core::NowMs();
    if (now - last_progress < config_.progress_ms) return;
    last_progress = now;
    send(kTagProgress, p);
  };
  hooks.on_progress = [&](const std::string& stage, double fraction) {
    if (std::this_thread::get_id() != compute_thread) return;
    p.stage = stage.substr(0, kMaxStageBytes);
    p.fraction = std::isfinite(fraction) ? std::clamp(fraction, -1.0, 1.0) : -1.0;
    report();
  };
  hooks.on_factor = [&](const mpz_class& factor) {
    if (std::this_thread::get_id() != compute_thread) return;
    if (p.factors.size() >= proto::kMaxProgressFactors) return;
    std::string f = factor.get_str();
    if (std::find(p.factors.begin(), p.factors.end(), f) != p.factors.end()) return;
    p.factors.push_back(std::move(f));
    report();
  };
  bool cancelled = false;
  proto::StatusOr<proto::Result> result =
      compute::Compute(job.kind, job.n, budget, hooks, &cancelled);
  if (!result.ok()) {
    ZF_LOG(kError) << "job " << job.job << " failed: " << result.error().message;
    answer.type = MsgType::kFailed;
    answer.error = result.error();
    failed_->Increment();
  } else {
    answer.type = MsgType::kResult;
    answer.state = cancelled ? JobState::kCancelled : JobState::kDone;
    answer.result = result.value();
    compute_seconds_->Observe(result.value().ms / 1000.0);
    (cancelled ? cancelled_ : done_)->Increment();
  }
  send(kTagFinal, answer);
}

// ---------------------------------------------------------------- I/O thread

void Worker::Connect() {
  if (dealer_) {
    dealer_->set(zmq::sockopt::linger, 0);
    dealer_.reset();
  }
  dealer_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  dealer_->set(zmq::sockopt::sndhwm, kDealerHwm);
  dealer_->set(zmq::sockopt::rcvhwm, kDealerHwm);
  dealer_->set(zmq::sockopt::maxmsgsize, int64_t{4} << 20);
  dealer_->connect(config_.broker);
  held_over_.clear();
  for (const auto& [id, task] : tasks_) held_over_.insert(id);
  AnnounceCapacity();
  last_heard_ms_ = core::NowMs();
}

void Worker::AnnounceCapacity() {
  Internal ready;
  ready.type = MsgType::kReady;
  ready.capacity = static_cast<uint32_t>(
      std::max<int64_t>(0, config_.threads - static_cast<int64_t>(held_over_.size())));
  ready.name = config_.name;
  SendToBroker(ready);
}

void Worker::Run() {
  ZF_LOG(kInfo) << "worker " << config_.name << " with " << config_.threads << " threads, broker "
                << config_.broker;
  Connect();
  const int64_t silence_ms = int64_t{config_.heartbeat_ms} * config_.liveness;
  const auto timeout = std::chrono::milliseconds(std::min(config_.heartbeat_ms, kMaxPollMs));
  while (!stop_.load() && !core::StopRequested()) {
    try {
      zmq::pollitem_t items[] = {{dealer_->handle(), 0, ZMQ_POLLIN, 0},
                                 {results_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, timeout);
      if (items[0].revents & ZMQ_POLLIN) HandleBroker();
      if (items[1].revents & ZMQ_POLLIN) HandleResults();
      const int64_t now = core::NowMs();
      if (now - last_heard_ms_ > silence_ms) {
        ZF_LOG(kWarning) << "broker silent for " << (now - last_heard_ms_) << " ms; reconnecting ("
                         << tasks_.size() << " jobs in hand)";
        reconnects_->Increment();
        Connect();
      } else {
        if (now - last_live_report_ms_ >= config_.heartbeat_ms) ReportLiveJobs();
        if (now - last_sent_ms_ >= config_.heartbeat_ms) {
          Internal hb;
          hb.type = MsgType::kHeartbeat;
          SendToBroker(hb);
        }
      }
      in_progress_->Set(static_cast<double>(tasks_.size()));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        ZF_LOG(kError) << "loop: zmq: " << e.what();
      }
    } catch (const std::exception& e) {
      ZF_LOG(kError) << "loop: " << e.what();
    }
  }
  ZF_LOG(kInfo) << "worker stopping; " << tasks_.size() << " jobs handed back";
  Internal bye;
  bye.type = MsgType::kBye;
  SendToBroker(bye);
  StopThreads();
  dealer_->set(zmq::sockopt::linger, kExitLingerMs);
  dealer_.reset();
}

void Worker::HandleBroker() {
  std::vector<zmq::message_t> frames;
  for (int i = 0; i < 1000 && core::RecvMultipart(*dealer_, &frames, zmq::recv_flags::dontwait);
       ++i) {
    last_heard_ms_ = core::NowMs();
    if (frames.size() != 1) {
      ZF_LOG(kWarning) << "dropping a message of " << frames.size() << " frames from the broker";
      continue;
    }
    auto m = proto::DecodeInternal(std::string_view(frames[0].data<char>(), frames[0].size()));
    if (!m.ok()) {
      ZF_LOG(kWarning) << "dropping an undecodable message from the broker: " << m.error().message;
      continue;
    }
    try {
      OnBrokerMessage(m.value());
    } catch (const std::exception& e) {
      ZF_LOG(kError) << proto::MsgTypeName(m.value().type) << ": " << e.what();
    }
  }
}

void Worker::OnBrokerMessage(const Internal& m) {
  switch (m.type) {
    case MsgType::kJob: {
      if (tasks_.count(m.job)) return;               // already running (re-sent after a reconnect)
      if (m.max_seconds && !(*m.max_seconds > 0)) {  // the codec rejects non-finite numbers
        Internal failed;
        failed.type = MsgType::kFailed;
        failed.job = m.job;
        failed.error = MakeError(ErrorCode::kBadRequest, "max_seconds must be a number > 0");
        SendToBroker(failed);
        return;
      }
      auto task = std::make_shared<Task>();
      task->job = m;
      tasks_[m.job] = task;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_.push_back(std::move(task));
      }
      cv_.notify_one();
      ZF_LOG(kDebug) << "job " << m.job << " (" << m.n.size() << " digits)";
      return;
    }
    case MsgType::kCancel: {
      auto it = tasks_.find(m.job);
      if (it != tasks_.end()) it->second->cancel.store(true);
      return;
    }
    case MsgType::kHeartbeat:
      return;
    default:
      ZF_LOG(kWarning) << "unexpected " << proto::MsgTypeName(m.type) << " from the broker";
  }
}

void Worker::HandleResults() {
  std::vector<zmq::message_t> frames;
  while (core::RecvMultipart(results_, &frames, zmq::recv_flags::dontwait)) {
    if (frames.size() != 3) continue;  // cannot happen: compute threads send three frames
    const std::string tag = core::ToString(frames[0]);
    const std::string job = core::ToString(frames[1]);
    SendBody(core::ToString(frames[2]));
    if (tag != kTagFinal) continue;
    tasks_.erase(job);
    if (held_over_.erase(job) > 0) AnnounceCapacity();  // its thread is free again
  }
}

void Worker::ReportLiveJobs() {
  last_live_report_ms_ = core::NowMs();
  for (auto& [id, task] : tasks_) {
    const uint64_t polls = task->polls.load(std::memory_order_relaxed);
    if (polls == task->reported_polls) continue;
    task->reported_polls = polls;
    Internal p;
    p.type = MsgType::kProgress;
    p.job = id;
    p.stage = proto::kAliveStage;
    p.fraction = -1;
    SendToBroker(p);
  }
}

bool Worker::SendToBroker(const Internal& m) { return SendBody(proto::EncodeInternal(m)); }

bool Worker::SendBody(const std::string& body) {
  if (!core::SendMultipart(*dealer_, {body})) {
    ZF_LOG(kWarning) << "cannot queue a message for the broker";
    return false;
  }
  last_sent_ms_ = core::NowMs();
  return true;
}

}  // namespace zfactor::workers
