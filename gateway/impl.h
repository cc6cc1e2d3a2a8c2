// Internal to gateway/: the gateway's records (envelopes, held replies, jobs)
// and its implementation class, shared by gateway.cc (set-up, the poll loop,
// timers), requests.cc (client requests and replies) and jobs.cc (jobs, the
// broker's front and the result stream).
#ifndef ZFACTOR_GATEWAY_IMPL_H_
#define ZFACTOR_GATEWAY_IMPL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "cache/result_cache.h"
#include "gateway/gateway.h"
#include "gateway/inline_pool.h"
#include "monitoring/metrics.h"
#include "proto/messages.h"

namespace zfactor::gateway {

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
// Client requests are read for at most this long per turn: the broker, the
// result stream and the inline answers are served in between, and ZeroMQ's fair queueing
// across connections keeps one client's flood from delaying the others by
// more than a turn.
constexpr int64_t kClientTurnMs = 50;
// Reconcile() sweeps the open jobs at most this often, and submits at most
// kMaxReconcileSubmits of them per sweep.
constexpr int64_t kReconcileSweepMs = 1000;
constexpr int kMaxReconcileSubmits = 2048;
// A job quiet through several sweeps is checked less often: reconcile_ms,
// then twice that, and so on, doubling at most this many times (to 8x).
constexpr int kMaxReconcileDoublings = 3;
// retry_after_ms in a `busy` answer for a client over its own limits.
constexpr uint32_t kClientBusyRetryMs = 1000;
// The loop wakes at least this often to run timers and notice Stop().
constexpr int kMaxPollMs = 100;
// A reply or event that meets a client's full send pipe waits in that
// client's backlog and is retried at least this often. A backlog that sends
// nothing for kStalledClientMs belongs to a client that stopped reading.
constexpr int kBacklogRetryMs = 2;
constexpr int64_t kStalledClientMs = 10000;
// The cache's LRU order (which only matters after a restart) is written this often.
constexpr int64_t kTouchFlushMs = 1000;
// At stop, held replies are released and get this long to reach their clients.
constexpr int kStopFlushMs = 200;
// Frames larger than this are dropped by ZeroMQ before they reach the codec
// (which answers anything above the 1 MiB body limit with too_large).
constexpr int64_t kMaxFrameBytes = 16 << 20;
// Result-stream messages buffered for this gateway, as many as the broker's
// PUB keeps per subscriber (PROTOCOL.md section 6).
constexpr int kSubHwm = 100000;

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

// One element of a held reply: a fixed item, the open job it follows, or
// inline math still running on the compute threads.
struct Slot {
  uint32_t index = 0;
  bool computing = false;    // an InlinePool task will fill it
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
  bool progress = false;  // get/wait asked for the running job's progress
  // While slots compute: the request, for a number that turns out to need a job.
  std::shared_ptr<const Request> request;
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
  std::string owner;  // identity of the client that started it ("" when reloaded)
  int64_t submit_ms = 0;
  int64_t heard_ms = 0;     // when the broker last showed it holds the job (accepted, state)
  int64_t retry_at_ms = 0;  // not submitted again before this (after a busy rejection)
  int reconciles = 0;       // submits by Reconcile(): each doubles the next wait, up to a cap
  // A cancel the broker answered "not found": the job ended there (its result
  // may still be on the stream) or was lost. Ended as cancelled at this time
  // unless a result arrives first.
  int64_t cancel_grace_until_ms = 0;
  // The running worker's last progress report (PUB "progress"), and when it came.
  std::optional<proto::Progress> progress;
  int64_t progress_ms = 0;
  std::vector<uint64_t> waiters;  // Pending keys
  std::vector<Subscriber> subscribers;
};

// Messages for one client that met its full send pipe, oldest first.
struct Backlog {
  std::deque<std::vector<std::string>> messages;  // frames, envelope included
  int64_t progress_ms = 0;  // when it began, or last sent a message
};

struct StatsWaiter {
  Envelope envelope;
  RequestId id;
  int64_t received_ms = 0;
  int64_t deadline_ms = 0;
};

inline Item OkItem(Answer answer, uint32_t index) {
  Item item;
  item.ok = true;
  item.answer = std::move(answer);
  item.index = index;
  return item;
}

inline Item ErrorItem(Error error, uint32_t index) {
  Item item;
  item.ok = false;
  item.error = std::move(error);
  item.index = index;
  return item;
}

inline Answer DoneAnswer(Kind kind, const std::string& n, proto::Source source,
                         proto::Result result) {
  Answer a;
  a.n = n;
  a.kind = kind;
  a.state = JobState::kDone;
  a.source = source;
  a.result = std::move(result);
  return a;
}

// Decimal digits of 2^bits.
std::string PowerOfTwoDecimal(int bits);
// a < b for canonical decimals.
bool LessDecimal(const std::string& a, const std::string& b);
inline std::string OpLabel(Op op) { return proto::OpName(op); }

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
  void HandleCompute(Pending pending, Request request);
  // Points `slot` at the job for n (started or joined), or at the error.
  void FollowJob(Slot* slot, Kind kind, const std::string& n, const Request& request, uint64_t key,
                 const Envelope& envelope);
  // An inline task finished: its slot gets the answer, or a job when the
  // number needs a worker after all.
  void OnInlineDone(InlinePool::Done done);
  void HandleJobOp(Pending pending, const Request& request);
  void HandleStats(const Envelope& envelope, const RequestId& id, int64_t received_ms);
  void OnBrokerMessage(const std::vector<zmq::message_t>& frames);
  void OnPubMessage(const std::vector<zmq::message_t>& frames);
  // A "progress" report from the result stream: kept on its open job.
  void OnProgress(Internal& m);

