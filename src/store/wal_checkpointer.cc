#include "store/wal_checkpointer.h"

namespace berth::store {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(sqlite3* writer,
                                                                const std::string& path,
                                                                int pages) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DbPtr own(raw);
  if (rc != SQLITE_OK) return sqlite::Error(raw, rc, "open " + path + " to checkpoint it");
  // The checkpoint syncs the database file before the WAL may be reused, as the writer's own would.
  BERTH_RETURN_IF_ERROR(sqlite::Exec(raw, "PRAGMA synchronous = FULL"));
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(writer, std::move(own), pages));
  sqlite3_wal_hook(writer, &WalCheckpointer::on_commit,
                   c.get());  // replaces the automatic checkpoint
  return c;
}

WalCheckpointer::WalCheckpointer(sqlite3* writer, sqlite::DbPtr own, int pages)
    : writer_(writer), own_(std::move(own)), pages_(pages), thread_([this] { loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_, kDefaultPages);  // removes the hook
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoints_;
}

int64_t WalCheckpointer::tails() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tails_;
}

// Runs on the writer's thread after each commit, with the WAL's size in pages.
int WalCheckpointer::on_commit(void* self, sqlite3* db, const char*, int pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (pages < c->pages_) return SQLITE_OK;
  std::unique_lock<std::mutex> lock(c->mu_);
  if (c->caught_up_) {
    // The checkpointer's pass copied all but what was committed while it ran: copying that tail
    // here lets the next commit start the WAL over.
    c->caught_up_ = false;
    ++c->tails_;
    lock.unlock();
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (c->busy_ || c->wanted_) return SQLITE_OK;
  c->wanted_ = true;
  lock.unlock();
  c->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    busy_ = true;
    lock.unlock();
    // PASSIVE: copies what it can without waiting for, or blocking, the writer or readers. A
    // failure (busy, or the file gone: the writer's own check stops berthd) waits for the next
    // commit to ask again.
    const int rc =
        sqlite3_wal_checkpoint_v2(own_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    busy_ = false;
    if (rc == SQLITE_OK) {
      ++checkpoints_;
      caught_up_ = true;
    }
  }
}

}  // namespace berth::store
