#include "broker/broker.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "proto/codec.h"

namespace zfactor::broker {

using proto::ErrorCode;
using proto::Internal;
using proto::JobState;
using proto::MakeError;
using proto::MsgType;

namespace {

// Front: a gateway may forward a 1000-number batch at once; 100k messages of
// ~100 bytes (about the default --max-queue) buffer a burst without blocking.
constexpr int kFrontHwm = 100000;
// Back: job traffic is bounded by credit; this only absorbs heartbeats and
// progress from many workers.
constexpr int kBackHwm = 10000;
// PUB: a slow subscriber may lag this many results before ZeroMQ drops for it.
constexpr int kPubHwm = 100000;
// Final results kept in memory for re-publishing on a repeated submit
// (Broker::recent_); with a journal, older ones are looked up there.
constexpr size_t kRecentResults = 4096;
// Bigger inbound messages disconnect the peer (a result for a 10000-digit n is ~20 KB).
constexpr int64_t kMaxMessageBytes = 4 << 20;
// At most this many messages per socket per loop turn, so heartbeats keep flowing.
constexpr int kMaxBatch = 1000;
// Upper bound on one poll wait, so Stop() is seen quickly.
constexpr int kMaxPollMs = 100;

std::string ShortId(const std::string& identity) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : identity) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

}  // namespace

struct Broker::MetricRefs {
  std::array<prometheus::Gauge*, kLanes> queue_depth{};
  prometheus::Gauge* running = nullptr;
  prometheus::Gauge* workers = nullptr;
  prometheus::Counter* done = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Counter* cancelled = nullptr;
  prometheus::Counter* requeued = nullptr;
  prometheus::Counter* submitted = nullptr;
  prometheus::Counter* rejected = nullptr;
  prometheus::Counter* malformed = nullptr;
  prometheus::Counter* deaths = nullptr;
  prometheus::Histogram* job_seconds = nullptr;
};

Broker::Broker(BrokerConfig config)
    : config_(std::move(config)),
      context_(1),
      front_(context_, zmq::socket_type::router),
      back_(context_, zmq::socket_type::router),
      pub_(context_, zmq::socket_type::pub),
      queue_(config_.lane_step_ms),
      m_(std::make_unique<MetricRefs>()) {
  config_.heartbeat_ms = std::max(1, config_.heartbeat_ms);
  config_.liveness = std::max(1, config_.liveness);
  config_.max_retries = std::max(1, config_.max_retries);
  config_.max_queue = std::max(0, config_.max_queue);
  for (int lane = 0; lane < kLanes; ++lane) {
    m_->queue_depth[lane] =
        &metrics_.Gauge("zfactor_queue_depth", "Jobs waiting for a worker, by cost lane",
                        {{"lane", LaneName(static_cast<Lane>(lane))}});
  }
  m_->running =
      &metrics_.Gauge("zfactor_jobs_running", "Jobs handed to a worker and not yet ended");
  m_->workers = &metrics_.Gauge("zfactor_workers", "Live workers");
  const char* jobs_help = "Jobs that ended (done, failed, cancelled) or were re-queued";
  m_->done = &metrics_.Counter("zfactor_jobs_total", jobs_help, {{"outcome", "done"}});
  m_->failed = &metrics_.Counter("zfactor_jobs_total", jobs_help, {{"outcome", "failed"}});
  m_->cancelled = &metrics_.Counter("zfactor_jobs_total", jobs_help, {{"outcome", "cancelled"}});
  m_->requeued = &metrics_.Counter("zfactor_jobs_total", jobs_help, {{"outcome", "requeued"}});
  m_->submitted =
      &metrics_.Counter("zfactor_jobs_submitted_total", "New jobs accepted from gateways");
  m_->rejected =
      &metrics_.Counter("zfactor_jobs_rejected_total", "Submits rejected (busy or invalid)");
  m_->malformed =
      &metrics_.Counter("zfactor_broker_malformed_total",
                        "Messages dropped because they did not decode or were unexpected");
  m_->deaths = &metrics_.Counter("zfactor_worker_deaths_total",
                                 "Workers declared dead (silent, unreachable or hung)");
  m_->job_seconds =
      &metrics_.LatencyHistogram("zfactor_job_seconds", "Seconds from submit to the end of a job");
}

Broker::~Broker() = default;

