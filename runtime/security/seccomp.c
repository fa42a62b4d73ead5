/* seccomp.c — linux.seccomp with libseccomp, following runc's reading of
 * the spec:
 *   - KILL is KILL_THREAD; ERRNO and TRACE return errnoRet, EPERM when it
 *     is unset;
 *   - a rule whose action equals the default action is skipped (libseccomp
 *     refuses it), and so is a syscall name libseccomp does not know;
 *   - args: when no index appears twice, all conditions go in one rule
 *     (AND); when some index repeats, each condition is a rule of its own
 *     (OR), as runc does for profiles written that way;
 *   - SECCOMP_FILTER_FLAG_TSYNC is passed on, though the init is single
 *     threaded and execs next (not with a listener: seccomp_filter_flags);
 *   - syscalls newer than the profile return ENOSYS (see add_enosys_rules).
 * libseccomp's own no_new_privs attribute is turned off: process.
 * noNewPrivileges is applied by security.c.
 * libseccomp only builds the filter and turns it into BPF, at create (and
 * through seccomp_cache.c only once per profile); start hands the program
 * to seccomp(2) itself. */
#include "security.h"
#include "runtime/state/state.h"

#include <errno.h>
#include <linux/filter.h>
#include <stddef.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* ---- names ---------------------------------------------------------------- */

struct named { const char *name; uint32_t value; };

static const struct named actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct named operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* The architectures this build's libseccomp knows (2.5.4 lacks
 * LOONGARCH64, M68K and SuperH). */
