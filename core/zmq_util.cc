#include "core/zmq_util.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

namespace zfactor::core {

using proto::ErrorCode;
using proto::MakeError;

proto::StatusOr<std::string> Bind(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.bind(endpoint);
    std::string bound = socket.get(zmq::sockopt::last_endpoint);
    const std::string wildcard = "tcp://0.0.0.0:";
    if (bound.compare(0, wildcard.size(), wildcard) == 0) {
      bound = "tcp://127.0.0.1:" + bound.substr(wildcard.size());
    }
    return bound;
  } catch (const zmq::error_t& e) {
    return MakeError(ErrorCode::kUnavailable, "cannot bind " + endpoint + ": " + e.what());
  }
}

proto::Status WriteReadyFile(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [name, endpoint] : entries) out << name << "=" << endpoint << "\n";
    out.flush();
    if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return MakeError(ErrorCode::kInternal, "cannot rename " + tmp + " to " + path);
  }
  return proto::Status::Ok();
}

bool RecvMultipart(zmq::socket_t& socket, std::vector<zmq::message_t>* frames,
                   zmq::recv_flags flags) {
  frames->clear();
  try {
    while (true) {
      zmq::message_t frame;
      if (!socket.recv(frame, flags)) return !frames->empty();
      bool more = frame.more();
      frames->push_back(std::move(frame));
      if (!more) return true;
      flags = zmq::recv_flags::none;  // the rest of a message is already here
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

SendResult TrySendMultipart(zmq::socket_t& socket, const std::vector<std::string>& frames,
                            zmq::send_flags flags) {
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq::send_flags f = flags;
      if (i + 1 < frames.size()) f = f | zmq::send_flags::sndmore;
      // Only the first frame can meet a full queue: ZeroMQ takes the rest of
      // a message once its first frame is in.
      if (!socket.send(zmq::buffer(frames[i]), f)) return SendResult::kFull;
    }
    return SendResult::kSent;
  } catch (const zmq::error_t&) {
    return SendResult::kGone;
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace zfactor::core
