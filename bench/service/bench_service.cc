// bench_service: the whole service under load, each scenario beside its
// ceiling measured in the same run: the same client, with the same requests,
// against a bare ZeroMQ ROUTER that echoes every message back (a separate
// process, like the gateway). Prints a markdown table; never pass/fail.
//
//   bench_service [--endpoint tcp://HOST:PORT] [--bin-dir DIR] [--seconds S]
//                 [--sockets N] [--inflight N] [--only name,name,...]
//   bench_service --local-cli [--bin-dir DIR] [--count N]
//
// Without --endpoint it starts `zfactor-stack --port-base 0` (journal on) from
// --bin-dir (default: beside this program) in a temporary folder, and stops it
// at the end. The client is one thread driving --sockets DEALER sockets with
// --inflight requests outstanding in all (default 4 and 64), built from
// docs/PROTOCOL.md: a msgpack map per request, replies matched by `id`.
//
// Scenarios (each runs --seconds against the echo, then against the service):
//   ping         `ping`
//   cache        `factor` of the same 1000 60-bit numbers, asked once beforehand
//   inline60     `factor` of fresh 60-bit numbers (answered inline)
//   isprime300   `isprime` of fresh 300-digit odd numbers (inline BPSW)
//   jobs72       `factor` with wait_ms of fresh numbers in [2^64, 2^72) that are
//                products of primes below 10^6: queued jobs whose math is trivial
//   semi25       `factor` with wait_ms of fresh 25-digit semiprimes (queued jobs)
//   ping+flood   `ping` one at a time while another client floods 1000-digit
//                inline `isprime`: the ping's latency is the figure
//   mixed        ping, cache, inline60 and isprime300 in turn
// The "math bound" column is this machine's cores divided by the CPU time the
// scenario's math takes in this process (compute::Compute, the workers' and
// the gateway's code), measured in the same run.
//
// --local-cli times `zfactor factor --local` on N (default 10000) 32x32-bit
// semiprimes read from stdin, the word-size engine on the same numbers in this
// process (what bench_small times), and GNU coreutils `factor`.
#include <gmpxx.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <msgpack.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "compute/compute.h"
#include "core/zmq_util.h"
#include "math/small/int128.h"
#include "math/small/small.h"
#include "stack/child.h"

namespace zfactor::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---------------------------------------------------------------- requests

// One request body as PROTOCOL.md section 2 describes it.
std::string Body(const char* op, uint64_t id, const std::string& n = "", uint32_t wait_ms = 0) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(&buf);
  pk.pack_map(2 + (n.empty() ? 0 : 1) + (wait_ms ? 1 : 0));
  pk.pack(std::string("op"));
  pk.pack(std::string(op));
  pk.pack(std::string("id"));
  pk.pack_uint64(id);
  if (!n.empty()) {
    pk.pack(std::string("n"));
    pk.pack(n);
  }
  if (wait_ms) {
    pk.pack(std::string("wait_ms"));
    pk.pack_uint32(wait_ms);
  }
  return std::string(buf.data(), buf.size());
}

// The `id` and `ok` of a reply (an echoed request has no `ok`: counted ok).
bool ParseReply(const zmq::message_t& body, uint64_t* id, bool* ok) {
  try {
    msgpack::object_handle oh = msgpack::unpack(body.data<char>(), body.size());
    const msgpack::object& o = oh.get();
    if (o.type != msgpack::type::MAP) return false;
    bool have_id = false;
    *ok = true;
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const msgpack::object_kv& kv = o.via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) continue;
      const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
      if (key == "id" && kv.val.type == msgpack::type::POSITIVE_INTEGER) {
        *id = kv.val.via.u64;
        have_id = true;
      } else if (key == "ok" && kv.val.type == msgpack::type::BOOLEAN) {
        *ok = kv.val.via.boolean;
      }
    }
    return have_id;
  } catch (const std::exception&) {
    return false;
  }
}

// Fresh numbers for the scenarios, from a seeded generator.
class Numbers {
 public:
  explicit Numbers(uint64_t seed) : rng_(seed) {
    gmp_randinit_mt(state_);
    gmp_randseed_ui(state_, static_cast<unsigned long>(seed));
    std::vector<bool> composite(1000000, false);
    for (uint32_t i = 2; i < composite.size(); ++i) {
      if (composite[i]) continue;
      if (i > 1000) primes_.push_back(i);
      for (uint64_t j = uint64_t{i} * i; j < composite.size(); j += i) composite[j] = true;
    }
  }
  ~Numbers() { gmp_randclear(state_); }

