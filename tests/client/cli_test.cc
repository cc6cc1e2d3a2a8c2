#include "client/cli/cli.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/client/fake_gateway.h"

namespace zfactor::client {
namespace {

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

CliRun RunZfactor(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), "zfactor");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::istringstream in(input);
  std::ostringstream out, err;
  CliRun r;
  r.status = RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The math engine proves primality below 2^64 and may report larger primes
// as PRP; the numbers themselves must match exactly either way.
std::string WithoutPrpMarks(const std::string& s) {
  return std::regex_replace(s, std::regex("\\[PRP\\]"), "");
}

TEST(CliLocalTest, FactorKnownNumbers) {
  CliRun r = RunZfactor(
      {"factor", "--local", "0", "1", "2", "12", "97", "1000000007", "2^64", "600851475143"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "0:\n1:\n2: 2\n12: 2 2 3\n97: 97\n1000000007: 1000000007\n"
            "18446744073709551616: 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 "
            "2 2 2 2 2 2 2 2 2 2 2 "
            "2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2\n"
            "600851475143: 71 839 1471 6857\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliLocalTest, FactorExpressions) {
  CliRun r = RunZfactor({"factor", "--local", "2^128+1", "(2^61-1)*(2^89-1)"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(WithoutPrpMarks(r.out),
            "340282366920938463463374607431768211457: 59649589127497217 5704689200685129054721\n"
            "1427247692705959880439315947500961989719490561: 2305843009213693951 "
            "618970019642690137449562111\n");
  EXPECT_EQ(r.out.find("[C]"), std::string::npos);
}

// --verbose with --local names the factors as they split off (only factors
// of n: the primality proofs' own factorizations stay quiet), then the detail line.
TEST(CliLocalTest, VerboseReportsFactorsAsTheySplitOff) {
  CliRun r = RunZfactor({"factor", "--local", "--verbose", "(2^61-1)*(2^89-1)"});
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream lines(r.err);
  std::string line;
  int found = 0;
  while (std::getline(lines, line)) {
    const std::string prefix = "zfactor: 142724769270...(46 digits): found factor ";
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string f = line.substr(prefix.size());
    EXPECT_TRUE(f == "2305843009213693951" || f == "618970019642690137449562111") << line;
    ++found;
  }
  EXPECT_GE(found, 1) << r.err;
  EXPECT_NE(r.err.find("status=FF"), std::string::npos) << r.err;
}

TEST(CliLocalTest, ReadsStdinLikeCoreutils) {
  CliRun r = RunZfactor({"factor", "--local"}, "12 13\n\n  100\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "12: 2 2 3\n13: 13\n100: 2 2 5 5\n");
}

TEST(CliLocalTest, IsPrime) {
  CliRun r = RunZfactor({"isprime", "--local", "0", "1", "2", "91", "97", "2^61-1"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "0: zero (not prime)\n1: unit (not prime)\n2: prime\n91: composite\n97: prime\n"
            "2305843009213693951: prime\n");
}

TEST(CliLocalTest, BadNumbersAreReportedAndSkipped) {
  CliRun r = RunZfactor({"factor", "--local", "6", "2^3+)", "-5", "7/2", "10"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "6: 2 3\n10: 2 5\n");
  EXPECT_NE(r.err.find("unexpected ')'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("      ^"), std::string::npos) << r.err;  // caret under column 5
  EXPECT_NE(r.err.find("-5: negative"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("inexact"), std::string::npos) << r.err;
}

TEST(CliLocalTest, SizeCapIsAnOption) {
  CliRun r = RunZfactor({"factor", "--local", "--max-digits", "10", "10^10^10", "10^11"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("exceed 10 digits"), std::string::npos) << r.err;
}

TEST(CliLocalTest, Json) {
  CliRun r = RunZfactor({"--json", "factor", "--local", "12", "x"});
  EXPECT_EQ(r.status, 1);
  std::istringstream lines(r.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first.rfind("{\"input\":\"x\",\"error\":{\"code\":\"bad_number\"", 0), 0u) << first;
  EXPECT_EQ(
      second.rfind(
          "{\"n\":\"12\",\"kind\":\"factor\",\"state\":\"done\",\"source\":\"local\",\"result\":{"
          "\"status\":\"FF\",\"factors\":[{\"p\":\"2\",\"e\":2,\"status\":\"P\"},{\"p\":\"3\","
          "\"e\":1,"
          "\"status\":\"P\"}]",
          0),
      0u)
      << second;
}

TEST(CliArgsTest, UsageErrors) {
  EXPECT_EQ(RunZfactor({}).status, 2);
  EXPECT_EQ(RunZfactor({"frobnicate"}).status, 2);
  EXPECT_EQ(RunZfactor({"--help"}).status, 0);
  EXPECT_EQ(RunZfactor({"factor", "--bogus", "12"}).status, 2);
  EXPECT_EQ(RunZfactor({"factor", "--priority", "12", "--local", "5"}).status,
            2);  // priority out of range
  EXPECT_EQ(RunZfactor({"get"}).status, 2);
  EXPECT_EQ(RunZfactor({"get", "a", "b"}).status, 2);
  EXPECT_EQ(RunZfactor({"submit"}).status, 2);
  EXPECT_EQ(RunZfactor({"stats", "extra"}).status, 2);
  EXPECT_EQ(RunZfactor({"factor", "--timeout-ms", "soon", "5"}).status, 2);
  CliRun r = RunZfactor({"isprime", "--max-seconds", "3", "5"});  // factor-only option
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown option --max-seconds"), std::string::npos) << r.err;
}

// ---- against a fake gateway ----

proto::Answer Answer(const std::string& n, proto::JobState state, const std::string& job) {
  proto::Answer a;
  a.n = n;
  a.state = state;
  a.source = proto::Source::kJob;
  a.job = job;
  return a;
}

TEST(CliRemoteTest, QueuedJobIsWaitedForAndPrinted) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    if (req.op == proto::Op::kFactor) {
      std::vector<proto::Item> items;
      for (const auto& arg : req.numbers) {
        proto::Item it;
        if (arg.n == "12") {
          it.answer = Answer("12", proto::JobState::kDone, "");
          it.answer.source = proto::Source::kInline;
          it.answer.result = proto::Result{"FF", {{"2", 2, "P"}, {"3", 1, "P"}}, "trial", 0};
        } else {
          it.answer = Answer(arg.n, proto::JobState::kQueued, "j-9");
        }
        items.push_back(it);
      }
      r.answers = items;
    } else {
      EXPECT_EQ(req.op, proto::Op::kWait);
      r.answer = Answer("35", proto::JobState::kDone, "j-9");
      r.answer->result = proto::Result{"FF", {{"5", 1, "P"}, {"7", 1, "P"}}, "rho", 1};
    }
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  CliRun r = RunZfactor({"factor", "--endpoint", gw.endpoint(), "12", "5*7"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "12: 2 2 3\n35: 5 7\n");
  auto reqs = gw.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(reqs[0].batch);
  ASSERT_EQ(reqs[0].numbers.size(), 2u);
  EXPECT_EQ(reqs[0].numbers[1].n, "35");  // expressions are evaluated before sending
  EXPECT_GT(reqs[0].wait_ms, 0u);
  EXPECT_EQ(reqs[1].job, "j-9");
}

TEST(CliRemoteTest, WrongAnswerFromServiceIsRejected) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    proto::Item it;
    it.answer = Answer("35", proto::JobState::kDone, "j-1");
    it.answer.result = proto::Result{"FF", {{"5", 1, "P"}, {"11", 1, "P"}}, "bug", 0};
    r.answers = std::vector<proto::Item>{it};
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  CliRun r = RunZfactor({"factor", "--endpoint", gw.endpoint(), "35"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("do not multiply to n"), std::string::npos) << r.err;
}

TEST(CliRemoteTest, ItemErrorsAndCompositeCofactorsSetExitStatus) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    proto::Item bad;
    bad.ok = false;
    bad.index = 0;
    bad.error = proto::MakeError(proto::ErrorCode::kTooLarge, "too many digits");
    proto::Item cf;
    cf.answer = Answer("1234", proto::JobState::kDone, "j-2");
    cf.answer.result = proto::Result{"CF", {{"2", 1, "P"}, {"617", 1, "C"}}, "budget out", 0};
    r.answers = std::vector<proto::Item>{bad, cf};
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  CliRun r = RunZfactor({"factor", "--endpoint", gw.endpoint(), "99", "1234"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "1234: 2 [C]617\n");
  EXPECT_NE(r.err.find("99: too_large: too many digits"), std::string::npos) << r.err;
}

TEST(CliRemoteTest, BusyIsRetried) {
  int calls = 0;
  FakeGateway gw([&calls](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    if (calls++ == 0) {
      r.ok = false;
      r.error = proto::MakeError(proto::ErrorCode::kBusy, "queue full");
      r.retry_after_ms = 10;
    } else {
      proto::Item it;
      it.answer = Answer("7", proto::JobState::kDone, "");
      it.answer.kind = proto::Kind::kIsPrime;
      it.answer.result = proto::Result{"P", {}, "bpsw", 0};
      r.answers = std::vector<proto::Item>{it};
    }
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  CliRun r = RunZfactor({"isprime", "--endpoint", gw.endpoint(), "7"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "7: prime\n");
  EXPECT_EQ(calls, 2);
}

TEST(CliRemoteTest, SubmitGetWaitCancelStats) {
  FakeGateway gw([](const proto::Request& req) {
    proto::Reply r = OkReply(req);
    switch (req.op) {
      case proto::Op::kFactor: {
        proto::Item it;
        it.answer = Answer(req.numbers[0].n, proto::JobState::kQueued, "j-5");
        r.answers = std::vector<proto::Item>{it};
        break;
      }
      case proto::Op::kGet:
        r.answer = Answer("77", proto::JobState::kRunning, req.job);
        // `zfactor get` asks for progress and prints it.
        if (req.progress) r.answer->progress = proto::Progress{"ecm", 0.5, {"7"}, 2500};
        break;
      case proto::Op::kCancel:
        r.answer = Answer("77", proto::JobState::kCancelled, req.job);
        break;
      case proto::Op::kWait:
        if (req.job == "nope") {
          r.ok = false;
          r.error = proto::MakeError(proto::ErrorCode::kUnknownJob, "no job nope");
        } else {
          r.answer = Answer("77", proto::JobState::kRunning, req.job);  // never finishes
          if (req.progress) r.answer->progress = proto::Progress{"siqs", 0.25, {}, 100};
        }
        break;
      case proto::Op::kStats:
        r.stats = proto::Stats{{"jobs_submitted", 4}, {"uptime_s", 2.5}};
        break;
      default:
        r.pong = true;
    }
    return std::vector<std::string>{proto::EncodeReply(r)};
  });
  const std::string ep = "--endpoint=" + gw.endpoint();
  CliRun r = RunZfactor({"submit", ep, "7*11"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "77: job j-5 (queued)\n");
  r = RunZfactor({"get", ep, "j-5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "77: <running> job j-5 (ecm 50%, 2 s ago; factors so far: 7)\n");
  r = RunZfactor({"wait", ep, "--timeout-ms", "50", "j-5"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "77: <running> job j-5\n");
  // --verbose: the running job's progress on stderr while waiting.
  r = RunZfactor({"wait", ep, "--verbose", "--timeout-ms", "300", "j-5"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("zfactor: 77: <running> job j-5 (siqs 25%, 0 s ago)"), std::string::npos)
      << r.err;
  r = RunZfactor({"wait", ep, "nope"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown_job"), std::string::npos);
  r = RunZfactor({"cancel", ep, "j-5"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "77: <cancelled> job j-5\n");
  r = RunZfactor({"stats", ep});
  EXPECT_EQ(r.out, "jobs_submitted: 4\nuptime_s: 2.5\n");
  r = RunZfactor({"stats", ep, "--json"});
  EXPECT_EQ(r.out, "{\"jobs_submitted\":4,\"uptime_s\":2.5}\n");
  r = RunZfactor({"ping", ep});
  EXPECT_EQ(r.out, "pong\n");
}

}  // namespace
}  // namespace zfactor::client
