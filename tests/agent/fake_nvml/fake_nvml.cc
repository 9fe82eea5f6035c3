// A stand-in for NVIDIA's libnvidia-ml.so.1, built as a shared library for nvml_test.cc, which
// loads it by path with the agent's real dlopen code. It exports the functions the agent looks
// up, with NVML's C ABI, and answers for two H100s (minor numbers 4 and 5, so that index and
// minor differ). Built twice: FAKE_NVML_INIT_RESULT 9 (NVML_ERROR_DRIVER_NOT_LOADED) makes a
// library whose driver is missing.
#include <cstdio>
#include <cstring>

#ifndef FAKE_NVML_INIT_RESULT
#define FAKE_NVML_INIT_RESULT 0
#endif

namespace {
struct Device {
  const char* name;
  const char* uuid;
  unsigned minor;
};
const Device kDevices[] = {
    {"NVIDIA H100 80GB HBM3", "GPU-11111111-2222-3333-4444-555555555555", 4},
    {"NVIDIA H100 80GB HBM3", "GPU-66666666-7777-8888-9999-000000000000", 5},
};
constexpr unsigned kCount = sizeof kDevices / sizeof kDevices[0];
constexpr int kInvalidArgument = 2;
constexpr int kInsufficientSize = 7;
bool started = false;

int copy(const char* text, char* out, unsigned length) {
  if (std::strlen(text) + 1 > length) return kInsufficientSize;
  std::snprintf(out, length, "%s", text);
  return 0;
}
}  // namespace

extern "C" {
int nvmlInit_v2() {
  started = FAKE_NVML_INIT_RESULT == 0;
  return FAKE_NVML_INIT_RESULT;
}
int nvmlShutdown() {
  started = false;
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = kCount;
  return started ? 0 : 1;  // NVML_ERROR_UNINITIALIZED
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, const Device** device) {
  if (index >= kCount) return kInvalidArgument;
  *device = &kDevices[index];
  return 0;
}
int nvmlDeviceGetName(const Device* device, char* name, unsigned length) {
  return copy(device->name, name, length);
}
int nvmlDeviceGetUUID(const Device* device, char* uuid, unsigned length) {
  return copy(device->uuid, uuid, length);
}
int nvmlDeviceGetMinorNumber(const Device* device, unsigned* minor) {
  *minor = device->minor;
  return 0;
}
const char* nvmlErrorString(int result) {
  return result == 9 ? "Driver Not Loaded" : "Unknown Error";
}
}
