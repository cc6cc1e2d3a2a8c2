#include "proto/codec.h"

#include <algorithm>
#include <array>
#include <utility>

#include "proto/msgpack_io.h"

namespace zfactor::proto {

using internal::MapReader;
using internal::kPackBufferBytes;
using internal::MapWriter;
using internal::PackStr;
using internal::Parse;

// ---------------------------------------------------------------- names

namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::array<const char*, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<const char*, 12> kErrorNames = {
    "malformed", "bad_request", "unknown_field", "unsupported_version", "bad_number", "negative",
    "too_large", "unknown_job", "busy",          "unavailable",         "internal",   "timeout"};
constexpr std::array<const char*, 2> kKindNames = {"isprime", "factor"};
constexpr std::array<const char*, 5> kStateNames = {"queued", "running", "done", "failed",
                                                    "cancelled"};
constexpr std::array<const char*, 3> kSourceNames = {"inline", "cache", "job"};
constexpr std::array<const char*, 7> kOpNames = {"ping", "isprime", "factor", "get",
                                                 "wait", "cancel",  "stats"};
constexpr std::array<const char*, 15> kMsgTypeNames = {
    "submit", "accepted", "rejected", "cancel", "cancel_ack", "stats",     "stats_reply", "ready",
    "job",    "progress", "result",   "failed", "bye",        "heartbeat", "state"};

constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxJobBytes = 64;
constexpr size_t kMaxTextBytes = 4096;  // messages, effort strings, names
// Largest accepted max_seconds (30 days): larger values would overflow the
// engine's clock arithmetic, and no job is meant to run longer.
constexpr double kMaxSeconds = 30 * 24 * 3600.0;

// nullopt, or the range error for a max_seconds value.
std::optional<Error> CheckMaxSeconds(const std::optional<double>& v) {
  if (v && (*v <= 0 || *v > kMaxSeconds)) {
    return MakeError(ErrorCode::kBadRequest, "'max_seconds' must be > 0 and at most 2592000 (30 days)");
  }
  return std::nullopt;
}

}  // namespace

const char* ErrorCodeName(ErrorCode c) { return kErrorNames[static_cast<size_t>(c)]; }
std::optional<ErrorCode> ParseErrorCode(std::string_view s) {
  return Lookup<ErrorCode>(kErrorNames, s);
}
const char* KindName(Kind k) { return kKindNames[static_cast<size_t>(k)]; }
const char* JobStateName(JobState s) { return kStateNames[static_cast<size_t>(s)]; }
const char* SourceName(Source s) { return kSourceNames[static_cast<size_t>(s)]; }
const char* OpName(Op op) { return kOpNames[static_cast<size_t>(op)]; }
const char* MsgTypeName(MsgType t) { return kMsgTypeNames[static_cast<size_t>(t)]; }
std::optional<Kind> ParseKind(std::string_view s) { return Lookup<Kind>(kKindNames, s); }
std::optional<JobState> ParseJobState(std::string_view s) {
  return Lookup<JobState>(kStateNames, s);
}
std::optional<Source> ParseSource(std::string_view s) { return Lookup<Source>(kSourceNames, s); }

const char* PubTopic(MsgType type) {
  switch (type) {
    case MsgType::kState:
      return "state";
    case MsgType::kProgress:
      return "progress";
    default:
      return "result";
  }
}

// ---------------------------------------------------------------- shared pieces

