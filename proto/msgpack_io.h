// Strict reading and simple writing of msgpack maps with string keys: the
// building blocks of codec.cc. Internal to proto/.
#ifndef ZFACTOR_PROTO_MSGPACK_IO_H_
#define ZFACTOR_PROTO_MSGPACK_IO_H_

#include <msgpack.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.h"

namespace zfactor::proto::internal {

// Parses exactly one msgpack object from `body` with tight size limits.
// Never throws: undecodable, truncated or trailing bytes give kMalformed.
StatusOr<msgpack::object_handle> Parse(std::string_view body);

// Reads the keys of one map. Every accessor marks its key as consumed;
// Finish() reports any key nobody asked for as kUnknownField.
// REQUIRES: the object outlives the reader.
class MapReader {
 public:
  // `what` names the map in error messages ("request", "factor", ...).
  static StatusOr<MapReader> Open(const msgpack::object& object, std::string what);

  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Each returns nullopt when the key is absent; an Error when present with
  // the wrong type or range; otherwise the value.
  StatusOr<std::optional<std::string>> Str(std::string_view key, size_t max_len = 1 << 20);
  StatusOr<std::optional<uint64_t>> Uint(std::string_view key, uint64_t max = UINT64_MAX);
  StatusOr<std::optional<int64_t>> Int(std::string_view key, int64_t min, int64_t max);
  StatusOr<std::optional<double>> Float(std::string_view key);  // accepts ints too
  StatusOr<std::optional<bool>> Bool(std::string_view key);
  // Raw access for polymorphic fields; marks the key consumed.
  const msgpack::object* Take(std::string_view key);

  // Like the above, but absence is an error (kBadRequest "missing key").
  StatusOr<std::string> RequireStr(std::string_view key, size_t max_len = 1 << 20);
  StatusOr<uint64_t> RequireUint(std::string_view key, uint64_t max = UINT64_MAX);

  // kUnknownField for the first key that no accessor consumed.
  Status Finish() const;

  const std::string& what() const { return what_; }

 private:
  MapReader(const msgpack::object_kv* entries, uint32_t size, std::string what);
  const msgpack::object* Find(std::string_view key) const;
  Error TypeError(std::string_view key, const char* expected) const;

  const msgpack::object_kv* entries_;
  uint32_t size_;
  std::string what_;
  std::vector<bool> consumed_;
};

// First allocation of the buffers we pack into. msgpack-c's default (8 KiB)
// cost one 8 KiB malloc per nested map of every message; bodies are mostly
// well under 256 bytes, and sbuffer grows by doubling past it.
inline constexpr size_t kPackBufferBytes = 256;

// Packs a map whose size is only known at the end.
class MapWriter {
 public:
  MapWriter() : body_(kPackBufferBytes), packer_(&body_) {}

  msgpack::packer<msgpack::sbuffer>& Key(std::string_view key);
  void Str(std::string_view key, std::string_view value);
  void Uint(std::string_view key, uint64_t value);
  void Int(std::string_view key, int64_t value);
  void Float(std::string_view key, double value);
  void Bool(std::string_view key, bool value);
  // Appends an already-packed object (e.g. a nested map) under `key`.
  void Raw(std::string_view key, const std::string& packed);

  // The complete map: header plus entries.
  std::string Done() const;

 private:
  msgpack::sbuffer body_;
  msgpack::packer<msgpack::sbuffer> packer_;
  uint32_t count_ = 0;
};

void PackStr(msgpack::packer<msgpack::sbuffer>& packer, std::string_view s);

}  // namespace zfactor::proto::internal

#endif  // ZFACTOR_PROTO_MSGPACK_IO_H_
