#include "gateway/gateway.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "gateway/impl.h"
#include "proto/codec.h"

namespace zfactor::gateway {

// By repeated doubling: bits is small.
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

bool BelowPowerOfTwo(const std::string& n, int bits) {
  if (bits <= 0) return false;
  return LessDecimal(n, PowerOfTwoDecimal(std::min(bits, 1 << 16)));
}

proto::Status Gateway::Impl::Init() {
  if (config_.heartbeat_ms < 1 || config_.reconcile_ms < 1 || config_.inline_factor_bits < 0 ||
      config_.stats_timeout_ms < 0 || config_.inline_budget_ms < 0 ||
      config_.max_client_jobs < 1 || config_.max_client_held < 1 || config_.compute_threads < 0) {
    return MakeError(ErrorCode::kBadRequest,
                     "heartbeat-ms, reconcile-ms and the per-client limits must be >= 1, "
                     "the inline limits and compute threads >= 0");
  }
  two_pow_ = PowerOfTwoDecimal(std::min(config_.inline_factor_bits, 1 << 16));

  // Answers below 2^64 are cached in memory only: recomputing one after a
  // restart costs microseconds, while writing every one kept the cache's
  // writer thread busy on the cores the inline math needs.
  auto cache = cache::ResultCache::Open(config_.cache_path, config_.cache_max_entries,
                                        /*persist_small=*/false);
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
    router_.set(zmq::sockopt::linger, kStopFlushMs);
    router_.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
    dealer_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::rcvhwm, kSubHwm);
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(MsgType::kResult));
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(MsgType::kState));
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(MsgType::kProgress));
    dealer_.connect(config_.broker);
    sub_.connect(config_.results);
  } catch (const zmq::error_t& e) {
    return MakeError(ErrorCode::kUnavailable,
                     std::string("cannot connect to the broker: ") + e.what());
  }
  auto bound = core::Bind(router_, config_.listen);
  if (!bound.ok()) return bound.error();
  listen_endpoint_ = bound.value();
  pool_ = std::make_unique<InlinePool>(config_.compute_threads > 0
                                           ? config_.compute_threads
                                           : static_cast<int>(std::thread::hardware_concurrency()));

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
  inline_queue_metric_ = &metrics_.Gauge("zfactor_gateway_inline_queue",
                                         "Inline numbers queued or running on the compute threads");
  backlog_metric_ = &metrics_.Gauge("zfactor_gateway_backlogged_replies",
                                    "Replies and events waiting for a client's full send pipe");
  broker_up_metric_ =
      &metrics_.Gauge("zfactor_gateway_broker_up", "1 while the broker answers heartbeats");
  submitted_metric_ = &metrics_.Counter("zfactor_gateway_jobs_submitted_total",
                                        "Jobs the broker accepted from this gateway");
  events_metric_ =
      &metrics_.Counter("zfactor_gateway_events_total", "Job-end events sent to clients");
  reconcile_metric_ = &metrics_.Counter("zfactor_gateway_reconcile_submits_total",
                                        "Open jobs submitted again to reconcile with the broker");
  for (Kind kind : {Kind::kFactor, Kind::kIsPrime}) {
    inline_metric_[static_cast<int>(kind)] =
        &metrics_.Counter("zfactor_gateway_inline_answers_total", "Numbers answered inline",
                          {{"kind", proto::KindName(kind)}});
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
  if (!backlogs_.empty()) next = std::min(next, now + kBacklogRetryMs);
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
                               {sub_.handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, pool_->fd(), ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 4, std::chrono::milliseconds(PollTimeoutMs(core::NowMs())));
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
    FlushJobRecords();
    for (int i = 0; i < kMaxDrain && (items[2].revents & ZMQ_POLLIN); ++i) {
      if (!core::RecvMultipart(sub_, &frames, zmq::recv_flags::dontwait)) break;
      try {
        OnPubMessage(frames);
      } catch (const std::exception& e) {
        ZF_LOG(kError) << "internal error on a result message: " << e.what();
      }
    }
    FlushJobRecords();
    if (items[3].revents & ZMQ_POLLIN) {
      for (InlinePool::Done& done : pool_->Drain()) {
        try {
          OnInlineDone(std::move(done));
        } catch (const std::exception& e) {
          ZF_LOG(kError) << "internal error on an inline answer: " << e.what();
        }
      }
    }
    const int64_t clients_until = core::NowMs() + kClientTurnMs;
    for (int i = 0; i < kMaxDrain && (items[0].revents & ZMQ_POLLIN); ++i) {
      if (i > 0 && core::NowMs() >= clients_until) break;
      if (!core::RecvMultipart(router_, &frames, zmq::recv_flags::dontwait)) break;
      OnClientMessage(frames);
    }
    pool_->Submit(std::move(to_compute_));
    to_compute_.clear();
    try {
      Tick(core::NowMs());
    } catch (const std::exception& e) {
      ZF_LOG(kError) << "internal error in the timers: " << e.what();
    }
    FlushBacklogs(core::NowMs());
    DropClients();
  }
  // Release held replies with what is known, so no client waits on a
  // gateway that is gone.
  std::vector<uint64_t> keys;
  for (const auto& [key, p] : pending_) keys.push_back(key);
  for (uint64_t key : keys) TryReply(key, /*force=*/true);
  AnswerStatsWaiters(/*only_expired=*/false, core::NowMs());
  // What met a full pipe gets as long as the socket's linger to go out.
  for (const int64_t until = core::NowMs() + kStopFlushMs;
       !backlogs_.empty() && core::NowMs() < until;) {
    FlushBacklogs(core::NowMs());
    std::this_thread::sleep_for(std::chrono::milliseconds(kBacklogRetryMs));
  }
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
    if (!down) {
      // The broker may have restarted and lost its queue: every open job is
      // submitted again by the sweeps below (same id: a duplicate if it holds it).
      for (auto& [id, job] : jobs_) {
        if (!unacked_.count(id)) job.submitted = false;
      }
    }
  }
  if (!down && now >= next_reconcile_ms_) {
    Reconcile(now);
    next_reconcile_ms_ = now + std::min<int64_t>(kReconcileSweepMs, config_.reconcile_ms);
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
    // A job the broker accepted before (a resubmit): it stays open and the
    // next sweep submits it again.
    job.submitted = false;
    unacked_.erase(id);
  }
  // Cancels answered "not found" whose result did not follow.
  std::vector<std::string> graced;
  for (const std::string& id : cancel_grace_) {
    auto it = jobs_.find(id);
    if (it != jobs_.end() && now >= it->second.cancel_grace_until_ms) graced.push_back(id);
  }
  for (const std::string& id : graced) CancelNow(jobs_.at(id));
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
  FlushJobRecords();  // what the timers changed (cancels, failed submits)
  // Results are written every turn, the lookups' LRU order once a second.
  const bool touches = now >= next_touch_flush_ms_;
  if (touches) next_touch_flush_ms_ = now + kTouchFlushMs;
  proto::Status flushed = cache_->Flush(touches);
  if (!flushed.ok()) {
    ZF_LOG(kError) << "cache flush failed: " << flushed.error().message;
  }
  UpdateGauges();
}

void Gateway::Impl::Reconcile(int64_t now) {
  int sent = 0;
  for (auto& [id, job] : jobs_) {
    if (unacked_.count(id) || now < job.retry_at_ms) continue;
    const int64_t quiet_ms = int64_t{config_.reconcile_ms}
                             << std::min(job.reconciles, kMaxReconcileDoublings);
    if (job.submitted && now - job.heard_ms < quiet_ms) continue;
    if (!Submit(job).ok()) break;  // the send queue is full: the next sweep goes on
    ++job.reconciles;
    if (++sent == kMaxReconcileSubmits) break;
  }
  if (sent > 0) {
    reconcile_metric_->Increment(sent);
    ZF_LOG(kDebug) << "reconcile: submitted " << sent << " open jobs again";
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
  backlog_metric_->Set(static_cast<double>(backlogged_));
  inline_queue_metric_->Set(static_cast<double>(pool_->outstanding()));
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