  std::string Bits60() { return std::to_string((rng_() >> 4) | (uint64_t{1} << 59)); }

  std::string OddDigits(int digits) {
    std::string s(static_cast<size_t>(digits), '0');
    for (char& c : s) c = static_cast<char>('0' + rng_() % 10);
    if (s[0] == '0') s[0] = '1';
    s.back() = "13579"[rng_() % 5];
    return s;
  }

  // A product of primes in (1000, 10^6) that lies in [2^64, 2^72).
  std::string SmoothAbove64() {
    using math::small::u128;
    while (true) {
      u128 product = 1;
      while (product < (u128{1} << 64)) product *= primes_[rng_() % primes_.size()];
      if (product < (u128{1} << 72)) return mpz_class(ToDecimal(product)).get_str();
    }
  }

  // p q with p, q primes of 12 and 13 digits: 25 digits.
  std::string Semiprime25() {
    mpz_class p, q;
    mpz_urandomb(p.get_mpz_t(), state_, 40);
    p += mpz_class("100000000000");
    mpz_nextprime(p.get_mpz_t(), p.get_mpz_t());
    mpz_urandomb(q.get_mpz_t(), state_, 43);
    q += mpz_class("1000000000000");
    mpz_nextprime(q.get_mpz_t(), q.get_mpz_t());
    mpz_class n = p * q;
    return n.get_str().size() == 25 ? n.get_str() : Semiprime25();
  }

 private:
  static std::string ToDecimal(math::small::u128 v) {
    std::string s;
    do {
      s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v);
    return std::string(s.rbegin(), s.rend());
  }

  std::mt19937_64 rng_;
  gmp_randstate_t state_;
  std::vector<uint32_t> primes_;
};

// ---------------------------------------------------------------- the client

struct Outcome {
  double seconds = 0;
  uint64_t ok = 0, errors = 0, lost = 0;
  std::vector<double> latency_ms;

  double Rate() const { return seconds > 0 ? static_cast<double>(ok + errors) / seconds : 0; }
  double Percentile(double q) {
    if (latency_ms.empty()) return 0;
    std::sort(latency_ms.begin(), latency_ms.end());
    const size_t i = std::min(latency_ms.size() - 1,
                              static_cast<size_t>(q * static_cast<double>(latency_ms.size())));
    return latency_ms[i];
  }
};

// Keeps `inflight` requests outstanding over `sockets` DEALER sockets for
// `seconds` (or until `max_requests` were sent), then collects the replies
// still due (up to 30 s). `next(id)` builds request `id`.
Outcome Drive(const std::string& endpoint, const std::function<std::string(uint64_t)>& next,
              int sockets, int inflight, double seconds, uint64_t max_requests = 0) {
  zmq::context_t context(1);
  std::vector<zmq::socket_t> socks;
  for (int i = 0; i < sockets; ++i) {
    socks.emplace_back(context, zmq::socket_type::dealer);
    socks.back().set(zmq::sockopt::linger, 0);
    socks.back().set(zmq::sockopt::sndhwm, 0);
    socks.back().set(zmq::sockopt::rcvhwm, 0);
    socks.back().connect(endpoint);
  }
  std::unordered_map<uint64_t, double> sent_at;
  uint64_t next_id = 1;
  Outcome out;
  const double start = Now();
  const double stop_sending = start + seconds;
  auto send_one = [&](zmq::socket_t& s) {
    if ((max_requests && next_id > max_requests) || Now() >= stop_sending) return;
    const uint64_t id = next_id++;
    const std::string body = next(id);
    sent_at[id] = Now();
    s.send(zmq::buffer(body), zmq::send_flags::none);
  };
  for (int i = 0; i < inflight; ++i) send_one(socks[static_cast<size_t>(i % sockets)]);
  std::vector<zmq::pollitem_t> items;
  for (auto& s : socks) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  double last_reply = Now();
  while (!sent_at.empty() && Now() - last_reply < 30) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    for (size_t i = 0; i < socks.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t msg;
      while (socks[i].recv(msg, zmq::recv_flags::dontwait)) {
        uint64_t id = 0;
        bool ok = false;
        if (!ParseReply(msg, &id, &ok)) continue;  // an event, or garbage
        auto it = sent_at.find(id);
        if (it == sent_at.end()) continue;
        const double now = Now();
        last_reply = now;
        out.latency_ms.push_back((now - it->second) * 1e3);
        sent_at.erase(it);
        ++(ok ? out.ok : out.errors);
        send_one(socks[i]);
      }
    }
  }
  out.seconds = last_reply - start;
  out.lost = sent_at.size();
  return out;
}

