// libFuzzer target for the gateway's request handlers. Each input is one
// client request body, sent over a real socket to an in-process gateway
// backed by an in-process broker with no workers (jobs stay queued and the
// small queue fills, so the busy paths run too). Properties checked:
//  - every body gets exactly one reply, and it decodes;
//  - an error reply carries a message;
//  - after every input the gateway still answers a ping.
// Held replies are capped at a few milliseconds (max_wait_ms) so that `wait`
// and `wait_ms` return quickly.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "broker/broker.h"
#include "core/log.h"
#include "core/zmq_util.h"
#include "gateway/gateway.h"
#include "proto/codec.h"

namespace {

using namespace zfactor;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "gateway_fuzz: %s\n", what);
    std::abort();
  }
}

std::string CachePath() {
  static const std::string path =
      "/tmp/zfactor-gateway-fuzz-" + std::to_string(getpid()) + ".db";
  return path;
}

void RemoveCache() {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((CachePath() + suffix).c_str());
}

// Built once, never destroyed: libFuzzer ends the process with exit(), which
// removes the cache files.
struct Service {
  Service() {
    core::InitLogging("gateway_fuzz", core::LogLevel::kError);
    broker::BrokerConfig bc;
    bc.front = bc.back = bc.pub = "tcp://127.0.0.1:*";
    bc.max_queue = 200;
    broker = std::make_unique<broker::Broker>(bc);
    Check(broker->Bind().ok(), "broker bind");
    broker_thread = std::thread([this] { broker->Run(); });

    gateway::GatewayConfig gc;
    gc.listen = "tcp://127.0.0.1:*";
    gc.broker = broker->front_endpoint();
    gc.results = broker->pub_endpoint();
    gc.cache_path = CachePath();
    std::atexit(RemoveCache);
    gc.max_wait_ms = 5;
    gc.heartbeat_ms = 200;
    auto created = gateway::Gateway::Create(gc);
    Check(created.ok(), "gateway create");
    gw = std::move(created).value();
    gateway_thread = std::thread([this] { gw->Run(); });

    client.set(zmq::sockopt::linger, 0);
    client.connect(gw->listen_endpoint());
  }

  // Sends one body and returns the reply to it (events for earlier
  // requests are skipped); aborts when none comes.
  proto::Reply Call(const std::string& body) {
    Check(core::SendMultipart(client, {body}, zmq::send_flags::none), "send");
    std::vector<zmq::message_t> frames;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{client.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      Check(core::RecvMultipart(client, &frames, zmq::recv_flags::dontwait), "recv");
      Check(frames.size() == 1, "one frame per reply");
      auto message = proto::DecodeClientMessage(core::ToString(frames[0]));
      Check(message.ok(), "the reply decodes");
      if (std::holds_alternative<proto::Event>(message.value())) continue;
      return std::get<proto::Reply>(message.value());
    }
    Check(false, "no reply within 10 s");
    return {};
  }

  zmq::context_t context{1};
  zmq::socket_t client{context, zmq::socket_type::dealer};
  std::unique_ptr<broker::Broker> broker;
  std::unique_ptr<gateway::Gateway> gw;
  std::thread broker_thread, gateway_thread;
};

Service& TheService() {
  static Service* service = new Service();
  return *service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Service& s = TheService();
  const proto::Reply reply = s.Call(std::string(reinterpret_cast<const char*>(data), size));
  Check(reply.ok || !reply.error.message.empty(), "an error reply has a message");
  proto::Request ping;
  ping.op = proto::Op::kPing;
  ping.id = int64_t{1};
  const proto::Reply pong = s.Call(proto::EncodeRequest(ping));
  Check(pong.ok && pong.pong, "the gateway still answers ping");
  return 0;
}
