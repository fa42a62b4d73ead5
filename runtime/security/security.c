/* security.c — the order of the process-security step (see security.h).
 * The steps themselves live in capabilities.c, rlimits.c, process_attrs.c
 * and mac.c. */
#include "security.h"

#include <errno.h>
#include <sys/prctl.h>

/* Capability names are checked before anything changes, so a typo fails
 * the start without a half-configured process. */
static int capabilities_of(const struct spec *spec, bool warn_unavailable,
                           struct cap_masks *m, hull_error_t *err) {
  return caps_from_spec(spec->process->capabilities, warn_unavailable, m, err);
}

/* linux.seccomp is loaded last, after no_new_privs, so that nothing hull
 * does itself runs under the filter. Without no_new_privs the kernel wants
 * CAP_SYS_ADMIN for it, so then (as runc) it is loaded before the user
 * changes and the capabilities are cut down (security_before_user). */
static int seccomp_load_last(const struct spec_linux *l,
                             struct seccomp_prepared *prepared,
                             hull_error_t *err) {
  if (l == NULL || l->seccomp == NULL)
    return 0;
  return seccomp_apply(l->seccomp, prepared, err);
}

int security_check_spec(const struct spec *spec, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  if (l == NULL)
    return 0;
  return mount_label_check(l->mount_label, err) < 0 ||
                 memory_policy_check(l, err) < 0
             ? -1
             : 0;
}

int security_before_user(const struct spec *spec,
                         struct seccomp_prepared *seccomp, hull_error_t *err) {
  const struct spec_process *p = spec->process;
  struct cap_masks caps;
  if (capabilities_of(spec, true, &caps, err) < 0)
    return -1;
  if (rlimits_apply(p, err) < 0 || oom_score_adj_apply(p, err) < 0 ||
      personality_apply(spec->linux, err) < 0 ||
      io_priority_apply(p, err) < 0 || scheduler_apply(p, err) < 0 ||
      memory_policy_apply(spec->linux, err) < 0 ||
      cpu_affinity_apply(p->exec_cpu_affinity.initial,
                         "process.execCPUAffinity.initial", err) < 0)
    return -1;
  /* Written while still root: /proc/self/attr needs no privilege for
   * one's own process, but the label takes effect only at execve. */
  if (apparmor_apply(p->apparmor_profile, err) < 0 ||
      selinux_apply(p->selinux_label, err) < 0)
    return -1;
  if (caps_apply_bounding(&caps, err) < 0)
    return -1;
  /* Without keep-caps, setresuid() to a non-root uid empties permitted. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return hull_error(err, errno, "prctl(PR_SET_KEEPCAPS, 1)");
  /* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load the filter,
   * and changing to a non-root user clears the effective set: load it now,
   * while still root (as runc). The steps left run under the filter. */
  if (!p->no_new_privileges)
    return seccomp_load_last(spec->linux, seccomp, err);
  return 0;
}

int security_after_user(const struct spec *spec,
                        struct seccomp_prepared *seccomp, hull_error_t *err) {
  const struct spec_process *p = spec->process;
  struct cap_masks caps;
  if (capabilities_of(spec, false, &caps, err) < 0)
    return -1;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return hull_error(err, errno, "prctl(PR_SET_KEEPCAPS, 0)");
  if (caps_apply_process(&caps, err) < 0)
    return -1;
  if (cpu_affinity_apply(p->exec_cpu_affinity.final,
                         "process.execCPUAffinity.final", err) < 0)
    return -1;
  if (!p->no_new_privileges)
    return 0;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hull_error(err, errno, "process.noNewPrivileges: "
                      "prctl(PR_SET_NO_NEW_PRIVS)");
  return seccomp_load_last(spec->linux, seccomp, err);
}
