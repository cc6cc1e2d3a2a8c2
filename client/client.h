// A C++ client of the zfactor gateway (docs/PROTOCOL.md section 2).
//
//   zfactor::client::Client c(ClientOptions{});  // tcp://127.0.0.1:5555
//   ComputeOptions opts;
//   opts.wait_ms = 1000;
//   auto answer = c.Factor("340282366920938463463374607431768211457", opts);
//   if (answer.ok() && !proto::IsFinal(answer.value().state))
//     answer = c.WaitFinal(answer.value(), std::chrono::minutes(5));
//
// Every call returns a value: the reply's payload, or an Error with the
// server's code (busy, unknown_job, ...) or ErrorCode::kTimeout /
// kUnavailable when no reply came. Nothing expected is thrown.
// Not thread-safe: one Client per thread.
#ifndef ZFACTOR_CLIENT_CLIENT_H_
#define ZFACTOR_CLIENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::client {

inline constexpr char kDefaultEndpoint[] = "tcp://127.0.0.1:5555";

struct ClientOptions {
  std::string endpoint = kDefaultEndpoint;
  // How long to wait for a reply beyond any time the server was asked to
  // hold it (wait_ms, timeout_ms). Also bounds how long a send may wait for
  // the connection to come up.
  std::chrono::milliseconds reply_timeout{10000};
  // Events kept for TakeEvents()/NextEvent() before the oldest are dropped
  // (counted in events_dropped()), so a caller that never takes them does not
  // grow without bound.
  size_t max_kept_events = 100000;
};

// Per-call options of isprime/factor.
struct ComputeOptions {
  uint32_t wait_ms = 0;               // hold the reply up to this long for final answers
  int priority = 5;                   // 0..9
  bool notify = false;                // ask for an EVENT when each queued job ends
  std::optional<double> max_seconds;  // factor only
};

class Client {
 public:
  // Connects a DEALER socket to options.endpoint. `context` (optional) must
  // outlive the Client; without it the Client owns a context.
  explicit Client(ClientOptions options, zmq::context_t* context = nullptr);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  proto::Status Ping();
  proto::StatusOr<proto::Stats> Stats();

  proto::StatusOr<proto::Answer> Factor(const std::string& n, const ComputeOptions& options = {});
  proto::StatusOr<proto::Answer> IsPrime(const std::string& n, const ComputeOptions& options = {});
  // Batches: one Item per number, in order (a bad number fails only its item).
  proto::StatusOr<std::vector<proto::Item>> FactorBatch(const std::vector<std::string>& numbers,
                                                        const ComputeOptions& options = {});
  proto::StatusOr<std::vector<proto::Item>> IsPrimeBatch(const std::vector<std::string>& numbers,
                                                         const ComputeOptions& options = {});

  // With `progress`, a running job's answer carries its worker's last report
  // (stage, fraction, factors split off so far; PROTOCOL.md PROGRESS).
  proto::StatusOr<proto::Answer> Get(const std::string& job, bool progress = false);
  // The server holds the reply until the job ends or `timeout` passes.
  proto::StatusOr<proto::Answer> Wait(const std::string& job, std::chrono::milliseconds timeout,
                                      bool progress = false);
  proto::StatusOr<proto::Answer> Cancel(const std::string& job);

  // Issues `wait` requests (each at most `chunk` long) on answer.job until the
  // answer is final or `timeout` passes; returns the last answer seen. An
  // answer that is already final, or has no job, is returned as is. With
  // `on_unfinished`, the waits ask for progress and each answer that is not
  // final yet is passed to it.
  proto::StatusOr<proto::Answer> WaitFinal(
      const proto::Answer& answer, std::chrono::milliseconds timeout,
      std::chrono::milliseconds chunk = std::chrono::seconds(60),
      const std::function<void(const proto::Answer&)>& on_unfinished = nullptr);

  // Sends one request (its id is replaced by a fresh one) and returns the
  // matching reply, whether ok or not. Replies to other ids are dropped;
  // events that arrive meanwhile are kept for TakeEvents(). `hold` is how long
  // the server may hold the reply; the receive deadline is hold + reply_timeout.
  proto::StatusOr<proto::Reply> Call(proto::Request request, std::chrono::milliseconds hold);

  // Events received so far (PROTOCOL.md 2.3); clears the list.
  std::vector<proto::Event> TakeEvents();
  // Waits up to `timeout` for one event (returns the oldest pending first).
  std::optional<proto::Event> NextEvent(std::chrono::milliseconds timeout);

  // Events dropped because more than options.max_kept_events were waiting.
  uint64_t events_dropped() const { return events_dropped_; }

  // retry_after_ms of the last error reply (busy), 0 if none.
  uint32_t last_retry_after_ms() const { return last_retry_after_ms_; }

 private:
  proto::StatusOr<proto::Reply> CallOk(proto::Request request, std::chrono::milliseconds hold);
  proto::StatusOr<proto::Answer> Compute(proto::Op op, const std::string& n,
                                         const ComputeOptions& options);
  proto::StatusOr<std::vector<proto::Item>> ComputeBatch(proto::Op op,
                                                         const std::vector<std::string>& numbers,
                                                         const ComputeOptions& options);
  proto::StatusOr<proto::Answer> JobOp(proto::Op op, const std::string& job,
                                       std::chrono::milliseconds timeout, bool progress);

  ClientOptions options_;
  std::optional<proto::Error> init_error_;  // set when connect failed
  std::optional<zmq::context_t> own_context_;
  zmq::socket_t socket_;
  int64_t next_id_ = 1;
  void KeepEvent(proto::Event event);

  std::deque<proto::Event> events_;
  uint64_t events_dropped_ = 0;
  uint32_t last_retry_after_ms_ = 0;
};

}  // namespace zfactor::client

#endif  // ZFACTOR_CLIENT_CLIENT_H_
