/* v2.c — the cgroupfs manager for a unified cgroup2 hierarchy at
 * /sys/fs/cgroup. Not exercised on the hybrid development host: keep it
 * small; the shared parts live in fs.c. */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static bool unified_only(const struct cgroup_hierarchy *h) {
  return h->controllers[0] == '\0';
}

/* The directory fd clone3(CLONE_INTO_CGROUP) wants. */
static int open_dirfd(struct cgroup *cg, hull_error_t *err) {
  if (cg->n_dirs != 1)
    return hull_error(err, 0, "cgroup `%s`: no cgroup2 hierarchy mounted",
                      cg->path);
  cg->dirfd = open(cg->dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg->dirfd < 0 && errno != ENOENT)
    return hull_error(err, errno, "open `%s`", cg->dirs[0]);
  return 0;
}

static int v2_open(const struct cgroup_manager *m, const char *path,
                   bool create, struct cgroup **out, hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, err) < 0)
    return -1;
  struct cgroup *cg = NULL;
  int ret = cgroup_new(m, path, &hs, unified_only, &cg, err);
  cgroup_hierarchies_free(&hs);
  if (ret == 0 && create && cg->n_dirs == 1)
    ret = mkdir_p(cg->dirs[0], 0755, err);
  if (ret == 0)
    ret = open_dirfd(cg, err);
  if (ret < 0) {
    cgroup_free(cg);
    return hull_error_wrap(err, "%s cgroup `%s`", create ? "create" : "load",
                           path);
  }
  *out = cg;
  return 0;
}

static int v2_create(const struct cgroup_manager *m, const char *path,
                     struct cgroup **out, hull_error_t *err) {
  return v2_open(m, path, true, out, err);
}

static int v2_load(const struct cgroup_manager *m, const char *path,
                   struct cgroup **out, hull_error_t *err) {
  return v2_open(m, path, false, out, err);
}

/* cgroup.kill (5.14+) kills the whole subtree atomically, so nothing forks
 * its way out between reading cgroup.procs and the kill; fs.c's loop then
 * only waits for the cgroup to empty and removes it. */
static int v2_destroy(struct cgroup *cg, hull_error_t *err) {
  if (cg->n_dirs == 1) {
    cleanup_free char *knob = xasprintf("%s/cgroup.kill", cg->dirs[0]);
    if (write_file(knob, "1", 1, err) < 0) {
      /* ENOENT: an older kernel, or the cgroup is already gone. */
      if ((*err)->errno_value != ENOENT)
        return hull_error_wrap(err, "destroy cgroup `%s`", cg->path);
      hull_error_release(err);
    }
  }
  return cgroup_fs_destroy(cg, err);
}

const struct cgroup_manager cgroup_manager_v2 = {
    .name = "cgroupfs-v2",
    .create = v2_create,
    .enter = cgroup_fs_enter,
    .apply = cgroup_apply_unsupported,
    .signal_all = cgroup_fs_signal_all,
    .destroy = v2_destroy,
    .load = v2_load,
};
