// berthd's TOML configuration: any text is refused with a message naming the file, or read
// into a configuration; never an exception or a crash.
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "fuzz_support.h"
#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = berth::parse_config(text, "fuzz.toml");
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty(), "a refusal says why");
    return 0;
  }
  // A configuration berthd accepts starts a centre, and every partition prices its longest job
  // on the largest node without overflowing (the engine checks that it does not).
  auto engine = berth::core::Engine::Create(config->cluster, 0, config->scheduling);
  if (!engine.ok()) return 0;
  auto& e = **engine;
  auto org = e.create_org("o", berth::core::OrgKind::kUniversity, 0);
  FUZZ_CHECK(org.ok(), "an organisation");
  auto project = e.create_project(org->id, "p", 0);
  FUZZ_CHECK(project.ok(), "a project");
  for (const berth::core::Partition& part : e.cluster().partitions()) {
    berth::core::JobRequest r;
    r.project = project->id;
    r.partition = part.name;
    r.gpus = e.cluster().max_gpus_per_node("");
    r.time_limit_s = part.max_time_s;
    if (r.gpus < 1) continue;
    (void)e.quote(r, 0);
  }
  return 0;
}
