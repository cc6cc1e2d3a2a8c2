// The broker's loop in a thread, driven by fake gateways (DEALER + SUB) and
// fake workers (DEALER) on loopback ports the OS picks.
#include "broker/broker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/zmq_util.h"
#include "proto/codec.h"

namespace zfactor::broker {
namespace {

using proto::ErrorCode;
using proto::Internal;
using proto::JobState;
using proto::Kind;
using proto::MsgType;

constexpr int kWaitMs = 20000;  // generous: eventual conditions only

Internal Msg(MsgType type, const std::string& job = "") {
  Internal m;
  m.type = type;
  m.job = job;
  return m;
}

Internal Submit(const std::string& job, const std::string& n, int priority = 5) {
  Internal m = Msg(MsgType::kSubmit, job);
  m.n = n;
  m.priority = priority;
  m.kind = Kind::kFactor;
  return m;
}

// A DEALER peer of one of the broker's ROUTERs.
class Peer {
 public:
  Peer(zmq::context_t& ctx, const std::string& endpoint) : socket_(ctx, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void Send(const Internal& m) {
    ASSERT_TRUE(core::SendMultipart(socket_, {proto::EncodeInternal(m)}));
  }
  void SendRaw(const std::vector<std::string>& frames) {
    ASSERT_TRUE(core::SendMultipart(socket_, frames));
  }
  // The next message other than a heartbeat; nullopt after `timeout_ms`.
  // Sends a heartbeat now and then while waiting, as a live peer does.
  std::optional<Internal> Recv(int timeout_ms = kWaitMs) {
    const int64_t deadline = core::NowMs() + timeout_ms;
    while (core::NowMs() < deadline) {
      if (pump_) {
        pump_();
      } else {
        MaybeHeartbeat();
      }
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      std::vector<zmq::message_t> frames;
      if (!core::RecvMultipart(socket_, &frames, zmq::recv_flags::dontwait)) continue;
      EXPECT_EQ(frames.size(), 1u);
      auto m = proto::DecodeInternal(core::ToString(frames.back()));
      EXPECT_TRUE(m.ok()) << m.error().message;
      if (!m.ok()) continue;
      if (m.value().type == MsgType::kHeartbeat) continue;
      return m.value();
    }
    return std::nullopt;
  }
  // True when a non-heartbeat message arrives within `ms`.
  bool Quiet(int ms) { return !Recv(ms).has_value(); }
  void MaybeHeartbeat() {
    if (heartbeat_ && core::NowMs() - last_hb_ >= 30) {
      last_hb_ = core::NowMs();
      Send(Msg(MsgType::kHeartbeat));
    }
  }
  void set_heartbeat(bool on) { heartbeat_ = on; }
  // Called while waiting instead of this peer's own heartbeat (e.g. to keep every fake worker
  // alive).
  void set_pump(std::function<void()> pump) { pump_ = std::move(pump); }
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
  bool heartbeat_ = true;
  std::function<void()> pump_;
  int64_t last_hb_ = 0;
};

class FakeWorker : public Peer {
 public:
  FakeWorker(zmq::context_t& ctx, const std::string& endpoint, uint32_t capacity)
      : Peer(ctx, endpoint) {
    Internal ready = Msg(MsgType::kReady);
    ready.capacity = capacity;
    ready.name = "fake:" + std::to_string(capacity);
    Send(ready);
  }
  void Answer(const Internal& job, JobState state = JobState::kDone) {
    Internal r = Msg(MsgType::kResult, job.job);
    r.kind = job.kind;
    r.n = job.n;
    r.state = state;
    if (state == JobState::kDone) r.result = proto::Result{"P", {{job.n, 1, "P"}}, "fake", 1};
    Send(r);
  }
};

class BrokerTest : public ::testing::Test {
 protected:
  void Start(BrokerConfig config = {}) {
    config.front = config.back = config.pub = "tcp://127.0.0.1:*";
    broker_ = std::make_unique<Broker>(config);
    auto bound = broker_->Bind();
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    thread_ = std::thread([this] { broker_->Run(); });
    gateway_ = std::make_unique<Peer>(ctx_, broker_->front_endpoint());
    gateway_->set_heartbeat(false);
    sub_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::sub);
    sub_->set(zmq::sockopt::linger, 0);
    sub_->set(zmq::sockopt::subscribe, "");
    sub_->connect(broker_->pub_endpoint());
    SyncSubscriber();
  }
  void StopBroker() {
    if (!broker_) return;
    broker_->Stop();
    thread_.join();
    broker_.reset();
  }
  void TearDown() override {
    StopBroker();
    workers_.clear();
    gateway_.reset();
    sub_.reset();
  }

