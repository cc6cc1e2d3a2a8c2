#include "client/client.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "proto/codec.h"

namespace zfactor::client {

using proto::Error;
using proto::ErrorCode;
using proto::StatusOr;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

Client::Client(ClientOptions options, zmq::context_t* context) : options_(std::move(options)) {
  if (context == nullptr) context = &own_context_.emplace(1);
  socket_ = zmq::socket_t(*context, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  // Without a live connection a send waits (up to sndtimeo) instead of
  // queueing a request that would reach a gateway started much later.
  socket_.set(zmq::sockopt::immediate, 1);
  socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(options_.reply_timeout.count()));
  try {
    socket_.connect(options_.endpoint);
  } catch (const zmq::error_t& e) {
    init_error_ = proto::MakeError(ErrorCode::kUnavailable,
                                   "cannot connect to '" + options_.endpoint + "': " + e.what());
  }
}

StatusOr<proto::Reply> Client::Call(proto::Request request, milliseconds hold) {
  if (init_error_) return *init_error_;
  const int64_t id = next_id_++;
  request.id = id;
  const std::string body = proto::EncodeRequest(request);
  try {
    if (!socket_.send(zmq::buffer(body), zmq::send_flags::none)) {
      return proto::MakeError(ErrorCode::kUnavailable,
                              "cannot reach the gateway at " + options_.endpoint);
    }
    const auto deadline = Clock::now() + hold + options_.reply_timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, left) == 0) break;
      zmq::message_t msg;
      if (!socket_.recv(msg, zmq::recv_flags::dontwait)) continue;
      if (msg.more()) {  // the protocol's replies are one frame; drain and ignore others
        while (msg.more() && socket_.recv(msg, zmq::recv_flags::dontwait)) {
        }
        continue;
      }
      const std::string_view data(static_cast<const char*>(msg.data()), msg.size());
      StatusOr<proto::ClientMessage> decoded = proto::DecodeClientMessage(data);
      if (!decoded.ok()) {
        const proto::RequestId peek = proto::PeekRequestId(data);
        if (std::holds_alternative<int64_t>(peek) && std::get<int64_t>(peek) == id) {
          return proto::MakeError(ErrorCode::kInternal,
                                  "undecodable reply: " + decoded.error().message);
        }
        continue;
      }
      if (auto* event = std::get_if<proto::Event>(&decoded.value())) {
        KeepEvent(std::move(*event));
        continue;
      }
      proto::Reply& reply = std::get<proto::Reply>(decoded.value());
      if (std::holds_alternative<int64_t>(reply.id) && std::get<int64_t>(reply.id) == id) {
        return std::move(reply);
      }
      // A late reply to an earlier request that timed out: dropped.
    }
  } catch (const zmq::error_t& e) {
    return proto::MakeError(ErrorCode::kInternal, std::string("zmq: ") + e.what());
  }
  return proto::MakeError(ErrorCode::kTimeout,
                          "no reply from " + options_.endpoint + " within " +
                              std::to_string((hold + options_.reply_timeout).count()) + " ms");
}

StatusOr<proto::Reply> Client::CallOk(proto::Request request, milliseconds hold) {
  StatusOr<proto::Reply> reply = Call(std::move(request), hold);
  if (!reply.ok()) return reply;
  last_retry_after_ms_ = reply.value().retry_after_ms;
  if (!reply.value().ok) return reply.value().error;
  return reply;
}

proto::Status Client::Ping() {
  proto::Request req;
  req.op = proto::Op::kPing;
  StatusOr<proto::Reply> reply = CallOk(std::move(req), milliseconds(0));
  if (!reply.ok()) return reply.error();
  if (!reply.value().pong) return proto::MakeError(ErrorCode::kInternal, "ping reply without pong");
  return proto::Status::Ok();
}

StatusOr<proto::Stats> Client::Stats() {
  proto::Request req;
  req.op = proto::Op::kStats;
  StatusOr<proto::Reply> reply = CallOk(std::move(req), milliseconds(0));
  if (!reply.ok()) return reply.error();
  if (!reply.value().stats)
    return proto::MakeError(ErrorCode::kInternal, "stats reply without stats");
  return *std::move(reply).value().stats;
}

namespace {

proto::Request ComputeRequest(proto::Op op, const std::vector<std::string>& numbers, bool batch,
                              const ComputeOptions& options) {
  proto::Request req;
  req.op = op;
  req.batch = batch;
  for (const std::string& n : numbers) req.numbers.push_back(proto::NumberArg{n, std::nullopt});
  req.wait_ms = options.wait_ms;
  req.priority = options.priority;
  req.notify = options.notify;
  if (op == proto::Op::kFactor) req.max_seconds = options.max_seconds;
  return req;
}

}  // namespace

