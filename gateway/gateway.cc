#include "gateway/gateway.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "cache/result_cache.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "monitoring/metrics.h"
#include "proto/codec.h"
#include "workers/compute.h"

namespace zfactor::gateway {
namespace {

using proto::Answer;
using proto::Error;
using proto::ErrorCode;
using proto::Internal;
using proto::Item;
using proto::JobState;
using proto::Kind;
using proto::MakeError;
using proto::MsgType;
using proto::Op;
using proto::Reply;
using proto::Request;
using proto::RequestId;

// The broker counts as gone after this many heartbeat intervals of silence
// (the same rule the broker applies to workers, PROTOCOL.md section 4).
constexpr int kLiveness = 3;
// At most this many messages per socket per loop turn, so no socket starves the others.
constexpr int kMaxDrain = 256;
// The loop wakes at least this often to run timers and notice Stop().
constexpr int kMaxPollMs = 100;
// Frames larger than this are dropped by ZeroMQ before they reach the codec
// (which answers anything above the 1 MiB body limit with too_large).
constexpr int64_t kMaxFrameBytes = 16 << 20;

// How a reply gets back to a client: its ROUTER identity, and whether it
// sent an empty delimiter frame (REQ, or a DEALER imitating one).
struct Envelope {
  std::string identity;
  bool delimiter = false;

  std::vector<std::string> Frames(std::string body) const {
    std::vector<std::string> frames{identity};
    if (delimiter) frames.emplace_back();
    frames.push_back(std::move(body));
    return frames;
  }
};

// A client that asked for an EVENT when a job ends.
struct Subscriber {
  Envelope envelope;
  RequestId id;
};

// One element of a held reply: a fixed item, or the open job it follows.
struct Slot {
  uint32_t index = 0;
  std::string job;           // non-empty: answered from this open job
  std::optional<Item> item;  // otherwise the answer or error
  uint32_t retry_after_ms = 0;
};

// A request whose reply is being built or held (wait_ms, wait, cancel, or a
// submit the broker has not acknowledged yet).
struct Pending {
  Envelope envelope;
  RequestId id;
  Op op = Op::kPing;
  bool batch = false;
  std::vector<Slot> slots;
  int64_t received_ms = 0;
  int64_t deadline_ms = 0;
  bool hold = false;    // until every job slot is final, or the deadline
  bool cancel = false;  // until the broker's cancel_ack, or the deadline
  bool cancel_acked = false;
};

// A job this gateway follows (open jobs only; final ones live in the cache).
struct Job {
  std::string id;
  Kind kind = Kind::kFactor;
  std::string n;
  JobState state = JobState::kQueued;
  int priority = 5;
  std::optional<double> max_seconds;
  bool submitted = false;  // a submit was sent in this gateway's life
  bool acked = false;      // the broker accepted it (in this life or a previous one)
  bool persisted = false;  // a job record exists in the cache
  int64_t submit_ms = 0;
  std::vector<uint64_t> waiters;  // Pending keys
  std::vector<Subscriber> subscribers;
};

struct StatsWaiter {
  Envelope envelope;
  RequestId id;
  int64_t received_ms = 0;
  int64_t deadline_ms = 0;
};

Item OkItem(Answer answer, uint32_t index) {
  Item item;
  item.ok = true;
  item.answer = std::move(answer);
  item.index = index;
  return item;
}

Item ErrorItem(Error error, uint32_t index) {
  Item item;
  item.ok = false;
  item.error = std::move(error);
  item.index = index;
  return item;
}

Answer DoneAnswer(Kind kind, const std::string& n, proto::Source source, proto::Result result) {
  Answer a;
  a.n = n;
  a.kind = kind;
  a.state = JobState::kDone;
  a.source = source;
  a.result = std::move(result);
  return a;
}

// Decimal digits of 2^bits, by repeated doubling (bits is small).
std::string PowerOfTwoDecimal(int bits) {
  std::string digits = "1";  // least significant first
  for (int i = 0; i < bits; ++i) {
    int carry = 0;
    for (char& c : digits) {
      int d = (c - '0') * 2 + carry;
      c = static_cast<char>('0' + d % 10);
      carry = d / 10;
    }
    if (carry) digits.push_back(static_cast<char>('0' + carry));
  }
  return std::string(digits.rbegin(), digits.rend());
}

bool LessDecimal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

std::string OpLabel(Op op) { return proto::OpName(op); }

}  // namespace

bool BelowPowerOfTwo(const std::string& n, int bits) {
  if (bits <= 0) return false;
  return LessDecimal(n, PowerOfTwoDecimal(std::min(bits, 1 << 16)));
}

// ------------------------------------------------------------------ Impl

class Gateway::Impl {
 public:
  explicit Impl(const GatewayConfig& config) : config_(config), metrics_("gateway") {}

  proto::Status Init();
  void Run(const std::atomic<bool>& stop);

  std::string listen_endpoint_;
  std::string metrics_address() const { return metrics_.address(); }

