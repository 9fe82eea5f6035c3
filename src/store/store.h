// Store: what berthd needs of the place its state is kept. SqliteStore (sqlite_store.h) keeps it
// in a file beside one berthd; PgStore (pg_store.h) in a PostgreSQL database several share.
//
// Contract (each implementation's header adds how it keeps it)
// - commit() writes one batch of the Engine's changes (core::Engine::drain_changes) and the
//   counters, with the last-alive mark set to now_ms, in ONE transaction: all of it or nothing.
//   A commit that returned Ok survives a crash of berthd or of the machine. After a failed
//   commit the stored state is exactly as before and the Status says why.
// - load() reads the whole state back as a ChangeSet fit for core::Engine::Restore, with the
//   last-alive mark of the last commit (0 if none): how long jobs that were running when
//   berthd stopped are charged for.
// - Node states and tokens are kept beside the batch, each change in a small transaction of
//   its own (the core does not report them as changes).
// - backup() writes a consistent copy of the committed state to a new file; unlike everything
//   else here it may be called from any thread while the owner goes on committing.
// - rescue() is for after a failed commit: it saves what the store still holds, when its file
//   was taken away underneath it, and says where.
//
// Threads: one owner thread (berthd's core thread) makes every call but backup().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/engine.h"
#include "core/model.h"

namespace berth::store {

// An API token as stored: the SHA-256 of the token, never the token.
struct TokenRow {
  std::string token_hash;
  std::string user;
  std::string role;
  uint64_t org_id = 0;
  int64_t created_ms = 0;
  std::string created_by;  // who made it; "berthd" for the admin token in admin.token
  int64_t expires_ms = 0;  // 0: never
  int64_t revoked_ms = 0;  // 0: not revoked
  std::string unix_user;   // "" : the configured default job user
};

class Store {
 public:
  virtual ~Store() = default;

  // Writes one batch of changes and the counters, with the last-alive mark at now_ms, in one
  // transaction. An empty ChangeSet still records the counters and now_ms (a heartbeat).
  virtual Status commit(const core::ChangeSet& changes, int64_t now_ms) = 0;

  // Reads every row back for core::Engine::Restore; *last_alive_ms is the last commit's
  // now_ms, 0 if none. A job row that cannot be read loads with a safe default and an entry in
  // job_problems; any other row that cannot be read fails the load, naming it.
  virtual Result<core::ChangeSet> load(int64_t* last_alive_ms) = 0;

  // The nodes of the running configuration with their states (up / drain / down), domains, the
  // reasons for their states and what their agents last said. The configuration decides which
  // nodes exist; the state and the rest outlive a restart: at start berthd reads nodes(), gives
  // each configured node of the same name what was stored (Engine::restore_node), then writes
  // the result with put_nodes(); later changes go through put_node().
  virtual Status put_nodes(const std::vector<core::Node>& nodes) = 0;
  // Writes every field of the stored node named node.name (its state, state_reason,
  // silent_down, agent_version, address, isolation, last_heartbeat_ms, ...). kNotFound (and
  // nothing written) when no stored node has that name.
  virtual Status put_node(const core::Node& node) = 0;
  // As last written, by id; empty before the first put_nodes.
  virtual Result<std::vector<core::Node>> nodes() = 0;

  // Adds the tokens, or replaces the rows with the same token_hash, all in one transaction or
  // none (a rotation: the new admin token and the old ones revoked).
  virtual Status put_tokens(const std::vector<TokenRow>& rows) = 0;
  // All tokens: SQLite's in the order first added, PostgreSQL's in the order of their hash.
  virtual Result<std::vector<TokenRow>> tokens() = 0;

  // Copies the committed state into a new file `dest_path` (which must not exist), in a form
  // this kind of store can open. Thread-safe with respect to the owner's calls.
  virtual Status backup(const std::string& dest_path) const = 0;

  // After a commit failed because the store's file was deleted or replaced under it: saves
  // what it still holds, as last committed, and returns where. An error when there is nothing
  // to save (kConflict where the file is still in its place).
  virtual Result<std::string> rescue() = 0;
};

}  // namespace berth::store
