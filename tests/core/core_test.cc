#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/flags.h"
#include "core/zmq_util.h"

namespace zfactor::core {
namespace {

proto::Status ParseArgs(Flags& flags, std::vector<std::string> args) {
  std::vector<char*> argv;
  static char prog[] = "prog";
  argv.push_back(prog);
  for (auto& a : args) argv.push_back(a.data());
  return flags.Parse(static_cast<int>(argv.size()), argv.data());
}

TEST(Flags, ParsesEveryTypeAndForm) {
  std::string name = "x";
  int count = 1;
  double ratio = 0.5;
  bool verbose = false;
  Flags flags("prog [options]");
  flags.Define("name", &name, "a name");
  flags.Define("count", &count, "a count");
  flags.Define("ratio", &ratio, "a ratio");
  flags.Define("verbose", &verbose, "talk more");
  ASSERT_TRUE(ParseArgs(flags, {"--name", "y", "--count=7", "pos", "--ratio", "2.5", "--verbose"}).ok());
  EXPECT_EQ(name, "y");
  EXPECT_EQ(count, 7);
  EXPECT_EQ(ratio, 2.5);
  EXPECT_TRUE(verbose);
  EXPECT_EQ(flags.positional(), std::vector<std::string>{"pos"});
  EXPECT_NE(flags.Help().find("--count VALUE"), std::string::npos);
  EXPECT_NE(flags.Help().find("(default: 1)"), std::string::npos);
}

TEST(Flags, RejectsUnknownAndBadValues) {
  int count = 1;
  Flags flags("prog");
  flags.Define("count", &count, "a count");
  EXPECT_FALSE(ParseArgs(flags, {"--nope"}).ok());
  EXPECT_FALSE(ParseArgs(flags, {"--count", "seven"}).ok());
  EXPECT_FALSE(ParseArgs(flags, {"--count"}).ok());
  EXPECT_FALSE(ParseArgs(flags, {"--count=99999999999"}).ok());
}

TEST(ZmqUtil, BindsAnOsPickedPortAndWritesTheReadyFile) {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router);
  auto bound = Bind(router, "tcp://127.0.0.1:*");
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(bound.value().rfind("tcp://127.0.0.1:", 0), 0u);
  EXPECT_NE(bound.value(), "tcp://127.0.0.1:*");

  zmq::socket_t second(ctx, zmq::socket_type::router);
  EXPECT_FALSE(Bind(second, bound.value()).ok());  // port taken: an error value, no throw

  std::string path = testing::TempDir() + "ready-" + std::to_string(getpid());
  ASSERT_TRUE(WriteReadyFile(path, {{"front", bound.value()}, {"pub", "tcp://x:1"}}).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "front=" + bound.value() + "\npub=tcp://x:1\n");
  std::remove(path.c_str());
}

TEST(ZmqUtil, SendsAndReceivesMultipart) {
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router);
  auto bound = Bind(router, "tcp://127.0.0.1:*");
  ASSERT_TRUE(bound.ok());
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.connect(bound.value());
  ASSERT_TRUE(SendMultipart(dealer, {"a", "bc"}, zmq::send_flags::none));
  std::vector<zmq::message_t> frames;
  ASSERT_TRUE(RecvMultipart(router, &frames));
  ASSERT_EQ(frames.size(), 3u);  // identity + 2
  EXPECT_EQ(ToString(frames[1]), "a");
  EXPECT_EQ(ToString(frames[2]), "bc");
  EXPECT_FALSE(RecvMultipart(router, &frames, zmq::recv_flags::dontwait));
}

TEST(ZmqUtil, TellsAFullQueueFromAVanishedPeer) {
  zmq::context_t ctx(1);
  // A DEALER with no peer connected has nowhere to queue: EAGAIN.
  zmq::socket_t lonely(ctx, zmq::socket_type::dealer);
  lonely.set(zmq::sockopt::linger, 0);
  EXPECT_EQ(TrySendMultipart(lonely, {"x"}), SendResult::kFull);
  // A ROUTER with ZMQ_ROUTER_MANDATORY and an unknown identity: EHOSTUNREACH.
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::router_mandatory, 1);
  EXPECT_EQ(TrySendMultipart(router, {"nobody", "x"}), SendResult::kGone);
  EXPECT_FALSE(SendMultipart(router, {"nobody", "x"}));
}

}  // namespace
}  // namespace zfactor::core
