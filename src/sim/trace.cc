#include "sim/trace.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "common/civil.h"
#include "common/strings.h"
#include "sim/csv.h"
#include "sim/text.h"

namespace berth::sim {
namespace {

// ---------------------------------------------------------------------------------------------
// Text helpers

void split_whitespace(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out->push_back(line.substr(start, i - start));
  }
}

// A whole decimal integer, optionally signed, and nothing else.
bool parse_int(std::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// A finite decimal number ("66", "66.0", "-1", "1e3").
bool parse_number(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// ---------------------------------------------------------------------------------------------
// Files and lines

Status read_whole_file(const std::string& path, std::string* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::Internal(path + ": cannot open");
  }
  out->clear();
  // Reserve the file's size up front so that reading does not copy as the buffer grows.
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long size = std::ftell(f);
    if (size > 0 && size <= kMaxTraceBytes) out->reserve(static_cast<size_t>(size));
    std::rewind(f);
  }
  char buffer[1 << 16];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, f);
    out->append(buffer, n);
    if (static_cast<int64_t>(out->size()) > kMaxTraceBytes) {
      std::fclose(f);
      return Status::Invalid(path + ": larger than " + with_commas(kMaxTraceBytes) + " bytes");
    }
    if (n < sizeof buffer) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Internal(path + ": read failed");
  return Status::Ok();
}

