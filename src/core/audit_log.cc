// The Engine's audit log: the append-only record of who changed money, awards or access, and
// why. Each record names the actor set by set_actor.
#include "core/engine.h"

namespace berth::core {

void Engine::record_audit(const std::string& action, const std::string& subject, Minor amount_minor,
                          TransferId transfer, std::string note, int64_t now_ms) {
  AuditRecord r;
  r.seq = audit_.size() + 1;
  r.at_ms = now_ms;
  r.user = actor_;
  r.action = action;
  r.subject = subject;
  r.amount_minor = amount_minor;
  r.transfer = transfer;
  r.note = std::move(note);
  audit_.push_back(std::move(r));
}

const char* Engine::access_action_name(AccessAction action) {
  return kAccessActionNames.name(action, "token.create");
}

void Engine::record_access(AccessAction action, const std::string& subject, std::string note,
                           int64_t now_ms) {
  record_audit(access_action_name(action), subject, 0, TransferId(), std::move(note), now_ms);
}

}  // namespace berth::core