StatusOr<proto::Answer> Client::Compute(proto::Op op, const std::string& n,
                                        const ComputeOptions& options) {
  StatusOr<proto::Reply> reply =
      CallOk(ComputeRequest(op, {n}, false, options), milliseconds(options.wait_ms));
  if (!reply.ok()) return reply.error();
  if (!reply.value().answer) return proto::MakeError(ErrorCode::kInternal, "reply without answer");
  return *std::move(reply).value().answer;
}

StatusOr<std::vector<proto::Item>> Client::ComputeBatch(proto::Op op,
                                                        const std::vector<std::string>& numbers,
                                                        const ComputeOptions& options) {
  StatusOr<proto::Reply> reply =
      CallOk(ComputeRequest(op, numbers, true, options), milliseconds(options.wait_ms));
  if (!reply.ok()) return reply.error();
  if (!reply.value().answers)
    return proto::MakeError(ErrorCode::kInternal, "batch reply without answers");
  if (reply.value().answers->size() != numbers.size()) {
    return proto::MakeError(ErrorCode::kInternal,
                            "batch reply has " + std::to_string(reply.value().answers->size()) +
                                " answers for " + std::to_string(numbers.size()) + " numbers");
  }
  return *std::move(reply).value().answers;
}

StatusOr<proto::Answer> Client::Factor(const std::string& n, const ComputeOptions& options) {
  return Compute(proto::Op::kFactor, n, options);
}
StatusOr<proto::Answer> Client::IsPrime(const std::string& n, const ComputeOptions& options) {
  return Compute(proto::Op::kIsPrime, n, options);
}
StatusOr<std::vector<proto::Item>> Client::FactorBatch(const std::vector<std::string>& numbers,
                                                       const ComputeOptions& options) {
  return ComputeBatch(proto::Op::kFactor, numbers, options);
}
StatusOr<std::vector<proto::Item>> Client::IsPrimeBatch(const std::vector<std::string>& numbers,
                                                        const ComputeOptions& options) {
  return ComputeBatch(proto::Op::kIsPrime, numbers, options);
}

StatusOr<proto::Answer> Client::JobOp(proto::Op op, const std::string& job, milliseconds timeout,
                                      bool progress) {
  proto::Request req;
  req.op = op;
  req.job = job;
  req.progress = progress;
  req.timeout_ms = static_cast<uint32_t>(std::clamp<int64_t>(timeout.count(), 0, UINT32_MAX));
  StatusOr<proto::Reply> reply =
      CallOk(std::move(req), op == proto::Op::kWait ? timeout : milliseconds(0));
  if (!reply.ok()) return reply.error();
  if (!reply.value().answer) return proto::MakeError(ErrorCode::kInternal, "reply without answer");
  return *std::move(reply).value().answer;
}

StatusOr<proto::Answer> Client::Get(const std::string& job, bool progress) {
  return JobOp(proto::Op::kGet, job, milliseconds(0), progress);
}
StatusOr<proto::Answer> Client::Wait(const std::string& job, milliseconds timeout, bool progress) {
  return JobOp(proto::Op::kWait, job, timeout, progress);
}
StatusOr<proto::Answer> Client::Cancel(const std::string& job) {
  return JobOp(proto::Op::kCancel, job, milliseconds(0), false);
}

StatusOr<proto::Answer> Client::WaitFinal(
    const proto::Answer& answer, milliseconds timeout, milliseconds chunk,
    const std::function<void(const proto::Answer&)>& on_unfinished) {
  proto::Answer current = answer;
  const auto deadline = Clock::now() + timeout;
  while (!proto::IsFinal(current.state) && !current.job.empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    StatusOr<proto::Answer> next =
        Wait(current.job, std::min(left, chunk), on_unfinished != nullptr);
    if (!next.ok()) return next;
    current = std::move(next).value();
    if (on_unfinished && !proto::IsFinal(current.state)) on_unfinished(current);
  }
  return current;
}

void Client::KeepEvent(proto::Event event) {
  if (events_.size() >= std::max<size_t>(options_.max_kept_events, 1)) {
    events_.pop_front();
    ++events_dropped_;
  }
  events_.push_back(std::move(event));
}

std::vector<proto::Event> Client::TakeEvents() {
  std::vector<proto::Event> taken(std::make_move_iterator(events_.begin()),
                                  std::make_move_iterator(events_.end()));
  events_.clear();
  return taken;
}

std::optional<proto::Event> Client::NextEvent(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  try {
    while (events_.empty()) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, left) == 0) return std::nullopt;
      zmq::message_t msg;
      if (!socket_.recv(msg, zmq::recv_flags::dontwait)) continue;
      StatusOr<proto::ClientMessage> decoded = proto::DecodeClientMessage(
          std::string_view(static_cast<const char*>(msg.data()), msg.size()));
      if (!decoded.ok()) continue;
      if (auto* event = std::get_if<proto::Event>(&decoded.value())) KeepEvent(std::move(*event));
    }
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  proto::Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace zfactor::client
