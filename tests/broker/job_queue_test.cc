#include "broker/job_queue.h"

#include <gtest/gtest.h>

namespace zfactor::broker {
namespace {

std::vector<std::string> Drain(JobQueue& q) {
  std::vector<std::string> out;
  while (auto id = q.Pop()) out.push_back(*id);
  return out;
}

TEST(JobQueueTest, LanesByKindAndDigits) {
  EXPECT_EQ(LaneOf(proto::Kind::kFactor, 30), Lane::kSmall);
  EXPECT_EQ(LaneOf(proto::Kind::kFactor, 31), Lane::kMedium);
  EXPECT_EQ(LaneOf(proto::Kind::kFactor, 61), Lane::kLarge);
  EXPECT_EQ(LaneOf(proto::Kind::kIsPrime, 1000), Lane::kSmall);
  EXPECT_EQ(LaneOf(proto::Kind::kIsPrime, 4000), Lane::kMedium);
  EXPECT_EQ(LaneOf(proto::Kind::kIsPrime, 9000), Lane::kLarge);
}

TEST(JobQueueTest, PriorityThenFifo) {
  JobQueue q(1000);
  q.PushBack("a5", 5, Lane::kSmall, 0);
  q.PushBack("b9", 9, Lane::kLarge, 1);
  q.PushBack("c5", 5, Lane::kSmall, 2);
  q.PushBack("d0", 0, Lane::kSmall, 3);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b9", "a5", "c5", "d0"}));
  EXPECT_TRUE(q.empty());
}

TEST(JobQueueTest, CheapJobsGoFirstButBigOnesAge) {
  JobQueue q(10000);
  q.PushBack("big", 5, Lane::kLarge, 0);  // virtual time 20000
  q.PushBack("small-early", 5, Lane::kSmall, 5000);
  q.PushBack("medium", 5, Lane::kMedium, 6000);  // virtual time 16000
  q.PushBack("small-late", 5, Lane::kSmall, 25000);
  EXPECT_EQ(q.lane_size(Lane::kSmall), 2u);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"small-early", "medium", "big", "small-late"}));
}

TEST(JobQueueTest, RequeueGoesToTheFrontOfItsLane) {
  JobQueue q(0);
  q.PushBack("x", 5, Lane::kSmall, 10);
  q.PushBack("y", 5, Lane::kSmall, 11);
  q.PushFront("back-again", 5, Lane::kSmall, 5);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"back-again", "x", "y"}));
}

TEST(JobQueueTest, Remove) {
  JobQueue q(0);
  q.PushBack("x", 3, Lane::kMedium, 1);
  q.PushBack("y", 3, Lane::kMedium, 2);
  EXPECT_FALSE(q.Remove("x", 4, Lane::kMedium));
  EXPECT_TRUE(q.Remove("x", 3, Lane::kMedium));
  EXPECT_FALSE(q.Remove("x", 3, Lane::kMedium));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.lane_size(Lane::kMedium), 1u);
  EXPECT_EQ(Drain(q), std::vector<std::string>{"y"});
}

}  // namespace
}  // namespace zfactor::broker
