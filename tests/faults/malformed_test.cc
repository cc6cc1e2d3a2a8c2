// Every kind of malformed client message against the real gateway: each gets
// the error code PROTOCOL.md section 2.5 assigns, the gateway keeps running,
// and a normal request still works afterwards.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <msgpack.hpp>
#include <random>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "proto/codec.h"
#include "tests/support/cluster.h"
#include "tests/support/cluster_test.h"

namespace zfactor::faults {

using namespace support;  // the shared harness: Cluster, ScratchDir, ...
namespace {

using std::chrono::milliseconds;
using Packer = msgpack::packer<msgpack::sbuffer>;

std::string Pack(const std::function<void(Packer&)>& write) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  write(packer);
  return std::string(buffer.data(), buffer.size());
}

// A map of string keys to values, each value written by its own function.
using Fields = std::vector<std::pair<std::string, std::function<void(Packer&)>>>;
std::string Map(const Fields& fields) {
  return Pack([&](Packer& p) {
    p.pack_map(static_cast<uint32_t>(fields.size()));
    for (const auto& [key, value] : fields) {
      p.pack(key);
      value(p);
    }
  });
}
std::function<void(Packer&)> Str(std::string s) {
  return [s](Packer& p) { p.pack(s); };
}
std::function<void(Packer&)> Int(int64_t v) {
  return [v](Packer& p) { p.pack(v); };
}

// A raw DEALER socket: sends exactly the frames given, returns the error
// code of the reply ("ok" for a successful reply, "no reply" on timeout).
class RawClient {
 public:
  RawClient(zmq::context_t& context, const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.connect(endpoint);
  }

  void Send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      (void)socket_.send(zmq::buffer(frames[i]), flags);
    }
  }

  // The next reply's code, or "no reply".
  std::string Receive(milliseconds timeout, proto::Reply* out = nullptr) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return "no reply";
    std::vector<zmq::message_t> frames;
    do {
      frames.emplace_back();
      if (!socket_.recv(frames.back(), zmq::recv_flags::none)) return "no reply";
    } while (frames.back().more());
    auto decoded = proto::DecodeClientMessage(frames.back().to_string_view());
    if (!decoded.ok()) return "undecodable reply: " + decoded.error().message;
    auto* reply = std::get_if<proto::Reply>(&decoded.value());
    if (reply == nullptr) return "event instead of a reply";
    if (out != nullptr) *out = *reply;
    return reply->ok ? "ok" : proto::ErrorCodeName(reply->error.code);
  }

  std::string Ask(const std::vector<std::string>& frames, proto::Reply* out = nullptr) {
    Send(frames);
    return Receive(milliseconds(20000), out);
  }

 private:
  zmq::socket_t socket_;
};

class MalformedTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(cluster_->StartBroker());
    ASSERT_TRUE(cluster_->StartGateway({"--max-digits", "100", "--max-batch", "10"}));
    client_ = std::make_unique<RawClient>(context_, cluster_->listen());
  }

  // Sends `body` as one frame and expects `code`; counts the try.
  void Expect(const std::string& what, const std::string& body, const std::string& code) {
    ExpectFrames(what, {body}, code);
  }
  void ExpectFrames(const std::string& what, const std::vector<std::string>& frames,
                    const std::string& code) {
    ++tried_;
    EXPECT_EQ(client_->Ask(frames), code) << what;
  }

  void ExpectStillServing() {
    proto::Reply reply;
    EXPECT_EQ(client_->Ask({Map({{"op", Str("factor")}, {"n", Str("1001")}, {"id", Int(7)}})},
                           &reply),
              "ok");
    ASSERT_TRUE(reply.answer.has_value());
    EXPECT_EQ(VerifyFactorAnswer(*reply.answer), "");
    EXPECT_TRUE(cluster_->GatewayAlive());
  }

  zmq::context_t context_{1};
  std::unique_ptr<RawClient> client_;
  int tried_ = 0;
};