  // PUB/SUB joins late: cancel throw-away queued jobs until their results arrive.
  void SyncSubscriber() {
    for (int i = 0; i < 200; ++i) {
      const std::string id = "sync-" + std::to_string(i);
      gateway_->Send(Submit(id, "12"));
      ASSERT_EQ(gateway_->Recv()->type, MsgType::kAccepted);
      gateway_->Send(Msg(MsgType::kCancel, id));
      ASSERT_EQ(gateway_->Recv()->type, MsgType::kCancelAck);
      if (NextPub(100)) {
        while (NextPub(50)) {
        }
        return;
      }
    }
    FAIL() << "subscriber never joined";
  }

  // The next message on the result stream, with its topic.
  std::optional<std::pair<std::string, Internal>> NextPub(int timeout_ms = kWaitMs) {
    zmq::pollitem_t item{sub_->handle(), 0, ZMQ_POLLIN, 0};
    const int64_t deadline = core::NowMs() + timeout_ms;
    while (core::NowMs() < deadline) {
      Pump();
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      std::vector<zmq::message_t> frames;
      if (!core::RecvMultipart(*sub_, &frames, zmq::recv_flags::dontwait)) continue;
      EXPECT_EQ(frames.size(), 2u);
      auto m = proto::DecodeInternal(core::ToString(frames.back()));
      EXPECT_TRUE(m.ok());
      if (!m.ok()) continue;
      return std::make_pair(core::ToString(frames[0]), m.value());
    }
    return std::nullopt;
  }
  // The next "result" for job `id` (other messages are skipped).
  std::optional<Internal> ResultOf(const std::string& id) {
    const int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline) {
      auto p = NextPub(200);
      if (p && p->first == "result" && p->second.job == id) return p->second;
    }
    return std::nullopt;
  }
  // Waits for a "state" message for `id` with `state`.
  bool SawState(const std::string& id, JobState state) {
    const int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline) {
      auto p = NextPub(200);
      if (p && p->first == "state" && p->second.job == id && p->second.state == state) return true;
    }
    return false;
  }
  Internal Ask(const Internal& m) {
    gateway_->Send(m);
    auto reply = gateway_->Recv();
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(Internal{});
  }
  proto::Stats Stats() { return Ask(Msg(MsgType::kStats)).stats; }
  FakeWorker& AddWorker(uint32_t capacity) {
    workers_.push_back(std::make_unique<FakeWorker>(ctx_, broker_->back_endpoint(), capacity));
    workers_.back()->set_pump([this] { Pump(); });
    return *workers_.back();
  }
  // Heartbeats from every fake worker that is not playing dead.
  void Pump() {
    for (auto& w : workers_) w->MaybeHeartbeat();
  }
  // Waits until the broker counts `n` live workers.
  void WaitWorkers(double n) {
    const int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline && Stats()["workers"] != n) {
      Pump();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(Stats()["workers"], n);
  }

  zmq::context_t ctx_{1};
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::unique_ptr<Peer> gateway_;
  std::unique_ptr<zmq::socket_t> sub_;
  std::vector<std::unique_ptr<FakeWorker>> workers_;
};

