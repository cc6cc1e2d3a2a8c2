// ZeroMQ helpers shared by every process: binding with OS-picked ports,
// ready-files, multipart send/receive, and a monotonic clock.
#ifndef ZFACTOR_CORE_ZMQ_UTIL_H_
#define ZFACTOR_CORE_ZMQ_UTIL_H_

#include <zmq.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proto/error.h"

namespace zfactor::core {

// Binds `socket` to `endpoint` (which may use port `*`) and returns the
// endpoint actually bound (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:41233".
// A wildcard host in the result ("0.0.0.0") is reported as 127.0.0.1 so the
// string can be used to connect locally.
proto::StatusOr<std::string> Bind(zmq::socket_t& socket, const std::string& endpoint);

// Writes `name=endpoint` lines to `path` atomically (temporary file + rename),
// so a reader never sees a half-written file.
proto::Status WriteReadyFile(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& entries);

// Receives all frames of one message. Returns false when nothing was received
// (EAGAIN with ZMQ_DONTWAIT, or interrupted).
bool RecvMultipart(zmq::socket_t& socket, std::vector<zmq::message_t>* frames,
                   zmq::recv_flags flags = zmq::recv_flags::none);

// What became of a message given to TrySendMultipart.
enum class SendResult {
  kSent,  // queued
  kFull,  // EAGAIN: the peer's queue is at its high-water mark (it is not reading)
  kGone,  // the peer is not connected (EHOSTUNREACH on a ROUTER with
          // ZMQ_ROUTER_MANDATORY), or another send error
};

// Sends `frames` as one message.
SendResult TrySendMultipart(zmq::socket_t& socket, const std::vector<std::string>& frames,
                            zmq::send_flags flags = zmq::send_flags::dontwait);

// TrySendMultipart for callers that only need to know whether it was queued.
inline bool SendMultipart(zmq::socket_t& socket, const std::vector<std::string>& frames,
                          zmq::send_flags flags = zmq::send_flags::dontwait) {
  return TrySendMultipart(socket, frames, flags) == SendResult::kSent;
}

inline std::string ToString(const zmq::message_t& m) { return std::string(m.data<char>(), m.size()); }

// Milliseconds on a monotonic clock.
int64_t NowMs();

}  // namespace zfactor::core

#endif  // ZFACTOR_CORE_ZMQ_UTIL_H_
