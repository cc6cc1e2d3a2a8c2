// Client requests: decoding and envelopes, the cache/inline/job path per
// number, get/wait/cancel/stats, and held replies.
#include <algorithm>
#include <iterator>

#include "core/log.h"
#include "core/zmq_util.h"
#include "gateway/impl.h"
#include "proto/codec.h"

namespace zfactor::gateway {

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
  if (auto held = client_held_.find(envelope.identity);
      held != client_held_.end() && held->second >= config_.max_client_held) {
    SendError(envelope, request.id,
              MakeError(ErrorCode::kBusy, "this client has " + std::to_string(held->second) +
                                              " requests in progress (the per-client limit)"),
              OpLabel(request.op), received_ms, kClientBusyRetryMs);
    return;
  }
  Pending pending;
  pending.envelope = envelope;
  pending.id = request.id;
  pending.op = request.op;
  pending.batch = request.batch;
  pending.received_ms = received_ms;
  pending.progress = request.progress;
  if (request.op == Op::kFactor || request.op == Op::kIsPrime) {
    HandleCompute(std::move(pending), std::move(request));
  } else {
    HandleJobOp(std::move(pending), request);
  }
}

void Gateway::Impl::HandleCompute(Pending pending, Request request) {
  const Kind kind = request.op == Op::kFactor ? Kind::kFactor : Kind::kIsPrime;
  const uint64_t key = next_key_++;
  std::shared_ptr<InlinePool::Budget> budget;  // made with the first inline number
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
      proto::Result result = std::move(*cached.value());
      result.ms = 0;
      slot.item = OkItem(DoneAnswer(kind, n, proto::Source::kCache, std::move(result)), slot.index);
      pending.slots.push_back(std::move(slot));
      continue;
    }
    const bool small =
        kind == Kind::kFactor ? LessDecimal(n, two_pow_) : n.size() <= config_.inline_prime_digits;
    if (small) {
      InlinePool::Task task;
      task.key = key;
      task.slot = slot.index;
      task.kind = kind;
      task.n = n;
      task.max_seconds = request.max_seconds;
      task.first = !budget;
      if (!budget) budget = std::make_shared<InlinePool::Budget>(config_.inline_budget_ms);
      task.budget = budget;
      to_compute_.push_back(std::move(task));
      slot.computing = true;
      pending.slots.push_back(std::move(slot));
      continue;
    }
    FollowJob(&slot, kind, n, request, key, pending.envelope);
    pending.slots.push_back(std::move(slot));
  }
  if (request.wait_ms > 0) {
    pending.hold = true;
    pending.deadline_ms = pending.received_ms + std::min(request.wait_ms, config_.max_wait_ms);
  }
  if (budget) pending.request = std::make_shared<const Request>(std::move(request));
  Hold(key, std::move(pending));
}

void Gateway::Impl::FollowJob(Slot* slot, Kind kind, const std::string& n, const Request& request,
                              uint64_t key, const Envelope& envelope) {
  auto job = StartOrJoin(kind, n, request, key, envelope);
  if (!job.ok()) {
    slot->item = ErrorItem(job.error(), slot->index);
    if (job.error().code == ErrorCode::kBusy) slot->retry_after_ms = kClientBusyRetryMs;
  } else {
    slot->job = job.value();
  }
}

void Gateway::Impl::OnInlineDone(InlinePool::Done done) {
  const InlinePool::Task& task = done.task;
  std::optional<Item> item;
  if (done.result && !done.result->ok()) {
    ZF_LOG(kError) << "inline " << proto::KindName(task.kind) << " of " << task.n
                   << " failed: " << done.result->error().message;
    item = ErrorItem(done.result->error(), task.slot);
  } else if (done.result) {
    const proto::Result& result = done.result->value();
    proto::Status stored = cache_->Store(task.kind, task.n, result);
    if (!stored.ok()) ZF_LOG(kError) << "cache store failed: " << stored.error().message;
    ++inline_answers_;
    inline_metric_[static_cast<int>(task.kind)]->Increment();
    item = OkItem(DoneAnswer(task.kind, task.n, proto::Source::kInline, result), task.slot);
  }
  auto it = pending_.find(task.key);
  if (it == pending_.end()) return;  // the client was dropped; the answer is cached all the same
  Pending& p = it->second;
  if (task.slot >= p.slots.size() || !p.slots[task.slot].computing) return;
  Slot& slot = p.slots[task.slot];
  slot.computing = false;
  if (item) {
    slot.item = std::move(*item);
  } else {  // a probable prime to prove, or the request's inline budget is spent
    FollowJob(&slot, task.kind, task.n, *p.request, task.key, p.envelope);
  }
  if (std::none_of(p.slots.begin(), p.slots.end(), [](const Slot& s) { return s.computing; })) {
    p.request.reset();
  }
  TryReply(task.key);
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
  Hold(key, std::move(pending));
}

void Gateway::Impl::Hold(uint64_t key, Pending pending) {
  if (pending.hold || pending.cancel) deadlines_.emplace(pending.deadline_ms, key);
  ++client_held_[pending.envelope.identity];
  pending_.emplace(key, std::move(pending));
  TryReply(key);
}

Pending Gateway::Impl::Release(std::unordered_map<uint64_t, Pending>::iterator it) {
  const uint64_t key = it->first;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.hold || p.cancel) deadlines_.erase({p.deadline_ms, key});
  ForgetWaiter(p, key);
  auto held = client_held_.find(p.envelope.identity);
  if (held != client_held_.end() && --held->second == 0) client_held_.erase(held);
  return p;
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
  // The broker's last known part. Job counters are the broker's when it
  // reports them (service-wide, across gateways and gateway restarts), else
  // this gateway's own count of the jobs it followed.
  proto::Stats s = broker_stats_;
  s.emplace("jobs_submitted", static_cast<double>(jobs_submitted_));
  s.emplace("jobs_done", static_cast<double>(jobs_done_));
  s.emplace("jobs_failed", static_cast<double>(jobs_failed_));
  s.emplace("results_rejected", static_cast<double>(results_rejected_));
  s.emplace("jobs_cancelled", static_cast<double>(jobs_cancelled_));
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

