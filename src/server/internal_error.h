// An unexpected exception from a route's handler is a bug in berthd, not the caller's mistake:
// it is answered 500 with an error id ("err-" and 16 random hex digits) in the JSON error body,
// and berthd's log line about it carries the same id, so that the line an operator needs is
// the one the user quotes. The reply says nothing of the internal detail. Expected failures are
// a Status (a 4xx naming what is wrong), never an exception.
#pragma once

#include <functional>
#include <string>

#include "server/daemon.h"

namespace berth::server {

std::string new_error_id();

// Logs `what` with a new error id and `where` (the request: "POST /v1/jobs"), and returns the
// 500 that names the id: {"error": {"code": "internal", "message": "...", "id": "err-..."}}.
Reply internal_error_reply(const std::string& what, const std::string& where);

// The handler's reply, or internal_error_reply when it throws.
Reply guarded(const std::function<Reply()>& handler, const std::string& where);

}  // namespace berth::server