// ---------------------------------------------------------------- the echo

// A ROUTER that sends every message back, in a child process. Returns its pid.
pid_t StartEcho(std::string* endpoint) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    zmq::context_t context(1);
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::sndhwm, 0);
    router.set(zmq::sockopt::rcvhwm, 0);
    const std::string bound = core::Bind(router, "tcp://127.0.0.1:*").value();
    if (write(fds[1], bound.data(), bound.size()) < 0) _exit(1);
    close(fds[1]);
    std::vector<zmq::message_t> frames;
    while (core::RecvMultipart(router, &frames)) {
      for (size_t i = 0; i < frames.size(); ++i) {
        router.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore
                                                     : zmq::send_flags::none);
      }
    }
    _exit(0);
  }
  close(fds[1]);
  char buf[256];
  const ssize_t got = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  if (got <= 0) return -1;
  endpoint->assign(buf, static_cast<size_t>(got));
  return pid;
}

// ---------------------------------------------------------------- scenarios

struct Options {
  std::string endpoint;
  std::string bin_dir = stack::SelfDirectory();
  double seconds = 5;
  int sockets = 4;
  int inflight = 64;
  std::vector<std::string> only;
  bool local_cli = false;
  int count = 10000;
};

struct Scenario {
  std::string name;
  std::string what;
  std::function<std::string(uint64_t)> next;
  std::function<double()> math_bound;  // requests/s the machine's cores allow; empty: none
};

// Cores / CPU seconds per call of `work` over `calls` calls in this thread.
double MathBound(int calls, const std::function<void(int)>& work) {
  const double start = ThreadCpuSeconds();
  for (int i = 0; i < calls; ++i) work(i);
  const double per_call = (ThreadCpuSeconds() - start) / calls;
  return static_cast<double>(std::thread::hardware_concurrency()) / per_call;
}

void PrintRow(const std::string& name, const std::string& what, Outcome& service, Outcome& echo,
              double math_bound) {
  char bound[64] = "";
  if (math_bound > 0) {
    std::snprintf(bound, sizeof bound, "%.0f (%.2f)", math_bound, service.Rate() / math_bound);
  }
  std::printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %s | %llu/%llu |\n",
              name.c_str(), what.c_str(), service.Rate(), service.Percentile(0.5),
              service.Percentile(0.99), service.Percentile(0.999), echo.Rate(),
              echo.Rate() > 0 ? service.Rate() / echo.Rate() : 0, bound,
              static_cast<unsigned long long>(service.errors),
              static_cast<unsigned long long>(service.lost));
  std::fflush(stdout);
}