static const struct named archs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct named *find_named(const struct named *table, size_t n,
                                      const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static const char *const *names_of(const struct named *table, size_t n,
                                   const char **out) {
  for (size_t i = 0; i < n; i++)
    out[i] = table[i].name;
  out[n] = NULL;
  return out;
}

const char *const *seccomp_action_names(void) {
  static const char *names[N_OF(actions) + 1];
  return names_of(actions, N_OF(actions), names);
}

const char *const *seccomp_operator_names(void) {
  static const char *names[N_OF(operators) + 1];
  return names_of(operators, N_OF(operators), names);
}

const char *const *seccomp_arch_names(void) {
  static const char *names[N_OF(archs) + 1];
  return names_of(archs, N_OF(archs), names);
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static const char *const known_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL};

const char *const *seccomp_known_flag_names(void) { return known_flags; }

/* The filter is loaded with seccomp(2) itself (see seccomp_filter_flags),
 * so a flag needs the kernel, not libseccomp: WAIT_KILLABLE_RECV came with
 * Linux 5.19. */
static bool kernel_at_least(int major, int minor) {
  struct utsname u;
  int ma = 0, mi = 0;
  if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
    return false;
  return ma > major || (ma == major && mi >= minor);
}

void seccomp_supported_flag_names(const char **out) {
  size_t n = 0;
  unsigned api = seccomp_api_get();
  out[n++] = "SECCOMP_FILTER_FLAG_TSYNC";
  if (api >= 4)
    out[n++] = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
  if (api >= 3)
    out[n++] = "SECCOMP_FILTER_FLAG_LOG";
  if (kernel_at_least(5, 19))
    out[n++] = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
  out[n] = NULL;
}

/* ---- translating the spec ------------------------------------------------ */

static int action_of(const char *name, const struct spec_uint *errno_ret,
                     const char *field, uint32_t *out, hull_error_t *err) {
  const struct named *a = find_named(actions, N_OF(actions), name);
  if (a == NULL)
    return hull_error(err, 0, "%s: unknown action \"%s\"", field, name);
  uint32_t value = a->value;
  if (strcmp(name, "SCMP_ACT_ERRNO") == 0 ||
      strcmp(name, "SCMP_ACT_TRACE") == 0) {
    uint64_t ret = errno_ret->set ? errno_ret->v : EPERM;
    if (ret > 0xffff)
      return hull_error(err, 0, "%s: errnoRet %llu does not fit in 16 bits",
                        field, (unsigned long long)ret);
    value |= (uint32_t)ret;
  }
  *out = value;
  return 0;
}

static int apply_flags(scmp_filter_ctx ctx, char **flags, hull_error_t *err) {
  for (size_t i = 0; flags && flags[i]; i++) {
    const char *f = flags[i];
    int rc = 0;
    if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0 ||
        strcmp(f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
      continue; /* load flags only: see seccomp_filter_flags */
    else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
      rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
      rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    else
      return hull_error(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"",
                        i, f);
    if (rc < 0)
      return hull_error(err, -rc, "linux.seccomp.flags[%zu]: set %s", i, f);
  }
  return 0;
}

static int add_archs(scmp_filter_ctx ctx, char **names, hull_error_t *err) {
  for (size_t i = 0; names && names[i]; i++) {
    const struct named *a = find_named(archs, N_OF(archs), names[i]);
    if (a == NULL)
      return hull_error(err, 0, "linux.seccomp.architectures[%zu]: %s is not "
                        "supported by this build's libseccomp", i, names[i]);
    int rc = seccomp_arch_add(ctx, a->value);
    if (rc < 0 && rc != -EEXIST)
      return hull_error(err, -rc, "linux.seccomp.architectures[%zu]: add %s",
                        i, names[i]);
  }
  return 0;
}

#define MAX_SYSCALL_ARGS 6

static int conditions_of(const struct spec_seccomp_syscall *sc, size_t i,
                         struct scmp_arg_cmp *conds, bool *repeats,
                         hull_error_t *err) {
  unsigned count[MAX_SYSCALL_ARGS] = {0};
  *repeats = false;
  for (size_t k = 0; k < sc->n_args; k++) {
    const struct spec_seccomp_arg *a = &sc->args[k];
    if (a->index >= MAX_SYSCALL_ARGS)
      return hull_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: "
                        "%u is out of range (0-5)", i, k, a->index);
    const struct named *op = find_named(operators, N_OF(operators), a->op);
    if (op == NULL)
      return hull_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: "
                        "unknown operator \"%s\"", i, k, a->op);
    conds[k] = (struct scmp_arg_cmp){.arg = a->index,
                                     .op = (enum scmp_compare)op->value,
                                     .datum_a = a->value,
                                     .datum_b = a->value_two.v};
    if (++count[a->index] > 1)
      *repeats = true;
  }
  return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
                    const struct spec_seccomp_syscall *sc,
                    const struct scmp_arg_cmp *conds, bool one_rule_per_arg) {
  if (sc->n_args == 0)
    return seccomp_rule_add_array(ctx, action, nr, 0, NULL);
  if (!one_rule_per_arg)
    return seccomp_rule_add_array(ctx, action, nr, (unsigned)sc->n_args, conds);
  for (size_t k = 0; k < sc->n_args; k++) {
    int rc = seccomp_rule_add_array(ctx, action, nr, 1, &conds[k]);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* The highest native syscall number the profile names, -1 when none. */
struct profile_reach { int highest_nr; };

static int add_syscall(scmp_filter_ctx ctx, const struct spec_seccomp_syscall *sc,
                       size_t i, uint32_t default_action,
                       struct profile_reach *reach, hull_error_t *err) {
  char field[64];
  snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", i);
  uint32_t action;
  if (action_of(sc->action, &sc->errno_ret, field, &action, err) < 0)
    return -1;
  if (sc->names == NULL || sc->names[0] == NULL)
    return hull_error(err, 0, "linux.seccomp.syscalls[%zu].names: must not be "
                      "empty", i);
  if (sc->n_args > MAX_SYSCALL_ARGS * MAX_SYSCALL_ARGS)
    return hull_error(err, 0, "linux.seccomp.syscalls[%zu].args: too many "
                      "conditions", i);
  struct scmp_arg_cmp conds[MAX_SYSCALL_ARGS * MAX_SYSCALL_ARGS];
  bool repeats;
  if (conditions_of(sc, i, conds, &repeats, err) < 0)
    return -1;
  for (size_t j = 0; sc->names[j]; j++) {
    const char *name = sc->names[j];
    if (*name == '\0')
      return hull_error(err, 0, "linux.seccomp.syscalls[%zu].names[%zu]: "
                        "empty syscall name", i, j);
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      log_debug("seccomp: skipping unknown syscall \"%s\"", name);
      continue;
    }
    if (nr > reach->highest_nr)
      reach->highest_nr = nr;
    if (action == default_action)
      continue;
    int rc = add_rule(ctx, action, nr, sc, conds, repeats);
    if (rc < 0)
      return hull_error(err, -rc, "linux.seccomp.syscalls[%zu]: add rule for "
                        "\"%s\"", i, name);
  }
  return 0;
}

/* ---- ENOSYS for syscalls newer than the profile ---------------------------
 * A profile written before a syscall existed cannot allow it, so with a
 * deny-by-default profile a new syscall would get the default action --
 * EPERM, say -- and glibc would not fall back (clone3 → clone, faccessat2
 * → faccessat, fchmodat2 → fchmodat only fall back on ENOSYS). runc
 * prepends BPF that returns ENOSYS for every syscall numbered above the
 * highest one the profile names, per architecture. We get the same result
 * with ordinary rules: "newer than the profile" means a native syscall
 * number above the highest native number among the names the profile
 * lists (syscall numbers grow with kernel versions; on x86_64 every new
 * syscall since 5.0 takes the next free number from 424 up). Each such
 * syscall gets an ERRNO(ENOSYS) rule: by name when libseccomp knows it, so
 * it maps onto every architecture of the filter. Numbers past the end of
 * libseccomp's table (syscall(1000)) cannot be rules at all in a filter
 * with several architectures: a short BPF prelude returns ENOSYS for them,
 * per architecture (enosys_prelude). As in runc, nothing is added when the
 * default action allows (ALLOW, LOG) or already returns ENOSYS. */
static bool wants_enosys_rules(uint32_t default_action) {
  if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG)
    return false;
  return default_action != SCMP_ACT_ERRNO(ENOSYS);
}

