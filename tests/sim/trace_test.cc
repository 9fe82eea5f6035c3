// Trace readers: each format on small hand-made files with known answers, malformed rows, and
// the real traces in /work/shared/traces (skipped when that folder is absent).
#include "sim/trace.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "common/enum_names_testing.h"
#include "sim/sim_testing.h"

namespace berth::sim {
namespace {

namespace fs = std::filesystem;

using testing::data_file;
using testing::real_traces;
using testing::temp_file;

Trace read_ok(const std::string& path, TraceFormat format, const TraceOptions& options = {}) {
  Result<Trace> t = read_trace(path, format, options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : Trace{};
}

// The read fails, naming `what` (typically "<path>:<line>: <field> ...").
void expect_malformed(const std::string& path, TraceFormat format, const std::string& what) {
  Result<Trace> t = read_trace(path, format, {});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(what), std::string::npos) << t.status().message();
}

// The read stops at the first malformed row, naming `what`; with skip_bad it keeps `kept` jobs
// and counts `bad` rows skipped. Returns the trace read with skip_bad.
Trace expect_bad_rows(const std::string& path, TraceFormat format, const std::string& what,
                      size_t kept, int64_t bad) {
  expect_malformed(path, format, what);
  TraceOptions options;
  options.skip_bad = true;
  Trace t = read_ok(path, format, options);
  EXPECT_EQ(t.jobs.size(), kept);
  EXPECT_EQ(t.skipped_bad, bad);
  return t;
}

// Every field of `got` is `want`'s.
void expect_job(const TraceJob& got, const TraceJob& want) {
  SCOPED_TRACE("job " + want.id);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.submit_s, want.submit_s);
  EXPECT_EQ(got.runtime_s, want.runtime_s);
  EXPECT_EQ(got.gpus, want.gpus);
  EXPECT_EQ(got.nodes, want.nodes);
  EXPECT_EQ(got.tenant, want.tenant);
  EXPECT_EQ(got.time_limit_s, want.time_limit_s);
  EXPECT_EQ(got.gpu_model, want.gpu_model);
  EXPECT_EQ(got.log_wait_s, want.log_wait_s);
  EXPECT_EQ(got.line, want.line);
}

TEST(TraceFormat, ParsesTheFourNames) {
  TraceFormat f = TraceFormat::kCsv;
  EXPECT_TRUE(parse_trace_format("swf", &f));
  EXPECT_EQ(f, TraceFormat::kSwf);
  EXPECT_TRUE(parse_trace_format("philly", &f));
  EXPECT_EQ(f, TraceFormat::kPhilly);
  EXPECT_TRUE(parse_trace_format("pai", &f));
  EXPECT_EQ(f, TraceFormat::kPai);
  EXPECT_TRUE(parse_trace_format("csv", &f));
  EXPECT_EQ(f, TraceFormat::kCsv);
  EXPECT_FALSE(parse_trace_format("SWF", &f));
  EXPECT_FALSE(parse_trace_format("", &f));
  EXPECT_EQ(f, TraceFormat::kCsv);
  EXPECT_STREQ(trace_format_name(TraceFormat::kPai), "pai");
}

TEST(UtcTimestamp, ParsesAndRefuses) {
  EXPECT_EQ(parse_utc_timestamp_s("2017-10-01 00:00:00"), 1506816000);
  EXPECT_EQ(parse_utc_timestamp_s("2017-10-01T00:00:01Z"), 1506816001);
  EXPECT_EQ(parse_utc_timestamp_s("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(parse_utc_timestamp_s("2016-02-29 12:00:00"), 1456747200);
  EXPECT_FALSE(parse_utc_timestamp_s("2017-02-29 00:00:00"));
  EXPECT_FALSE(parse_utc_timestamp_s("2017-13-01 00:00:00"));
  EXPECT_FALSE(parse_utc_timestamp_s("2017-10-01 24:00:00"));
  EXPECT_FALSE(parse_utc_timestamp_s("2017-10-01"));
  EXPECT_FALSE(parse_utc_timestamp_s("2017-1O-01 00:00:00"));
}

TEST(SwfTrace, ReadsFieldsSkipsUnusableAndDatesFromHeader) {
  const Trace t = read_ok(data_file("small.swf"), TraceFormat::kSwf);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.skipped_unusable, 2);  // run -1, and 0 processors
  EXPECT_EQ(t.skipped_bad, 0);
  EXPECT_EQ(t.start_epoch_s, 1'000'000 + 90);
  // Sorted by submit, then trace order; the earliest submit is 0.
  // Job 2: allocated -1, so the requested 4 processors; no requested time, user or wait.
  expect_job(t.jobs[0], {.id = "2", .submit_s = 0, .runtime_s = 30, .gpus = 4, .line = 6});
  expect_job(t.jobs[1], {.id = "5",
                         .submit_s = 0,
                         .runtime_s = 20,
                         .gpus = 1,
                         .tenant = "u7",
                         .time_limit_s = 100,
                         .log_wait_s = 7,
                         .line = 9});
  expect_job(t.jobs[2], {.id = "1",
                         .submit_s = 10,
                         .runtime_s = 50,
                         .gpus = 2,
                         .tenant = "u3",
                         .time_limit_s = 60,
                         .log_wait_s = 5,
                         .line = 5});
  EXPECT_FALSE(t.notes.empty());
}

TEST(SwfTrace, MalformedRowNamesFileLineAndField) {
  const std::string path = data_file("bad.swf");
  Result<Trace> t = read_trace(path, TraceFormat::kSwf, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find(path + ":3: has 17 fields"), std::string::npos)
      << t.status().message();
}

TEST(SwfTrace, SkipBadCountsMalformedRows) {
  TraceOptions options;
  options.skip_bad = true;
  const Trace t = read_ok(data_file("bad.swf"), TraceFormat::kSwf, options);
  EXPECT_EQ(t.skipped_bad, 2);
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].id, "1");
  EXPECT_EQ(t.jobs[1].id, "3");
  EXPECT_EQ(t.start_epoch_s, 0);  // no UnixStartTime
}

