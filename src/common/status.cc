#include "common/status.h"

#include "common/enum_names.h"

namespace berth {
namespace {

constexpr auto kCodeNames =
    enum_names<Code>("code", {{Code::kOk, "ok"},
                              {Code::kInvalidArgument, "invalid_argument"},
                              {Code::kUnauthenticated, "unauthenticated"},
                              {Code::kPermissionDenied, "permission_denied"},
                              {Code::kNotFound, "not_found"},
                              {Code::kConflict, "conflict"},
                              {Code::kInsufficientFunds, "insufficient_funds"},
                              {Code::kPayloadTooLarge, "payload_too_large"},
                              {Code::kUnavailable, "unavailable"},
                              {Code::kInternal, "internal"}});

}  // namespace

const char* code_name(Code code) { return kCodeNames.name(code); }

std::optional<Code> parse_code_name(std::string_view name) { return kCodeNames.find(name); }

int http_status(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kInsufficientFunds:
      return 409;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace berth
