#include "cli/sbatch.h"

#include <gtest/gtest.h>

#include "cli/hostlist.h"

namespace berth::cli {
namespace {

SbatchScript parse_ok(std::string_view script) {
  Result<SbatchScript> r = parse_sbatch(script);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SbatchScript{};
}

std::string parse_error(std::string_view script) {
  Result<SbatchScript> r = parse_sbatch(script);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << script;
  return r.ok() ? "" : r.status().message();
}

TEST(Sbatch, ReadsTheUsualOptions) {
  const SbatchScript s = parse_ok(
      "#!/bin/bash\n"
      "#SBATCH --job-name=train\n"
      "#SBATCH --account=vision\n"
      "#SBATCH --partition=gpu\n"
      "#SBATCH --gres=gpu:2\n"
      "#SBATCH --time=1:30:00\n"
      "#SBATCH --output=logs/%x-%j.out\n"
      "#SBATCH --error=logs/%x-%j.err\n"
      "#SBATCH --nodes=1\n"
      "#SBATCH --requeue\n"
      "python train.py\n");
  EXPECT_EQ(s.options.name, "train");
  EXPECT_EQ(s.options.project, "vision");
  EXPECT_EQ(s.options.partition, "gpu");
  EXPECT_EQ(s.options.gpus, 2);
  EXPECT_FALSE(s.options.gpu_model.has_value());
  EXPECT_EQ(s.options.time_limit_s, 5400);
  EXPECT_EQ(s.options.output, "logs/%x-%j.out");
  EXPECT_EQ(s.options.error, "logs/%x-%j.err");
  EXPECT_EQ(s.options.nodes, 1);
  EXPECT_EQ(s.options.requeue, true);
  EXPECT_FALSE(s.options.tier.has_value());
  EXPECT_TRUE(s.warnings.empty());
}

TEST(Sbatch, SeparateValueAndShortForms) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --job-name train\n"
      "#SBATCH -A vision -p gpu\n"
      "#SBATCH -G 4 -t 10\n"
      "#SBATCH -o out.txt -e err.txt -N 1\n");
  EXPECT_EQ(s.options.name, "train");
  EXPECT_EQ(s.options.project, "vision");
  EXPECT_EQ(s.options.partition, "gpu");
  EXPECT_EQ(s.options.gpus, 4);
  EXPECT_EQ(s.options.time_limit_s, 600);
  EXPECT_EQ(s.options.output, "out.txt");
  EXPECT_EQ(s.options.error, "err.txt");
  EXPECT_EQ(s.options.nodes, 1);
}

TEST(Sbatch, AttachedShortValues) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH -Jtrain -G2 -t1-00 -N1\n");
  EXPECT_EQ(s.options.name, "train");
  EXPECT_EQ(s.options.gpus, 2);
  EXPECT_EQ(s.options.time_limit_s, 86400);
  EXPECT_EQ(s.options.nodes, 1);
}

TEST(Sbatch, GresWithModelSetsModel) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --gres=gpu:H100:8\n");
  EXPECT_EQ(s.options.gpus, 8);
  EXPECT_EQ(s.options.gpu_model, "H100");
}

TEST(Sbatch, GresWithoutCountMeansOneGpu) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --gres=gpu\n").options.gpus, 1);
}

TEST(Sbatch, GpusWithModel) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --gpus=a100-80gb:3\n");
  EXPECT_EQ(s.options.gpus, 3);
  EXPECT_EQ(s.options.gpu_model, "a100-80gb");
}

TEST(Sbatch, GpusPerNodeSetsTheCount) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --gpus-per-node=4\n").options.gpus, 4);
}

TEST(Sbatch, ConstraintIsTheGpuModel) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --constraint=H100\n#SBATCH -G 1\n");
  EXPECT_EQ(s.options.gpu_model, "H100");
  EXPECT_EQ(s.options.gpus, 1);
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH -C L40S\n").options.gpu_model, "L40S");
}

