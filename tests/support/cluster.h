// Test harness for the end-to-end and fault tests: the real zfactor-broker,
// -gateway and -worker processes on loopback (OS-picked ports read back from
// --ready-file), each owned by an RAII guard that kills its whole process
// group when the test ends, passes or fails. Any process can be SIGKILLed
// and restarted on the endpoints (and files) it had before.
//
//   Cluster c(scratch.path());
//   ASSERT_TRUE(c.StartBroker({"--journal", c.Path("journal.db")}));
//   ASSERT_TRUE(c.StartGateway());
//   int w = c.StartWorker();
//   c.KillWorker(w);  // SIGKILL, reaped
#ifndef ZFACTOR_TESTS_SUPPORT_CLUSTER_H_
#define ZFACTOR_TESTS_SUPPORT_CLUSTER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "proto/messages.h"
#include "stack/child.h"

namespace zfactor::support {

// The build's bin/ directory.
std::string BinDir();
std::string SourceDir();
// Empty when every executable the tests run (zfactor-broker, -gateway,
// -worker, -stack and zfactor) exists; otherwise the first missing path.
std::string MissingExecutable();

// A fresh directory under /tmp, removed with its files on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One process this test started. Destruction SIGKILLs its process group
// (the child is a group leader, see stack::Child) and reaps it.
class Proc {
 public:
  Proc(std::string name, std::vector<std::string> argv, std::string ready_file);
  ~Proc() { Kill(); }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  // Starts and, with a ready-file, waits for it. False (with the reason in
  // status()) when the process did not get ready within `timeout`.
  bool Start(std::chrono::milliseconds timeout);
  // SIGKILL to the process group, then reap. Idempotent.
  void Kill();
  // SIGTERM, then SIGKILL after `grace`.
  void Stop(std::chrono::milliseconds grace);
  // True while the process has not exited (reaps it if it has).
  bool Alive();
  pid_t pid() const { return child_.pid(); }
  const std::string& status() const { return child_.exit_status(); }
  const std::string& ready_file() const { return child_.ready_file(); }

 private:
  stack::Child child_;
};

constexpr int kHeartbeatMs = 200;
constexpr std::chrono::milliseconds kReadyTimeout{30000};

// A broker, a gateway and any number of workers.
class Cluster {
 public:
  explicit Cluster(std::string scratch) : scratch_(std::move(scratch)) {}
  ~Cluster();  // workers, then gateway, then broker: all SIGKILLed

  std::string Path(const std::string& file) const { return scratch_ + "/" + file; }

  // Starts the broker on tcp://127.0.0.1:* (or on the endpoints it had, after
  // a KillBroker), with --heartbeat-ms kHeartbeatMs and `extra` flags.
  bool StartBroker(const std::vector<std::string>& extra = {});
  // Restarts the broker with the same flags on the same endpoints.
  bool RestartBroker();
  void KillBroker();
  // Overrides where the broker binds (e.g. the back endpoint on a veth address).
  void SetBrokerBack(const std::string& endpoint) { back_bind_ = endpoint; }

  // Starts the gateway on the broker's endpoints with the cache file
  // Path("cache.db"), --heartbeat-ms kHeartbeatMs and `extra` flags.
  bool StartGateway(const std::vector<std::string>& extra = {});
  // Restarts it with the same flags and cache file (new client port).
  bool RestartGateway();
  void StopGateway();  // SIGTERM (clean)
  void KillGateway();  // SIGKILL

  // Starts a worker with `threads` compute threads. `prefix` is prepended to
  // its argv (e.g. {"/usr/sbin/ip", "netns", "exec", ns}); `back` overrides
  // the broker endpoint it connects to. Returns its index, or -1.
  int StartWorker(int threads = 1, const std::vector<std::string>& prefix = {},
                  const std::string& back = "");
  void KillWorker(int index);  // SIGKILL
  // Starts a fresh process in slot `index` with the arguments it had.
  bool RestartWorker(int index);
  bool WorkerAlive(int index);
  int worker_count() const { return static_cast<int>(workers_.size()); }

  // Polls the gateway's stats until `workers` >= n or `timeout` passes.
  bool WaitForWorkers(int n, std::chrono::milliseconds timeout);
  pid_t gateway_pid() const { return gateway_ ? gateway_->pid() : -1; }
  pid_t broker_pid() const { return broker_ ? broker_->pid() : -1; }
  bool GatewayAlive();
  bool BrokerAlive();

  client::ClientOptions ClientOptions() const;
  const std::string& listen() const { return listen_; }
  const std::string& front() const { return front_; }
  const std::string& back() const { return back_; }
  const std::string& pub() const { return pub_; }

 private:
  struct WorkerSlot {
    std::vector<std::string> argv;
    std::unique_ptr<Proc> proc;
  };

  std::string scratch_;
  std::string back_bind_ = "tcp://127.0.0.1:*";
  std::vector<std::string> broker_extra_, gateway_extra_;
  std::string front_, back_, pub_, listen_;
  std::unique_ptr<Proc> broker_, gateway_;
  std::vector<WorkerSlot> workers_;
  int starts_ = 0;
};

// Independent check of a factor answer with GMP: state done, status FF, the
// product of p^e equals n and every factor is a (probable) prime. Empty when
// right, else what is wrong.
std::string VerifyFactorAnswer(const proto::Answer& answer);

// p * q with p, q the next primes after random numbers of `bits_p` and
// `bits_q` bits (top bit set), drawn from a generator seeded with `seed`.
std::string RandomSemiprime(unsigned long seed, int bits_p, int bits_q);

// Runs a shell command; returns its exit status and stdout.
int RunCommand(const std::string& command, std::string* output);

}  // namespace zfactor::support

#endif  // ZFACTOR_TESTS_SUPPORT_CLUSTER_H_
