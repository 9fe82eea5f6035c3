#include "common/clock.h"

#include <chrono>

namespace berth {

int64_t RealClock::now_ms() const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace berth
