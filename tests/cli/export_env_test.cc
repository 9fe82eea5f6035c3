// Slurm's --export: what of the submitter's environment a job receives.
#include "cli/export_env.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

using Env = std::map<std::string, std::string>;

const Env kSubmitter = {{"PATH", "/opt/conda/bin:/usr/bin"},
                        {"HOME", "/home/alice"},
                        {"USER", "alice"},
                        {"PWD", "/w"},
                        {"BERTH_TOKEN", "s3cret"},
                        {"BERTH_SERVER", "http://x"},
                        {"GITHUB_TOKEN", "ghp_x"},
                        {"AWS_ACCESS_KEY_ID", "AKIA"},
                        {"DB_PASSWORD", "pw"},
                        {"SLURM_JOB_ID", "77"},
                        {"CONDA_PREFIX", "/opt/conda"}};

Env exported(const std::optional<std::string>& request, const Env& env = kSubmitter,
             const std::optional<std::string>& deny = std::nullopt) {
  Result<Env> out = exported_environment(request, env, export_deny_patterns(deny));
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : Env{};
}

TEST(Export, AllIsTheDefaultLessTokensSecretsTheSessionAndTheSubmittersOwnJobVariables) {
  // HOME, USER and PWD come from the user the job runs as and its workdir.
  const Env expected = {{"PATH", "/opt/conda/bin:/usr/bin"}, {"CONDA_PREFIX", "/opt/conda"}};
  EXPECT_EQ(exported(std::nullopt), expected);
  EXPECT_EQ(exported("ALL"), expected);
}

TEST(Export, TheDenyListComesFromTheConfigButBerthTokenNeverPasses) {
  const Env out = exported(std::nullopt, kSubmitter, "CONDA_*");
  EXPECT_EQ(out.count("CONDA_PREFIX"), 0u);
  EXPECT_EQ(out.at("GITHUB_TOKEN"), "ghp_x");  // no longer denied
  EXPECT_EQ(out.count("BERTH_TOKEN"), 0u);
  EXPECT_EQ(exported(std::nullopt, kSubmitter, "").count("BERTH_TOKEN"), 0u);
}

TEST(Export, NoneGivesNothing) {
  EXPECT_TRUE(exported("NONE").empty());
  EXPECT_TRUE(exported("NIL").empty());
}

TEST(Export, NamedVariablesOnlyWithTheirValuesOrTheSubmitters) {
  const Env expected = {{"CONDA_PREFIX", "/opt/conda"}, {"LR", "0.1"}, {"DB_PASSWORD", "pw"}};
  // Named explicitly, a variable passes even if the deny list matches it; an unset one is left
  // unset.
  EXPECT_EQ(exported("CONDA_PREFIX,LR=0.1,DB_PASSWORD,UNSET_ONE"), expected);
}

TEST(Export, AllWithValuesAddsThem) {
  const Env out = exported("ALL,LR=0.1,PATH=/bin");
  EXPECT_EQ(out.at("LR"), "0.1");
  EXPECT_EQ(out.at("PATH"), "/bin");
  EXPECT_EQ(out.at("CONDA_PREFIX"), "/opt/conda");
  EXPECT_EQ(out.count("HOME"), 0u);
  EXPECT_EQ(exported("HOME").at("HOME"), "/home/alice");  // named, it passes
}

TEST(Export, BadRequestsAreRefusedNamingWhatIsWrong) {
  EXPECT_NE(parse_export("BERTH_TOKEN").status().message().find("never passes"), std::string::npos);
  EXPECT_NE(parse_export("SLURM_JOB_ID").status().message().find("sets the job's own"),
            std::string::npos);
  EXPECT_NE(parse_export("NONE,A=1").status().message().find("mixes NONE"), std::string::npos);
  EXPECT_NE(parse_export("A-B=1").status().message().find("'A-B', which is not a variable name"),
            std::string::npos);
  EXPECT_FALSE(parse_export("").ok());
  EXPECT_FALSE(parse_export("A,,B").ok());
}

TEST(Export, TooLargeAnEnvironmentIsRefused) {
  Env huge;
  for (int i = 0; i < 2000; ++i) huge["V" + std::to_string(i)] = "x";
  Result<Env> out = exported_environment(std::nullopt, huge, {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("--export=NONE"), std::string::npos);
}

TEST(Export, GlobPatterns) {
  EXPECT_TRUE(glob_match("*TOKEN*", "GITHUB_TOKEN"));
  EXPECT_TRUE(glob_match("AWS_*", "AWS_SECRET_ACCESS_KEY"));
  EXPECT_TRUE(glob_match("A?C", "ABC"));
  EXPECT_FALSE(glob_match("AWS_*", "MY_AWS_X"));
  EXPECT_FALSE(glob_match("*_KEY", "KEYBOARD"));
  EXPECT_TRUE(glob_match("*", ""));
}

}  // namespace
}  // namespace berth::cli
