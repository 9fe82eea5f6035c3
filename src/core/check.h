// BERTH_CHECK: an assertion on berth's own invariants that stays on in release builds.
// A failed check is a bug in berth, never a user error: it prints where and why, then aborts,
// because continuing could create or lose money.
#pragma once

#include <cstdio>
#include <cstdlib>

#define BERTH_CHECK(cond, msg)                                                                  \
  do {                                                                                          \
    if (__builtin_expect(!(cond), 0)) {                                                         \
      std::fprintf(stderr, "berth: invariant violated at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   (msg), #cond);                                                               \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)
