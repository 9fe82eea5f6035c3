// PgScriptStore: job scripts (script_store.h) in a PostgreSQL store's `job_scripts` table, on a
// connection of its own guarded by a mutex. A lost connection fails the call kUnavailable; the
// next call reconnects.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "store/pg_db.h"
#include "store/script_store.h"

namespace berth::store {

class PgScriptStore final : public ScriptStore {
 public:
  // Connects to `url`, a store that Open() migrated (it has the job_scripts table).
  static Result<std::unique_ptr<PgScriptStore>> Open(const std::string& url);

  Status put(const std::string& sha256, const std::string& text) override;
  Result<std::string> get(const std::string& sha256) override;

 private:
  explicit PgScriptStore(const std::string& url) : session_(url, pg::ConnectOptions{}) {}

  std::mutex mu_;
  pg::Session session_;  // guarded by mu_
};

}  // namespace berth::store