TEST_F(BrokerTest, SubmitIsAcceptedAndDuplicateSubmitIsIdempotent) {
  Start();
  Internal a = Ask(Submit("j1", "1000000000000000000000000000007"));
  EXPECT_EQ(a.type, MsgType::kAccepted);
  EXPECT_EQ(a.job, "j1");
  EXPECT_EQ(Ask(Submit("j1", "1000000000000000000000000000007")).type, MsgType::kAccepted);
  Internal clash = Ask(Submit("j1", "1000000000000000000000000000009"));
  EXPECT_EQ(clash.type, MsgType::kRejected) << "an open id names one number only";
  ASSERT_TRUE(clash.error);
  EXPECT_EQ(clash.error->code, ErrorCode::kBadRequest);
  proto::Stats s = Stats();
  EXPECT_EQ(s["queue_depth"], 1);
  EXPECT_EQ(s["jobs_submitted"], 1 + s["jobs_cancelled"]);  // the sync jobs were cancelled
  EXPECT_EQ(s["jobs_running"], 0);
  EXPECT_EQ(s["workers"], 0);

  FakeWorker& w = AddWorker(4);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  EXPECT_EQ(job->type, MsgType::kJob);
  EXPECT_EQ(job->job, "j1");
  EXPECT_EQ(job->n, "1000000000000000000000000000007");
  EXPECT_TRUE(SawState("j1", JobState::kRunning));
  EXPECT_TRUE(w.Quiet(300)) << "one job, sent once";
  w.Answer(*job);
  auto r = ResultOf("j1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kDone);
  ASSERT_TRUE(r->result);
  EXPECT_EQ(r->result->status, "P");
  EXPECT_EQ(Stats()["jobs_done"], 1);
}

TEST_F(BrokerTest, InvalidSubmitIsRejected) {
  Start();
  Internal bad = Submit("", "15");
  Internal r = Ask(bad);
  EXPECT_EQ(r.type, MsgType::kRejected);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kBadRequest);
  // A max_seconds out of range does not even decode: it is dropped and
  // counted as malformed, and the broker goes on serving.
  bad = Submit("j", "15");
  bad.max_seconds = -1;
  gateway_->Send(bad);
  EXPECT_EQ(Stats()["malformed_messages"], 1);
}

TEST_F(BrokerTest, AnswersFromUnregisteredPeersAreDropped) {
  Start();
  EXPECT_EQ(Ask(Submit("j1", "1000000000000000000000000000007")).type, MsgType::kAccepted);
  // A peer that never sent `ready` claims the job with a wrong answer.
  Peer intruder(ctx_, broker_->back_endpoint());
  intruder.set_heartbeat(false);
  Internal forged = Msg(MsgType::kResult, "j1");
  forged.kind = Kind::kFactor;
  forged.n = "1000000000000000000000000000007";
  forged.state = JobState::kDone;
  forged.result = proto::Result{"FF", {{"7", 1, "P"}}, "forged", 1};
  intruder.Send(forged);
  // The two sockets are not ordered: wait until the broker has seen it.
  const int64_t deadline = core::NowMs() + kWaitMs;
  while (Stats()["malformed_messages"] < 1 && core::NowMs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Stats()["malformed_messages"], 1);
  EXPECT_EQ(Stats()["jobs_done"], 0);
  // A registered worker still gets the job and its answer is the one published.
  FakeWorker& w = AddWorker(1);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  w.Answer(*job);
  auto r = ResultOf("j1");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->result);
  EXPECT_EQ(r->result->effort, "fake");
}

TEST_F(BrokerTest, ResubmitOfAFinishedJobRepublishesItsResult) {
  Start();
  FakeWorker& w = AddWorker(1);
  const std::string n = "1000000000000000000000000000007";
  EXPECT_EQ(Ask(Submit("j1", n)).type, MsgType::kAccepted);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  w.Answer(*job);
  ASSERT_TRUE(ResultOf("j1"));
  const double submitted = Stats()["jobs_submitted"];
  // A gateway that missed the result submits the same job again.
  EXPECT_EQ(Ask(Submit("j1", n)).type, MsgType::kAccepted);
  auto again = ResultOf("j1");
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->result);
  EXPECT_EQ(again->result->effort, "fake");
  EXPECT_TRUE(w.Quiet(300)) << "the finished job was sent to a worker again";
  EXPECT_EQ(Stats()["jobs_submitted"], submitted);
  // The same id for another number is a new job, not the old answer.
  EXPECT_EQ(Ask(Submit("j1", "1000000000000000000000000000009")).type, MsgType::kAccepted);
  EXPECT_TRUE(w.Recv());
}

