// Bounds that more than one part of berth enforces: the daemon refuses what is beyond them and
// the CLI checks them before sending, so each is written once, here.
#pragma once

#include <cstddef>

namespace berth {

// A job's environment: at most this many variables, and this many bytes of names and values in
// all (what `berth submit --export` may send, and what berthd keeps with the job).
inline constexpr size_t kMaxEnvVariables = 1024;
inline constexpr size_t kMaxEnvBytes = 128 * 1024;

// Free text a person gives with an action: a rejection, return or closing reason, a review
// comment, a note on an award, a wallet or a registration record.
inline constexpr size_t kMaxReasonBytes = 2'000;

// A caller's reference for a top-up or another change of money, which makes it idempotent.
inline constexpr size_t kMaxReferenceBytes = 128;

// A path on the cluster's file systems, as Linux's PATH_MAX: a job's directories and output
// files, and what a file-name pattern may expand to.
inline constexpr size_t kMaxPathBytes = 4096;

}  // namespace berth
