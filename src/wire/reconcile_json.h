// The JSON of a reconciliation, as GET /v1/reconcile answers it and as `berth reconcile
// --state-dir` prints it for a stopped berthd: both sides build the body with this one function,
// so the two can never drift apart. Pure functions of core types; no I/O.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "core/reconcile.h"

namespace berth::wire {

// One difference, with where it was found ("store" or "engine"); money as decimal text.
nlohmann::json difference_json(const core::Difference& d, const char* source);

// The store's rows as committed and the live engine's, each reconciled: "ok", "checked" (the
// store's counts), "differences_found" (both), at most `max_listed` "differences" in all (the
// store's first), and a summary of each under "store" and "engine".
nlohmann::json reconcile_json(const core::ReconcileReport& store,
                              const core::ReconcileReport& engine, size_t max_listed);

}  // namespace berth::wire
