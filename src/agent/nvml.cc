// Decisions the header leaves open:
// - The functions are declared here with NVML's C ABI (nvml.h, stable since the _v2 names of
//   CUDA 5): nvmlReturn_t is an int, 0 for success; a device is an opaque pointer. Only these
//   eight are looked up, so any driver since then serves.
// - Each device's name, UUID and minor number are required: a GPU NVML cannot describe is an
//   error rather than a half-filled entry, since berthd schedules and isolates by them.
// - The library is unloaded after nvmlShutdown: the agent reads its GPUs once, at start.
#include "agent/nvml.h"

#include <dlfcn.h>

#include <memory>

namespace berth::agent {
namespace {

using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
struct NvmlDeviceSt;
using NvmlDevice = NvmlDeviceSt*;
// NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE.
constexpr unsigned kNameBytes = 96;
constexpr unsigned kUuidBytes = 96;

// The library's functions that berth uses, looked up by name.
struct Nvml {
  NvmlReturn (*init)();
  NvmlReturn (*shutdown)();
  NvmlReturn (*count)(unsigned*);
  NvmlReturn (*handle)(unsigned, NvmlDevice*);
  NvmlReturn (*name)(NvmlDevice, char*, unsigned);
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned);
  NvmlReturn (*minor)(NvmlDevice, unsigned*);
  const char* (*error_string)(NvmlReturn);
};

struct Unload {
  void operator()(void* handle) const { ::dlclose(handle); }
};
using Library = std::unique_ptr<void, Unload>;

template <typename F>
Status look_up(void* library, const char* symbol, F* out) {
  *out = reinterpret_cast<F>(::dlsym(library, symbol));
  if (*out == nullptr)
    return Status(Code::kUnavailable, std::string("NVML has no ") + symbol + ": driver too old?");
  return Status::Ok();
}

Result<Nvml> look_up_all(void* library) {
  Nvml n{};
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlInit_v2", &n.init));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlShutdown", &n.shutdown));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlDeviceGetCount_v2", &n.count));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlDeviceGetHandleByIndex_v2", &n.handle));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlDeviceGetName", &n.name));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlDeviceGetUUID", &n.uuid));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlDeviceGetMinorNumber", &n.minor));
  BERTH_RETURN_IF_ERROR(look_up(library, "nvmlErrorString", &n.error_string));
  return n;
}

// Ok for NVML_SUCCESS, else Unavailable saying what failed and NVML's reason.
Status check(const Nvml& n, NvmlReturn rc, const std::string& what) {
  if (rc == kNvmlSuccess) return Status::Ok();
  const char* reason = n.error_string(rc);
  return Status(Code::kUnavailable, "NVML " + what + ": " + (reason ? reason : "error") + " (" +
                                        std::to_string(rc) + ")");
}

Result<GpuInfo> describe(const Nvml& n, unsigned index) {
  const std::string which = "GPU " + std::to_string(index);
  NvmlDevice device = nullptr;
  BERTH_RETURN_IF_ERROR(check(n, n.handle(index, &device), "cannot open " + which));
  char name[kNameBytes] = {};
  char uuid[kUuidBytes] = {};
  unsigned minor = 0;
  BERTH_RETURN_IF_ERROR(check(n, n.name(device, name, kNameBytes), which + "'s name"));
  BERTH_RETURN_IF_ERROR(check(n, n.uuid(device, uuid, kUuidBytes), which + "'s UUID"));
  BERTH_RETURN_IF_ERROR(check(n, n.minor(device, &minor), which + "'s minor number"));
  name[kNameBytes - 1] = uuid[kUuidBytes - 1] = '\0';
  return GpuInfo{static_cast<int>(index), name, uuid, static_cast<int>(minor)};
}

Result<std::vector<GpuInfo>> list(const Nvml& n) {
  unsigned count = 0;
  BERTH_RETURN_IF_ERROR(check(n, n.count(&count), "cannot count GPUs"));
  if (count > kMaxGpusPerNode)
    return Status(Code::kUnavailable, "NVML reports " + std::to_string(count) +
                                          " GPUs, more than " + std::to_string(kMaxGpusPerNode));
  std::vector<GpuInfo> gpus;
  for (unsigned i = 0; i < count; ++i) {
    BERTH_ASSIGN_OR_RETURN(GpuInfo gpu, describe(n, i));
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

}  // namespace

Result<std::vector<GpuInfo>> find_gpus(const std::string& library) {
  const Library loaded(::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!loaded) {
    const char* why = ::dlerror();
    return Status::NotFound(std::string("cannot load NVML: ") + (why ? why : library.c_str()));
  }
  BERTH_ASSIGN_OR_RETURN(const Nvml n, look_up_all(loaded.get()));
  BERTH_RETURN_IF_ERROR(check(n, n.init(), "cannot start"));
  Result<std::vector<GpuInfo>> gpus = list(n);
  n.shutdown();
  return gpus;
}

}  // namespace berth::agent