TEST(SwfTrace, NonNumericFieldIsNamed) {
  const std::string path =
      temp_file("word.swf", "1 0 0 ten 1 -1 -1 1 60 -1 1 3 1 -1 -1 -1 -1 -1\n");
  expect_malformed(path, TraceFormat::kSwf, path + ":1: field 4 (run time) 'ten'");
}

TEST(SwfTrace, WindowUsesUnixStartTime) {
  TraceOptions options;
  options.from_epoch_s = 1'000'095;  // drops the two jobs submitted at 90
  const Trace t = read_ok(data_file("small.swf"), TraceFormat::kSwf, options);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].id, "1");
  EXPECT_EQ(t.jobs[0].submit_s, 0);
  EXPECT_EQ(t.start_epoch_s, 1'000'100);
  EXPECT_EQ(t.skipped_window, 2);
}

TEST(Trace, MissingFileIsNotFound) {
  Result<Trace> t = read_trace(data_file("no-such-file.swf"), TraceFormat::kSwf, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kNotFound);
}

TEST(Trace, WindowOnADatelessTraceIsRefused) {
  TraceOptions options;
  options.to_epoch_s = 100;
  Result<Trace> t = read_trace(data_file("small_jobs.csv"), TraceFormat::kCsv, options);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("no dates"), std::string::npos);
}

TEST(Trace, EmptyWindowIsRefused) {
  TraceOptions options;
  options.from_epoch_s = 100;
  options.to_epoch_s = 100;
  EXPECT_FALSE(read_trace(data_file("small_philly.csv"), TraceFormat::kPhilly, options).ok());
}

TEST(PhillyTrace, ReadsRowsWithCrLfAndATrailingBlankLine) {
  const Trace t = read_ok(data_file("small_philly.csv"), TraceFormat::kPhilly);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.skipped_unusable, 1);  // 0 GPUs
  EXPECT_EQ(t.start_epoch_s, 1506815999);
  // 10.5 s rounds to the nearest second, half away from zero: 11.
  expect_job(t.jobs[0],
             {.id = "2", .submit_s = 0, .runtime_s = 11, .gpus = 2, .tenant = "vcB", .line = 3});
  expect_job(t.jobs[1],
             {.id = "1", .submit_s = 11, .runtime_s = 66, .gpus = 1, .tenant = "vcA", .line = 2});
  // Submitted 2017-12-01 00:00:00, 61 days and 1 s after the earliest.
  expect_job(t.jobs[2], {.id = "4",
                         .submit_s = 61 * 86'400 + 1,
                         .runtime_s = 100,
                         .gpus = 8,
                         .tenant = "vcC",
                         .line = 5});
}

