// The API's query parameters (?limit=100&after=200&since=2026-12-01): readers that turn a
// request's query string into values, each a 400 naming the parameter when it is malformed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "common/timefmt.h"
#include "core/engine.h"
#include "server/auth.h"

namespace httplib {
struct Request;
}  // namespace httplib

namespace berth::server {

// A listing looks at no more than this many jobs or transfers per request, on the core thread:
// with filters that match little, it answers a partial page and a `next` cursor to continue.
inline constexpr size_t kScanPerRequest = 5000;

// An optional whole number (?after=10), `def` when absent.
Result<int64_t> query_int(const httplib::Request& req, const char* key, int64_t def);
// ?job=12, or ?job=12_3 for a task of a job array (which must exist and be the caller's to
// see): the job's id, 0 when absent.
Result<int64_t> query_job_id(const core::Engine& e, const httplib::Request& req,
                             const Principal& who);
// An optional time (?since=2026-12-01 or ?since=2026-12-01T08:00:00Z) in ms, `def` when absent.
Result<int64_t> query_time(const httplib::Request& req, const char* key, int64_t def);
// ?limit= for a page of a listing: 1 to 1000, 100 when absent.
Result<int64_t> page_limit(const httplib::Request& req);
// ?month=YYYY-MM, the current UTC month when absent.
Result<MonthRange> month_param(const httplib::Request& req, int64_t now_ms);

}  // namespace berth::server
