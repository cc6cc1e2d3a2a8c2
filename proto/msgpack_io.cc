#include "proto/msgpack_io.h"

#include <cmath>
#include <exception>

namespace zfactor::proto::internal {
namespace {

// Copy every string into the object's zone: decoded messages never point
// into the caller's buffer.
bool NeverReference(msgpack::type::object_type, std::size_t, void*) { return false; }

const msgpack::unpack_limit kLimits(/*array=*/100000, /*map=*/256, /*str=*/1 << 20,
                                    /*bin=*/1 << 20, /*ext=*/1 << 10, /*depth=*/8);

}  // namespace

StatusOr<msgpack::object_handle> Parse(std::string_view body) {
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle;
    msgpack::unpack(handle, body.data(), body.size(), offset, NeverReference, nullptr, kLimits);
    if (offset != body.size()) {
      return MakeError(ErrorCode::kMalformed, "trailing bytes after the msgpack object");
    }
    return handle;
  } catch (const msgpack::insufficient_bytes&) {
    return MakeError(ErrorCode::kMalformed, "truncated msgpack");
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kMalformed, std::string("undecodable msgpack: ") + e.what());
  } catch (...) {
    return MakeError(ErrorCode::kMalformed, "undecodable msgpack");
  }
}

MapReader::MapReader(const msgpack::object_kv* entries, uint32_t size, std::string what)
    : entries_(entries), size_(size), what_(std::move(what)), consumed_(size, false) {}

StatusOr<MapReader> MapReader::Open(const msgpack::object& object, std::string what) {
  if (object.type != msgpack::type::MAP) {
    return MakeError(ErrorCode::kMalformed, what + " is not a msgpack map");
  }
  const auto& map = object.via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    const msgpack::object& key = map.ptr[i].key;
    if (key.type != msgpack::type::STR) {
      return MakeError(ErrorCode::kBadRequest, what + " has a key that is not a string");
    }
    std::string_view name(key.via.str.ptr, key.via.str.size);
    for (uint32_t j = 0; j < i; ++j) {
      const auto& other = map.ptr[j].key.via.str;
      if (name == std::string_view(other.ptr, other.size)) {
        return MakeError(ErrorCode::kBadRequest,
                         what + " repeats the key '" + std::string(name) + "'");
      }
    }
  }
  return MapReader(map.ptr, map.size, std::move(what));
}

const msgpack::object* MapReader::Find(std::string_view key) const {
  for (uint32_t i = 0; i < size_; ++i) {
    const auto& k = entries_[i].key.via.str;
    if (key == std::string_view(k.ptr, k.size)) return &entries_[i].val;
  }
  return nullptr;
}

const msgpack::object* MapReader::Take(std::string_view key) {
  for (uint32_t i = 0; i < size_; ++i) {
    const auto& k = entries_[i].key.via.str;
    if (key == std::string_view(k.ptr, k.size)) {
      consumed_[i] = true;
      return &entries_[i].val;
    }
  }
  return nullptr;
}

Error MapReader::TypeError(std::string_view key, const char* expected) const {
  return MakeError(ErrorCode::kBadRequest,
                   "'" + std::string(key) + "' in " + what_ + " must be " + expected);
}

StatusOr<std::optional<std::string>> MapReader::Str(std::string_view key, size_t max_len) {
  const msgpack::object* o = Take(key);
  if (o == nullptr) return std::optional<std::string>();
  if (o->type != msgpack::type::STR) return TypeError(key, "a string");
  if (o->via.str.size > max_len) {
    return MakeError(ErrorCode::kBadRequest, "'" + std::string(key) + "' in " + what_ +
                                                 " is longer than " + std::to_string(max_len));
  }
  return std::optional<std::string>(std::string(o->via.str.ptr, o->via.str.size));
}

StatusOr<std::optional<uint64_t>> MapReader::Uint(std::string_view key, uint64_t max) {
  const msgpack::object* o = Take(key);
  if (o == nullptr) return std::optional<uint64_t>();
  if (o->type != msgpack::type::POSITIVE_INTEGER || o->via.u64 > max) {
    return TypeError(key, ("an integer from 0 to " + std::to_string(max)).c_str());
  }
  return std::optional<uint64_t>(o->via.u64);
}

