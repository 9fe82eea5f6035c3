// Status and Result<T>: how berth reports what can go wrong at run time.
//
// Every operation that can fail on user input returns a Status (or a Result<T>)
// rather than throwing. A failed operation changes nothing. Codes map one-to-one
// onto HTTP statuses at the server edge (see http_status()).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // 400: malformed or out-of-range input
  kUnauthenticated,    // 401: missing or unknown token
  kPermissionDenied,   // 403: token may not do this
  kNotFound,           // 404: no such object (or not visible to the caller)
  kConflict,           // 409: state forbids it (already exists, wrong state, ...)
  kInsufficientFunds,  // 409: the money is not there
  kPayloadTooLarge,    // 413
  kUnavailable,        // 503
  kInternal,           // 500: a bug or an I/O failure
};

const char* code_name(Code code);                            // "invalid_argument", ...
std::optional<Code> parse_code_name(std::string_view name);  // nullopt for an unknown name
int http_status(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Funds(std::string m) { return {Code::kInsufficientFunds, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace berth

// Early returns, as absl and leveldb-style code write them. Both work in any function that
// returns a Status or a Result<T> (a non-ok Status converts to either).
//
// BERTH_RETURN_IF_ERROR(expr): `expr` is a Status; returns it when it is not ok.
#define BERTH_RETURN_IF_ERROR(expr) \
  do {                              \
    ::berth::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)

// BERTH_ASSIGN_OR_RETURN(lhs, expr): `expr` is a Result<T>; returns its status when it is not
// ok, otherwise moves its value into `lhs`, which may declare a variable or name one:
//   BERTH_ASSIGN_OR_RETURN(auto stmt, Stmt::Prepare(db, sql));
//   BERTH_ASSIGN_OR_RETURN(spec.limit_s, parse_duration_s(text));
// A type with a comma in `lhs` needs `auto` or an alias. The macro expands to more than one
// statement: do not use it as the body of an unbraced if or loop.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_STATUS_CONCAT_(_result_, __LINE__), lhs, expr)

#define BERTH_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.ok()) return result.status();             \
  lhs = std::move(result).value()

#define BERTH_STATUS_CONCAT_(a, b) BERTH_STATUS_CONCAT_INNER_(a, b)
#define BERTH_STATUS_CONCAT_INNER_(a, b) a##b