TEST_F(BrokerTest, WorkersNeverExceedTheirCreditAndAllJobsFinish) {
  Start();
  const std::vector<uint32_t> caps = {1, 2, 3};
  for (uint32_t c : caps) AddWorker(c);
  WaitWorkers(3);
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_EQ(Ask(Submit("c" + std::to_string(i), std::to_string(1000 + i))).type,
              MsgType::kAccepted);
  }
  std::vector<std::vector<Internal>> held(caps.size());
  std::vector<size_t> peak(caps.size(), 0);
  std::map<std::string, int> seen;
  int done = 0;
  const int64_t deadline = core::NowMs() + 60000;
  while (done < kJobs && core::NowMs() < deadline) {
    for (size_t i = 0; i < caps.size(); ++i) {
      // Collect whatever arrived; a worker's outstanding jobs never exceed its capacity.
      while (auto m = workers_[i]->Recv(30)) {
        ASSERT_EQ(m->type, MsgType::kJob);
        ++seen[m->job];
        held[i].push_back(*m);
        ASSERT_LE(held[i].size(), caps[i]) << "worker " << i << " got more than its credit";
        peak[i] = std::max(peak[i], held[i].size());
      }
    }
    // Answer one job per worker per round.
    for (size_t i = 0; i < caps.size(); ++i) {
      if (held[i].empty()) continue;
      workers_[i]->Answer(held[i].front());
      held[i].erase(held[i].begin());
    }
    while (auto p = NextPub(20)) {
      if (p->first == "result" && p->second.state == JobState::kDone) ++done;
    }
  }
  EXPECT_EQ(done, kJobs);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id << " dispatched twice";
  for (size_t i = 0; i < caps.size(); ++i)
    EXPECT_EQ(peak[i], caps[i]) << "worker " << i << " never full";
  proto::Stats s = Stats();
  EXPECT_EQ(s["queue_depth"], 0);
  EXPECT_EQ(s["jobs_running"], 0);
  EXPECT_EQ(s["jobs_done"], kJobs);
}

TEST_F(BrokerTest, HigherPriorityRunsFirstThenCheapLanesFirst) {
  Start();
  const std::string big(70, '7');  // large lane
  ASSERT_EQ(Ask(Submit("p1", "1001", 1)).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("p9-big", big, 9)).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("p9-small", "1003", 9)).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("p5a", "1004", 5)).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("p5b", "1005", 5)).type, MsgType::kAccepted);
  FakeWorker& w = AddWorker(1);
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    auto job = w.Recv();
    ASSERT_TRUE(job);
    order.push_back(job->job);
    w.Answer(*job);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"p9-small", "p9-big", "p5a", "p5b", "p1"}));
}

TEST_F(BrokerTest, LargeJobsLeaveAReservedSlotForSmallOnes) {
  Start();  // reserve_slots = 1
  FakeWorker& w = AddWorker(2);
  for (char d : {'7', '8', '9'}) {
    ASSERT_EQ(Ask(Submit(std::string("big") + d, std::string(70, d))).type, MsgType::kAccepted);
  }
  auto big = w.Recv();
  ASSERT_TRUE(big);
  EXPECT_EQ(big->job, "big7");
  EXPECT_TRUE(w.Quiet(300)) << "a large job took the reserved slot";
  // However many large jobs wait, a small one starts at once.
  ASSERT_EQ(Ask(Submit("small", "1001")).type, MsgType::kAccepted);
  auto small = w.Recv();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->job, "small");
  w.Answer(*small);
  EXPECT_TRUE(w.Quiet(300));
  // The large jobs go on one at a time.
  w.Answer(*big);
  auto next = w.Recv();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->job, "big8");
  EXPECT_EQ(Stats()["queue_depth"], 1);
}

TEST_F(BrokerTest, ASingleSlotIsNeverReserved) {
  Start();
  FakeWorker& w = AddWorker(1);
  ASSERT_EQ(Ask(Submit("big", std::string(70, '7'))).type, MsgType::kAccepted);
  auto big = w.Recv();
  ASSERT_TRUE(big) << "with one slot in all, large jobs must still run";
  EXPECT_EQ(big->job, "big");
}

TEST_F(BrokerTest, AJobWithoutProgressMarksItsWorkerHung) {
  BrokerConfig c;
  c.heartbeat_ms = 50;
  c.liveness = 20;               // a 1 s lease: heartbeats alone keep a worker alive
  c.progress_timeout_ms = 400;   // but a running job must report progress
  Start(c);
  FakeWorker& hung = AddWorker(1);
  ASSERT_EQ(Ask(Submit("stuck", "123456789")).type, MsgType::kAccepted);
  auto job = hung.Recv();
  ASSERT_TRUE(job);
  // Heartbeats keep flowing from `hung`, but no progress: the job is re-queued.
  EXPECT_TRUE(SawState("stuck", JobState::kQueued));
  FakeWorker& healthy = AddWorker(1);
  auto again = healthy.Recv();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->job, "stuck");
  // A worker that reports progress keeps its job past the deadline.
  for (int i = 0; i < 12; ++i) {
    Internal p = Msg(MsgType::kProgress, "stuck");
    p.stage = "alive";
    p.fraction = -1;
    healthy.Send(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  healthy.Answer(*again);
  auto r = ResultOf("stuck");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kDone);
  EXPECT_GE(Stats()["worker_deaths"], 1);
}

