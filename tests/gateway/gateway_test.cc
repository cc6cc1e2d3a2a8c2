// The gateway in-process against a fake broker (a ROUTER standing for the
// front, a PUB for the result stream), spoken to over loopback TCP.
#include "gateway/gateway.h"

#include <gmpxx.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <msgpack.hpp>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "core/zmq_util.h"
#include "proto/codec.h"

namespace zfactor::gateway {
namespace {

using proto::Answer;
using proto::ErrorCode;
using proto::Internal;
using proto::JobState;
using proto::Kind;
using proto::MsgType;
using proto::Op;
using proto::Reply;
using proto::Request;

// 2^128 + 1 = 59649589127497217 * 5704689200685129054721: above the inline bound.
constexpr char kBig[] = "340282366920938463463374607431768211457";
constexpr char kBig2[] = "340282366920938463463374607431768211459";

proto::Result BigResult() {
  proto::Result r;
  r.status = "FF";
  r.factors = {proto::Factor{"59649589127497217", 1, "P"},
               proto::Factor{"5704689200685129054721", 1, "P"}};
  r.effort = "ecm";
  r.ms = 3.1;
  return r;
}

// The broker's front and PUB, scripted. The front answers from its own
// thread: heartbeat -> heartbeat, submit -> accepted (or rejected busy),
// cancel -> cancel_ack, stats -> stats_reply. Publish() is for the test thread.
class FakeBroker {
 public:
  explicit FakeBroker(zmq::context_t& context)
      : front_(context, zmq::socket_type::router), pub_(context, zmq::socket_type::pub) {
    front_.set(zmq::sockopt::linger, 0);
    pub_.set(zmq::sockopt::linger, 0);
    front_endpoint_ = core::Bind(front_, "tcp://127.0.0.1:*").value();
    pub_endpoint_ = core::Bind(pub_, "tcp://127.0.0.1:*").value();
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeBroker() {
    stop_ = true;
    thread_.join();
  }

  const std::string& front_endpoint() const { return front_endpoint_; }
  const std::string& pub_endpoint() const { return pub_endpoint_; }

  void set_reject_busy(uint32_t retry_after_ms) { reject_retry_ms_ = retry_after_ms; }
  void set_silent(bool silent) { silent_ = silent; }
  void set_ignore_submits(bool ignore) { ignore_submits_ = ignore; }
  void set_ignore_stats(bool ignore) { ignore_stats_ = ignore; }
  void set_report_jobs_done(bool report) { report_jobs_done_ = report; }
  void set_cancel_not_found(bool not_found) { cancel_not_found_ = not_found; }
  // Marks `job` ended without publishing it (as if the PUB message was lost):
  // its next submit is answered `accepted` and the result published, as the
  // real broker does.
  void FinishQuietly(const std::string& job, const std::string& n, proto::Result result) {
    std::lock_guard<std::mutex> lock(mu_);
    finished_[job] = {n, std::move(result)};
  }

  std::vector<Internal> Received(MsgType type) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Internal> out;
    for (const Internal& m : received_) {
      if (m.type == type) out.push_back(m);
    }
    return out;
  }
  int Submits(const std::string& n) {
    int count = 0;
    for (const Internal& m : Received(MsgType::kSubmit)) count += m.n == n;
    return count;
  }

  void Publish(const Internal& m) {
    core::SendMultipart(pub_, {proto::PubTopic(m.type), proto::EncodeInternal(m)});
  }
  void PublishResult(const std::string& job, Kind kind, const std::string& n, JobState state,
                     std::optional<proto::Result> result) {
    Internal m;
    m.type = MsgType::kResult;
    m.job = job;
    m.kind = kind;
    m.n = n;
    m.state = state;
    m.result = std::move(result);
    Publish(m);
  }

 private:
  void Loop() {
    std::vector<zmq::message_t> frames;
    while (!stop_) {
      zmq::pollitem_t item{front_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      if (!core::RecvMultipart(front_, &frames, zmq::recv_flags::dontwait)) continue;
      if (frames.size() != 2) continue;
      auto m = proto::DecodeInternal(core::ToString(frames[1]));
      if (!m.ok()) continue;
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(m.value());
      }
      if (silent_) continue;
      Internal reply;
      reply.job = m.value().job;
      switch (m.value().type) {
        case MsgType::kHeartbeat:
          reply.type = MsgType::kHeartbeat;
          break;
        case MsgType::kSubmit:
          if (ignore_submits_) continue;
          if (reject_retry_ms_ > 0) {
            reply.type = MsgType::kRejected;
            reply.error = proto::MakeError(ErrorCode::kBusy, "queue full");
            reply.retry_after_ms = reject_retry_ms_;
          } else {
            reply.type = MsgType::kAccepted;
            std::lock_guard<std::mutex> lock(mu_);
            auto f = finished_.find(reply.job);
            if (f != finished_.end()) {
              PublishResult(reply.job, m.value().kind, f->second.first, JobState::kDone,
                            f->second.second);
            }
          }
          break;
        case MsgType::kCancel: {
          reply.type = MsgType::kCancelAck;
          std::lock_guard<std::mutex> lock(mu_);
          auto f = finished_.find(reply.job);
          reply.found = f == finished_.end() && !cancel_not_found_;
          if (f != finished_.end()) {
            // Ended already: the ack says so, and the result follows on the
            // stream (after the ack, as the real broker's may arrive).
            core::SendMultipart(front_, {core::ToString(frames[0]), proto::EncodeInternal(reply)});
            PublishResult(reply.job, m.value().kind, f->second.first, JobState::kDone,
                          f->second.second);
            continue;
          }
          break;
        }
        case MsgType::kStats:
          if (ignore_stats_) continue;
          reply.type = MsgType::kStatsReply;
          reply.stats = {{"queue_depth", 4}, {"jobs_running", 2}, {"workers", 3}};
          if (report_jobs_done_) reply.stats["jobs_done"] = 17;
          break;
        default:
          continue;
      }
      core::SendMultipart(front_, {core::ToString(frames[0]), proto::EncodeInternal(reply)});
    }
  }

  zmq::socket_t front_;
  zmq::socket_t pub_;
  std::string front_endpoint_;
  std::string pub_endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> reject_retry_ms_{0};
  std::atomic<bool> silent_{false};
  std::atomic<bool> ignore_submits_{false};
  std::atomic<bool> ignore_stats_{false};
  std::atomic<bool> report_jobs_done_{false};
  std::atomic<bool> cancel_not_found_{false};
  std::mutex mu_;
  std::vector<Internal> received_;
  std::map<std::string, std::pair<std::string, proto::Result>> finished_;
};

// A client socket speaking raw frames (DEALER without or with a delimiter, or REQ).
class TestClient {
 public:
  TestClient(zmq::context_t& context, const std::string& endpoint,
             zmq::socket_type type = zmq::socket_type::dealer, bool delimiter = false)
      : socket_(context, type), delimiter_(delimiter || type == zmq::socket_type::req) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }

  void SendFrames(const std::vector<std::string>& frames) {
    ASSERT_TRUE(core::SendMultipart(socket_, frames, zmq::send_flags::none));
  }
  void SendBody(const std::string& body) {
    if (delimiter_ && !req()) {
      SendFrames({"", body});
    } else {
      SendFrames({body});
    }
  }
  void Send(const Request& request) { SendBody(proto::EncodeRequest(request)); }

  // The frames of the next message, or nothing after `timeout_ms`.
  std::optional<std::vector<std::string>> RecvFrames(int timeout_ms = 10000) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms));
    if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
    std::vector<zmq::message_t> frames;
    if (!core::RecvMultipart(socket_, &frames, zmq::recv_flags::dontwait)) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& f : frames) out.push_back(core::ToString(f));
    return out;
  }
  // The next reply body, decoded (fails the test on anything else).
  Reply RecvReply(int timeout_ms = 10000) {
    auto message = RecvMessage(timeout_ms);
    if (!message || !std::holds_alternative<Reply>(*message)) {
      ADD_FAILURE() << "expected a reply";
      return Reply{};
    }
    return std::get<Reply>(*message);
  }
  std::optional<proto::ClientMessage> RecvMessage(int timeout_ms = 10000) {
    auto frames = RecvFrames(timeout_ms);
    if (!frames) return std::nullopt;
    const size_t expected = delimiter_ && !req() ? 2 : 1;
    EXPECT_EQ(frames->size(), expected);
    if (delimiter_ && !req()) {
      EXPECT_EQ(frames->front(), "");
    }
    auto decoded = proto::DecodeClientMessage(frames->back());
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message);
    if (!decoded.ok()) return std::nullopt;
    return decoded.value();
  }
  Reply Call(const Request& request, int timeout_ms = 10000) {
    Send(request);
    return RecvReply(timeout_ms);
  }
  Reply CallBody(const std::string& body) {
    SendBody(body);
    return RecvReply();
  }
  void Close() { socket_.close(); }

 private:
  bool req() const { return socket_.get(zmq::sockopt::type) == ZMQ_REQ; }
  zmq::socket_t socket_;
  bool delimiter_;
};

Request Compute(Op op, const std::string& n, uint32_t wait_ms = 0) {
  Request r;
  r.op = op;
  r.id = int64_t{1};
  r.numbers = {proto::NumberArg{n, std::nullopt}};
  r.wait_ms = wait_ms;
  return r;
}

Request JobOp(Op op, const std::string& job, uint32_t timeout_ms = 0) {
  Request r;
  r.op = op;
  r.id = std::string("job-op");
  r.job = job;
  r.timeout_ms = timeout_ms;
  return r;
}

// The result stream's "state" message for a kBig factor job.
Internal BigState(const std::string& job, JobState state) {
  Internal m;
  m.type = MsgType::kState;
  m.job = job;
  m.kind = Kind::kFactor;
  m.n = kBig;
  m.state = state;
  return m;
}

Request Ping() {
  Request r;
  r.op = Op::kPing;
  r.id = int64_t{99};
  return r;
}

std::string ErrorCodeOf(const Reply& r) { return r.ok ? "ok" : proto::ErrorCodeName(r.error.code); }

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_path_ = ::testing::TempDir() + "zf_gateway_test_" + std::to_string(getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    RemoveCache();
    broker_ = std::make_unique<FakeBroker>(context_);
    StartGateway(Config());
  }
  void TearDown() override {
    StopGateway();
    broker_.reset();
    RemoveCache();
  }

  GatewayConfig Config() const {
    GatewayConfig c;
    c.listen = "tcp://127.0.0.1:*";
    c.broker = broker_->front_endpoint();
    c.results = broker_->pub_endpoint();
    c.cache_path = cache_path_;
    c.heartbeat_ms = 200;
    return c;
  }
  void StartGateway(const GatewayConfig& config) {
    auto created = Gateway::Create(config);
    ASSERT_TRUE(created.ok()) << created.error().message;
    gateway_ = std::move(created).value();
    thread_ = std::thread([g = gateway_.get()] { g->Run(); });
    endpoint_ = gateway_->listen_endpoint();
  }
  // Restarts the gateway with Config() changed by `change`.
  void Reconfigure(const std::function<void(GatewayConfig&)>& change) {
    StopGateway();
    GatewayConfig config = Config();
    change(config);
    StartGateway(config);
  }
  void StopGateway() {
    if (!gateway_) return;
    gateway_->Stop();
    thread_.join();
    gateway_.reset();
  }
  void RemoveCache() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((cache_path_ + suffix).c_str());
  }
  std::unique_ptr<TestClient> NewClient(zmq::socket_type type = zmq::socket_type::dealer,
                                        bool delimiter = false) {
    return std::make_unique<TestClient>(context_, endpoint_, type, delimiter);
  }

  // Submits kBig for factoring and returns the job id from the queued answer.
  std::string QueueBig(TestClient& client, const std::string& n = kBig) {
    Reply r = client.Call(Compute(Op::kFactor, n));
    EXPECT_TRUE(r.ok) << r.error.message;
    if (!r.ok || !r.answer) return "";
    EXPECT_EQ(r.answer->state, JobState::kQueued);
    EXPECT_EQ(r.answer->source, proto::Source::kJob);
    EXPECT_EQ(r.answer->job.rfind("j-", 0), 0u);
    return r.answer->job;
  }

  // Publishes a done result for `job` until `get` sees it (the PUB stream is
  // lossy until the subscription is in place). Returns the last answer.
  Answer PublishUntilDone(TestClient& client, const std::string& job, const std::string& n) {
    Answer last;
    for (int attempt = 0; attempt < 100; ++attempt) {
      broker_->PublishResult(job, Kind::kFactor, n, JobState::kDone, BigResult());
      Reply r = client.Call(JobOp(Op::kGet, job));
      EXPECT_TRUE(r.ok) << r.error.message;
      if (!r.ok || !r.answer) break;
      last = *r.answer;
      if (last.state == JobState::kDone) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last;
  }

  zmq::context_t context_{1};
  std::string cache_path_;
  std::unique_ptr<FakeBroker> broker_;
  std::unique_ptr<Gateway> gateway_;
  std::thread thread_;
  std::string endpoint_;
};