TEST(Sbatch, ConstraintMayListModelsThatWillAllDo) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --constraint=H100|A100\n").options.gpu_model, "H100|A100");
}

TEST(Sbatch, OtherConstraintExpressionsAreRefused) {
  for (const char* bad : {"H100&A100", "H100|", "|A100", "[H100*2]"})
    EXPECT_NE(parse_error(std::string("#!/bin/sh\n#SBATCH --constraint=") + bad + "\n")
                  .find("line 2: --constraint"),
              std::string::npos)
        << bad;
}

TEST(Sbatch, NoRequeue) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --requeue\n#SBATCH --no-requeue\n").options.requeue,
            false);
}

TEST(Sbatch, LaterLinesOverrideEarlierOnes) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n#SBATCH -J first\n#SBATCH -J second\n#SBATCH --gres=gpu:H100:2\n"
      "#SBATCH --gpus=4\n");
  EXPECT_EQ(s.options.name, "second");
  EXPECT_EQ(s.options.gpus, 4);
  EXPECT_EQ(s.options.gpu_model, "H100");  // --gpus=4 names no model, so the gres model stays.
}

TEST(Sbatch, StopsAtTheFirstCommand) {
  const SbatchScript s = parse_ok(
      "#!/bin/bash\n"
      "#SBATCH -J early\n"
      "echo hello\n"
      "#SBATCH -J late\n"
      "#SBATCH --bogus\n");
  EXPECT_EQ(s.options.name, "early");
}

TEST(Sbatch, CommentsAndBlankLinesDoNotEndTheBlock) {
  const SbatchScript s = parse_ok(
      "#!/bin/bash\n"
      "\n"
      "# The training job.\n"
      "   \t\n"
      "   # an indented comment\n"
      "#SBATCH -J later\n"
      "srun python x.py\n");
  EXPECT_EQ(s.options.name, "later");
}

TEST(Sbatch, OnlyColumnOneDirectivesCount) {
  // Slurm reads "#SBATCH" only at the start of a line; "##SBATCH" and indented ones are comments.
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "##SBATCH -J disabled\n"
      "  #SBATCH -J indented\n"
      "#SBATCHX -J glued\n"
      "#SBATCH -J real\n");
  EXPECT_EQ(s.options.name, "real");
}

TEST(Sbatch, WorksWithoutShebang) { EXPECT_EQ(parse_ok("#SBATCH -G 1\n").options.gpus, 1); }

TEST(Sbatch, EmptyScriptHasNoOptions) {
  const SbatchScript s = parse_ok("");
  EXPECT_FALSE(s.options.gpus.has_value());
  EXPECT_FALSE(s.options.name.has_value());
}

TEST(Sbatch, HandlesCrLfLineEndings) {
  const SbatchScript s =
      parse_ok("#!/bin/sh\r\n#SBATCH -J dos\r\n#SBATCH --gres=gpu:2\r\necho\r\n");
  EXPECT_EQ(s.options.name, "dos");
  EXPECT_EQ(s.options.gpus, 2);
}

TEST(Sbatch, QuotedValuesAndTrailingComments) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --job-name=\"my job\"   # a comment\n"
      "#SBATCH -o \"out dir/x.out\"\n"
      "#SBATCH -e a\\ b.err\n"
      "#SBATCH --account=\"vis#ion\"\n");
  EXPECT_EQ(s.options.name, "my job");
  EXPECT_EQ(s.options.output, "out dir/x.out");
  EXPECT_EQ(s.options.error, "a b.err");
  EXPECT_EQ(s.options.project, "vis#ion");
}

TEST(Sbatch, UnterminatedQuoteNamesTheLine) {
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH -J \"open\n").find("line 2"), std::string::npos);
}

TEST(Sbatch, UniquePrefixesOfLongOptions) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --part=gpu --job=x --acc=vision\n");
  EXPECT_EQ(s.options.partition, "gpu");
  EXPECT_EQ(s.options.name, "x");
  EXPECT_EQ(s.options.project, "vision");
}

