// msgpack encoding and decoding of every message in messages.h.
//
// Decoders never throw and never crash on any input: bad bytes come back as
// an Error with the code PROTOCOL.md assigns (malformed, bad_request,
// unknown_field, ...). Encoders produce exactly what the decoders accept.
#ifndef ZFACTOR_PROTO_CODEC_H_
#define ZFACTOR_PROTO_CODEC_H_

#include <string>
#include <string_view>
#include <variant>

#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::proto {

// ---- client <-> gateway ----

// Decodes a request body. Number arguments are validated against `limits`;
// a bad single `n` fails the whole request, a bad element of `numbers` only
// marks that NumberArg. On failure the Error is what the gateway replies.
StatusOr<Request> DecodeRequest(std::string_view body, const Limits& limits = {});
std::string EncodeRequest(const Request& request);

std::string EncodeReply(const Reply& reply);
std::string EncodeEvent(const Event& event);

// What a client can receive: a reply to one of its requests, or an event.
using ClientMessage = std::variant<Reply, Event>;
StatusOr<ClientMessage> DecodeClientMessage(std::string_view body);

// Best-effort extraction of the `id` of a body that failed to decode, so the
// error reply can still carry it. Returns monostate when there is none.
RequestId PeekRequestId(std::string_view body);

// Checks one number argument the way DecodeRequest does: canonical decimal
// digits, not negative, at most max_digits long.
StatusOr<std::string> ValidateNumber(std::string_view text, size_t max_digits);

// ---- internal (front, back, PUB) ----

std::string EncodeInternal(const Internal& message);
StatusOr<Internal> DecodeInternal(std::string_view body);

// The PUB topic frame for a message: "result", "state" or "progress" for
// kResult, kState and kProgress.
const char* PubTopic(MsgType type);

}  // namespace zfactor::proto

#endif  // ZFACTOR_PROTO_CODEC_H_
