// The real broker and the real worker (both as libraries, each on its own
// thread) with a fake gateway: a job goes through the whole back half of the
// service and comes out verified on the result stream.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "core/zmq_util.h"
#include "proto/codec.h"
#include "tests/support/numbers.h"
#include "workers/worker.h"

namespace zfactor {
namespace {

using proto::Internal;
using proto::JobState;
using proto::MsgType;

constexpr int kWaitMs = 60000;

class BrokerWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker::BrokerConfig bc;
    bc.front = bc.back = bc.pub = "tcp://127.0.0.1:*";
    broker_ = std::make_unique<broker::Broker>(bc);
    auto bound = broker_->Bind();
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    broker_thread_ = std::thread([this] { broker_->Run(); });

    gateway_.set(zmq::sockopt::linger, 0);
    gateway_.connect(broker_->front_endpoint());
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, "");
    sub_.connect(broker_->pub_endpoint());

    StartWorker(1);
  }
  void StartWorker(int job_threads) {
    workers::WorkerConfig wc;
    wc.broker = broker_->back_endpoint();
    wc.threads = 1;
    wc.job_threads = job_threads;
    wc.name = "itest";
    worker_ = std::make_unique<workers::Worker>(wc);
    ASSERT_TRUE(worker_->Start().ok());
    worker_thread_ = std::thread([this] { worker_->Run(); });
  }
  void StopWorker() {
    if (!worker_) return;
    worker_->Stop();
    worker_thread_.join();
    worker_.reset();
  }
  void TearDown() override {
    StopWorker();
    if (broker_) {
      broker_->Stop();
      broker_thread_.join();
    }
  }

  std::optional<Internal> Recv(zmq::socket_t& s, int timeout_ms = kWaitMs) {
    const int64_t deadline = core::NowMs() + timeout_ms;
    while (core::NowMs() < deadline) {
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      std::vector<zmq::message_t> frames;
      if (!core::RecvMultipart(s, &frames, zmq::recv_flags::dontwait)) continue;
      auto m = proto::DecodeInternal(core::ToString(frames.back()));
      if (m.ok() && m.value().type != MsgType::kHeartbeat) return m.value();
    }
    return std::nullopt;
  }
  Internal Ask(const Internal& m) {
    EXPECT_TRUE(core::SendMultipart(gateway_, {proto::EncodeInternal(m)}));
    auto reply = Recv(gateway_);
    EXPECT_TRUE(reply);
    return reply.value_or(Internal{});
  }
  Internal Submit(const std::string& id, const std::string& n) {
    Internal m;
    m.type = MsgType::kSubmit;
    m.job = id;
    m.n = n;
    return Ask(m);
  }
  // Waits for a PUB message about `id` with `topic`'s type and `state`.
  std::optional<Internal> AwaitPub(const std::string& id, MsgType type, JobState state) {
    const int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline) {
      auto m = Recv(sub_, 200);
      if (m && m->job == id && m->type == type && m->state == state) return m;
    }
    return std::nullopt;
  }

  // The subscriber may join late: submits n under fresh ids (prefix + i)
  // until one's result is seen on the stream.
  std::optional<Internal> SubmitUntilPublished(const std::string& prefix, const std::string& n) {
    for (int i = 0; i < 50; ++i) {
      const std::string id = prefix + std::to_string(i);
      if (Submit(id, n).type != MsgType::kAccepted) {
        ADD_FAILURE() << "submit " << id << " not accepted";
        return std::nullopt;
      }
      if (auto r = AwaitPub(id, MsgType::kResult, JobState::kDone)) return r;
    }
    return std::nullopt;
  }

  zmq::context_t ctx_{1};
  std::unique_ptr<broker::Broker> broker_;
  std::thread broker_thread_;
  std::unique_ptr<workers::Worker> worker_;
  std::thread worker_thread_;
  zmq::socket_t gateway_{ctx_, zmq::socket_type::dealer};
  zmq::socket_t sub_{ctx_, zmq::socket_type::sub};
};

TEST_F(BrokerWorkerTest, JobIsFactoredAndPublished) {
  const std::string n = "340282366920938463463374607431768211457";
  const std::optional<Internal> r = SubmitUntilPublished("f7-", n);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->n, n);
  ASSERT_TRUE(r->result);
  EXPECT_EQ(r->result->status, "FF");
  ASSERT_EQ(r->result->factors.size(), 2u);
  EXPECT_EQ(r->result->factors[0].p, "59649589127497217");
  EXPECT_EQ(r->result->factors[1].p, "5704689200685129054721");
}

// --job-threads: a job that reaches SIQS sieves on that many threads, and
// its effort says so.
TEST_F(BrokerWorkerTest, JobThreadsReachSiqs) {
  StopWorker();
  StartWorker(2);
  const std::string n = "877496438739212206102484610928805986337";  // C40_1: p20 x p20
  const std::optional<Internal> r = SubmitUntilPublished("c40-", n);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->result);
  EXPECT_EQ(r->result->status, "FF");
  EXPECT_NE(r->result->effort.find("SIQS 39 digits on 2 threads"), std::string::npos)
      << r->result->effort;
}

TEST_F(BrokerWorkerTest, CancelRunningJobAndByeRequeues) {
  const auto c100 = support::FindSemiprime("C100_1");  // hours: still running when cancelled
  ASSERT_TRUE(c100);
  const std::string& n = c100->n;
  ASSERT_EQ(Submit("warm", "1000000016000000063").type, MsgType::kAccepted);
  AwaitPub("warm", MsgType::kResult, JobState::kDone);  // subscriber warm-up; may be missed
  ASSERT_EQ(Submit("long", n).type, MsgType::kAccepted);
  ASSERT_TRUE(AwaitPub("long", MsgType::kState, JobState::kRunning));
  Internal cancel;
  cancel.type = MsgType::kCancel;
  cancel.job = "long";
  Internal ack = Ask(cancel);
  EXPECT_EQ(ack.type, MsgType::kCancelAck);
  EXPECT_TRUE(ack.found);
  ASSERT_TRUE(AwaitPub("long", MsgType::kResult, JobState::kCancelled));

  ASSERT_EQ(Submit("long2", n).type, MsgType::kAccepted);
  ASSERT_TRUE(AwaitPub("long2", MsgType::kState, JobState::kRunning));
  StopWorker();  // says bye: the broker re-queues the job
  ASSERT_TRUE(AwaitPub("long2", MsgType::kState, JobState::kQueued));
  Internal stats;
  stats.type = MsgType::kStats;
  Internal s = Ask(stats);
  EXPECT_EQ(s.stats["workers"], 0);
  EXPECT_EQ(s.stats["queue_depth"], 1);
  EXPECT_EQ(s.stats["worker_deaths"], 0);
}

}  // namespace
}  // namespace zfactor