namespace {

// Evaluates a Result-returning expression; returns its error from the
// enclosing function, else binds the value.
#define ZF_ASSIGN_OR_RETURN(lhs, expr)   \
  auto lhs##_result = (expr);            \
  if (!lhs##_result.ok()) return lhs##_result.error(); \
  auto lhs = std::move(lhs##_result).value()

#define ZF_RETURN_IF_ERROR(expr)          \
  do {                                    \
    auto status_ = (expr);                \
    if (!status_.ok()) return status_.error(); \
  } while (0)

// wait_ms and timeout_ms take any uint: the gateway caps them at its
// max_wait_ms, which fits in 32 bits, so larger values mean "as long as
// allowed" rather than an error.
uint32_t SaturateMs(uint64_t ms) { return static_cast<uint32_t>(std::min<uint64_t>(ms, UINT32_MAX)); }

StatusOr<std::string> NumberFromObject(const msgpack::object& o, size_t max_digits) {
  switch (o.type) {
    case msgpack::type::STR:
      return ValidateNumber(std::string_view(o.via.str.ptr, o.via.str.size), max_digits);
    case msgpack::type::POSITIVE_INTEGER:
      return ValidateNumber(std::to_string(o.via.u64), max_digits);
    case msgpack::type::NEGATIVE_INTEGER:
      return MakeError(ErrorCode::kNegative, "n must be >= 0, got " + std::to_string(o.via.i64));
    default:
      return MakeError(ErrorCode::kBadNumber,
                       "n must be a decimal string or a non-negative integer");
  }
}

StatusOr<RequestId> IdFromObject(const msgpack::object* o) {
  if (o == nullptr) return RequestId();
  if (o->type == msgpack::type::POSITIVE_INTEGER) {
    if (o->via.u64 > static_cast<uint64_t>(INT64_MAX)) {
      return MakeError(ErrorCode::kBadRequest, "'id' is out of range");
    }
    return RequestId(static_cast<int64_t>(o->via.u64));
  }
  if (o->type == msgpack::type::NEGATIVE_INTEGER) return RequestId(o->via.i64);
  if (o->type == msgpack::type::STR && o->via.str.size <= kMaxIdBytes) {
    return RequestId(std::string(o->via.str.ptr, o->via.str.size));
  }
  return MakeError(ErrorCode::kBadRequest, "'id' must be an integer or a string of at most 64 bytes");
}

void WriteId(MapWriter& w, const RequestId& id) {
  if (const auto* i = std::get_if<int64_t>(&id)) w.Int("id", *i);
  if (const auto* s = std::get_if<std::string>(&id)) w.Str("id", *s);
}

Status CheckVersion(MapReader& r) {
  auto v = r.Int("v", INT32_MIN, INT32_MAX);
  if (!v.ok()) return v.error();
  if (v.value() && *v.value() != kProtocolVersion) {
    return MakeError(ErrorCode::kUnsupportedVersion,
                     "protocol version " + std::to_string(*v.value()) + " is not supported (use 1)");
  }
  return Status::Ok();
}

std::string EncodeError(const Error& e) {
  MapWriter w;
  w.Str("code", ErrorCodeName(e.code));
  w.Str("message", e.message);
  return w.Done();
}

// An ERROR object. Writes *out; the returned Status is about decoding it.
Status DecodeError(const msgpack::object& o, Error* out) {
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(o, "error"));
  ZF_ASSIGN_OR_RETURN(code, r.RequireStr("code", 64));
  ZF_ASSIGN_OR_RETURN(message, r.RequireStr("message", kMaxTextBytes));
  ZF_RETURN_IF_ERROR(r.Finish());
  auto parsed = ParseErrorCode(code);
  if (!parsed) return MakeError(ErrorCode::kBadRequest, "unknown error code '" + code + "'");
  *out = Error{*parsed, std::move(message)};
  return Status::Ok();
}

}  // namespace

// The RESULT object. Named functions rather than overloads keep the two
// meanings of "Result" (the value and proto::StatusOr<T>) apart.
namespace {

std::string EncodeFactorResult(const proto::Result& res) {
  msgpack::sbuffer factors(kPackBufferBytes);
  msgpack::packer<msgpack::sbuffer> pk(&factors);
  pk.pack_array(static_cast<uint32_t>(res.factors.size()));
  for (const Factor& f : res.factors) {
    pk.pack_map(3);
    PackStr(pk, "p");
    PackStr(pk, f.p);
    PackStr(pk, "e");
    pk.pack_uint32(f.e);
    PackStr(pk, "status");
    PackStr(pk, f.status);
  }
  MapWriter w;
  w.Str("status", res.status);
  w.Raw("factors", std::string(factors.data(), factors.size()));
  w.Str("effort", res.effort);
  w.Float("ms", res.ms);
  return w.Done();
}

bool OneOf(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

StatusOr<proto::Result> DecodeFactorResult(const msgpack::object& o) {
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(o, "result"));
  proto::Result res;
  ZF_ASSIGN_OR_RETURN(status, r.RequireStr("status", 8));
  if (!OneOf(status, {"P", "PRP", "FF", "CF", "C", "U", "Zero"})) {
    return MakeError(ErrorCode::kBadRequest, "unknown result status '" + status + "'");
  }
  res.status = std::move(status);
  const msgpack::object* factors = r.Take("factors");
  if (factors == nullptr || factors->type != msgpack::type::ARRAY) {
    return MakeError(ErrorCode::kBadRequest, "result needs a 'factors' array");
  }
  for (uint32_t i = 0; i < factors->via.array.size; ++i) {
    ZF_ASSIGN_OR_RETURN(fr, MapReader::Open(factors->via.array.ptr[i], "factor"));
    Factor f;
    ZF_ASSIGN_OR_RETURN(p, fr.RequireStr("p"));
    auto valid = ValidateNumber(p, SIZE_MAX);
    if (!valid.ok()) return valid.error();
    f.p = std::move(p);
    ZF_ASSIGN_OR_RETURN(e, fr.RequireUint("e", UINT32_MAX));
    f.e = static_cast<uint32_t>(e);
    ZF_ASSIGN_OR_RETURN(fs, fr.RequireStr("status", 8));
    if (!OneOf(fs, {"P", "PRP", "C"})) {
      return MakeError(ErrorCode::kBadRequest, "unknown factor status '" + fs + "'");
    }
    f.status = std::move(fs);
    ZF_RETURN_IF_ERROR(fr.Finish());
    res.factors.push_back(std::move(f));
  }
  ZF_ASSIGN_OR_RETURN(effort, r.Str("effort", kMaxTextBytes));
  if (effort) res.effort = std::move(*effort);
  ZF_ASSIGN_OR_RETURN(ms, r.Float("ms"));
  if (ms) res.ms = *ms;
  ZF_RETURN_IF_ERROR(r.Finish());
  return res;
}

// An array of decimal strings (progress factors), at most kMaxProgressFactors.
std::string EncodeNumbers(const std::vector<std::string>& numbers) {
  msgpack::sbuffer out(kPackBufferBytes);
  msgpack::packer<msgpack::sbuffer> pk(&out);
  pk.pack_array(static_cast<uint32_t>(numbers.size()));
  for (const std::string& n : numbers) PackStr(pk, n);
  return std::string(out.data(), out.size());
}

StatusOr<std::vector<std::string>> DecodeNumbers(const msgpack::object& o, const char* what) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size > kMaxProgressFactors) {
    return MakeError(ErrorCode::kBadRequest, std::string("'") + what +
                                                 "' must be an array of at most " +
                                                 std::to_string(kMaxProgressFactors) + " numbers");
  }
  std::vector<std::string> numbers;
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    const msgpack::object& e = o.via.array.ptr[i];
    if (e.type != msgpack::type::STR) {
      return MakeError(ErrorCode::kBadRequest, std::string("'") + what + "' holds a non-string");
    }
    auto valid = ValidateNumber(std::string_view(e.via.str.ptr, e.via.str.size), SIZE_MAX);
    if (!valid.ok()) return valid.error();
    numbers.push_back(std::move(valid).value());
  }
  return numbers;
}

