// Moves the write-ahead log into the database file on a thread of its own, so a commit never
// waits for it. SQLite's own automatic checkpoint runs inside the commit that crosses the WAL's
// size limit: with berthd's one writer that was the core thread, held for a tenth of a second
// (copying the pages and syncing the file) while every request waited.
//
// The writer's connection gets a WAL hook (replacing SQLite's automatic checkpoint) that wakes
// the checkpointer once the WAL holds `pages` pages; the checkpointer then runs a PASSIVE
// checkpoint on its own connection, which never blocks the writer. The WAL can start again from
// its beginning only when every frame in it was copied, and commits go on arriving while the
// checkpointer copies: so at the first commit after its pass, the writer copies the few frames
// written meanwhile itself (a PASSIVE checkpoint of that tail: a few pages and one sync), and
// the WAL starts over at the next commit. The WAL stays bounded; the core never waits for more
// than the tail.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace berth::store {

class WalCheckpointer {
 public:
  static constexpr int kDefaultPages =
      1000;  // SQLite's own default (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT)

  // Watches `writer` (a connection in WAL mode to `path`) and checkpoints `path` from a new
  // connection. The writer must outlive this object.
  static Result<std::unique_ptr<WalCheckpointer>> Start(sqlite3* writer, const std::string& path,
                                                        int pages = kDefaultPages);
  ~WalCheckpointer();  // stops the thread and gives the writer SQLite's automatic checkpoint back

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Passes the checkpointer completed so far, and tails the writer copied after them.
  int64_t checkpoints() const;
  int64_t tails() const;

 private:
  WalCheckpointer(sqlite3* writer, sqlite::DbPtr own, int pages);
  static int on_commit(void* self, sqlite3* db, const char* name, int pages);
  void loop();

  sqlite3* writer_;
  sqlite::DbPtr own_;  // used by the thread only
  const int pages_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;     // the checkpointer is asked for a pass
  bool busy_ = false;       // it is in a pass
  bool caught_up_ = false;  // a pass ended: the writer copies the tail at its next commit
  bool stopping_ = false;
  int64_t checkpoints_ = 0;
  int64_t tails_ = 0;
  std::thread thread_;
};

}  // namespace berth::store
