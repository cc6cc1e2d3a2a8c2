#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <random>
#include <string>

#include "proto/codec.h"

namespace zfactor::proto {
namespace {

// Packs a JSON-like literal map built with msgpack's own packer, so tests can
// send shapes our encoder would never produce.
template <typename F>
std::string Pack(F&& fill) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(&buf);
  fill(pk);
  return std::string(buf.data(), buf.size());
}

ErrorCode CodeOf(const std::string& body) {
  auto r = DecodeRequest(body);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ErrorCode::kInternal : r.error().code;
}

TEST(RequestCodec, RoundTripsEveryOp) {
  Request factor;
  factor.op = Op::kFactor;
  factor.id = int64_t{42};
  factor.numbers = {{"340282366920938463463374607431768211457", std::nullopt}};
  factor.wait_ms = 1500;
  factor.priority = 7;
  factor.notify = true;
  factor.max_seconds = 2.5;

  Request batch;
  batch.op = Op::kIsPrime;
  batch.id = std::string("abc");
  batch.batch = true;
  batch.numbers = {{"0", std::nullopt}, {"1", std::nullopt}, {"97", std::nullopt}};

  Request wait;
  wait.op = Op::kWait;
  wait.job = "j-1";
  wait.timeout_ms = 100;

  Request get;
  get.op = Op::kGet;
  get.job = "j-2";
  get.progress = true;

  Request cancel;
  cancel.op = Op::kCancel;
  cancel.job = "j-3";

  Request ping;
  ping.op = Op::kPing;
  Request stats;
  stats.op = Op::kStats;

  for (const Request& in : {factor, batch, wait, get, cancel, ping, stats}) {
    auto out = DecodeRequest(EncodeRequest(in));
    ASSERT_TRUE(out.ok()) << OpName(in.op) << ": " << out.error().message;
    const Request& r = out.value();
    EXPECT_EQ(r.op, in.op);
    EXPECT_EQ(r.id, in.id);
    EXPECT_EQ(r.batch, in.batch);
    ASSERT_EQ(r.numbers.size(), in.numbers.size());
    for (size_t i = 0; i < r.numbers.size(); ++i) EXPECT_EQ(r.numbers[i].n, in.numbers[i].n);
    EXPECT_EQ(r.wait_ms, in.wait_ms);
    EXPECT_EQ(r.timeout_ms, in.timeout_ms);
    EXPECT_EQ(r.priority, in.priority);
    EXPECT_EQ(r.notify, in.notify);
    EXPECT_EQ(r.max_seconds, in.max_seconds);
    EXPECT_EQ(r.job, in.job);
    EXPECT_EQ(r.progress, in.progress);
  }
}

TEST(RequestCodec, AcceptsIntegerNumbers) {
  auto body = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack_uint64(18446744073709551615ull);
  });
  auto r = DecodeRequest(body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().numbers[0].n, "18446744073709551615");
}

// PROTOCOL.md: wait_ms and timeout_ms are any uint, capped by the gateway;
// a value past 32 bits means "as long as the gateway allows", not an error.
TEST(RequestCodec, AcceptsAnyUintWaitAndTimeout) {
  for (uint64_t ms : {uint64_t{0}, uint64_t{1500}, uint64_t{UINT32_MAX}, uint64_t{1} << 32,
                      uint64_t{UINT64_MAX}}) {
    auto factor = DecodeRequest(Pack([&](auto& pk) {
      pk.pack_map(3);
      pk.pack(std::string("op"));
      pk.pack(std::string("factor"));
      pk.pack(std::string("n"));
      pk.pack(std::string("12"));
      pk.pack(std::string("wait_ms"));
      pk.pack_uint64(ms);
    }));
    ASSERT_TRUE(factor.ok()) << ms;
    EXPECT_EQ(factor.value().wait_ms, std::min<uint64_t>(ms, UINT32_MAX)) << ms;
    auto wait = DecodeRequest(Pack([&](auto& pk) {
      pk.pack_map(3);
      pk.pack(std::string("op"));
      pk.pack(std::string("wait"));
      pk.pack(std::string("job"));
      pk.pack(std::string("j-1"));
      pk.pack(std::string("timeout_ms"));
      pk.pack_uint64(ms);
    }));
    ASSERT_TRUE(wait.ok()) << ms;
    EXPECT_EQ(wait.value().timeout_ms, std::min<uint64_t>(ms, UINT32_MAX)) << ms;
  }
}

std::string FactorOf(const std::string& n) {
  return Pack([&](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack(n);
  });
}

