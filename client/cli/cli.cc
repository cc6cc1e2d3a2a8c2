#include "client/cli/cli.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/cli/local.h"
#include "client/client.h"
#include "client/expr.h"
#include "client/format.h"
#include "client/verify.h"
#include "core/flags.h"

namespace zfactor::client {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatchSize = 100;    // numbers per request (max_batch is 1000)
constexpr milliseconds kWaitChunk{60000};  // longest single wait_ms / wait request
constexpr milliseconds kMinBusyBackoff{100};
constexpr milliseconds kProgressEvery{10000};  // --verbose progress lines

const char kGeneralHelp[] =
    "usage: zfactor [options] COMMAND [options] [ARGS]\n"
    "\n"
    "Integer factorization and primality with a zfactor service (or --local).\n"
    "\n"
    "commands:\n"
    "  factor [N...]     prime factors of each N, in GNU coreutils `factor` format\n"
    "  isprime [N...]    N: prime | probable prime | composite\n"
    "  submit N...       queue jobs, print their ids (or the answer when immediate)\n"
    "  get JOB           a job's current state (and progress) or result, without waiting\n"
    "  wait JOB          wait (up to --timeout-ms) for a job to end\n"
    "  cancel JOB        stop a queued or running job\n"
    "  stats             service counters\n"
    "  ping              check that the gateway answers\n"
    "\n"
    "N may be an expression: 2^128+1, 10^50-3, (2^61-1)*(2^89-1).\n"
    "`zfactor COMMAND --help` describes each command and its options.\n"
    "The endpoint defaults to $ZFACTOR_ENDPOINT, else tcp://127.0.0.1:5555.\n";

const char kExprHelp[] =
    "N may be an expression of decimal literals with + - * / ^ and parentheses\n"
    "(e.g. 2^128+1, 10^50-3, (2^61-1)*(2^89-1)); '/' must divide exactly and the\n"
    "value must be >= 0. Without N, numbers are read from standard input\n"
    "(whitespace-separated; each line is sent as one batch).\n";

const char kFactorHelp[] =
    "zfactor factor [options] [N...]\n"
    "\n"
    "Prints one line per number, like GNU coreutils factor:\n"
    "  N: p1 p2 p2 ...     ascending, each prime repeated by its multiplicity\n"
    "  0: and 1:           nothing after the colon\n"
    "Markers, only where an answer is not a plain proven factorization:\n"
    "  [PRP]p              p is a probable prime (passed BPSW, not proven)\n"
    "  [C]m                m is a composite cofactor not split within the budget\n"
    "                      (N: [C]N when no factor of N was found)\n"
    "  N: <state> job J    the job did not end within --timeout-ms (see `zfactor wait J`)\n"
    "  N: <failed: ...>    the job failed\n"
    "Exit status: 0 when every number was fully factored (PRP factors included),\n"
    "1 when any answer has [C], is unfinished or failed, or a number was rejected,\n"
    "2 on a usage error. --verbose adds status/source/effort/time lines on stderr.\n";

const char kIsPrimeHelp[] =
    "zfactor isprime [options] [N...]\n"
    "\n"
    "Prints one line per number: `N: prime` (proven), `N: probable prime` (passed\n"
    "BPSW, not proven), `N: composite`, `1: unit (not prime)`, `0: zero (not prime)`.\n"
    "Exit status: 0 when every answer is final, 1 otherwise, 2 on a usage error.\n";

const char kSubmitHelp[] =
    "zfactor submit [options] N...\n"
    "\n"
    "Asks for factor (or, with --isprime, isprime) answers without waiting. Prints\n"
    "`N: job J (queued)` for each number that became a job, or the answer line when\n"
    "it was answered at once (inline or from the cache).\n";

const char kJobHelpGet[] =
    "zfactor get [options] JOB\n\nPrints the job's answer line, or `N: <state> job J`; while\n"
    "it runs, with what its worker last reported: `(stage 40%, 1 s ago; factors so far: ...)`.\n";
const char kJobHelpWait[] =
    "zfactor wait [options] JOB\n\nWaits up to --timeout-ms for the job to end and prints its "
    "answer line.\n"
    "Exit status 1 when it did not end in time or is incomplete.\n";
const char kJobHelpCancel[] =
    "zfactor cancel [options] JOB\n\nCancels the job and prints its answer line.\n";
const char kStatsHelp[] =
    "zfactor stats [options]\n\nPrints the service counters, one `name: value` per line.\n";
const char kPingHelp[] = "zfactor ping [options]\n\nPrints `pong` when the gateway answers.\n";

enum class Command { kFactor, kIsPrime, kSubmit, kGet, kWait, kCancel, kStats, kPing };

std::optional<Command> ParseCommand(const std::string& word) {
  if (word == "factor") return Command::kFactor;
  if (word == "isprime") return Command::kIsPrime;
  if (word == "submit") return Command::kSubmit;
  if (word == "get") return Command::kGet;
  if (word == "wait") return Command::kWait;
  if (word == "cancel") return Command::kCancel;
  if (word == "stats") return Command::kStats;
  if (word == "ping") return Command::kPing;
  return std::nullopt;
}

struct Settings {
  std::string endpoint = kDefaultEndpoint;
  bool json = false;
  bool verbose = false;
  int timeout_ms = 3600 * 1000;
  int reply_timeout_ms = 10000;
  bool local = false;
  int threads = 1;
  double max_seconds = 0;
  int priority = 5;
  int max_digits = static_cast<int>(kDefaultMaxExprDigits);
  bool isprime = false;
};

std::string FormatStat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

// One invocation of a command: owns the connection and the exit status.
class Runner {
 public:
  Runner(const Settings& settings, std::istream& in, std::ostream& out, std::ostream& err)
      : s_(settings),
        in_(in),
        out_(out),
        err_(err),
        deadline_(Clock::now() + milliseconds(settings.timeout_ms)) {}