/* Native syscall numbers stay below this on every 64-bit architecture
 * libseccomp numbers from 0 (x32's start at 0x40000000). */
#define NATIVE_SCAN_LIMIT 1024

static void add_enosys_rules(scmp_filter_ctx ctx, int profile_highest) {
  uint32_t native = seccomp_arch_native();
  const uint32_t enosys = SCMP_ACT_ERRNO(ENOSYS);
  for (int nr = profile_highest + 1; nr < NATIVE_SCAN_LIMIT; nr++) {
    cleanup_free char *name = seccomp_syscall_resolve_num_arch(native, nr);
    if (name == NULL)
      continue;
    /* One the filter's other architectures lack keeps the default there. */
    int rc = seccomp_rule_add(ctx, enosys, nr, 0);
    if (rc < 0)
      log_debug("seccomp: no ENOSYS rule for \"%s\": %s", name, strerror(-rc));
  }
}

/* ---- ENOSYS past the end of libseccomp's table ------------------------------
 * For each architecture of the filter whose numbers start at 0 (not x32
 * nor MIPS, whose tables start elsewhere; they keep the default), the
 * prelude checks the syscall number against the highest one libseccomp
 * knows there; above it, up to ARM's private syscalls at 0xf0000, the
 * answer is ENOSYS. Otherwise it falls through to libseccomp's program.
 *   ld arch; { jeq ARCH ? : next; ld nr; jgt MAX ? : prog; jge LIMIT prog :
 *   enosys } per arch; ja prog; enosys: ret ERRNO(ENOSYS); prog: ... */
#define UNTABLED_LIMIT 0xf0000

static int highest_known_nr(uint32_t arch) {
  for (int nr = NATIVE_SCAN_LIMIT - 1; nr >= 0; nr--) {
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name) {
      free(name);
      return nr;
    }
  }
  return -1;
}

struct arch_reach { uint32_t arch; int highest; };

/* The filter's architectures (the native one and those listed) that have
 * numbers from 0, with their highest known number; at most `max`. */
static size_t filter_arch_reach(const struct spec_seccomp *s,
                                struct arch_reach *out, size_t max) {
  size_t n = 0;
  uint32_t native = seccomp_arch_native();
  size_t n_listed = 0;
  while (s->architectures && s->architectures[n_listed])
    n_listed++;
  for (size_t i = 0; i <= n_listed && n < max; i++) {
    uint32_t arch = native;
    if (i > 0) {
      const struct named *a =
          find_named(archs, N_OF(archs), s->architectures[i - 1]);
      if (a == NULL || a->value == native)
        continue;
      arch = a->value;
    }
    bool seen = false;
    for (size_t k = 0; k < n; k++)
      seen = seen || out[k].arch == arch;
    int highest = seen ? -1 : highest_known_nr(arch);
    if (highest >= 0)
      out[n++] = (struct arch_reach){arch, highest};
  }
  return n;
}

