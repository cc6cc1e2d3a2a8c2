#include "broker/job_queue.h"

#include <algorithm>

namespace zfactor::broker {

const char* LaneName(Lane lane) {
  switch (lane) {
    case Lane::kSmall:
      return "small";
    case Lane::kMedium:
      return "medium";
    case Lane::kLarge:
      return "large";
  }
  return "large";
}

Lane LaneOf(proto::Kind kind, size_t digits) {
  const size_t small = kind == proto::Kind::kFactor ? 30 : 1000;
  const size_t medium = kind == proto::Kind::kFactor ? 60 : 5000;
  if (digits <= small) return Lane::kSmall;
  if (digits <= medium) return Lane::kMedium;
  return Lane::kLarge;
}

void JobQueue::PushBack(const std::string& id, int priority, Lane lane, int64_t enqueue_ms) {
  LaneQueue(priority, lane).push_back(Entry{id, enqueue_ms});
  ++lane_sizes_[static_cast<int>(lane)];
  ++size_;
}

void JobQueue::PushFront(const std::string& id, int priority, Lane lane, int64_t enqueue_ms) {
  LaneQueue(priority, lane).push_front(Entry{id, enqueue_ms});
  ++lane_sizes_[static_cast<int>(lane)];
  ++size_;
}

std::optional<std::string> JobQueue::Pop(bool include_large) {
  const int lanes = include_large ? kLanes : static_cast<int>(Lane::kLarge);
  for (int priority = kPriorities - 1; priority >= 0; --priority) {
    int best = -1;
    int64_t best_time = 0;
    for (int lane = 0; lane < lanes; ++lane) {
      const auto& q = lanes_[priority][lane];
      if (q.empty()) continue;
      const int64_t virtual_time = q.front().enqueue_ms + lane * lane_step_ms_;
      if (best < 0 || virtual_time < best_time) {
        best = lane;
        best_time = virtual_time;
      }
    }
    if (best < 0) continue;
    auto& q = lanes_[priority][best];
    std::string id = std::move(q.front().id);
    q.pop_front();
    --lane_sizes_[best];
    --size_;
    return id;
  }
  return std::nullopt;
}

bool JobQueue::Remove(const std::string& id, int priority, Lane lane) {
  auto& q = LaneQueue(priority, lane);
  auto it = std::find_if(q.begin(), q.end(), [&](const Entry& e) { return e.id == id; });
  if (it == q.end()) return false;
  q.erase(it);
  --lane_sizes_[static_cast<int>(lane)];
  --size_;
  return true;
}

}  // namespace zfactor::broker
