#include "core/model_names.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "common/strings.h"

namespace berth::core {

bool same_model_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Result<std::string> canonical_model_constraint(const Cluster& cluster,
                                               const std::string& constraint) {
  if (constraint.empty()) return constraint;
  std::string out;
  for (std::string_view typed : split(constraint, '|')) {
    const std::string name(typed);
    int found = -1;
    for (int m = 0; m < cluster.model_count() && found < 0; ++m)
      if (cluster.nodes_with(m, 1) > 0 && same_model_name(cluster.model_name(m), name)) found = m;
    if (found < 0) {
      std::string have;
      for (int m = 0; m < cluster.model_count(); ++m)
        if (cluster.nodes_with(m, 1) > 0)
          have += (have.empty() ? "" : ", ") + cluster.model_name(m);
      return Status::Invalid("no node has GPU model '" + name + "'; this cluster has " +
                             (have.empty() ? std::string("no GPUs") : have));
    }
    out += (out.empty() ? "" : "|") + cluster.model_name(found);
  }
  return out;
}

}  // namespace berth::core