proto::Status Broker::Bind() {
  try {
    for (zmq::socket_t* s : {&front_, &back_}) {
      s->set(zmq::sockopt::router_mandatory, 1);  // a vanished peer is an error, not a silent drop
      s->set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
      s->set(zmq::sockopt::linger, 0);  // replies in flight at shutdown have no one to wait for
    }
    front_.set(zmq::sockopt::sndhwm, kFrontHwm);
    front_.set(zmq::sockopt::rcvhwm, kFrontHwm);
    back_.set(zmq::sockopt::sndhwm, kBackHwm);
    back_.set(zmq::sockopt::rcvhwm, kBackHwm);
    pub_.set(zmq::sockopt::sndhwm, kPubHwm);
    pub_.set(zmq::sockopt::linger, 1000);  // let the last results reach subscribers
  } catch (const zmq::error_t& e) {
    return MakeError(ErrorCode::kInternal, std::string("socket options: ") + e.what());
  }
  auto front = core::Bind(front_, config_.front);
  if (!front.ok()) return front.error();
  auto back = core::Bind(back_, config_.back);
  if (!back.ok()) return back.error();
  auto pub = core::Bind(pub_, config_.pub);
  if (!pub.ok()) return pub.error();
  front_endpoint_ = front.value();
  back_endpoint_ = back.value();
  pub_endpoint_ = pub.value();
  proto::Status served = metrics_.Serve(config_.metrics);
  if (!served.ok()) return served;
  if (!config_.journal.empty()) {
    JournalLimits limits;
    limits.keep_finished_rows = std::max<int64_t>(config_.journal_keep_finished, 0);
    auto journal = Journal::Open(config_.journal, limits);
    if (!journal.ok()) return journal.error();
    journal_ = std::move(journal).value();
    proto::Status reloaded = ReloadJournal();
    if (!reloaded.ok()) return reloaded;
  }
  UpdateGauges();
  return proto::Status::Ok();
}

proto::Status Broker::ReloadJournal() {
  auto open = journal_->LoadOpen();
  if (!open.ok()) return open.error();
  size_t loaded = 0;
  for (const JournalJob& j : open.value()) {
    if (j.id.empty() || jobs_.count(j.id) || !proto::ValidateNumber(j.n, SIZE_MAX).ok()) {
      ZF_LOG(kWarning) << "journal: skipping unusable job '" << j.id << "'";
      continue;
    }
    JournalJob spec = j;
    spec.priority = std::clamp(j.priority, 0, kPriorities - 1);
    AddJob(spec);
    ++loaded;
  }
  if (loaded > 0) {
    ZF_LOG(kInfo) << "journal: re-queued " << loaded << " unfinished jobs";
  }
  auto finished = journal_->LoadFinished(kRecentResults);
  if (!finished.ok()) return finished.error();
  for (FinishedJob& f : finished.value()) {
    if (jobs_.count(f.id) == 0) Remember(f.id, f.kind, f.n, std::move(f.result));
  }
  return proto::Status::Ok();
}

const std::string* Broker::FinishedResult(const std::string& id, proto::Kind kind,
                                          const std::string& n) {
  auto recent = recent_.find(id);
  if (recent == recent_.end() && journal_) {
    auto found = journal_->FindFinished(id);
    if (!found.ok()) {
      ZF_LOG(kError) << found.error().message;
    } else if (found.value()) {
      FinishedJob& f = *found.value();
      Remember(f.id, f.kind, f.n, std::move(f.result));
      recent = recent_.find(id);
    }
  }
  if (recent == recent_.end() || recent->second.kind != kind || recent->second.n != n) {
    return nullptr;
  }
  return &recent->second.body;
}

void Broker::Remember(const std::string& id, proto::Kind kind, const std::string& n,
                      std::string body) {
  if (recent_.count(id)) {
    recent_order_.erase(std::find(recent_order_.begin(), recent_order_.end(), id));
    recent_.erase(id);
  }
  if (recent_.size() >= kRecentResults) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
  recent_.emplace(id, RecentResult{kind, n, std::move(body)});
  recent_order_.push_back(id);
}