TEST(BelowPowerOfTwoTest, Bounds) {
  EXPECT_TRUE(BelowPowerOfTwo("18446744073709551615", 64));
  EXPECT_FALSE(BelowPowerOfTwo("18446744073709551616", 64));
  EXPECT_FALSE(BelowPowerOfTwo("100000000000000000000", 64));
  EXPECT_TRUE(BelowPowerOfTwo("0", 1));
  EXPECT_FALSE(BelowPowerOfTwo("2", 1));
  EXPECT_FALSE(BelowPowerOfTwo("0", 0));
}

TEST_F(GatewayTest, PingAndInlineAnswers) {
  auto client = NewClient();
  Reply pong = client->Call(Ping());
  EXPECT_TRUE(pong.ok);
  EXPECT_TRUE(pong.pong);
  EXPECT_EQ(pong.id, proto::RequestId(int64_t{99}));

  Reply r = client->Call(Compute(Op::kFactor, "12"));
  ASSERT_TRUE(r.ok) << r.error.message;
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->state, JobState::kDone);
  EXPECT_EQ(r.answer->source, proto::Source::kInline);
  ASSERT_TRUE(r.answer->result);
  EXPECT_EQ(r.answer->result->status, "FF");
  EXPECT_EQ(r.answer->result->factors, (std::vector<proto::Factor>{{"2", 2, "P"}, {"3", 1, "P"}}));

  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, 999);
  mpz_nextprime(p.get_mpz_t(), p.get_mpz_t());
  r = client->Call(Compute(Op::kIsPrime, p.get_str()));
  ASSERT_TRUE(r.ok) << r.error.message;
  ASSERT_TRUE(r.answer && r.answer->result);
  EXPECT_EQ(r.answer->source, proto::Source::kInline);
  EXPECT_TRUE(r.answer->result->status == "P" || r.answer->result->status == "PRP")
      << r.answer->result->status;
  EXPECT_TRUE(r.answer->result->factors.empty());

  // Asked again: from the cache, and a cached factor result answers isprime.
  r = client->Call(Compute(Op::kFactor, "12"));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->source, proto::Source::kCache);
  EXPECT_EQ(r.answer->result->ms, 0);
  r = client->Call(Compute(Op::kIsPrime, "12"));
  ASSERT_TRUE(r.ok && r.answer && r.answer->result);
  EXPECT_EQ(r.answer->source, proto::Source::kCache);
  EXPECT_EQ(r.answer->result->status, "C");
  EXPECT_TRUE(broker_->Received(MsgType::kSubmit).empty());
}

TEST_F(GatewayTest, APrimeThatNeedsAProofIsAJobNotInlineWork) {
  auto client = NewClient();
  // 30 digits: BPSW says probable prime, the engine would try an N-1 proof
  // (up to seconds), so a worker does it.
  const std::string prime30 = "100000000000000000000000000319";
  Reply r = client->Call(Compute(Op::kIsPrime, prime30));
  ASSERT_TRUE(r.ok && r.answer) << r.error.message;
  EXPECT_EQ(r.answer->source, proto::Source::kJob);
  EXPECT_EQ(r.answer->state, JobState::kQueued);
  EXPECT_EQ(broker_->Submits(prime30), 1);
  // A composite of the same size is settled by BPSW inline.
  r = client->Call(Compute(Op::kIsPrime, "100000000000000000000000000321"));
  ASSERT_TRUE(r.ok && r.answer && r.answer->result) << r.error.message;
  EXPECT_EQ(r.answer->source, proto::Source::kInline);
  EXPECT_EQ(r.answer->result->status, "C");
  // Below 2^64 BPSW is a proof: inline P.
  r = client->Call(Compute(Op::kIsPrime, "18446744073709551557"));
  ASSERT_TRUE(r.ok && r.answer && r.answer->result) << r.error.message;
  EXPECT_EQ(r.answer->source, proto::Source::kInline);
  EXPECT_EQ(r.answer->result->status, "P");
}

TEST_F(GatewayTest, ReqSocketAndDelimitedDealerGetDelimitedReplies) {
  auto req = NewClient(zmq::socket_type::req);
  Reply r = req->Call(Compute(Op::kIsPrime, "97"));
  ASSERT_TRUE(r.ok && r.answer && r.answer->result);
  EXPECT_EQ(r.answer->result->status, "P");
  auto dealer = NewClient(zmq::socket_type::dealer, /*delimiter=*/true);
  r = dealer->Call(Ping());
  EXPECT_TRUE(r.pong);
}

TEST_F(GatewayTest, BigNumberBecomesAJob) {
  auto client = NewClient();
  Request request = Compute(Op::kFactor, kBig);
  request.priority = 8;
  request.max_seconds = 30;
  Reply r = client->Call(request);
  ASSERT_TRUE(r.ok) << r.error.message;
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->state, JobState::kQueued);
  EXPECT_EQ(r.answer->source, proto::Source::kJob);
  EXPECT_EQ(r.answer->job.size(), 18u);
  auto submits = broker_->Received(MsgType::kSubmit);
  ASSERT_EQ(submits.size(), 1u);
  EXPECT_EQ(submits[0].job, r.answer->job);
  EXPECT_EQ(submits[0].kind, Kind::kFactor);
  EXPECT_EQ(submits[0].n, kBig);
  EXPECT_EQ(submits[0].priority, 8);
  EXPECT_EQ(submits[0].max_seconds, 30.0);

  // A long isprime is a job too.
  std::string long_number = "1" + std::string(3000, '0') + "1";
  r = client->Call(Compute(Op::kIsPrime, long_number));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->state, JobState::kQueued);
  EXPECT_EQ(broker_->Submits(long_number), 1);
}