TEST(PhillyTrace, WindowKeepsFromInclusiveToExclusive) {
  TraceOptions options;
  options.from_epoch_s = *parse_utc_timestamp_s("2017-10-01 00:00:00");
  options.to_epoch_s = *parse_utc_timestamp_s("2017-12-01 00:00:00");
  const Trace t = read_ok(data_file("small_philly.csv"), TraceFormat::kPhilly, options);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].id, "1");
  EXPECT_EQ(t.jobs[0].submit_s, 0);
  EXPECT_EQ(t.start_epoch_s, 1506816010);
  EXPECT_EQ(t.skipped_window, 2);
}

TEST(PhillyTrace, BadTimestampAndMissingColumn) {
  const std::string path = temp_file("bad_philly.csv",
                                     "timestamp,duration,num_gpus,gpu_time,cluster\n"
                                     "2017-10-01 00:00:10,66.0,1,66.0,vcA\n"
                                     "2017/10/01 00:00:10,66.0,1,66.0,vcA\n"
                                     "2017-10-01 00:00:10,-3,1,66.0,vcA\n"
                                     "2017-10-01 00:00:10,66.0,1,66.0\n");
  const Trace kept = expect_bad_rows(path, TraceFormat::kPhilly,
                                     path + ":3: timestamp '2017/10/01 00:00:10'", 1, 3);

  const std::string no_cluster = temp_file("no_cluster.csv", "timestamp,duration,num_gpus\n");
  expect_malformed(no_cluster, TraceFormat::kPhilly,
                   no_cluster + ":1: the header has no 'cluster' column");
}

TEST(PaiTrace, ReadsPodsRoundsFractionsAndKeepsFirstModel) {
  const Trace t = read_ok(data_file("small_pai.csv"), TraceFormat::kPai);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.skipped_unusable, 2);  // no GPU; never scheduled
  EXPECT_EQ(t.rounded_up, 1);
  EXPECT_EQ(t.start_epoch_s, 0);
  // Ids are the pods' names. p1 asks for 460 milli-GPU of "V100M16|V100M32": one whole V100M16;
  // runtime = deletion - scheduled.
  expect_job(t.jobs[0], {.id = "p1",
                         .submit_s = 0,
                         .runtime_s = 20,
                         .gpus = 1,
                         .tenant = "BE",
                         .gpu_model = "V100M16",
                         .line = 3});
  expect_job(t.jobs[1],
             {.id = "p0", .submit_s = 50, .runtime_s = 380, .gpus = 1, .tenant = "LS", .line = 2});
  expect_job(t.jobs[2], {.id = "p4",
                         .submit_s = 250,
                         .runtime_s = 100,
                         .gpus = 8,
                         .tenant = "Burstable",
                         .gpu_model = "G3",
                         .line = 6});
  bool rounded_note = false, model_note = false;
  for (const std::string& n : t.notes) {
    rounded_note = rounded_note || n.find("rounded up") != std::string::npos;
    model_note = model_note || n.find("several GPU models") != std::string::npos;
  }
  EXPECT_TRUE(rounded_note);
  EXPECT_TRUE(model_note);
}

TEST(PaiTrace, DeletionBeforeScheduledIsMalformed) {
  const std::string path =
      temp_file("bad_pai.csv",
                "name,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time,scheduled_time\n"
                "p0,1,1000,,LS,10,5,10\n");
  expect_malformed(path, TraceFormat::kPai, path + ":2: deletion_time");
}

TEST(CsvTrace, ReadsColumnsInAnyOrder) {
  const Trace t = read_ok(data_file("small_jobs.csv"), TraceFormat::kCsv);
  ASSERT_EQ(t.jobs.size(), 2u);
  expect_job(t.jobs[0],
             {.id = "2", .submit_s = 0, .runtime_s = 60, .gpus = 2, .tenant = "bob", .line = 3});
  expect_job(t.jobs[1], {.id = "1",
                         .submit_s = 50,
                         .runtime_s = 3600,
                         .gpus = 8,
                         .nodes = 1,
                         .tenant = "alice",
                         .time_limit_s = 7200,
                         .gpu_model = "H100",
                         .line = 2});
}

