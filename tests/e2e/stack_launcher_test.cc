// zfactor-stack against fake broker/gateway/worker scripts: start order,
// endpoints handed from one child to the next, restarts, clean stop.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "stack/child.h"
#include "tests/support/cluster.h"

namespace zfactor::e2e {
namespace {

using support::BinDir;
using support::RunCommand;
using support::ScratchDir;

using std::chrono::milliseconds;

// Each fake appends "pid args..." to <dir>/<name>.log, writes its ready-file
// (when asked for one) and then sleeps until signalled.
const char kFakeScript[] = R"(#!/bin/sh
dir=$(dirname "$0")
name=$(basename "$0")
echo "$$ $*" >> "$dir/$name.log"
[ -e "$dir/$name.fail" ] && exit 3
[ -e "$dir/$name.hang" ] && exec sleep 100000
ready=""
metrics=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ready-file) ready="$2"; shift;;
    --metrics) metrics="$2"; shift;;
  esac
  shift
done
if [ -n "$ready" ]; then
  case "$name" in
    zfactor-broker) printf 'front=tcp://127.0.0.1:1001\nback=tcp://127.0.0.1:1002\npub=tcp://127.0.0.1:1003\n' > "$ready.tmp";;
    *) printf 'listen=tcp://127.0.0.1:1000\n' > "$ready.tmp";;
  esac
  [ -n "$metrics" ] && echo "metrics=$metrics" >> "$ready.tmp"
  mv "$ready.tmp" "$ready"
fi
exec sleep 100000
)";

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

pid_t PidOf(const std::string& log_line) { return static_cast<pid_t>(std::atol(log_line.c_str())); }

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

class StackLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access((BinDir() + "/zfactor-stack").c_str(), X_OK) != 0)
      GTEST_FAIL() << "zfactor-stack not built";
    ASSERT_FALSE(dir_.path().empty());
    for (const char* name : {"zfactor-broker", "zfactor-gateway", "zfactor-worker"}) {
      const std::string path = dir_.path() + "/" + name;
      std::ofstream(path) << kFakeScript;
      ASSERT_EQ(chmod(path.c_str(), 0755), 0);
    }
  }

  std::unique_ptr<stack::Child> Launch(std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinDir() + "/zfactor-stack",
                                     "--bin-dir",
                                     dir_.path(),
                                     "--port-base",
                                     "0",
                                     "--ready-file",
                                     ready(),
                                     "--grace-ms",
                                     "2000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<stack::Child>("zfactor-stack", argv, ready());
  }

  std::string ready() const { return dir_.path() + "/stack.ready"; }
  std::vector<std::string> Log(const std::string& name) const {
    return ReadLines(dir_.path() + "/" + name + ".log");
  }
  // Workers have no ready-file: wait until the fakes have logged `count` starts.
  std::vector<std::string> WaitForLog(const std::string& name, std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(20000);
    while (Log(name).size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    return Log(name);
  }

  ScratchDir dir_;
};

TEST_F(StackLauncherTest, StartsInOrderHandsOnEndpointsAndStopsCleanly) {
  auto s =
      Launch({"--workers", "2", "--threads", "3", "--job-threads", "2", "--cache", "/tmp/x.db"});
  ASSERT_TRUE(s->Start());
  ASSERT_TRUE(s->WaitReady(milliseconds(20000))) << s->exit_status();
  auto values = stack::ReadReadyFile(ready());
  EXPECT_EQ((*values)["listen"], "tcp://127.0.0.1:1000");
  EXPECT_EQ((*values)["front"], "tcp://127.0.0.1:1001");
  EXPECT_EQ((*values)["back"], "tcp://127.0.0.1:1002");
  EXPECT_EQ((*values)["pub"], "tcp://127.0.0.1:1003");

  auto broker = Log("zfactor-broker"), gateway = Log("zfactor-gateway"),
       workers = WaitForLog("zfactor-worker", 2);
  ASSERT_EQ(broker.size(), 1u);
  ASSERT_EQ(gateway.size(), 1u);
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_NE(
      broker[0].find("--front tcp://127.0.0.1:* --back tcp://127.0.0.1:* --pub tcp://127.0.0.1:*"),
      std::string::npos)
      << broker[0];
  // The gateway and workers get the broker's actual endpoints.
  EXPECT_NE(gateway[0].find("--listen tcp://127.0.0.1:* --broker tcp://127.0.0.1:1001 --results "
                            "tcp://127.0.0.1:1003 --cache /tmp/x.db"),
            std::string::npos)
      << gateway[0];
  EXPECT_NE(workers[0].find("--broker tcp://127.0.0.1:1002 --threads 3 --job-threads 2"),
            std::string::npos)
      << workers[0];

  s->Stop(milliseconds(20000));
  EXPECT_EQ(s->exit_status(), "exited with status 0");
  for (const auto& line : {broker[0], gateway[0], workers[0], workers[1]}) {
    EXPECT_FALSE(Alive(PidOf(line))) << line;
  }
}