/* The prelude into `out` (room for 3 + 4 * N_OF(archs)), its length. */
static size_t enosys_prelude(const struct spec_seccomp *s,
                             struct sock_filter *out) {
  struct arch_reach reach[N_OF(archs)];
  size_t n = filter_arch_reach(s, reach, N_OF(archs));
  if (n == 0)
    return 0;
  size_t len = 0;
  const size_t prog = 4 * n + 3, enosys = prog - 1;
  out[len++] = (struct sock_filter)BPF_STMT(
      BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  for (size_t i = 0; i < n; i++) {
    size_t at = len;
    out[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                              reach[i].arch, 0, 3);
    out[len++] = (struct sock_filter)BPF_STMT(
        BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    out[len++] = (struct sock_filter)BPF_JUMP(
        BPF_JMP | BPF_JGT | BPF_K, (uint32_t)reach[i].highest, 0,
        (uint8_t)(prog - (at + 2) - 1));
    out[len++] = (struct sock_filter)BPF_JUMP(
        BPF_JMP | BPF_JGE | BPF_K, UNTABLED_LIMIT,
        (uint8_t)(prog - (at + 3) - 1), (uint8_t)(enosys - (at + 3) - 1));
  }
  out[len++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 1);
  out[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
                                            SECCOMP_RET_ERRNO | ENOSYS);
  return len;
}

/* ---- the filter ------------------------------------------------------------ */

static void release_filter(scmp_filter_ctx *ctx) {
  if (*ctx)
    seccomp_release(*ctx);
}

int seccomp_filter_build(const struct spec_seccomp *s, scmp_filter_ctx *out,
                         hull_error_t *err) {
  uint32_t default_action;
  if (action_of(s->default_action, &s->default_errno_ret,
                "linux.seccomp.defaultAction", &default_action, err) < 0)
    return -1;
  if (seccomp_profile_check(s, err) < 0)
    return -1;
  __attribute__((cleanup(release_filter))) scmp_filter_ctx ctx =
      seccomp_init(default_action);
  if (ctx == NULL)
    return hull_error(err, EINVAL, "linux.seccomp.defaultAction: seccomp_init "
                      "refuses %s", s->default_action);
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0)
    return hull_error(err, -rc, "linux.seccomp: clear libseccomp's "
                      "no_new_privs attribute");
  /* A binary search on the syscall number instead of a linear chain:
   * the kernel emulates the filter for every syscall when it loads it (to
   * fill its action cache), and every unmatched syscall walks it, so a
   * docker-sized profile loads and runs faster as a tree. */
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc < 0)
    log_debug("seccomp: no binary-tree filter: %s", strerror(-rc));
  if (add_archs(ctx, s->architectures, err) < 0 ||
      apply_flags(ctx, s->flags, err) < 0)
    return -1;
  struct profile_reach reach = {.highest_nr = -1};
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (add_syscall(ctx, &s->syscalls[i], i, default_action, &reach, err) < 0)
      return -1;
  if (wants_enosys_rules(default_action))
    add_enosys_rules(ctx, reach.highest_nr);
  *out = take_ptr(ctx);
  return 0;
}

/* The seccomp fd travels to the listener with sendmsg/write from the
 * process under the filter: a notification there would wait for a listener
 * that has not got the fd yet. runc refuses both, in these words. */
static int check_notify_targets(const struct spec_seccomp *s,
                                hull_error_t *err) {
  if (strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0)
    return hull_error(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY "
                      "cannot be used as default action");
  for (size_t i = 0; i < s->n_syscalls; i++) {
    const struct spec_seccomp_syscall *sc = &s->syscalls[i];
    if (sc->action == NULL || strcmp(sc->action, "SCMP_ACT_NOTIFY") != 0)
      continue;
    for (size_t j = 0; sc->names && sc->names[j]; j++)
      if (strcmp(sc->names[j], "write") == 0)
        return hull_error(err, 0, "linux.seccomp.syscalls[%zu].names[%zu]: "
                          "SCMP_ACT_NOTIFY cannot be used for the write "
                          "syscall", i, j);
  }
  return 0;
}

int seccomp_profile_check(const struct spec_seccomp *s, hull_error_t *err) {
  if (check_notify_targets(s, err) < 0)
    return -1;
  bool no_path = s->listener_path == NULL || *s->listener_path == '\0';
  if (seccomp_uses_notify(s) && no_path)
    return hull_error(err, 0, "linux.seccomp.listenerPath: required with "
                      "SCMP_ACT_NOTIFY");
  if (s->listener_metadata && *s->listener_metadata && no_path)
    return hull_error(err, 0, "linux.seccomp.listenerMetadata: set without "
                      "listenerPath");
  return 0;
}

void seccomp_bpf_free(struct seccomp_bpf *b) {
  free(b->insns);
  b->insns = NULL;
  b->len = 0;
}