TEST(Sbatch, AmbiguousPrefixIsAnError) {
  // "--gpus" is exact, but "--gp" matches --gpus and --gpus-per-node.
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --gp=2\n").find("ambiguous"), std::string::npos);
}

TEST(Sbatch, UnknownOptionNamesLineAndOption) {
  const std::string message = parse_error("#!/bin/sh\n#SBATCH -J x\n#SBATCH --licenses=matlab\n");
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("--licenses"), std::string::npos) << message;
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH -b now\n").find("-b"), std::string::npos);
}

TEST(Sbatch, HoldDependencyAndArray) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --hold\n"
      "#SBATCH --dependency=afterok:12:13,afterany:14\n"
      "#SBATCH --array=0-15%4\n");
  EXPECT_EQ(s.options.hold, true);
  EXPECT_EQ(s.options.dependency, "afterok:12:13,afterany:14");
  EXPECT_EQ(s.options.array, "0-15%4");
  EXPECT_TRUE(s.warnings.empty());

  const SbatchScript short_forms = parse_ok("#!/bin/sh\n#SBATCH -H -d afternotok:7 -a1,3,5\n");
  EXPECT_EQ(short_forms.options.hold, true);
  EXPECT_EQ(short_forms.options.dependency, "afternotok:7");
  EXPECT_EQ(short_forms.options.array, "1,3,5");

  const SbatchScript none = parse_ok("#!/bin/sh\n#SBATCH -G 1\n");
  EXPECT_FALSE(none.options.hold);
  EXPECT_FALSE(none.options.dependency);
  EXPECT_FALSE(none.options.array);
}

TEST(Sbatch, HoldDependencyAndArrayErrorsNameLineAndOption) {
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --hold=yes\n").find("line 2: --hold takes no value"),
            std::string::npos);
  std::string message = parse_error("#!/bin/sh\n#SBATCH -J x\n#SBATCH --dependency=singleton\n");
  EXPECT_NE(message.find("line 3: --dependency"), std::string::npos) << message;
  message = parse_error("#!/bin/sh\n#SBATCH --array=9-1\n");
  EXPECT_NE(message.find("line 2: --array"), std::string::npos) << message;
  // "--a" now matches --account and --array, as with sbatch itself.
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --a=x\n").find("ambiguous"), std::string::npos);
}

TEST(ParseDependency, AcceptsSlurmForms) {
  for (const char* text : {"afterok:12", "afterok:12:13", "afterany:14", "afternotok:1",
                           "afterok:12:13,afterany:14", "afterok:1,afterok:2"}) {
    Result<std::string> r = parse_dependency(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, text);
  }
}

TEST(ParseDependency, RefusesWhatBerthDoesNotSupport) {
  for (const char* text :
       {"", "afterok", "afterok:", "afterok:12:", "afterok::12", "afterok:0", "afterok:x",
        "afterok:-3", "after:12", "aftercorr:12", "singleton", "afterok:12,", ",afterok:12",
        "afterok:12?afterany:13", "afterok:12_3", "AFTEROK:12", "afterok:1234567890123456"}) {
    Result<std::string> r = parse_dependency(text);
    EXPECT_FALSE(r.ok()) << "'" << text << "'";
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("afterok, afterany or afternotok"), std::string::npos);
    }
  }
  EXPECT_NE(parse_dependency("after:12").status().message().find("type 'after'"),
            std::string::npos);
}

TEST(ParseArray, AcceptsSlurmForms) {
  for (const char* text : {"0-15", "1,3,5", "0-99:10", "0-9%2", "7", "0-3,10,20-30:5%4", "5-5",
                           "0-999999:100", "1000000", "0-9999"}) {
    Result<std::string> r = parse_array(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, text);
  }
}

