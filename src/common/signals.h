// How berth's daemons (berthd, berth-agent) take their stop signals: SIGINT and SIGTERM are
// blocked in every thread and taken by one thread with sigwait, which stops the daemon in an
// orderly way; SIGPIPE is ignored (a peer that went away is an error on the write, not a death).
#pragma once

#include <signal.h>

namespace berth {

// Call first in main, before any thread starts (threads inherit the mask). Returns the set to
// sigwait on.
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace berth