TEST_F(GatewayTest, ResultAnswersGetAndHeldWaitThenTheCache) {
  auto a = NewClient();
  auto b = NewClient();
  const std::string job = QueueBig(*a);
  ASSERT_FALSE(job.empty());
  b->Send(JobOp(Op::kWait, job, 60000));
  // The wait is held: nothing arrives while the job is open.
  EXPECT_FALSE(b->RecvFrames(300));

  Answer done = PublishUntilDone(*a, job, kBig);
  EXPECT_EQ(done.state, JobState::kDone);
  ASSERT_TRUE(done.result);
  EXPECT_EQ(*done.result, BigResult());

  Reply waited = b->RecvReply();
  ASSERT_TRUE(waited.ok) << waited.error.message;
  EXPECT_EQ(waited.id, proto::RequestId(std::string("job-op")));
  ASSERT_TRUE(waited.answer);
  EXPECT_EQ(waited.answer->state, JobState::kDone);
  EXPECT_EQ(waited.answer->job, job);
  EXPECT_EQ(*waited.answer->result, BigResult());

  Reply again = a->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(again.ok && again.answer);
  EXPECT_EQ(again.answer->source, proto::Source::kCache);
  EXPECT_EQ(again.answer->result->factors, BigResult().factors);
  EXPECT_EQ(broker_->Submits(kBig), 1);
  // A finished job answers wait at once.
  Reply late = a->Call(JobOp(Op::kWait, job, 60000));
  ASSERT_TRUE(late.ok && late.answer);
  EXPECT_EQ(late.answer->state, JobState::kDone);
}

TEST_F(GatewayTest, ForgedResultFailsTheJobAndStaysOutOfTheCache) {
  auto a = NewClient();
  const std::string job = QueueBig(*a);
  ASSERT_FALSE(job.empty());
  proto::Result forged = BigResult();
  forged.factors[0].p = "59649589127497219";  // no longer multiplies to n
  Answer last;
  for (int attempt = 0; attempt < 100 && last.state != JobState::kFailed; ++attempt) {
    broker_->PublishResult(job, Kind::kFactor, kBig, JobState::kDone, forged);
    Reply r = a->Call(JobOp(Op::kGet, job));
    ASSERT_TRUE(r.ok && r.answer);
    last = *r.answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(last.state, JobState::kFailed);
  EXPECT_FALSE(last.result);
  ASSERT_TRUE(last.error);
  EXPECT_EQ(last.error->code, ErrorCode::kInternal);
  // Not cached: asking again makes a new job rather than serving the forgery.
  Reply again = a->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(again.ok && again.answer);
  EXPECT_NE(again.answer->source, proto::Source::kCache);
  EXPECT_FALSE(again.answer->result);
}

TEST_F(GatewayTest, TwoClientsShareOneJob) {
  auto a = NewClient();
  auto b = NewClient();
  a->Send(Compute(Op::kFactor, kBig, 60000));
  // Wait until the gateway has submitted a's job before b asks.
  for (int i = 0; i < 200 && broker_->Submits(kBig) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  b->Send(Compute(Op::kFactor, kBig, 60000));
  EXPECT_FALSE(a->RecvFrames(300));
  auto c = NewClient();
  Reply queued = c->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(queued.ok && queued.answer);
  const std::string job = queued.answer->job;
  EXPECT_EQ(broker_->Submits(kBig), 1);

  Answer done = PublishUntilDone(*c, job, kBig);
  EXPECT_EQ(done.state, JobState::kDone);
  for (TestClient* client : {a.get(), b.get()}) {
    Reply r = client->RecvReply();
    ASSERT_TRUE(r.ok && r.answer);
    EXPECT_EQ(r.answer->job, job);
    EXPECT_EQ(r.answer->state, JobState::kDone);
    EXPECT_EQ(r.answer->source, proto::Source::kJob);
  }
  EXPECT_EQ(broker_->Submits(kBig), 1);
}

TEST_F(GatewayTest, BatchWithABadElement) {
  auto client = NewClient();
  Request r;
  r.op = Op::kFactor;
  r.batch = true;
  for (const char* n : {"12", "-5", "abc", kBig, "97"}) r.numbers.push_back({n, std::nullopt});
  // EncodeRequest writes strings as given; the gateway validates each.
  Reply reply = client->Call(r);
  ASSERT_TRUE(reply.ok) << reply.error.message;
  ASSERT_TRUE(reply.answers);
  const auto& items = *reply.answers;
  ASSERT_EQ(items.size(), 5u);
  EXPECT_TRUE(items[0].ok);
  EXPECT_EQ(items[0].answer.result->status, "FF");
  EXPECT_FALSE(items[1].ok);
  EXPECT_EQ(items[1].error.code, ErrorCode::kNegative);
  EXPECT_EQ(items[1].index, 1u);
  EXPECT_FALSE(items[2].ok);
  EXPECT_EQ(items[2].error.code, ErrorCode::kBadNumber);
  EXPECT_EQ(items[2].index, 2u);
  EXPECT_TRUE(items[3].ok);
  EXPECT_EQ(items[3].answer.state, JobState::kQueued);
  EXPECT_FALSE(items[3].answer.job.empty());
  EXPECT_TRUE(items[4].ok);
  EXPECT_EQ(items[4].answer.result->status, "P");
}

TEST_F(GatewayTest, InlineBudgetQueuesTheRest) {
  // Only the first small number is computed inline.
  Reconfigure([](GatewayConfig& c) { c.inline_budget_ms = 0; });
  auto client = NewClient();
  Request r;
  r.op = Op::kIsPrime;
  r.batch = true;
  for (const char* n : {"1000003", "1000033", "1000037"}) r.numbers.push_back({n, std::nullopt});
  Reply reply = client->Call(r);
  ASSERT_TRUE(reply.ok && reply.answers);
  ASSERT_EQ(reply.answers->size(), 3u);
  EXPECT_EQ((*reply.answers)[0].answer.source, proto::Source::kInline);
  EXPECT_EQ((*reply.answers)[1].answer.source, proto::Source::kJob);
  EXPECT_EQ((*reply.answers)[2].answer.source, proto::Source::kJob);
  EXPECT_EQ(broker_->Received(MsgType::kSubmit).size(), 2u);
}

// Encodes a msgpack map {key: value...} with string values.
std::string PackMap(const std::vector<std::pair<std::string, std::string>>& kv) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(&buffer);
  pk.pack_map(static_cast<uint32_t>(kv.size()));
  for (const auto& [k, v] : kv) {
    pk.pack(k);
    pk.pack(v);
  }
  return std::string(buffer.data(), buffer.size());
}

TEST_F(GatewayTest, MalformedInputsGetTheRightErrors) {
  auto client = NewClient();
  auto expect_error = [&](const std::string& what, const std::string& body, ErrorCode code) {
    Reply r = client->CallBody(body);
    EXPECT_FALSE(r.ok) << what;
    EXPECT_EQ(ErrorCodeOf(r), proto::ErrorCodeName(code)) << what << ": " << r.error.message;
    Reply pong = client->Call(Ping());
    EXPECT_TRUE(pong.pong) << "no answer to ping after " << what;
  };
  expect_error("garbage bytes", "\xc1\xc1\xc1", ErrorCode::kMalformed);
  std::string full = PackMap({{"op", "factor"}, {"n", "12"}});
  expect_error("truncated msgpack", full.substr(0, full.size() - 2), ErrorCode::kMalformed);
  {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> pk(&b);
    pk.pack_array(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("ping"));
    expect_error("not a map", std::string(b.data(), b.size()), ErrorCode::kMalformed);
  }
  expect_error("trailing bytes", PackMap({{"op", "ping"}}) + "x", ErrorCode::kMalformed);
  expect_error("unknown op", PackMap({{"op", "launch"}}), ErrorCode::kBadRequest);
  expect_error("missing op", PackMap({{"n", "12"}}), ErrorCode::kBadRequest);
  expect_error("unknown field", PackMap({{"op", "factor"}, {"n", "12"}, {"colour", "red"}}),
               ErrorCode::kUnknownField);
  expect_error("negative", PackMap({{"op", "factor"}, {"n", "-12"}}), ErrorCode::kNegative);
  expect_error("leading zeros", PackMap({{"op", "factor"}, {"n", "012"}}), ErrorCode::kBadNumber);
  expect_error("non-ASCII digits", PackMap({{"op", "factor"}, {"n", "\xd9\xa1\xd9\xa2"}}),
               ErrorCode::kBadNumber);
  expect_error("empty n", PackMap({{"op", "isprime"}, {"n", ""}}), ErrorCode::kBadNumber);
  expect_error("too many digits", PackMap({{"op", "factor"}, {"n", "1" + std::string(10000, '0')}}),
               ErrorCode::kTooLarge);
  expect_error("unknown job", PackMap({{"op", "get"}, {"job", "j-0000000000000000"}}),
               ErrorCode::kUnknownJob);
  expect_error("unknown job (cancel)", PackMap({{"op", "cancel"}, {"job", "nope"}}),
               ErrorCode::kUnknownJob);

  // The id is echoed even when decoding failed.
  {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> pk(&b);
    pk.pack_map(4);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack(std::string("12"));
    pk.pack(std::string("id"));
    pk.pack(7);
    pk.pack(std::string("colour"));
    pk.pack(std::string("red"));
    Reply r = client->CallBody(std::string(b.data(), b.size()));
    EXPECT_EQ(ErrorCodeOf(r), "unknown_field");
    EXPECT_EQ(r.id, proto::RequestId(int64_t{7}));
  }
  {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> pk(&b);
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("ping"));
    pk.pack(std::string("v"));
    pk.pack(2);
    expect_error("version 2", std::string(b.data(), b.size()), ErrorCode::kUnsupportedVersion);
  }

  // Frame layouts that do not fit: three frames without a delimiter, and an
  // empty-only message.
  client->SendFrames({"a", "b", "c"});
  Reply r = client->RecvReply();
  EXPECT_EQ(ErrorCodeOf(r), "malformed");
  client->SendFrames({"", "", "x"});
  auto frames = client->RecvFrames();
  ASSERT_TRUE(frames);
  ASSERT_EQ(frames->size(), 2u);  // replied with the delimiter it sent
  auto decoded = proto::DecodeClientMessage(frames->back());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ErrorCodeOf(std::get<Reply>(decoded.value())), "malformed");
  EXPECT_TRUE(client->Call(Ping()).pong);
  EXPECT_TRUE(client->Call(Compute(Op::kFactor, "91")).ok);
}