TEST(ParseArray, RefusesMalformedArrays) {
  for (const char* text :
       {"",        "%2",   "0-9%",    "0-9%0", "0-9%x",  "9-1",  "1,,2",    "1,",
        ",1",      "-1",   "1-",      "a-b",   "0-9:0",  "0-9:", "1000001", "0-1000001:1000",
        "1-3%2%2", "0-9 ", "0-10000", "1-5,5", "0-9:2,4"}) {
    EXPECT_FALSE(parse_array(text).ok()) << "'" << text << "'";
  }
  EXPECT_NE(parse_array("9-1").status().message().find("ends before it starts"), std::string::npos);
  EXPECT_NE(parse_array("0-10000").status().message().find("more than 10000 tasks"),
            std::string::npos);
  EXPECT_NE(parse_array("1-5,3").status().message().find("repeats"), std::string::npos);
}

TEST(Sbatch, StrayWordIsAnError) {
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH gpu\n").find("line 2"), std::string::npos);
}

TEST(Sbatch, HarmlessOptionsAreIgnoredWithWarnings) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --mail-type=END --mail-user=a@b.c\n"
      "#SBATCH --comment=x\n"
      "#SBATCH --exclusive\n"
      "#SBATCH -G 1\n");
  EXPECT_EQ(s.options.gpus, 1);
  ASSERT_EQ(s.warnings.size(), 4u);
  EXPECT_NE(s.warnings[0].find("line 2: --mail-type"), std::string::npos) << s.warnings[0];
  EXPECT_NE(s.warnings[2].find("line 3: --comment"), std::string::npos) << s.warnings[2];
  EXPECT_EQ(s.warnings[3], "line 4: --exclusive is not used by berth; ignored");
}

TEST(Sbatch, CpuMemoryAndTaskRequestsAreRecorded) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --ntasks=4 -c 8 --mem=64G\n"
      "#SBATCH --cpus-per-gpu=6 --mem-per-cpu=2000 --mem-per-gpu=1T --ntasks-per-node=2\n");
  EXPECT_TRUE(s.warnings.empty());
  const JobResources& r = s.options.resources;
  EXPECT_EQ(r.ntasks, 4);
  EXPECT_EQ(r.cpus_per_task, 8);
  EXPECT_EQ(r.mem_mb, 64 * 1024);
  EXPECT_EQ(r.cpus_per_gpu, 6);
  EXPECT_EQ(r.mem_per_cpu_mb, 2000);
  EXPECT_EQ(r.mem_per_gpu_mb, 1024 * 1024);
  EXPECT_EQ(r.ntasks_per_node, 2);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --mem=lots\n").find("line 2: --mem: memory 'lots'"),
            std::string::npos);
  EXPECT_NE(
      parse_error("#!/bin/sh\n#SBATCH -c 0\n").find("line 2: -c: CPU count must be at least 1"),
      std::string::npos);
}

TEST(Sbatch, MemorySizesAreInMebibytes) {
  EXPECT_EQ(*parse_memory_mb("500"), 500);
  EXPECT_EQ(*parse_memory_mb("0"), 0);  // all of a node's memory, as in Slurm
  EXPECT_EQ(*parse_memory_mb("4096M"), 4096);
  EXPECT_EQ(*parse_memory_mb("32g"), 32 * 1024);
  EXPECT_EQ(*parse_memory_mb("1536K"), 2);  // rounded up to whole MiB
  EXPECT_FALSE(parse_memory_mb("G").ok());
  EXPECT_FALSE(parse_memory_mb("-1").ok());
  EXPECT_FALSE(parse_memory_mb("999999999T").ok());
}

TEST(Sbatch, QosNamesATierCaseAndListingTheKnownOnes) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --qos=high\n").options.tier, "high");
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH -q spot\n").options.tier, "spot");
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --qos=gold\n")
                .find("--qos: tier (qos) 'gold' is not one of high, normal, spot"),
            std::string::npos);
}