TEST_F(StackLauncherTest, RestartsADeadChildOnTheSameEndpoints) {
  auto s = Launch({});
  ASSERT_TRUE(s->Start());
  ASSERT_TRUE(s->WaitReady(milliseconds(20000))) << s->exit_status();
  ASSERT_EQ(Log("zfactor-gateway").size(), 1u);
  ASSERT_EQ(kill(PidOf(Log("zfactor-gateway")[0]), SIGKILL), 0);
  auto gateway = WaitForLog("zfactor-gateway", 2);
  ASSERT_EQ(gateway.size(), 2u);
  // Restarted on the endpoint it had, not on a fresh OS-picked port.
  EXPECT_NE(gateway[1].find("--listen tcp://127.0.0.1:1000 "), std::string::npos) << gateway[1];
  s->Stop(milliseconds(20000));
  EXPECT_EQ(s->exit_status(), "exited with status 0");
  EXPECT_FALSE(Alive(PidOf(gateway[1])));
  EXPECT_FALSE(Alive(PidOf(Log("zfactor-broker")[0])));
}

TEST_F(StackLauncherTest, FailsCleanlyWhenAChildCannotStart) {
  std::ofstream(dir_.path() + "/zfactor-gateway.fail") << "";
  auto s = Launch({});
  ASSERT_TRUE(s->Start());
  EXPECT_FALSE(s->WaitReady(milliseconds(20000)));
  EXPECT_EQ(s->exit_status(), "exited with status 1");
  auto broker = Log("zfactor-broker");
  ASSERT_EQ(broker.size(), 1u);
  EXPECT_FALSE(Alive(PidOf(broker[0])));
  EXPECT_TRUE(Log("zfactor-worker").empty());
}

TEST_F(StackLauncherTest, MetricsPortsFollowTheBase) {
  auto s = Launch({"--metrics-base", "9300", "--workers", "2"});
  ASSERT_TRUE(s->Start());
  ASSERT_TRUE(s->WaitReady(milliseconds(20000))) << s->exit_status();
  auto values = stack::ReadReadyFile(ready());
  EXPECT_EQ((*values)["gateway.metrics"], "127.0.0.1:9300");
  EXPECT_EQ((*values)["broker.metrics"], "127.0.0.1:9301");
  EXPECT_EQ((*values)["worker-1.metrics"], "127.0.0.1:9302");
  EXPECT_EQ((*values)["worker-2.metrics"], "127.0.0.1:9303");
  s->Stop(milliseconds(20000));
  EXPECT_EQ(s->exit_status(), "exited with status 0");

  auto off = Launch({"--metrics-base", "-1"});
  ASSERT_TRUE(off->Start());
  ASSERT_TRUE(off->WaitReady(milliseconds(20000))) << off->exit_status();
  auto broker = Log("zfactor-broker");
  ASSERT_EQ(broker.size(), 2u);  // the first stack's, then this one's
  EXPECT_EQ(broker[1].find("--metrics"), std::string::npos) << broker[1];
  EXPECT_EQ(stack::ReadReadyFile(ready())->count("gateway.metrics"), 0u);
  off->Stop(milliseconds(20000));
}

TEST_F(StackLauncherTest, SigtermDuringStartupStopsEverythingAndExitsZero) {
  std::ofstream(dir_.path() + "/zfactor-gateway.hang") << "";  // never becomes ready
  auto s = Launch({});
  ASSERT_TRUE(s->Start());
  auto broker = WaitForLog("zfactor-broker", 1);
  auto gateway = WaitForLog("zfactor-gateway", 1);
  ASSERT_EQ(gateway.size(), 1u);
  s->Stop(milliseconds(20000));
  EXPECT_EQ(s->exit_status(), "exited with status 0");
  EXPECT_FALSE(Alive(PidOf(broker[0])));
  EXPECT_FALSE(Alive(PidOf(gateway[0])));
}

TEST_F(StackLauncherTest, HelpAndBadFlags) {
  std::string out;
  EXPECT_EQ(RunCommand(BinDir() + "/zfactor-stack --help", &out), 0);
  EXPECT_NE(out.find("--port-base"), std::string::npos);
  EXPECT_EQ(RunCommand(BinDir() + "/zfactor-stack --workers many 2>/dev/null", &out), 2);
  EXPECT_EQ(RunCommand(BinDir() + "/zfactor-stack --bogus 2>/dev/null", &out), 2);
  EXPECT_EQ(RunCommand(BinDir() + "/zfactor-stack --job-threads 0 2>/dev/null", &out), 2);
}

}  // namespace
}  // namespace zfactor::e2e
