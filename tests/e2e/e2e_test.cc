// End-to-end tests: the real broker, gateway and workers (and zfactor-stack,
// the zfactor CLI and the Python client) on loopback.
#include <dirent.h>
#include <gmpxx.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/format.h"
#include "client/verify.h"
#include "tests/support/cluster.h"
#include "tests/support/cluster_test.h"
#include "tests/support/numbers.h"

namespace zfactor::e2e {
namespace {

using support::BinDir;
using support::FindSemiprime;
using support::RunCommand;
using support::ScratchDir;
using support::SourceDir;

using client::Client;
using client::ComputeOptions;
using std::chrono::milliseconds;

const char k2_128_1[] = "340282366920938463463374607431768211457";
const char k2_128_1_Line[] =
    "340282366920938463463374607431768211457: 59649589127497217 5704689200685129054721";
constexpr milliseconds kJobTimeout{120000};

// Factors above 2^64 may come back as PRP when no proof was attempted; the
// numbers must still match exactly.
std::string WithoutPrpMarks(const std::string& s) {
  return std::regex_replace(s, std::regex("\\[PRP\\]"), "");
}

// Asks and waits (wait_ms, then `wait` requests) for a final answer.
proto::Answer Final(Client& c, proto::Kind kind, const std::string& n) {
  ComputeOptions opts;
  opts.wait_ms = 30000;
  auto a = kind == proto::Kind::kFactor ? c.Factor(n, opts) : c.IsPrime(n, opts);
  EXPECT_TRUE(a.ok()) << n << ": " << a.error().message;
  if (!a.ok()) return {};
  auto done = c.WaitFinal(a.value(), kJobTimeout);
  EXPECT_TRUE(done.ok()) << n << ": " << done.error().message;
  if (!done.ok()) return {};
  EXPECT_EQ(done.value().state, proto::JobState::kDone) << n;
  EXPECT_EQ(client::CheckAnswer(done.value()), "") << n;
  return done.value();
}

double Stat(Client& c, const std::string& key) {
  auto stats = c.Stats();
  EXPECT_TRUE(stats.ok()) << stats.error().message;
  if (!stats.ok()) return -1;
  auto it = stats.value().find(key);
  EXPECT_NE(it, stats.value().end()) << "no stat " << key;
  return it == stats.value().end() ? -1 : it->second;
}

// A broker, a gateway and `workers` one-thread workers. The gateway answers
// isprime inline only up to 30 digits, so 39-digit numbers take the queued path.
class ServiceTest : public support::ClusterTest {
 protected:
  bool Start(int workers = 1) {
    if (!cluster_->StartBroker() || !cluster_->StartGateway({"--inline-prime-digits", "30"}))
      return false;
    for (int i = 0; i < workers; ++i) {
      if (cluster_->StartWorker(1) < 0) return false;
    }
    return cluster_->WaitForWorkers(workers, support::kReadyTimeout);
  }
};

TEST_F(ServiceTest, InlineFactorAndIsPrime) {
  ASSERT_TRUE(Start());
  Client c(cluster_->ClientOptions());
  proto::Answer a = Final(c, proto::Kind::kFactor, "12");
  EXPECT_EQ(a.source, proto::Source::kInline);
  EXPECT_EQ(client::FormatFactorLine(a), "12: 2 2 3");
  a = Final(c, proto::Kind::kFactor, "18446744073709551615");  // 2^64-1 < 2^64: inline
  EXPECT_EQ(a.source, proto::Source::kInline);
  EXPECT_EQ(client::FormatFactorLine(a), "18446744073709551615: 3 5 17 257 641 65537 6700417");
  a = Final(c, proto::Kind::kIsPrime, "97");
  EXPECT_EQ(a.source, proto::Source::kInline);
  EXPECT_EQ(client::FormatIsPrimeLine(a), "97: prime");
  EXPECT_EQ(client::FormatFactorLine(Final(c, proto::Kind::kFactor, "1")), "1:");
  EXPECT_EQ(client::FormatFactorLine(Final(c, proto::Kind::kFactor, "0")), "0:");
  EXPECT_TRUE(c.Ping().ok());
}

TEST_F(ServiceTest, QueuedSemiprimeThenCacheWithoutNewJob) {
  const auto c40 = FindSemiprime("C40_1");
  ASSERT_TRUE(c40);
  const std::string& n = c40->n;
  ASSERT_TRUE(Start());
  Client c(cluster_->ClientOptions());
  const double submitted_before = Stat(c, "jobs_submitted");

  auto first = c.Factor(n);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first.value().source, proto::Source::kJob);
  EXPECT_FALSE(first.value().job.empty());
  auto done = c.WaitFinal(first.value(), kJobTimeout);
  ASSERT_TRUE(done.ok()) << done.error().message;
  ASSERT_EQ(done.value().state, proto::JobState::kDone);
  EXPECT_EQ(WithoutPrpMarks(client::FormatFactorLine(done.value())),
            n + ": " + c40->p + " " + c40->q);
  EXPECT_EQ(client::CheckAnswer(done.value()), "");
  const double submitted_after = Stat(c, "jobs_submitted");
  EXPECT_EQ(submitted_after, submitted_before + 1);

