#include "wire/reconcile_json.h"

#include <utility>

#include "common/money.h"

namespace berth::wire {

using nlohmann::json;

json difference_json(const core::Difference& d, const char* source) {
  auto value = [&](int64_t v) { return d.money ? json(format_amount(v)) : json(v); };
  return {{"source", source},
          {"kind", core::difference_kind_name(d.kind)},
          {"entity", core::entity_kind_name(d.entity)},
          {"id", d.id},
          {"field", d.field},
          {"expected", value(d.expected)},
          {"found", value(d.found)},
          {"message", d.message}};
}

json reconcile_json(const core::ReconcileReport& store, const core::ReconcileReport& engine,
                    size_t max_listed) {
  json list = json::array();
  for (const auto& [report, source] : {std::pair{&store, "store"}, std::pair{&engine, "engine"}})
    for (const core::Difference& d : report->differences)
      if (list.size() < max_listed) list.push_back(difference_json(d, source));
  auto summary = [](const core::ReconcileReport& r) {
    return json{{"ok", r.ok()},
                {"differences_found", r.differences_found},
                {"runs_not_recomputed", r.runs_not_recomputed},
                {"checked",
                 {{"accounts", r.accounts_checked},
                  {"transfers", r.transfers_checked},
                  {"jobs", r.jobs_checked},
                  {"topups", r.topups_checked}}}};
  };
  const json of_store = summary(store);
  return {{"ok", store.ok() && engine.ok()},
          {"checked", of_store["checked"]},
          {"differences_found", store.differences_found + engine.differences_found},
          {"differences", list},
          {"store", of_store},
          {"engine", summary(engine)}};
}

}  // namespace berth::wire