StatusOr<std::optional<int64_t>> MapReader::Int(std::string_view key, int64_t min, int64_t max) {
  const msgpack::object* o = Take(key);
  if (o == nullptr) return std::optional<int64_t>();
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (o->type == msgpack::type::POSITIVE_INTEGER) {
    if (o->via.u64 > static_cast<uint64_t>(max)) return TypeError(key, range.c_str());
    return std::optional<int64_t>(static_cast<int64_t>(o->via.u64));
  }
  if (o->type == msgpack::type::NEGATIVE_INTEGER) {
    if (o->via.i64 < min) return TypeError(key, range.c_str());
    return std::optional<int64_t>(o->via.i64);
  }
  return TypeError(key, range.c_str());
}

StatusOr<std::optional<double>> MapReader::Float(std::string_view key) {
  const msgpack::object* o = Take(key);
  if (o == nullptr) return std::optional<double>();
  double v = 0;
  switch (o->type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: v = o->via.f64; break;
    case msgpack::type::POSITIVE_INTEGER: v = static_cast<double>(o->via.u64); break;
    case msgpack::type::NEGATIVE_INTEGER: v = static_cast<double>(o->via.i64); break;
    default: return TypeError(key, "a number");
  }
  if (!std::isfinite(v)) return TypeError(key, "a finite number");
  return std::optional<double>(v);
}

StatusOr<std::optional<bool>> MapReader::Bool(std::string_view key) {
  const msgpack::object* o = Take(key);
  if (o == nullptr) return std::optional<bool>();
  if (o->type != msgpack::type::BOOLEAN) return TypeError(key, "a boolean");
  return std::optional<bool>(o->via.boolean);
}

StatusOr<std::string> MapReader::RequireStr(std::string_view key, size_t max_len) {
  auto r = Str(key, max_len);
  if (!r.ok()) return r.error();
  if (!r.value()) {
    return MakeError(ErrorCode::kBadRequest, what_ + " is missing '" + std::string(key) + "'");
  }
  return std::move(*r.value());
}

StatusOr<uint64_t> MapReader::RequireUint(std::string_view key, uint64_t max) {
  auto r = Uint(key, max);
  if (!r.ok()) return r.error();
  if (!r.value()) {
    return MakeError(ErrorCode::kBadRequest, what_ + " is missing '" + std::string(key) + "'");
  }
  return *r.value();
}

Status MapReader::Finish() const {
  for (uint32_t i = 0; i < size_; ++i) {
    if (!consumed_[i]) {
      const auto& k = entries_[i].key.via.str;
      return MakeError(ErrorCode::kUnknownField,
                       "unknown key '" + std::string(k.ptr, k.size) + "' in " + what_);
    }
  }
  return Status::Ok();
}

void PackStr(msgpack::packer<msgpack::sbuffer>& packer, std::string_view s) {
  packer.pack_str(static_cast<uint32_t>(s.size()));
  packer.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

msgpack::packer<msgpack::sbuffer>& MapWriter::Key(std::string_view key) {
  ++count_;
  PackStr(packer_, key);
  return packer_;
}

void MapWriter::Str(std::string_view key, std::string_view value) { PackStr(Key(key), value); }
void MapWriter::Uint(std::string_view key, uint64_t value) { Key(key).pack_uint64(value); }
void MapWriter::Int(std::string_view key, int64_t value) { Key(key).pack_int64(value); }
void MapWriter::Float(std::string_view key, double value) { Key(key).pack_double(value); }
void MapWriter::Bool(std::string_view key, bool value) {
  if (value) {
    Key(key).pack_true();
  } else {
    Key(key).pack_false();
  }
}

void MapWriter::Raw(std::string_view key, const std::string& packed) {
  Key(key);
  body_.write(packed.data(), packed.size());
}

std::string MapWriter::Done() const {
  msgpack::sbuffer head(8);  // a map header is at most 5 bytes
  msgpack::packer<msgpack::sbuffer>(&head).pack_map(count_);
  std::string out(head.data(), head.size());
  out.append(body_.data(), body_.size());
  return out;
}

}  // namespace zfactor::proto::internal
