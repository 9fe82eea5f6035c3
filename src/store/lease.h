// Lease: which of the berthds sharing one store leads (docs/high-availability.md).
//
// Every berthd on a PostgreSQL store is a candidate. The lease is one row in the store's
// `leader` table: the epoch, who holds it and until when, by the database's own clock (so the
// candidates' clocks never have to agree). A candidate takes the lease only when it is free
// (never held, released, or run out): the epoch goes up, to at least the database clock's
// milliseconds (agents that remember a berthd that ran on SQLite, whose epoch is its start time,
// take it). Only the holder schedules, commits and talks to agents, and the store checks the
// epoch inside every write transaction (PgStore::fence), so a leader that stalled past its lease
// and lost it can never commit again, even if it wakes up: its first commit fails and it steps
// down.
//
// The holder renews the lease well before it runs out (every third of it). A renewal succeeds
// as long as no other candidate took over, even after the lease ran out (a database that was
// away for a while does not, alone, change the leader).
//
// Threads: a Lease has a connection of its own; one thread (berthd's lease keeper) uses it.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace berth::store {

// A berthd that may lead: what clients and agents are told to reach it by.
struct Candidate {
  std::string id;              // random, one per berthd process: tells two of one name apart
  std::string name;            // for people: [store] name, else the host name
  std::string http_address;    // "http://host:port", where clients reach its API
  std::string agents_address;  // "host:port" where agents reach it ("" without agents)
};

// The lease as it stands. epoch 0: no berthd has ever led.
struct LeaderInfo {
  uint64_t epoch = 0;
  Candidate holder;
  int64_t since_ms = 0;    // when this epoch began (database clock)
  int64_t expires_ms = 0;  // when it runs out unless renewed
  int64_t now_ms = 0;      // the database clock when this was read
  bool live() const { return epoch != 0 && expires_ms > now_ms; }
};

class Lease {
 public:
  virtual ~Lease() = default;

  // Takes the lease for `me` for lease_ms if it is free (never held, released or run out), as
  // epoch + 1. Returns the lease as it stands afterwards: `me` leads when holder.id == me.id.
  virtual Result<LeaderInfo> try_acquire(const Candidate& me, int64_t lease_ms) = 0;

  // Extends the lease held at `epoch` to lease_ms from now. false when another epoch holds it
  // (taken over: the caller has lost it and must step down).
  virtual Result<bool> renew(uint64_t epoch, int64_t lease_ms) = 0;

  // The lease as it stands, for a standby's answers and `berth admin leader`.
  virtual Result<LeaderInfo> current() = 0;

  // On an orderly stop: the lease held at `epoch` runs out now, so a standby takes over at
  // once. Nothing when another epoch holds it.
  virtual Status release(uint64_t epoch) = 0;
};

}  // namespace berth::store
