/* security.h — the process-security step: what a container's process may do.
 *
 * Called by the container's init right before exec, in this order:
 *   security_before_user()  still root in the container: rlimits,
 *                           oom_score_adj, personality, I/O priority,
 *                           scheduler, initial CPU affinity, the AppArmor /
 *                           SELinux exec label, the capability bounding set,
 *                           keep-caps across the uid change; without
 *                           no_new_privs also the seccomp filter (loading it
 *                           then needs CAP_SYS_ADMIN, which the uid change
 *                           takes away)
 *   (the init switches to process.user)
 *   security_after_user()   effective/permitted/inheritable/ambient
 *                           capabilities, final CPU affinity, no_new_privs,
 *                           and with it the seccomp filter last, so hull's
 *                           own setup is unfiltered. */
#ifndef HULL_SECURITY_H
#define HULL_SECURITY_H

#include "runtime/spec/spec.h"

#include <linux/filter.h>
#include <seccomp.h>

/* A compiled seccomp filter: the classic BPF program the kernel takes. */
struct seccomp_bpf {
  struct sock_filter *insns; /* NULL when empty */
  size_t len;
};
void seccomp_bpf_free(struct seccomp_bpf *b);

/* What the init keeps between `create` and `start` for linux.seccomp: the
 * filter, compiled to BPF at create (so that a bad profile fails there and
 * start only hands the program to the kernel), the connection to
 * linux.seccomp.listenerPath, made before pivot_root, and the container's
 * state JSON to send with the notify fd. An empty bpf is compiled when
 * loading. */
struct seccomp_prepared {
  struct seccomp_bpf bpf;
  int listener_fd;           /* -1 when there is no listener */
  const char *state_json;
};

/* `seccomp` may be NULL: the filter is then built from the spec. */
int security_before_user(const struct spec *spec,
                         struct seccomp_prepared *seccomp, hull_error_t *err);
int security_after_user(const struct spec *spec,
                        struct seccomp_prepared *seccomp, hull_error_t *err);

/* ---- the steps, one file each (public so tests can reach them) ---------- */

/* capabilities.c — process.capabilities as bit masks (bit n = capability n).
 * Real capabilities the running kernel is too old for are left out; with
 * `warn_unavailable` one warning lists them (runc does the same). A name that
 * is no capability at all ("CAP_TEST", "CAP_chown") is an error, and so is
 * one that is not CAP_ + letters/digits/_. A NULL `caps` gives empty sets,
 * as in runc: no capabilities at all. */
struct cap_masks {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};
/* The number of capability `name` on a kernel with `kernel_caps`
 * capabilities (cap_max_bits()), or one of these. */
enum { CAP_UNKNOWN = -1, CAP_UNAVAILABLE = -2 };
int cap_lookup(const char *name, int kernel_caps);
/* Every capability name hull recognizes, by number (`features`). */
const char *const *cap_known_names(size_t *n);
int caps_from_spec(const struct spec_capabilities *caps, bool warn_unavailable,
                   struct cap_masks *out, hull_error_t *err);
/* Drops every capability not in m->bounding from the bounding set. */
int caps_apply_bounding(const struct cap_masks *m, hull_error_t *err);
/* Sets effective, permitted, inheritable, then the ambient set. Capabilities
 * this process cannot hold any more are skipped with a warning. */
int caps_apply_process(const struct cap_masks *m, hull_error_t *err);

/* rlimits.c — process.rlimits. */
/* RLIMIT_* name → resource number, -1 when unknown. */
int rlimit_from_name(const char *name);
int rlimits_apply(const struct spec_process *process, hull_error_t *err);

/* process_attrs.c — the smaller per-process settings. */
int oom_score_adj_apply(const struct spec_process *process, hull_error_t *err);
int personality_apply(const struct spec_linux *linux_cfg, hull_error_t *err);
int io_priority_apply(const struct spec_process *process, hull_error_t *err);
int scheduler_apply(const struct spec_process *process, hull_error_t *err);
/* Pins the process to a CPU list such as "0-3,7"; `field` names it in
 * errors (process.execCPUAffinity.final). */
int cpu_affinity_apply(const char *cpus, const char *field, hull_error_t *err);
/* linux.memoryPolicy: the check (mode, flags, node list) at create, and
 * set_mempolicy(2) in the init. */
int memory_policy_check(const struct spec_linux *linux_cfg, hull_error_t *err);
int memory_policy_apply(const struct spec_linux *linux_cfg, hull_error_t *err);

/* mac.c — the label the kernel applies at execve. */
int apparmor_apply(const char *profile, hull_error_t *err);
int selinux_apply(const char *label, hull_error_t *err);
/* linux.mountLabel: hull does not label mounts, so a label is refused:
 * SELinux off (runc's mounts then fail with EINVAL) or on. */