 private:
  // ---- inbound
  void OnClientMessage(std::vector<zmq::message_t>& frames);
  void HandleRequest(const Envelope& envelope, Request request, int64_t received_ms);
  void HandleCompute(Pending pending, const Request& request);
  void HandleJobOp(Pending pending, const Request& request);
  void HandleStats(const Envelope& envelope, const RequestId& id, int64_t received_ms);
  void OnBrokerMessage(const std::vector<zmq::message_t>& frames);
  void OnPubMessage(const std::vector<zmq::message_t>& frames);

  // ---- jobs
  proto::StatusOr<std::string> StartOrJoin(Kind kind, const std::string& n, const Request& request,
                                           uint64_t key, const Envelope& envelope);
  proto::Status Submit(Job& job);
  void Attach(Job& job, uint64_t key, const Envelope& envelope, const Request& request);
  void Accept(Job& job);
  void FailSubmit(const std::string& job_id, const Error& error, uint32_t retry_after_ms);
  void EndJob(const std::string& job_id, JobState state, std::optional<proto::Result> result,
              std::optional<Error> error);
  Answer AnswerOf(const Job& job) const;
  void PersistJob(const Job& job, std::optional<proto::Result> result, std::optional<Error> error);
  std::string NewJobId();

  // ---- replies
  uint64_t Register(Pending pending);
  bool Ready(const Pending& p, int64_t now) const;
  void TryReply(uint64_t key, bool force = false);
  void SendReply(const Envelope& envelope, const Reply& reply, const std::string& op,
                 int64_t received_ms);
  void SendError(const Envelope& envelope, const RequestId& id, const Error& error,
                 const std::string& op, int64_t received_ms, uint32_t retry_after_ms = 0);
  void SendToClient(const Envelope& envelope, std::string body);
  void AnswerStatsWaiters(bool only_expired, int64_t now);
  proto::Stats CurrentStats(int64_t now) const;
  void DropClients();

  // ---- timers and broker liveness
  void Tick(int64_t now);
  void ResubmitAfterOutage();
  void SendToBroker(const Internal& message, bool* ok = nullptr);
  bool BrokerDown(int64_t now) const;
  int64_t LivenessMs() const { return int64_t{kLiveness} * config_.heartbeat_ms; }
  int PollTimeoutMs(int64_t now) const;
  void UpdateGauges();
  void CountRequest(const std::string& op, const std::string& outcome, int64_t received_ms);

  GatewayConfig config_;
  zmq::context_t context_{1};
  zmq::socket_t router_{context_, zmq::socket_type::router};
  zmq::socket_t dealer_{context_, zmq::socket_type::dealer};
  zmq::socket_t sub_{context_, zmq::socket_type::sub};
  std::unique_ptr<cache::ResultCache> cache_;
  std::string two_pow_;  // decimal 2^inline_factor_bits

  std::unordered_map<std::string, Job> jobs_;
  std::map<std::pair<Kind, std::string>, std::string> open_;  // (kind, n) -> job id
  std::set<std::string> unacked_;
  std::unordered_map<uint64_t, Pending> pending_;
  std::set<std::pair<int64_t, uint64_t>> deadlines_;
  uint64_t next_key_ = 1;
  std::vector<StatsWaiter> stats_waiters_;
  bool stats_outstanding_ = false;
  int64_t stats_sent_ms_ = 0;
  proto::Stats broker_stats_{{"queue_depth", 0}, {"jobs_running", 0}, {"workers", 0}};
  std::vector<std::string> dropped_;  // identities found unreachable

  int64_t start_ms_ = 0;
  int64_t last_broker_ms_ = -1;
  int64_t next_heartbeat_ms_ = 0;
  bool broker_was_down_ = false;
  std::mt19937_64 rng_{std::random_device{}()};

  uint64_t jobs_submitted_ = 0;
  uint64_t jobs_done_ = 0;
  uint64_t jobs_failed_ = 0;
  uint64_t jobs_cancelled_ = 0;
  uint64_t inline_answers_ = 0;