/* libseccomp 2.5 writes BPF only to an fd: a memfd keeps it in memory. */
int seccomp_filter_compile(const struct spec_seccomp *s, struct seccomp_bpf *out,
                           hull_error_t *err) {
  __attribute__((cleanup(release_filter))) scmp_filter_ctx ctx = NULL;
  if (seccomp_filter_build(s, &ctx, err) < 0)
    return -1;
  cleanup_close int fd = memfd_create("hull-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "linux.seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return hull_error(err, -rc, "linux.seccomp: generate the BPF program");
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0)
    return hull_error(err, errno, "linux.seccomp: size of the BPF program");
  struct sock_filter prelude[3 + 4 * N_OF(archs)];
  size_t n_prelude = 0;
  uint32_t default_action;
  if (action_of(s->default_action, &s->default_errno_ret,
                "linux.seccomp.defaultAction", &default_action, err) < 0)
    return -1;
  if (wants_enosys_rules(default_action))
    n_prelude = enosys_prelude(s, prelude);
  size_t n_lib = (size_t)size / sizeof(struct sock_filter);
  size_t n = n_prelude + n_lib;
  if (n_lib == 0 || n > BPF_MAXINSNS ||
      (size_t)size % sizeof(struct sock_filter) != 0)
    return hull_error(err, E2BIG, "linux.seccomp: the BPF program has %zu "
                      "instructions (at most %d fit)", n, BPF_MAXINSNS);
  struct sock_filter *insns = xmalloc(n * sizeof(*insns));
  memcpy(insns, prelude, n_prelude * sizeof(*insns));
  if (pread(fd, insns + n_prelude, (size_t)size, 0) != size) {
    int e = errno;
    free(insns);
    return hull_error(err, e, "linux.seccomp: read the BPF program back");
  }
  *out = (struct seccomp_bpf){.insns = insns, .len = n};
  return 0;
}

unsigned seccomp_filter_flags(const struct spec_seccomp *s) {
  unsigned flags = 0;
  for (size_t i = 0; s->flags && s->flags[i]; i++) {
    if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
      flags |= SECCOMP_FILTER_FLAG_TSYNC;
    else if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
      flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
      flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  }
  /* The kernel refuses TSYNC with NEW_LISTENER (short of TSYNC_ESRCH, 5.7);
   * the init is single threaded, so TSYNC has nothing to do anyway. */
  if (!seccomp_uses_notify(s))
    return flags;
  flags = (flags & ~SECCOMP_FILTER_FLAG_TSYNC) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
  /* Only meaningful with a listener, and refused by the kernel without. */
  for (size_t i = 0; s->flags && s->flags[i]; i++)
    if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
      flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  return flags;
}

bool seccomp_uses_notify(const struct spec_seccomp *s) {
  if (s == NULL)
    return false;
  if (strcmp(s->default_action, "SCMP_ACT_NOTIFY") == 0)
    return true;
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (s->syscalls[i].action &&
        strcmp(s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
      return true;
  return false;
}

/* ---- the listener ---------------------------------------------------------- */

int seccomp_prepare(const struct spec_seccomp *s, const char *cache_dir,
                    struct seccomp_prepared *out, hull_error_t *err) {
  out->bpf = (struct seccomp_bpf){0};
  out->listener_fd = -1;
  if (s == NULL)
    return 0;
  cleanup_free char *dir = cache_dir ? xasprintf("%s/seccomp", cache_dir)
                                     : NULL;
  if (seccomp_bpf_for(s, dir, &out->bpf, err) < 0)
    return -1;
  if (!seccomp_uses_notify(s))
    return 0;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(s->listener_path) >= sizeof(addr.sun_path))
    return hull_error(err, ENAMETOOLONG, "linux.seccomp.listenerPath `%s`",
                      s->listener_path);
  strcpy(addr.sun_path, s->listener_path);
  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return hull_error(err, errno, "linux.seccomp.listenerPath: socket");
  if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return hull_error(err, errno, "linux.seccomp.listenerPath: connect `%s`",
                      s->listener_path);
  out->listener_fd = take_fd(&sock);
  return 0;
}

/* Re-emits a parsed JSON value (the state document) into g. */
static void gen_tree(yajl_gen g, yajl_val v) {
  if (YAJL_IS_OBJECT(v)) {
    yajl_gen_map_open(g);
    for (size_t i = 0; i < v->u.object.len; i++) {
      json_gen_string(g, v->u.object.keys[i]);
      gen_tree(g, v->u.object.values[i]);
    }
    yajl_gen_map_close(g);
  } else if (YAJL_IS_ARRAY(v)) {
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->u.array.len; i++)
      gen_tree(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
  } else if (YAJL_IS_STRING(v)) {
    json_gen_string(g, v->u.string);
  } else if (YAJL_IS_NUMBER(v)) {
    yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
  } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
    yajl_gen_bool(g, YAJL_IS_TRUE(v));
  } else {
    yajl_gen_null(g);
  }
}