void Broker::Run() {
  ZF_LOG(kInfo) << "broker up: front " << front_endpoint_ << ", back " << back_endpoint_ << ", pub "
                << pub_endpoint_;
  zmq::pollitem_t items[] = {{front_.handle(), 0, ZMQ_POLLIN, 0},
                             {back_.handle(), 0, ZMQ_POLLIN, 0}};
  const auto timeout = std::chrono::milliseconds(std::min(config_.heartbeat_ms, kMaxPollMs));
  while (!stop_.load() && !core::StopRequested()) {
    try {
      zmq::poll(items, 2, timeout);
      if (items[0].revents & ZMQ_POLLIN) Drain(Side::kFront);
      if (items[1].revents & ZMQ_POLLIN) Drain(Side::kBack);
      Dispatch();
      PurgeExpired();
      SendHeartbeats();
      UpdateGauges();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        ZF_LOG(kError) << "loop: zmq: " << e.what();
      }
    } catch (const std::exception& e) {
      ZF_LOG(kError) << "loop: " << e.what();
    }
  }
  ZF_LOG(kInfo) << "broker stopping: " << jobs_.size() << " open jobs, " << workers_.size()
                << " workers";
}

// ---------------------------------------------------------------- front

// Everything one drain writes to the journal is one transaction (group
// commit), and the jobs submitted in it are answered `accepted` only once it
// is committed: "written before accepted" holds at one commit per batch
// instead of one per job.
void Broker::Drain(Side side) {
  grouping_ = journal_ && journal_->Begin().ok();
  DrainMessages(side);
  if (!grouping_) return;
  grouping_ = false;
  proto::Status committed = journal_->Commit();
  if (!committed.ok()) ZF_LOG(kError) << "journal commit failed: " << committed.error().message;
  ReleaseAccepts(committed);
}

void Broker::ReleaseAccepts(const proto::Status& committed) {
  std::vector<Deferred> deferred;
  deferred.swap(deferred_);
  deferred_ids_.clear();
  for (Deferred& d : deferred) {
    Internal reply;
    reply.job = d.job.id;
    if (!committed.ok()) {
      reply.type = MsgType::kRejected;
      reply.error = committed.error();
      ++rejected_;
      m_->rejected->Increment();
    } else {
      reply.type = MsgType::kAccepted;
      if (d.first) {
        AddJob(d.job);
        ++submitted_;
        m_->submitted->Increment();
      }
    }
    SendToGateway(d.gateway, reply);
  }
}

void Broker::DrainMessages(Side side) {
  zmq::socket_t& socket = side == Side::kFront ? front_ : back_;
  const char* name = side == Side::kFront ? "front" : "back";
  std::vector<zmq::message_t> frames;
  for (int i = 0; i < kMaxBatch && core::RecvMultipart(socket, &frames, zmq::recv_flags::dontwait);
       ++i) {
    if (frames.size() != 2 || frames[0].size() == 0) {
      Malformed(std::string(name) + ": dropping a message of " + std::to_string(frames.size()) +
                " frames");
      continue;
    }
    const std::string identity = core::ToString(frames[0]);
    // Any traffic shows the peer is alive, even a message that then fails to decode.
    if (side == Side::kFront) {
      gateways_[identity].expiry_ms = LeaseEnd();
    } else if (auto w = workers_.find(identity); w != workers_.end()) {
      w->second.expiry_ms = LeaseEnd();
    }
    auto m = proto::DecodeInternal(std::string_view(frames[1].data<char>(), frames[1].size()));
    if (!m.ok()) {
      Malformed(std::string(name) + ": dropping undecodable message from " + ShortId(identity) +
                ": " + m.error().message);
      continue;
    }
    try {
      if (side == Side::kFront) {
        OnFrontMessage(identity, m.value());
      } else {
        OnBackMessage(identity, m.value());
      }
    } catch (const std::exception& e) {
      ZF_LOG(kError) << name << ": " << proto::MsgTypeName(m.value().type) << ": " << e.what();
    }
  }
}

void Broker::Malformed(const std::string& what) {
  ++malformed_;
  m_->malformed->Increment();
  ZF_LOG(kWarning) << what;
}

int64_t Broker::LeaseEnd() const {
  return core::NowMs() + int64_t{config_.heartbeat_ms} * config_.liveness;
}

