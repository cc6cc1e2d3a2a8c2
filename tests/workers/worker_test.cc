// The worker (I/O thread + compute threads) in a thread, against a fake
// broker ROUTER on a loopback port the OS picks.
#include "workers/worker.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/zmq_util.h"
#include "proto/codec.h"
#include "tests/support/numbers.h"

namespace zfactor::workers {
namespace {

using proto::Internal;
using proto::JobState;
using proto::Kind;
using proto::MsgType;

constexpr int kWaitMs = 60000;  // generous: eventual conditions only
// 2^128 + 1 = 59649589127497217 * 5704689200685129054721
const char* kF7 = "340282366920938463463374607431768211457";

// C100_1 (p50 x p50): an hour or more of SIQS, so it is still running whenever these tests cancel
// it or drop the broker. (A C60 no longer serves: SIQS finishes one in about a second.)
std::string LongJob() {
  const auto c100 = support::FindSemiprime("C100_1");
  EXPECT_TRUE(c100) << "no C100_1 in " << support::NumbersDir();
  return c100 ? c100->n : "";
}

Internal Job(const std::string& id, const std::string& n, Kind kind = Kind::kFactor) {
  Internal m;
  m.type = MsgType::kJob;
  m.job = id;
  m.n = n;
  m.kind = kind;
  return m;
}

Internal Cancel(const std::string& id) {
  Internal m;
  m.type = MsgType::kCancel;
  m.job = id;
  return m;
}

// The broker's back ROUTER, played by the test.
class FakeBroker {
 public:
  explicit FakeBroker(zmq::context_t& ctx) : socket_(ctx, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    auto bound = core::Bind(socket_, "tcp://127.0.0.1:*");
    EXPECT_TRUE(bound.ok());
    endpoint_ = bound.ok() ? bound.value() : "";
  }
  const std::string& endpoint() const { return endpoint_; }
  void set_heartbeat(bool on) { heartbeat_ = on; }

  // The next message other than a heartbeat, with the sender's identity.
  // While waiting, heartbeats the last peer heard from (unless turned off).
  std::optional<std::pair<std::string, Internal>> Recv(int timeout_ms = kWaitMs) {
    const int64_t deadline = core::NowMs() + timeout_ms;
    while (core::NowMs() < deadline) {
      if (heartbeat_ && !peer_.empty() && core::NowMs() - last_hb_ >= 30) {
        last_hb_ = core::NowMs();
        Internal hb;
        core::SendMultipart(socket_, {peer_, proto::EncodeInternal(hb)});
      }
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      std::vector<zmq::message_t> frames;
      if (!core::RecvMultipart(socket_, &frames, zmq::recv_flags::dontwait)) continue;
      EXPECT_EQ(frames.size(), 2u);
      if (frames.size() != 2) continue;
      peer_ = core::ToString(frames[0]);
      auto m = proto::DecodeInternal(core::ToString(frames[1]));
      EXPECT_TRUE(m.ok()) << m.error().message;
      if (!m.ok() || m.value().type == MsgType::kHeartbeat) continue;
      return std::make_pair(peer_, m.value());
    }
    return std::nullopt;
  }
  // The next message of `type` (others, e.g. progress, are skipped).
  std::optional<std::pair<std::string, Internal>> RecvType(MsgType type, int timeout_ms = kWaitMs) {
    const int64_t deadline = core::NowMs() + timeout_ms;
    while (core::NowMs() < deadline) {
      auto m = Recv(static_cast<int>(std::max<int64_t>(1, deadline - core::NowMs())));
      if (m && m->second.type == type) return m;
    }
    return std::nullopt;
  }
  void Send(const Internal& m) { SendTo(peer_, m); }
  void SendTo(const std::string& identity, const Internal& m) {
    ASSERT_TRUE(core::SendMultipart(socket_, {identity, proto::EncodeInternal(m)}));
  }
  void SendRaw(const std::vector<std::string>& frames) {
    std::vector<std::string> all = {peer_};
    all.insert(all.end(), frames.begin(), frames.end());
    ASSERT_TRUE(core::SendMultipart(socket_, all));
  }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
  std::string peer_;
  bool heartbeat_ = true;
  int64_t last_hb_ = 0;
};

class WorkerTest : public ::testing::Test {
 protected:
  void Start(int heartbeat_ms = 1000, int liveness = 30) {
    WorkerConfig c;
    c.broker = broker_.endpoint();
    c.threads = 2;
    c.name = "test-worker";
    c.heartbeat_ms = heartbeat_ms;
    c.liveness = liveness;
    c.progress_ms = 100;
    worker_ = std::make_unique<Worker>(c);
    auto started = worker_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    thread_ = std::thread([this] { worker_->Run(); });
  }
  void StopWorker() {
    if (!worker_) return;
    worker_->Stop();
    thread_.join();
    worker_.reset();
  }
  void TearDown() override { StopWorker(); }