int mount_label_check(const char *label, hull_error_t *err);

/* security.c — the checks of the spec's security settings that need the
 * host (LSMs, NUMA policy) but change nothing, for create to make before
 * it makes anything. */
int security_check_spec(const struct spec *spec, hull_error_t *err);

/* seccomp.c — linux.seccomp with libseccomp, as runc reads it.
 * Builds the filter without loading it (tests export it as pseudo code or
 * load it in a child); errors name the field
 * (`linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`).
 * Syscall names libseccomp does not know are skipped, as are rules whose
 * action is the default action. Syscalls newer than the profile fail with
 * ENOSYS instead of the default action (see seccomp.c). */
int seccomp_filter_build(const struct spec_seccomp *s, scmp_filter_ctx *out,
                         hull_error_t *err);
/* The checks of s that do not depend on libseccomp (listenerPath with
 * SCMP_ACT_NOTIFY): seccomp_filter_build makes them too, and a cached
 * filter must not skip them. */
int seccomp_profile_check(const struct spec_seccomp *s, hull_error_t *err);
/* Builds the filter and exports it as BPF (libseccomp's BPF generation). */
int seccomp_filter_compile(const struct spec_seccomp *s, struct seccomp_bpf *out,
                           hull_error_t *err);
/* True when some action of s is SCMP_ACT_NOTIFY. */
bool seccomp_uses_notify(const struct spec_seccomp *s);
/* The seccomp(2) SECCOMP_SET_MODE_FILTER flags for s: TSYNC, LOG and
 * SPEC_ALLOW from linux.seccomp.flags, NEW_LISTENER with SCMP_ACT_NOTIFY. */
unsigned seccomp_filter_flags(const struct spec_seccomp *s);
/* At create: compiles the filter to BPF (so a bad profile fails `create`,
 * not `start`), through the cache in <cache_dir>/seccomp when cache_dir is
 * not NULL, and connects to listenerPath when s needs a listener. Both
 * are host paths: call it before pivot_root. With s NULL, *out is empty. */
int seccomp_prepare(const struct spec_seccomp *s, const char *cache_dir,
                    struct seccomp_prepared *out, hull_error_t *err);
/* Loads the filter into this process with seccomp(2) (compiling it when p
 * is NULL or p->bpf is empty); with SCMP_ACT_NOTIFY it sends the notify fd
 * and the container process state (config-linux.md) over p->listener_fd,
 * then closes that connection. Releases p's program. */
int seccomp_apply(const struct spec_seccomp *s, struct seccomp_prepared *p,
                  hull_error_t *err);

/* seccomp_cache.c — compiled filters kept across containers, in files
 * <dir>/<key> holding the profile's canonical serialization (compared in
 * full, so a hash collision is a miss) and the BPF program. */
struct seccomp_profile_bytes {
  char *data;
  size_t len;
};
/* Every field of s that shapes the filter (not listenerPath/-Metadata),
 * with hull's and libseccomp's versions, the kernel's seccomp API level and
 * the native architecture, in a fixed binary layout. */
void seccomp_profile_serialize(const struct spec_seccomp *s,
                               struct seccomp_profile_bytes *out);
/* 64-bit FNV-1a of the serialization. */
uint64_t seccomp_profile_key(const struct seccomp_profile_bytes *p);
/* 1 and *out on a hit; 0 when there is no usable file for p in dir (absent,
 * short, corrupt, a different profile, not ours): never an error. */
int seccomp_cache_lookup(const char *dir, const struct seccomp_profile_bytes *p,
                         struct seccomp_bpf *out);
/* Writes the file for p atomically (a unique temporary, then rename),
 * creating dir (0700) when missing. */
int seccomp_cache_store(const char *dir, const struct seccomp_profile_bytes *p,
                        const struct seccomp_bpf *bpf, hull_error_t *err);
/* The filter for s: from the cache in dir when it has it, else compiled
 * and stored there (a cache that cannot be read or written is skipped with
 * a debug message). dir may be NULL: no cache. */
int seccomp_bpf_for(const struct spec_seccomp *s, const char *dir,
                    struct seccomp_bpf *out, hull_error_t *err);

/* For `hull features`: NULL-terminated name lists. */
const char *const *seccomp_action_names(void);
const char *const *seccomp_operator_names(void);
const char *const *seccomp_arch_names(void);
const char *const *seccomp_known_flag_names(void);
/* The flags this libseccomp and kernel can set; fills out (room for the
 * known flags plus the NULL). */
void seccomp_supported_flag_names(const char **out);

#endif