TEST_F(GatewayTest, BusyBrokerGivesBusyWithRetryAfter) {
  broker_->set_reject_busy(1500);
  auto client = NewClient();
  Reply r = client->Call(Compute(Op::kFactor, kBig));
  EXPECT_EQ(ErrorCodeOf(r), "busy");
  EXPECT_EQ(r.retry_after_ms, 1500u);
  EXPECT_EQ(r.id, proto::RequestId(int64_t{1}));
  // The rejected job is forgotten: the next try submits again.
  broker_->set_reject_busy(0);
  Reply again = client->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(again.ok) << again.error.message;
  EXPECT_EQ(broker_->Submits(kBig), 2);
}

TEST_F(GatewayTest, SilentBrokerGivesUnavailable) {
  broker_->set_silent(true);
  auto client = NewClient();
  // Within the start-up grace period the submit is sent and times out;
  // afterwards the broker is known down and the answer comes at once.
  Reply r = client->Call(Compute(Op::kFactor, kBig));
  EXPECT_EQ(ErrorCodeOf(r), "unavailable");
  r = client->Call(Compute(Op::kFactor, kBig2));
  EXPECT_EQ(ErrorCodeOf(r), "unavailable");
  // Inline work does not need the broker.
  r = client->Call(Compute(Op::kFactor, "12"));
  EXPECT_TRUE(r.ok);
  Request stats;
  stats.op = Op::kStats;
  r = client->Call(stats);
  ASSERT_TRUE(r.ok && r.stats);
  EXPECT_EQ(r.stats->at("broker_up"), 0);
}