TEST(Sbatch, ChdirSignalAndExportAreRead) {
  const SbatchScript s = parse_ok(
      "#!/bin/sh\n"
      "#SBATCH --chdir=runs/a -D runs/b\n"
      "#SBATCH --signal=B:USR1@60\n"
      "#SBATCH --export=NONE\n");
  EXPECT_EQ(s.options.workdir, "runs/b");
  EXPECT_EQ(s.options.signal, "B:USR1@60");
  EXPECT_EQ(s.options.export_env, "NONE");
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --workdir=/scratch\n").options.workdir, "/scratch");
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --signal=KILL@10\n")
                .find("line 2: --signal: signal 'KILL@10'"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --export=ALL,1X=2\n")
                .find("'1X', which is not a variable name"),
            std::string::npos);
}

TEST(Sbatch, OptionsBerthDoesNotDoAreRefusedWithTheReason) {
  EXPECT_EQ(parse_error("#!/bin/sh\n#SBATCH --reservation=r1\n"),
            "line 2: --reservation is not supported: berth has no reservations");
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH -L matlab\n").find("line 2: -L is not supported"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --begin=now+1hour\n").find("--begin is not supported"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --reservation=r1\n").find("no reservations"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --gpus-per-task=1\n")
                .find("--gpus-per-task is not supported"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --test-only\n").find("berth quote"), std::string::npos);
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH --tasks-per-node=4\n").options.resources.ntasks_per_node,
            4);
}

TEST(Sbatch, IgnoredOptionStillConsumesItsValue) {
  // "--comment x" must not leave "x" behind as a stray word.
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --comment x -J y\n");
  EXPECT_EQ(s.options.name, "y");
}

TEST(Sbatch, MissingValueIsAnError) {
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --time\n").find("--time needs a value"),
            std::string::npos);
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH -J\n").find("-J needs a value"), std::string::npos);
}

TEST(Sbatch, FlagWithValueIsAnError) {
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --requeue=yes\n").find("takes no value"),
            std::string::npos);
}

TEST(Sbatch, BadValuesNameLineAndOption) {
  std::string m = parse_error("#!/bin/sh\n#SBATCH --gres=gpu:0\n");
  EXPECT_NE(m.find("line 2: --gres"), std::string::npos) << m;
  m = parse_error("#!/bin/sh\n#SBATCH --time=forever\n");
  EXPECT_NE(m.find("line 2: --time"), std::string::npos) << m;
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --time=UNLIMITED\n").ok());
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --time=0\n").ok());
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH -G -1\n").ok());
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --nodes=1-2\n").ok());
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --nodes=0\n").ok());
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --job-name=\n").ok());
}

TEST(Sbatch, MultiNodeCountIsStoredForTheServerToJudge) {
  EXPECT_EQ(parse_ok("#!/bin/sh\n#SBATCH -N 2\n").options.nodes, 2);
}

TEST(Sbatch, TierIsNotAScriptOption) {
  EXPECT_FALSE(parse_sbatch("#!/bin/sh\n#SBATCH --tier=spot\n").ok());
}