TEST_F(BrokerTest, ProgressOfTheRunningWorkerIsPublished) {
  Start();
  FakeWorker& w = AddWorker(1);
  ASSERT_EQ(Ask(Submit("p", "123456789")).type, MsgType::kAccepted);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  ASSERT_TRUE(SawState("p", JobState::kRunning));
  Internal alive = Msg(MsgType::kProgress, "p");  // proof of life only: not published
  alive.stage = proto::kAliveStage;
  w.Send(alive);
  Internal report = Msg(MsgType::kProgress, "p");
  report.stage = "ecm";
  report.fraction = 0.5;
  report.factors = {"3"};
  w.Send(report);
  Internal stranger = report;  // progress for a job the broker does not hold: dropped
  stranger.job = "nobody";
  w.Send(stranger);
  auto pub = NextPub();
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->first, "progress");
  EXPECT_EQ(pub->second.type, MsgType::kProgress);
  EXPECT_EQ(pub->second.job, "p");
  EXPECT_EQ(pub->second.stage, "ecm");
  EXPECT_EQ(pub->second.fraction, 0.5);
  EXPECT_EQ(pub->second.factors, std::vector<std::string>{"3"});
  w.Answer(*job);
  auto next = NextPub();  // nothing from `alive` or the stranger came in between
  ASSERT_TRUE(next);
  EXPECT_EQ(next->first, "result");
  EXPECT_EQ(next->second.job, "p");
}

TEST_F(BrokerTest, SilentWorkersJobGoesToAnotherWorker) {
  BrokerConfig c;
  c.heartbeat_ms = 50;
  c.liveness = 10;  // a 500 ms lease: room for a loaded machine
  Start(c);
  FakeWorker& a = AddWorker(1);
  ASSERT_EQ(Ask(Submit("d1", "123456789")).type, MsgType::kAccepted);
  auto job = a.Recv();
  ASSERT_TRUE(job);
  a.set_heartbeat(false);  // a hangs
  EXPECT_TRUE(SawState("d1", JobState::kQueued));
  FakeWorker& b = AddWorker(1);
  auto again = b.Recv();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->job, "d1");
  b.Answer(*again);
  auto r = ResultOf("d1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kDone);
  proto::Stats s = Stats();
  EXPECT_EQ(s["worker_deaths"], 1);
  EXPECT_EQ(s["jobs_requeued"], 1);
}

TEST_F(BrokerTest, LongJobIsNotRerunWhileItsWorkerHeartbeats) {
  BrokerConfig c;
  c.heartbeat_ms = 100;
  c.liveness = 10;  // a 1 s lease
  Start(c);
  FakeWorker& a = AddWorker(1);
  ASSERT_EQ(Ask(Submit("long", "123456789")).type, MsgType::kAccepted);
  auto job = a.Recv();
  ASSERT_TRUE(job);
  FakeWorker& b = AddWorker(1);
  // Several leases pass while a keeps heartbeating: b gets nothing.
  EXPECT_TRUE(b.Quiet(3000));
  a.Answer(*job);
  auto r = ResultOf("long");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kDone);
  EXPECT_EQ(Stats()["worker_deaths"], 0);
}

TEST_F(BrokerTest, PoisonJobFailsAfterRetryCap) {
  BrokerConfig c;
  c.heartbeat_ms = 50;
  c.liveness = 10;  // a 500 ms lease: room for a loaded machine
  c.max_retries = 2;
  Start(c);
  ASSERT_EQ(Ask(Submit("poison", "999999999999")).type, MsgType::kAccepted);
  for (int i = 0; i < 2; ++i) {
    FakeWorker& w = AddWorker(1);
    auto job = w.Recv();
    ASSERT_TRUE(job);
    EXPECT_EQ(job->job, "poison");
    w.set_heartbeat(false);  // dies with the job
  }
  auto r = ResultOf("poison");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kFailed);
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, ErrorCode::kInternal);
  EXPECT_EQ(r->error->message, "worker lost 2 times");
  EXPECT_EQ(Stats()["queue_depth"], 0);
}