TEST_F(GatewayTest, WaitedForJobsAreSubmittedAgainAfterABrokerOutage) {
  auto a = NewClient();
  auto b = NewClient();
  const std::string job = QueueBig(*a);
  ASSERT_FALSE(job.empty());
  b->Send(JobOp(Op::kWait, job, 60000));
  broker_->set_silent(true);
  Request stats;
  stats.op = Op::kStats;
  bool down = false;
  for (int i = 0; i < 100 && !down; ++i) {
    Reply r = a->Call(stats);
    down = r.ok && r.stats && r.stats->at("broker_up") == 0;
    if (!down) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(down);
  EXPECT_EQ(ErrorCodeOf(a->Call(Compute(Op::kFactor, kBig2))), "unavailable");
  broker_->set_silent(false);
  for (int i = 0; i < 200 && broker_->Submits(kBig) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(broker_->Submits(kBig), 2);
  EXPECT_EQ(broker_->Received(MsgType::kSubmit).back().job, job);
  EXPECT_EQ(PublishUntilDone(*a, job, kBig).state, JobState::kDone);
  Reply waited = b->RecvReply();
  ASSERT_TRUE(waited.ok && waited.answer);
  EXPECT_EQ(waited.answer->state, JobState::kDone);
}

TEST_F(GatewayTest, WaitTimesOutWithTheCurrentState) {
  auto client = NewClient();
  const std::string job = QueueBig(*client);
  Reply r = client->Call(JobOp(Op::kWait, job, 50));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->state, JobState::kQueued);
  // A state message moves it to running.
  const Internal running = BigState(job, JobState::kRunning);
  for (int i = 0; i < 100; ++i) {
    broker_->Publish(running);
    r = client->Call(JobOp(Op::kGet, job));
    if (r.answer && r.answer->state == JobState::kRunning) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->state, JobState::kRunning);
}

TEST_F(GatewayTest, RunningJobShowsItsProgressWhenAsked) {
  auto client = NewClient();
  const std::string job = QueueBig(*client);
  ASSERT_FALSE(job.empty());
  Internal report;
  report.type = MsgType::kProgress;
  report.job = job;
  report.stage = "ecm";
  report.fraction = 0.25;
  report.factors = {"59649589127497217", "7"};  // 7 does not divide n: never shown
  Request get = JobOp(Op::kGet, job);
  get.progress = true;
  Reply r;
  for (int i = 0; i < 100; ++i) {  // the PUB stream is lossy until the subscription is in place
    broker_->Publish(report);
    r = client->Call(get);
    if (r.answer && r.answer->progress) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(r.ok && r.answer) << r.error.message;
  EXPECT_EQ(r.answer->state, JobState::kRunning) << "progress means a worker runs it";
  ASSERT_TRUE(r.answer->progress);
  EXPECT_EQ(r.answer->progress->stage, "ecm");
  EXPECT_EQ(r.answer->progress->fraction, 0.25);
  EXPECT_EQ(r.answer->progress->factors, std::vector<std::string>{"59649589127497217"});
  EXPECT_LT(r.answer->progress->age_ms, 60000u);
  // Only when asked: a plain get, and a wait, keep version 1's keys.
  Reply plain = client->Call(JobOp(Op::kGet, job));
  ASSERT_TRUE(plain.ok && plain.answer);
  EXPECT_FALSE(plain.answer->progress);
  Request wait = JobOp(Op::kWait, job, 50);
  wait.progress = true;
  Reply waited = client->Call(wait);
  ASSERT_TRUE(waited.ok && waited.answer);
  ASSERT_TRUE(waited.answer->progress);
  EXPECT_EQ(waited.answer->progress->stage, "ecm");
  // Re-queued (its worker died): the old report no longer describes it.
  broker_->Publish(BigState(job, JobState::kQueued));
  for (int i = 0; i < 100; ++i) {
    r = client->Call(get);
    if (r.answer && r.answer->state == JobState::kQueued) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->state, JobState::kQueued);
  EXPECT_FALSE(r.answer->progress);
  // Done: the result, no progress.
  Answer done = PublishUntilDone(*client, job, kBig);
  EXPECT_EQ(done.state, JobState::kDone);
  r = client->Call(get);
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_FALSE(r.answer->progress);
}

TEST_F(GatewayTest, CancelAndNotify) {
  auto a = NewClient();
  auto b = NewClient();
  Request request = Compute(Op::kFactor, kBig);
  request.notify = true;
  request.id = std::string("watch");
  Reply queued = b->Call(request);
  ASSERT_TRUE(queued.ok && queued.answer);
  const std::string job = queued.answer->job;
  Reply cancelled = a->Call(JobOp(Op::kCancel, job));
  ASSERT_TRUE(cancelled.ok) << cancelled.error.message;
  EXPECT_EQ(cancelled.answer->state, JobState::kCancelled);
  EXPECT_EQ(broker_->Received(MsgType::kCancel).size(), 1u);
  auto event = b->RecvMessage();
  ASSERT_TRUE(event);
  ASSERT_TRUE(std::holds_alternative<proto::Event>(*event));
  const auto& e = std::get<proto::Event>(*event);
  EXPECT_EQ(e.id, proto::RequestId(std::string("watch")));
  EXPECT_EQ(e.answer.job, job);
  EXPECT_EQ(e.answer.state, JobState::kCancelled);
  Reply get = a->Call(JobOp(Op::kGet, job));
  ASSERT_TRUE(get.ok && get.answer);
  EXPECT_EQ(get.answer->state, JobState::kCancelled);
}

TEST_F(GatewayTest, CancelOfAJobThatJustEndedAnswersItsResult) {
  auto client = NewClient();
  const std::string job = QueueBig(*client);
  ASSERT_FALSE(job.empty());
  broker_->FinishQuietly(job, kBig, BigResult());
  Reply r = client->Call(JobOp(Op::kCancel, job));
  ASSERT_TRUE(r.ok && r.answer) << r.error.message;
  EXPECT_EQ(r.answer->state, JobState::kDone) << "the result was on its way, not cancelled";
  EXPECT_EQ(r.answer->result, BigResult());
}

TEST_F(GatewayTest, CancelOfAJobTheBrokerLostEndsCancelled) {
  auto client = NewClient();
  const std::string job = QueueBig(*client);
  ASSERT_FALSE(job.empty());
  broker_->set_cancel_not_found(true);
  Reply r = client->Call(JobOp(Op::kCancel, job));
  ASSERT_TRUE(r.ok && r.answer) << r.error.message;
  EXPECT_EQ(r.answer->state, JobState::kCancelled);
}

TEST_F(GatewayTest, NotifyOnDone) {
  auto client = NewClient();
  Request request = Compute(Op::kFactor, kBig);
  request.notify = true;
  Reply queued = client->Call(request);
  ASSERT_TRUE(queued.ok && queued.answer);
  auto watcher = NewClient();
  Answer done = PublishUntilDone(*watcher, queued.answer->job, kBig);
  EXPECT_EQ(done.state, JobState::kDone);
  auto event = client->RecvMessage();
  ASSERT_TRUE(event && std::holds_alternative<proto::Event>(*event));
  EXPECT_EQ(std::get<proto::Event>(*event).answer.result, BigResult());
}

TEST_F(GatewayTest, VanishedClientIsForgotten) {
  auto gone = NewClient();
  auto other = NewClient();
  const std::string job = QueueBig(*other);
  const std::string job2 = QueueBig(*other, kBig2);
  gone->Send(JobOp(Op::kWait, job, 60000));
  gone->Send(JobOp(Op::kWait, job2, 60000));
  Request notify = Compute(Op::kFactor, kBig);
  notify.notify = true;
  gone->Send(notify);
  ASSERT_TRUE(gone->RecvFrames());  // the queued reply; the waits stay held
  gone->Close();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Answering the first wait fails: the gateway drops the client's other
  // held reply and its subscription, and keeps serving.
  Answer done = PublishUntilDone(*other, job, kBig);
  EXPECT_EQ(done.state, JobState::kDone);
  Request stats;
  stats.op = Op::kStats;
  double waiting = -1;
  for (int i = 0; i < 100 && waiting != 0; ++i) {
    Reply r = other->Call(stats);
    ASSERT_TRUE(r.ok && r.stats);
    waiting = r.stats->at("waiting_clients");
    if (waiting != 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(waiting, 0);
  EXPECT_TRUE(other->Call(Ping()).pong);
}

TEST_F(GatewayTest, StatsWithoutABrokerReplyUseTheLastKnownPart) {
  auto client = NewClient();
  Request stats;
  stats.op = Op::kStats;
  Reply r = client->Call(stats);
  ASSERT_TRUE(r.ok && r.stats);
  EXPECT_EQ(r.stats->at("workers"), 3);
  broker_->set_ignore_stats(true);
  r = client->Call(stats);
  ASSERT_TRUE(r.ok && r.stats);
  EXPECT_EQ(r.stats->at("workers"), 3);
  EXPECT_EQ(r.stats->at("broker_up"), 1);
}

// Random bytes and byte-level mutations of valid bodies: every one gets a
// reply, and the gateway keeps answering.
TEST_F(GatewayTest, MutatedBodiesAlwaysGetAReply) {
  auto client = NewClient();
  std::mt19937 rng(12345);
  Request get = JobOp(Op::kGet, "j-0123456789abcdef");
  const std::vector<std::string> seeds = {proto::EncodeRequest(Compute(Op::kIsPrime, "97")),
                                          proto::EncodeRequest(get), proto::EncodeRequest(Ping())};
  for (int i = 0; i < 300; ++i) {
    std::string body;
    if (i % 10 == 0) {
      body.resize(rng() % 64);
      for (char& c : body) c = static_cast<char>(rng());
    } else {
      body = seeds[i % seeds.size()];
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !body.empty(); ++e) {
        const size_t at = rng() % body.size();
        switch (rng() % 3) {
          case 0:
            body[at] = static_cast<char>(rng());
            break;
          case 1:
            body.erase(at, 1);
            break;
          default:
            body.insert(at, 1, static_cast<char>(rng()));
            break;
        }
      }
    }
    if (body.empty()) body = "\x01";
    client->SendBody(body);
    auto frames = client->RecvFrames();
    ASSERT_TRUE(frames) << "no reply to mutation " << i;
    ASSERT_EQ(frames->size(), 1u);
    ASSERT_TRUE(proto::DecodeClientMessage(frames->back()).ok());
  }
  EXPECT_TRUE(client->Call(Ping()).pong);
}

TEST_F(GatewayTest, StatsMergeGatewayAndBroker) {
  Reconfigure([](GatewayConfig& c) { c.metrics = "127.0.0.1:0"; });
  auto client = NewClient();
  ASSERT_TRUE(client->Call(Compute(Op::kFactor, "12")).ok);
  QueueBig(*client);
  Request stats;
  stats.op = Op::kStats;
  Reply r = client->Call(stats);
  ASSERT_TRUE(r.ok && r.stats);
  const proto::Stats& s = *r.stats;
  EXPECT_EQ(s.at("workers"), 3);
  EXPECT_EQ(s.at("queue_depth"), 4);
  EXPECT_EQ(s.at("jobs_running"), 2);
  EXPECT_EQ(s.at("jobs_submitted"), 1);
  EXPECT_EQ(s.at("inline_answers"), 1);
  EXPECT_EQ(s.at("cache_entries"), 1);
  EXPECT_EQ(s.at("cache_misses"), 2);
  EXPECT_GE(s.at("uptime_s"), 0);
  EXPECT_EQ(s.at("open_jobs"), 1);
  EXPECT_EQ(s.at("jobs_done"), 0);
  EXPECT_FALSE(gateway_->metrics_address().empty());
  // A job counter the broker reports (service-wide) wins over the gateway's.
  broker_->set_report_jobs_done(true);
  r = client->Call(stats);
  ASSERT_TRUE(r.ok && r.stats);
  EXPECT_EQ(r.stats->at("jobs_done"), 17);
}

TEST_F(GatewayTest, RestartServesTheCacheAndJobRecords) {
  std::string job;
  {
    auto client = NewClient();
    job = QueueBig(*client);
    ASSERT_EQ(PublishUntilDone(*client, job, kBig).state, JobState::kDone);
    // An open job that survives the restart.
    ASSERT_FALSE(QueueBig(*client, kBig2).empty());
  }
  StopGateway();
  StartGateway(Config());
  auto client = NewClient();
  Reply r = client->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->source, proto::Source::kCache);
  EXPECT_EQ(r.answer->result->factors, BigResult().factors);
  r = client->Call(JobOp(Op::kGet, job));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->state, JobState::kDone);
  EXPECT_EQ(*r.answer->result, BigResult());
  EXPECT_EQ(broker_->Submits(kBig), 1);

  // The reloaded open job is submitted again under the same id, without
  // waiting for a client to ask for it; asking joins it.
  for (int i = 0; i < 250 && broker_->Submits(kBig2) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(broker_->Submits(kBig2), 2);
  auto submits = broker_->Received(MsgType::kSubmit);
  const std::string open_job = submits.back().job;
  EXPECT_EQ(open_job, submits[submits.size() - 2].job);
  r = client->Call(Compute(Op::kFactor, kBig2));
  ASSERT_TRUE(r.ok && r.answer) << r.error.message;
  EXPECT_EQ(r.answer->job, open_job);
  EXPECT_EQ(broker_->Submits(kBig2), 2);
}

TEST_F(GatewayTest, AResultLostOnTheStreamReachesANotifyOnlyClient) {
  Reconfigure([](GatewayConfig& c) { c.reconcile_ms = 200; });
  auto client = NewClient();
  Request request = Compute(Op::kFactor, kBig);
  request.notify = true;
  Reply queued = client->Call(request);
  ASSERT_TRUE(queued.ok && queued.answer);
  const std::string job = queued.answer->job;
  // The job ends at the broker, but its result message never arrives. Nobody
  // asks for the job again: the gateway's reconcile submit recovers it.
  broker_->FinishQuietly(job, kBig, BigResult());
  auto event = client->RecvMessage(10000);
  ASSERT_TRUE(event && std::holds_alternative<proto::Event>(*event));
  const Answer& answer = std::get<proto::Event>(*event).answer;
  EXPECT_EQ(answer.job, job);
  EXPECT_EQ(answer.state, JobState::kDone);
  EXPECT_EQ(answer.result, BigResult());
  EXPECT_GE(broker_->Submits(kBig), 2);
  Reply cached = client->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(cached.ok && cached.answer);
  EXPECT_EQ(cached.answer->source, proto::Source::kCache);
}

TEST_F(GatewayTest, AnAcceptedJobStaysOpenWhenAReconcileSubmitIsRejected) {
  Reconfigure([](GatewayConfig& c) { c.reconcile_ms = 100; });
  auto client = NewClient();
  const std::string job = QueueBig(*client);
  ASSERT_FALSE(job.empty());
  broker_->set_reject_busy(50);
  const int before = broker_->Submits(kBig);
  for (int i = 0; i < 250 && broker_->Submits(kBig) < before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(broker_->Submits(kBig), before + 2) << "rejected reconcile submits are retried";
  Reply r = client->Call(JobOp(Op::kGet, job));
  ASSERT_TRUE(r.ok && r.answer);
  EXPECT_EQ(r.answer->state, JobState::kQueued) << "a full queue does not fail an accepted job";
  broker_->set_reject_busy(0);
  EXPECT_EQ(PublishUntilDone(*client, job, kBig).state, JobState::kDone);
}

TEST_F(GatewayTest, PerClientLimitsGiveBusyToThatClientOnly) {
  Reconfigure([](GatewayConfig& c) {
    c.max_client_jobs = 2;
    c.max_client_held = 2;
  });
  auto greedy = NewClient();
  auto other = NewClient();
  const std::string job1 = QueueBig(*greedy, kBig);
  const std::string job2 = QueueBig(*greedy, kBig2);
  ASSERT_FALSE(job1.empty());
  ASSERT_FALSE(job2.empty());
  Reply over = greedy->Call(Compute(Op::kFactor, "340282366920938463463374607431768211461"));
  EXPECT_EQ(ErrorCodeOf(over), "busy");
  EXPECT_GT(over.retry_after_ms, 0u);
  // Joining a job already open starts nothing new: allowed.
  Reply joined = greedy->Call(Compute(Op::kFactor, kBig));
  ASSERT_TRUE(joined.ok && joined.answer) << joined.error.message;
  EXPECT_EQ(joined.answer->job, job1);
  // Answers from the cache or inline are never limited.
  Reply small = greedy->Call(Compute(Op::kFactor, "1000000007"));
  EXPECT_TRUE(small.ok);
  // Other clients are not affected.
  EXPECT_FALSE(QueueBig(*other, "340282366920938463463374607431768211461").empty());

  // Held requests: two waits are held, the third is refused at once.
  greedy->Send(JobOp(Op::kWait, job1, 60000));
  greedy->Send(JobOp(Op::kWait, job2, 60000));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Reply refused = greedy->Call(JobOp(Op::kGet, job1));
  EXPECT_EQ(ErrorCodeOf(refused), "busy");
  EXPECT_TRUE(other->Call(JobOp(Op::kGet, job1)).ok);

  // When a job ends, its wait is answered and both its slots free.
  EXPECT_EQ(PublishUntilDone(*other, job1, kBig).state, JobState::kDone);
  Reply waited = greedy->RecvReply();
  ASSERT_TRUE(waited.ok && waited.answer);
  EXPECT_EQ(waited.answer->job, job1);
  Reply after = greedy->Call(Compute(Op::kFactor, "340282366920938463463374607431768211507"));
  ASSERT_TRUE(after.ok) << after.error.message;
}

// Inline math runs on the compute threads: a cache hit and a ping sent after
// slow inline work (BPSW on 1000-digit primes, tens of ms each) are answered
// first, not behind it.
TEST_F(GatewayTest, SlowInlineAnswerDoesNotDelayACacheHitBehindIt) {
  auto client = NewClient();
  ASSERT_TRUE(client->Call(Compute(Op::kFactor, "12")).ok);  // now cached
  const std::string prime1000 = "1" + std::string(998, '0') + "7";  // 10^999 + 7
  for (int i = 0; i < 4; ++i) {
    Request slow = Compute(Op::kIsPrime, prime1000);
    slow.id = std::string("slow");
    client->Send(slow);
  }
  Request hit = Compute(Op::kFactor, "12");
  hit.id = std::string("hit");
  client->Send(hit);
  client->Send(Ping());
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    Reply r = client->RecvReply();
    ASSERT_TRUE(r.ok) << r.error.message;
    if (r.pong) {
      order.push_back("ping");
    } else {
      order.push_back(std::get<std::string>(r.id));
      if (order.back() == "hit") {
        EXPECT_EQ(r.answer->source, proto::Source::kCache);
      } else {
        EXPECT_EQ(r.answer->result->status, "PRP");
      }
    }
  }
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(std::set<std::string>(order.begin(), order.begin() + 2),
            (std::set<std::string>{"hit", "ping"}));
}

// A client within its limits loses no reply, whatever came before: it holds
// max_client_held - 1 waits (after a history of round trips), the job ends,
// and every wait is answered at once. The replies meet the client's send
// pipe at its high-water mark; the gateway keeps them and sends them as the
// client reads.
TEST_F(GatewayTest, BurstOfHeldRepliesReachesAClientThatReads) {
  const uint32_t held = GatewayConfig{}.max_client_held - 1;
  for (int history : {4, 150, 900}) {
    SCOPED_TRACE("after " + std::to_string(history) + " round trips");
    auto client = NewClient();
    auto other = NewClient();
    for (int i = 0; i < history; ++i) ASSERT_TRUE(client->Call(Ping()).pong);
    const std::string n = "3402823669209384634633746074317682" + std::to_string(11000 + history);
    const std::string job = QueueBig(*other, n);
    ASSERT_FALSE(job.empty());
    for (uint32_t i = 0; i < held; ++i) {
      Request wait = JobOp(Op::kWait, job, 60000);
      wait.id = int64_t{i};
      client->Send(wait);
    }
    Request stats;
    stats.op = Op::kStats;
    double waiting = 0;
    for (int i = 0; i < 200 && waiting < held; ++i) {
      Reply r = other->Call(stats);
      ASSERT_TRUE(r.ok && r.stats);
      waiting = r.stats->at("waiting_clients");
      if (waiting < held) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(waiting, held);
    Reply cancelled = other->Call(JobOp(Op::kCancel, job));
    ASSERT_TRUE(cancelled.ok) << cancelled.error.message;
    std::set<int64_t> answered;
    for (uint32_t i = 0; i < held; ++i) {
      Reply r = client->RecvReply();
      if (!r.ok || !r.answer) break;
      EXPECT_EQ(r.answer->state, JobState::kCancelled);
      answered.insert(std::get<int64_t>(r.id));
    }
    EXPECT_EQ(answered.size(), held);
    EXPECT_TRUE(client->Call(Ping()).pong);
  }
}

}  // namespace
}  // namespace zfactor::gateway