TEST(RequestCodec, RejectsBadNumbersWithTheirCodes) {
  EXPECT_EQ(CodeOf(FactorOf("")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("-12")), ErrorCode::kNegative);
  EXPECT_EQ(CodeOf(FactorOf("-")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("+12")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("012")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("12 ")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("1e5")), ErrorCode::kBadNumber);
  EXPECT_EQ(CodeOf(FactorOf("\xd9\xa3")), ErrorCode::kBadNumber);  // Arabic-Indic three
  EXPECT_EQ(CodeOf(FactorOf(std::string(10001, '7'))), ErrorCode::kTooLarge);
  auto neg = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack_int64(-5);
  });
  EXPECT_EQ(CodeOf(neg), ErrorCode::kNegative);
  auto flt = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack_double(12.5);
  });
  EXPECT_EQ(CodeOf(flt), ErrorCode::kBadNumber);
  EXPECT_TRUE(DecodeRequest(FactorOf("0")).ok());
  EXPECT_TRUE(DecodeRequest(FactorOf("1")).ok());
}

TEST(RequestCodec, BatchMarksOnlyTheBadElement) {
  auto body = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("numbers"));
    pk.pack_array(3);
    pk.pack(std::string("12"));
    pk.pack(std::string("-5"));
    pk.pack(std::string("x"));
  });
  auto r = DecodeRequest(body);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().numbers.size(), 3u);
  EXPECT_FALSE(r.value().numbers[0].error);
  EXPECT_EQ(r.value().numbers[1].error->code, ErrorCode::kNegative);
  EXPECT_EQ(r.value().numbers[2].error->code, ErrorCode::kBadNumber);
}

TEST(RequestCodec, RejectsWrongShapes) {
  // Not a map, truncated, trailing bytes, garbage.
  EXPECT_EQ(CodeOf(Pack([](auto& pk) { pk.pack(std::string("factor")); })), ErrorCode::kMalformed);
  std::string good = FactorOf("12");
  EXPECT_EQ(CodeOf(good.substr(0, good.size() - 1)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(good + "x"), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(""), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf("\xc1"), ErrorCode::kMalformed);  // never-used msgpack byte
  // Unknown op, missing op, unknown field, both n and numbers, bad version.
  auto with = [](std::initializer_list<std::pair<std::string, std::string>> kv) {
    return Pack([&](auto& pk) {
      pk.pack_map(static_cast<uint32_t>(kv.size()));
      for (const auto& [k, v] : kv) {
        pk.pack(k);
        pk.pack(v);
      }
    });
  };
  EXPECT_EQ(CodeOf(with({{"op", "explode"}})), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf(with({{"n", "12"}})), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf(with({{"op", "factor"}, {"n", "12"}, {"colour", "red"}})),
            ErrorCode::kUnknownField);
  EXPECT_EQ(CodeOf(with({{"op", "ping"}, {"n", "12"}})), ErrorCode::kUnknownField);
  EXPECT_EQ(CodeOf(with({{"op", "factor"}})), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf(with({{"op", "get"}})), ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf(with({{"op", "wait"}, {"job", "j"}})), ErrorCode::kBadRequest);
  // "progress" is a bool, and only get and wait take it.
  EXPECT_EQ(CodeOf(with({{"op", "get"}, {"job", "j"}, {"progress", "yes"}})),
            ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf(with({{"op", "cancel"}, {"job", "j"}, {"progress", "yes"}})),
            ErrorCode::kUnknownField);
  EXPECT_EQ(CodeOf(with({{"op", "factor"}, {"n", "12"}, {"progress", "yes"}})),
            ErrorCode::kUnknownField);
  EXPECT_EQ(CodeOf(with({{"op", "factor"}, {"n", "12"}, {"n", "13"}})), ErrorCode::kBadRequest);
  auto v2 = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("v"));
    pk.pack(2);
    pk.pack(std::string("op"));
    pk.pack(std::string("ping"));
  });
  EXPECT_EQ(CodeOf(v2), ErrorCode::kUnsupportedVersion);
  auto badprio = Pack([](auto& pk) {
    pk.pack_map(3);
    pk.pack(std::string("op"));
    pk.pack(std::string("factor"));
    pk.pack(std::string("n"));
    pk.pack(std::string("12"));
    pk.pack(std::string("priority"));
    pk.pack(10);
  });
  EXPECT_EQ(CodeOf(badprio), ErrorCode::kBadRequest);
  for (double seconds : {0.0, -1.0, 1e10}) {
    auto body = Pack([&](auto& pk) {
      pk.pack_map(3);
      pk.pack(std::string("op"));
      pk.pack(std::string("factor"));
      pk.pack(std::string("n"));
      pk.pack(std::string("12"));
      pk.pack(std::string("max_seconds"));
      pk.pack_double(seconds);
    });
    EXPECT_EQ(CodeOf(body), ErrorCode::kBadRequest) << seconds;
  }
  Limits tight;
  tight.max_body_bytes = 4;
  EXPECT_EQ(DecodeRequest(good, tight).error().code, ErrorCode::kTooLarge);
}