  // ---- jobs
  proto::StatusOr<std::string> StartOrJoin(Kind kind, const std::string& n, const Request& request,
                                           uint64_t key, const Envelope& envelope);
  proto::Status Submit(Job& job);
  void Attach(Job& job, uint64_t key, const Envelope& envelope, const Request& request);
  void Accept(Job& job);
  // The broker holds the open job in `state` (queued or running): accepted,
  // and the state recorded in memory and in the job's cache record.
  void SetOpenState(Job& job, JobState state);
  // Ends a job as cancelled, confirming the cancel to its cancel waiters.
  void CancelNow(Job& job);
  // Removes an open job from every index and returns it, or nullopt.
  std::optional<Job> TakeJob(const std::string& job_id);
  void FailSubmit(const std::string& job_id, const Error& error, uint32_t retry_after_ms);
  void EndJob(const std::string& job_id, JobState state, std::optional<proto::Result> result,
              std::optional<Error> error);
  // The job's answer; with_progress adds its last progress report while it runs.
  Answer AnswerOf(const Job& job, bool with_progress = false) const;
  // Queues the job's record for the next FlushJobRecords.
  void PersistJob(const Job& job, std::optional<proto::Result> result, std::optional<Error> error);
  // Writes the job records queued since the last call in one transaction,
  // then tries the replies that waited for them (after_flush_). Called after
  // each batch of broker and result-stream messages.
  void FlushJobRecords();
  std::string NewJobId();

  // ---- replies
  // Stores a request whose reply is built or held (counted against its
  // client's held limit), then tries to answer it.
  void Hold(uint64_t key, Pending pending);
  // Removes a stored request (and its deadline and waiter entries) and returns it.
  Pending Release(std::unordered_map<uint64_t, Pending>::iterator it);
  bool Ready(const Pending& p, int64_t now) const;
  void TryReply(uint64_t key, bool force = false);
  // Removes `key` from the waiter lists of the open jobs its slots name.
  void ForgetWaiter(const Pending& pending, uint64_t key);
  void SendReply(const Envelope& envelope, const Reply& reply, const std::string& op,
                 int64_t received_ms);
  void SendError(const Envelope& envelope, const RequestId& id, const Error& error,
                 const std::string& op, int64_t received_ms, uint32_t retry_after_ms = 0);
  // Queues a message for a client: at once, or behind its backlog.
  void SendToClient(const Envelope& envelope, std::string body);
  // Sends what the backlogs hold, as far as the clients' pipes take it.
  void FlushBacklogs(int64_t now);
  // Forgets a client's held replies and subscriptions (at the end of the turn).
  void DropClient(const std::string& identity, bool not_reading);
  size_t MaxBacklog() const;
  void AnswerStatsWaiters(bool only_expired, int64_t now);
  proto::Stats CurrentStats(int64_t now) const;
  void DropClients();