TEST(ParseGres, Forms) {
  Result<GpuRequest> r = parse_gres("gpu:H100:2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 2);
  EXPECT_EQ(r->model, "H100");
  r = parse_gres("gpu:3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 3);
  EXPECT_FALSE(r->model.has_value());
  for (const char* bad : {"", "gpu:", "gpu:0", "gpu:-1", "gpu:x", "mps:100", "gpu:2,mps:10",
                          "gpu:H100:", "gpu::2", "gpu:1.5", "gpu:H 100:2"}) {
    EXPECT_FALSE(parse_gres(bad).ok()) << bad;
  }
}

TEST(ParseGpus, CountAndModel) {
  EXPECT_EQ(parse_gpus("8")->count, 8);
  EXPECT_EQ(parse_gpus("H100:8")->model, "H100");
  for (const char* bad : {"", "0", "-2", "two", "H100:", ":2", "99999999"}) {
    EXPECT_FALSE(parse_gpus(bad).ok()) << bad;
  }
}

TEST(ParseTimeLimit, RefusesZeroBecauseSlurmReadsItAsUnlimited) {
  EXPECT_EQ(*parse_time_limit_s("1"), 60);
  Result<int64_t> zero = parse_time_limit_s("0");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("no limit"), std::string::npos);
  EXPECT_FALSE(parse_time_limit_s("00:00:00").ok());
}

TEST(Overlay, HoldDependencyAndArrayAreFieldsLikeTheOthers) {
  JobOptions base;
  base.hold = true;
  base.dependency = "afterok:1";
  base.array = "0-3";
  JobOptions top;
  top.array = "1,2";
  const JobOptions got = overlay(base, top);
  EXPECT_EQ(got.hold, true);
  EXPECT_EQ(got.dependency, "afterok:1");
  EXPECT_EQ(got.array, "1,2");
}

TEST(Overlay, TopFieldsWinAndOthersStay) {
  JobOptions base;
  base.gpus = 2;
  base.gpu_model = "H100";
  base.name = "script-name";
  base.requeue = true;
  JobOptions top;
  top.gpus = 4;
  top.requeue = false;
  top.tier = "spot";
  const JobOptions merged = overlay(base, top);
  EXPECT_EQ(merged.gpus, 4);
  EXPECT_EQ(merged.gpu_model, "H100");
  EXPECT_EQ(merged.name, "script-name");
  EXPECT_EQ(merged.requeue, false);
  EXPECT_EQ(merged.tier, "spot");
}

}  // namespace
}  // namespace berth::cli

namespace berth::cli {
namespace {

TEST(Sbatch, NodeListsAreKeptAsWrittenAndCheckedWithTheirLine) {
  const SbatchScript s = parse_ok("#!/bin/sh\n#SBATCH --nodelist=gpu-[01-02] -x gpu03\n");
  EXPECT_EQ(s.options.nodelist, "gpu-[01-02]");
  EXPECT_EQ(s.options.exclude, "gpu03");
  EXPECT_EQ(parse_error("#!/bin/sh\n#SBATCH -w gpu[2-1]\n"),
            "line 2: -w: range '2-1' in node list runs backwards");
  EXPECT_NE(parse_error("#!/bin/sh\n#SBATCH --exclude=/etc/nodes\n").find("looks like a file"),
            std::string::npos);
}

TEST(Hostlist, ExpandsRangesKeepingTheirPadding) {
  EXPECT_EQ(*expand_hostlist("gpu-node-[08-10,12],login1"),
            (std::vector<std::string>{"gpu-node-08", "gpu-node-09", "gpu-node-10", "gpu-node-12",
                                      "login1"}));
  EXPECT_EQ(*expand_hostlist("n[1-3]-ib"), (std::vector<std::string>{"n1-ib", "n2-ib", "n3-ib"}));
  EXPECT_EQ(*expand_hostlist("a,b"), (std::vector<std::string>{"a", "b"}));
}

TEST(Hostlist, RefusesWhatItCannotReadNamingIt) {
  EXPECT_EQ(expand_hostlist("").status().message(), "the node list is empty");
  EXPECT_EQ(expand_hostlist("a,,b").status().message(), "empty node name in node list 'a,,b'");
  EXPECT_EQ(expand_hostlist("n[1-2").status().message(), "unbalanced '[' in node list 'n[1-2'");
  EXPECT_EQ(expand_hostlist("n1-2]").status().message(), "unbalanced ']' in node list 'n1-2]'");
  EXPECT_EQ(expand_hostlist("n[a-2]").status().message(),
            "'a' in node list range 'n[a-2]' is not a number");
  EXPECT_EQ(expand_hostlist("r[1-2]n[1-2]").status().message(),
            "node name 'r[1-2]n[1-2]' has more than one [...] range list");
  EXPECT_EQ(expand_hostlist("n[0-99999]").status().message(),
            "node list names more than 1024 nodes");
}

}  // namespace
}  // namespace berth::cli