  int Compute(proto::Kind kind, const std::vector<std::string>& args) {
    if (!args.empty()) {
      ComputeBatch(kind, args);
    } else {
      std::string line;
      while (std::getline(in_, line)) {
        std::istringstream words(line);
        std::vector<std::string> tokens;
        for (std::string w; words >> w;) tokens.push_back(w);
        if (!tokens.empty() && !ComputeBatch(kind, tokens)) break;
      }
    }
    return status_;
  }

  int Submit(const std::vector<std::string>& args) {
    const proto::Kind kind = s_.isprime ? proto::Kind::kIsPrime : proto::Kind::kFactor;
    std::vector<std::string> inputs, numbers;
    ParseAll(args, &inputs, &numbers);
    for (std::size_t start = 0; start < numbers.size(); start += kBatchSize) {
      const std::size_t end = std::min(numbers.size(), start + kBatchSize);
      const std::vector<std::string> chunk(numbers.begin() + start, numbers.begin() + end);
      auto items = Batch(kind, chunk, milliseconds(0));
      if (!items.ok()) return Fail(items.error());
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        const proto::Item& item = items.value()[i];
        if (!item.ok) {
          PrintInputError(inputs[start + i], item.error);
          continue;
        }
        if (proto::IsFinal(item.answer.state)) {
          PrintAnswer(item.answer, false, false);
        } else if (s_.json) {
          out_ << AnswerToJson(item.answer) << "\n";
        } else {
          out_ << item.answer.n << ": job " << item.answer.job << " ("
               << proto::JobStateName(item.answer.state) << ")\n";
        }
      }
    }
    return status_;
  }

  int Job(Command command, const std::string& job) {
    Client& c = client();
    proto::StatusOr<proto::Answer> answer =
        proto::MakeError(proto::ErrorCode::kInternal, "no command");
    if (command == Command::kGet) {
      answer = c.Get(job, /*progress=*/true);
    } else if (command == Command::kCancel) {
      answer = c.Cancel(job);
    } else {
      answer = c.Wait(job, std::min(milliseconds(s_.timeout_ms), kWaitChunk));
      if (answer.ok()) answer = WaitFinal(answer.value());
    }
    if (!answer.ok()) return Fail(answer.error());
    // Only `wait` promises a final answer; get/cancel succeed on any state.
    PrintAnswer(answer.value(), false, command == Command::kWait);
    return status_;
  }