  monitoring::Metrics metrics_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> request_counters_;
  std::map<std::string, prometheus::Histogram*> request_seconds_;
  prometheus::Counter* cache_hits_metric_ = nullptr;
  prometheus::Counter* cache_misses_metric_ = nullptr;
  prometheus::Counter* cache_evictions_metric_ = nullptr;
  prometheus::Gauge* cache_entries_metric_ = nullptr;
  prometheus::Gauge* open_jobs_metric_ = nullptr;
  prometheus::Gauge* waiting_metric_ = nullptr;
  prometheus::Gauge* broker_up_metric_ = nullptr;
  prometheus::Counter* submitted_metric_ = nullptr;
  prometheus::Counter* events_metric_ = nullptr;
  uint64_t reported_hits_ = 0, reported_misses_ = 0, reported_evictions_ = 0;
};

proto::Status Gateway::Impl::Init() {
  if (config_.heartbeat_ms < 1 || config_.inline_factor_bits < 0 || config_.stats_timeout_ms < 0 ||
      config_.inline_budget_ms < 0) {
    return MakeError(ErrorCode::kBadRequest,
                     "heartbeat-ms must be >= 1 and the inline limits >= 0");
  }
  two_pow_ = PowerOfTwoDecimal(std::min(config_.inline_factor_bits, 1 << 16));

  auto cache = cache::ResultCache::Open(config_.cache_path, config_.cache_max_entries);
  if (!cache.ok()) return cache.error();
  cache_ = std::move(cache).value();
  auto open_jobs = cache_->OpenJobs();
  if (!open_jobs.ok()) return open_jobs.error();
  for (cache::JobRecord& r : open_jobs.value()) {
    Job job;
    job.id = r.job;
    job.kind = r.kind;
    job.n = r.n;
    job.state = r.state;
    job.priority = r.priority;
    job.max_seconds = r.max_seconds;
    job.acked = true;  // the broker accepted it before the restart
    job.persisted = true;
    open_[{job.kind, job.n}] = job.id;
    jobs_.emplace(job.id, std::move(job));
  }

  try {
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::linger, 200);
    router_.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
    dealer_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(MsgType::kResult));
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(MsgType::kState));
    dealer_.connect(config_.broker);
    sub_.connect(config_.results);
  } catch (const zmq::error_t& e) {
    return MakeError(ErrorCode::kUnavailable,
                     std::string("cannot connect to the broker: ") + e.what());
  }
  auto bound = core::Bind(router_, config_.listen);
  if (!bound.ok()) return bound.error();
  listen_endpoint_ = bound.value();

  proto::Status served = metrics_.Serve(config_.metrics);
  if (!served.ok()) return served;
  cache_hits_metric_ =
      &metrics_.Counter("zfactor_cache_hits_total", "Result cache lookups answered");
  cache_misses_metric_ =
      &metrics_.Counter("zfactor_cache_misses_total", "Result cache lookups not answered");
  cache_evictions_metric_ =
      &metrics_.Counter("zfactor_cache_evictions_total", "Result cache entries evicted (LRU)");
  cache_entries_metric_ = &metrics_.Gauge("zfactor_cache_entries", "Results in the cache");
  open_jobs_metric_ =
      &metrics_.Gauge("zfactor_gateway_open_jobs", "Jobs the gateway follows that have not ended");
  waiting_metric_ = &metrics_.Gauge("zfactor_gateway_waiting_clients", "Replies held for clients");
  broker_up_metric_ =
      &metrics_.Gauge("zfactor_gateway_broker_up", "1 while the broker answers heartbeats");
  submitted_metric_ = &metrics_.Counter("zfactor_gateway_jobs_submitted_total",
                                        "Jobs the broker accepted from this gateway");
  events_metric_ =
      &metrics_.Counter("zfactor_gateway_events_total", "Job-end events sent to clients");
  for (const char* kind : {"isprime", "factor"}) {
    metrics_.Counter("zfactor_gateway_inline_answers_total", "Numbers answered inline",
                     {{"kind", kind}});
  }
  reported_hits_ = cache_->hits();
  reported_misses_ = cache_->misses();
  UpdateGauges();
  return proto::Status::Ok();
}

// ------------------------------------------------------------------ the loop

int Gateway::Impl::PollTimeoutMs(int64_t now) const {
  int64_t next = std::min<int64_t>(now + kMaxPollMs, next_heartbeat_ms_);
  if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
  if (!stats_waiters_.empty()) next = std::min(next, stats_waiters_.front().deadline_ms);
  for (const std::string& id : unacked_) {
    auto it = jobs_.find(id);
    if (it != jobs_.end()) next = std::min(next, it->second.submit_ms + LivenessMs());
  }
  return static_cast<int>(std::clamp<int64_t>(next - now, 0, kMaxPollMs));
}

void Gateway::Impl::Run(const std::atomic<bool>& stop) {
  start_ms_ = core::NowMs();
  next_heartbeat_ms_ = start_ms_;
  ZF_LOG(kInfo) << "gateway listening on " << listen_endpoint_ << ", broker " << config_.broker
                << ", results " << config_.results << ", cache " << config_.cache_path << " ("
                << cache_->entries() << " entries, " << jobs_.size() << " open jobs)";
  std::vector<zmq::message_t> frames;
  while (!stop.load() && !core::StopRequested()) {
    zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                               {dealer_.handle(), 0, ZMQ_POLLIN, 0},
                               {sub_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 3, std::chrono::milliseconds(PollTimeoutMs(core::NowMs())));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      ZF_LOG(kError) << "poll failed: " << e.what();
      break;
    }
    // Broker traffic first: acks and results may release held client replies.
    for (int i = 0; i < kMaxDrain && (items[1].revents & ZMQ_POLLIN); ++i) {
      if (!core::RecvMultipart(dealer_, &frames, zmq::recv_flags::dontwait)) break;
      try {
        OnBrokerMessage(frames);
      } catch (const std::exception& e) {
        ZF_LOG(kError) << "internal error on a broker message: " << e.what();
      }
    }
    for (int i = 0; i < kMaxDrain && (items[2].revents & ZMQ_POLLIN); ++i) {
      if (!core::RecvMultipart(sub_, &frames, zmq::recv_flags::dontwait)) break;
      try {
        OnPubMessage(frames);
      } catch (const std::exception& e) {
        ZF_LOG(kError) << "internal error on a result message: " << e.what();
      }
    }
    for (int i = 0; i < kMaxDrain && (items[0].revents & ZMQ_POLLIN); ++i) {
      if (!core::RecvMultipart(router_, &frames, zmq::recv_flags::dontwait)) break;
      OnClientMessage(frames);
    }
    try {
      Tick(core::NowMs());
    } catch (const std::exception& e) {
      ZF_LOG(kError) << "internal error in the timers: " << e.what();
    }
    DropClients();
  }
  // Release held replies with what is known, so no client waits on a
  // gateway that is gone.
  std::vector<uint64_t> keys;
  for (const auto& [key, p] : pending_) keys.push_back(key);
  for (uint64_t key : keys) TryReply(key, /*force=*/true);
  AnswerStatsWaiters(/*only_expired=*/false, core::NowMs());
  ZF_LOG(kInfo) << "gateway stopped";
}

