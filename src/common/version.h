// berth's version, as berthd's /v1/health and every berth-agent's registration report it.
#pragma once

namespace berth {

inline constexpr const char* kBerthVersion = "0.1.0";

}  // namespace berth
