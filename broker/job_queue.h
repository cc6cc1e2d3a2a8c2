// The broker's queue of jobs waiting for a worker, and its scheduling policy.
//
// Policy (what Pop() returns next):
//  1. Priority first: a job with a higher `priority` (0..9) always goes before
//     every job of a lower priority.
//  2. Within one priority, jobs sit in three cost lanes chosen from the
//     expected cost of the job (LaneOf): small, medium, large. Each lane is
//     FIFO. Among the lane heads, the one with the earliest *virtual* time wins,
//     where virtual time = enqueue time + lane × lane_step_ms. So a cheap job
//     submitted shortly after an expensive one runs first (a worker that frees
//     up takes the quick work), but an expensive job that has waited longer
//     than its lane's head start beats every newer cheap job: nothing starves.
//     Ties go to the cheaper lane.
//  3. A re-queued job (its worker died or left) goes to the FRONT of its lane
//     and keeps its original enqueue time, so it is next in line.
//  4. The caller may exclude the large lane (Pop(false)): the broker does so
//     for its last reserved worker slots, so that large jobs can never hold
//     every slot and small jobs always find one (broker.h, "Reserve").
//
// Not thread-safe: owned by the broker's single loop thread.
#ifndef ZFACTOR_BROKER_JOB_QUEUE_H_
#define ZFACTOR_BROKER_JOB_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "proto/messages.h"

namespace zfactor::broker {

enum class Lane { kSmall = 0, kMedium = 1, kLarge = 2 };
inline constexpr int kLanes = 3;
inline constexpr int kPriorities = 10;  // 0..9, PROTOCOL.md

// "small", "medium", "large" (the metric label).
const char* LaneName(Lane lane);

// Expected-cost lane of a job. Factoring cost grows steeply with the digit
// count: <= 30 digits is milliseconds (small), <= 60 seconds (medium), more
// is minutes and up (large). A primality test is polynomial, so isprime jobs
// are small up to 1000 digits, medium up to 5000, large above.
Lane LaneOf(proto::Kind kind, size_t digits);

class JobQueue {
 public:
  // `lane_step_ms`: the head start each cheaper lane gets over the next one.
  explicit JobQueue(int64_t lane_step_ms) : lane_step_ms_(lane_step_ms) {}

  // REQUIRES: 0 <= priority < kPriorities; `id` is not already queued.
  void PushBack(const std::string& id, int priority, Lane lane, int64_t enqueue_ms);
  void PushFront(const std::string& id, int priority, Lane lane, int64_t enqueue_ms);

  // The id of the next job by the policy above, removed from the queue;
  // nullopt when empty (or holding only large jobs and !include_large).
  std::optional<std::string> Pop(bool include_large = true);

  // Removes a queued id (O(queue length) scan; cancels are rare). False when absent.
  bool Remove(const std::string& id, int priority, Lane lane);

  size_t size() const { return size_; }
  size_t lane_size(Lane lane) const { return lane_sizes_[static_cast<int>(lane)]; }
  bool empty() const { return size_ == 0; }

 private:
  struct Entry {
    std::string id;
    int64_t enqueue_ms;
  };
  std::deque<Entry>& LaneQueue(int priority, Lane lane) {
    return lanes_[priority][static_cast<int>(lane)];
  }

  int64_t lane_step_ms_;
  std::array<std::array<std::deque<Entry>, kLanes>, kPriorities> lanes_;
  std::array<size_t, kLanes> lane_sizes_{};
  size_t size_ = 0;
};

}  // namespace zfactor::broker

#endif  // ZFACTOR_BROKER_JOB_QUEUE_H_
