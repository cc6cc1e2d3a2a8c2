// Workers "may run on any machine": a worker in its own network namespace
// (a second host, as far as the network is concerned) reaches the broker
// over a veth pair. The test creates the namespace, the pair and the
// addresses 10.213.X.Y/30 on the pair only, and removes them at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "client/client.h"
#include "tests/support/cluster.h"

namespace zfactor::faults {

using namespace support;  // the shared harness: Cluster, ScratchDir, ...
namespace {

using std::chrono::milliseconds;

// Runs a command through the shell; true when it exits 0.
bool Shell(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return status == 0;
}

std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[256];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A namespace and a veth pair named after this process; deleted (with the
// addresses on them) on destruction, whatever happened in between.
class TestHost {
 public:
  TestHost() {
    const int pid = static_cast<int>(getpid());
    ns_ = "zf-" + std::to_string(pid) + "-a";
    host_if_ = "zfh" + std::to_string(pid % 1000000);
    ns_if_ = "zfn" + std::to_string(pid % 1000000);
    const int base = (pid % 64) * 4;
    const std::string net = "10.213." + std::to_string((pid / 64) % 256) + ".";
    host_addr_ = net + std::to_string(base + 1);
    ns_addr_ = net + std::to_string(base + 2);
  }
  ~TestHost() {
    Shell("ip link del " + host_if_);  // deletes the peer too
    Shell("ip netns del " + ns_);
  }
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  // Creates everything; the failing command on failure.
  std::string Create() {
    const std::string in_ns = "ip netns exec " + ns_ + " ";
    for (const std::string& c : {
             "ip netns add " + ns_,
             "ip link add " + host_if_ + " type veth peer name " + ns_if_,
             "ip link set " + ns_if_ + " netns " + ns_,
             "ip addr add " + host_addr_ + "/30 dev " + host_if_,
             "ip link set " + host_if_ + " up",
             in_ns + "ip addr add " + ns_addr_ + "/30 dev " + ns_if_,
             in_ns + "ip link set " + ns_if_ + " up",
             in_ns + "ip link set lo up",
         }) {
      if (!Shell(c)) return c;
    }
    return "";
  }

  const std::string& ns() const { return ns_; }
  const std::string& host_addr() const { return host_addr_; }
  const std::string& ns_addr() const { return ns_addr_; }

 private:
  std::string ns_, host_if_, ns_if_, host_addr_, ns_addr_;
};

TEST(MultiHostTest, WorkerInAnotherNetworkNamespace) {
  const std::string missing = MissingExecutable();
  ASSERT_TRUE(missing.empty()) << "not built: " << missing;  // CMake builds them first
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace";
  if (!Shell("ip netns list")) GTEST_SKIP() << "`ip netns` is not available";

  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  TestHost host;  // destroyed after the cluster: processes die before their namespace
  const std::string failed = host.Create();
  ASSERT_EQ(failed, "") << "could not set up the test host";
  {
    Cluster cluster(scratch.path());
    cluster.SetBrokerBack("tcp://" + host.host_addr() + ":*");  // workers' side on the veth only
    ASSERT_TRUE(cluster.StartBroker());
    ASSERT_EQ(cluster.back().rfind("tcp://" + host.host_addr() + ":", 0), 0u) << cluster.back();
    ASSERT_TRUE(cluster.StartGateway());
    const int w = cluster.StartWorker(1, {"/usr/sbin/ip", "netns", "exec", host.ns()});
    ASSERT_GE(w, 0);
    ASSERT_TRUE(cluster.WaitForWorkers(1, kReadyTimeout))
        << "the worker in " << host.ns() << " never registered";

    client::Client c(cluster.ClientOptions());
    const std::string n = RandomSemiprime(4242, 40, 44);  // above 2^64: a queued job
    auto queued = c.Factor(n);
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    ASSERT_EQ(queued.value().source, proto::Source::kJob);
    auto done = c.WaitFinal(queued.value(), milliseconds(180000), milliseconds(10000));
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(VerifyFactorAnswer(done.value()), "") << n;

    // The only worker runs inside the namespace and reached the broker over
    // the veth: its TCP connection goes from ns_addr to host_addr.
    const std::string conns =
        Output("ip netns exec " + host.ns() + " ss -Htn state established");
    EXPECT_NE(conns.find(host.ns_addr()), std::string::npos) << conns;
    EXPECT_NE(conns.find(host.host_addr()), std::string::npos) << conns;
    std::printf("[faults] multi-host: worker in netns %s (%s) -> broker %s, factored %s\n",
                host.ns().c_str(), host.ns_addr().c_str(), cluster.back().c_str(), n.c_str());
  }
}

}  // namespace
}  // namespace zfactor::faults