// The PROGRESS object of an answer.
std::string EncodeProgress(const Progress& p) {
  MapWriter w;
  w.Str("stage", p.stage);
  w.Float("fraction", p.fraction);
  w.Raw("factors", EncodeNumbers(p.factors));
  w.Uint("age_ms", p.age_ms);
  return w.Done();
}

StatusOr<Progress> DecodeProgress(const msgpack::object& o) {
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(o, "progress"));
  Progress p;
  ZF_ASSIGN_OR_RETURN(stage, r.RequireStr("stage", 64));
  p.stage = std::move(stage);
  ZF_ASSIGN_OR_RETURN(fraction, r.Float("fraction"));
  if (!fraction) return MakeError(ErrorCode::kBadRequest, "progress is missing 'fraction'");
  p.fraction = *fraction;
  const msgpack::object* factors = r.Take("factors");
  if (factors == nullptr) return MakeError(ErrorCode::kBadRequest, "progress is missing 'factors'");
  ZF_ASSIGN_OR_RETURN(numbers, DecodeNumbers(*factors, "factors"));
  p.factors = std::move(numbers);
  ZF_ASSIGN_OR_RETURN(age, r.RequireUint("age_ms"));
  p.age_ms = age;
  ZF_RETURN_IF_ERROR(r.Finish());
  return p;
}

std::string EncodeStats(const Stats& stats) {
  MapWriter w;
  for (const auto& [name, value] : stats) w.Float(name, value);
  return w.Done();
}

StatusOr<Stats> DecodeStats(const msgpack::object& o) {
  if (o.type != msgpack::type::MAP) return MakeError(ErrorCode::kBadRequest, "stats must be a map");
  Stats stats;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) {
      return MakeError(ErrorCode::kBadRequest, "stats keys must be strings");
    }
    double v;
    switch (kv.val.type) {
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64: v = kv.val.via.f64; break;
      case msgpack::type::POSITIVE_INTEGER: v = static_cast<double>(kv.val.via.u64); break;
      case msgpack::type::NEGATIVE_INTEGER: v = static_cast<double>(kv.val.via.i64); break;
      default: return MakeError(ErrorCode::kBadRequest, "stats values must be numbers");
    }
    stats[std::string(kv.key.via.str.ptr, kv.key.via.str.size)] = v;
  }
  return stats;
}

