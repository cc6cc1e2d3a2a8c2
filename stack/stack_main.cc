// zfactor-stack: runs a whole zfactor service on one host (broker, gateway,
// N workers) as supervised child processes. `--help` lists the flags.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/flags.h"
#include "core/log.h"
#include "core/zmq_util.h"
#include "proto/error.h"
#include "stack/child.h"

namespace zfactor::stack {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kFirstBackoff{250};
constexpr milliseconds kMaxBackoff{10000};
// --metrics-base default: 9100 with fixed ports, OS-picked with --port-base 0.
constexpr int kMetricsAuto = -2;
constexpr int kDefaultMetricsBase = 9100;
// A child that stayed up this long before dying restarts after kFirstBackoff again.
constexpr milliseconds kStableUptime{30000};

const char kUsage[] =
    "zfactor-stack [options]\n"
    "\n"
    "Runs a zfactor service on this host: zfactor-broker, then zfactor-gateway,\n"
    "then the workers, each started once the previous one has written its\n"
    "ready-file. Children that die are restarted with backoff (0.25 s doubling to\n"
    "10 s) on the same endpoints. SIGINT/SIGTERM stop the workers, the gateway and\n"
    "the broker in that order (SIGTERM, then SIGKILL after --grace-ms) and exit 0,\n"
    "also when the signal arrives during start-up. Exit status 1: a child did not\n"
    "come up (everything started is stopped); 2: bad options.";

struct Options {
  std::string listen;
  int port_base = 5555;
  int workers = 1;
  int threads = 0;  // 0: the worker uses all cores
  int job_threads = 1;
  std::string cache;
  std::string journal = "./zfactor-journal.db";
  std::string ready_file;
  std::string bin_dir;
  int grace_ms = 5000;
  int ready_timeout_ms = 20000;
  int metrics_base = kMetricsAuto;
};

// Parses argv into *o with core::Flags. Returns the process exit status when
// the launcher should not run (0 after --help, 2 after printing an error), or
// nullopt to go on.
std::optional<int> ParseOptions(int argc, char** argv, Options* o) {
  core::Flags flags(kUsage);
  flags.Define("listen", &o->listen,
               "gateway endpoint for clients (default tcp://127.0.0.1:PORT_BASE)");
  flags.Define("port-base", &o->port_base,
               "broker front/back/pub on loopback ports P+1, P+2, P+3; 0 lets the OS pick "
               "every port, including the gateway's unless --listen is given");
  flags.Define("workers", &o->workers, "worker processes");
  flags.Define("threads", &o->threads, "compute threads per worker (0: all cores)");
  flags.Define("job-threads", &o->job_threads,
               "threads one job's ECM curves and SIQS sieving may use");
  flags.Define("cache", &o->cache, "gateway result cache (default: the gateway's own default)");
  flags.Define("journal", &o->journal,
               "broker journal: accepted jobs survive a broker crash (empty: none)");
  flags.Define("metrics-base", &o->metrics_base,
               "Prometheus /metrics on 127.0.0.1: gateway P, broker P+1, worker i P+1+i; "
               "-1 turns metrics off; -2 means 9100, or an OS-picked port for every "
               "process with --port-base 0");
  flags.Define("ready-file", &o->ready_file,
               "once everything is up, write listen=, front=, back=, pub=, pid= and "
               "<child>.metrics= lines with the actual endpoints (atomically)");
  flags.Define("bin-dir", &o->bin_dir,
               "where zfactor-broker/-gateway/-worker are (default: this executable's "
               "directory)");
  flags.Define("grace-ms", &o->grace_ms, "how long a child may take to stop after SIGTERM");
  flags.Define("ready-timeout-ms", &o->ready_timeout_ms,
               "how long a child may take to write its ready-file");

  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "zfactor-stack: %s\n%s", message.c_str(), flags.Help().c_str());
    return 2;
  };
  const proto::Status parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) return fail(parsed.error().message);
  if (flags.help_requested()) return 0;
  if (!flags.positional().empty())
    return fail("unexpected argument '" + flags.positional().front() + "' (see --help)");

  struct Range {
    const char* name;
    int value;
    int lo;
    int hi;
  };
  const Range ranges[] = {{"port-base", o->port_base, 0, 65532},
                          {"workers", o->workers, 0, 256},
                          {"threads", o->threads, 0, 1024},
                          {"job-threads", o->job_threads, 1, 256},
                          {"metrics-base", o->metrics_base, kMetricsAuto, 65000},
                          {"grace-ms", o->grace_ms, 0, 600000},
                          {"ready-timeout-ms", o->ready_timeout_ms, 1, 600000}};
  for (const Range& r : ranges) {
    if (r.value < r.lo || r.value > r.hi) {
      return fail("--" + std::string(r.name) + " must be in [" + std::to_string(r.lo) + ", " +
                  std::to_string(r.hi) + "], got " + std::to_string(r.value));
    }
  }
  if (o->bin_dir.empty()) o->bin_dir = SelfDirectory();
  if (o->metrics_base == kMetricsAuto)
    o->metrics_base = o->port_base == 0 ? 0 : kDefaultMetricsBase;
  return std::nullopt;
}

