#include "client/format.h"

#include <gtest/gtest.h>

namespace zfactor::client {
namespace {

proto::Answer Done(proto::Kind kind, const std::string& n, const std::string& status,
                   std::vector<proto::Factor> factors) {
  proto::Answer a;
  a.n = n;
  a.kind = kind;
  a.state = proto::JobState::kDone;
  a.source = proto::Source::kInline;
  a.result = proto::Result{status, std::move(factors), "trial", 0.5};
  return a;
}

TEST(FormatTest, CoreutilsFactorLines) {
  using proto::Kind;
  EXPECT_EQ(FormatFactorLine(Done(Kind::kFactor, "12", "FF", {{"2", 2, "P"}, {"3", 1, "P"}})),
            "12: 2 2 3");
  EXPECT_EQ(FormatFactorLine(Done(Kind::kFactor, "1", "U", {})), "1:");
  EXPECT_EQ(FormatFactorLine(Done(Kind::kFactor, "0", "Zero", {})), "0:");
  EXPECT_EQ(FormatFactorLine(Done(Kind::kFactor, "97", "P", {{"97", 1, "P"}})), "97: 97");
  EXPECT_EQ(
      FormatFactorLine(Done(Kind::kFactor, "340282366920938463463374607431768211457", "FF",
                            {{"59649589127497217", 1, "P"}, {"5704689200685129054721", 1, "P"}})),
      "340282366920938463463374607431768211457: 59649589127497217 5704689200685129054721");
}

TEST(FormatTest, MarksPrpAndCompositeCofactors) {
  using proto::Kind;
  proto::Answer cf = Done(Kind::kFactor, "1234", "CF", {{"2", 1, "P"}, {"617", 1, "C"}});
  EXPECT_EQ(FormatFactorLine(cf), "1234: 2 [C]617");
  EXPECT_FALSE(IsComplete(cf));
  proto::Answer prp = Done(Kind::kFactor, "18", "FF", {{"2", 1, "P"}, {"3", 2, "PRP"}});
  EXPECT_EQ(FormatFactorLine(prp), "18: 2 [PRP]3 [PRP]3");
  EXPECT_TRUE(IsComplete(prp));
  proto::Answer c = Done(Kind::kFactor, "15", "C", {});
  EXPECT_EQ(FormatFactorLine(c), "15: [C]15");  // never the bare "15:" of a unit
  EXPECT_FALSE(IsComplete(c));
}

TEST(FormatTest, NotFinalAnswers) {
  proto::Answer a;
  a.n = "99";
  a.state = proto::JobState::kQueued;
  a.job = "j-1";
  EXPECT_EQ(FormatFactorLine(a), "99: <queued> job j-1");
  EXPECT_FALSE(IsComplete(a));
  a.state = proto::JobState::kRunning;
  a.progress = proto::Progress{"siqs", -1, {}, 999};
  EXPECT_EQ(FormatFactorLine(a), "99: <running> job j-1 (siqs, 0 s ago)");
  a.progress = proto::Progress{"ecm", 0.257, {"3", "11"}, 61000};
  EXPECT_EQ(FormatFactorLine(a), "99: <running> job j-1 (ecm 25%, 61 s ago; factors so far: 3 11)");
  EXPECT_EQ(AnswerToJson(a),
            "{\"n\":\"99\",\"kind\":\"factor\",\"state\":\"running\",\"source\":\"job\",\"job\":"
            "\"j-1\",\"progress\":{\"stage\":\"ecm\",\"fraction\":0.257,\"factors\":[\"3\",\"11\"],"
            "\"age_ms\":61000}}");
  a.progress.reset();
  a.state = proto::JobState::kFailed;
  a.error = proto::MakeError(proto::ErrorCode::kInternal, "worker lost");
  EXPECT_EQ(FormatAnswerLine(a), "99: <failed: internal: worker lost>");
}

TEST(FormatTest, IsPrimeLines) {
  using proto::Kind;
  EXPECT_EQ(FormatIsPrimeLine(Done(Kind::kIsPrime, "97", "P", {})), "97: prime");
  EXPECT_EQ(FormatIsPrimeLine(Done(Kind::kIsPrime, "97", "PRP", {})), "97: probable prime");
  EXPECT_EQ(FormatIsPrimeLine(Done(Kind::kIsPrime, "91", "C", {})), "91: composite");
  EXPECT_EQ(FormatIsPrimeLine(Done(Kind::kIsPrime, "1", "U", {})), "1: unit (not prime)");
  EXPECT_EQ(FormatAnswerLine(Done(Kind::kIsPrime, "0", "Zero", {})), "0: zero (not prime)");
}

TEST(FormatTest, Json) {
  proto::Answer a = Done(proto::Kind::kFactor, "12", "FF", {{"2", 2, "P"}, {"3", 1, "P"}});
  EXPECT_EQ(AnswerToJson(a),
            "{\"n\":\"12\",\"kind\":\"factor\",\"state\":\"done\",\"source\":\"inline\",\"result\":"
            "{\"status\":"
            "\"FF\",\"factors\":[{\"p\":\"2\",\"e\":2,\"status\":\"P\"},{\"p\":\"3\",\"e\":1,"
            "\"status\":\"P\"}],"
            "\"effort\":\"trial\",\"ms\":0.5}}");
  EXPECT_NE(AnswerToJson(a, true).find("\"source\":\"local\""), std::string::npos);
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(StatsToJson({{"jobs_done", 3}, {"uptime_s", 1.5}}),
            "{\"jobs_done\":3,\"uptime_s\":1.5}");
}

}  // namespace
}  // namespace zfactor::client