int RunService(const Options& o) {
  std::unique_ptr<stack::Child> stack_process;
  char dir_template[] = "/tmp/bench_service.XXXXXX";
  std::string endpoint = o.endpoint;
  if (endpoint.empty()) {
    const std::string dir = mkdtemp(dir_template);
    const std::string ready = dir + "/ready";
    stack_process = std::make_unique<stack::Child>(
        "zfactor-stack",
        std::vector<std::string>{o.bin_dir + "/zfactor-stack", "--bin-dir", o.bin_dir,
                                 "--port-base", "0", "--cache", dir + "/cache.db", "--journal",
                                 dir + "/journal.db", "--ready-file", ready},
        ready);
    if (!stack_process->Start() || !stack_process->WaitReady(std::chrono::seconds(60))) {
      std::fprintf(stderr, "bench_service: the stack did not start: %s\n",
                   stack_process->exit_status().c_str());
      return 1;
    }
    endpoint = (*stack::ReadReadyFile(ready))["listen"];
  }
  std::string echo_endpoint;
  const pid_t echo = StartEcho(&echo_endpoint);
  if (echo < 0) {
    std::fprintf(stderr, "bench_service: cannot start the echo\n");
    return 1;
  }

  Numbers numbers(20261205);
  std::vector<std::string> cached;
  for (int i = 0; i < 1000; ++i) cached.push_back(numbers.Bits60());
  std::vector<std::string> semis;
  for (int i = 0; i < 50; ++i) semis.push_back(numbers.Semiprime25());
  std::vector<std::string> big300;
  for (int i = 0; i < 200; ++i) big300.push_back(numbers.OddDigits(300));

  std::vector<Scenario> scenarios = {
      {"ping", "`ping`", [](uint64_t id) { return Body("ping", id); }, {}},
      {"cache", "`factor`, 1000 cached 60-bit numbers",
       [&](uint64_t id) { return Body("factor", id, cached[id % cached.size()]); }, {}},
      {"inline60", "`factor`, fresh 60-bit (inline)",
       [&](uint64_t id) { return Body("factor", id, numbers.Bits60()); },
       [&] {
         return MathBound(2000, [&](int) {
           (void)compute::Compute(proto::Kind::kFactor, numbers.Bits60());
         });
       }},
      {"isprime300", "`isprime`, fresh 300-digit (inline)",
       [&](uint64_t id) { return Body("isprime", id, numbers.OddDigits(300)); },
       [&] {
         return MathBound(static_cast<int>(big300.size()), [&](int i) {
           (void)compute::IsPrimeWithoutProof(big300[static_cast<size_t>(i)]);
         });
       }},
      {"jobs72", "`factor` wait_ms, fresh 2^64..2^72 smooth (queued)",
       [&](uint64_t id) { return Body("factor", id, numbers.SmoothAbove64(), 30000); },
       [&] {
         return MathBound(2000, [&](int) {
           (void)compute::Compute(proto::Kind::kFactor, numbers.SmoothAbove64());
         });
       }},
      {"semi25", "`factor` wait_ms, fresh 25-digit semiprimes (queued)",
       [&](uint64_t id) { return Body("factor", id, numbers.Semiprime25(), 30000); },
       [&] {
         return MathBound(static_cast<int>(semis.size()), [&](int i) {
           (void)compute::Compute(proto::Kind::kFactor, semis[static_cast<size_t>(i)]);
         });
       }},
      {"mixed", "ping, cache, inline60, isprime300 in turn",
       [&](uint64_t id) {
         switch (id % 4) {
           case 0: return Body("ping", id);
           case 1: return Body("factor", id, cached[id % cached.size()]);
           case 2: return Body("factor", id, numbers.Bits60());
           default: return Body("isprime", id, numbers.OddDigits(300));
         }
       },
       {}},
  };
  auto wanted = [&](const std::string& name) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
  };

  std::printf("bench_service: %d sockets, %d in flight, %.0f s per run, %u cores, load %s\n",
              o.sockets, o.inflight, o.seconds, std::thread::hardware_concurrency(), [] {
                std::ifstream in("/proc/loadavg");
                std::string a, b, c;
                in >> a >> b >> c;
                static std::string s;
                s = a + " " + b + " " + c;
                return s.c_str();
              }());
  std::printf("\n| scenario | requests | req/s | p50 ms | p99 ms | p99.9 ms | echo req/s | "
              "of echo | math bound req/s (of it) | errors/lost |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (Scenario& s : scenarios) {
    if (!wanted(s.name)) continue;
    if (s.name == "cache" || s.name == "mixed") {  // every cached number asked once first
      Drive(endpoint, [&](uint64_t id) { return Body("factor", id, cached[id - 1]); }, o.sockets,
            o.inflight, 60, cached.size());
    }
    Outcome echo_run = Drive(echo_endpoint, s.next, o.sockets, o.inflight, o.seconds);
    Outcome run = Drive(endpoint, s.next, o.sockets, o.inflight, o.seconds);
    const double bound = s.math_bound ? s.math_bound() : 0;
    PrintRow(s.name, s.what, run, echo_run, bound);
  }
  if (wanted("ping+flood")) {
    // The flood's client runs in a second thread; the pings go one at a time.
    std::atomic<bool> flooding{true};
    std::thread flood([&] {
      Numbers mine(7);
      while (flooding.load()) {
        Drive(endpoint, [&](uint64_t id) { return Body("isprime", id, mine.OddDigits(1000)); },
              1, o.inflight, 1);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto ping = [](uint64_t id) { return Body("ping", id); };
    Outcome echo_run = Drive(echo_endpoint, ping, 1, 1, o.seconds);
    Outcome run = Drive(endpoint, ping, 1, 1, o.seconds);
    flooding = false;
    flood.join();
    PrintRow("ping+flood", "`ping`, 1 in flight, during a 1000-digit `isprime` flood", run,
             echo_run, 0);
  }
  kill(echo, SIGKILL);
  waitpid(echo, nullptr, 0);
  if (stack_process) stack_process->Stop(std::chrono::seconds(10));
  return 0;
}

// ---------------------------------------------------------------- --local-cli

// Runs `command` with stdin from `input` and stdout to /dev/null; returns the
// wall seconds and sets *cpu to the child's user+system CPU seconds.
double TimeCommand(const std::string& command, const std::string& input, double* cpu) {
  const double start = Now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(input.c_str(), "r", stdin) || !freopen("/dev/null", "w", stdout)) _exit(127);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double wall = Now() - start;
  *cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_service: '%s' failed (status %d)\n", command.c_str(), status);
  }
  return wall;
}

