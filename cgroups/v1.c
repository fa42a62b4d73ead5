/* v1.c — the cgroupfs manager for v1 and hybrid hosts: one directory per
 * mounted hierarchy (every v1 controller, name=systemd, and the cgroup2
 * tree at /sys/fs/cgroup/unified when there is one). */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

static bool any_hierarchy(const struct cgroup_hierarchy *h) { return true; }

static bool blank(const char *s) { return s[strspn(s, " \n")] == '\0'; }

/* A new cpuset cgroup starts with empty cpus and mems, and no task may
 * enter it until both are set: copy them down from the nearest ancestor
 * that has them (the hierarchy's root always does), level by level. */
static int cpuset_inherit(const char *dir, const char *knob,
                          hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, knob);
  cleanup_free char *value = NULL;
  if (read_file(path, &value, NULL, err) < 0)
    return -1;
  if (!blank(value))
    return 0;
  cleanup_free char *parent = xstrdup(dir);
  *strrchr(parent, '/') = '\0';
  if (cpuset_inherit(parent, knob, err) < 0)
    return -1;
  cleanup_free char *parent_path = xasprintf("%s/%s", parent, knob);
  cleanup_free char *parent_value = NULL;
  if (read_file(parent_path, &parent_value, NULL, err) < 0)
    return -1;
  return write_file(path, parent_value, strlen(parent_value), err);
}

static int cpuset_prepare(const char *dir, hull_error_t *err) {
  if (cpuset_inherit(dir, "cpuset.cpus", err) < 0 ||
      cpuset_inherit(dir, "cpuset.mems", err) < 0)
    return -1;
  return 0;
}

/* On a hybrid host the cgroup2 tree takes the init at clone time
 * (clone3 CLONE_INTO_CGROUP), so only the v1 hierarchies need a move. */
static int open_unified_dirfd(struct cgroup *cg, hull_error_t *err) {
  for (size_t i = 0; i < cg->n_dirs; i++) {
    if (cg->controllers[i][0] != '\0')
      continue;
    cg->dirfd = open(cg->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->dirfd < 0)
      return hull_error(err, errno, "open `%s`", cg->dirs[i]);
  }
  return 0;
}

static int v1_load(const struct cgroup_manager *m, const char *path,
                   const char *own_cgroups, struct cgroup **out,
                   hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, own_cgroups, err) < 0)
    return -1;
  int ret = cgroup_new(m, path, &hs, any_hierarchy, out, err);
  cgroup_hierarchies_free(&hs);
  return ret;
}

static int v1_create(const struct cgroup_manager *m, const char *path,
                     struct cgroup **out, hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, NULL, err) < 0)
    return -1;
  struct cgroup *cg = NULL;
  int ret = cgroup_new(m, path, &hs, any_hierarchy, &cg, err);
  for (size_t i = 0; ret == 0 && i < cg->n_dirs; i++) {
    ret = mkdir_p(cg->dirs[i], 0755, err);
    if (ret == 0 && cgroup_controllers_include(cg->controllers[i], "cpuset"))
      ret = cpuset_prepare(cg->dirs[i], err);
  }
  cgroup_hierarchies_free(&hs);
  if (ret == 0)
    ret = open_unified_dirfd(cg, err);
  if (ret < 0) {
    cgroup_free(cg);
    return hull_error_wrap(err, "create cgroup `%s`", path);
  }
  *out = cg;
  return 0;
}

/* The directory of the hierarchy that has `controller`, NULL if none is
 * mounted. */
static const char *controller_dir(const struct cgroup *cg,
                                  const char *controller) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cgroup_controllers_include(cg->controllers[i], controller))
      return cg->dirs[i];
  return NULL;
}

static int v1_set_hugetlb(const char *dir, const struct spec_resources *r,
                          hull_error_t *err) {
  return cgroup_set_hugetlb(dir, r, false, err);
}

