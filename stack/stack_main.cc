// zfactor-stack: runs a whole zfactor service on one host (broker, gateway,
// N workers) as supervised child processes. See Usage() for the flags.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
    "usage: zfactor-stack [options]\n"
    "\n"
    "Runs a zfactor service on this host: zfactor-broker, then zfactor-gateway,\n"
    "then the workers, each started once the previous one has written its\n"
    "ready-file. Children that die are restarted with backoff (0.25 s doubling to\n"
    "10 s) on the same endpoints. SIGINT/SIGTERM stop the workers, the gateway and\n"
    "the broker in that order (SIGTERM, then SIGKILL after --grace-ms) and exit 0,\n"
    "also when the signal arrives during start-up. Exit status 1: a child did not\n"
    "come up (everything started is stopped); 2: bad options.\n"
    "\n"
    "options:\n"
    "  --listen EP           gateway endpoint for clients (default tcp://127.0.0.1:PORT_BASE)\n"
    "  --port-base P         broker front/back/pub on loopback ports P+1, P+2, P+3\n"
    "                        (default 5555); 0 lets the OS pick every port,\n"
    "                        including the gateway's unless --listen is given\n"
    "  --workers N           worker processes (default 1)\n"
    "  --threads N           compute threads per worker (default: all cores)\n"
    "  --cache PATH          gateway result cache (default: the gateway's own default)\n"
    "  --metrics-base P      Prometheus /metrics on 127.0.0.1: gateway P, broker P+1,\n"
    "                        worker i P+1+i (default 9100; with --port-base 0 every\n"
    "                        process gets an OS-picked port); -1 turns metrics off\n"
    "  --ready-file PATH     once everything is up, write listen=, front=, back=, pub=,\n"
    "                        pid= and <child>.metrics= lines with the actual\n"
    "                        endpoints (atomically)\n"
    "  --bin-dir DIR         where zfactor-broker/-gateway/-worker are\n"
    "                        (default: this executable's directory)\n"
    "  --grace-ms N          how long a child may take to stop after SIGTERM (default 5000)\n"
    "  --ready-timeout-ms N  how long a child may take to write its ready-file (default 20000)\n"
    "  --help                this text\n";

void Log(const std::string& message) {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s zfactor-stack[%d]: %s\n", stamp, static_cast<int>(getpid()),
               message.c_str());
}

struct Options {
  std::string listen;
  int port_base = 5555;
  int workers = 1;
  int threads = 0;
  std::string cache;
  std::string ready_file;
  std::string bin_dir;
  milliseconds grace{5000};
  milliseconds ready_timeout{20000};
  int metrics_base = kMetricsAuto;
};

std::optional<long> ParseInt(const std::string& s, long lo, long hi) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return std::nullopt;
  return v;
}

// Returns nullopt after printing an error (or the usage, setting *help).
std::optional<Options> ParseOptions(int argc, char** argv, bool* help) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      *help = true;
      return std::nullopt;
    }
    std::string value;
    const std::size_t eq = flag.find('=');
    std::string name = flag;
    if (eq != std::string::npos) {
      name = flag.substr(0, eq);
      value = flag.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "zfactor-stack: %s needs a value\n", flag.c_str());
      return std::nullopt;
    }
    auto int_flag = [&](long lo, long hi) -> std::optional<long> {
      std::optional<long> v = ParseInt(value, lo, hi);
      if (!v)
        std::fprintf(stderr, "zfactor-stack: bad value for %s: '%s'\n", name.c_str(),
                     value.c_str());
      return v;
    };
    if (name == "--listen") {
      o.listen = value;
    } else if (name == "--port-base") {
      auto v = int_flag(0, 65532);
      if (!v) return std::nullopt;
      o.port_base = static_cast<int>(*v);
    } else if (name == "--workers") {
      auto v = int_flag(0, 256);
      if (!v) return std::nullopt;
      o.workers = static_cast<int>(*v);
    } else if (name == "--threads") {
      auto v = int_flag(1, 1024);
      if (!v) return std::nullopt;
      o.threads = static_cast<int>(*v);
    } else if (name == "--cache") {
      o.cache = value;
    } else if (name == "--ready-file") {
      o.ready_file = value;
    } else if (name == "--bin-dir") {
      o.bin_dir = value;
    } else if (name == "--metrics-base") {
      auto v = int_flag(-1, 65000);
      if (!v) return std::nullopt;
      o.metrics_base = static_cast<int>(*v);
    } else if (name == "--grace-ms") {
      auto v = int_flag(0, 600000);
      if (!v) return std::nullopt;
      o.grace = milliseconds(*v);
    } else if (name == "--ready-timeout-ms") {
      auto v = int_flag(1, 600000);
      if (!v) return std::nullopt;
      o.ready_timeout = milliseconds(*v);
    } else {
      std::fprintf(stderr, "zfactor-stack: unknown option %s (see --help)\n", name.c_str());
      return std::nullopt;
    }
  }
  if (o.threads == 0)
    o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.bin_dir.empty()) o.bin_dir = SelfDirectory();
  if (o.metrics_base == kMetricsAuto) o.metrics_base = o.port_base == 0 ? 0 : kDefaultMetricsBase;
  return o;
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
      Log("cannot create a scratch directory in /tmp");
      return false;
    }
    run_dir_ = dir;

    const std::string bin = options_.bin_dir + "/";
    Child& broker =
        Add("broker", {bin + "zfactor-broker", "--front", Endpoint(options_.port_base, 1), "--back",
                       Endpoint(options_.port_base, 2), "--pub", Endpoint(options_.port_base, 3)});
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
                           std::to_string(options_.threads)});
      if (!StartAndWait(worker)) return false;
    }
    Log("ready: clients connect to " + Arg(gateway, "listen"));
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
    if (!WriteReadyFile(options_.ready_file, ready)) {
      Log("cannot write " + options_.ready_file);
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
        Log(std::string("received ") + strsignal(sig) + ", stopping");
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
          Log(c.name() + " " + c.exit_status() + "; restarting in " +
              std::to_string(h.backoff.count()) + " ms");
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
      c.Stop(options_.grace);
      Log("stopped " + c.name() + " (pid " + std::to_string(pid) + "): " + c.exit_status());
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
      Log("cannot start " + c.name() + ": " + c.exit_status());
      return false;
    }
    if (!c.WaitReady(options_.ready_timeout, StopPending)) {
      if (StopPending()) {
        stopped_early_ = true;
        Log("stop requested while starting " + c.name());
      } else {
        Log(c.name() + " did not become ready" +
            (c.running() ? " in time" : ": " + c.exit_status()));
      }
      c.Stop(options_.grace);
      return false;
    }
    Log("started " + c.name() + " (pid " + std::to_string(c.pid()) + ")");
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
  bool help = false;
  std::optional<Options> options = ParseOptions(argc, argv, &help);
  if (!options) {
    std::fputs(kUsage, help ? stdout : stderr);
    return help ? 0 : 2;
  }
  // Signals are taken synchronously with sigtimedwait; children unblock them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  Stack stack(std::move(*options));
  if (!stack.Start()) {
    stack.StopAll();
    return stack.stopped_early() ? 0 : 1;
  }
  stack.Supervise(signals);
  stack.StopAll();
  Log("stopped");
  return 0;
}

}  // namespace
}  // namespace zfactor::stack

int main(int argc, char** argv) { return zfactor::stack::Main(argc, argv); }
