// Error values shared by every zfactor component and carried on the wire.
// Expected failures travel as values (Error, StatusOr<T>), never as exceptions.
#ifndef ZFACTOR_PROTO_ERROR_H_
#define ZFACTOR_PROTO_ERROR_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace zfactor::proto {

// The error codes of docs/PROTOCOL.md section 2.5. Wire names are snake_case.
enum class ErrorCode {
  kMalformed,
  kBadRequest,
  kUnknownField,
  kUnsupportedVersion,
  kBadNumber,
  kNegative,
  kTooLarge,
  kUnknownJob,
  kBusy,
  kUnavailable,
  kInternal,
  kTimeout,  // client-side only: no reply within the client's deadline; never sent
};

// "malformed", "bad_request", ...
const char* ErrorCodeName(ErrorCode code);
std::optional<ErrorCode> ParseErrorCode(std::string_view name);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  bool operator==(const Error& o) const { return code == o.code && message == o.message; }
};

inline Error MakeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// A value or an Error (T must not be Error). Small by design: check ok(), then use value() or error().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  StatusOr(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  // REQUIRES: ok()
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// StatusOr for operations with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  // REQUIRES: !ok()
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace zfactor::proto

#endif  // ZFACTOR_PROTO_ERROR_H_
