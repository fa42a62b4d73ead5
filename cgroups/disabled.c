/* disabled.c — the manager for hosts without a usable cgroupfs (e.g. some
 * rootless or nested setups): the container runs in hull's own cgroup and
 * every operation succeeds doing nothing. A cgroup object still exists so
 * callers need no special case; it has no directories. */
#include "cgroups/internal.h"

static bool no_hierarchy(const struct cgroup_hierarchy *h) { return false; }

static int disabled_open(const struct cgroup_manager *m, const char *path,
                         struct cgroup **out, hull_error_t *err) {
  struct cgroup_hierarchies none = {0};
  return cgroup_new(m, path, &none, no_hierarchy, out, err);
}

static int disabled_load(const struct cgroup_manager *m, const char *path,
                         const char *own_cgroups, struct cgroup **out,
                         hull_error_t *err) {
  return disabled_open(m, path, out, err);
}

static int disabled_enter(struct cgroup *cg, pid_t pid, hull_error_t *err) {
  return 0;
}

static int disabled_apply(struct cgroup *cg, const struct spec_linux *l,
                          hull_error_t *err) {
  /* Limits that cannot be enforced must not be dropped silently. */
  return cgroup_apply_unsupported(cg, l, err);
}

static int disabled_signal_all(struct cgroup *cg, int sig, hull_error_t *err) {
  return 0;
}

static int disabled_destroy(struct cgroup *cg, hull_error_t *err) {
  return 0;
}

static int disabled_freeze(struct cgroup *cg, bool frozen,
                           hull_error_t *err) {
  return hull_error(err, 0, "cgroups are disabled on this host: there is no "
                    "freezer to %s the container", frozen ? "pause" : "resume");
}

static int disabled_frozen(struct cgroup *cg, bool *frozen,
                           hull_error_t *err) {
  *frozen = false;
  return 0;
}

static int disabled_update(struct cgroup *cg, const struct spec_resources *r,
                           hull_error_t *err) {
  struct spec_linux l = {.resources = (struct spec_resources *)r};
  return cgroup_apply_unsupported(cg, &l, err);
}

static int disabled_stats(struct cgroup *cg, struct cgroup_stats *out,
                          hull_error_t *err) {
  return 0;
}

const struct cgroup_manager cgroup_manager_disabled = {
    .name = "disabled",
    .create = disabled_open,
    .enter = disabled_enter,
    .apply = disabled_apply,
    .signal_all = disabled_signal_all,
    .destroy = disabled_destroy,
    .load = disabled_load,
    .freeze = disabled_freeze,
    .frozen = disabled_frozen,
    .update = disabled_update,
    .stats = disabled_stats,
};