  // Cancels job `id` and expects its answer: a result with state cancelled.
  void ExpectCancelled(const std::string& id) {
    broker_.Send(Cancel(id));
    auto r = broker_.RecvType(MsgType::kResult);
    ASSERT_TRUE(r) << "no answer after cancelling " << id;
    EXPECT_EQ(r->second.job, id);
    EXPECT_EQ(r->second.state, JobState::kCancelled);
  }

  // Waits for `ready` and checks it.
  std::string ExpectReady() {
    auto ready = broker_.RecvType(MsgType::kReady);
    EXPECT_TRUE(ready);
    if (!ready) return "";
    EXPECT_EQ(ready->second.capacity, 2u);
    EXPECT_EQ(ready->second.name, "test-worker");
    return ready->first;
  }

  zmq::context_t ctx_{1};
  FakeBroker broker_{ctx_};
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

TEST_F(WorkerTest, ReadyThenVerifiedResults) {
  Start();
  ExpectReady();
  broker_.Send(Job("f7", kF7));
  auto r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second.job, "f7");
  EXPECT_EQ(r->second.n, kF7);
  EXPECT_EQ(r->second.kind, Kind::kFactor);
  EXPECT_EQ(r->second.state, JobState::kDone);
  ASSERT_TRUE(r->second.result);
  EXPECT_EQ(r->second.result->status, "FF");
  ASSERT_EQ(r->second.result->factors.size(), 2u);
  EXPECT_EQ(r->second.result->factors[0].p, "59649589127497217");
  EXPECT_EQ(r->second.result->factors[1].p, "5704689200685129054721");
  EXPECT_EQ(r->second.result->factors[0].status, "P");

  broker_.Send(Job("m127", "170141183460469231731687303715884105727", Kind::kIsPrime));
  r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second.job, "m127");
  EXPECT_EQ(r->second.kind, Kind::kIsPrime);
  ASSERT_TRUE(r->second.result);
  EXPECT_TRUE(r->second.result->status == "P" || r->second.result->status == "PRP")
      << r->second.result->status;
  EXPECT_TRUE(r->second.result->factors.empty());
}

TEST_F(WorkerTest, CancelStopsALongJob) {
  Start();
  ExpectReady();
  broker_.Send(Job("long", LongJob()));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(300));  // let it start; not a timing assertion
  broker_.Send(Cancel("long"));
  auto r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r) << "no answer after cancel";
  EXPECT_EQ(r->second.job, "long");
  EXPECT_EQ(r->second.state, JobState::kCancelled);
  if (r->second.result) {
    EXPECT_TRUE(r->second.result->status == "C" || r->second.result->status == "CF")
        << r->second.result->status;
  }
  // The thread is free again.
  broker_.Send(Job("after", "1000000016000000063"));  // 1000000007 * 1000000009
  r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second.job, "after");
  ASSERT_TRUE(r->second.result);
  EXPECT_EQ(r->second.result->status, "FF");
}

TEST_F(WorkerTest, ReportsProgressOnALongJob) {
  Start();
  ExpectReady();
  broker_.Send(Job("slow", LongJob()));
  auto p = broker_.RecvType(MsgType::kProgress);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->second.job, "slow");
  EXPECT_FALSE(p->second.stage.empty());
  EXPECT_GE(p->second.fraction, -1.0);
  EXPECT_LE(p->second.fraction, 1.0);
  ExpectCancelled("slow");
}

TEST_F(WorkerTest, ProgressCarriesTheFactorsSplitOffSoFar) {
  Start();
  ExpectReady();
  // 1000003 and 1000033 come off at once (alone or as their product, by the
  // small ladder); the C100 cofactor keeps the job running.
  const mpz_class small = mpz_class(1000003) * 1000033;
  const mpz_class n = small * mpz_class(LongJob());
  broker_.Send(Job("partial", n.get_str()));
  mpz_class covered = 1;  // lcm of the reported factors
  for (int i = 0; i < 100 && covered % small != 0; ++i) {
    auto p = broker_.RecvType(MsgType::kProgress);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->second.job, "partial");
    for (const std::string& f : p->second.factors) {
      const mpz_class d(f);
      EXPECT_TRUE(d > 1 && d < n && n % d == 0) << f << " is not a proper divisor of n";
      mpz_lcm(covered.get_mpz_t(), covered.get_mpz_t(), d.get_mpz_t());
    }
  }
  EXPECT_EQ(covered % small, 0) << "reported: " << covered;
  ExpectCancelled("partial");
}

