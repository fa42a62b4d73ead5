/* devices-v2.c — linux.resources.devices on cgroup v2, which has no devices
 * controller: a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
 * container's cgroup answers each device access (open, mknod) with allow
 * (1) or deny (0).
 *
 * The program checks the rules of devices.c from the last to the first and
 * the first that matches decides; none matching denies. An allow rule
 * matches when it grants every bit of the requested access, a deny rule
 * when it forbids any. That is v1's semantics for the usual lists (deny
 * all, then allows, maybe a later deny); it differs only where v1 would
 * combine two partial allows of the same device (allow r, allow w, then an
 * rw open), which hull denies. */
#include "cgroups/internal.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The context's fields, loaded once: R2 type, R3 access, R4 major,
 * R5 minor. R1 (the context) is free afterwards; R0 is the verdict. */
enum { R0, R1, R2, R3, R4, R5 };

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
                            int16_t off, int32_t imm) {
  return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src,
                           .off = off, .imm = imm};
}

static struct bpf_insn load_u32(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0);
}

static int32_t access_bits(const char *access) {
  int32_t bits = 0;
  for (const char *p = access; *p; p++)
    bits |= *p == 'r' ? BPF_DEVCG_ACC_READ
            : *p == 'w' ? BPF_DEVCG_ACC_WRITE
            : *p == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  return bits;
}

/* One rule: each check jumps past the block on a mismatch (the offsets are
 * filled in once the block's length is known); the end sets the verdict. */
static size_t rule_block(const struct cgroup_device_rule *r,
                         struct bpf_insn *b) {
  size_t n = 0;
  int32_t access = access_bits(r->access);
  if (r->type != 'a')
    b[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R2, 0, 0,
                  r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  b[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, R1, R3, 0, 0);
  if (r->allow) {
    /* Any requested bit the rule does not grant: not this rule. */
    b[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, R1, 0, 0, ~access & 7);
    b[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R1, 0, 0, 0);
  } else {
    /* No requested bit the rule forbids: not this rule. */
    b[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, R1, 0, 0, access);
    b[n++] = insn(BPF_JMP | BPF_JEQ | BPF_K, R1, 0, 0, 0);
  }
  if (r->major >= 0)
    b[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R4, 0, 0, (int32_t)r->major);
  if (r->minor >= 0)
    b[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, R5, 0, 0, (int32_t)r->minor);
  b[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
  b[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  for (size_t i = 0; i < n; i++)
    if (BPF_CLASS(b[i].code) == BPF_JMP && BPF_OP(b[i].code) != BPF_EXIT)
      b[i].off = (int16_t)(n - i - 1);
  return n;
}

#define MAX_BLOCK 8

size_t cgroup_device_program(const struct cgroup_device_rule *rules, size_t n,
                             struct bpf_insn **out) {
  struct bpf_insn *p = xmalloc((6 + n * MAX_BLOCK + 2) * sizeof(*p));
  size_t len = 0;
  p[len++] = load_u32(R2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
  p[len++] = insn(BPF_ALU64 | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
  p[len++] = load_u32(R3, offsetof(struct bpf_cgroup_dev_ctx, access_type));
  p[len++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, R3, 0, 0, 16);
  p[len++] = load_u32(R4, offsetof(struct bpf_cgroup_dev_ctx, major));
  p[len++] = load_u32(R5, offsetof(struct bpf_cgroup_dev_ctx, minor));
  for (size_t i = n; i-- > 0;)
    len += rule_block(&rules[i], p + len);
  p[len++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
  p[len++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *out = p;
  return len;
}

static int bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_program(const struct bpf_insn *prog, size_t len,
                        hull_error_t *err) {
  char log[4096] = "";
  union bpf_attr attr = {
      .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
      .insns = (uint64_t)(uintptr_t)prog,
      .insn_cnt = (uint32_t)len,
      .license = (uint64_t)(uintptr_t)"Apache",
      .log_buf = (uint64_t)(uintptr_t)log,
      .log_size = sizeof(log),
      .log_level = 1,
  };
  int fd = bpf(BPF_PROG_LOAD, &attr);
  /* A log too small for the verifier's chatter is ENOSPC; retry quietly. */
  if (fd < 0 && errno == ENOSPC) {
    attr.log_level = 0;
    attr.log_buf = 0;
    attr.log_size = 0;
    fd = bpf(BPF_PROG_LOAD, &attr);
  }
  if (fd < 0)
    return hull_error(err, errno, "linux.resources.devices: load the device "
                      "filter (%zu instructions)%s%s", len, *log ? ": " : "",
                      log);
  return fd;
}

int cgroup_v2_apply_devices(int dirfd, const struct spec_resources *res,
                            const struct spec_device *devices,
                            size_t n_devices, hull_error_t *err) {
  cleanup_free struct cgroup_device_rule *rules = NULL;
  size_t n = cgroup_device_rules(res, devices, n_devices, &rules);
  cleanup_free struct bpf_insn *prog = NULL;
  size_t len = cgroup_device_program(rules, n, &prog);
  cleanup_close int fd = load_program(prog, len, err);
  if (fd < 0)
    return -1;
  /* ALLOW_MULTI: programs of ancestors (systemd's) still apply, and every
   * one must allow. The attachment holds the program; the fd may go. */
  union bpf_attr attr = {
      .target_fd = (uint32_t)dirfd,
      .attach_bpf_fd = (uint32_t)fd,
      .attach_type = BPF_CGROUP_DEVICE,
      .attach_flags = BPF_F_ALLOW_MULTI,
  };
  if (bpf(BPF_PROG_ATTACH, &attr) < 0)
    return hull_error(err, errno, "linux.resources.devices: attach the "
                      "device filter to the cgroup");
  return 0;
}
