// libFuzzer target for every protocol decoder. Properties checked on any
// bytes: decoders never crash, throw or report an error without a message,
// and whatever decodes re-encodes to something that decodes again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/codec.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zfactor::proto;
  std::string_view body(reinterpret_cast<const char*>(data), size);

  auto request = DecodeRequest(body);
  if (request.ok()) {
    Check(DecodeRequest(EncodeRequest(request.value())).ok());
  } else {
    Check(!request.error().message.empty());
  }
  (void)PeekRequestId(body);

  auto message = DecodeClientMessage(body);
  if (message.ok()) {
    if (const auto* reply = std::get_if<Reply>(&message.value())) {
      Check(DecodeClientMessage(EncodeReply(*reply)).ok());
    } else {
      Check(DecodeClientMessage(EncodeEvent(std::get<Event>(message.value()))).ok());
    }
  }

  auto internal = DecodeInternal(body);
  if (internal.ok()) Check(DecodeInternal(EncodeInternal(internal.value())).ok());
  return 0;
}