TEST_F(WorkerTest, ReportsEveryComputingJobAliveEachHeartbeat) {
  Start(/*heartbeat_ms=*/100);
  ExpectReady();
  broker_.Send(Job("slow", LongJob()));
  int alive = 0;
  for (int i = 0; i < 100 && alive < 3; ++i) {
    auto p = broker_.RecvType(MsgType::kProgress);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->second.job, "slow");
    if (p->second.stage == "alive") {
      EXPECT_EQ(p->second.fraction, -1.0);
      ++alive;
    }
  }
  EXPECT_EQ(alive, 3);
  ExpectCancelled("slow");
}

TEST_F(WorkerTest, DuplicateJobRunsOnce) {
  Start();
  ExpectReady();
  broker_.Send(Job("dup", LongJob()));
  broker_.Send(Job("dup", LongJob()));
  ExpectCancelled("dup");
  EXPECT_FALSE(broker_.RecvType(MsgType::kResult, 1000)) << "a second answer for one job";
}

TEST_F(WorkerTest, MalformedMessagesFromTheBrokerAreSurvived) {
  Start();
  ExpectReady();
  broker_.SendRaw({std::string("\xc1\xff\x00junk", 7)});
  broker_.SendRaw({"two", "frames"});
  broker_.SendRaw({std::string("\x81\xa4type\xa3zzz", 10)});
  Internal ready;
  ready.type = MsgType::kReady;
  ready.capacity = 1;
  ready.name = "x";
  broker_.Send(ready);                 // a worker message
  broker_.Send(Cancel("never-sent"));  // unknown job
  Internal bad = Job("bad", "15");
  bad.max_seconds = -3;  // out of range: does not decode, so it is dropped unanswered
  broker_.Send(bad);
  EXPECT_FALSE(broker_.RecvType(MsgType::kFailed, 500));
  EXPECT_FALSE(broker_.RecvType(MsgType::kResult, 500));

  broker_.Send(Job("ok", "1000000016000000063"));
  auto r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second.job, "ok");
  EXPECT_EQ(r->second.state, JobState::kDone);
}

TEST_F(WorkerTest, ReconnectsAfterBrokerSilenceAndKeepsItsJobs) {
  Start(/*heartbeat_ms=*/100, /*liveness=*/10);  // reconnects after 1 s of silence
  const std::string first = ExpectReady();
  broker_.Send(Job("kept", LongJob()));
  broker_.set_heartbeat(false);  // the broker goes silent
  auto again = broker_.RecvType(MsgType::kReady);
  ASSERT_TRUE(again) << "no reconnect";
  EXPECT_NE(again->first, first) << "a new connection has a new identity";
  EXPECT_EQ(again->second.capacity, 1u) << "one of two threads still runs the held-over job";
  broker_.set_heartbeat(true);
  // The job kept running across the reconnect; its answer comes on the new connection.
  broker_.SendTo(again->first, Cancel("kept"));
  auto r = broker_.RecvType(MsgType::kResult);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, again->first);
  EXPECT_EQ(r->second.job, "kept");
  EXPECT_EQ(r->second.state, JobState::kCancelled);
  // Its thread is offered again.
  auto full = broker_.RecvType(MsgType::kReady);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->first, again->first);
  EXPECT_EQ(full->second.capacity, 2u);
}

TEST(JobSeedTest, EachJobIdHasItsOwnFixedSeed) {
  EXPECT_EQ(JobSeed("j-5f3a9c0e12d4b7a1"), JobSeed("j-5f3a9c0e12d4b7a1"));  // a re-run repeats
  std::set<unsigned> seeds;
  for (int i = 0; i < 1000; ++i) seeds.insert(JobSeed("j-" + std::to_string(i)));
  EXPECT_EQ(seeds.size(), 1000u) << "a new job tries new curves";
}

TEST_F(WorkerTest, SaysByeOnStop) {
  Start();
  ExpectReady();
  broker_.Send(Job("held", LongJob()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  worker_->Stop();
  auto bye = broker_.RecvType(MsgType::kBye);
  EXPECT_TRUE(bye);
  StopWorker();
}

}  // namespace
}  // namespace zfactor::workers