void Gateway::Impl::Tick(int64_t now) {
  if (now >= next_heartbeat_ms_) {
    Internal hb;
    hb.type = MsgType::kHeartbeat;
    SendToBroker(hb);
    next_heartbeat_ms_ = now + config_.heartbeat_ms;
  }
  const bool down = BrokerDown(now);
  if (down != broker_was_down_) {
    if (down) {
      ZF_LOG(kWarning) << "broker " << config_.broker << " silent for " << LivenessMs()
                       << " ms: new jobs get 'unavailable'";
    } else {
      ZF_LOG(kInfo) << "broker " << config_.broker << " is up";
    }
    broker_was_down_ = down;
    if (!down) ResubmitAfterOutage();
  }
  // Submits the broker never answered.
  std::vector<std::string> expired;
  for (const std::string& id : unacked_) {
    auto it = jobs_.find(id);
    if (it != jobs_.end() && now - it->second.submit_ms >= LivenessMs()) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    Job& job = jobs_.at(id);
    if (!job.persisted) {
      FailSubmit(id, MakeError(ErrorCode::kUnavailable, "the broker did not answer the submit"), 0);
      continue;
    }
    // A job the broker accepted before (a resubmit): it stays open, and is
    // submitted again when the broker is back or a client asks for it.
    job.acked = true;
    job.submitted = false;
    unacked_.erase(id);
    const std::vector<uint64_t> waiters = job.waiters;
    for (uint64_t key : waiters) TryReply(key);
  }
  // Held replies whose time is up.
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t key = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    TryReply(key);
  }
  if (stats_outstanding_ && now - stats_sent_ms_ >= config_.stats_timeout_ms) {
    stats_outstanding_ = false;
  }
  AnswerStatsWaiters(/*only_expired=*/true, now);
  UpdateGauges();
}

void Gateway::Impl::ResubmitAfterOutage() {
  // The broker may have restarted and lost its queue. Jobs someone is waiting
  // for are submitted again now (same id: the broker treats a job it holds as
  // a duplicate); the rest when a client next asks for them.
  int resubmitted = 0;
  for (auto& [id, job] : jobs_) {
    if (unacked_.count(id)) continue;
    const bool wanted = !job.subscribers.empty() ||
                        std::any_of(job.waiters.begin(), job.waiters.end(),
                                    [&](uint64_t key) { return pending_.count(key) > 0; });
    if (wanted && Submit(job).ok()) {
      ++resubmitted;
    } else {
      job.submitted = false;
    }
  }
  if (resubmitted > 0) {
    ZF_LOG(kInfo) << "submitted " << resubmitted << " waited-for jobs again";
  }
}

void Gateway::Impl::UpdateGauges() {
  cache_hits_metric_->Increment(static_cast<double>(cache_->hits() - reported_hits_));
  cache_misses_metric_->Increment(static_cast<double>(cache_->misses() - reported_misses_));
  cache_evictions_metric_->Increment(
      static_cast<double>(cache_->evictions() - reported_evictions_));
  reported_hits_ = cache_->hits();
  reported_misses_ = cache_->misses();
  reported_evictions_ = cache_->evictions();
  cache_entries_metric_->Set(static_cast<double>(cache_->entries()));
  open_jobs_metric_->Set(static_cast<double>(jobs_.size()));
  waiting_metric_->Set(static_cast<double>(pending_.size() + stats_waiters_.size()));
  broker_up_metric_->Set(BrokerDown(core::NowMs()) || last_broker_ms_ < 0 ? 0 : 1);
}

bool Gateway::Impl::BrokerDown(int64_t now) const {
  // Before the broker was ever heard, allow one liveness period from start.
  const int64_t since = last_broker_ms_ < 0 ? start_ms_ : last_broker_ms_;
  return now - since >= LivenessMs();
}

