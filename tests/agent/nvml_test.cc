#include "agent/nvml.h"

#include <gtest/gtest.h>

#include "agent/node_gpus.h"

namespace berth::agent {
namespace {

// Built beside this test (CMakeLists.txt): tests/agent/fake_nvml/fake_nvml.cc.
const std::string kFake = BERTH_FAKE_NVML;
const std::string kFakeWithoutDriver = BERTH_FAKE_NVML_NO_DRIVER;

TEST(FindGpusTest, ReadsEachGpusNameUuidAndMinorFromTheLibrary) {
  auto gpus = find_gpus(kFake);
  ASSERT_TRUE(gpus.ok()) << gpus.status().message();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[0].index, 0);
  EXPECT_EQ((*gpus)[0].model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ((*gpus)[0].uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ((*gpus)[0].minor, 4);
  EXPECT_EQ((*gpus)[1].index, 1);
  EXPECT_EQ((*gpus)[1].uuid, "GPU-66666666-7777-8888-9999-000000000000");
  EXPECT_EQ((*gpus)[1].minor, 5);
}

TEST(FindGpusTest, CanBeCalledAgainAfterShuttingNvmlDown) {
  ASSERT_TRUE(find_gpus(kFake).ok());
  auto again = find_gpus(kFake);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->size(), 2u);
}

TEST(FindGpusTest, AnAbsentLibraryIsNotFound) {
  auto gpus = find_gpus("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(gpus.ok());
  EXPECT_EQ(gpus.status().code(), Code::kNotFound);
  EXPECT_NE(gpus.status().message().find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
}

TEST(FindGpusTest, ALibraryWithoutNvmlsFunctionsIsUnavailableNamingTheFirstMissing) {
  auto gpus = find_gpus("libm.so.6");
  ASSERT_FALSE(gpus.ok());
  EXPECT_EQ(gpus.status().code(), Code::kUnavailable);
  EXPECT_NE(gpus.status().message().find("nvmlInit_v2"), std::string::npos)
      << gpus.status().message();
}

TEST(FindGpusTest, AFailedInitIsUnavailableWithNvmlsReason) {
  auto gpus = find_gpus(kFakeWithoutDriver);
  ASSERT_FALSE(gpus.ok());
  EXPECT_EQ(gpus.status().code(), Code::kUnavailable);
  EXPECT_NE(gpus.status().message().find("Driver Not Loaded"), std::string::npos)
      << gpus.status().message();
}

AgentConfig configured(int gpus, const std::string& model) {
  AgentConfig c;
  c.node = "gpu-node-01";
  c.gpus = gpus;
  c.gpu_model = model;
  return c;
}

TEST(ChooseGpusTest, WithoutNvmlTheConfigurationsGpusAreReportedAndNoted) {
  const NodeGpus g =
      choose_gpus(configured(3, "H100"), find_gpus("/nonexistent/libnvidia-ml.so.1"));
  ASSERT_EQ(g.gpus.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(g.gpus[i].index, i);
    EXPECT_EQ(g.gpus[i].minor, i);
    EXPECT_EQ(g.gpus[i].model, "H100");
    EXPECT_EQ(g.gpus[i].uuid, "");
  }
  EXPECT_EQ(g.model, "H100");
  EXPECT_FALSE(g.warn);
  EXPECT_NE(g.note.find("no NVML"), std::string::npos) << g.note;
  EXPECT_NE(g.note.find("3 GPUs of model H100 from the configuration"), std::string::npos)
      << g.note;
}

TEST(ChooseGpusTest, AFailingNvmlFallsBackToTheConfigurationWithAWarning) {
  const NodeGpus g = choose_gpus(configured(8, "H100"), find_gpus(kFakeWithoutDriver));
  EXPECT_EQ(g.gpus.size(), 8u);
  EXPECT_TRUE(g.warn);
  EXPECT_NE(g.note.find("Driver Not Loaded"), std::string::npos) << g.note;
}

TEST(ChooseGpusTest, NvmlsGpusAreReportedUnderTheConfiguredLabelWhenTheNameHoldsIt) {
  const NodeGpus g = choose_gpus(configured(2, "h100"), find_gpus(kFake));
  ASSERT_EQ(g.gpus.size(), 2u);
  EXPECT_EQ(g.gpus[1].minor, 5);
  EXPECT_EQ(g.gpus[1].model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g.model, "h100");
  EXPECT_FALSE(g.warn) << g.note;
}

TEST(ChooseGpusTest, NvmlWinsOverAConfigurationThatSaysMoreGpusOrAnotherModel) {
  const NodeGpus g = choose_gpus(configured(8, "A100"), find_gpus(kFake));
  EXPECT_EQ(g.gpus.size(), 2u);
  EXPECT_EQ(g.model, "NVIDIA H100 80GB HBM3");
  EXPECT_TRUE(g.warn);
  EXPECT_NE(g.note.find("gpus = 8 and gpu_model = \"A100\""), std::string::npos) << g.note;
}

TEST(ChooseGpusTest, NvmlAloneNeedsNoConfiguredGpus) {
  const NodeGpus g = choose_gpus(configured(0, ""), find_gpus(kFake));
  EXPECT_EQ(g.gpus.size(), 2u);
  EXPECT_EQ(g.model, "NVIDIA H100 80GB HBM3");
  EXPECT_FALSE(g.warn) << g.note;
}

}  // namespace
}  // namespace berth::agent
