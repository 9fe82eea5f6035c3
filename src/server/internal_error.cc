#include "server/internal_error.h"

#include <exception>

#include "server/auth.h"
#include "server/log.h"

namespace berth::server {

std::string new_error_id() { return "err-" + new_token().substr(0, 16); }

Reply internal_error_reply(const std::string& what, const std::string& where) {
  const std::string id = new_error_id();
  log_error("BUG " + id + ": " + where + " threw: " + what);
  Reply r = error_reply(
      Status::Internal("internal error " + id + "; berthd's log says more under that id"));
  r.body["error"]["id"] = id;
  return r;
}

Reply guarded(const std::function<Reply()>& handler, const std::string& where) {
  try {
    return handler();
  } catch (const std::exception& e) {
    return internal_error_reply(e.what(), where);
  } catch (...) {
    return internal_error_reply("an exception that is not a std::exception", where);
  }
}

}  // namespace berth::server
