// The agent's store: its book of launches and ends (agent_state.h) in SQLite, `agent.db` in
// its state directory, so that a restarted agent knows every launch it accepted and every end
// berthd has not acknowledged (src/agent/README.md §1).
//
// A launch is written before its process is started, an end before it is sent: each write is
// its own transaction, synchronous (FULL), so what was written survives a power cut. Settled
// ends are deleted; the highest end_seq and epoch stay in `meta`, so numbers are never reused.
// Not thread-safe: the agent's one thread that owns the book writes it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/agent_state.h"
#include "common/status.h"

namespace berth::agent {

class AgentStore {
 public:
  // Opens (creating when absent) the store at `path`; the error names the path.
  static Result<std::unique_ptr<AgentStore>> Open(const std::string& path);
  ~AgentStore();

  // Writes the record as it stands (a new launch, its start, its end).
  Status put(const LaunchRecord& record, uint64_t max_epoch);
  // Deletes the ended launches with end_seq <= end_seq (berthd settled them).
  Status settle(uint64_t end_seq);
  struct Book {
    std::vector<LaunchRecord> records;
    uint64_t max_epoch = 0;
    uint64_t last_end_seq = 0;
  };
  Result<Book> load();

 private:
  struct Db;
  explicit AgentStore(std::unique_ptr<Db> db);
  std::unique_ptr<Db> db_;
};

}  // namespace berth::agent