/* Which hierarchy takes which fields, in runc's order. */
static const struct v1_controller {
  const char *name;
  const char *(*first_set)(const struct spec_resources *r);
  int (*set)(const char *dir, const struct spec_resources *r,
             hull_error_t *err);
} v1_controllers[] = {
    {"cpuset", cgroup_cpuset_first_set, cgroup_set_cpuset},
    {"memory", cgroup_memory_first_set, cgroup_v1_set_memory},
    {"cpu", cgroup_cpu_first_set, cgroup_v1_set_cpu},
    {"pids", cgroup_pids_first_set, cgroup_set_pids},
    {"blkio", cgroup_blkio_first_set, cgroup_v1_set_blkio},
    {"hugetlb", cgroup_hugetlb_first_set, v1_set_hugetlb},
    {"net_cls", cgroup_net_cls_first_set, cgroup_v1_set_net_cls},
    {"net_prio", cgroup_net_prio_first_set, cgroup_v1_set_net_prio},
    {"rdma", cgroup_rdma_first_set, cgroup_set_rdma},
};

/* Every resource but the device rules. */
static int v1_update(struct cgroup *cg, const struct spec_resources *r,
                     hull_error_t *err) {
  if (r->unified.len > 0)
    return hull_error(err, 0, "linux.resources.unified: needs cgroup v2; "
                      "this host has cgroup v1 controllers");
  for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(*v1_controllers);
       i++) {
    const struct v1_controller *c = &v1_controllers[i];
    const char *field = c->first_set(r);
    if (field == NULL)
      continue;
    const char *dir = controller_dir(cg, c->name);
    if (dir == NULL)
      return hull_error(err, 0, "%s: the %s cgroup controller is not mounted",
                        field, c->name);
    if (c->set(dir, r, err) < 0)
      return -1;
  }
  return 0;
}

/* The device rules go in with or without linux.resources: as in runc,
 * a container gets only the devices its rules and runc's defaults allow. */
static int v1_apply(struct cgroup *cg, const struct spec_linux *l,
                    hull_error_t *err) {
  if (l == NULL)
    return 0;
  if (l->resources && v1_update(cg, l->resources, err) < 0)
    return -1;
  return cgroup_v1_apply_devices(cg, l->resources, l->devices, l->n_devices,
                                 err);
}

static int v1_stats(struct cgroup *cg, struct cgroup_stats *out,
                    hull_error_t *err) {
  return cgroup_v1_stats(cg, out, err);
}

extern const struct cgroup_manager cgroup_manager_v1;

int cgroup_open_self_enter(struct cgroup *cg, int **fds, size_t *n,
                           hull_error_t *err) {
  *fds = NULL;
  *n = 0;
  if (cg == NULL || cg->manager != &cgroup_manager_v1)
    return 0;
  int *opened = xmalloc((cg->n_dirs + 1) * sizeof(*opened));
  size_t count = 0;
  for (size_t i = 0; i < cg->n_dirs; i++) {
    if (cg->controllers[i][0] == '\0')
      continue;                /* the hybrid cgroup2 tree: enter() */
    cleanup_free char *path = xasprintf("%s/tasks", cg->dirs[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      while (count > 0)
        close(opened[--count]);
      free(opened);
      return hull_error(err, e, "open `%s`", path);
    }
    opened[count++] = fd;
  }
  cg->v1_self_entered = count > 0;
  *fds = opened;
  *n = count;
  return 0;
}

const struct cgroup_manager cgroup_manager_v1 = {
    .name = "cgroupfs-v1",
    .create = v1_create,
    .enter = cgroup_fs_enter,
    .apply = v1_apply,
    .signal_all = cgroup_fs_signal_all,
    .destroy = cgroup_fs_destroy,
    .load = v1_load,
    .freeze = cgroup_fs_freeze,
    .frozen = cgroup_fs_frozen,
    .update = v1_update,
    .stats = v1_stats,
};