void Broker::OnFrontMessage(const std::string& identity, const Internal& m) {
  switch (m.type) {
    case MsgType::kSubmit:
      OnSubmit(identity, m);
      return;
    case MsgType::kCancel:
      OnCancel(identity, m);
      return;
    case MsgType::kStats: {
      Internal reply;
      reply.type = MsgType::kStatsReply;
      reply.stats = {
          {"queue_depth", static_cast<double>(queue_.size())},
          {"jobs_running", static_cast<double>(running_)},
          {"workers", static_cast<double>(workers_.size())},
          {"jobs_submitted", static_cast<double>(submitted_)},
          {"jobs_done", static_cast<double>(done_)},
          {"jobs_failed", static_cast<double>(failed_)},
          {"jobs_cancelled", static_cast<double>(cancelled_)},
          {"jobs_requeued", static_cast<double>(requeued_)},
          {"jobs_rejected", static_cast<double>(rejected_)},
          {"worker_deaths", static_cast<double>(deaths_)},
          {"malformed_messages", static_cast<double>(malformed_)},
      };
      SendToGateway(identity, reply);
      return;
    }
    case MsgType::kHeartbeat:
      return;  // liveness already noted
    default:
      Malformed(std::string("front: unexpected ") + proto::MsgTypeName(m.type) + " from " +
                ShortId(identity));
  }
}

void Broker::OnSubmit(const std::string& gateway, const Internal& m) {
  Internal reply;
  reply.job = m.job;
  auto reject = [&](proto::Error error, uint32_t retry_after_ms) {
    reply.type = MsgType::kRejected;
    reply.error = std::move(error);
    reply.retry_after_ms = retry_after_ms;
    ++rejected_;
    m_->rejected->Increment();
    SendToGateway(gateway, reply);
  };
  if (m.job.empty()) return reject(MakeError(ErrorCode::kBadRequest, "empty job id"), 0);
  if (m.max_seconds && !(*m.max_seconds > 0)) {  // the codec already rejects non-finite numbers
    return reject(MakeError(ErrorCode::kBadRequest, "max_seconds must be a number > 0"), 0);
  }
  auto open = jobs_.find(m.job);
  if (open != jobs_.end() && (open->second.n != m.n || open->second.kind != m.kind)) {
    return reject(
        MakeError(ErrorCode::kBadRequest, "job id " + m.job + " is open for another number"), 0);
  }
  if (open == jobs_.end()) {
    if (const std::string* body = FinishedResult(m.job, m.kind, m.n)) {
      // Finished already: the gateway missed the result. Publish it again.
      core::SendMultipart(pub_, {proto::PubTopic(MsgType::kResult), *body});
      reply.type = MsgType::kAccepted;
      SendToGateway(gateway, reply);
      return;
    }
    if (queue_.size() + deferred_ids_.size() >= static_cast<size_t>(config_.max_queue)) {
      return reject(MakeError(ErrorCode::kBusy,
                              "the queue is full (" + std::to_string(queue_.size()) + " jobs)"),
                    config_.busy_retry_ms);
    }
    const JournalJob spec{m.job, m.kind, m.n, m.priority, m.max_seconds, 0};
    if (journal_) {
      proto::Status saved = journal_->Add(spec);
      if (!saved.ok()) {
        ZF_LOG(kError) << saved.error().message;
        return reject(saved.error(), 0);
      }
    }
    if (grouping_) {  // queued and answered once the drain's transaction commits
      const bool first = deferred_ids_.insert(m.job).second;
      deferred_.push_back(Deferred{gateway, spec, first});
      return;
    }
    AddJob(spec);
    ++submitted_;
    m_->submitted->Increment();
  }
  reply.type = MsgType::kAccepted;
  SendToGateway(gateway, reply);
}

void Broker::OnCancel(const std::string& gateway, const Internal& m) {
  Internal ack;
  ack.type = MsgType::kCancelAck;
  ack.job = m.job;
  auto it = jobs_.find(m.job);
  ack.found = it != jobs_.end();
  SendToGateway(gateway, ack);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  if (!job.running) {
    ZF_LOG(kInfo) << "job " << job.id << " cancelled while queued";
    Finish(job.id, JobState::kCancelled, std::nullopt, std::nullopt);
    return;
  }
  job.cancel_requested = true;
  auto w = workers_.find(job.worker);
  Internal cancel;
  cancel.type = MsgType::kCancel;
  cancel.job = job.id;
  if (w == workers_.end() || !SendToWorker(w->second, cancel)) {
    // Its worker is gone: nobody will answer, so the job ends here.
    if (w != workers_.end()) RemoveWorker(job.worker, /*died=*/true, "unreachable");
    if (jobs_.count(m.job)) Finish(m.job, JobState::kCancelled, std::nullopt, std::nullopt);
  }
}