TEST(RequestCodec, PeeksTheIdOfABadRequest) {
  auto body = Pack([](auto& pk) {
    pk.pack_map(2);
    pk.pack(std::string("id"));
    pk.pack(7);
    pk.pack(std::string("op"));
    pk.pack(std::string("explode"));
  });
  EXPECT_EQ(PeekRequestId(body), RequestId(int64_t{7}));
  EXPECT_EQ(PeekRequestId("garbage"), RequestId());
}

TEST(RequestCodec, SurvivesRandomAndMutatedBytes) {
  std::mt19937_64 rng(20261123);
  std::string seed = EncodeRequest([] {
    Request r;
    r.op = Op::kFactor;
    r.id = std::string("x");
    r.batch = true;
    r.numbers = {{"12", std::nullopt}, {"99", std::nullopt}};
    r.wait_ms = 5;
    return r;
  }());
  for (int i = 0; i < 20000; ++i) {
    std::string body = seed;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = static_cast<char>(rng()); break;
        case 1: body.erase(at, 1 + rng() % 3); break;
        default: body.insert(at, 1, static_cast<char>(rng())); break;
      }
      if (body.empty()) body = "\x90";
    }
    auto r = DecodeRequest(body);  // must not crash or throw
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty());
    }
    (void)DecodeClientMessage(body);
    (void)DecodeInternal(body);
  }
}

Answer SampleAnswer() {
  Answer a;
  a.n = "340282366920938463463374607431768211457";
  a.kind = Kind::kFactor;
  a.state = JobState::kDone;
  a.source = Source::kJob;
  a.job = "j-5f3a";
  a.result = proto::Result{"FF",
                           {{"59649589127497217", 1, "P"}, {"5704689200685129054721", 1, "P"}},
                           "trial; ecm",
                           3.25};
  return a;
}

TEST(ReplyCodec, RoundTripsAnswersItemsStatsAndErrors) {
  Reply single;
  single.id = int64_t{1};
  single.answer = SampleAnswer();

  Reply batch;
  batch.id = std::string("b");
  Item good;
  good.answer = SampleAnswer();
  Item bad;
  bad.ok = false;
  bad.error = Error{ErrorCode::kNegative, "n must be >= 0"};
  bad.index = 1;
  batch.answers = std::vector<Item>{good, bad};

  Reply stats;
  stats.stats = Stats{{"queue_depth", 3}, {"uptime_s", 1.5}};

  Reply busy;
  busy.ok = false;
  busy.error = Error{ErrorCode::kBusy, "queue full"};
  busy.retry_after_ms = 250;

  Reply running;
  running.answer = SampleAnswer();
  running.answer->state = JobState::kRunning;
  running.answer->result.reset();
  running.answer->progress = Progress{"siqs", 0.5, {"3", "5"}, 1200};

  for (const Reply& in : {single, batch, stats, busy, running}) {
    auto out = DecodeClientMessage(EncodeReply(in));
    ASSERT_TRUE(out.ok()) << out.error().message;
    const Reply& r = std::get<Reply>(out.value());
    EXPECT_EQ(r.id, in.id);
    EXPECT_EQ(r.ok, in.ok);
    EXPECT_EQ(r.error, in.error);
    EXPECT_EQ(r.retry_after_ms, in.retry_after_ms);
    EXPECT_EQ(r.answer.has_value(), in.answer.has_value());
    if (r.answer) {
      EXPECT_EQ(r.answer->result, in.answer->result);
      EXPECT_EQ(r.answer->progress, in.answer->progress);
    }
    EXPECT_EQ(r.answers.has_value(), in.answers.has_value());
    if (r.answers) {
      ASSERT_EQ(r.answers->size(), 2u);
      EXPECT_EQ((*r.answers)[0].answer.result, good.answer.result);
      EXPECT_EQ((*r.answers)[1].error, bad.error);
      EXPECT_EQ((*r.answers)[1].index, 1u);
    }
    EXPECT_EQ(r.stats, in.stats);
  }
}

TEST(ReplyCodec, RoundTripsEvents) {
  Event in{int64_t{9}, SampleAnswer()};
  auto out = DecodeClientMessage(EncodeEvent(in));
  ASSERT_TRUE(out.ok());
  const Event& e = std::get<Event>(out.value());
  EXPECT_EQ(e.id, in.id);
  EXPECT_EQ(e.answer.job, "j-5f3a");
  EXPECT_EQ(e.answer.result, in.answer.result);
}

}  // namespace
}  // namespace zfactor::proto
