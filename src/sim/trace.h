// Job traces for `berth sim`: real workload logs read into one shape, TraceJob.
//
// read_trace() reads a whole file into memory (at most kMaxTraceBytes) and returns its jobs
// sorted by submit time (then trace order), with times made relative so that the earliest kept
// submit is 0. Nothing about a trace is guessed silently: rows that are not well formed fail the
// read with
// "<path>:<line>: <what is wrong>" (or, with skip_bad, are counted in skipped_bad); rows that are
// well formed but cannot be replayed (an unknown run time, no processors, a pod with no GPU) are
// counted in skipped_unusable; what the reader had to change (fractional GPUs rounded up) is
// counted and described in notes. Blank lines and a trailing '\r' on a line are accepted
// everywhere. CSV fields may be quoted as RFC 4180 has it ("a,b", "say ""hi""": csv.h), but a
// quoted field may not span lines. Job ids are text, as the trace writes them (at most
// kMaxTraceIdChars, no control characters), or the data-row number as text.
//
// Formats (see /work/shared/traces/README.md for the real files):
//   kSwf     Standard Workload Format v2.2: ';' header lines, 18 whitespace-separated numeric
//            fields. id = job number, submit, wait (log_wait_s), run, processors (allocated, or
//            requested when allocated is -1; one processor = one GPU), requested time
//            (time_limit_s; -1 -> 0), user -> tenant "u<N>" (-1 -> ""). The header line
//            "; UnixStartTime: N" dates the log. Run < 0, submit < 0 or processors < 1: unusable.
//   kPhilly  "timestamp,duration,num_gpus,gpu_time,cluster", columns found by their header
//            names; timestamp "YYYY-MM-DD HH:MM:SS" in UTC, duration in seconds (a decimal,
//            rounded to the nearest second), cluster -> tenant. Ids are data-row numbers
//            (1 = first row after the header). num_gpus 0: unusable.
//   kPai     Alibaba PAI "openb" pod list: name, num_gpu, gpu_milli, gpu_spec, qos,
//            creation_time, deletion_time, scheduled_time (seconds) found by header name; other
//            columns ignored. submit = creation_time, runtime = deletion_time - scheduled_time,
//            gpus = num_gpu, tenant = qos. A pod asking for a fraction of a GPU (gpu_milli <
//            1000) is given a whole one (counted in rounded_up). gpu_spec may list the models a
//            pod accepts as "A|B"; the replay places a job on one model, so the first is kept
//            (and a note says how many pods listed several). Ids are the pods' names (the
//            optional "name" column; without it or when empty, data-row numbers).
//            num_gpu 0, or no scheduled or deletion time (pods never placed): unusable.
//   kCsv     berth's own: a header naming the columns, in any order: submit_s, runtime_s, gpus
//            (required), id, tenant, time_limit_s, gpu_model, nodes (optional; an empty field
//            means the default). Other columns are ignored, and a note names them; a known
//            column twice is an error. Without an id column (or with an empty id), ids are
//            data-row numbers.
//
// Windows (from_epoch_s / to_epoch_s) need dates: Philly, or SWF with UnixStartTime. Asking
// for a window on a trace without dates is an error rather than an ignored option.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/enum_names.h"
#include "common/status.h"

namespace berth::sim {

inline constexpr int64_t kMaxTraceBytes = int64_t{1} << 30;
inline constexpr int kMaxTraceIdChars = 200;
// The largest time a trace may hold (submit, runtime, limit), in seconds: ~35,000 years, room for
// any epoch or duration.
inline constexpr int64_t kMaxTraceSeconds = int64_t{1} << 40;

enum class TraceFormat { kSwf, kPhilly, kPai, kCsv };
inline constexpr auto kTraceFormatNames =
    enum_names<TraceFormat>("trace format", {{TraceFormat::kSwf, "swf"},
                                             {TraceFormat::kPhilly, "philly"},
                                             {TraceFormat::kPai, "pai"},
                                             {TraceFormat::kCsv, "csv"}});

// "swf", "philly", "pai", "csv" -> *out; false (and *out untouched) for anything else.
bool parse_trace_format(const std::string& text, TraceFormat* out);
const char* trace_format_name(TraceFormat format);

struct TraceJob {
  std::string id;            // the trace's job id as text, or its data-row number as text
  int64_t submit_s = 0;      // seconds since the trace's first kept submit (the earliest is 0)
  int64_t runtime_s = 0;     // >= 0
  int gpus = 1;              // in all (>= 1)
  int nodes = 0;             // 0: not given (the replay decides)
  std::string tenant;        // "" when the trace has none
  int64_t time_limit_s = 0;  // the user's request; 0 unknown
  std::string gpu_model;     // "" any
  int64_t log_wait_s = -1;   // the wait the log itself recorded (SWF); -1 unknown
  int line = 0;              // source line (1-based), for messages and trace order
};

struct TraceOptions {
  bool skip_bad = false;                // count and skip malformed rows instead of failing
  std::optional<int64_t> from_epoch_s;  // keep jobs submitted at or after (traces with dates)
  std::optional<int64_t> to_epoch_s;    // ... and strictly before
};

struct Trace {
  std::vector<TraceJob> jobs;      // sorted by submit_s, then line (trace order)
  int64_t start_epoch_s = 0;       // epoch of submit_s == 0 when the trace has dates, else 0
  int64_t skipped_bad = 0;         // malformed rows skipped (skip_bad)
  int64_t skipped_unusable = 0;    // well-formed rows that cannot be replayed
  int64_t skipped_window = 0;      // rows outside [from_epoch_s, to_epoch_s)
  int64_t rounded_up = 0;          // PAI pods whose fractional GPU was rounded up
  std::vector<std::string> notes;  // remarks to show the user, one sentence each
};

// Errors: NotFound for a missing file; Invalid("<path>:<line>: ...") naming the field for a
// malformed row (unless skip_bad) or a bad header; Invalid for a window on a dateless trace or
// a file over kMaxTraceBytes; Internal for a read failure.
Result<Trace> read_trace(const std::string& path, TraceFormat format, const TraceOptions& options);

// A two-column CSV "tenant,nodes" after one header row of any names (philly_vc_nodes.csv:
// "vc,node num"), in file order. Nodes must be a whole number >= 0; a tenant may appear once.
Result<std::vector<std::pair<std::string, int>>> read_tenant_pools(const std::string& path);

// "YYYY-MM-DD HH:MM:SS" (or with 'T' between, optionally ending in 'Z'), UTC, to epoch seconds.
// Exposed for the CLI's --from/--to and for tests.
std::optional<int64_t> parse_utc_timestamp_s(std::string_view text);

}  // namespace berth::sim