// ---------------------------------------------------------------- back

void Broker::OnBackMessage(const std::string& identity, const Internal& m) {
  switch (m.type) {
    case MsgType::kReady:
      OnReady(identity, m);
      return;
    case MsgType::kResult:
    case MsgType::kFailed:
      OnJobEnd(identity, m);
      return;
    case MsgType::kProgress: {
      auto it = jobs_.find(m.job);
      if (it == jobs_.end() || !it->second.running || it->second.worker != identity) return;
      it->second.progress_ms = core::NowMs();
      // "alive" is proof of life only; a real report goes on to the gateways.
      if (m.stage != proto::kAliveStage) {
        core::SendMultipart(pub_, {proto::PubTopic(MsgType::kProgress), proto::EncodeInternal(m)});
      }
      ZF_LOG(kDebug) << "job " << m.job << ": " << m.stage << " " << m.fraction;
      return;
    }
    case MsgType::kHeartbeat:
      // From an unknown peer (e.g. after a broker restart) it is ignored: that
      // worker hears no heartbeats, reconnects and sends `ready`.
      return;
    case MsgType::kBye:
      RemoveWorker(identity, /*died=*/false, "said bye");
      return;
    default:
      Malformed(std::string("back: unexpected ") + proto::MsgTypeName(m.type) + " from " +
                ShortId(identity));
  }
}

void Broker::OnReady(const std::string& identity, const Internal& m) {
  auto [it, added] = workers_.try_emplace(identity);
  Worker& w = it->second;
  w.identity = identity;
  w.name = m.name;
  w.capacity = m.capacity;
  w.expiry_ms = LeaseEnd();
  ZF_LOG(kInfo) << "worker " << m.name << " (" << ShortId(identity) << ") "
                << (added ? "joined" : "re-announced") << " with capacity " << m.capacity;
}

void Broker::OnJobEnd(const std::string& identity, const Internal& m) {
  if (m.type == MsgType::kResult && !proto::IsFinal(m.state)) {
    Malformed("back: result for " + m.job + " with non-final state " +
              proto::JobStateName(m.state));
    return;
  }
  // Only a registered worker may end a job: a peer that never sent `ready`
  // (or was declared dead) cannot put an answer on the result stream.
  auto wit = workers_.find(identity);
  if (wit == workers_.end()) {
    Malformed("back: end of job " + m.job + " from an unregistered peer; dropped");
    return;
  }
  auto jit = jobs_.find(m.job);
  if (jit != jobs_.end() && m.type == MsgType::kResult &&
      (m.n != jit->second.n || m.kind != jit->second.kind)) {
    Malformed("back: result for " + m.job + " names another number; dropped");
    return;
  }
  // The sender's credit comes back whatever happens to the job.
  wit->second.running.erase(m.job);
  if (jit == jobs_.end()) {
    ZF_LOG(kDebug) << "back: end of job " << m.job << " which is no longer open; dropped";
    return;
  }
  Job& job = jit->second;
  const bool from_owner = job.running && job.worker == identity;
  if (m.type == MsgType::kResult && m.state == JobState::kCancelled && !job.cancel_requested) {
    // A worker stopping on its own (shutdown) gave the job back.
    if (from_owner) Requeue(job);
    return;
  }
  if (job.running && !from_owner) {
    // Another worker still runs it (this one reconnected, or the job was
    // re-queued and re-sent): the answer is in, stop the other copy.
    auto other = workers_.find(job.worker);
    if (other != workers_.end()) {
      Internal cancel;
      cancel.type = MsgType::kCancel;
      cancel.job = job.id;
      SendToWorker(other->second, cancel);  // its credit returns when it answers
    }
  }
  if (m.type == MsgType::kFailed) {
    Finish(job.id, JobState::kFailed, std::nullopt, m.error);
  } else {
    Finish(job.id, m.state, m.result, m.state == JobState::kFailed ? m.error : std::nullopt);
  }
}

// ---------------------------------------------------------------- scheduling

void Broker::AddJob(const JournalJob& spec) {
  Job job;
  job.id = spec.id;
  job.kind = spec.kind;
  job.n = spec.n;
  job.priority = spec.priority;
  job.lane = LaneOf(spec.kind, spec.n.size());
  job.max_seconds = spec.max_seconds;
  job.submit_ms = core::NowMs();
  job.deaths = spec.deaths;
  Job& stored = jobs_.emplace(job.id, std::move(job)).first->second;
  Enqueue(stored, /*front=*/false);
}