  auto again = c.Factor(n);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again.value().source, proto::Source::kCache);
  EXPECT_EQ(again.value().state, proto::JobState::kDone);
  ASSERT_TRUE(again.value().result.has_value());
  EXPECT_EQ(again.value().result->factors, done.value().result->factors);
  EXPECT_EQ(Stat(c, "jobs_submitted"), submitted_after);
  EXPECT_GE(Stat(c, "cache_hits"), 1);
}

TEST_F(ServiceTest, WaitOnQueuedJob) {
  ASSERT_TRUE(Start());
  Client c(cluster_->ClientOptions());
  auto queued = c.Factor(k2_128_1);  // 129 bits: above the inline threshold
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  ASSERT_EQ(queued.value().source, proto::Source::kJob);
  const std::string job = queued.value().job;
  ASSERT_FALSE(job.empty());

  auto got = c.Get(job);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got.value().job, job);
  EXPECT_EQ(got.value().n, k2_128_1);

  proto::Answer a = queued.value();
  const auto deadline = std::chrono::steady_clock::now() + kJobTimeout;
  while (!proto::IsFinal(a.state) && std::chrono::steady_clock::now() < deadline) {
    auto w = c.Wait(job, milliseconds(10000));
    ASSERT_TRUE(w.ok()) << w.error().message;
    a = w.value();
  }
  ASSERT_EQ(a.state, proto::JobState::kDone);
  EXPECT_EQ(WithoutPrpMarks(client::FormatFactorLine(a)), k2_128_1_Line);

  auto unknown = c.Wait("j-does-not-exist", milliseconds(100));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, proto::ErrorCode::kUnknownJob);
}

