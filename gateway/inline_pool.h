// The gateway's inline math, off its I/O thread: compute threads take tasks
// from one FIFO queue and hand back answers, so a slow inline answer (a
// 1000-digit BPSW) never delays a cache hit or a ping that the I/O thread
// serves meanwhile.
//
//   InlinePool pool(threads);
//   pool.Submit(std::move(tasks));              // I/O thread, once per loop turn
//   ... poll pool.fd() for POLLIN beside the sockets ...
//   for (InlinePool::Done& d : pool.Drain()) ...  // I/O thread
//
// Submit and Drain may be called from any thread; the I/O thread is the only
// caller in the gateway.
#ifndef ZFACTOR_GATEWAY_INLINE_POOL_H_
#define ZFACTOR_GATEWAY_INLINE_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::gateway {

class InlinePool {
 public:
  // The compute threads' nice value, relative to the I/O thread's 0.
  static constexpr int kComputeNice = 10;

  // The inline work one request may do, shared by its tasks: once spent, its
  // remaining numbers come back kNeedsJob (queued as jobs instead), so one
  // batch cannot hold the compute threads from every other client.
  struct Budget {
    explicit Budget(int64_t ms) : left_us(ms * 1000) {}
    std::atomic<int64_t> left_us;
  };

  struct Task {
    uint64_t key = 0;   // the gateway's Pending key
    uint32_t slot = 0;  // the number's index in its request
    proto::Kind kind = proto::Kind::kFactor;
    std::string n;
    std::optional<double> max_seconds;
    std::shared_ptr<Budget> budget;
    bool first = false;  // a request's first inline number runs whatever its budget
  };

  struct Done {
    Task task;
    // The answer, an error from the engine, or nullopt: the number needs a
    // worker (a probable prime to prove, or the request's budget is spent).
    std::optional<proto::StatusOr<proto::Result>> result;
  };

  // Starts `threads` (>= 1) compute threads.
  explicit InlinePool(int threads);
  // Stops taking tasks and joins the threads (each finishes the one it runs).
  ~InlinePool();
  InlinePool(const InlinePool&) = delete;
  InlinePool& operator=(const InlinePool&) = delete;

  // Queues the tasks and wakes as many threads as they need (one lock and at
  // most one wake-up per thread for the whole batch).
  void Submit(std::vector<Task> tasks);
  // The tasks finished since the last call, oldest first.
  std::vector<Done> Drain();
  // Readable (POLLIN) while finished tasks wait to be drained.
  int fd() const { return event_fd_; }
  // Tasks submitted and not yet drained.
  size_t outstanding() const { return outstanding_.load(); }

 private:
  void Loop();

  int event_fd_ = -1;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Task> tasks_;
  std::vector<Done> done_;
  bool stop_ = false;
  std::atomic<size_t> outstanding_{0};
  std::vector<std::thread> threads_;
};

// The inline answer for n, or nullopt when n must go to a worker. Inline work
// is one cheap step: factoring below the inline bound (microseconds) or one
// BPSW test. A probable prime the engine would try to prove (up to seconds)
// is a job. Exposed for tests.
std::optional<proto::StatusOr<proto::Result>> ComputeInline(proto::Kind kind, const std::string& n,
                                                            std::optional<double> max_seconds);

}  // namespace zfactor::gateway

#endif  // ZFACTOR_GATEWAY_INLINE_POOL_H_
