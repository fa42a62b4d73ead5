/* v1.c — the cgroupfs manager for v1 and hybrid hosts: one directory per
 * mounted hierarchy (every v1 controller, name=systemd, and the cgroup2
 * tree at /sys/fs/cgroup/unified when there is one). */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

static bool any_hierarchy(const struct cgroup_hierarchy *h) { return true; }

static bool is_cpuset(const char *controllers) {
  for (const char *p = controllers; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 6 && strncmp(p, "cpuset", 6) == 0)
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}

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
                   struct cgroup **out, hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, err) < 0)
    return -1;
  int ret = cgroup_new(m, path, &hs, any_hierarchy, out, err);
  cgroup_hierarchies_free(&hs);
  return ret;
}

static int v1_create(const struct cgroup_manager *m, const char *path,
                     struct cgroup **out, hull_error_t *err) {
  struct cgroup_hierarchies hs;
  if (cgroup_hierarchies_read(&hs, err) < 0)
    return -1;
  struct cgroup *cg = NULL;
  int ret = cgroup_new(m, path, &hs, any_hierarchy, &cg, err);
  for (size_t i = 0; ret == 0 && i < cg->n_dirs; i++) {
    ret = mkdir_p(cg->dirs[i], 0755, err);
    if (ret == 0 && is_cpuset(cg->controllers[i]))
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

static int v1_apply(struct cgroup *cg, const struct spec_linux *l,
                    hull_error_t *err) {
  if (l == NULL || l->resources == NULL)
    return 0;
  const char *field = cgroup_resources_first_set(l->resources);
  if (field)
    return hull_error(err, 0, "%s: cgroup resources are not implemented yet",
                      field);
  return cgroup_v1_apply_devices(cg, l->resources, l->devices, l->n_devices,
                                 err);
}

const struct cgroup_manager cgroup_manager_v1 = {
    .name = "cgroupfs-v1",
    .create = v1_create,
    .enter = cgroup_fs_enter,
    .apply = v1_apply,
    .signal_all = cgroup_fs_signal_all,
    .destroy = cgroup_fs_destroy,
    .load = v1_load,
};