  int Stats() {
    auto stats = client().Stats();
    if (!stats.ok()) return Fail(stats.error());
    if (s_.json) {
      out_ << StatsToJson(stats.value()) << "\n";
    } else {
      for (const auto& [name, value] : stats.value())
        out_ << name << ": " << FormatStat(value) << "\n";
    }
    return 0;
  }

  int Ping() {
    proto::Status s = client().Ping();
    if (!s.ok()) return Fail(s.error());
    out_ << (s_.json ? "{\"pong\":true}" : "pong") << "\n";
    return 0;
  }

 private:
  // Parses, computes and prints one group of inputs. False when the service
  // could not be reached (the remaining input is not attempted).
  bool ComputeBatch(proto::Kind kind, const std::vector<std::string>& args) {
    std::vector<std::string> inputs, numbers;
    ParseAll(args, &inputs, &numbers);
    if (s_.local) {
      for (const std::string& n : numbers) {
        LocalOptions options;
        options.threads = s_.threads;
        options.max_seconds = s_.max_seconds;
        if (s_.verbose) ReportLocalProgress(n, &options);
        PrintAnswer(
            kind == proto::Kind::kFactor ? LocalFactor(n, options) : LocalIsPrime(n), true);
      }
      return true;
    }
    for (std::size_t start = 0; start < numbers.size(); start += kBatchSize) {
      const std::size_t end = std::min(numbers.size(), start + kBatchSize);
      const std::vector<std::string> chunk(numbers.begin() + start, numbers.begin() + end);
      auto items = Batch(kind, chunk, std::min(Remaining(), kWaitChunk));
      if (!items.ok()) {
        Fail(items.error());
        return false;
      }
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        proto::Item& item = items.value()[i];
        if (!item.ok) {
          PrintInputError(inputs[start + i], item.error);
          continue;
        }
        auto answer = WaitFinal(item.answer);
        if (!answer.ok()) {
          PrintInputError(inputs[start + i], answer.error());
          continue;
        }
        PrintAnswer(answer.value(), false);
      }
    }
    return true;
  }

  // One batch request; retries while the service says busy and time remains.
  proto::StatusOr<std::vector<proto::Item>> Batch(proto::Kind kind,
                                                  const std::vector<std::string>& numbers,
                                                  milliseconds wait) {
    ComputeOptions options;
    options.wait_ms = static_cast<uint32_t>(std::max<int64_t>(0, wait.count()));
    options.priority = s_.priority;
    if (s_.max_seconds > 0) options.max_seconds = s_.max_seconds;
    while (true) {
      auto items = kind == proto::Kind::kFactor ? client().FactorBatch(numbers, options)
                                                : client().IsPrimeBatch(numbers, options);
      if (items.ok() || items.error().code != proto::ErrorCode::kBusy) return items;
      const milliseconds backoff =
          std::max(kMinBusyBackoff, milliseconds(client().last_retry_after_ms()));
      if (Remaining() < backoff) return items;
      std::this_thread::sleep_for(backoff);
    }
  }

  // Evaluates each argument; prints errors for the bad ones. `inputs` and
  // `numbers` receive the good ones (as typed, and canonical decimal).
  void ParseAll(const std::vector<std::string>& args, std::vector<std::string>* inputs,
                std::vector<std::string>* numbers) {
    for (const std::string& arg : args) {
      ExprResult r = EvaluateExpression(arg, static_cast<std::size_t>(std::max(1, s_.max_digits)));
      if (!r.ok) {
        status_ = 1;
        if (s_.json) {
          out_ << ErrorToJson(arg, proto::MakeError(proto::ErrorCode::kBadNumber,
                                                    r.error.message + " at column " +
                                                        std::to_string(r.error.position + 1)))
               << "\n";
        } else {
          err_ << "zfactor: '" << arg << "' is not a valid number\n"
               << FormatExprError(arg, r.error) << "\n";
        }
        continue;
      }
      if (r.value < 0) {
        PrintInputError(arg, proto::MakeError(proto::ErrorCode::kNegative,
                                              "the value " + r.value.get_str() + " is negative"));
        continue;
      }
      inputs->push_back(arg);
      numbers->push_back(r.value.get_str());
    }
  }

  // --local --verbose: factors as they split off, and the engine's progress
  // (SIQS relations found / needed) at most every kProgressEvery, on
  // stderr, so a long local job shows it is moving.
  void ReportLocalProgress(const std::string& n, LocalOptions* options) {
    const std::string name =
        n.size() <= 24 ? n : n.substr(0, 12) + "...(" + std::to_string(n.size()) + " digits)";
    const auto start = Clock::now();
    options->on_factor = [this, name](const mpz_class& f) {
      err_ << "zfactor: " << name << ": found factor " << f.get_str() << "\n";
    };
    options->on_progress = [this, name, start, last = start](const std::string& stage,
                                                             double fraction) mutable {
      const auto now = Clock::now();
      if (now - last < kProgressEvery) return;
      last = now;
      const double seconds = std::chrono::duration<double>(now - start).count();
      char line[160];
      if (fraction < 0) {  // the stage cannot tell how far it is
        std::snprintf(line, sizeof line, "zfactor: %s: %s after %.0f s\n", name.c_str(),
                      stage.c_str(), seconds);
      } else {
        std::snprintf(line, sizeof line, "zfactor: %s: %s %.1f%% after %.0f s\n", name.c_str(),
                      stage.c_str(), 100 * fraction, seconds);
      }
      err_ << line << std::flush;
    };
  }

  // Client::WaitFinal until Remaining() runs out; with --verbose, in steps of
  // kProgressEvery that print a running job's progress on stderr.
  proto::StatusOr<proto::Answer> WaitFinal(const proto::Answer& answer) {
    if (!s_.verbose) return client().WaitFinal(answer, Remaining(), kWaitChunk);
    return client().WaitFinal(answer, Remaining(), kProgressEvery, [this](const proto::Answer& a) {
      err_ << "zfactor: " << FormatAnswerLine(a) << "\n" << std::flush;
    });
  }

  // Prints a verified answer; an incomplete one sets exit status 1 when
  // `require_complete`.
  void PrintAnswer(const proto::Answer& a, bool local, bool require_complete = true) {
    // A service's answer is checked here; a local one was checked by
    // compute::Compute with the same CheckResult before it was returned.
    const std::string problem = local ? "" : CheckAnswer(a);
    if (!problem.empty()) {
      PrintInputError(
          a.n, proto::MakeError(proto::ErrorCode::kInternal, "inconsistent answer: " + problem));
      return;
    }
    out_ << (s_.json ? AnswerToJson(a, local) : FormatAnswerLine(a)) << "\n";
    if (s_.verbose) err_ << FormatAnswerDetail(a, local) << "\n";
    if (require_complete && !IsComplete(a)) status_ = 1;
  }

  void PrintInputError(const std::string& input, const proto::Error& e) {
    status_ = 1;
    if (s_.json) {
      out_ << ErrorToJson(input, e) << "\n";
    } else {
      err_ << "zfactor: " << input << ": " << proto::ErrorCodeName(e.code) << ": " << e.message
           << "\n";
    }
  }

  int Fail(const proto::Error& e) {
    status_ = 1;
    err_ << "zfactor: " << proto::ErrorCodeName(e.code) << ": " << e.message << "\n";
    return status_;
  }

  milliseconds Remaining() const {
    return std::max(milliseconds(0),
                    std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()));
  }

  Client& client() {
    if (!client_) {
      ClientOptions options;
      options.endpoint = s_.endpoint;
      options.reply_timeout = milliseconds(s_.reply_timeout_ms);
      client_.emplace(options);
    }
    return *client_;
  }

  const Settings& s_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  const Clock::time_point deadline_;
  std::optional<Client> client_;
  int status_ = 0;
};

}  // namespace

