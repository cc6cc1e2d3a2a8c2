// The messages of docs/PROTOCOL.md as plain C++ values. The codec (codec.h)
// turns them into msgpack bodies and back; nothing here touches a socket.
#ifndef ZFACTOR_PROTO_MESSAGES_H_
#define ZFACTOR_PROTO_MESSAGES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/error.h"

namespace zfactor::proto {

inline constexpr int kProtocolVersion = 1;

enum class Kind { kIsPrime, kFactor };
enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled };
enum class Source { kInline, kCache, kJob };

const char* KindName(Kind k);          // "isprime", "factor"
const char* JobStateName(JobState s);  // "queued", ...
const char* SourceName(Source s);      // "inline", "cache", "job"
std::optional<Kind> ParseKind(std::string_view s);
std::optional<JobState> ParseJobState(std::string_view s);
std::optional<Source> ParseSource(std::string_view s);
// True for done, failed and cancelled: the job will not change again.
inline bool IsFinal(JobState s) { return s == JobState::kDone || s == JobState::kFailed || s == JobState::kCancelled; }

// One prime (or, with status "C", an unsplit composite) and its exponent.
struct Factor {
  std::string p;       // canonical decimal
  uint32_t e = 1;
  std::string status;  // "P", "PRP" or "C"
  bool operator==(const Factor& o) const { return p == o.p && e == o.e && status == o.status; }
};

// What is known of a number (PROTOCOL.md RESULT).
struct Result {
  std::string status;  // "P", "PRP", "FF", "CF", "C", "U", "Zero"
  std::vector<Factor> factors;
  std::string effort;
  double ms = 0;
  bool operator==(const Result& o) const {
    return status == o.status && factors == o.factors && effort == o.effort && ms == o.ms;
  }
};

// What the worker running a job last reported (PROTOCOL.md PROGRESS).
struct Progress {
  std::string stage;                 // the algorithm at work: "ecm", "siqs", ...
  double fraction = -1;              // of that stage, in [0, 1]; -1 unknown
  std::vector<std::string> factors;  // split off so far: divisors of n, > 1, not necessarily prime
  uint64_t age_ms = 0;               // since the report (in answers only)
  bool operator==(const Progress& o) const {
    return stage == o.stage && fraction == o.fraction && factors == o.factors && age_ms == o.age_ms;
  }
};
// At most this many factors travel in one progress report.
inline constexpr size_t kMaxProgressFactors = 32;
// The stage of a worker's proof-of-life progress (PROTOCOL.md section 4):
// the job's computation is alive, nothing more is known.
inline constexpr char kAliveStage[] = "alive";

// One number's answer (PROTOCOL.md ANSWER).
struct Answer {
  std::string n;
  Kind kind = Kind::kFactor;
  JobState state = JobState::kQueued;
  Source source = Source::kJob;
  std::string job;                // empty when not from a job
  std::optional<Result> result;   // present when state == kDone
  std::optional<Error> error;     // present when state == kFailed
  std::optional<Progress> progress;  // running jobs, for get/wait with "progress": true
};

// The client's correlation id: absent, an integer, or a string.
using RequestId = std::variant<std::monostate, int64_t, std::string>;

enum class Op { kPing, kIsPrime, kFactor, kGet, kWait, kCancel, kStats };
const char* OpName(Op op);

// A number argument after validation: either canonical decimal or the error
// that rejects it (so one bad number fails only its own batch item).
struct NumberArg {
  std::string n;
  std::optional<Error> error;
};

struct Request {
  Op op = Op::kPing;
  RequestId id;
  bool batch = false;              // true when sent as "numbers"
  std::vector<NumberArg> numbers;  // "n" (one element) or "numbers"
  uint32_t wait_ms = 0;
  uint32_t timeout_ms = 0;
  int priority = 5;                // 0..9
  bool notify = false;
  std::optional<double> max_seconds;
  std::string job;
  bool progress = false;  // get/wait: include the running job's PROGRESS
};

// One element of a batch reply.
struct Item {
  bool ok = true;
  Answer answer;  // when ok
  Error error;    // when !ok
  uint32_t index = 0;
};

using Stats = std::map<std::string, double>;

struct Reply {
  RequestId id;
  bool ok = true;
  Error error;                  // when !ok
  uint32_t retry_after_ms = 0;  // with kBusy
  // Exactly one of the following is meaningful when ok:
  std::optional<Answer> answer;
  std::optional<std::vector<Item>> answers;
  bool pong = false;
  std::optional<Stats> stats;
};

struct Event {
  RequestId id;
  Answer answer;
};

// Limits the gateway applies while decoding (PROTOCOL.md section 1).
struct Limits {
  size_t max_body_bytes = 1 << 20;
  size_t max_digits = 10000;
  size_t max_batch = 1000;
};

// ---- Internal messages: gateway<->broker, broker<->worker, PUB stream ----

enum class MsgType {
  kSubmit, kAccepted, kRejected, kCancel, kCancelAck, kStats, kStatsReply,  // front
  kReady, kJob, kProgress, kResult, kFailed, kBye,                           // back (+kCancel)
  kHeartbeat,                                                                // both
  kState,                                                                    // PUB
};
const char* MsgTypeName(MsgType t);

// One struct for every internal message; which fields are meaningful depends
// on `type` (PROTOCOL.md sections 3-5). The codec writes and requires exactly
// those fields.
struct Internal {
  MsgType type = MsgType::kHeartbeat;
  std::string job;
  Kind kind = Kind::kFactor;
  std::string n;
  int priority = 5;
  std::optional<double> max_seconds;
  std::optional<Result> result;
  std::optional<Error> error;
  uint32_t retry_after_ms = 0;
  bool found = false;
  uint32_t capacity = 0;
  std::string name;
  std::string stage;
  double fraction = -1;
  std::vector<std::string> factors;  // progress: split off so far (at most kMaxProgressFactors)
  JobState state = JobState::kQueued;
  Stats stats;
};

}  // namespace zfactor::proto

#endif  // ZFACTOR_PROTO_MESSAGES_H_