// Yields the non-blank lines of a buffer with their 1-based numbers, without a trailing '\r'.
class LineReader {
 public:
  explicit LineReader(std::string_view data) : data_(data) {}
  bool next(std::string_view* line, int* number) {
    while (pos_ < data_.size()) {
      const size_t at = data_.find('\n', pos_);
      const size_t end = at == std::string_view::npos ? data_.size() : at;
      std::string_view text = data_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++number_;
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (trim(text).empty()) continue;
      *line = text;
      *number = number_;
      return true;
    }
    return false;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  int number_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Collecting rows

// What a row parser says about one row.
enum class RowKind { kJob, kUnusable };

// Gathers rows into a Trace: raw submit times (in the trace's own base) until finish().
class Collector {
 public:
  Collector(const std::string& path, const TraceOptions& options, std::string_view data)
      : path_(path), options_(options) {
    trace_.jobs.reserve(static_cast<size_t>(std::count(data.begin(), data.end(), '\n')) + 1);
  }

  std::string where(int line) const { return path_ + ":" + std::to_string(line) + ": "; }

  // Applies skip_bad to a row's outcome: true to go on, false to stop with *status.
  bool take(Status row_status, RowKind kind, TraceJob&& job, Status* status) {
    if (!row_status.ok()) {
      if (!options_.skip_bad) {
        *status = std::move(row_status);
        return false;
      }
      ++trace_.skipped_bad;
      return true;
    }
    if (kind == RowKind::kUnusable) {
      ++trace_.skipped_unusable;
      return true;
    }
    trace_.jobs.push_back(std::move(job));
    return true;
  }

  Trace& trace() { return trace_; }

  // Applies the window (epoch = date_base_s + raw submit when dated), makes submits relative
  // to the earliest kept one and sorts.
  Result<Trace> finish(std::optional<int64_t> date_base_s) {
    const bool windowed = options_.from_epoch_s.has_value() || options_.to_epoch_s.has_value();
    if (windowed && !date_base_s.has_value())
      return Status::Invalid(path_ +
                             ": this trace has no dates, so a from/to window cannot apply "
                             "(Philly traces and SWF logs with UnixStartTime have them)");
    std::vector<TraceJob>& jobs = trace_.jobs;
    if (windowed) {
      const int64_t from = options_.from_epoch_s.value_or(std::numeric_limits<int64_t>::min());
      const int64_t to = options_.to_epoch_s.value_or(std::numeric_limits<int64_t>::max());
      const size_t before = jobs.size();
      std::erase_if(jobs, [&](const TraceJob& j) {
        const int64_t epoch = *date_base_s + j.submit_s;
        return epoch < from || epoch >= to;
      });
      trace_.skipped_window = static_cast<int64_t>(before - jobs.size());
    }
    int64_t earliest = 0;
    if (!jobs.empty()) {
      earliest =
          std::min_element(jobs.begin(), jobs.end(), [](const TraceJob& a, const TraceJob& b) {
            return a.submit_s < b.submit_s;
          })->submit_s;
      for (TraceJob& j : jobs) j.submit_s -= earliest;
    }
    if (date_base_s.has_value()) trace_.start_epoch_s = *date_base_s + earliest;
    std::sort(jobs.begin(), jobs.end(), [](const TraceJob& a, const TraceJob& b) {
      if (a.submit_s != b.submit_s) return a.submit_s < b.submit_s;
      return a.line < b.line;  // trace order
    });
    if (trace_.skipped_bad > 0)
      trace_.notes.insert(trace_.notes.begin(),
                          with_commas(trace_.skipped_bad) + " malformed rows skipped.");
    if (trace_.skipped_window > 0)
      trace_.notes.push_back(with_commas(trace_.skipped_window) +
                             " jobs submitted outside the window left out; " +
                             with_commas(static_cast<int64_t>(jobs.size())) + " kept.");
    return std::move(trace_);
  }

 private:
  const std::string& path_;
  const TraceOptions& options_;
  Trace trace_;
};

// Column positions found by header name.
class Columns {
 public:
  // Maps each header field; `required` names those that must appear, `optional` those that may.
  // Other names are left out and listed in ignored(); a known name twice is an error.
  Status read(const std::string& where, std::string_view header,
              const std::vector<std::string>& required, const std::vector<std::string>& optional) {
    std::vector<std::string_view> fields;
    CsvSplitter splitter;
    if (Status s = splitter.split(header, &fields); !s.ok())
      return Status::Invalid(where + "the header's " + s.message());
    count_ = fields.size();
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string name(fields[i]);
      const bool known = std::find(required.begin(), required.end(), name) != required.end() ||
                         std::find(optional.begin(), optional.end(), name) != optional.end();
      if (!known) {
        ignored_.push_back(name);
        continue;
      }
      if (!index_.emplace(name, i).second)
        return Status::Invalid(where + "column " + quoted(name) + " appears twice");
    }
    for (const auto& name : required)
      if (!index_.count(name))
        return Status::Invalid(where + "the header has no " + quoted(name) + " column");
    return Status::Ok();
  }
  size_t count() const { return count_; }
  // The column's index, or -1 when absent.
  int at(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? -1 : static_cast<int>(it->second);
  }
  // The header's names that are neither required nor optional, in header order.
  const std::vector<std::string>& ignored() const { return ignored_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::string> ignored_;
  size_t count_ = 0;
};

Status field_count_error(const std::string& where, size_t got, size_t want) {
  return Status::Invalid(where + "has " + std::to_string(got) + " fields; the header has " +
                         std::to_string(want));
}

// A CSV trace whose columns are found by header name (Philly, PAI, berth CSV): the header row,
// then each data row split into fields, checked against the header's field count, given its
// line and data-row number (its id unless the parser sets one) and handed to the Collector.
class CsvTable {
 public:
  CsvTable(const std::string& path, std::string_view data, Collector* collector)
      : path_(path), lines_(data), collector_(collector) {}

  Status read_header(const std::vector<std::string>& required,
                     const std::vector<std::string>& optional) {
    std::string_view line;
    int number = 0;
    if (!lines_.next(&line, &number))
      return Status::Invalid(path_ + ": empty; expected a header row");
    return cols_.read(collector_->where(number), line, required, optional);
  }
  int at(const std::string& name) const { return cols_.at(name); }
  const std::vector<std::string>& ignored_columns() const { return cols_.ignored(); }

  // Calls parse(where, fields, &job, &kind) for each data row; stops at the first malformed row
  // unless skip_bad. `kind` starts as kJob.
  template <typename Parse>
  Status rows(Parse parse) {
    std::string_view line;
    int number = 0;
    std::vector<std::string_view> f;
    CsvSplitter splitter;
    Status status;
    int64_t row = 0;
    while (lines_.next(&line, &number)) {
      ++row;
      TraceJob job;
      job.line = number;
      job.id = std::to_string(row);
      RowKind kind = RowKind::kJob;
      const std::string where = collector_->where(number);
      // Parsed before the call below reads `kind` and moves `job`.
      Status row_status = splitter.split(line, &f);
      if (!row_status.ok())
        row_status = Status::Invalid(where + row_status.message());
      else if (f.size() != cols_.count())
        row_status = field_count_error(where, f.size(), cols_.count());
      else
        row_status = parse(where, f, &job, &kind);
      if (!collector_->take(std::move(row_status), kind, std::move(job), &status)) return status;
    }
    return Status::Ok();
  }

 private:
  const std::string& path_;
  LineReader lines_;
  Collector* collector_;
  Columns cols_;
};

// An integer field in [lo, hi].
Status int_field(const std::string& where, const char* name, std::string_view text, int64_t lo,
                 int64_t hi, int64_t* out) {
  if (!parse_int(text, out))
    return Status::Invalid(where + name + " " + quoted(text) + " is not a whole number");
  if (*out < lo || *out > hi)
    return Status::Invalid(where + name + " " + quoted(text) + " is out of range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return Status::Ok();
}

// A job id as the trace writes it: any text of 1 to kMaxTraceIdChars without control characters.
Status id_field(const std::string& where, const char* name, std::string_view text, TraceJob* job) {
  if (text.size() > static_cast<size_t>(kMaxTraceIdChars))
    return Status::Invalid(where + name + " is longer than " + std::to_string(kMaxTraceIdChars) +
                           " characters");
  if (has_control_chars(text))
    return Status::Invalid(where + name + " " + quoted(terminal_safe(text)) +
                           " holds a control character");
  job->id = std::string(text);
  return Status::Ok();
}

constexpr int64_t kMaxGpus = 1'000'000;

// ---------------------------------------------------------------------------------------------
// SWF

Status parse_swf_row(const std::string& where, const std::vector<std::string_view>& f,
                     TraceJob* job, RowKind* kind) {
  if (f.size() != 18)
    return Status::Invalid(where + "has " + std::to_string(f.size()) + " fields; SWF has 18");
  static const char* const kNames[18] = {"job number",
                                         "submit time",
                                         "wait time",
                                         "run time",
                                         "allocated processors",
                                         "average CPU time",
                                         "used memory",
                                         "requested processors",
                                         "requested time",
                                         "requested memory",
                                         "status",
                                         "user id",
                                         "group id",
                                         "executable",
                                         "queue",
                                         "partition",
                                         "preceding job",
                                         "think time"};
  // Fields 1-5, 8, 9 and 12 are used and must be whole numbers; the rest need only be numbers
  // (some logs record average CPU time with a fraction).
  static constexpr bool kUsed[18] = {true,  true,  true, true,  true,  false, false, true,  true,
                                     false, false, true, false, false, false, false, false, false};
  int64_t v[18] = {};
  for (int i = 0; i < 18; ++i) {
    if (kUsed[i]) {
      if (!parse_int(f[i], &v[i]))
        return Status::Invalid(where + "field " + std::to_string(i + 1) + " (" + kNames[i] + ") " +
                               quoted(f[i]) + " is not a whole number");
    } else {
      double d;
      if (!parse_number(f[i], &d))
        return Status::Invalid(where + "field " + std::to_string(i + 1) + " (" + kNames[i] + ") " +
                               quoted(f[i]) + " is not a number");
    }
  }
  const int64_t procs = v[4] != -1 ? v[4] : v[7];
  if (v[1] < 0 || v[3] < 0 || procs < 1) {
    *kind = RowKind::kUnusable;
    return Status::Ok();
  }
  if (procs > kMaxGpus || v[1] > kMaxTraceSeconds || v[3] > kMaxTraceSeconds ||
      v[8] > kMaxTraceSeconds)
    return Status::Invalid(where +
                           "a value is too large (processors, submit, run or requested time)");
  job->id = std::string(f[0]);
  job->submit_s = v[1];
  job->log_wait_s = v[2] < 0 ? -1 : v[2];
  job->runtime_s = v[3];
  job->gpus = static_cast<int>(procs);
  job->time_limit_s = v[8] > 0 ? v[8] : 0;
  job->tenant = v[11] >= 0 ? "u" + std::to_string(v[11]) : "";
  *kind = RowKind::kJob;
  return Status::Ok();
}

Result<Trace> read_swf(const std::string& path, std::string_view data,
                       const TraceOptions& options) {
  Collector c(path, options, data);
  std::optional<int64_t> unix_start_s;
  LineReader lines(data);
  std::string_view line;
  int number = 0;
  std::vector<std::string_view> fields;
  Status status;
  while (lines.next(&line, &number)) {
    const std::string_view t = trim(line);
    if (t.front() == ';') {
      constexpr std::string_view kKey = "UnixStartTime:";
      const std::string_view body = trim(t.substr(1));
      int64_t v;
      if (body.substr(0, kKey.size()) == kKey && parse_int(trim(body.substr(kKey.size())), &v))
        unix_start_s = v;
      continue;
    }
    split_whitespace(t, &fields);
    TraceJob job;
    job.line = number;
    RowKind kind = RowKind::kJob;
    const std::string where = c.where(number);
    Status row_status = parse_swf_row(where, fields, &job, &kind);
    if (!c.take(std::move(row_status), kind, std::move(job), &status)) return status;
  }
  if (c.trace().skipped_unusable > 0)
    c.trace().notes.push_back(with_commas(c.trace().skipped_unusable) +
                              " jobs skipped: unknown submit or run time, or no processors.");
  return c.finish(unix_start_s);
}

// ---------------------------------------------------------------------------------------------
// Philly

bool digits(std::string_view s, size_t at, size_t n, int64_t* out) {
  *out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    *out = *out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<int64_t> parse_utc_timestamp_s(std::string_view s) {
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int64_t y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, &y) || !digits(s, 5, 2, &mo) || !digits(s, 8, 2, &d) ||
      !digits(s, 11, 2, &h) || !digits(s, 14, 2, &mi) || !digits(s, 17, 2, &se))
    return std::nullopt;
  if (mo < 1 || mo > 12) return std::nullopt;
  if (d < 1 || d > days_in_month(y, mo)) return std::nullopt;
  if (h > 23 || mi > 59 || se > 59) return std::nullopt;
  return days_from_civil(y, mo, d) * kSecondsPerDay + h * kSecondsPerHour + mi * kSecondsPerMinute +
         se;
}

namespace {

Result<Trace> read_philly(const std::string& path, std::string_view data,
                          const TraceOptions& options) {
  Collector c(path, options, data);
  CsvTable table(path, data, &c);
  BERTH_RETURN_IF_ERROR(
      table.read_header({"timestamp", "duration", "num_gpus", "cluster"}, {"gpu_time"}));
  const int ts = table.at("timestamp"), dur = table.at("duration"), gp = table.at("num_gpus"),
            cl = table.at("cluster");
  BERTH_RETURN_IF_ERROR(table.rows([&](const std::string& where,
                                       const std::vector<std::string_view>& f, TraceJob* job,
                                       RowKind* kind) -> Status {
    const std::optional<int64_t> epoch = parse_utc_timestamp_s(f[ts]);
    if (!epoch)
      return Status::Invalid(where + "timestamp " + quoted(f[ts]) + " is not YYYY-MM-DD HH:MM:SS");
    double seconds;
    if (!parse_number(f[dur], &seconds) || seconds < 0 ||
        seconds > static_cast<double>(kMaxTraceSeconds))
      return Status::Invalid(where + "duration " + quoted(f[dur]) +
                             " is not a number of seconds >= 0");
    int64_t gpus;
    BERTH_RETURN_IF_ERROR(int_field(where, "num_gpus", f[gp], 0, kMaxGpus, &gpus));
    if (gpus == 0) {
      *kind = RowKind::kUnusable;
      return Status::Ok();
    }
    job->submit_s = *epoch;
    job->runtime_s = std::llround(seconds);
    job->gpus = static_cast<int>(gpus);
    job->tenant = std::string(f[cl]);
    return Status::Ok();
  }));
  if (c.trace().skipped_unusable > 0)
    c.trace().notes.push_back(with_commas(c.trace().skipped_unusable) +
                              " jobs with no GPUs skipped.");
  return c.finish(0);  // submit_s holds epoch seconds
}

// ---------------------------------------------------------------------------------------------
// PAI openb pods

Result<Trace> read_pai(const std::string& path, std::string_view data,
                       const TraceOptions& options) {
  Collector c(path, options, data);
  CsvTable table(path, data, &c);
  BERTH_RETURN_IF_ERROR(table.read_header({"num_gpu", "gpu_milli", "gpu_spec", "qos",
                                           "creation_time", "deletion_time", "scheduled_time"},
                                          {"name"}));
  const int name = table.at("name"), ng = table.at("num_gpu"), gm = table.at("gpu_milli"),
            gs = table.at("gpu_spec"), qos = table.at("qos"), ct = table.at("creation_time"),
            dt = table.at("deletion_time"), st = table.at("scheduled_time");
  int64_t no_gpu = 0, unplaced = 0, multi_model = 0, rounded = 0;
  BERTH_RETURN_IF_ERROR(table.rows([&](const std::string& where,
                                       const std::vector<std::string_view>& f, TraceJob* job,
                                       RowKind* kind) -> Status {
    int64_t gpus, milli, created, deleted = -1, scheduled = -1;
    BERTH_RETURN_IF_ERROR(int_field(where, "num_gpu", f[ng], 0, kMaxGpus, &gpus));
    BERTH_RETURN_IF_ERROR(int_field(where, "gpu_milli", f[gm], 0, 1000, &milli));
    BERTH_RETURN_IF_ERROR(int_field(where, "creation_time", f[ct], 0, kMaxTraceSeconds, &created));
    if (!f[dt].empty())
      BERTH_RETURN_IF_ERROR(
          int_field(where, "deletion_time", f[dt], 0, kMaxTraceSeconds, &deleted));
    if (!f[st].empty())
      BERTH_RETURN_IF_ERROR(
          int_field(where, "scheduled_time", f[st], 0, kMaxTraceSeconds, &scheduled));
    if (gpus == 0) {
      *kind = RowKind::kUnusable;
      ++no_gpu;
      return Status::Ok();
    }
    if (deleted < 0 || scheduled < 0) {
      *kind = RowKind::kUnusable;
      ++unplaced;
      return Status::Ok();
    }
    if (scheduled < created)
      return Status::Invalid(where + "scheduled_time " + quoted(f[st]) +
                             " is before creation_time " + quoted(f[ct]));
    if (deleted < scheduled)
      return Status::Invalid(where + "deletion_time " + quoted(f[dt]) +
                             " is before scheduled_time " + quoted(f[st]));
    std::string_view spec = f[gs];
    const size_t bar = spec.find('|');
    if (bar != std::string_view::npos) {
      spec = trim(spec.substr(0, bar));
      ++multi_model;  // counted here, where the row is known to be a kept job
    }
    if (name >= 0 && !f[name].empty()) BERTH_RETURN_IF_ERROR(id_field(where, "name", f[name], job));
    job->submit_s = created;
    job->runtime_s = deleted - scheduled;
    job->gpus = static_cast<int>(gpus);
    job->gpu_model = std::string(spec);
    job->tenant = std::string(f[qos]);
    if (milli < 1000) ++rounded;
    return Status::Ok();
  }));
  Trace& t = c.trace();
  t.rounded_up = rounded;
  if (no_gpu > 0) t.notes.push_back(with_commas(no_gpu) + " pods with no GPU skipped.");
  if (unplaced > 0)
    t.notes.push_back(with_commas(unplaced) +
                      " pods never scheduled (no scheduled or deletion time) skipped.");
  if (rounded > 0)
    t.notes.push_back(with_commas(rounded) +
                      " pods with fractional GPUs rounded up to whole GPUs.");
  if (multi_model > 0)
    t.notes.push_back(with_commas(multi_model) +
                      " pods accept several GPU models; each was given the first listed.");
  return c.finish(std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// berth CSV

Result<Trace> read_csv(const std::string& path, std::string_view data,
                       const TraceOptions& options) {
  Collector c(path, options, data);
  CsvTable table(path, data, &c);
  BERTH_RETURN_IF_ERROR(table.read_header({"submit_s", "runtime_s", "gpus"},
                                          {"id", "tenant", "time_limit_s", "gpu_model", "nodes"}));
  if (!table.ignored_columns().empty()) {
    std::string names;
    for (const std::string& name : table.ignored_columns())
      names += (names.empty() ? "" : ", ") + quoted(terminal_safe(name));
    c.trace().notes.push_back("columns not used by berth sim ignored: " + names + ".");
  }
  const int sub = table.at("submit_s"), run = table.at("runtime_s"), gp = table.at("gpus"),
            id = table.at("id"), ten = table.at("tenant"), lim = table.at("time_limit_s"),
            mod = table.at("gpu_model"), nod = table.at("nodes");
  BERTH_RETURN_IF_ERROR(
      table.rows([&](const std::string& where, const std::vector<std::string_view>& f,
                     TraceJob* job, RowKind*) -> Status {
        int64_t v;
        BERTH_RETURN_IF_ERROR(int_field(where, "submit_s", f[sub], -kMaxTraceSeconds,
                                        kMaxTraceSeconds, &job->submit_s));
        BERTH_RETURN_IF_ERROR(
            int_field(where, "runtime_s", f[run], 0, kMaxTraceSeconds, &job->runtime_s));
        BERTH_RETURN_IF_ERROR(int_field(where, "gpus", f[gp], 1, kMaxGpus, &v));
        job->gpus = static_cast<int>(v);
        if (id >= 0 && !f[id].empty()) BERTH_RETURN_IF_ERROR(id_field(where, "id", f[id], job));
        if (ten >= 0) job->tenant = std::string(f[ten]);
        if (lim >= 0 && !f[lim].empty())
          BERTH_RETURN_IF_ERROR(
              int_field(where, "time_limit_s", f[lim], 0, kMaxTraceSeconds, &job->time_limit_s));
        if (mod >= 0) job->gpu_model = std::string(f[mod]);
        if (nod >= 0 && !f[nod].empty()) {
          BERTH_RETURN_IF_ERROR(int_field(where, "nodes", f[nod], 0, kMaxGpus, &v));
          job->nodes = static_cast<int>(v);
        }
        return Status::Ok();
      }));
  return c.finish(std::nullopt);
}

}  // namespace

bool parse_trace_format(const std::string& text, TraceFormat* out) {
  return kTraceFormatNames.parse_into(text, out);
}

const char* trace_format_name(TraceFormat format) { return kTraceFormatNames.name(format, "?"); }

Result<Trace> read_trace(const std::string& path, TraceFormat format, const TraceOptions& options) {
  if (options.from_epoch_s && options.to_epoch_s && *options.from_epoch_s >= *options.to_epoch_s)
    return Status::Invalid("the window is empty: from must be before to");
  std::string data;
  BERTH_RETURN_IF_ERROR(read_whole_file(path, &data));
  switch (format) {
    case TraceFormat::kSwf:
      return read_swf(path, data, options);
    case TraceFormat::kPhilly:
      return read_philly(path, data, options);
    case TraceFormat::kPai:
      return read_pai(path, data, options);
    case TraceFormat::kCsv:
      return read_csv(path, data, options);
  }
  return Status::Internal("unknown trace format");
}

Result<std::vector<std::pair<std::string, int>>> read_tenant_pools(const std::string& path) {
  std::string data;
  BERTH_RETURN_IF_ERROR(read_whole_file(path, &data));
  LineReader lines(data);
  std::string_view line;
  int number = 0;
  std::vector<std::pair<std::string, int>> pools;
  if (!lines.next(&line, &number))
    return Status::Invalid(path + ": empty; expected a header row and tenant,nodes rows");
  std::set<std::string> seen;
  std::vector<std::string_view> f;
  CsvSplitter splitter;
  while (lines.next(&line, &number)) {
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (Status s = splitter.split(line, &f); !s.ok()) return Status::Invalid(where + s.message());
    if (f.size() != 2)
      return Status::Invalid(where + "has " + std::to_string(f.size()) +
                             " fields; expected tenant,nodes");
    if (f[0].empty()) return Status::Invalid(where + "the tenant is empty");
    int64_t nodes;
    BERTH_RETURN_IF_ERROR(int_field(where, "nodes", f[1], 0, kMaxGpus, &nodes));
    std::string tenant(f[0]);
    if (!seen.insert(tenant).second)
      return Status::Invalid(where + "tenant " + quoted(tenant) + " appears twice");
    pools.emplace_back(std::move(tenant), static_cast<int>(nodes));
  }
  return pools;
}

}  // namespace berth::sim
