// The zfactor broker: a job queue between gateways and workers
// (docs/PROTOCOL.md sections 3-5), after ZeroMQ's Majordomo broker.
//
// One thread runs one poll loop over three sockets:
//   front ROUTER  gateways' DEALERs: submit, cancel, stats, heartbeat
//   back  ROUTER  workers' DEALERs:  ready, result, failed, progress, heartbeat, bye
//   PUB           the result stream: topic "result" (a job ended) and "state"
//                 (a job was handed to a worker, or re-queued)
// Each turn: poll -> handle every message that arrived -> dispatch queued jobs
// to workers with free credit -> purge workers silent for liveness x heartbeat
// (their jobs go back to the front of their lanes) -> send heartbeats.
//
// Policies:
//  - Scheduling: see job_queue.h (priority, then cost lanes with aging).
//  - Reserve: large-lane jobs never take the last `reserve_slots` free worker
//    slots (of all workers together; none reserved while there is only one
//    slot). However many large jobs are queued or running, a small or medium
//    job then starts as soon as it reaches the head of its lanes, so its
//    latency is bounded by the small and medium work ahead of it, not by the
//    large jobs (PROTOCOL.md section 4).
//  - Load balancing by credit: a worker's `ready` capacity is the most jobs it
//    is ever sent at once; each job goes to the worker with the most free credit.
//  - Progress deadline: workers report every computing job as alive each
//    heartbeat interval; a running job silent for progress_timeout_ms marks
//    its worker hung, which is then treated as dead (its jobs re-queued,
//    counting against their retries).
//  - Retry cap: a job whose worker died `max_retries` times is published as
//    failed (internal, "worker lost N times"). A worker's clean `bye`, or a
//    failed send to it, re-queues its jobs without counting against them.
//  - Results are accepted from any worker while the job is open (a worker that
//    reconnected finishes old jobs on its new connection); if the job was
//    running elsewhere, that worker is sent `cancel`. Results for jobs that are
//    no longer open are dropped. A `cancelled` result for a job nobody
//    cancelled (a worker shutting down) re-queues the job.
//  - Cancel: a queued job is published as cancelled at once; a running job is
//    sent `cancel` and published with whatever state its worker answers
//    (cancelled, or done if it finished first). A cancelled job whose worker
//    dies is published as cancelled.
//  - Duplicate submit of an open job id: `accepted` again, no second job. A
//    submit of a finished job id (kept in memory, or in the journal): the
//    result is published again and the job is not run again.
//  - Messages that do not decode are logged, counted and dropped; nothing from
//    the network can stop the loop.
#ifndef ZFACTOR_BROKER_BROKER_H_
#define ZFACTOR_BROKER_BROKER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "broker/job_queue.h"
#include "broker/journal.h"
#include "monitoring/metrics.h"
#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::broker {

struct BrokerConfig {
  std::string front = "tcp://127.0.0.1:5556";
  std::string back = "tcp://*:5557";
  std::string pub = "tcp://127.0.0.1:5558";
  std::string metrics;  // "host:port" to serve /metrics; empty = none
  std::string journal;  // SQLite path; empty = no durability
  int64_t journal_keep_finished = JournalLimits{}.keep_finished_rows;  // ended jobs kept
  int heartbeat_ms = 1000;
  int liveness = 3;  // heartbeats missed before a peer is dead
  int max_queue = 100000;
  int max_retries = 3;
  // A running job whose worker sent no `progress` for it for this long means
  // a hung worker (heartbeats flowing, computation stuck): the worker is
  // declared dead and its jobs re-queued. 0 = no deadline.
  int64_t progress_timeout_ms = 300000;
  int64_t lane_step_ms = 10000;   // job_queue.h
  int reserve_slots = 1;          // worker slots large jobs may not take (see Reserve above)
  uint32_t busy_retry_ms = 1000;  // retry_after_ms in a `busy` rejection
};

class Broker {
 public:
  explicit Broker(BrokerConfig config);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Binds the sockets, serves metrics and opens (and reloads) the journal.
  // REQUIRES: called once, before Run().
  proto::Status Bind();
  // The endpoints actually bound (port `*` resolved); valid after Bind().
  const std::string& front_endpoint() const { return front_endpoint_; }
  const std::string& back_endpoint() const { return back_endpoint_; }
  const std::string& pub_endpoint() const { return pub_endpoint_; }
  std::string metrics_address() const { return metrics_.address(); }

  // Runs the loop until Stop() or a stop signal (core::StopRequested).
  // REQUIRES: Bind() succeeded. Runs on one thread; the sockets move with it.
  void Run();
  // Thread-safe; Run() returns within one poll interval.
  void Stop() { stop_.store(true); }