std::string Endpoint(int port_base, int offset) {
  if (port_base == 0) return "tcp://127.0.0.1:*";
  return "tcp://127.0.0.1:" + std::to_string(port_base + offset);
}

// The launcher: owns the children and a scratch directory for their ready-files.
class Stack {
 public:
  explicit Stack(Options options) : options_(std::move(options)) {}
  ~Stack() {
    StopAll();
    if (!run_dir_.empty()) {
      for (const auto& c : children_) std::remove(c->ready_file().c_str());
      rmdir(run_dir_.c_str());
    }
  }

  // Starts broker, gateway and workers in order. False (after stopping what
  // started) when one fails to come up, or when a stop signal arrives first
  // (then stopped_early() is true).
  bool Start() {
    char dir[] = "/tmp/zfactor-stack.XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      ZF_LOG(kError) << "cannot create a scratch directory in /tmp";
      return false;
    }
    run_dir_ = dir;

    const std::string bin = options_.bin_dir + "/";
    std::vector<std::string> broker_argv = {
        bin + "zfactor-broker", "--front", Endpoint(options_.port_base, 1), "--back",
        Endpoint(options_.port_base, 2), "--pub", Endpoint(options_.port_base, 3)};
    if (!options_.journal.empty()) {
      broker_argv.push_back("--journal");
      broker_argv.push_back(options_.journal);
    }
    Child& broker = Add("broker", broker_argv);
    if (!StartAndWait(broker, {"front", "back", "pub"})) return false;

    const std::string listen =
        !options_.listen.empty() ? options_.listen : Endpoint(options_.port_base, 0);
    std::vector<std::string> gateway_argv = {
        bin + "zfactor-gateway", "--listen", listen, "--broker", Arg(broker, "front"), "--results",
        Arg(broker, "pub")};
    if (!options_.cache.empty()) {
      gateway_argv.push_back("--cache");
      gateway_argv.push_back(options_.cache);
    }
    Child& gateway = Add("gateway", gateway_argv);
    if (!StartAndWait(gateway, {"listen"})) return false;