void Gateway::Impl::SendToBroker(const Internal& message, bool* ok) {
  bool sent = core::SendMultipart(dealer_, {proto::EncodeInternal(message)});
  // The send queue fills only while the broker is away; heartbeats lost then
  // are not worth a line each.
  if (!sent && message.type != MsgType::kHeartbeat) {
    ZF_LOG(kWarning) << "cannot queue " << proto::MsgTypeName(message.type) << " to the broker";
  }
  if (ok) *ok = sent;
}

// ------------------------------------------------------------------ clients

void Gateway::Impl::OnClientMessage(std::vector<zmq::message_t>& frames) {
  const int64_t received = core::NowMs();
  if (frames.empty()) return;
  Envelope envelope;
  envelope.identity = core::ToString(frames[0]);
  std::string body;
  bool framed = false;
  if (frames.size() == 2) {
    body = core::ToString(frames[1]);
    framed = true;
  } else if (frames.size() == 3 && frames[1].size() == 0) {
    envelope.delimiter = true;
    body = core::ToString(frames[2]);
    framed = true;
  } else {
    envelope.delimiter = frames.size() >= 3 && frames[1].size() == 0;
  }
  if (!framed) {
    ZF_LOG(kWarning) << "malformed request: " << frames.size() - 1 << " frames after the identity";
    SendError(envelope, RequestId(),
              MakeError(ErrorCode::kMalformed,
                        "expected one body frame (optionally after an empty delimiter), got " +
                            std::to_string(frames.size() - 1) + " frames"),
              "invalid", received);
    return;
  }
  auto request = proto::DecodeRequest(body, config_.limits);
  if (!request.ok()) {
    ZF_LOG(kDebug) << "rejected request: " << request.error().message;
    SendError(envelope, proto::PeekRequestId(body), request.error(), "invalid", received);
    return;
  }
  const RequestId id = request.value().id;
  const Op op = request.value().op;
  try {
    HandleRequest(envelope, std::move(request).value(), received);
  } catch (const std::exception& e) {
    ZF_LOG(kError) << "internal error handling '" << proto::OpName(op) << "': " << e.what();
    SendError(envelope, id,
              MakeError(ErrorCode::kInternal, std::string("internal error: ") + e.what()),
              OpLabel(op), received);
  }
}

void Gateway::Impl::HandleRequest(const Envelope& envelope, Request request, int64_t received_ms) {
  switch (request.op) {
    case Op::kPing: {
      Reply reply;
      reply.id = request.id;
      reply.pong = true;
      SendReply(envelope, reply, "ping", received_ms);
      return;
    }
    case Op::kStats:
      HandleStats(envelope, request.id, received_ms);
      return;
    default:
      break;
  }
  Pending pending;
  pending.envelope = envelope;
  pending.id = request.id;
  pending.op = request.op;
  pending.batch = request.batch;
  pending.received_ms = received_ms;
  if (request.op == Op::kFactor || request.op == Op::kIsPrime) {
    HandleCompute(std::move(pending), request);
  } else {
    HandleJobOp(std::move(pending), request);
  }
}

void Gateway::Impl::HandleCompute(Pending pending, const Request& request) {
  const Kind kind = request.op == Op::kFactor ? Kind::kFactor : Kind::kIsPrime;
  const uint64_t key = next_key_++;
  const int64_t inline_until = core::NowMs() + config_.inline_budget_ms;
  int inline_done = 0;
  for (size_t i = 0; i < request.numbers.size(); ++i) {
    const proto::NumberArg& arg = request.numbers[i];
    Slot slot;
    slot.index = static_cast<uint32_t>(i);
    if (arg.error) {
      slot.item = ErrorItem(*arg.error, slot.index);
      pending.slots.push_back(std::move(slot));
      continue;
    }
    const std::string& n = arg.n;
    auto cached = cache_->Lookup(kind, n);
    if (!cached.ok()) {
      ZF_LOG(kError) << "cache lookup failed (treated as a miss): " << cached.error().message;
    } else if (cached.value()) {
      proto::Result result = *cached.value();
      result.ms = 0;
      slot.item = OkItem(DoneAnswer(kind, n, proto::Source::kCache, std::move(result)), slot.index);
      pending.slots.push_back(std::move(slot));
      continue;
    }
    const bool small =
        kind == Kind::kFactor ? LessDecimal(n, two_pow_) : n.size() <= config_.inline_prime_digits;
    if (small && (inline_done == 0 || core::NowMs() < inline_until)) {
      ++inline_done;
      math::Budget budget;
      if (request.max_seconds) budget.max_seconds = *request.max_seconds;
      auto computed = workers::Compute(kind, n, budget);
      if (!computed.ok()) {
        ZF_LOG(kError) << "inline " << proto::KindName(kind) << " of " << n
                       << " failed: " << computed.error().message;
        slot.item = ErrorItem(computed.error(), slot.index);
      } else {
        proto::Status stored = cache_->Store(kind, n, computed.value());
        if (!stored.ok()) {
          ZF_LOG(kError) << "cache store failed: " << stored.error().message;
        }
        ++inline_answers_;
        metrics_
            .Counter("zfactor_gateway_inline_answers_total", "Numbers answered inline",
                     {{"kind", proto::KindName(kind)}})
            .Increment();
        slot.item =
            OkItem(DoneAnswer(kind, n, proto::Source::kInline, computed.value()), slot.index);
      }
      pending.slots.push_back(std::move(slot));
      continue;
    }
    auto job = StartOrJoin(kind, n, request, key, pending.envelope);
    if (!job.ok()) {
      slot.item = ErrorItem(job.error(), slot.index);
    } else {
      slot.job = job.value();
    }
    pending.slots.push_back(std::move(slot));
  }
  if (request.wait_ms > 0) {
    pending.hold = true;
    pending.deadline_ms = pending.received_ms + std::min(request.wait_ms, config_.max_wait_ms);
  }
  pending_.emplace(key, std::move(pending));
  const Pending& p = pending_.at(key);
  if (p.hold) deadlines_.emplace(p.deadline_ms, key);
  TryReply(key);
}