TEST_F(MalformedTest, EveryMalformedKindGetsItsCode) {
  const std::string ping = Map({{"op", Str("ping")}});
  // Frame layouts.
  ExpectFrames("three frames", {"", "", ping}, "malformed");
  ExpectFrames("non-empty first of two frames", {"x", ping}, "malformed");
  ExpectFrames("four frames", {"", ping, ping, ping}, "malformed");
  ExpectFrames("empty body after a delimiter", {"", ""}, "malformed");
  Expect("empty body", "", "malformed");
  EXPECT_EQ(client_->Ask({"", ping}), "ok") << "delimiter + body is valid";

  // Garbage, truncation, trailing bytes, not a map.
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string garbage(1 + rng() % 64, '\0');
    for (char& ch : garbage) ch = static_cast<char>(rng());
    garbage[0] = '\xc1';  // a byte msgpack never uses: can never decode
    Expect("garbage " + std::to_string(i), garbage, "malformed");
  }
  const std::string full =
      Map({{"op", Str("factor")}, {"n", Str("340282366920938463463374607431768211457")},
           {"id", Str("abc")}, {"wait_ms", Int(0)}});
  for (std::size_t len = 1; len < full.size(); ++len)
    Expect("truncated to " + std::to_string(len), full.substr(0, len), "malformed");
  Expect("trailing byte", ping + std::string(1, '\0'), "malformed");
  Expect("trailing map", ping + ping, "malformed");
  Expect("array", Pack([](Packer& p) { p.pack_array(1); p.pack(std::string("ping")); }),
         "malformed");
  Expect("string", Pack([](Packer& p) { p.pack(std::string("ping")); }), "malformed");
  Expect("integer", Pack([](Packer& p) { p.pack(42); }), "malformed");
  Expect("nil", Pack([](Packer& p) { p.pack_nil(); }), "malformed");
  // A map, but a key that is not a string: a wrong type (section 1 wants string keys).
  Expect("int key", Pack([](Packer& p) {
           p.pack_map(1);
           p.pack(1);
           p.pack(std::string("ping"));
         }),
         "bad_request");
  Expect("body over 1 MiB", Map({{"op", Str("ping")}, {"id", Str(std::string(1100000, 'x'))}}),
         "too_large");

  // Wrong types and ranges, missing keys, unknown op.
  Expect("no op", Map({{"n", Str("12")}}), "bad_request");
  Expect("op is an int", Map({{"op", Int(3)}}), "bad_request");
  Expect("unknown op", Map({{"op", Str("frobnicate")}}), "bad_request");
  Expect("factor without n", Map({{"op", Str("factor")}}), "bad_request");
  // `n` of another type is "not a decimal string of ASCII digits": bad_number.
  Expect("n is an array", Map({{"op", Str("factor")}, {"n", [](Packer& p) { p.pack_array(0); }}}),
         "bad_number");
  Expect("n is a bool", Map({{"op", Str("factor")}, {"n", [](Packer& p) { p.pack_true(); }}}),
         "bad_number");
  Expect("n is a float", Map({{"op", Str("factor")}, {"n", [](Packer& p) { p.pack(12.5); }}}),
         "bad_number");
  Expect("n and numbers",
         Map({{"op", Str("factor")}, {"n", Str("12")}, {"numbers", [](Packer& p) {
                p.pack_array(1);
                p.pack(std::string("12"));
              }}}),
         "bad_request");
  Expect("numbers is a string", Map({{"op", Str("factor")}, {"numbers", Str("12")}}),
         "bad_request");
  Expect("empty batch",
         Map({{"op", Str("factor")}, {"numbers", [](Packer& p) { p.pack_array(0); }}}),
         "bad_request");
  Expect("wait_ms is a string",
         Map({{"op", Str("factor")}, {"n", Str("12")}, {"wait_ms", Str("5")}}), "bad_request");
  Expect("wait_ms negative", Map({{"op", Str("factor")}, {"n", Str("12")}, {"wait_ms", Int(-1)}}),
         "bad_request");
  Expect("priority 10", Map({{"op", Str("factor")}, {"n", Str("12")}, {"priority", Int(10)}}),
         "bad_request");
  Expect("priority -1", Map({{"op", Str("factor")}, {"n", Str("12")}, {"priority", Int(-1)}}),
         "bad_request");
  Expect("notify is an int", Map({{"op", Str("factor")}, {"n", Str("12")}, {"notify", Int(1)}}),
         "bad_request");
  Expect("max_seconds 0", Map({{"op", Str("factor")}, {"n", Str("12")}, {"max_seconds", Int(0)}}),
         "bad_request");
  Expect("max_seconds is a string",
         Map({{"op", Str("factor")}, {"n", Str("12")}, {"max_seconds", Str("1")}}), "bad_request");
  Expect("id is a map", Map({{"op", Str("ping")}, {"id", [](Packer& p) { p.pack_map(0); }}}),
         "bad_request");
  Expect("id over 64 bytes", Map({{"op", Str("ping")}, {"id", Str(std::string(65, 'i'))}}),
         "bad_request");
  Expect("job is an int", Map({{"op", Str("get")}, {"job", Int(5)}}), "bad_request");
  Expect("get without job", Map({{"op", Str("get")}}), "bad_request");
  Expect("wait without timeout_ms", Map({{"op", Str("wait")}, {"job", Str("j-1")}}),
         "bad_request");

  // Unknown fields and versions.
  Expect("unknown field", Map({{"op", Str("factor")}, {"n", Str("12")}, {"colour", Str("red")}}),
         "unknown_field");
  Expect("field of another op", Map({{"op", Str("ping")}, {"n", Str("12")}}), "unknown_field");
  Expect("job on factor", Map({{"op", Str("factor")}, {"n", Str("12")}, {"job", Str("j-1")}}),
         "unknown_field");
  Expect("v 2", Map({{"op", Str("ping")}, {"v", Int(2)}}), "unsupported_version");
  EXPECT_EQ(client_->Ask({Map({{"op", Str("ping")}, {"v", Int(1)}})}), "ok");

  // Numbers.
  Expect("101 digits", Map({{"op", Str("factor")}, {"n", Str(std::string(101, '7'))}}),
         "too_large");
  Expect("batch of 11",
         Map({{"op", Str("factor")}, {"numbers", [](Packer& p) {
                p.pack_array(11);
                for (int i = 0; i < 11; ++i) p.pack(std::string("12"));
              }}}),
         "too_large");
  Expect("negative string", Map({{"op", Str("factor")}, {"n", Str("-5")}}), "negative");
  Expect("negative int", Map({{"op", Str("isprime")}, {"n", Int(-5)}}), "negative");
  const std::vector<std::string> bad_numbers{
      "", "007", "00", " 12", "12 ", "+12", "1e5", "12a", "0x10", "1_000",
      "\xd9\xa1\xd9\xa2",          // Arabic-Indic digits 1 2
      "\xef\xbc\x91\xef\xbc\x92",  // fullwidth digits 1 2
      "\xff\xfe", std::string("1\0" "2", 3)};
  for (const std::string& bad : bad_numbers) {
    Expect("bad number '" + bad + "'", Map({{"op", Str("factor")}, {"n", Str(bad)}}),
           "bad_number");
  }
  // A bad element fails only its item.
  proto::Reply batch;
  EXPECT_EQ(client_->Ask({Map({{"op", Str("factor")}, {"numbers", [](Packer& p) {
                                 p.pack_array(3);
                                 p.pack(std::string("12"));
                                 p.pack(std::string("-3"));
                                 p.pack(std::string("0012"));
                               }}})},
                         &batch),
            "ok");
  ++tried_;
  ASSERT_TRUE(batch.answers.has_value());
  ASSERT_EQ(batch.answers->size(), 3u);
  EXPECT_TRUE((*batch.answers)[0].ok);
  EXPECT_EQ((*batch.answers)[1].error.code, proto::ErrorCode::kNegative);
  EXPECT_EQ((*batch.answers)[2].error.code, proto::ErrorCode::kBadNumber);

  // 0 and 1 are not errors: Zero and U.
  for (const auto& [n, status] : std::vector<std::pair<std::string, std::string>>{
           {"0", "Zero"}, {"1", "U"}}) {
    proto::Reply reply;
    EXPECT_EQ(client_->Ask({Map({{"op", Str("factor")}, {"n", Str(n)}})}, &reply), "ok") << n;
    ASSERT_TRUE(reply.answer && reply.answer->result) << n;
    EXPECT_EQ(reply.answer->result->status, status) << n;
    EXPECT_TRUE(reply.answer->result->factors.empty()) << n;
    EXPECT_EQ(client_->Ask({Map({{"op", Str("factor")}, {"n", Int(n == "0" ? 0 : 1)}})}, &reply),
              "ok");
    EXPECT_EQ(reply.answer->result->status, status) << n;
  }

  // Unknown job ids.
  for (const char* op : {"get", "cancel"})
    Expect(std::string(op) + " unknown job", Map({{"op", Str(op)}, {"job", Str("j-nope")}}),
           "unknown_job");
  Expect("wait unknown job",
         Map({{"op", Str("wait")}, {"job", Str("j-nope")}, {"timeout_ms", Int(10)}}),
         "unknown_job");

  ExpectStillServing();
  std::printf("[faults] malformed: %d inputs tried, gateway crashes: %d\n", tried_,
              cluster_->GatewayAlive() ? 0 : 1);
}

TEST_F(MalformedTest, FloodOfTenThousandRequestsFromOneClient) {
  // Pipelined: up to kWindow requests in flight, half pings and half garbage.
  constexpr int kTotal = 10000, kWindow = 500;
  int sent = 0, received = 0, pongs = 0, malformed = 0, other = 0;
  const std::string ping = Map({{"op", Str("ping")}});
  const std::string garbage = "\xc1garbage";
  while (received < kTotal) {
    while (sent < kTotal && sent - received < kWindow) {
      client_->Send({sent % 2 == 0 ? ping : garbage});
      ++sent;
    }
    const std::string code = client_->Receive(milliseconds(30000));
    if (code == "no reply") break;
    ++received;
    if (code == "ok") {
      ++pongs;
    } else if (code == "malformed") {
      ++malformed;
    } else {
      ++other;
    }
  }
  std::printf("[faults] flood: %d sent, %d replies (%d ok, %d malformed, %d other)\n", sent,
              received, pongs, malformed, other);
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(pongs, kTotal / 2);
  EXPECT_EQ(malformed, kTotal / 2);
  ExpectStillServing();
}

}  // namespace
}  // namespace zfactor::faults