  // ---- timers and broker liveness
  void Tick(int64_t now);
  // Submits again the open jobs the broker has not shown it holds for
  // reconcile_ms (idempotent at the broker: a held job is a duplicate, an ended
  // one has its result published again, a lost one is queued again).
  void Reconcile(int64_t now);
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
  std::unique_ptr<InlinePool> pool_;
  std::vector<InlinePool::Task> to_compute_;  // this turn's inline numbers, submitted at its end
  std::string two_pow_;  // decimal 2^inline_factor_bits

  std::unordered_map<std::string, Job> jobs_;
  std::map<std::pair<Kind, std::string>, std::string> open_;  // (kind, n) -> job id
  std::set<std::string> unacked_;
  std::set<std::string> cancel_grace_;  // jobs with cancel_grace_until_ms set
  std::unordered_map<uint64_t, Pending> pending_;
  std::set<std::pair<int64_t, uint64_t>> deadlines_;
  // Per client identity: open jobs it started, and requests of its held in pending_.
  std::unordered_map<std::string, uint32_t> client_jobs_;
  std::unordered_map<std::string, uint32_t> client_held_;
  uint64_t next_key_ = 1;
  std::vector<StatsWaiter> stats_waiters_;
  bool stats_outstanding_ = false;
  int64_t stats_sent_ms_ = 0;
  proto::Stats broker_stats_{{"queue_depth", 0}, {"jobs_running", 0}, {"workers", 0}};
  std::vector<std::string> dropped_;  // identities found unreachable
  std::vector<uint64_t> after_flush_;  // Pending keys to try once the job records are written
  std::unordered_map<std::string, Backlog> backlogs_;  // by client identity
  size_t backlogged_ = 0;                              // messages in backlogs_

  int64_t start_ms_ = 0;
  int64_t last_broker_ms_ = -1;
  int64_t next_heartbeat_ms_ = 0;
  int64_t next_reconcile_ms_ = 0;
  int64_t next_touch_flush_ms_ = 0;
  bool broker_was_down_ = false;
  std::mt19937_64 rng_{std::random_device{}()};

  uint64_t jobs_submitted_ = 0;
  uint64_t jobs_done_ = 0;
  uint64_t jobs_failed_ = 0;
  uint64_t jobs_cancelled_ = 0;
  uint64_t inline_answers_ = 0;
  uint64_t results_rejected_ = 0;  // published answers that failed compute::CheckResult

  monitoring::Metrics metrics_;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> request_counters_;
  std::map<std::string, prometheus::Histogram*> request_seconds_;
  prometheus::Counter* cache_hits_metric_ = nullptr;
  prometheus::Counter* cache_misses_metric_ = nullptr;
  prometheus::Counter* cache_evictions_metric_ = nullptr;
  prometheus::Gauge* cache_entries_metric_ = nullptr;
  prometheus::Gauge* open_jobs_metric_ = nullptr;
  prometheus::Gauge* waiting_metric_ = nullptr;
  prometheus::Gauge* backlog_metric_ = nullptr;
  prometheus::Gauge* inline_queue_metric_ = nullptr;
  prometheus::Counter* inline_metric_[2] = {nullptr, nullptr};  // by proto::Kind
  prometheus::Gauge* broker_up_metric_ = nullptr;
  prometheus::Counter* submitted_metric_ = nullptr;
  prometheus::Counter* events_metric_ = nullptr;
  prometheus::Counter* reconcile_metric_ = nullptr;
  uint64_t reported_hits_ = 0, reported_misses_ = 0, reported_evictions_ = 0;
};

}  // namespace zfactor::gateway

#endif  // ZFACTOR_GATEWAY_IMPL_H_