void Gateway::Impl::HandleJobOp(Pending pending, const Request& request) {
  auto it = jobs_.find(request.job);
  if (it == jobs_.end()) {
    // Not open here: a finished job (or one this gateway never saw).
    auto record = cache_->FindJob(request.job);
    if (!record.ok()) {
      ZF_LOG(kError) << "job lookup failed: " << record.error().message;
      SendError(pending.envelope, pending.id,
                MakeError(ErrorCode::kInternal, "job lookup failed: " + record.error().message),
                OpLabel(pending.op), pending.received_ms);
      return;
    }
    if (!record.value()) {
      SendError(pending.envelope, pending.id,
                MakeError(ErrorCode::kUnknownJob, "no job '" + request.job + "'"),
                OpLabel(pending.op), pending.received_ms);
      return;
    }
    const cache::JobRecord& r = *record.value();
    Answer a;
    a.n = r.n;
    a.kind = r.kind;
    a.state = r.state;
    a.source = proto::Source::kJob;
    a.job = r.job;
    a.result = r.result;
    a.error = r.error;
    Reply reply;
    reply.id = pending.id;
    reply.answer = std::move(a);
    SendReply(pending.envelope, reply, OpLabel(pending.op), pending.received_ms);
    return;
  }
  Job& job = it->second;
  const int64_t now = core::NowMs();
  if (request.op == Op::kCancel) {
    if (BrokerDown(now)) {
      SendError(pending.envelope, pending.id,
                MakeError(ErrorCode::kUnavailable, "the broker cannot be reached"),
                OpLabel(pending.op), pending.received_ms);
      return;
    }
    Internal cancel;
    cancel.type = MsgType::kCancel;
    cancel.job = job.id;
    SendToBroker(cancel);
    pending.cancel = true;
    pending.deadline_ms = now + LivenessMs();
  } else if (request.op == Op::kWait) {
    // A job reloaded after a restart is submitted again (the broker treats a
    // known job id as a duplicate), so a wait cannot hang on a job the broker lost.
    if (!job.submitted && !BrokerDown(now)) (void)Submit(job);
    pending.hold = true;
    pending.deadline_ms = pending.received_ms + std::min(request.timeout_ms, config_.max_wait_ms);
  }
  Slot slot;
  slot.job = job.id;
  pending.slots.push_back(std::move(slot));
  const uint64_t key = next_key_++;
  job.waiters.push_back(key);
  const bool timed = pending.hold || pending.cancel;
  const int64_t deadline = pending.deadline_ms;
  pending_.emplace(key, std::move(pending));
  if (timed) deadlines_.emplace(deadline, key);
  TryReply(key);
}

void Gateway::Impl::HandleStats(const Envelope& envelope, const RequestId& id,
                                int64_t received_ms) {
  const int64_t now = core::NowMs();
  if (BrokerDown(now)) {
    Reply reply;
    reply.id = id;
    reply.stats = CurrentStats(now);
    SendReply(envelope, reply, "stats", received_ms);
    return;
  }
  stats_waiters_.push_back(StatsWaiter{envelope, id, received_ms, now + config_.stats_timeout_ms});
  if (!stats_outstanding_) {
    Internal ask;
    ask.type = MsgType::kStats;
    bool sent = false;
    SendToBroker(ask, &sent);
    stats_outstanding_ = sent;
    stats_sent_ms_ = now;
    if (!sent) AnswerStatsWaiters(/*only_expired=*/false, now);
  }
}

