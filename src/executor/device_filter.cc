#include "executor/device_filter.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "executor/cgroup.h"

namespace berth::executor {
namespace {

// bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor; all u32.
constexpr int16_t kTypeOffset = 0;
constexpr int16_t kMajorOffset = 4;
constexpr int16_t kMinorOffset = 8;

bpf_insn load_u32(uint8_t dst, int16_t offset) {
  return bpf_insn{BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, offset, 0};
}
bpf_insn and_k(uint8_t dst, int32_t imm) {
  return bpf_insn{BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm};
}
// A jump to `target` (an instruction's index) from the instruction at `at`.
bpf_insn jump_k(uint8_t op, uint8_t dst, int32_t imm, size_t at, size_t target) {
  return bpf_insn{static_cast<uint8_t>(BPF_JMP | op | BPF_K), dst, 0,
                  static_cast<int16_t>(static_cast<int>(target) - static_cast<int>(at) - 1), imm};
}
bpf_insn mov_k(uint8_t dst, int32_t imm) {
  return bpf_insn{BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm};
}
bpf_insn exit_insn() { return bpf_insn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0}; }

// Allows (r0 = 1) every device but `major`'s character devices not in `minors`.
std::vector<bpf_insn> program(const std::vector<int>& minors, int major) {
  // Layout: 6 fixed, one per allowed minor, then deny (2) and allow (2).
  const size_t deny = 6 + minors.size();
  const size_t allow = deny + 2;
  std::vector<bpf_insn> p;
  p.push_back(load_u32(BPF_REG_2, kTypeOffset));
  p.push_back(and_k(BPF_REG_2, 0xffff));
  p.push_back(jump_k(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, p.size(), allow));
  p.push_back(load_u32(BPF_REG_3, kMajorOffset));
  p.push_back(jump_k(BPF_JNE, BPF_REG_3, major, p.size(), allow));
  p.push_back(load_u32(BPF_REG_4, kMinorOffset));
  for (int m : minors) p.push_back(jump_k(BPF_JEQ, BPF_REG_4, m, p.size(), allow));
  p.push_back(mov_k(BPF_REG_0, 0));
  p.push_back(exit_insn());
  p.push_back(mov_k(BPF_REG_0, 1));
  p.push_back(exit_insn());
  return p;
}

long bpf(int cmd, bpf_attr* attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof *attr); }

Result<int> load(const std::vector<int>& gpus, int major) {
  std::vector<int> minors = gpus;
  minors.push_back(kNvidiaCtlMinor);
  const std::vector<bpf_insn> insns = program(minors, major);
  static const char kLicense[] = "Apache-2.0";
  char log[4096] = {};
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  attr.log_buf = reinterpret_cast<uint64_t>(log);
  attr.log_size = sizeof log;
  attr.log_level = 1;
  const long fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0)
    return Status(Code::kUnavailable, std::string("the kernel refuses a device filter: ") +
                                          std::strerror(errno) +
                                          (log[0] ? std::string(" (") + log + ")" : ""));
  return static_cast<int>(fd);
}

}  // namespace

Status attach_device_filter(const std::string& dir, const std::vector<int>& gpus, int major) {
  BERTH_ASSIGN_OR_RETURN(int prog, load(gpus, major));
  const int cgroup = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup < 0) {
    const int err = errno;
    ::close(prog);
    return Status(Code::kUnavailable, "cannot open " + dir + ": " + std::strerror(err));
  }
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  const long rc = bpf(BPF_PROG_ATTACH, &attr);
  const int err = errno;
  ::close(cgroup);
  ::close(prog);  // the attachment holds the program
  if (rc != 0)
    return Status(Code::kUnavailable,
                  "cannot attach the device filter to " + dir + ": " + std::strerror(err));
  return Status::Ok();
}

Status device_filter_supported() {
  BERTH_ASSIGN_OR_RETURN(int prog, load({}, kNvidiaMajor));
  ::close(prog);
  return Status::Ok();
}

}  // namespace berth::executor