// Writes the ANSWER keys into `w` (shared by answers and batch items).
void WriteAnswer(MapWriter& w, const Answer& a) {
  w.Str("n", a.n);
  w.Str("kind", KindName(a.kind));
  w.Str("state", JobStateName(a.state));
  w.Str("source", SourceName(a.source));
  if (!a.job.empty()) w.Str("job", a.job);
  if (a.result) w.Raw("result", EncodeFactorResult(*a.result));
  if (a.error) w.Raw("error", EncodeError(*a.error));
  if (a.progress) w.Raw("progress", EncodeProgress(*a.progress));
}

std::string EncodeAnswer(const Answer& a) {
  MapWriter w;
  WriteAnswer(w, a);
  return w.Done();
}

// Reads the ANSWER keys from `r` (the caller calls Finish()).
StatusOr<Answer> ReadAnswer(MapReader& r) {
  Answer a;
  ZF_ASSIGN_OR_RETURN(n, r.RequireStr("n"));
  a.n = std::move(n);
  ZF_ASSIGN_OR_RETURN(kind, r.RequireStr("kind", 16));
  ZF_ASSIGN_OR_RETURN(state, r.RequireStr("state", 16));
  ZF_ASSIGN_OR_RETURN(source, r.RequireStr("source", 16));
  auto k = ParseKind(kind);
  auto s = ParseJobState(state);
  auto src = ParseSource(source);
  if (!k || !s || !src) return MakeError(ErrorCode::kBadRequest, "answer has an unknown kind, state or source");
  a.kind = *k;
  a.state = *s;
  a.source = *src;
  ZF_ASSIGN_OR_RETURN(job, r.Str("job", kMaxJobBytes));
  if (job) a.job = std::move(*job);
  if (const msgpack::object* res = r.Take("result")) {
    ZF_ASSIGN_OR_RETURN(decoded, DecodeFactorResult(*res));
    a.result = std::move(decoded);
  }
  if (const msgpack::object* err = r.Take("error")) {
    a.error.emplace();
    ZF_RETURN_IF_ERROR(DecodeError(*err, &*a.error));
  }
  if (const msgpack::object* progress = r.Take("progress")) {
    ZF_ASSIGN_OR_RETURN(decoded, DecodeProgress(*progress));
    a.progress = std::move(decoded);
  }
  return a;
}

StatusOr<Answer> DecodeAnswer(const msgpack::object& o) {
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(o, "answer"));
  ZF_ASSIGN_OR_RETURN(a, ReadAnswer(r));
  ZF_RETURN_IF_ERROR(r.Finish());
  return a;
}

}  // namespace

// ---------------------------------------------------------------- numbers

StatusOr<std::string> ValidateNumber(std::string_view text, size_t max_digits) {
  if (text.empty()) return MakeError(ErrorCode::kBadNumber, "n is empty");
  if (text[0] == '-') {
    bool digits = text.size() > 1;
    for (char c : text.substr(1)) digits = digits && c >= '0' && c <= '9';
    if (digits) return MakeError(ErrorCode::kNegative, "n must be >= 0");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return MakeError(ErrorCode::kBadNumber, "n must contain only the digits 0-9; found byte " +
                                                  std::to_string(static_cast<unsigned char>(c)) +
                                                  " at position " + std::to_string(i));
    }
  }
  if (text.size() > 1 && text[0] == '0') {
    return MakeError(ErrorCode::kBadNumber, "n must not have leading zeros");
  }
  if (text.size() > max_digits) {
    return MakeError(ErrorCode::kTooLarge, "n has " + std::to_string(text.size()) +
                                               " digits; the limit is " +
                                               std::to_string(max_digits));
  }
  return std::string(text);
}

// ---------------------------------------------------------------- requests