// ------------------------------------------------------------------ replies

bool Gateway::Impl::Ready(const Pending& p, int64_t now) const {
  const bool compute = p.op == Op::kFactor || p.op == Op::kIsPrime;
  bool open = false;
  for (const Slot& slot : p.slots) {
    if (slot.computing) return false;
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
  Pending p = Release(it);

  std::vector<Item> items;
  uint32_t retry_after_ms = 0;
  for (Slot& slot : p.slots) {
    if (slot.computing) {
      items.push_back(
          ErrorItem(MakeError(ErrorCode::kUnavailable, "the gateway is stopping"), slot.index));
    } else if (!slot.job.empty()) {
      auto job = jobs_.find(slot.job);
      if (job == jobs_.end()) {  // cannot happen: ended jobs fill their slots
        items.push_back(ErrorItem(MakeError(ErrorCode::kInternal, "job vanished"), slot.index));
      } else if (!job->second.acked && (p.op == Op::kFactor || p.op == Op::kIsPrime)) {
        items.push_back(
            ErrorItem(MakeError(ErrorCode::kUnavailable, "the gateway is stopping"), slot.index));
      } else {
        items.push_back(OkItem(AnswerOf(job->second, p.progress), slot.index));
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

// ZeroMQ counts a message against the pipe's high-water mark until the I/O
// thread has taken it, so a burst of replies (a job ending with a thousand
// waits on it) can meet a full pipe while the client is reading as fast as
// it can. Such messages wait in the client's backlog, in order, and go out
// as the pipe drains; only a client whose backlog stalls is dropped.
void Gateway::Impl::SendToClient(const Envelope& envelope, std::string body) {
  std::vector<std::string> frames = envelope.Frames(std::move(body));
  auto backlog = backlogs_.find(envelope.identity);
  if (backlog != backlogs_.end()) {
    if (backlog->second.messages.size() >= MaxBacklog()) {
      DropClient(envelope.identity, /*not_reading=*/true);
      return;
    }
    backlog->second.messages.push_back(std::move(frames));
    ++backlogged_;
    return;
  }
  switch (core::TrySendMultipart(router_, frames)) {
    case core::SendResult::kSent:
      return;
    case core::SendResult::kFull: {
      Backlog& b = backlogs_[envelope.identity];
      b.messages.push_back(std::move(frames));
      b.progress_ms = core::NowMs();
      ++backlogged_;
      return;
    }
    case core::SendResult::kGone:
      DropClient(envelope.identity, /*not_reading=*/false);
      return;
  }
}

void Gateway::Impl::FlushBacklogs(int64_t now) {
  std::vector<std::pair<std::string, bool>> drop;  // identity, not_reading
  for (auto& [identity, b] : backlogs_) {
    core::SendResult sent = core::SendResult::kSent;
    while (!b.messages.empty() &&
           (sent = core::TrySendMultipart(router_, b.messages.front())) == core::SendResult::kSent) {
      b.messages.pop_front();
      --backlogged_;
      b.progress_ms = now;
    }
    if (sent == core::SendResult::kGone) {
      drop.emplace_back(identity, false);
    } else if (!b.messages.empty() && now - b.progress_ms >= kStalledClientMs) {
      drop.emplace_back(identity, true);
    }
  }
  for (const auto& [identity, not_reading] : drop) DropClient(identity, not_reading);
  for (auto it = backlogs_.begin(); it != backlogs_.end();) {
    it = it->second.messages.empty() ? backlogs_.erase(it) : std::next(it);
  }
}

// Room for every reply the client may have held and an event for every job
// it may have open, and a turn's worth of immediate replies besides.
size_t Gateway::Impl::MaxBacklog() const {
  return size_t{config_.max_client_held} + config_.max_client_jobs + kMaxDrain;
}

void Gateway::Impl::DropClient(const std::string& identity, bool not_reading) {
  auto backlog = backlogs_.find(identity);
  if (backlog != backlogs_.end()) {
    backlogged_ -= backlog->second.messages.size();
    backlog->second.messages.clear();  // FlushBacklogs erases it
  }
  ZF_LOG(kInfo) << (not_reading ? "client not reading its replies" : "client gone")
                << "; dropping its held replies and subscriptions";
  metrics_
      .Counter("zfactor_gateway_clients_dropped_total",
               "Clients whose held replies and subscriptions were dropped",
               {{"reason", not_reading ? "not_reading" : "gone"}})
      .Increment();
  dropped_.push_back(identity);
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

void Gateway::Impl::ForgetWaiter(const Pending& pending, uint64_t key) {
  // Slots of ended jobs were cleared when the job ended; the rest still name
  // an open job whose waiter list must not keep this key (a client polling
  // `get` on a long job would otherwise grow it without bound).
  for (const Slot& slot : pending.slots) {
    if (slot.job.empty()) continue;
    auto job = jobs_.find(slot.job);
    if (job == jobs_.end()) continue;
    auto& waiters = job->second.waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), key), waiters.end());
  }
}

void Gateway::Impl::DropClients() {
  if (dropped_.empty()) return;
  std::set<std::string> gone(dropped_.begin(), dropped_.end());
  dropped_.clear();
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (gone.count(it->second.envelope.identity)) Release(it);
    it = next;
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

}  // namespace zfactor::gateway