TEST_F(ServiceTest, RunningJobShowsItsProgressAndTheFactorsFoundSoFar) {
  const auto c100 = FindSemiprime("C100_1");  // hours: still running when cancelled
  ASSERT_TRUE(c100);
  const mpz_class small = mpz_class(1000003) * 1000033;
  const mpz_class n = small * mpz_class(c100->n);
  ASSERT_TRUE(Start());
  Client c(cluster_->ClientOptions());
  auto queued = c.Factor(n.get_str());
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  const std::string job = queued.value().job;
  ASSERT_FALSE(job.empty());
  // Worker -> broker -> PUB -> gateway -> client: the small factors show while it runs.
  proto::Answer a;
  mpz_class covered = 1;
  const auto deadline = std::chrono::steady_clock::now() + kJobTimeout;
  while (covered % small != 0 && std::chrono::steady_clock::now() < deadline) {
    auto got = c.Get(job, /*progress=*/true);
    ASSERT_TRUE(got.ok()) << got.error().message;
    a = got.value();
    ASSERT_FALSE(proto::IsFinal(a.state)) << proto::JobStateName(a.state);
    if (a.progress) {
      EXPECT_EQ(a.state, proto::JobState::kRunning);
      EXPECT_FALSE(a.progress->stage.empty());
      for (const std::string& f : a.progress->factors) {
        mpz_lcm(covered.get_mpz_t(), covered.get_mpz_t(), mpz_class(f).get_mpz_t());
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_EQ(covered % small, 0) << client::FormatFactorLine(a);
  EXPECT_NE(client::FormatFactorLine(a).find("factors so far:"), std::string::npos)
      << client::FormatFactorLine(a);
  auto cancelled = c.Cancel(job);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled.value().state, proto::JobState::kCancelled);
}

TEST_F(ServiceTest, IsPrimeQueuedPath) {
  const auto c40 = FindSemiprime("C40_1");
  ASSERT_TRUE(c40);
  const std::string& n = c40->n;
  ASSERT_TRUE(Start());  // inline_prime_digits = 30: 39-digit numbers become jobs
  Client c(cluster_->ClientOptions());
  proto::Answer prime =
      Final(c, proto::Kind::kIsPrime, "170141183460469231731687303715884105727");  // 2^127-1
  EXPECT_EQ(prime.source, proto::Source::kJob);
  ASSERT_TRUE(prime.result.has_value());
  EXPECT_TRUE(prime.result->status == "P" || prime.result->status == "PRP") << prime.result->status;
  proto::Answer composite = Final(c, proto::Kind::kIsPrime, n);
  EXPECT_EQ(composite.source, proto::Source::kJob);
  EXPECT_EQ(client::FormatIsPrimeLine(composite), n + ": composite");
}

TEST_F(ServiceTest, TwoClientsShareOneJob) {
  const auto c40 = FindSemiprime("C40_1");
  ASSERT_TRUE(c40);
  const std::string& n = c40->n;
  ASSERT_TRUE(Start(/*workers=*/0));  // no worker yet: the job stays open
  Client c1(cluster_->ClientOptions()), c2(cluster_->ClientOptions());
  const double submitted_before = Stat(c1, "jobs_submitted");

  ComputeOptions notify;
  notify.notify = true;
  proto::StatusOr<proto::Answer> a1 = proto::MakeError(proto::ErrorCode::kInternal, "");
  proto::StatusOr<proto::Answer> a2 = a1;
  std::thread t1([&] { a1 = c1.Factor(n, notify); });
  std::thread t2([&] { a2 = c2.Factor(n); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a1.ok()) << a1.error().message;
  ASSERT_TRUE(a2.ok()) << a2.error().message;
  EXPECT_FALSE(a1.value().job.empty());
  EXPECT_EQ(a1.value().job, a2.value().job);
  EXPECT_EQ(Stat(c1, "jobs_submitted"), submitted_before + 1);

  ASSERT_GE(cluster_->StartWorker(1), 0);
  auto d1 = c1.WaitFinal(a1.value(), kJobTimeout);
  auto d2 = c2.WaitFinal(a2.value(), kJobTimeout);
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(WithoutPrpMarks(client::FormatFactorLine(d1.value())),
            n + ": " + c40->p + " " + c40->q);
  EXPECT_EQ(client::FormatFactorLine(d1.value()), client::FormatFactorLine(d2.value()));

  // c1 asked for notify: one EVENT for the job.
  std::optional<proto::Event> event = c1.NextEvent(milliseconds(10000));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->answer.job, a1.value().job);
  EXPECT_EQ(event->answer.state, proto::JobState::kDone);
}

TEST_F(ServiceTest, BatchAnswersInOrder) {
  const auto c30 = FindSemiprime("C30_1");
  ASSERT_TRUE(c30);
  const std::string& n30 = c30->n;
  ASSERT_TRUE(Start());
  Client c(cluster_->ClientOptions());
  ComputeOptions opts;
  opts.wait_ms = 60000;
  auto items = c.FactorBatch({"12", k2_128_1, "97", n30, "-5"}, opts);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items.value().size(), 5u);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(items.value()[i].ok) << i << ": " << items.value()[i].error.message;
    auto a = c.WaitFinal(items.value()[i].answer, kJobTimeout);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(client::CheckAnswer(a.value()), "");
    lines.push_back(WithoutPrpMarks(client::FormatFactorLine(a.value())));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"12: 2 2 3", k2_128_1_Line, "97: 97",
                                             n30 + ": " + c30->p + " " + c30->q}));
  const proto::Item& bad = items.value()[4];
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.index, 4u);
  EXPECT_EQ(bad.error.code, proto::ErrorCode::kNegative);
}

TEST_F(ServiceTest, CacheSurvivesGatewayRestart) {
  const auto c30 = FindSemiprime("C30_1");
  ASSERT_TRUE(c30);
  const std::string& n = c30->n;
  ASSERT_TRUE(Start());
  proto::Answer first;
  {
    Client c(cluster_->ClientOptions());
    first = Final(c, proto::Kind::kFactor, n);
    ASSERT_EQ(first.source, proto::Source::kJob);
  }
  cluster_->StopGateway();
  ASSERT_TRUE(cluster_->RestartGateway());  // same cache file, new port
  Client c(cluster_->ClientOptions());
  auto again = c.Factor(n);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again.value().source, proto::Source::kCache);
  EXPECT_EQ(again.value().state, proto::JobState::kDone);
  EXPECT_EQ(client::FormatFactorLine(again.value()), client::FormatFactorLine(first));
}