StatusOr<Request> DecodeRequest(std::string_view body, const Limits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return MakeError(ErrorCode::kTooLarge, "request body is larger than " +
                                               std::to_string(limits.max_body_bytes) + " bytes");
  }
  ZF_ASSIGN_OR_RETURN(handle, Parse(body));
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(handle.get(), "request"));
  ZF_RETURN_IF_ERROR(CheckVersion(r));

  Request req;
  ZF_ASSIGN_OR_RETURN(id, IdFromObject(r.Take("id")));
  req.id = std::move(id);
  ZF_ASSIGN_OR_RETURN(op_name, r.RequireStr("op", 32));
  auto op = Lookup<Op>(kOpNames, op_name);
  if (!op) return MakeError(ErrorCode::kBadRequest, "unknown op '" + op_name + "'");
  req.op = *op;

  switch (req.op) {
    case Op::kPing:
    case Op::kStats:
      break;
    case Op::kIsPrime:
    case Op::kFactor: {
      const msgpack::object* n = r.Take("n");
      const msgpack::object* numbers = r.Take("numbers");
      if ((n == nullptr) == (numbers == nullptr)) {
        return MakeError(ErrorCode::kBadRequest, "give exactly one of 'n' and 'numbers'");
      }
      if (n != nullptr) {
        ZF_ASSIGN_OR_RETURN(value, NumberFromObject(*n, limits.max_digits));
        req.numbers.push_back(NumberArg{std::move(value), std::nullopt});
      } else {
        if (numbers->type != msgpack::type::ARRAY || numbers->via.array.size == 0) {
          return MakeError(ErrorCode::kBadRequest, "'numbers' must be a non-empty array");
        }
        if (numbers->via.array.size > limits.max_batch) {
          return MakeError(ErrorCode::kTooLarge,
                           "a batch holds at most " + std::to_string(limits.max_batch) + " numbers");
        }
        req.batch = true;
        for (uint32_t i = 0; i < numbers->via.array.size; ++i) {
          auto value = NumberFromObject(numbers->via.array.ptr[i], limits.max_digits);
          if (value.ok()) {
            req.numbers.push_back(NumberArg{std::move(value).value(), std::nullopt});
          } else {
            req.numbers.push_back(NumberArg{"", value.error()});
          }
        }
      }
      ZF_ASSIGN_OR_RETURN(wait_ms, r.Uint("wait_ms"));
      req.wait_ms = SaturateMs(wait_ms.value_or(0));
      ZF_ASSIGN_OR_RETURN(priority, r.Int("priority", 0, 9));
      req.priority = static_cast<int>(priority.value_or(5));
      ZF_ASSIGN_OR_RETURN(notify, r.Bool("notify"));
      req.notify = notify.value_or(false);
      if (req.op == Op::kFactor) {
        ZF_ASSIGN_OR_RETURN(max_seconds, r.Float("max_seconds"));
        if (auto e = CheckMaxSeconds(max_seconds)) return *e;
        req.max_seconds = max_seconds;
      }
      break;
    }
    case Op::kGet:
    case Op::kWait:
    case Op::kCancel: {
      ZF_ASSIGN_OR_RETURN(job, r.RequireStr("job", kMaxJobBytes));
      req.job = std::move(job);
      if (req.op == Op::kWait) {
        ZF_ASSIGN_OR_RETURN(timeout, r.RequireUint("timeout_ms"));
        req.timeout_ms = SaturateMs(timeout);
      }
      if (req.op != Op::kCancel) {
        ZF_ASSIGN_OR_RETURN(progress, r.Bool("progress"));
        req.progress = progress.value_or(false);
      }
      break;
    }
  }
  auto finished = r.Finish();
  if (!finished.ok()) {
    return MakeError(ErrorCode::kUnknownField,
                     finished.error().message + " (op '" + op_name + "')");
  }
  return req;
}

std::string EncodeRequest(const Request& req) {
  MapWriter w;
  w.Int("v", kProtocolVersion);
  w.Str("op", OpName(req.op));
  WriteId(w, req.id);
  switch (req.op) {
    case Op::kPing:
    case Op::kStats:
      break;
    case Op::kIsPrime:
    case Op::kFactor:
      if (req.batch) {
        auto& pk = w.Key("numbers");
        pk.pack_array(static_cast<uint32_t>(req.numbers.size()));
        for (const NumberArg& a : req.numbers) PackStr(pk, a.n);
      } else {
        w.Str("n", req.numbers.empty() ? std::string() : req.numbers[0].n);
      }
      if (req.wait_ms > 0) w.Uint("wait_ms", req.wait_ms);
      if (req.priority != 5) w.Int("priority", req.priority);
      if (req.notify) w.Bool("notify", true);
      if (req.op == Op::kFactor && req.max_seconds) w.Float("max_seconds", *req.max_seconds);
      break;
    case Op::kGet:
    case Op::kWait:
    case Op::kCancel:
      w.Str("job", req.job);
      if (req.op == Op::kWait) w.Uint("timeout_ms", req.timeout_ms);
      if (req.op != Op::kCancel && req.progress) w.Bool("progress", true);
      break;
  }
  return w.Done();
}

RequestId PeekRequestId(std::string_view body) {
  auto handle = Parse(body);
  if (!handle.ok() || handle.value().get().type != msgpack::type::MAP) return RequestId();
  const auto& map = handle.value().get().via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    const auto& key = map.ptr[i].key;
    if (key.type == msgpack::type::STR && std::string_view(key.via.str.ptr, key.via.str.size) == "id") {
      auto id = IdFromObject(&map.ptr[i].val);
      return id.ok() ? id.value() : RequestId();
    }
  }
  return RequestId();
}

// ---------------------------------------------------------------- replies and events