TEST(CsvTrace, IdColumnIsTheJobId) {
  const Trace t = read_ok(temp_file("ids.csv", "id,submit_s,runtime_s,gpus\n70,5,1,1\n42,5,1,1\n"),
                          TraceFormat::kCsv);
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].id, "70");  // same submit: in trace order, not by id
  EXPECT_EQ(t.jobs[1].id, "42");
}

TEST(CsvTrace, IdsAreTextAsTheTraceWritesThem) {
  const Trace t = read_ok(
      temp_file("text_ids.csv", "id,submit_s,runtime_s,gpus\njob-7,0,1,1\n007,1,1,1\n,2,1,1\n"),
      TraceFormat::kCsv);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].id, "job-7");
  EXPECT_EQ(t.jobs[1].id, "007");  // not the number 7
  EXPECT_EQ(t.jobs[2].id, "3");    // an empty id: the data-row number

  const std::string path =
      temp_file("long_id.csv", "id,submit_s,runtime_s,gpus\n" +
                                   std::string(kMaxTraceIdChars + 1, 'x') + ",0,1,1\n");
  expect_malformed(path, TraceFormat::kCsv, path + ":2: id is longer than 200 characters");
}

TEST(CsvTrace, QuotedFieldsAsRfc4180) {
  const Trace t = read_ok(temp_file("quoted.csv",
                                    "\"id\",submit_s,runtime_s,gpus,tenant\n"
                                    "\"a,b\",0,10,1,\"say \"\"hi\"\"\"\n"
                                    "\"c\" , \"5\",10,1, \" padded \"\n"),
                          TraceFormat::kCsv);
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].id, "a,b");
  EXPECT_EQ(t.jobs[0].tenant, "say \"hi\"");
  EXPECT_EQ(t.jobs[1].id, "c");
  EXPECT_EQ(t.jobs[1].submit_s, 5);
  EXPECT_EQ(t.jobs[1].tenant, " padded ");  // a quoted field keeps its blanks
}

TEST(CsvTrace, AQuotedFieldMayNotSpanLines) {
  const std::string path = temp_file("span.csv",
                                     "id,submit_s,runtime_s,gpus,tenant\n"
                                     "1,0,10,1,\"two\nlines\"\n");
  expect_malformed(path, TraceFormat::kCsv,
                   path +
                       ":2: field 5: a quote is not closed on this line (a quoted field may "
                       "not span lines)");
  const std::string after = temp_file("after.csv", "submit_s,runtime_s,gpus\n\"0\"x,10,1\n");
  expect_malformed(after, TraceFormat::kCsv, after + ":2: field 1: text after the closing quote");
}

TEST(CsvTrace, UnknownColumnsAreIgnoredWithANote) {
  const Trace t = read_ok(temp_file("extra.csv",
                                    "submit_s,colour,runtime_s,gpus,user\n"
                                    "0,red,10,2,ann\n"
                                    "5,blue,20,1,bob\n"),
                          TraceFormat::kCsv);
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].runtime_s, 10);
  EXPECT_EQ(t.jobs[0].gpus, 2);
  EXPECT_EQ(t.jobs[0].tenant, "");
  ASSERT_EQ(t.notes.size(), 1u);  // once, not per row
  EXPECT_EQ(t.notes[0], "columns not used by berth sim ignored: 'colour', 'user'.");
}

TEST(PhillyTrace, QuotedFields) {
  const Trace t = read_ok(temp_file("quoted_philly.csv",
                                    "timestamp,duration,num_gpus,gpu_time,cluster\n"
                                    "\"2017-10-01 00:00:10\",\"66.0\",1,66.0,\"vc,A\"\n"),
                          TraceFormat::kPhilly);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].runtime_s, 66);
  EXPECT_EQ(t.jobs[0].tenant, "vc,A");
}

