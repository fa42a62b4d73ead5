/* subtree.c — cgroup v2's top-down rule: a cgroup has a controller's files
 * only when its parent lists the controller in cgroup.subtree_control, and
 * so on up to the root. Like runc, hull enables what it needs on every
 * ancestor of the container's cgroup when it creates it. */
#include "cgroups/internal.h"

#include <string.h>

static const char *const wanted[] = {
    "cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc",
};

static bool word_in(const char *list, const char *w) {
  size_t n = strlen(w);
  for (const char *p = list; *p;) {
    p += strspn(p, " \n");
    size_t len = strcspn(p, " \n");
    if (len == n && strncmp(p, w, n) == 0)
      return true;
    p += len;
  }
  return false;
}

/* "+cpu +memory ..." for the wanted controllers that dir offers. */
static char *enable_line(const char *offered) {
  char *line = xstrdup("");
  for (size_t i = 0; i < sizeof(wanted) / sizeof(*wanted); i++) {
    if (!word_in(offered, wanted[i]))
      continue;
    cleanup_free char *old = line;
    line = xasprintf("%s%s+%s", old, *old ? " " : "", wanted[i]);
  }
  return line;
}

/* All at once first; if the kernel refuses one (a threaded subtree, an
 * ancestor with processes), each on its own so the others still go. */
static int enable_in(const char *dir, hull_error_t *err) {
  cleanup_free char *offered_path = xasprintf("%s/cgroup.controllers", dir);
  cleanup_free char *offered = NULL;
  if (read_file(offered_path, &offered, NULL, err) < 0)
    return -1;
  cleanup_free char *line = enable_line(offered);
  if (*line == '\0')
    return 0;
  cleanup_error hull_error_t ignored = NULL;
  if (cgroup_fs_write(dir, "cgroup.subtree_control", line, "", &ignored) == 0)
    return 0;
  for (char *p = strtok(line, " "); p; p = strtok(NULL, " "))
    if (cgroup_fs_write(dir, "cgroup.subtree_control", p, "", &ignored) < 0) {
      log_debug("enable %s in %s: %s", p, dir, ignored->msg);
      hull_error_release(&ignored);
    }
  return 0;
}

int cgroup_v2_enable_controllers(const char *root, const char *dir,
                                 bool with_root, hull_error_t *err) {
  size_t root_len = strlen(root);
  if (strncmp(dir, root, root_len) != 0 || dir[root_len] != '/')
    return hull_error(err, 0, "cgroup `%s` is not below `%s`", dir, root);
  if (with_root && enable_in(root, err) < 0)
    return -1;
  /* Each ancestor below the root: every '/' after the root's ends one. */
  cleanup_free char *path = xstrdup(dir);
  for (char *slash = strchr(path + root_len + 1, '/'); slash;
       slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    int ret = enable_in(path, err);
    *slash = '/';
    if (ret < 0)
      return -1;
  }
  return 0;
}