std::string EncodeReply(const Reply& reply) {
  MapWriter w;
  w.Int("v", kProtocolVersion);
  WriteId(w, reply.id);
  w.Bool("ok", reply.ok);
  if (!reply.ok) {
    w.Raw("error", EncodeError(reply.error));
    if (reply.retry_after_ms > 0) w.Uint("retry_after_ms", reply.retry_after_ms);
    return w.Done();
  }
  if (reply.answer) w.Raw("answer", EncodeAnswer(*reply.answer));
  if (reply.answers) {
    msgpack::sbuffer items(kPackBufferBytes);
    msgpack::packer<msgpack::sbuffer>(&items).pack_array(
        static_cast<uint32_t>(reply.answers->size()));
    for (const Item& item : *reply.answers) {
      MapWriter iw;
      iw.Bool("ok", item.ok);
      if (item.ok) {
        WriteAnswer(iw, item.answer);
      } else {
        iw.Raw("error", EncodeError(item.error));
        iw.Uint("index", item.index);
      }
      std::string packed = iw.Done();
      items.write(packed.data(), packed.size());
    }
    w.Raw("answers", std::string(items.data(), items.size()));
  }
  if (reply.pong) w.Bool("pong", true);
  if (reply.stats) w.Raw("stats", EncodeStats(*reply.stats));
  return w.Done();
}

std::string EncodeEvent(const Event& event) {
  MapWriter w;
  w.Int("v", kProtocolVersion);
  w.Str("event", "done");
  WriteId(w, event.id);
  w.Raw("answer", EncodeAnswer(event.answer));
  return w.Done();
}

StatusOr<ClientMessage> DecodeClientMessage(std::string_view body) {
  ZF_ASSIGN_OR_RETURN(handle, Parse(body));
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(handle.get(), "reply"));
  ZF_RETURN_IF_ERROR(CheckVersion(r));
  ZF_ASSIGN_OR_RETURN(id, IdFromObject(r.Take("id")));

  ZF_ASSIGN_OR_RETURN(event_name, r.Str("event", 32));
  if (event_name) {
    if (*event_name != "done") return MakeError(ErrorCode::kBadRequest, "unknown event '" + *event_name + "'");
    const msgpack::object* a = r.Take("answer");
    if (a == nullptr) return MakeError(ErrorCode::kBadRequest, "event is missing 'answer'");
    ZF_ASSIGN_OR_RETURN(answer, DecodeAnswer(*a));
    ZF_RETURN_IF_ERROR(r.Finish());
    return ClientMessage(Event{std::move(id), std::move(answer)});
  }

  Reply reply;
  reply.id = std::move(id);
  ZF_ASSIGN_OR_RETURN(ok, r.Bool("ok"));
  if (!ok) return MakeError(ErrorCode::kBadRequest, "reply is missing 'ok'");
  reply.ok = *ok;
  if (!reply.ok) {
    const msgpack::object* e = r.Take("error");
    if (e == nullptr) return MakeError(ErrorCode::kBadRequest, "error reply is missing 'error'");
    ZF_RETURN_IF_ERROR(DecodeError(*e, &reply.error));
    ZF_ASSIGN_OR_RETURN(retry, r.Uint("retry_after_ms", UINT32_MAX));
    reply.retry_after_ms = static_cast<uint32_t>(retry.value_or(0));
  }
  if (const msgpack::object* a = r.Take("answer")) {
    ZF_ASSIGN_OR_RETURN(answer, DecodeAnswer(*a));
    reply.answer = std::move(answer);
  }
  if (const msgpack::object* items = r.Take("answers")) {
    if (items->type != msgpack::type::ARRAY) {
      return MakeError(ErrorCode::kBadRequest, "'answers' must be an array");
    }
    std::vector<Item> decoded;
    for (uint32_t i = 0; i < items->via.array.size; ++i) {
      ZF_ASSIGN_OR_RETURN(ir, MapReader::Open(items->via.array.ptr[i], "item"));
      Item item;
      ZF_ASSIGN_OR_RETURN(item_ok, ir.Bool("ok"));
      if (!item_ok) return MakeError(ErrorCode::kBadRequest, "item is missing 'ok'");
      item.ok = *item_ok;
      if (item.ok) {
        ZF_ASSIGN_OR_RETURN(answer, ReadAnswer(ir));
        item.answer = std::move(answer);
        item.index = i;
      } else {
        const msgpack::object* e = ir.Take("error");
        if (e == nullptr) return MakeError(ErrorCode::kBadRequest, "failed item is missing 'error'");
        ZF_RETURN_IF_ERROR(DecodeError(*e, &item.error));
        ZF_ASSIGN_OR_RETURN(index, ir.RequireUint("index", UINT32_MAX));
        item.index = static_cast<uint32_t>(index);
      }
      ZF_RETURN_IF_ERROR(ir.Finish());
      decoded.push_back(std::move(item));
    }
    reply.answers = std::move(decoded);
  }
  ZF_ASSIGN_OR_RETURN(pong, r.Bool("pong"));
  reply.pong = pong.value_or(false);
  if (const msgpack::object* s = r.Take("stats")) {
    ZF_ASSIGN_OR_RETURN(stats, DecodeStats(*s));
    reply.stats = std::move(stats);
  }
  ZF_RETURN_IF_ERROR(r.Finish());
  return ClientMessage(std::move(reply));
}

