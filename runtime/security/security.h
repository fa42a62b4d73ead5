/* security.h — the process-security step: what a container's process may do.
 *
 * Called by the container's init right before exec, in this order:
 *   security_before_user()  still root in the container: rlimits,
 *                           oom_score_adj, personality, I/O priority,
 *                           scheduler, initial CPU affinity, the AppArmor /
 *                           SELinux exec label, the capability bounding set,
 *                           keep-caps across the uid change
 *   (the init switches to process.user)
 *   security_after_user()   effective/permitted/inheritable/ambient
 *                           capabilities, final CPU affinity, no_new_privs,
 *                           and the seccomp filter last, so hull's own setup
 *                           is unfiltered.
 * Both read only the spec: nothing is carried between the two calls. */
#ifndef HULL_SECURITY_H
#define HULL_SECURITY_H

#include "runtime/spec/spec.h"

int security_before_user(const struct spec *spec, hull_error_t *err);
int security_after_user(const struct spec *spec, hull_error_t *err);

/* ---- the steps, one file each (public so tests can reach them) ---------- */

/* capabilities.c — process.capabilities as bit masks (bit n = capability n).
 * Names the running kernel or libcap do not know are left out; with
 * `warn_unknown` one warning lists them (runc does the same). A
 * name that is not CAP_ + letters/digits/_ is an error. A NULL `caps` gives
 * empty sets, as in runc: no capabilities at all. */
struct cap_masks {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};
int caps_from_spec(const struct spec_capabilities *caps, bool warn_unknown,
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

/* mac.c — the label the kernel applies at execve. */
int apparmor_apply(const char *profile, hull_error_t *err);
int selinux_apply(const char *label, hull_error_t *err);

#endif