/* The container process state of config-linux.md: ociVersion, fds,
 * pid, metadata and the container's state. */
static char *process_state_json(const struct spec_seccomp *s,
                                const char *state_json) {
  yajl_val state = state_json ? yajl_tree_parse(state_json, NULL, 0) : NULL;
  long long pid = 0;
  const char *pid_path[] = {"pid", NULL};
  yajl_val p = state ? yajl_tree_get(state, pid_path, yajl_t_number) : NULL;
  if (p && YAJL_IS_INTEGER(p))
    pid = YAJL_GET_INTEGER(p);
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  json_gen_string(g, "ociVersion");
  json_gen_string(g, OCI_VERSION);
  json_gen_string(g, "fds");
  yajl_gen_array_open(g);
  json_gen_string(g, "seccompFd");
  yajl_gen_array_close(g);
  json_gen_string(g, "pid");
  yajl_gen_integer(g, pid);
  json_gen_string(g, "metadata");
  json_gen_string(g, s->listener_metadata ? s->listener_metadata : "");
  json_gen_string(g, "state");
  if (state)
    gen_tree(g, state);
  else
    yajl_gen_null(g);
  yajl_gen_map_close(g);
  yajl_tree_free(state);
  return json_gen_finish(g);
}

static int send_notify_fd(const struct spec_seccomp *s, int listener_fd,
                          const char *state_json, int notify_fd,
                          hull_error_t *err) {
  cleanup_free char *body = process_state_json(s, state_json);
  struct iovec iov = {.iov_base = body, .iov_len = strlen(body)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));
  ssize_t n;
  do
    n = sendmsg(listener_fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error(err, errno, "linux.seccomp.listenerPath: send the "
                      "seccomp fd to `%s`", s->listener_path);
  /* The fd went with the first byte; the rest of a short write follows. */
  if ((size_t)n < iov.iov_len &&
      write_all(listener_fd, body + n, iov.iov_len - (size_t)n) < 0)
    return hull_error(err, errno, "linux.seccomp.listenerPath: send the "
                      "container state to `%s`", s->listener_path);
  return 0;
}

static void free_bpf(struct seccomp_bpf *b) { seccomp_bpf_free(b); }

/* What libseccomp's seccomp_load did, minus the BPF generation: its
 * no_new_privs attribute is off (security.c owns no_new_privs), and the
 * flags it would pass come from seccomp_filter_flags(). */
static int load_program(const struct seccomp_bpf *bpf, unsigned flags,
                        hull_error_t *err) {
  struct sock_fprog prog = {.len = (unsigned short)bpf->len,
                            .filter = bpf->insns};
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0 && errno == EACCES)
    return hull_error(err, EACCES, "linux.seccomp: load the filter (needs "
                      "process.noNewPrivileges or CAP_SYS_ADMIN)");
  if (rc < 0)
    return hull_error(err, errno, "linux.seccomp: load the filter");
  return (int)rc;
}

int seccomp_apply(const struct spec_seccomp *s, struct seccomp_prepared *p,
                  hull_error_t *err) {
  __attribute__((cleanup(free_bpf))) struct seccomp_bpf bpf = {0};
  if (p) {
    bpf = p->bpf;
    p->bpf = (struct seccomp_bpf){0};
  }
  if (bpf.len == 0 && seccomp_filter_compile(s, &bpf, err) < 0)
    return -1;
  bool notify = seccomp_uses_notify(s);
  cleanup_close int listener_fd = p ? take_fd(&p->listener_fd) : -1;
  if (notify && listener_fd < 0)
    return hull_error(err, 0, "linux.seccomp.listenerPath: not connected");
  int rc = load_program(&bpf, seccomp_filter_flags(s), err);
  if (rc < 0)
    return -1;
  if (!notify)
    return 0;
  /* With NEW_LISTENER, seccomp(2) returned the notify fd. */
  cleanup_close int notify_fd = rc;
  return send_notify_fd(s, listener_fd, p->state_json, notify_fd, err);
}