proto::Stats Gateway::Impl::CurrentStats(int64_t now) const {
  // The broker's last known part first; the gateway's own counters win.
  proto::Stats s = broker_stats_;
  s["jobs_submitted"] = static_cast<double>(jobs_submitted_);
  s["jobs_done"] = static_cast<double>(jobs_done_);
  s["jobs_failed"] = static_cast<double>(jobs_failed_);
  s["jobs_cancelled"] = static_cast<double>(jobs_cancelled_);
  s["cache_entries"] = static_cast<double>(cache_->entries());
  s["cache_hits"] = static_cast<double>(cache_->hits());
  s["cache_misses"] = static_cast<double>(cache_->misses());
  s["inline_answers"] = static_cast<double>(inline_answers_);
  s["uptime_s"] = static_cast<double>(now - start_ms_) / 1000.0;
  s["open_jobs"] = static_cast<double>(jobs_.size());
  s["waiting_clients"] = static_cast<double>(pending_.size() + stats_waiters_.size());
  s["broker_up"] = BrokerDown(now) || last_broker_ms_ < 0 ? 0 : 1;
  return s;
}

void Gateway::Impl::AnswerStatsWaiters(bool only_expired, int64_t now) {
  std::vector<StatsWaiter> due;
  auto keep = std::stable_partition(
      stats_waiters_.begin(), stats_waiters_.end(),
      [&](const StatsWaiter& w) { return only_expired && w.deadline_ms > now; });
  due.assign(std::make_move_iterator(keep), std::make_move_iterator(stats_waiters_.end()));
  stats_waiters_.erase(keep, stats_waiters_.end());
  for (const StatsWaiter& w : due) {
    Reply reply;
    reply.id = w.id;
    reply.stats = CurrentStats(now);
    SendReply(w.envelope, reply, "stats", w.received_ms);
  }
}

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
  Job job;
  job.id = NewJobId();
  job.kind = kind;
  job.n = n;
  job.priority = request.priority;
  if (kind == Kind::kFactor) job.max_seconds = request.max_seconds;
  proto::Status sent = Submit(job);
  if (!sent.ok()) return sent.error();
  Attach(job, key, envelope, request);
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
  job.acked = false;
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
  if (job.acked) return;
  job.acked = true;
  unacked_.erase(job.id);
  if (!job.persisted) {
    PersistJob(job, std::nullopt, std::nullopt);
    job.persisted = true;
    ++jobs_submitted_;
    submitted_metric_->Increment();
  }
  const std::vector<uint64_t> waiters = job.waiters;
  for (uint64_t key : waiters) TryReply(key);
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
  proto::Status s = cache_->PutJob(r);
  if (!s.ok()) {
    ZF_LOG(kError) << "cannot record job " << job.id << ": " << s.error().message;
  }
}

Answer Gateway::Impl::AnswerOf(const Job& job) const {
  Answer a;
  a.n = job.n;
  a.kind = job.kind;
  a.state = job.state;
  a.source = proto::Source::kJob;
  a.job = job.id;
  return a;
}

void Gateway::Impl::FailSubmit(const std::string& job_id, const Error& error,
                               uint32_t retry_after_ms) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  Job job = std::move(it->second);
  jobs_.erase(it);
  open_.erase({job.kind, job.n});
  unacked_.erase(job_id);
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
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  Job job = std::move(it->second);
  jobs_.erase(it);
  open_.erase({job.kind, job.n});
  unacked_.erase(job_id);
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
      FailSubmit(m.job, error, m.retry_after_ms);
      return;
    }
    case MsgType::kCancelAck: {
      auto it = jobs_.find(m.job);
      if (it == jobs_.end()) return;  // ended meanwhile; the cancel waiters were answered
      for (uint64_t key : it->second.waiters) {
        auto p = pending_.find(key);
        if (p != pending_.end() && p->second.cancel) p->second.cancel_acked = true;
      }
      // Found: the broker dropped it. Not found: the broker does not hold it,
      // so it will never end otherwise. Either way it is cancelled.
      EndJob(m.job, JobState::kCancelled, std::nullopt, std::nullopt);
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
    Accept(job);  // the broker holds it, whether or not its 'accepted' arrived
    job.state = m.state;
    if (job.persisted) {
      proto::Status s = cache_->SetJobState(job.id, m.state);
      if (!s.ok()) {
        ZF_LOG(kError) << "cannot record job state: " << s.error().message;
      }
    }
    return;
  }
  if (!proto::IsFinal(m.state)) {
    ZF_LOG(kWarning) << "result for job " << m.job << " in non-final state ignored";
    return;
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

// ------------------------------------------------------------------ replies

bool Gateway::Impl::Ready(const Pending& p, int64_t now) const {
  const bool compute = p.op == Op::kFactor || p.op == Op::kIsPrime;
  bool open = false;
  for (const Slot& slot : p.slots) {
    if (slot.job.empty()) continue;
    open = true;
    auto it = jobs_.find(slot.job);
    // The first reply for a new job waits for the broker's accept or reject
    // (bounded by the submit timeout), so 'busy' reaches the client.
    if (compute && it != jobs_.end() && !it->second.acked) return false;
  }
  if (!open) return true;
  if (p.cancel && !p.cancel_acked && now < p.deadline_ms) return false;
  if (p.hold && now < p.deadline_ms) return false;
  return true;
}

void Gateway::Impl::TryReply(uint64_t key, bool force) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  if (!force && !Ready(it->second, core::NowMs())) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.hold || p.cancel) deadlines_.erase({p.deadline_ms, key});

  std::vector<Item> items;
  uint32_t retry_after_ms = 0;
  for (Slot& slot : p.slots) {
    if (!slot.job.empty()) {
      auto job = jobs_.find(slot.job);
      if (job == jobs_.end()) {  // cannot happen: ended jobs fill their slots
        items.push_back(ErrorItem(MakeError(ErrorCode::kInternal, "job vanished"), slot.index));
      } else if (!job->second.acked && (p.op == Op::kFactor || p.op == Op::kIsPrime)) {
        items.push_back(
            ErrorItem(MakeError(ErrorCode::kUnavailable, "the gateway is stopping"), slot.index));
      } else {
        items.push_back(OkItem(AnswerOf(job->second), slot.index));
      }
    } else {
      items.push_back(std::move(*slot.item));
      if (!items.back().ok) retry_after_ms = slot.retry_after_ms;
    }
  }
  if (p.cancel && !p.cancel_acked && !items.empty() && items[0].ok &&
      !proto::IsFinal(items[0].answer.state)) {
    SendError(p.envelope, p.id,
              MakeError(ErrorCode::kUnavailable, "the broker did not confirm the cancel"),
              OpLabel(p.op), p.received_ms);
    return;
  }
  Reply reply;
  reply.id = p.id;
  if (p.batch) {
    reply.answers = std::move(items);
  } else if (!items.empty() && !items[0].ok) {
    SendError(p.envelope, p.id, items[0].error, OpLabel(p.op), p.received_ms, retry_after_ms);
    return;
  } else if (!items.empty()) {
    reply.answer = std::move(items[0].answer);
  }
  SendReply(p.envelope, reply, OpLabel(p.op), p.received_ms);
}