// ---------------------------------------------------------------- internal messages

namespace {

// The fields an internal message may carry.
enum Field : uint32_t {
  kFJob = 1 << 0,
  kFKind = 1 << 1,
  kFN = 1 << 2,
  kFPriority = 1 << 3,
  kFMaxSeconds = 1 << 4,
  kFResult = 1 << 5,
  kFError = 1 << 6,
  kFRetry = 1 << 7,
  kFFound = 1 << 8,
  kFCapacity = 1 << 9,
  kFName = 1 << 10,
  kFStage = 1 << 11,
  kFFraction = 1 << 12,
  kFState = 1 << 13,
  kFStats = 1 << 14,
  kFFactors = 1 << 15,
};

struct Shape {
  uint32_t required;
  uint32_t optional;
};

// PROTOCOL.md sections 3-5, one row per MsgType in enum order.
constexpr std::array<Shape, 15> kShapes = {{
    {kFJob | kFKind | kFN | kFPriority, kFMaxSeconds},     // submit
    {kFJob, 0},                                            // accepted
    {kFJob | kFError, kFRetry},                            // rejected
    {kFJob, 0},                                            // cancel
    {kFJob | kFFound, 0},                                  // cancel_ack
    {0, 0},                                                // stats
    {kFStats, 0},                                          // stats_reply
    {kFCapacity | kFName, 0},                              // ready
    {kFJob | kFKind | kFN, kFMaxSeconds},                  // job
    {kFJob | kFStage | kFFraction, kFFactors},             // progress
    {kFJob | kFKind | kFN | kFState, kFResult | kFError},  // result
    {kFJob | kFError, 0},                                  // failed
    {0, 0},                                                // bye
    {0, 0},                                                // heartbeat
    {kFJob | kFKind | kFN | kFState, 0},                   // state
}};

}  // namespace

std::string EncodeInternal(const Internal& m) {
  const Shape shape = kShapes[static_cast<size_t>(m.type)];
  auto want = [&](uint32_t f) { return (shape.required & f) != 0; };
  MapWriter w;
  w.Str("type", MsgTypeName(m.type));
  if (want(kFJob)) w.Str("job", m.job);
  if (want(kFKind)) w.Str("kind", KindName(m.kind));
  if (want(kFN)) w.Str("n", m.n);
  if (want(kFPriority)) w.Int("priority", m.priority);
  if ((shape.optional & kFMaxSeconds) && m.max_seconds) w.Float("max_seconds", *m.max_seconds);
  if ((want(kFResult) || (shape.optional & kFResult)) && m.result) {
    w.Raw("result", EncodeFactorResult(*m.result));
  }
  if ((want(kFError) || (shape.optional & kFError)) && m.error) w.Raw("error", EncodeError(*m.error));
  if (want(kFError) && !m.error) w.Raw("error", EncodeError(Error{}));
  if ((shape.optional & kFRetry) && m.retry_after_ms > 0) w.Uint("retry_after_ms", m.retry_after_ms);
  if (want(kFFound)) w.Bool("found", m.found);
  if (want(kFCapacity)) w.Uint("capacity", m.capacity);
  if (want(kFName)) w.Str("name", m.name);
  if (want(kFStage)) w.Str("stage", m.stage);
  if (want(kFFraction)) w.Float("fraction", m.fraction);
  if ((shape.optional & kFFactors) && !m.factors.empty())
    w.Raw("factors", EncodeNumbers(m.factors));
  if (want(kFState)) w.Str("state", JobStateName(m.state));
  if (want(kFStats)) w.Raw("stats", EncodeStats(m.stats));
  return w.Done();
}