void Broker::Enqueue(Job& job, bool front) {
  job.enqueue_ms = front && job.enqueue_ms != 0 ? job.enqueue_ms : core::NowMs();
  if (front) {
    queue_.PushFront(job.id, job.priority, job.lane, job.enqueue_ms);
  } else {
    queue_.PushBack(job.id, job.priority, job.lane, job.enqueue_ms);
  }
}

void Broker::Dispatch() {
  while (!queue_.empty()) {
    Worker* best = nullptr;
    uint64_t slots = 0, free_slots = 0;
    for (auto& [identity, w] : workers_) {
      slots += w.capacity;
      free_slots += w.free();
      if (w.free() > 0 && (best == nullptr || w.free() > best->free())) best = &w;
    }
    if (best == nullptr) return;
    const uint64_t reserve =
        std::min<uint64_t>(static_cast<uint64_t>(std::max(config_.reserve_slots, 0)), slots - 1);
    std::optional<std::string> id = queue_.Pop(/*include_large=*/free_slots > reserve);
    if (!id) return;  // only large jobs queued, and only reserved slots free
    auto jit = jobs_.find(*id);
    if (jit == jobs_.end()) continue;  // cannot happen: queued ids are open jobs
    Job& job = jit->second;
    Internal msg;
    msg.type = MsgType::kJob;
    msg.job = job.id;
    msg.kind = job.kind;
    msg.n = job.n;
    msg.max_seconds = job.max_seconds;
    if (!SendToWorker(*best, msg)) {
      // The job never left: put it back, then drop the unreachable worker.
      Enqueue(job, /*front=*/true);
      RemoveWorker(best->identity, /*died=*/true, "unreachable");
      continue;
    }
    job.running = true;
    job.worker = best->identity;
    job.progress_ms = core::NowMs();
    best->running.insert(job.id);
    ++running_;
    PublishState(job, JobState::kRunning);
  }
}

void Broker::RemoveWorker(const std::string& identity, bool died, const char* why) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return;
  Worker w = std::move(it->second);
  workers_.erase(it);
  if (died) {
    ++deaths_;
    m_->deaths->Increment();
  }
  if (died) {
    ZF_LOG(kWarning) << "worker " << w.name << " (" << ShortId(identity) << ") " << why << "; "
                     << w.running.size() << " jobs to re-queue";
  } else {
    ZF_LOG(kInfo) << "worker " << w.name << " (" << ShortId(identity) << ") " << why << "; "
                  << w.running.size() << " jobs to re-queue";
  }
  for (const std::string& id : w.running) {
    auto jit = jobs_.find(id);
    if (jit == jobs_.end() || !jit->second.running || jit->second.worker != identity) continue;
    Job& job = jit->second;
    if (job.cancel_requested) {
      Finish(id, JobState::kCancelled, std::nullopt, std::nullopt);
      continue;
    }
    if (died) {
      ++job.deaths;
      if (journal_) {
        proto::Status s = journal_->SetDeaths(id, job.deaths);
        if (!s.ok()) {
          ZF_LOG(kError) << s.error().message;
        }
      }
      if (job.deaths >= config_.max_retries) {
        ZF_LOG(kWarning) << "job " << id << ": worker lost " << job.deaths << " times; giving up";
        Finish(id, JobState::kFailed, std::nullopt,
               MakeError(ErrorCode::kInternal,
                         "worker lost " + std::to_string(job.deaths) + " times"));
        continue;
      }
    }
    Requeue(job);
  }
}

void Broker::Requeue(Job& job) {
  job.running = false;
  job.worker.clear();
  --running_;
  ++requeued_;
  m_->requeued->Increment();
  Enqueue(job, /*front=*/true);
  PublishState(job, JobState::kQueued);
}

