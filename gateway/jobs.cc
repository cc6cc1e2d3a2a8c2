// Jobs: submit/join, the broker's answers on the front, and the result stream.
#include <gmpxx.h>

#include <algorithm>

#include "compute/check.h"
#include "core/log.h"
#include "core/zmq_util.h"
#include "gateway/impl.h"
#include "proto/codec.h"

namespace zfactor::gateway {

// ------------------------------------------------------------------ jobs

std::string Gateway::Impl::NewJobId() {
  static const char kHex[] = "0123456789abcdef";
  while (true) {
    uint64_t bits = rng_();
    std::string id = "j-";
    for (int i = 0; i < 16; ++i) id.push_back(kHex[(bits >> (60 - 4 * i)) & 0xf]);
    if (jobs_.count(id) == 0) return id;
  }
}

proto::StatusOr<std::string> Gateway::Impl::StartOrJoin(Kind kind, const std::string& n,
                                                        const Request& request, uint64_t key,
                                                        const Envelope& envelope) {
  const int64_t now = core::NowMs();
  auto open = open_.find({kind, n});
  if (open != open_.end()) {
    Job& job = jobs_.at(open->second);
    if (!job.submitted) {
      // Reloaded after a restart: submit again rather than trust the broker
      // still has it (duplicate job ids are idempotent at the broker).
      if (BrokerDown(now))
        return MakeError(ErrorCode::kUnavailable, "the broker cannot be reached");
      proto::Status sent = Submit(job);
      if (!sent.ok()) return sent.error();
    }
    Attach(job, key, envelope, request);
    return job.id;
  }
  if (BrokerDown(now)) return MakeError(ErrorCode::kUnavailable, "the broker cannot be reached");
  if (auto started = client_jobs_.find(envelope.identity);
      started != client_jobs_.end() && started->second >= config_.max_client_jobs) {
    return MakeError(ErrorCode::kBusy, "this client has " + std::to_string(started->second) +
                                           " jobs in flight (the per-client limit)");
  }
  Job job;
  job.id = NewJobId();
  job.owner = envelope.identity;
  job.kind = kind;
  job.n = n;
  job.priority = request.priority;
  if (kind == Kind::kFactor) job.max_seconds = request.max_seconds;
  proto::Status sent = Submit(job);
  if (!sent.ok()) return sent.error();
  Attach(job, key, envelope, request);
  ++client_jobs_[envelope.identity];
  std::string id = job.id;
  open_[{kind, n}] = id;
  jobs_.emplace(id, std::move(job));
  return id;
}

proto::Status Gateway::Impl::Submit(Job& job) {
  Internal submit;
  submit.type = MsgType::kSubmit;
  submit.job = job.id;
  submit.kind = job.kind;
  submit.n = job.n;
  submit.priority = job.priority;
  submit.max_seconds = job.max_seconds;
  bool sent = false;
  SendToBroker(submit, &sent);
  if (!sent)
    return MakeError(ErrorCode::kUnavailable, "the broker cannot be reached (send queue full)");
  job.submitted = true;
  job.submit_ms = core::NowMs();
  unacked_.insert(job.id);
  return proto::Status::Ok();
}

void Gateway::Impl::Attach(Job& job, uint64_t key, const Envelope& envelope,
                           const Request& request) {
  if (job.waiters.empty() || job.waiters.back() != key) job.waiters.push_back(key);
  if (!request.notify) return;
  for (const Subscriber& s : job.subscribers) {
    if (s.envelope.identity == envelope.identity && s.id == request.id) return;
  }
  job.subscribers.push_back(Subscriber{envelope, request.id});
}

void Gateway::Impl::Accept(Job& job) {
  job.heard_ms = core::NowMs();
  unacked_.erase(job.id);
  if (job.acked) return;
  job.acked = true;
  if (!job.persisted) {
    PersistJob(job, std::nullopt, std::nullopt);
    job.persisted = true;
    ++jobs_submitted_;
    submitted_metric_->Increment();
  }
  // Its first reply names the job: it goes out once the record is written.
  after_flush_.insert(after_flush_.end(), job.waiters.begin(), job.waiters.end());
}

void Gateway::Impl::FlushJobRecords() {
  proto::Status flushed = cache_->FlushJobs();
  if (!flushed.ok()) ZF_LOG(kError) << "cannot record jobs: " << flushed.error().message;
  std::vector<uint64_t> keys;
  keys.swap(after_flush_);
  for (uint64_t key : keys) TryReply(key);
}

void Gateway::Impl::PersistJob(const Job& job, std::optional<proto::Result> result,
                               std::optional<Error> error) {
  cache::JobRecord r;
  r.job = job.id;
  r.kind = job.kind;
  r.n = job.n;
  r.state = job.state;
  r.priority = job.priority;
  r.max_seconds = job.max_seconds;
  r.result = std::move(result);
  r.error = std::move(error);
  cache_->PutJob(r);
}

Answer Gateway::Impl::AnswerOf(const Job& job, bool with_progress) const {
  Answer a;
  a.n = job.n;
  a.kind = job.kind;
  a.state = job.state;
  a.source = proto::Source::kJob;
  a.job = job.id;
  if (with_progress && job.state == JobState::kRunning && job.progress) {
    a.progress = job.progress;
    a.progress->age_ms =
        static_cast<uint64_t>(std::max<int64_t>(0, core::NowMs() - job.progress_ms));
  }
  return a;
}

void Gateway::Impl::CancelNow(Job& job) {
  for (uint64_t key : job.waiters) {
    auto p = pending_.find(key);
    if (p != pending_.end() && p->second.cancel) p->second.cancel_acked = true;
  }
  const std::string id = job.id;  // EndJob takes the job out of jobs_
  EndJob(id, JobState::kCancelled, std::nullopt, std::nullopt);
}

std::optional<Job> Gateway::Impl::TakeJob(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return std::nullopt;
  Job job = std::move(it->second);
  jobs_.erase(it);
  open_.erase({job.kind, job.n});
  unacked_.erase(job_id);
  cancel_grace_.erase(job_id);
  if (!job.owner.empty()) {
    auto owner = client_jobs_.find(job.owner);
    if (owner != client_jobs_.end() && --owner->second == 0) client_jobs_.erase(owner);
  }
  return job;
}

void Gateway::Impl::FailSubmit(const std::string& job_id, const Error& error,
                               uint32_t retry_after_ms) {
  std::optional<Job> taken = TakeJob(job_id);
  if (!taken) return;
  Job& job = *taken;
  ZF_LOG(kWarning) << "job " << job_id << " not accepted: " << error.message;
  job.state = JobState::kFailed;
  Answer failed = AnswerOf(job);
  failed.error = error;
  if (job.persisted) PersistJob(job, std::nullopt, error);
  for (uint64_t key : job.waiters) {
    auto p = pending_.find(key);
    if (p == pending_.end()) continue;
    const bool compute = p->second.op == Op::kFactor || p->second.op == Op::kIsPrime;
    for (Slot& slot : p->second.slots) {
      if (slot.job != job_id) continue;
      slot.job.clear();
      if (compute) {
        slot.item = ErrorItem(error, slot.index);
        slot.retry_after_ms = retry_after_ms;
      } else {
        slot.item = OkItem(failed, slot.index);
      }
    }
  }
  if (job.persisted) {
    for (const Subscriber& s : job.subscribers) {
      proto::Event event{s.id, failed};
      SendToClient(s.envelope, proto::EncodeEvent(event));
      events_metric_->Increment();
    }
  }
  for (uint64_t key : job.waiters) TryReply(key);
}

void Gateway::Impl::EndJob(const std::string& job_id, JobState state,
                           std::optional<proto::Result> result, std::optional<Error> error) {
  std::optional<Job> taken = TakeJob(job_id);
  if (!taken) return;
  Job& job = *taken;
  job.state = state;
  if (state == JobState::kDone && result) {
    proto::Status s = cache_->Store(job.kind, job.n, *result);
    if (!s.ok()) {
      ZF_LOG(kError) << "cache store failed: " << s.error().message;
    }
  }
  PersistJob(job, result, error);
  switch (state) {
    case JobState::kDone:
      ++jobs_done_;
      break;
    case JobState::kFailed:
      ++jobs_failed_;
      break;
    default:
      ++jobs_cancelled_;
      break;
  }
  Answer answer = AnswerOf(job);
  if (state == JobState::kDone) answer.result = std::move(result);
  if (state == JobState::kFailed) answer.error = std::move(error);
  for (uint64_t key : job.waiters) {
    auto p = pending_.find(key);
    if (p == pending_.end()) continue;
    for (Slot& slot : p->second.slots) {
      if (slot.job != job_id) continue;
      slot.job.clear();
      slot.item = OkItem(answer, slot.index);
    }
  }
  for (const Subscriber& s : job.subscribers) {
    SendToClient(s.envelope, proto::EncodeEvent(proto::Event{s.id, answer}));
    events_metric_->Increment();
  }
  for (uint64_t key : job.waiters) TryReply(key);
}

// ------------------------------------------------------------------ broker and results

void Gateway::Impl::OnBrokerMessage(const std::vector<zmq::message_t>& frames) {
  last_broker_ms_ = core::NowMs();
  if (frames.size() != 1) {
    ZF_LOG(kWarning) << "broker message with " << frames.size() << " frames ignored";
    return;
  }
  auto decoded = proto::DecodeInternal(core::ToString(frames[0]));
  if (!decoded.ok()) {
    ZF_LOG(kWarning) << "undecodable broker message: " << decoded.error().message;
    return;
  }
  const Internal& m = decoded.value();
  switch (m.type) {
    case MsgType::kHeartbeat:
      return;
    case MsgType::kAccepted: {
      auto it = jobs_.find(m.job);
      if (it != jobs_.end()) Accept(it->second);
      return;
    }
    case MsgType::kRejected: {
      Error error = m.error.value_or(MakeError(ErrorCode::kBusy, "the broker rejected the job"));
      auto it = jobs_.find(m.job);
      if (it != jobs_.end() && it->second.persisted && error.code != ErrorCode::kBadRequest) {
        // A job accepted before (a reconcile or post-restart submit) is not
        // failed for a full queue: it stays open and is submitted again later.
        Job& job = it->second;
        job.submitted = false;
        job.retry_at_ms = core::NowMs() + std::max<int64_t>(m.retry_after_ms, kReconcileSweepMs);
        unacked_.erase(job.id);
        return;
      }
      FailSubmit(m.job, error, m.retry_after_ms);
      return;
    }
    case MsgType::kCancelAck: {
      auto it = jobs_.find(m.job);
      if (it == jobs_.end()) return;  // ended meanwhile; the cancel waiters were answered
      if (!m.found) {
        // The broker does not hold it: it ended there, and its result may be
        // on the stream right behind this ack (another socket). Give the
        // result half a liveness period to arrive before calling it cancelled.
        it->second.cancel_grace_until_ms = core::NowMs() + LivenessMs() / 2;
        cancel_grace_.insert(m.job);
        return;
      }
      CancelNow(it->second);
      return;
    }
    case MsgType::kStatsReply:
      broker_stats_ = m.stats;
      stats_outstanding_ = false;
      AnswerStatsWaiters(/*only_expired=*/false, core::NowMs());
      return;
    default:
      ZF_LOG(kWarning) << "unexpected '" << proto::MsgTypeName(m.type) << "' from the broker";
      return;
  }
}

void Gateway::Impl::SetOpenState(Job& job, JobState state) {
  Accept(job);  // the broker holds it, whether or not its 'accepted' arrived
  if (job.state == state) return;
  job.state = state;
  if (job.persisted) cache_->SetJobState(job.id, state);
}

void Gateway::Impl::OnProgress(Internal& m) {
  auto it = jobs_.find(m.job);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  SetOpenState(job, JobState::kRunning);  // only a running job reports progress
  // Only proper divisors of n reach a client, whoever published them.
  const mpz_class n(job.n, 10);
  std::vector<std::string> factors;
  for (std::string& f : m.factors) {
    const mpz_class d(f, 10);
    if (d > 1 && d < n && mpz_divisible_p(n.get_mpz_t(), d.get_mpz_t())) {
      factors.push_back(std::move(f));
    } else {
      ZF_LOG(kError) << "progress for job " << job.id << " names " << f
                     << ", not a divisor; dropped";
    }
  }
  job.progress = proto::Progress{std::move(m.stage), m.fraction, std::move(factors), 0};
  job.progress_ms = core::NowMs();
}

void Gateway::Impl::OnPubMessage(const std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) {
    ZF_LOG(kWarning) << "result stream message with " << frames.size() << " frames ignored";
    return;
  }
  const std::string topic = core::ToString(frames[0]);
  auto decoded = proto::DecodeInternal(core::ToString(frames[1]));
  if (!decoded.ok()) {
    ZF_LOG(kWarning) << "undecodable '" << topic << "' message: " << decoded.error().message;
    return;
  }
  Internal& m = decoded.value();
  if (m.type == MsgType::kProgress && topic == proto::PubTopic(MsgType::kProgress)) {
    OnProgress(m);
    return;
  }
  const bool is_result = m.type == MsgType::kResult && topic == proto::PubTopic(MsgType::kResult);
  const bool is_state = m.type == MsgType::kState && topic == proto::PubTopic(MsgType::kState);
  if (!is_result && !is_state) {
    ZF_LOG(kWarning) << "'" << proto::MsgTypeName(m.type) << "' on topic '" << topic << "' ignored";
    return;
  }
  auto it = jobs_.find(m.job);
  if (it != jobs_.end() && (it->second.kind != m.kind || it->second.n != m.n)) {
    ZF_LOG(kError) << "result stream names job " << m.job << " with a different number; ignored";
    return;
  }
  if (is_state) {
    if (it == jobs_.end() || proto::IsFinal(m.state)) return;
    Job& job = it->second;
    SetOpenState(job, m.state);
    job.progress.reset();  // queued again, or running anew on another worker
    return;
  }
  if (!proto::IsFinal(m.state)) {
    ZF_LOG(kWarning) << "result for job " << m.job << " in non-final state ignored";
    return;
  }
  if (m.state == JobState::kDone && m.result) {
    // Nothing reaches the cache or a client unchecked, whoever published it.
    if (std::string problem = compute::CheckResult(m.kind, m.n, *m.result); !problem.empty()) {
      ZF_LOG(kError) << "result for job " << m.job << " (n=" << m.n
                     << ") failed verification: " << problem;
      ++results_rejected_;
      m.state = JobState::kFailed;
      m.result.reset();
      m.error = MakeError(ErrorCode::kInternal, "the answer failed verification: " + problem);
    }
  }
  if (it != jobs_.end()) {
    EndJob(m.job, m.state, std::move(m.result), std::move(m.error));
    return;
  }
  // Another gateway's job, or one that ended here already: still fill the cache.
  if (m.state == JobState::kDone && m.result) {
    proto::Status s = cache_->Store(m.kind, m.n, *m.result);
    if (!s.ok()) {
      ZF_LOG(kError) << "cache store failed: " << s.error().message;
    }
  }
}

}  // namespace zfactor::gateway