StatusOr<Internal> DecodeInternal(std::string_view body) {
  ZF_ASSIGN_OR_RETURN(handle, Parse(body));
  ZF_ASSIGN_OR_RETURN(r, MapReader::Open(handle.get(), "message"));
  ZF_RETURN_IF_ERROR(CheckVersion(r));
  ZF_ASSIGN_OR_RETURN(type_name, r.RequireStr("type", 32));
  auto type = Lookup<MsgType>(kMsgTypeNames, type_name);
  if (!type) return MakeError(ErrorCode::kBadRequest, "unknown message type '" + type_name + "'");

  Internal m;
  m.type = *type;
  const Shape shape = kShapes[static_cast<size_t>(m.type)];
  const uint32_t allowed = shape.required | shape.optional;
  auto missing = [&](const char* key) {
    return MakeError(ErrorCode::kBadRequest, type_name + " is missing '" + key + "'");
  };

  if (allowed & kFJob) {
    ZF_ASSIGN_OR_RETURN(job, r.Str("job", kMaxJobBytes));
    if (!job) return missing("job");
    m.job = std::move(*job);
  }
  if (allowed & kFKind) {
    ZF_ASSIGN_OR_RETURN(kind, r.Str("kind", 16));
    if (!kind) return missing("kind");
    auto k = ParseKind(*kind);
    if (!k) return MakeError(ErrorCode::kBadRequest, "unknown kind '" + *kind + "'");
    m.kind = *k;
  }
  if (allowed & kFN) {
    ZF_ASSIGN_OR_RETURN(n, r.Str("n"));
    if (!n) return missing("n");
    auto valid = ValidateNumber(*n, SIZE_MAX);
    if (!valid.ok()) return valid.error();
    m.n = std::move(*n);
  }
  if (allowed & kFPriority) {
    ZF_ASSIGN_OR_RETURN(priority, r.Int("priority", 0, 9));
    if (!priority) return missing("priority");
    m.priority = static_cast<int>(*priority);
  }
  if (allowed & kFMaxSeconds) {
    ZF_ASSIGN_OR_RETURN(max_seconds, r.Float("max_seconds"));
    if (auto e = CheckMaxSeconds(max_seconds)) return *e;
    m.max_seconds = max_seconds;
  }
  if (allowed & kFResult) {
    if (const msgpack::object* o = r.Take("result")) {
      ZF_ASSIGN_OR_RETURN(res, DecodeFactorResult(*o));
      m.result = std::move(res);
    } else if (shape.required & kFResult) {
      return missing("result");
    }
  }
  if (allowed & kFError) {
    if (const msgpack::object* o = r.Take("error")) {
      m.error.emplace();
      ZF_RETURN_IF_ERROR(DecodeError(*o, &*m.error));
    } else if (shape.required & kFError) {
      return missing("error");
    }
  }
  if (allowed & kFRetry) {
    ZF_ASSIGN_OR_RETURN(retry, r.Uint("retry_after_ms", UINT32_MAX));
    m.retry_after_ms = static_cast<uint32_t>(retry.value_or(0));
  }
  if (allowed & kFFound) {
    ZF_ASSIGN_OR_RETURN(found, r.Bool("found"));
    if (!found) return missing("found");
    m.found = *found;
  }
  if (allowed & kFCapacity) {
    ZF_ASSIGN_OR_RETURN(capacity, r.Uint("capacity", 4096));
    if (!capacity) return missing("capacity");
    m.capacity = static_cast<uint32_t>(*capacity);
  }
  if (allowed & kFName) {
    ZF_ASSIGN_OR_RETURN(name, r.Str("name", 256));
    if (!name) return missing("name");
    m.name = std::move(*name);
  }
  if (allowed & kFStage) {
    ZF_ASSIGN_OR_RETURN(stage, r.Str("stage", 64));
    if (!stage) return missing("stage");
    m.stage = std::move(*stage);
  }
  if (allowed & kFFraction) {
    ZF_ASSIGN_OR_RETURN(fraction, r.Float("fraction"));
    if (!fraction) return missing("fraction");
    m.fraction = *fraction;
  }
  if (allowed & kFFactors) {
    if (const msgpack::object* o = r.Take("factors")) {
      ZF_ASSIGN_OR_RETURN(factors, DecodeNumbers(*o, "factors"));
      m.factors = std::move(factors);
    }
  }
  if (allowed & kFState) {
    ZF_ASSIGN_OR_RETURN(state, r.Str("state", 16));
    if (!state) return missing("state");
    auto s = ParseJobState(*state);
    if (!s) return MakeError(ErrorCode::kBadRequest, "unknown state '" + *state + "'");
    m.state = *s;
  }
  if (allowed & kFStats) {
    const msgpack::object* o = r.Take("stats");
    if (o == nullptr) return missing("stats");
    ZF_ASSIGN_OR_RETURN(stats, DecodeStats(*o));
    m.stats = std::move(stats);
  }
  ZF_RETURN_IF_ERROR(r.Finish());
  if (m.type == MsgType::kResult && m.state == JobState::kDone && !m.result) {
    return MakeError(ErrorCode::kBadRequest, "a done result needs 'result'");
  }
  return m;
}

}  // namespace zfactor::proto
