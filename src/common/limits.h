// Bounds that more than one part of berth enforces: the daemon refuses what is beyond them and
// the CLI checks them before sending, so each is written once, here.
#pragma once

#include <cstddef>

namespace berth {

// A job's environment: at most this many variables, and this many bytes of names and values in
// all (what `berth submit --export` may send, and what berthd keeps with the job).
inline constexpr size_t kMaxEnvVariables = 1024;
inline constexpr size_t kMaxEnvBytes = 128 * 1024;

}  // namespace berth