TEST(PaiTrace, QuotedFields) {
  const Trace t = read_ok(
      temp_file("quoted_pai.csv",
                "name,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time,scheduled_time\n"
                "\"pod,1\",1,1000,\"A|B\",\"L\"\"S\",0,20,10\n"),
      TraceFormat::kPai);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].id, "pod,1");
  EXPECT_EQ(t.jobs[0].gpu_model, "A");
  EXPECT_EQ(t.jobs[0].tenant, "L\"S");
}

TEST(CsvTrace, HeaderErrorsNameTheColumn) {
  std::string path = temp_file("missing.csv", "submit_s,runtime_s\n0,1\n");
  expect_malformed(path, TraceFormat::kCsv, "no 'gpus' column");

  path = temp_file("twice.csv", "submit_s,runtime_s,gpus,gpus\n0,1,1,1\n");
  expect_malformed(path, TraceFormat::kCsv, "'gpus' appears twice");

  path = temp_file("empty.csv", "");
  EXPECT_FALSE(read_trace(path, TraceFormat::kCsv, {}).ok());
}

TEST(CsvTrace, BadValuesNameLineAndField) {
  const std::string path = temp_file("values.csv",
                                     "submit_s,runtime_s,gpus\n"
                                     "0,10,1\n"
                                     "5,10,0\n"
                                     "6,-1,1\n"
                                     "7,10\n"
                                     "8,x,1\n");
  const Trace kept =
      expect_bad_rows(path, TraceFormat::kCsv, path + ":3: gpus '0' is out of range", 1, 4);
  ASSERT_FALSE(kept.notes.empty());
  EXPECT_NE(kept.notes[0].find("4 malformed rows skipped"), std::string::npos);
}

TEST(TenantPools, ReadsTenantNodeRows) {
  Result<std::vector<std::pair<std::string, int>>> pools =
      read_tenant_pools(data_file("pools.csv"));
  ASSERT_TRUE(pools.ok()) << pools.status().ToString();
  ASSERT_EQ(pools->size(), 2u);
  EXPECT_EQ((*pools)[0], std::make_pair(std::string("a"), 4));
  EXPECT_EQ((*pools)[1], std::make_pair(std::string("b"), 0));
}

TEST(TenantPools, QuotedTenants) {
  Result<std::vector<std::pair<std::string, int>>> pools =
      read_tenant_pools(temp_file("pools_quoted.csv", "vc,nodes\n\"a,b\",2\n"));
  ASSERT_TRUE(pools.ok()) << pools.status().ToString();
  ASSERT_EQ(pools->size(), 1u);
  EXPECT_EQ((*pools)[0], std::make_pair(std::string("a,b"), 2));
  const std::string path = temp_file("pools_open.csv", "vc,nodes\n\"a,2\n");
  EXPECT_NE(read_tenant_pools(path).status().message().find(path + ":2: field 1: a quote is not "
                                                                   "closed"),
            std::string::npos);
}