void Broker::Finish(const std::string& id, JobState state, std::optional<proto::Result> result,
                    std::optional<proto::Error> error) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  if (job.running) {
    --running_;
  } else {
    queue_.Remove(job.id, job.priority, job.lane);
  }
  Internal out;
  out.type = MsgType::kResult;
  out.job = job.id;
  out.kind = job.kind;
  out.n = job.n;
  out.state = state;
  out.result = std::move(result);
  out.error = std::move(error);
  if (state == JobState::kFailed && !out.error)
    out.error = MakeError(ErrorCode::kInternal, "job failed");
  std::string body = proto::EncodeInternal(out);
  core::SendMultipart(pub_, {proto::PubTopic(MsgType::kResult), body});
  if (journal_) {
    proto::Status s = journal_->Finish(job.id, state, body);
    if (!s.ok()) {
      ZF_LOG(kError) << s.error().message;
    }
  }
  Remember(job.id, job.kind, job.n, std::move(body));
  switch (state) {
    case JobState::kDone:
      ++done_;
      m_->done->Increment();
      break;
    case JobState::kFailed:
      ++failed_;
      m_->failed->Increment();
      break;
    default:
      ++cancelled_;
      m_->cancelled->Increment();
  }
  m_->job_seconds->Observe(static_cast<double>(core::NowMs() - job.submit_ms) / 1000.0);
  ZF_LOG(kDebug) << "job " << id << " " << proto::JobStateName(state);
  jobs_.erase(it);
}

void Broker::PublishState(const Job& job, JobState state) {
  Internal out;
  out.type = MsgType::kState;
  out.job = job.id;
  out.kind = job.kind;
  out.n = job.n;
  out.state = state;
  core::SendMultipart(pub_, {proto::PubTopic(MsgType::kState), proto::EncodeInternal(out)});
}

// ---------------------------------------------------------------- liveness

void Broker::PurgeExpired() {
  const int64_t now = core::NowMs();
  std::vector<std::string> dead;
  for (const auto& [identity, w] : workers_) {
    if (w.expiry_ms < now) dead.push_back(identity);
  }
  for (const std::string& identity : dead) RemoveWorker(identity, /*died=*/true, "went silent");
  if (config_.progress_timeout_ms > 0) {
    std::map<std::string, std::string> hung;  // worker -> a job it made no progress on
    for (const auto& [id, job] : jobs_) {
      if (job.running && now - job.progress_ms > config_.progress_timeout_ms) {
        hung.emplace(job.worker, id);
      }
    }
    for (const auto& [identity, job] : hung) {
      const std::string why = "hung (no progress on job " + job + " for " +
                              std::to_string(config_.progress_timeout_ms / 1000) + " s)";
      RemoveWorker(identity, /*died=*/true, why.c_str());
    }
  }
  for (auto it = gateways_.begin(); it != gateways_.end();) {
    it = it->second.expiry_ms < now ? gateways_.erase(it) : std::next(it);
  }
}

void Broker::SendHeartbeats() {
  const int64_t now = core::NowMs();
  Internal hb;
  hb.type = MsgType::kHeartbeat;
  std::vector<std::string> unreachable;
  for (auto& [identity, w] : workers_) {
    if (now - w.last_sent_ms >= config_.heartbeat_ms && !SendToWorker(w, hb))
      unreachable.push_back(identity);
  }
  for (const std::string& identity : unreachable)
    RemoveWorker(identity, /*died=*/true, "unreachable");
  const std::string body = proto::EncodeInternal(hb);
  for (auto it = gateways_.begin(); it != gateways_.end();) {
    Gateway& g = it->second;
    if (now - g.last_sent_ms >= config_.heartbeat_ms) {
      g.last_sent_ms = now;
      if (!core::SendMultipart(front_, {it->first, body})) {
        it = gateways_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

bool Broker::SendToWorker(Worker& worker, const Internal& m) {
  if (!core::SendMultipart(back_, {worker.identity, proto::EncodeInternal(m)})) return false;
  worker.last_sent_ms = core::NowMs();
  return true;
}

void Broker::SendToGateway(const std::string& identity, const Internal& m) {
  if (core::SendMultipart(front_, {identity, proto::EncodeInternal(m)})) {
    auto it = gateways_.find(identity);
    if (it != gateways_.end()) it->second.last_sent_ms = core::NowMs();
  } else {
    ZF_LOG(kWarning) << "front: cannot reply " << proto::MsgTypeName(m.type) << " for " << m.job
                     << " to gateway " << ShortId(identity) << " (gone)";
  }
}

void Broker::UpdateGauges() {
  for (int lane = 0; lane < kLanes; ++lane) {
    m_->queue_depth[lane]->Set(static_cast<double>(queue_.lane_size(static_cast<Lane>(lane))));
  }
  m_->running->Set(static_cast<double>(running_));
  m_->workers->Set(static_cast<double>(workers_.size()));
}

}  // namespace zfactor::broker
