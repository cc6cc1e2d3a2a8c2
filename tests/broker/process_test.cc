// The real executables: zfactor-broker and zfactor-worker started as
// processes on OS-picked loopback ports, stopped by signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/zmq_util.h"
#include "proto/codec.h"

extern char** environ;

namespace zfactor {
namespace {

using proto::Internal;
using proto::MsgType;

constexpr int kWaitMs = 20000;

// A child process; killed (SIGKILL) and reaped if still running at destruction.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  // Sends `sig` and waits for the exit; the exit status, or -1.
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    const int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

std::optional<std::map<std::string, std::string>> WaitReadyFile(const std::string& path) {
  const int64_t deadline = core::NowMs() + kWaitMs;
  while (core::NowMs() < deadline) {
    std::ifstream in(path);
    if (in) {
      std::map<std::string, std::string> entries;
      std::string line;
      while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq != std::string::npos) entries[line.substr(0, eq)] = line.substr(eq + 1);
      }
      return entries;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

proto::Stats AskStats(zmq::socket_t& gateway) {
  Internal stats;
  stats.type = MsgType::kStats;
  EXPECT_TRUE(core::SendMultipart(gateway, {proto::EncodeInternal(stats)}));
  const int64_t deadline = core::NowMs() + kWaitMs;
  while (core::NowMs() < deadline) {
    zmq::pollitem_t item{gateway.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(20));
    std::vector<zmq::message_t> frames;
    if (!core::RecvMultipart(gateway, &frames, zmq::recv_flags::dontwait)) continue;
    auto m = proto::DecodeInternal(core::ToString(frames.back()));
    if (m.ok() && m.value().type == MsgType::kStatsReply) return m.value().stats;
  }
  ADD_FAILURE() << "no stats_reply";
  return {};
}

TEST(ProcessTest, BrokerAndWorkerStartReportAndStopCleanly) {
  char dir[] = "/tmp/zfactor-process-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string broker_ready = std::string(dir) + "/broker.ready";
  const std::string worker_ready = std::string(dir) + "/worker.ready";
  {
    Child broker({ZF_BROKER_BIN, "--front", "tcp://127.0.0.1:*", "--back", "tcp://127.0.0.1:*",
                  "--pub", "tcp://127.0.0.1:*", "--heartbeat-ms", "100", "--ready-file",
                  broker_ready, "--metrics", "127.0.0.1:0"});
    ASSERT_TRUE(broker.started());
    auto endpoints = WaitReadyFile(broker_ready);
    ASSERT_TRUE(endpoints);
    for (const char* key : {"front", "back", "pub", "metrics"}) {
      EXPECT_FALSE((*endpoints)[key].empty()) << key;
    }
    zmq::context_t ctx(1);
    zmq::socket_t gateway(ctx, zmq::socket_type::dealer);
    gateway.set(zmq::sockopt::linger, 0);
    gateway.connect((*endpoints)["front"]);
    EXPECT_EQ(AskStats(gateway)["workers"], 0);

    Child worker({ZF_WORKER_BIN, "--broker", (*endpoints)["back"], "--threads", "1",
                  "--heartbeat-ms", "100", "--name", "proc-test", "--ready-file", worker_ready});
    ASSERT_TRUE(worker.started());
    ASSERT_TRUE(WaitReadyFile(worker_ready));
    int64_t deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline && AskStats(gateway)["workers"] != 1) {
    }
    EXPECT_EQ(AskStats(gateway)["workers"], 1);

    EXPECT_EQ(worker.Stop(SIGTERM), 0);
    deadline = core::NowMs() + kWaitMs;
    while (core::NowMs() < deadline && AskStats(gateway)["workers"] != 0) {
    }
    proto::Stats s = AskStats(gateway);
    EXPECT_EQ(s["workers"], 0);
    EXPECT_EQ(s["worker_deaths"], 0) << "a clean stop says bye";
    EXPECT_EQ(broker.Stop(SIGINT), 0);
  }
  std::remove(broker_ready.c_str());
  std::remove(worker_ready.c_str());
  rmdir(dir);
}

TEST(ProcessTest, HelpAndBadFlags) {
  for (const char* bin : {ZF_BROKER_BIN, ZF_WORKER_BIN}) {
    Child help({bin, "--help"});
    ASSERT_TRUE(help.started());
    EXPECT_EQ(help.Stop(0), 0) << bin;  // signal 0: just wait
    Child bad({bin, "--no-such-flag"});
    ASSERT_TRUE(bad.started());
    EXPECT_EQ(bad.Stop(0), 2) << bin;
  }
  // A malformed endpoint is an error at start-up, not a crash.
  Child broker({ZF_BROKER_BIN, "--front", "garbage"});
  ASSERT_TRUE(broker.started());
  EXPECT_EQ(broker.Stop(0), 1);
  Child worker({ZF_WORKER_BIN, "--broker", "garbage", "--threads", "1"});
  ASSERT_TRUE(worker.started());
  EXPECT_EQ(worker.Stop(0), 1);
  Child no_threads({ZF_WORKER_BIN, "--job-threads", "0"});
  ASSERT_TRUE(no_threads.started());
  EXPECT_EQ(no_threads.Stop(0), 2);
}

}  // namespace
}  // namespace zfactor
