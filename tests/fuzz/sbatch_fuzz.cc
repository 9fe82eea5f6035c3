// A batch script's #SBATCH block and the option values it carries: any bytes are refused with a
// message or read into options, never a crash; counts that are read are positive.
#include <cstdint>
#include <string_view>

#include "cli/sbatch.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto script = berth::cli::parse_sbatch(text);
  if (script.ok()) {
    const auto& o = script->options;
    if (o.gpus) FUZZ_CHECK(*o.gpus >= 0, "a GPU count read from a script is not negative");
    if (o.nodes) FUZZ_CHECK(*o.nodes >= 1, "a node count read from a script is positive");
    if (o.time_limit_s) FUZZ_CHECK(*o.time_limit_s >= 0, "a time limit is not negative");
  } else {
    FUZZ_CHECK(!script.status().message().empty(), "a refusal says why");
  }
  (void)berth::cli::parse_gres(text);
  (void)berth::cli::parse_gpus(text);
  return 0;
}
