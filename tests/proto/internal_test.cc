#include <gtest/gtest.h>

#include "proto/codec.h"

namespace zfactor::proto {
namespace {

Internal Filled(MsgType type) {
  Internal m;
  m.type = type;
  m.job = "j-1";
  m.kind = Kind::kIsPrime;
  m.n = "1000000007";
  m.priority = 3;
  m.max_seconds = 9.5;
  m.result = proto::Result{"P", {}, "bpsw", 0.5};
  m.error = Error{ErrorCode::kBusy, "full"};
  m.retry_after_ms = 100;
  m.found = true;
  m.capacity = 4;
  m.name = "host:1";
  m.stage = "ecm";
  m.fraction = 0.25;
  m.factors = {"3", "1000000007"};
  m.state = JobState::kDone;
  m.stats = {{"workers", 2}};
  return m;
}

TEST(InternalCodec, EveryTypeRoundTrips) {
  for (int t = 0; t <= static_cast<int>(MsgType::kState); ++t) {
    Internal in = Filled(static_cast<MsgType>(t));
    auto out = DecodeInternal(EncodeInternal(in));
    ASSERT_TRUE(out.ok()) << MsgTypeName(in.type) << ": " << out.error().message;
    EXPECT_EQ(out.value().type, in.type);
    // Re-encoding the decoded message gives the same bytes: nothing was lost.
    EXPECT_EQ(EncodeInternal(out.value()), EncodeInternal(in)) << MsgTypeName(in.type);
  }
}

TEST(InternalCodec, SubmitCarriesItsFields) {
  auto out = DecodeInternal(EncodeInternal(Filled(MsgType::kSubmit)));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.value().job, "j-1");
  EXPECT_EQ(out.value().kind, Kind::kIsPrime);
  EXPECT_EQ(out.value().n, "1000000007");
  EXPECT_EQ(out.value().priority, 3);
  EXPECT_EQ(out.value().max_seconds, 9.5);
}

TEST(InternalCodec, ResultMessagesCarryTheResult) {
  auto out = DecodeInternal(EncodeInternal(Filled(MsgType::kResult)));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out.value().result);
  EXPECT_EQ(out.value().result->status, "P");
  EXPECT_EQ(out.value().state, JobState::kDone);
}

TEST(InternalCodec, ProgressCarriesFactorsFoundSoFar) {
  auto out = DecodeInternal(EncodeInternal(Filled(MsgType::kProgress)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value().stage, "ecm");
  EXPECT_EQ(out.value().factors, (std::vector<std::string>{"3", "1000000007"}));
  Internal none = Filled(MsgType::kProgress);
  none.factors.clear();
  out = DecodeInternal(EncodeInternal(none));  // the key is optional
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out.value().factors.empty());
  Internal bad = Filled(MsgType::kProgress);
  bad.factors = {"12", "-5"};
  EXPECT_EQ(DecodeInternal(EncodeInternal(bad)).error().code, ErrorCode::kNegative);
  bad.factors.assign(kMaxProgressFactors + 1, "7");
  EXPECT_EQ(DecodeInternal(EncodeInternal(bad)).error().code, ErrorCode::kBadRequest);
  // Only progress carries factors.
  Internal state = Filled(MsgType::kState);
  EXPECT_EQ(EncodeInternal(state).find("factors"), std::string::npos);
  EXPECT_STREQ(PubTopic(MsgType::kProgress), "progress");
}

TEST(InternalCodec, RejectsMissingAndUnknownFields) {
  Internal done = Filled(MsgType::kResult);
  done.result.reset();
  EXPECT_FALSE(DecodeInternal(EncodeInternal(done)).ok());  // done without a result
  EXPECT_EQ(DecodeInternal("\x81\xa4type\xa5hello").error().code, ErrorCode::kBadRequest);
  // {"type":"heartbeat","x":1}
  EXPECT_EQ(DecodeInternal("\x82\xa4type\xa9heartbeat\xa1x\x01").error().code,
            ErrorCode::kUnknownField);
  // {"type":"accepted"} without job
  EXPECT_EQ(DecodeInternal("\x81\xa4type\xa8" "accepted").error().code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace zfactor::proto
