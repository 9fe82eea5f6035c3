#include "store/pg_script_store.h"

namespace berth::store {

Result<std::unique_ptr<PgScriptStore>> PgScriptStore::Open(const std::string& url) {
  std::unique_ptr<PgScriptStore> scripts(new PgScriptStore(url));
  BERTH_RETURN_IF_ERROR(scripts->session_.connect());
  return scripts;
}

Status PgScriptStore::put(const std::string& sha256, const std::string& text) {
  pg::Params p;
  p.add_text(sha256).add_text(text);
  std::lock_guard<std::mutex> lock(mu_);
  // The same hash is the same script: a second put keeps the first row.
  return session_
      .exec(std::string("INSERT INTO job_scripts (sha256, script, created_ms) VALUES ($1, $2, ") +
                pg::kDatabaseNowMs + ") ON CONFLICT (sha256) DO NOTHING",
            p)
      .status();
}

Result<std::string> PgScriptStore::get(const std::string& sha256) {
  pg::Params p;
  p.add_text(sha256);
  std::lock_guard<std::mutex> lock(mu_);
  BERTH_ASSIGN_OR_RETURN(auto r,
                         session_.exec("SELECT script FROM job_scripts WHERE sha256 = $1", p));
  if (PQntuples(r.get()) != 1) return Status::NotFound("no job script " + sha256);
  return pg::get_text(r.get(), 0, 0);
}

}  // namespace berth::store