// ---- zfactor-stack, the CLI and the Python client ----

// The pids whose parent is `pid`.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    const pid_t candidate = static_cast<pid_t>(std::atol(e->d_name));
    if (candidate <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces, so parse after the last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == pid) out.push_back(candidate);
  }
  closedir(proc);
  return out;
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = support::MissingExecutable();
    ASSERT_TRUE(missing.empty()) << "not built: " << missing;
    ASSERT_FALSE(scratch_.path().empty());
    const std::string ready = scratch_.path() + "/stack.ready";
    stack_ = std::make_unique<stack::Child>(
        "zfactor-stack",
        std::vector<std::string>{BinDir() + "/zfactor-stack", "--port-base", "0", "--workers", "1",
                                 "--threads", "1", "--cache", scratch_.path() + "/cache.db",
                                 "--journal", scratch_.path() + "/journal.db",
                                 "--ready-file", ready},
        ready);
    ASSERT_TRUE(stack_->Start());
    ASSERT_TRUE(stack_->WaitReady(milliseconds(60000))) << stack_->exit_status();
    auto values = stack::ReadReadyFile(ready);
    endpoint_ = (*values)["listen"];
    ASSERT_FALSE(endpoint_.empty());
    // --port-base 0: every process serves metrics on an OS-picked port.
    for (const char* key : {"gateway.metrics", "broker.metrics", "worker-1.metrics"}) {
      EXPECT_NE((*values)[key].rfind("127.0.0.1:", 0), std::string::npos) << key;
      EXPECT_NE((*values)[key], "127.0.0.1:0") << key;
    }
  }

  client::ClientOptions Options() const {
    client::ClientOptions o;
    o.endpoint = endpoint_;
    return o;
  }

  ScratchDir scratch_;
  std::unique_ptr<stack::Child> stack_;
  std::string endpoint_;
};

TEST_F(StackTest, ServesAndStopsCleanlyOnSigterm) {
  Client c(Options());
  // Each process serves Prometheus text on the port named in the ready-file.
  auto values = stack::ReadReadyFile(scratch_.path() + "/stack.ready");
  for (const char* key : {"gateway.metrics", "broker.metrics", "worker-1.metrics"}) {
    std::string out;
    EXPECT_EQ(RunCommand("/usr/bin/python3 -c \"import urllib.request, sys; sys.stdout.write("
                         "urllib.request.urlopen('http://" +
                             (*values)[key] + "/metrics', timeout=10).read().decode())\"",
                         &out),
              0)
        << key;
    EXPECT_NE(out.find("# TYPE "), std::string::npos) << key << ": " << out.substr(0, 200);
  }
  EXPECT_EQ(WithoutPrpMarks(client::FormatFactorLine(Final(c, proto::Kind::kFactor, k2_128_1))),
            k2_128_1_Line);

  const std::vector<pid_t> children = ChildrenOf(stack_->pid());
  EXPECT_EQ(children.size(), 3u);  // broker, gateway, one worker
  stack_->Stop(milliseconds(30000));
  EXPECT_EQ(stack_->exit_status(), "exited with status 0");
  for (pid_t pid : children)
    EXPECT_FALSE(Alive(pid)) << "child " << pid << " outlived zfactor-stack";
}