TEST_F(BrokerTest, CancelQueuedAndRunningJobs) {
  Start();
  Internal ack = Ask(Msg(MsgType::kCancel, "nope"));
  EXPECT_EQ(ack.type, MsgType::kCancelAck);
  EXPECT_FALSE(ack.found);

  ASSERT_EQ(Ask(Submit("q", "1234567")).type, MsgType::kAccepted);
  ack = Ask(Msg(MsgType::kCancel, "q"));
  EXPECT_TRUE(ack.found);
  auto r = ResultOf("q");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kCancelled);
  EXPECT_EQ(Stats()["queue_depth"], 0);

  FakeWorker& w = AddWorker(1);
  ASSERT_EQ(Ask(Submit("run", "7654321")).type, MsgType::kAccepted);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  ack = Ask(Msg(MsgType::kCancel, "run"));
  EXPECT_TRUE(ack.found);
  auto cancel = w.Recv();
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->type, MsgType::kCancel);
  EXPECT_EQ(cancel->job, "run");
  w.Answer(*job, JobState::kCancelled);
  r = ResultOf("run");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kCancelled);
  // The worker's credit came back.
  ASSERT_EQ(Ask(Submit("next", "111")).type, MsgType::kAccepted);
  auto next = w.Recv();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->job, "next");
}

TEST_F(BrokerTest, FullQueueRejectsBusy) {
  BrokerConfig c;
  c.max_queue = 2;
  Start(c);
  EXPECT_EQ(Ask(Submit("b1", "11")).type, MsgType::kAccepted);
  EXPECT_EQ(Ask(Submit("b2", "13")).type, MsgType::kAccepted);
  Internal r = Ask(Submit("b3", "17"));
  EXPECT_EQ(r.type, MsgType::kRejected);
  EXPECT_EQ(r.job, "b3");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kBusy);
  EXPECT_GT(r.retry_after_ms, 0u);
  EXPECT_EQ(Ask(Submit("b1", "11")).type, MsgType::kAccepted) << "an open job is not a new one";
  // Room again once a job leaves the queue.
  AddWorker(1);
  EXPECT_EQ(Ask(Msg(MsgType::kCancel, "b2")).type, MsgType::kCancelAck);
  const int64_t deadline = core::NowMs() + kWaitMs;
  while (core::NowMs() < deadline && Stats()["queue_depth"] != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Ask(Submit("b3", "17")).type, MsgType::kAccepted);
}

TEST_F(BrokerTest, MalformedTrafficIsSurvived) {
  Start();
  const std::string garbage("\xc1\xff\x00garbage", 10);
  gateway_->SendRaw({garbage});
  gateway_->SendRaw({"a", "b", "c"});
  gateway_->SendRaw({""});
  gateway_->SendRaw({std::string("\x93\x01\x02\x03", 4)});      // msgpack array
  gateway_->SendRaw({std::string("\x81\xa4type\xa3zzz", 10)});  // unknown type
  gateway_->Send(Msg(MsgType::kBye));                           // a worker message
  Internal result_on_front = Msg(MsgType::kResult, "x");
  result_on_front.n = "5";
  result_on_front.state = JobState::kDone;
  result_on_front.result = proto::Result{"P", {}, "", 0};
  gateway_->Send(result_on_front);

  Peer rogue(ctx_, broker_->back_endpoint());
  rogue.SendRaw({garbage});
  rogue.SendRaw({"x", "y"});
  rogue.Send(Submit("s", "5"));  // a gateway message
  Internal stray = Msg(MsgType::kResult, "nobody");
  stray.n = "5";
  stray.state = JobState::kDone;
  stray.result = proto::Result{"P", {}, "", 0};
  rogue.Send(stray);  // unknown job
  stray.state = JobState::kRunning;
  rogue.Send(stray);  // non-final
  rogue.Send(Msg(MsgType::kFailed, "nobody"));

  // Still serves a normal request end to end.
  FakeWorker& w = AddWorker(1);
  ASSERT_EQ(Ask(Submit("ok", "35")).type, MsgType::kAccepted);
  auto job = w.Recv();
  ASSERT_TRUE(job);
  // A result naming another number is not published.
  Internal wrong = Msg(MsgType::kResult, "ok");
  wrong.n = "36";
  wrong.state = JobState::kDone;
  wrong.result = proto::Result{"FF", {{"2", 2, "P"}, {"3", 2, "P"}}, "", 0};
  w.Send(wrong);
  w.Answer(*job);
  auto r = ResultOf("ok");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->n, "35");
  EXPECT_EQ(r->state, JobState::kDone);
  EXPECT_GE(Stats()["malformed_messages"], 10);
}