int RunCli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  // The command is the first argument that names one; the others are flags
  // (before or after it) and positional arguments.
  std::optional<Command> command;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (!command && (command = ParseCommand(argv[i]))) continue;
    rest.push_back(argv[i]);
  }
  if (!command) {
    const bool help = std::any_of(rest.begin() + 1, rest.end(), [](const char* a) {
      return std::string(a) == "--help" || std::string(a) == "-h" || std::string(a) == "help";
    });
    (help ? out : err) << kGeneralHelp;
    return help ? 0 : 2;
  }

  Settings s;
  if (const char* env = std::getenv("ZFACTOR_ENDPOINT"); env != nullptr && *env != '\0')
    s.endpoint = env;
  s.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  const bool compute = *command == Command::kFactor || *command == Command::kIsPrime;
  std::string usage;
  switch (*command) {
    case Command::kFactor:
      usage = std::string(kFactorHelp) + "\n" + kExprHelp;
      break;
    case Command::kIsPrime:
      usage = std::string(kIsPrimeHelp) + "\n" + kExprHelp;
      break;
    case Command::kSubmit:
      usage = kSubmitHelp;
      break;
    case Command::kGet:
      usage = kJobHelpGet;
      break;
    case Command::kWait:
      usage = kJobHelpWait;
      break;
    case Command::kCancel:
      usage = kJobHelpCancel;
      break;
    case Command::kStats:
      usage = kStatsHelp;
      break;
    case Command::kPing:
      usage = kPingHelp;
      break;
  }
  while (!usage.empty() && usage.back() == '\n') usage.pop_back();
  core::Flags flags(usage);
  flags.Define("endpoint", &s.endpoint,
               "gateway endpoint ($ZFACTOR_ENDPOINT overrides the default)");
  flags.Define("json", &s.json, "one JSON object per answer (or error) on stdout");
  flags.Define("reply-timeout-ms", &s.reply_timeout_ms,
               "how long to wait for the gateway to reply at all");
  if (compute || *command == Command::kWait) {
    flags.Define("timeout-ms", &s.timeout_ms, "how long to wait for queued jobs to end");
  }
  if (compute || *command == Command::kSubmit) {
    flags.Define("priority", &s.priority, "job priority 0..9, higher runs first");
    flags.Define("max-digits", &s.max_digits, "largest value an expression may produce, in digits");
  }
  if (*command == Command::kFactor || *command == Command::kSubmit) {
    flags.Define("max-seconds", &s.max_seconds,
                 "cap the work per number (0: the service's default)");
  }
  if (compute || *command == Command::kWait) {
    flags.Define("verbose", &s.verbose,
                 "print status, source, effort and time per answer on stderr, and every 10 s "
                 "a running job's progress (with --local: each factor as it splits off and "
                 "the engine's progress)");
  }
  if (compute) {
    flags.Define("local", &s.local, "compute in this process with the math engine; no service");
    flags.Define("threads", &s.threads, "threads for --local");
  }
  if (*command == Command::kSubmit)
    flags.Define("isprime", &s.isprime, "submit isprime instead of factor");

  proto::Status parsed = flags.Parse(static_cast<int>(rest.size()), rest.data());
  if (!parsed.ok()) {
    err << "zfactor: " << parsed.error().message << "\n";
    return 2;
  }
  if (flags.help_requested()) return 0;
  if (s.timeout_ms < 0 || s.reply_timeout_ms <= 0 || s.priority < 0 || s.priority > 9 ||
      s.threads < 1 || s.max_seconds < 0 || s.max_digits < 1) {
    err << "zfactor: an option is out of range (see --help)\n";
    return 2;
  }
  const std::vector<std::string>& args = flags.positional();

  Runner runner(s, in, out, err);
  switch (*command) {
    case Command::kFactor:
      return runner.Compute(proto::Kind::kFactor, args);
    case Command::kIsPrime:
      return runner.Compute(proto::Kind::kIsPrime, args);
    case Command::kSubmit:
      if (args.empty()) {
        err << "zfactor: submit needs at least one number\n";
        return 2;
      }
      return runner.Submit(args);
    case Command::kGet:
    case Command::kWait:
    case Command::kCancel:
      if (args.size() != 1) {
        err << "zfactor: this command needs exactly one job id\n";
        return 2;
      }
      return runner.Job(*command, args[0]);
    case Command::kStats:
    case Command::kPing:
      if (!args.empty()) {
        err << "zfactor: unexpected argument '" << args[0] << "'\n";
        return 2;
      }
      return *command == Command::kStats ? runner.Stats() : runner.Ping();
  }
  return 2;
}

}  // namespace zfactor::client