// Each process used to wait out its metrics server's 2-second poll at exit,
// so an idle stack took 4-5 s to stop. It now takes tens of milliseconds;
// the bound leaves room for a loaded machine.
TEST_F(StackTest, IdleStackStopsInUnderASecond) {
  const auto start = std::chrono::steady_clock::now();
  stack_->Stop(milliseconds(30000));
  EXPECT_EQ(stack_->exit_status(), "exited with status 0");
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

// A worker in the middle of a job hands it back and exits at once: every
// child stops on SIGTERM, none is killed after the 5 s grace period.
TEST_F(StackTest, BusyStackStopsWithinItsGrace) {
  const auto c100 = FindSemiprime("C100_1");  // hours: still running at the stop
  ASSERT_TRUE(c100);
  Client c(Options());
  auto queued = c.Factor(c100->n);
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  const auto deadline = std::chrono::steady_clock::now() + kJobTimeout;
  proto::JobState state = queued.value().state;
  while (state != proto::JobState::kRunning && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
    auto got = c.Get(queued.value().job);
    ASSERT_TRUE(got.ok()) << got.error().message;
    state = got.value().state;
  }
  ASSERT_EQ(state, proto::JobState::kRunning);
  const auto start = std::chrono::steady_clock::now();
  stack_->Stop(milliseconds(30000));
  EXPECT_EQ(stack_->exit_status(), "exited with status 0");
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
}

TEST_F(StackTest, RestartsAWorkerThatDies) {
  Client c(Options());
  std::vector<pid_t> before = ChildrenOf(stack_->pid());
  ASSERT_EQ(before.size(), 3u);
  // The worker is the last child started: the highest pid unless pids wrapped.
  pid_t worker = 0;
  for (pid_t pid : before) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "zfactor-worker") worker = pid;
  }
  ASSERT_NE(worker, 0);
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  // The stack notices, restarts it, and the service counts a worker again.
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(30000);
  bool restarted = false;
  while (!restarted && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    for (pid_t pid : ChildrenOf(stack_->pid())) {
      std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
      std::string name;
      std::getline(comm, name);
      if (name == "zfactor-worker" && pid != worker) restarted = true;
    }
  }
  ASSERT_TRUE(restarted);
  EXPECT_EQ(WithoutPrpMarks(client::FormatFactorLine(Final(c, proto::Kind::kFactor, k2_128_1))),
            k2_128_1_Line);
}

TEST_F(StackTest, KilledLauncherLeavesNoOrphans) {
  const std::vector<pid_t> children = ChildrenOf(stack_->pid());
  ASSERT_EQ(children.size(), 3u);
  ASSERT_EQ(kill(stack_->pid(), SIGKILL), 0);
  stack_->Stop(milliseconds(1000));  // reaps it
  // PR_SET_PDEATHSIG sends each child SIGTERM; they stop on their own.
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(20000);
  for (pid_t pid : children) {
    while (Alive(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    EXPECT_FALSE(Alive(pid)) << "child " << pid << " outlived a killed zfactor-stack";
  }
}

TEST_F(StackTest, CliAgainstTheStack) {
  std::string out;
  const std::string zf = BinDir() + "/zfactor --endpoint " + endpoint_;
  EXPECT_EQ(RunCommand(zf + " factor 12 '2^128+1' 97", &out), 0) << out;
  EXPECT_EQ(WithoutPrpMarks(out), std::string("12: 2 2 3\n") + k2_128_1_Line + "\n97: 97\n");
  EXPECT_EQ(RunCommand("echo '100 2^64-1' | " + zf + " factor", &out), 0);
  EXPECT_EQ(out, "100: 2 2 5 5\n18446744073709551615: 3 5 17 257 641 65537 6700417\n");
  EXPECT_EQ(RunCommand(zf + " isprime 97 91 1", &out), 0);
  EXPECT_EQ(out, "97: prime\n91: composite\n1: unit (not prime)\n");
  EXPECT_EQ(RunCommand(zf + " --json factor '2^128+1'", &out), 0);
  EXPECT_NE(out.find("\"source\":\"cache\""), std::string::npos) << out;
  EXPECT_EQ(RunCommand(zf + " stats", &out), 0);
  EXPECT_NE(out.find("jobs_submitted: "), std::string::npos) << out;
}

TEST_F(StackTest, PythonClientAgainstTheStack) {
  std::string out;
  const int status = RunCommand("/usr/bin/python3 " + SourceDir() +
                                    "/client/python/zfactor_client.py --endpoint " + endpoint_ +
                                    " 12 " + k2_128_1 + " 1",
                                &out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(WithoutPrpMarks(out), std::string("12: 2 2 3\n") + k2_128_1_Line + "\n1:\n");

  // Every operation and error code of PROTOCOL.md section 2, from Python.
  EXPECT_EQ(RunCommand("/usr/bin/python3 " + SourceDir() + "/tests/e2e/python_client_e2e.py " +
                           endpoint_ + " 2>&1",
                       &out),
            0)
      << out;
}

}  // namespace
}  // namespace zfactor::e2e
