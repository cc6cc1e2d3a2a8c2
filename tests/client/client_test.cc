#include "client/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proto/codec.h"
#include "tests/client/fake_gateway.h"

namespace zfactor::client {
namespace {

using std::chrono::milliseconds;

proto::Answer DoneAnswer(const std::string& n, const std::string& job) {
  proto::Answer a;
  a.n = n;
  a.kind = proto::Kind::kFactor;
  a.state = proto::JobState::kDone;
  a.source = proto::Source::kJob;
  a.job = job;
  a.result = proto::Result{
      "FF", {{"59649589127497217", 1, "P"}, {"5704689200685129054721", 1, "P"}}, "ecm", 3.0};
  return a;
}

ClientOptions Options(const std::string& endpoint, int timeout_ms = 2000) {
  ClientOptions o;
  o.endpoint = endpoint;
  o.reply_timeout = milliseconds(timeout_ms);
  return o;
}

const char kN[] = "340282366920938463463374607431768211457";

TEST(ClientTest, PingSendsOneFrameWithIdAndGetsPong) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    r.pong = true;
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  Client c(Options(gw.endpoint()));
  proto::Status s = c.Ping();
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(gw.requests().size(), 1u);
  EXPECT_EQ(gw.requests()[0].op, proto::Op::kPing);
  EXPECT_TRUE(std::holds_alternative<int64_t>(gw.requests()[0].id));
  EXPECT_EQ(gw.frames_seen(), 2);  // ROUTER sees identity + body: no delimiter sent
}

TEST(ClientTest, ErrorReplyBecomesErrorValue) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    r.ok = false;
    r.error = proto::MakeError(proto::ErrorCode::kBusy, "queue full");
    r.retry_after_ms = 250;
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  Client c(Options(gw.endpoint()));
  auto a = c.Factor(kN);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, proto::ErrorCode::kBusy);
  EXPECT_EQ(a.error().message, "queue full");
  EXPECT_EQ(c.last_retry_after_ms(), 250u);
}

TEST(ClientTest, TimeoutThenLateReplyIsDropped) {
  std::atomic<int> calls{0};
  std::string held;  // the first request's reply, sent only with the second one
  FakeGateway gw([&](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    r.pong = true;
    if (calls++ == 0) {
      held = proto::EncodeReply(r);
      return std::vector<std::string>{};
    }
    return std::vector<std::string>{held, proto::EncodeReply(r)};
  });
  Client c(Options(gw.endpoint(), 200));
  proto::Status first = c.Ping();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, proto::ErrorCode::kTimeout);
  proto::Status second = c.Ping();
  EXPECT_TRUE(second.ok()) << second.error().message;
  auto reqs = gw.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[0].id, reqs[1].id);
}

TEST(ClientTest, WaitExtendsTheReceiveDeadlineAndSendsTimeout) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    r.answer = DoneAnswer(kN, req.job);
    std::this_thread::sleep_for(milliseconds(300));  // longer than reply_timeout alone
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  Client c(Options(gw.endpoint(), 100));
  auto a = c.Wait("j-1", milliseconds(2000));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().job, "j-1");
  EXPECT_EQ(gw.requests()[0].op, proto::Op::kWait);
  EXPECT_EQ(gw.requests()[0].timeout_ms, 2000u);
}

TEST(ClientTest, EventsAreKeptAndWaitFinalFollowsTheJob) {
  FakeGateway gw([](const proto::Request& req) {
    std::vector<std::string> out;
    proto::Reply r = OkReply(req);
    if (req.op == proto::Op::kFactor) {
      proto::Answer a;
      a.n = req.numbers.at(0).n;
      a.state = proto::JobState::kQueued;
      a.job = "j-7";
      r.answer = a;
    } else {
      proto::Event e;
      e.id = int64_t{99};
      e.answer = DoneAnswer(kN, "j-7");
      out.push_back(proto::EncodeEvent(e));
      r.answer = DoneAnswer(kN, req.job);
    }
    out.push_back(proto::EncodeReply(r));
    return out;
  });
  Client c(Options(gw.endpoint()));
  ComputeOptions opts;
  opts.wait_ms = 10;
  opts.notify = true;
  opts.priority = 7;
  auto a = c.Factor(kN, opts);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().state, proto::JobState::kQueued);
  auto done = c.WaitFinal(a.value(), milliseconds(5000));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done.value().state, proto::JobState::kDone);
  auto reqs = gw.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].wait_ms, 10u);
  EXPECT_TRUE(reqs[0].notify);
  EXPECT_EQ(reqs[0].priority, 7);
  EXPECT_EQ(reqs[1].job, "j-7");
  auto events = c.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].answer.job, "j-7");
  EXPECT_TRUE(c.TakeEvents().empty());
}

TEST(ClientTest, EventsBeyondTheKeptLimitDropTheOldest) {
  FakeGateway gw([](const proto::Request& req) {
    std::vector<std::string> out;
    for (int i = 0; i < 5; ++i) {
      proto::Event e;
      e.id = int64_t{i};
      e.answer = DoneAnswer(kN, "j-" + std::to_string(i));
      out.push_back(proto::EncodeEvent(e));
    }
    proto::Reply r = OkReply(req);
    r.pong = true;
    out.push_back(proto::EncodeReply(r));
    return out;
  });
  ClientOptions options = Options(gw.endpoint());
  options.max_kept_events = 3;
  Client c(options);
  ASSERT_TRUE(c.Ping().ok());
  EXPECT_EQ(c.events_dropped(), 2u);
  auto events = c.TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.front().answer.job, "j-2") << "the newest are kept";
  EXPECT_EQ(events.back().answer.job, "j-4");
}

TEST(ClientTest, BatchKeepsOrderAndChecksCount) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    std::vector<proto::Item> items;
    for (const auto& arg : req.numbers) {
      proto::Item it;
      it.answer.n = arg.n;
      items.push_back(it);
    }
    if (req.numbers.size() == 3) items.pop_back();  // a broken server
    r.answers = items;
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  Client c(Options(gw.endpoint()));
  auto items = c.IsPrimeBatch({"7", "8"});
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items.value().size(), 2u);
  EXPECT_EQ(items.value()[1].answer.n, "8");
  EXPECT_TRUE(gw.requests()[0].batch);
  auto bad = c.FactorBatch({"1", "2", "3"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, proto::ErrorCode::kInternal);
}

TEST(ClientTest, NoServerIsUnavailable) {
  // Bind and close to find a port nobody listens on.
  std::string endpoint;
  {
    zmq::context_t ctx;
    zmq::socket_t s(ctx, zmq::socket_type::router);
    s.set(zmq::sockopt::linger, 0);
    s.bind("tcp://127.0.0.1:*");
    endpoint = s.get(zmq::sockopt::last_endpoint);
  }
  Client c(Options(endpoint, 100));
  proto::Status s = c.Ping();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, proto::ErrorCode::kUnavailable);

  Client bad(Options("not-an-endpoint"));
  s = bad.Ping();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, proto::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace zfactor::client