TEST_F(BrokerTest, ResultFromAnotherWorkerIsAcceptedWhileTheJobIsOpen) {
  Start();
  FakeWorker& a = AddWorker(1);
  ASSERT_EQ(Ask(Submit("r1", "77")).type, MsgType::kAccepted);
  auto job = a.Recv();
  ASSERT_TRUE(job);
  FakeWorker& b = AddWorker(1);  // e.g. a after reconnecting
  WaitWorkers(2);
  b.Answer(*job);
  auto r = ResultOf("r1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, JobState::kDone);
  auto cancel = a.Recv();
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->type, MsgType::kCancel);
  EXPECT_EQ(cancel->job, "r1");
  a.Answer(*job, JobState::kCancelled);  // late answer: dropped, credit returned
  ASSERT_EQ(Ask(Submit("r2", "78")).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("r3", "79")).type, MsgType::kAccepted);
  auto j2 = a.Recv();
  auto j3 = b.Recv();
  ASSERT_TRUE(j2 && j3);
  EXPECT_EQ(Stats()["jobs_done"], 1);
}

TEST_F(BrokerTest, ByeRequeuesWithoutCountingADeath) {
  Start();
  FakeWorker& a = AddWorker(1);
  ASSERT_EQ(Ask(Submit("bye", "91")).type, MsgType::kAccepted);
  auto job = a.Recv();
  ASSERT_TRUE(job);
  a.Send(Msg(MsgType::kBye));
  EXPECT_TRUE(SawState("bye", JobState::kQueued));
  FakeWorker& b = AddWorker(1);
  auto again = b.Recv();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->job, "bye");
  proto::Stats s = Stats();
  EXPECT_EQ(s["worker_deaths"], 0);
  EXPECT_EQ(s["workers"], 1);
}

TEST_F(BrokerTest, JournalReloadsUnfinishedJobsAfterRestart) {
  char dir_template[] = "/tmp/zfactor-broker-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/journal.db";
  BrokerConfig c;
  c.journal = path;
  Start(c);
  ASSERT_EQ(Ask(Submit("keep1", "1111111111111111111")).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("keep2", "2222222222222222222", 7)).type, MsgType::kAccepted);
  ASSERT_EQ(Ask(Submit("gone", "3333333333333333333")).type, MsgType::kAccepted);
  ASSERT_TRUE(Ask(Msg(MsgType::kCancel, "gone")).found);
  ASSERT_TRUE(ResultOf("gone"));
  TearDown();

  Start(c);
  EXPECT_EQ(Stats()["queue_depth"], 2);
  FakeWorker& w = AddWorker(1);
  auto first = w.Recv();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job, "keep2");  // priority survives the restart
  EXPECT_EQ(first->n, "2222222222222222222");
  w.Answer(*first);
  auto second = w.Recv();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job, "keep1");
  w.Answer(*second);
  ASSERT_TRUE(ResultOf("keep1"));
  TearDown();

  Start(c);
  EXPECT_EQ(Stats()["queue_depth"], 0) << "finished jobs are not reloaded";
  // A gateway that missed keep1's result while the broker restarted asks
  // again: the journaled result is published, nothing is computed again.
  ASSERT_EQ(Ask(Submit("keep1", "1111111111111111111")).type, MsgType::kAccepted);
  auto again = ResultOf("keep1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state, JobState::kDone);
  ASSERT_TRUE(again->result);
  EXPECT_EQ(again->result->effort, "fake");
  // So is a cancelled one.
  ASSERT_EQ(Ask(Submit("gone", "3333333333333333333")).type, MsgType::kAccepted);
  auto gone = ResultOf("gone");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->state, JobState::kCancelled);
  EXPECT_EQ(Stats()["queue_depth"], 0);
  TearDown();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  rmdir(dir_template);
}

}  // namespace
}  // namespace zfactor::broker