 private:
  struct Job {
    std::string id;
    proto::Kind kind = proto::Kind::kFactor;
    std::string n;
    int priority = 5;
    Lane lane = Lane::kSmall;
    std::optional<double> max_seconds;
    int64_t submit_ms = 0;   // for zfactor_job_seconds
    int64_t enqueue_ms = 0;  // for the queue's FIFO/aging order
    bool running = false;
    std::string worker;       // identity, when running
    int64_t progress_ms = 0;  // when running: dispatch, or the last `progress` from its worker
    int deaths = 0;      // times its worker died while running it
    bool cancel_requested = false;
  };
  struct Worker {
    std::string identity;
    std::string name;
    uint32_t capacity = 0;
    std::set<std::string> running;  // job ids holding one credit each
    int64_t expiry_ms = 0;
    int64_t last_sent_ms = 0;
    uint32_t free() const { return running.size() >= capacity ? 0 : capacity - running.size(); }
  };
  struct Gateway {
    int64_t expiry_ms = 0;
    int64_t last_sent_ms = 0;
  };

  enum class Side { kFront, kBack };
  // Receives and handles what arrived on one ROUTER (at most kMaxBatch messages).
  void Drain(Side side);
  void DrainMessages(Side side);
  // After a drain's group commit: the jobs submitted in it are queued and
  // `accepted` (committed), or `rejected` (the commit failed).
  void ReleaseAccepts(const proto::Status& committed);
  // Counts and logs a dropped message.
  void Malformed(const std::string& what);
  // When a peer heard from now is declared dead.
  int64_t LeaseEnd() const;
  void OnFrontMessage(const std::string& identity, const proto::Internal& m);
  void OnBackMessage(const std::string& identity, const proto::Internal& m);
  void OnSubmit(const std::string& gateway, const proto::Internal& m);
  void OnCancel(const std::string& gateway, const proto::Internal& m);
  void OnReady(const std::string& identity, const proto::Internal& m);
  void OnJobEnd(const std::string& identity, const proto::Internal& m);

  void Dispatch();
  void PurgeExpired();
  void SendHeartbeats();

  // Creates an open job and queues it. REQUIRES: spec.id is not open; spec is valid.
  void AddJob(const JournalJob& spec);
  void Enqueue(Job& job, bool front);
  // Takes a running job back from its worker and puts it at the front of its lane.
  void Requeue(Job& job);
  // Removes a worker and re-queues its jobs; `died` counts against the jobs' retries.
  void RemoveWorker(const std::string& identity, bool died, const char* why);
  // Publishes a job's end, journals it, updates metrics and forgets the job.
  void Finish(const std::string& id, proto::JobState state, std::optional<proto::Result> result,
              std::optional<proto::Error> error);
  void PublishState(const Job& job, proto::JobState state);
  // Keeps a final result for re-publishing (recent_), evicting the oldest.
  void Remember(const std::string& id, proto::Kind kind, const std::string& n, std::string body);
  // The encoded result of finished job `id` for (kind, n), from recent_ or the
  // journal; nullptr when unknown. Valid until the next Remember().
  const std::string* FinishedResult(const std::string& id, proto::Kind kind, const std::string& n);
  bool SendToWorker(Worker& worker, const proto::Internal& m);
  void SendToGateway(const std::string& identity, const proto::Internal& m);
  void UpdateGauges();
  proto::Status ReloadJournal();

  BrokerConfig config_;
  std::atomic<bool> stop_{false};
  zmq::context_t context_;
  zmq::socket_t front_;
  zmq::socket_t back_;
  zmq::socket_t pub_;
  std::string front_endpoint_, back_endpoint_, pub_endpoint_;
  std::unique_ptr<Journal> journal_;
  // Group commit (see Drain): while a drain's transaction is open, new jobs
  // wait here, journaled but neither queued nor answered.
  struct Deferred {
    std::string gateway;
    JournalJob job;
    bool first = false;  // the first submit of this id in the group: it queues the job
  };
  bool grouping_ = false;
  std::vector<Deferred> deferred_;
  std::set<std::string> deferred_ids_;

  std::map<std::string, Job> jobs_;  // every open job: queued or running
  // The last kRecentResults finished jobs, by id: a submit of one of them (a
  // gateway that missed the result on the lossy PUB stream) re-publishes the
  // result instead of computing it again. Reloaded from the journal on start.
  struct RecentResult {
    proto::Kind kind;
    std::string n;
    std::string body;  // the encoded PUB message
  };
  std::map<std::string, RecentResult> recent_;
  std::deque<std::string> recent_order_;  // oldest first
  JobQueue queue_;
  std::map<std::string, Worker> workers_;  // by ZeroMQ routing identity
  std::map<std::string, Gateway> gateways_;
  size_t running_ = 0;

  // Plain counters for stats_reply (the metrics mirror them).
  uint64_t submitted_ = 0, done_ = 0, failed_ = 0, cancelled_ = 0, requeued_ = 0, deaths_ = 0;
  uint64_t rejected_ = 0, malformed_ = 0;

  monitoring::Metrics metrics_{"broker"};
  struct MetricRefs;
  std::unique_ptr<MetricRefs> m_;
};

}  // namespace zfactor::broker

#endif  // ZFACTOR_BROKER_BROKER_H_