    for (int i = 0; i < options_.workers; ++i) {
      Child& worker = Add("worker-" + std::to_string(i + 1),
                          {bin + "zfactor-worker", "--broker", Arg(broker, "back"), "--threads",
                           std::to_string(options_.threads), "--job-threads",
                           std::to_string(options_.job_threads)});
      if (!StartAndWait(worker)) return false;
    }
    ZF_LOG(kInfo) << "ready: clients connect to " << Arg(gateway, "listen");
    if (options_.ready_file.empty()) return true;
    std::map<std::string, std::string> ready = {{"listen", Arg(gateway, "listen")},
                                                {"front", Arg(broker, "front")},
                                                {"back", Arg(broker, "back")},
                                                {"pub", Arg(broker, "pub")},
                                                {"pid", std::to_string(getpid())}};
    for (const auto& c : children_) {
      const std::string metrics = Arg(*c, "metrics");
      if (!metrics.empty()) ready[c->name() + ".metrics"] = metrics;
    }
    // In key order, as the map holds them.
    const std::vector<std::pair<std::string, std::string>> entries(ready.begin(), ready.end());
    const proto::Status written = core::WriteReadyFile(options_.ready_file, entries);
    if (!written.ok()) {
      ZF_LOG(kError) << written.error().message;
      return false;
    }
    return true;
  }

  bool stopped_early() const { return stopped_early_; }

  // Supervises until SIGINT/SIGTERM (which must be blocked in this thread).
  void Supervise(const sigset_t& signals) {
    const timespec tick{0, 200 * 1000 * 1000};
    while (true) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        ZF_LOG(kInfo) << "received " << strsignal(sig) << ", stopping";
        return;
      }
      const auto now = Clock::now();
      for (std::size_t i = 0; i < children_.size(); ++i) {
        Child& c = *children_[i];
        Health& h = health_[i];
        if (c.running()) {
          if (!c.Reap()) continue;
          if (now - h.started >= kStableUptime) h.backoff = kFirstBackoff;
          h.restart_at = now + h.backoff;
          ZF_LOG(kWarning) << c.name() << " " << c.exit_status() << "; restarting in "
                           << h.backoff.count() << " ms";
          h.backoff = std::min(h.backoff * 2, kMaxBackoff);
        } else if (now >= h.restart_at) {
          h.started = now;
          const bool ok = StartAndWait(c);  // flags were pinned at the first start
          if (!ok) {
            h.restart_at = Clock::now() + h.backoff;
            h.backoff = std::min(h.backoff * 2, kMaxBackoff);
          }
        }
      }
    }
  }

  // Workers first, then the gateway, then the broker.
  void StopAll() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      Child& c = **it;
      if (!c.running()) continue;
      const pid_t pid = c.pid();
      c.Stop(milliseconds(options_.grace_ms));
      ZF_LOG(kInfo) << "stopped " << c.name() << " (pid " << pid << "): " << c.exit_status();
    }
  }

 private:
  struct Health {
    Clock::time_point started = Clock::now();
    Clock::time_point restart_at;
    milliseconds backoff = kFirstBackoff;
  };

  // Adds a child that writes <run_dir>/<name>.ready once it is up, and serves
  // metrics when enabled: gateway on the base port, broker base+1, worker i base+1+i.
  Child& Add(const std::string& name, std::vector<std::string> argv) {
    const int index = static_cast<int>(children_.size());  // broker 0, gateway 1, workers 2...
    if (options_.metrics_base >= 0) {
      const int offset = index == 0 ? 1 : index == 1 ? 0 : index;
      const int port = options_.metrics_base == 0 ? 0 : options_.metrics_base + offset;
      argv.push_back("--metrics");
      argv.push_back("127.0.0.1:" + std::to_string(port));
    }
    const std::string ready = run_dir_ + "/" + name + ".ready";
    argv.push_back("--ready-file");
    argv.push_back(ready);
    children_.push_back(std::make_unique<Child>(name, std::move(argv), ready));
    health_.emplace_back();
    return *children_.back();
  }

  // Starts `c` and waits for its ready-file. The values it reports for the
  // `pinned` flags (and for --metrics) replace what it was given, so a restart
  // binds the same ports even when the OS picked them.
  bool StartAndWait(Child& c, const std::vector<std::string>& pinned = {}) {
    if (!c.Start()) {
      ZF_LOG(kError) << "cannot start " << c.name() << ": " << c.exit_status();
      return false;
    }
    if (!c.WaitReady(milliseconds(options_.ready_timeout_ms), StopPending)) {
      if (StopPending()) {
        stopped_early_ = true;
        ZF_LOG(kInfo) << "stop requested while starting " << c.name();
      } else {
        ZF_LOG(kError) << c.name() << " did not become ready"
                       << (c.running() ? " in time" : ": " + c.exit_status());
      }
      c.Stop(milliseconds(options_.grace_ms));
      return false;
    }
    ZF_LOG(kInfo) << "started " << c.name() << " (pid " << c.pid() << ")";
    const auto values = ReadReadyFile(c.ready_file());
    std::vector<std::string> keys = pinned;
    keys.push_back("metrics");
    for (const std::string& key : keys) {
      auto it = values->find(key);
      if (it != values->end() && !Arg(c, key).empty()) SetArg(c, key, it->second);
    }
    return true;
  }

  // The value after --<flag> in the child's command line ("" when absent).
  static std::string Arg(Child& c, const std::string& flag) {
    const auto& argv = c.argv();
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--" + flag) return argv[i + 1];
    }
    return "";
  }
  static void SetArg(Child& c, const std::string& flag, const std::string& value) {
    auto& argv = c.argv();
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--" + flag) argv[i + 1] = value;
    }
  }

  // True when SIGINT or SIGTERM is pending (they stay blocked; Supervise takes them).
  static bool StopPending() {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
  }

  Options options_;
  std::string run_dir_;
  bool stopped_early_ = false;
  std::vector<std::unique_ptr<Child>> children_;
  std::vector<Health> health_;
};

int Main(int argc, char** argv) {
  core::InitLogging("stack");
  Options options;
  if (const std::optional<int> status = ParseOptions(argc, argv, &options)) return *status;
  // Signals are taken synchronously with sigtimedwait; children unblock them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  Stack stack(std::move(options));
  if (!stack.Start()) {
    stack.StopAll();
    return stack.stopped_early() ? 0 : 1;
  }
  stack.Supervise(signals);
  stack.StopAll();
  ZF_LOG(kInfo) << "stopped";
  return 0;
}

}  // namespace
}  // namespace zfactor::stack

int main(int argc, char** argv) { return zfactor::stack::Main(argc, argv); }