void Gateway::Impl::SendReply(const Envelope& envelope, const Reply& reply, const std::string& op,
                              int64_t received_ms) {
  SendToClient(envelope, proto::EncodeReply(reply));
  CountRequest(op, reply.ok ? "ok" : proto::ErrorCodeName(reply.error.code), received_ms);
}

void Gateway::Impl::SendError(const Envelope& envelope, const RequestId& id, const Error& error,
                              const std::string& op, int64_t received_ms, uint32_t retry_after_ms) {
  Reply reply;
  reply.id = id;
  reply.ok = false;
  reply.error = error;
  reply.retry_after_ms = retry_after_ms;
  SendReply(envelope, reply, op, received_ms);
}

void Gateway::Impl::SendToClient(const Envelope& envelope, std::string body) {
  if (!core::SendMultipart(router_, envelope.Frames(std::move(body)))) {
    ZF_LOG(kInfo) << "client gone (or not reading); dropping its held replies and subscriptions";
    dropped_.push_back(envelope.identity);
  }
}

void Gateway::Impl::CountRequest(const std::string& op, const std::string& outcome,
                                 int64_t received_ms) {
  prometheus::Counter*& counter = request_counters_[{op, outcome}];
  if (counter == nullptr) {
    counter =
        &metrics_.Counter("zfactor_gateway_requests_total", "Client requests by op and outcome",
                          {{"op", op}, {"outcome", outcome}});
  }
  counter->Increment();
  prometheus::Histogram*& histogram = request_seconds_[op];
  if (histogram == nullptr) {
    histogram = &metrics_.LatencyHistogram("zfactor_gateway_request_seconds",
                                           "Time from receiving a request to sending its reply",
                                           {{"op", op}});
  }
  histogram->Observe(static_cast<double>(core::NowMs() - received_ms) / 1000.0);
}

void Gateway::Impl::DropClients() {
  if (dropped_.empty()) return;
  std::set<std::string> gone(dropped_.begin(), dropped_.end());
  dropped_.clear();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (gone.count(it->second.envelope.identity)) {
      if (it->second.hold || it->second.cancel)
        deadlines_.erase({it->second.deadline_ms, it->first});
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  stats_waiters_.erase(
      std::remove_if(stats_waiters_.begin(), stats_waiters_.end(),
                     [&](const StatsWaiter& w) { return gone.count(w.envelope.identity) > 0; }),
      stats_waiters_.end());
  for (auto& [id, job] : jobs_) {
    auto& subs = job.subscribers;
    subs.erase(
        std::remove_if(subs.begin(), subs.end(),
                       [&](const Subscriber& s) { return gone.count(s.envelope.identity) > 0; }),
        subs.end());
  }
}

// ------------------------------------------------------------------ Gateway

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() = default;

proto::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(const GatewayConfig& config) {
  auto impl = std::make_unique<Impl>(config);
  proto::Status status = impl->Init();
  if (!status.ok()) return status.error();
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

void Gateway::Run() { impl_->Run(stop_); }

const std::string& Gateway::listen_endpoint() const { return impl_->listen_endpoint_; }

std::string Gateway::metrics_address() const { return impl_->metrics_address(); }

}  // namespace zfactor::gateway
