#include "server/query_fields.h"

#include <httplib.h>

#include <charconv>
#include <string>

#include "server/lookups.h"

namespace berth::server {

Result<int64_t> query_int(const httplib::Request& req, const char* key, int64_t def) {
  if (!req.has_param(key)) return def;
  const std::string v = req.get_param_value(key);
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid(std::string("query parameter '") + key +
                           "' must be a whole number, got '" + v + "'");
  int64_t value = 0;
  std::from_chars(v.data(), v.data() + v.size(), value);  // at most 18 digits: always fits
  return value;
}

Result<int64_t> query_job_id(const core::Engine& e, const httplib::Request& req,
                             const Principal& who) {
  if (!req.has_param("job") || req.get_param_value("job").find('_') == std::string::npos)
    return query_int(req, "job", 0);
  BERTH_ASSIGN_OR_RETURN(auto j, find_job(e, req.get_param_value("job"), who));
  return static_cast<int64_t>(j->id.value);
}

Result<int64_t> query_time(const httplib::Request& req, const char* key, int64_t def) {
  if (!req.has_param(key)) return def;
  auto ms = parse_time_ms(req.get_param_value(key));
  if (!ms.ok())
    return Status::Invalid(std::string("query parameter '") + key + "': " + ms.status().message());
  return ms;
}

Result<int64_t> page_limit(const httplib::Request& req) {
  auto limit = query_int(req, "limit", 100);
  if (!limit.ok()) return limit;
  if (*limit < 1 || *limit > 1000)
    return Status::Invalid("query parameter 'limit' must be 1 to 1000, got " +
                           std::to_string(*limit));
  return limit;
}

Result<MonthRange> month_param(const httplib::Request& req, int64_t now_ms) {
  if (!req.has_param("month")) return month_of_ms(now_ms);
  auto month = parse_month(req.get_param_value("month"));
  if (!month.ok()) return Status::Invalid("query parameter 'month': " + month.status().message());
  return month;
}

}  // namespace berth::server