int RunLocalCli(const Options& o) {
  std::mt19937_64 rng(32);
  auto prime32 = [&] {
    while (true) {
      const uint64_t p = (rng() >> 32) | 0x80000001u;
      if (math::small::IsPrime64(p)) return p;
    }
  };
  std::vector<uint64_t> semis;
  for (int i = 0; i < o.count; ++i) semis.push_back(prime32() * prime32());
  char path[] = "/tmp/bench_service_numbers.XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  {
    std::ofstream out(path);
    for (uint64_t n : semis) out << n << "\n";
  }

  double best_engine = 1e9, best_cli = 1e9, best_factor = 1e9;
  for (int round = 0; round < 3; ++round) {
    const double start = ThreadCpuSeconds();
    std::vector<uint64_t> out;
    for (uint64_t n : semis) {
      out.clear();
      math::small::Factor64(n, &out);
    }
    best_engine = std::min(best_engine, ThreadCpuSeconds() - start);
    double cpu = 0;
    TimeCommand(o.bin_dir + "/zfactor factor --local", path, &cpu);
    best_cli = std::min(best_cli, cpu);
    TimeCommand("factor", path, &cpu);
    best_factor = std::min(best_factor, cpu);
  }
  std::remove(path);
  const double per = 1e6 / o.count;
  std::printf("bench_service --local-cli: %d 32x32-bit semiprimes, CPU time, best of 3\n\n",
              o.count);
  std::printf("| program | µs per number | zfactor --local / it |\n|---|---|---|\n");
  std::printf("| `zfactor factor --local` (stdin) | %.1f | 1 |\n", best_cli * per);
  std::printf("| word-size engine in-process (what bench_small times) | %.1f | %.2f |\n",
              best_engine * per, best_cli / best_engine);
  std::printf("| GNU coreutils `factor` (stdin) | %.1f | %.3f |\n", best_factor * per,
              best_cli / best_factor);
  return 0;
}

}  // namespace
}  // namespace zfactor::bench

int main(int argc, char** argv) {
  using namespace zfactor::bench;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_service: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--endpoint") {
      o.endpoint = value();
    } else if (a == "--bin-dir") {
      o.bin_dir = value();
    } else if (a == "--seconds") {
      o.seconds = std::stod(value());
    } else if (a == "--sockets") {
      o.sockets = std::max(1, std::stoi(value()));
    } else if (a == "--inflight") {
      o.inflight = std::max(1, std::stoi(value()));
    } else if (a == "--only") {
      std::istringstream in(value());
      for (std::string name; std::getline(in, name, ',');) o.only.push_back(name);
    } else if (a == "--local-cli") {
      o.local_cli = true;
    } else if (a == "--count") {
      o.count = std::max(1, std::stoi(value()));
    } else {
      std::fprintf(stderr,
                   "usage: bench_service [--endpoint E] [--bin-dir D] [--seconds S] [--sockets N]"
                   " [--inflight N] [--only a,b]\n       bench_service --local-cli [--bin-dir D]"
                   " [--count N]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  return o.local_cli ? RunLocalCli(o) : RunService(o);
}
