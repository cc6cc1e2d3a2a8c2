// The zfactor worker (docs/PROTOCOL.md section 4): one I/O thread owns a
// DEALER socket to the broker's back ROUTER; N compute threads run
// compute::Compute on the jobs it receives.
//
// Threads: the I/O thread (Run) is the only user of the DEALER. It hands jobs
// to the compute threads through a mutex-guarded queue; each compute thread
// has its own inproc PUSH socket and sends its finished messages (progress,
// result, failed) to one PULL socket that the I/O loop polls beside the
// DEALER and forwards to the broker.
//
// Protocol behaviour:
//  - On start and on every reconnect: `ready` {capacity, name}, capacity being
//    the threads not busy with jobs held over from the previous connection
//    (announced again as those end), so a thread that is stuck on a job is
//    never offered to the broker again.
//  - `job`: queued for a compute thread (a job id already held is ignored, so
//    a job re-sent after a reconnect runs once). The answer is `result` with
//    state done (verified by Compute), `failed` when Compute returns an error,
//    or `result` with state cancelled (plus the partial result) after `cancel`.
//  - `progress` at most once per progress interval per job from the algorithm
//    (stage, fraction, the first 32 distinct factors split off so far), and
//    once per heartbeat interval for every job whose
//    computation is alive (it polled its cancel flag since the last report;
//    stage "alive", fraction -1). A job whose thread is stuck sends nothing,
//    and the broker's progress deadline catches it.
//  - Heartbeat when nothing was sent for a heartbeat interval. When the broker
//    has been silent for liveness x interval: close the socket, open a new one,
//    send `ready` again. Jobs still running keep running and their answers go
//    out on the new connection (the broker accepts them while the job is open).
//  - Stop (Stop(), SIGINT/SIGTERM): `bye`, cancel every job, join the threads;
//    nothing more is sent (the broker re-queues the jobs on `bye`).
//  - Messages from the broker that do not decode are logged and dropped.
#ifndef ZFACTOR_WORKERS_WORKER_H_
#define ZFACTOR_WORKERS_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "monitoring/metrics.h"
#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::workers {

inline constexpr int kMaxJobThreads = 256;

// The math seed (ECM curves, SIQS polynomials) of the job with this id: a hash
// of the id. A job re-run after its worker died repeats its own curves; a number
// asked again after its job ended (say, cut short by max_seconds) is a new job
// with a new id and tries new ones instead of repeating the spent effort.
unsigned JobSeed(std::string_view job_id);

struct WorkerConfig {
  std::string broker = "tcp://127.0.0.1:5557";
  int threads = 0;      // compute threads = jobs at once; 0 = all cores
  int job_threads = 1;  // threads one job's ECM curves and SIQS sieving may use, 1..kMaxJobThreads
  std::string name;     // empty = host:pid
  std::string metrics;  // "host:port" to serve /metrics; empty = none
  int heartbeat_ms = 1000;
  int liveness = 3;        // silent heartbeat intervals before reconnecting
  int progress_ms = 1000;  // least time between two progress messages of one job
};

class Worker {
 public:
  explicit Worker(WorkerConfig config);
  // Stops and joins the compute threads if Run() did not.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves metrics and starts the compute threads. REQUIRES: called once, before Run().
  proto::Status Start();
  // Connects and runs the I/O loop until Stop() or a stop signal, then says
  // `bye` and stops the compute threads. Call from one thread.
  void Run();
  // Thread-safe; Run() returns soon after.
  void Stop() { stop_.store(true); }

  int threads() const { return config_.threads; }
  const std::string& name() const { return config_.name; }
  std::string metrics_address() const { return metrics_.address(); }

 private:
  struct Task {
    proto::Internal job;
    std::atomic<bool> cancel{false};
    std::atomic<uint64_t> polls{0};  // math::Hooks::polls: moves while the job computes
    uint64_t reported_polls = 0;     // I/O thread only
  };

  void ComputeLoop(int index);
  void RunTask(Task& task, zmq::socket_t& out);
  void Connect();
  // Sends `ready` with the threads not taken by held-over jobs.
  void AnnounceCapacity();
  void HandleBroker();
  void HandleResults();
  void OnBrokerMessage(const proto::Internal& m);
  bool SendToBroker(const proto::Internal& m);
  bool SendBody(const std::string& body);
  void StopThreads();
  // Sends `progress` for every job whose computation polled since the last
  // report, so the broker's progress deadline sees it alive.
  void ReportLiveJobs();

  WorkerConfig config_;
  std::atomic<bool> stop_{false};
  zmq::context_t context_;
  zmq::socket_t results_;  // PULL, bound to results_endpoint_; I/O thread only
  std::string results_endpoint_;
  std::unique_ptr<zmq::socket_t> dealer_;  // I/O thread only
  int64_t last_heard_ms_ = 0;
  int64_t last_sent_ms_ = 0;
  int64_t last_live_report_ms_ = 0;

  // Jobs received and not yet answered (I/O thread only).
  std::map<std::string, std::shared_ptr<Task>> tasks_;
  // Of those, the ones held over from a previous connection: the broker does
  // not count them against this connection's credit, so the capacity
  // announced in `ready` leaves their threads out until they end.
  std::set<std::string> held_over_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> pending_;  // guarded by mu_
  bool shutting_down_ = false;                 // guarded by mu_
  std::vector<std::thread> threads_;

  monitoring::Metrics metrics_{"worker"};
  prometheus::Counter* done_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* cancelled_ = nullptr;
  prometheus::Counter* reconnects_ = nullptr;
  prometheus::Gauge* in_progress_ = nullptr;
  prometheus::Histogram* compute_seconds_ = nullptr;
};

}  // namespace zfactor::workers

#endif  // ZFACTOR_WORKERS_WORKER_H_
