// A fake gateway for client tests: a ROUTER on an OS-picked loopback port,
// served by a thread that decodes each request and sends back whatever the
// test's handler returns.
#ifndef ZFACTOR_TESTS_CLIENT_FAKE_GATEWAY_H_
#define ZFACTOR_TESTS_CLIENT_FAKE_GATEWAY_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "proto/codec.h"

namespace zfactor::client {

// A ROUTER on an OS-picked loopback port that answers each decoded request
// with the bodies its handler returns (possibly none).
class FakeGateway {
 public:
  using Handler = std::function<std::vector<std::string>(const proto::Request&)>;

  explicit FakeGateway(Handler handler)
      : handler_(std::move(handler)), socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeGateway() {
    stop_ = true;
    thread_.join();
  }

  const std::string& endpoint() const { return endpoint_; }
  std::vector<proto::Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  int frames_seen() const { return frames_seen_; }

 private:
  void Run() {
    while (!stop_) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
      std::vector<zmq::message_t> frames;
      (void)zmq::recv_multipart(socket_, std::back_inserter(frames));
      frames_seen_ = static_cast<int>(frames.size());
      auto req = proto::DecodeRequest(frames.back().to_string_view());
      ASSERT_TRUE(req.ok()) << req.error().message;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(req.value());
      }
      for (const std::string& body : handler_(req.value())) {
        socket_.send(zmq::buffer(frames[0].to_string_view()), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(body), zmq::send_flags::none);
      }
    }
  }

  Handler handler_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> frames_seen_{0};
  std::mutex mutex_;
  std::vector<proto::Request> requests_;
};

inline proto::Reply OkReply(const proto::Request& req) {
  proto::Reply r;
  r.id = req.id;
  return r;
}

}  // namespace zfactor::client

#endif  // ZFACTOR_TESTS_CLIENT_FAKE_GATEWAY_H_
