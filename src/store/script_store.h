// ScriptStore: where submitted batch scripts are kept by their SHA-256, so that whichever
// berthd leads can launch a job whose script another one received. berthd on SQLite keeps them
// as files under its state directory; on PostgreSQL, in the store's `job_scripts` table
// (PgScriptStore, pg_script_store.h).
//
// Thread-safe: berthd's request threads put scripts while the core thread gets them.
#pragma once

#include <string>

#include "common/status.h"

namespace berth::store {

class ScriptStore {
 public:
  virtual ~ScriptStore() = default;
  // Keeps `text` under `sha256` (its hash, lowercase hex). Putting the same script again is Ok
  // and changes nothing.
  virtual Status put(const std::string& sha256, const std::string& text) = 0;
  // The script kept under `sha256`; kNotFound when there is none.
  virtual Result<std::string> get(const std::string& sha256) = 0;
};

}  // namespace berth::store
