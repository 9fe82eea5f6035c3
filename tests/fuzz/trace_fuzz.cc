// The trace readers (SWF, Philly, PAI, CSV) and the tenant pools: any file is refused with a
// message or read into jobs that keep trace.h's promises; never a crash. The first byte picks
// the format and whether bad rows are skipped; the rest is the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sim/trace.h"

namespace {

// A file per fuzzing process, rewritten for every input.
const std::string& scratch_path() {
  static const std::string path = "/tmp/berth-trace-fuzz-" + std::to_string(getpid()) + ".txt";
  return path;
}

bool write_file(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using berth::sim::TraceFormat;
  constexpr TraceFormat kFormats[] = {TraceFormat::kSwf, TraceFormat::kPhilly, TraceFormat::kPai,
                                      TraceFormat::kCsv};
  const TraceFormat format = kFormats[data[0] % 4];
  berth::sim::TraceOptions options;
  options.skip_bad = (data[0] & 4) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!write_file(scratch_path(), body)) return 0;
  auto trace = berth::sim::read_trace(scratch_path(), format, options);
  if (trace.ok()) {
    for (size_t i = 0; i < trace->jobs.size(); ++i) {
      const berth::sim::TraceJob& j = trace->jobs[i];
      FUZZ_CHECK(j.runtime_s >= 0, "runtime >= 0");
      FUZZ_CHECK(j.gpus >= 1, "gpus >= 1");
      FUZZ_CHECK(j.submit_s >= 0, "submit times count from the first kept submit");
      if (i > 0)
        FUZZ_CHECK(trace->jobs[i - 1].submit_s <= j.submit_s, "jobs are sorted by submit time");
    }
  } else {
    FUZZ_CHECK(!trace.status().message().empty(), "a refusal says why");
  }
  (void)berth::sim::read_tenant_pools(scratch_path());
  (void)berth::sim::parse_utc_timestamp_s(body);
  std::remove(scratch_path().c_str());
  return 0;
}