TEST(TenantPools, RefusesBadRows) {
  std::string path = temp_file("pools_dup.csv", "vc,nodes\na,1\na,2\n");
  Result<std::vector<std::pair<std::string, int>>> pools = read_tenant_pools(path);
  ASSERT_FALSE(pools.ok());
  EXPECT_NE(pools.status().message().find(path + ":3: tenant 'a' appears twice"),
            std::string::npos);
  path = temp_file("pools_neg.csv", "vc,nodes\na,-1\n");
  pools = read_tenant_pools(path);
  ASSERT_FALSE(pools.ok());
  EXPECT_NE(pools.status().message().find(path + ":2: nodes '-1'"), std::string::npos);
  EXPECT_EQ(read_tenant_pools(data_file("nope.csv")).status().code(), Code::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// The real traces.

TEST(RealTraces, KthSp2) {
  SKIP_WITHOUT_REAL_TRACES();
  const auto t0 = std::chrono::steady_clock::now();
  const Trace t =
      read_ok((real_traces() / "swf" / "KTH-SP2-1996-2.1-cln.swf").string(), TraceFormat::kSwf);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ timing   ] KTH-SP2 (28,476 records): %.1f ms\n", ms);
  EXPECT_EQ(t.jobs.size(), 28'475u);  // one record has neither allocated nor requested processors
  EXPECT_EQ(t.skipped_unusable, 1);
  EXPECT_EQ(t.skipped_bad, 0);
  EXPECT_EQ(t.start_epoch_s, 843'480'031 + 599'850);
  ASSERT_FALSE(t.jobs.empty());
  EXPECT_EQ(t.jobs.front().id, "15");
  EXPECT_EQ(t.jobs.front().submit_s, 0);
  EXPECT_EQ(t.jobs.front().log_wait_s, 192'180);
  EXPECT_EQ(t.jobs.front().time_limit_s, 53'940);
  EXPECT_EQ(t.jobs.front().tenant, "u12");
  for (const TraceJob& j : t.jobs) {
    ASSERT_GE(j.gpus, 1);
    ASSERT_LE(j.gpus, 100);
  }
}

TEST(RealTraces, Lublin256) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = read_ok((real_traces() / "swf" / "lublin_256.swf").string(), TraceFormat::kSwf);
  EXPECT_EQ(t.jobs.size() + static_cast<size_t>(t.skipped_unusable), 10'000u);
  EXPECT_EQ(t.skipped_bad, 0);
}

TEST(RealTraces, PhillyAllRows) {
  SKIP_WITHOUT_REAL_TRACES();
  const auto t0 = std::chrono::steady_clock::now();
  const Trace t = read_ok((real_traces() / "philly" / "jobs.csv").string(), TraceFormat::kPhilly);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ timing   ] Philly (82,247 rows): %.1f ms\n", ms);
  EXPECT_EQ(t.jobs.size(), 82'247u);
  EXPECT_EQ(t.skipped_unusable, 0);
  EXPECT_EQ(t.skipped_bad, 0);
  EXPECT_EQ(t.start_epoch_s, *parse_utc_timestamp_s("2017-09-04 10:30:41"));
  std::set<std::string> tenants;
  for (const TraceJob& j : t.jobs) tenants.insert(j.tenant);
  EXPECT_EQ(tenants.size(), 15u);
  for (size_t i = 1; i < t.jobs.size(); ++i) ASSERT_LE(t.jobs[i - 1].submit_s, t.jobs[i].submit_s);
}

TEST(RealTraces, PhillyOctoberAndNovember) {
  SKIP_WITHOUT_REAL_TRACES();
  TraceOptions options;
  options.from_epoch_s = *parse_utc_timestamp_s("2017-10-01 00:00:00");
  options.to_epoch_s = *parse_utc_timestamp_s("2017-12-01 00:00:00");  // through the end of Nov 30
  const Trace t =
      read_ok((real_traces() / "philly" / "jobs.csv").string(), TraceFormat::kPhilly, options);
  EXPECT_EQ(t.jobs.size(), 68'510u);
  EXPECT_EQ(t.skipped_window, 82'247 - 68'510);
  EXPECT_GE(t.start_epoch_s, *options.from_epoch_s);
}

TEST(RealTraces, PaiOpenbPods) {
  SKIP_WITHOUT_REAL_TRACES();
  const Trace t = read_ok((real_traces() / "pai-openb" / "openb_pod_list_default.csv").string(),
                          TraceFormat::kPai);
  EXPECT_EQ(t.jobs.size(), 6'203u);
  EXPECT_EQ(t.skipped_unusable, 1'088 + 861);  // no GPU; Pending pods never scheduled
  EXPECT_EQ(t.rounded_up, 2'573);
  EXPECT_EQ(t.skipped_bad, 0);
}

TEST(RealTraces, PhillyVcPools) {
  SKIP_WITHOUT_REAL_TRACES();
  Result<std::vector<std::pair<std::string, int>>> pools =
      read_tenant_pools((real_traces() / "philly" / "philly_vc_nodes.csv").string());
  ASSERT_TRUE(pools.ok()) << pools.status().ToString();
  EXPECT_EQ(pools->size(), 11u);
  int nodes = 0;
  for (const auto& [vc, n] : *pools) nodes += n;
  EXPECT_EQ(nodes, 352);
  EXPECT_EQ(pools->front().first, "6214e9");
  EXPECT_EQ(pools->front().second, 64);
}

TEST(TraceFormatNames, NameEveryFormat) {
  enum_testing::expect_every_enumerator_named(kTraceFormatNames);
  EXPECT_STREQ(trace_format_name(TraceFormat::kPhilly), "philly");
}

}  // namespace
}  // namespace berth::sim
