/* v2.c — the cgroupfs manager for a unified cgroup2 hierarchy at
 * /sys/fs/cgroup. The development host is hybrid: the resource writes are
 * unit tested against a directory of plain files, the rest against the
 * hybrid host's controller-less cgroup2 tree; the shared parts live in
 * fs.c. */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

/* The cgroup2 mount of hs, NULL if none. */
static const char *unified_mountpoint(const struct cgroup_hierarchies *hs) {
  for (size_t i = 0; i < hs->len; i++)
    if (unified_only(&hs->items[i]))
      return hs->items[i].mountpoint;
  return NULL;
}

/* Creates the directory with the controllers enabled along its path. The
 * mount root's own subtree_control is written only where cgroup2 is the
 * host's one hierarchy: a hybrid host's cgroup2 root and the controllers
 * it offers are the host's business. */
static int v2_mkdir(struct cgroup *cg, const char *root, hull_error_t *err) {
  if (mkdir_p(cg->dirs[0], 0755, err) < 0)
    return -1;
  return cgroup_v2_enable_controllers(root, cg->dirs[0],
                                      strcmp(root, "/sys/fs/cgroup") == 0,
                                      err);
}

/* As runc's fs2 manager: a relative path hangs off the PARENT of the
 * caller's own cgroup. The caller's cgroup most likely has processes in it
 * (the caller, at least), and cgroup2 gives no controllers to the children
 * of a cgroup with processes; its parent has none of its own. */
static void relative_to_parent(struct cgroup_hierarchies *hs,
                               const char *path) {
  if (path[0] == '/' || path[0] == '\0')
    return;
  for (size_t i = 0; i < hs->len; i++) {
    char *own = hs->items[i].own_path;
    char *slash = unified_only(&hs->items[i]) ? strrchr(own, '/') : NULL;
    if (slash != NULL)
      slash[slash == own ? 1 : 0] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
  }
}

static int v2_open(const struct cgroup_manager *m, const char *path,
                   const char *own_cgroups, bool create, struct cgroup **out,
                   hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, own_cgroups, err) < 0)
    return -1;
  relative_to_parent(&hs, path);
  struct cgroup *cg = NULL;
  int ret = cgroup_new(m, path, &hs, unified_only, &cg, err);
  if (ret == 0 && create && cg->n_dirs == 1)
    ret = v2_mkdir(cg, unified_mountpoint(&hs), err);
  cgroup_hierarchies_free(&hs);
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
  return v2_open(m, path, NULL, true, out, err);
}

static int v2_load(const struct cgroup_manager *m, const char *path,
                   const char *own_cgroups, struct cgroup **out,
                   hull_error_t *err) {
  return v2_open(m, path, own_cgroups, false, out, err);
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

static int v2_set_hugetlb(const char *dir, const struct spec_resources *r,
                          hull_error_t *err) {
  return cgroup_set_hugetlb(dir, r, true, err);
}

/* v1-only fields that have no v2 file at all. */
static int v2_refuse_v1_only(const struct spec_resources *r,
                             hull_error_t *err) {
  const char *field = cgroup_net_cls_first_set(r);
  if (field == NULL)
    field = cgroup_net_prio_first_set(r);
  if (field)
    return hull_error(err, 0, "%s: cgroup v2 has no net_cls or net_prio "
                      "controller", field);
  return 0;
}

/* runc's fs2 order; unified last so its keys have the last word. */
int cgroup_v2_apply_resources(const char *dir, const struct spec_resources *r,
                              hull_error_t *err) {
  static const struct {
    const char *(*first_set)(const struct spec_resources *r);
    int (*set)(const char *dir, const struct spec_resources *r,
               hull_error_t *err);
  } setters[] = {
      {cgroup_pids_first_set, cgroup_set_pids},
      {cgroup_memory_first_set, cgroup_v2_set_memory},
      {cgroup_blkio_first_set, cgroup_v2_set_io},
      {cgroup_cpu_first_set, cgroup_v2_set_cpu},
      {cgroup_cpuset_first_set, cgroup_set_cpuset},
      {cgroup_hugetlb_first_set, v2_set_hugetlb},
      {cgroup_rdma_first_set, cgroup_set_rdma},
      {cgroup_unified_first_set, cgroup_v2_set_unified},
  };
  if (v2_refuse_v1_only(r, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof(setters) / sizeof(*setters); i++)
    if (setters[i].first_set(r) && setters[i].set(dir, r, err) < 0)
      return -1;
  return 0;
}

/* Device rules on v2 are an eBPF program attached to the cgroup
 * (devices-v2.c), after the limits. */
static int v2_apply(struct cgroup *cg, const struct spec_linux *l,
                    hull_error_t *err) {
  if (l == NULL)
    return 0;
  if (cg->n_dirs != 1 || cg->dirfd < 0)
    return hull_error(err, 0, "cgroup `%s`: no cgroup2 hierarchy mounted",
                      cg->path);
  const struct spec_resources *r = l->resources;
  if (r && cgroup_resources_first_set(r) != NULL &&
      cgroup_v2_apply_resources(cg->dirs[0], r, err) < 0)
    return -1;
  /* With or without linux.resources, as runc (see devices.c). */
  return cgroup_v2_apply_devices(cg->dirfd, r, l->devices, l->n_devices, err);
}

static int v2_update(struct cgroup *cg, const struct spec_resources *r,
                     hull_error_t *err) {
  if (cg->n_dirs != 1)
    return hull_error(err, 0, "cgroup `%s`: no cgroup2 hierarchy mounted",
                      cg->path);
  return cgroup_v2_apply_resources(cg->dirs[0], r, err);
}

static int v2_stats(struct cgroup *cg, struct cgroup_stats *out,
                    hull_error_t *err) {
  if (cg->n_dirs != 1)
    return 0;
  return cgroup_v2_stats(cg->dirs[0], out, err);
}

const struct cgroup_manager cgroup_manager_v2 = {
    .name = "cgroupfs-v2",
    .create = v2_create,
    .enter = cgroup_fs_enter,
    .apply = v2_apply,
    .signal_all = cgroup_fs_signal_all,
    .destroy = v2_destroy,
    .load = v2_load,
    .freeze = cgroup_fs_freeze,
    .frozen = cgroup_fs_frozen,
    .update = v2_update,
    .stats = v2_stats,
};
