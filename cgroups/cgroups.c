/* cgroups.c — picking a manager, naming a container's cgroup, and what
 * every manager's cgroup object shares. */
#include "cgroups/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

extern const struct cgroup_manager cgroup_manager_v1, cgroup_manager_v2,
    cgroup_manager_disabled, cgroup_manager_systemd;

static bool is_fs(const char *path, long magic) {
  struct statfs sfs;
  return statfs(path, &sfs) == 0 && (long)sfs.f_type == magic;
}

/* A tmpfs at /sys/fs/cgroup is v1 (or hybrid) when some entry of it is a
 * mounted v1 hierarchy. */
static bool has_v1_hierarchy(const char *root) {
  DIR *d = opendir(root);
  if (d == NULL)
    return false;
  bool found = false;
  struct dirent *de;
  while (!found && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    cleanup_free char *p = xasprintf("%s/%s", root, de->d_name);
    found = is_fs(p, CGROUP_SUPER_MAGIC);
  }
  closedir(d);
  return found;
}

enum cgroup_mode cgroup_detect_mode(void) {
  const char *root = "/sys/fs/cgroup";
  if (is_fs(root, CGROUP2_SUPER_MAGIC))
    return CGROUP_MODE_V2;
  if (is_fs(root, TMPFS_MAGIC) && has_v1_hierarchy(root))
    return CGROUP_MODE_V1;
  return CGROUP_MODE_DISABLED;
}

const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode) {
  switch (mode) {
  case CGROUP_MODE_V2:
    return &cgroup_manager_v2;
  case CGROUP_MODE_V1:
    return &cgroup_manager_v1;
  case CGROUP_MODE_DISABLED:
    break;
  }
  return &cgroup_manager_disabled;
}

/* ---- paths ---------------------------------------------------------------- */

char *cgroup_path_clean(const char *path) {
  bool absolute = path[0] == '/';
  size_t len = strlen(path);
  char *out = xmalloc(len + 2), *o = out;
  const char *p = path;
  while (*p) {
    size_t n = strcspn(p, "/");
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* empty or "." component: skip */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      /* Drop the last component; never climb above the start. */
      while (o > out && o[-1] != '/')
        o--;
      if (o > out)
        o--;
    } else {
      if (o > out || absolute)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p += n + (p[n] == '/');
  }
  *o = '\0';
  if (absolute && out[0] == '\0')
    strcpy(out, "/");
  /* A relative path whose first component was dropped by ".." is left with
   * a leading '/' from the next one; it stays relative. */
  if (!absolute && out[0] == '/')
    memmove(out, out + 1, strlen(out));
  return out;
}

const struct cgroup_manager *cgroup_manager_for_path(const char *path,
                                                     bool systemd) {
  if (systemd || cgroup_path_is_systemd(path))
    return &cgroup_manager_systemd;
  return cgroup_manager_for(cgroup_detect_mode());
}

char *cgroup_path_for(const struct spec *spec, const char *id, bool systemd) {
  const char *given = spec->linux ? spec->linux->cgroups_path : NULL;
  if (systemd)
    return given && *given ? xstrdup(given)
                           : xasprintf("system.slice:hull:%s", id);
  if (given && *given)
    return cgroup_path_clean(given);
  return xasprintf("/hull/%s", id);
}

/* ---- the cgroup object -------------------------------------------------------- */

/* Preferred hierarchies for listing pids on v1: pids and memory are the ones
 * a container is least likely to lack; name=systemd is always there. */
static size_t pick_procs_dir(char **controllers, size_t n) {
  static const char *prefer[] = {"pids", "memory", "name=systemd"};
  for (size_t p = 0; p < sizeof(prefer) / sizeof(*prefer); p++)
    for (size_t i = 0; i < n; i++)
      if (strcmp(controllers[i], prefer[p]) == 0)
        return i;
  return 0;
}

int cgroup_new(const struct cgroup_manager *m, const char *path,
               const struct cgroup_hierarchies *hs,
               bool (*keep)(const struct cgroup_hierarchy *h),
               struct cgroup **out, hull_error_t *err) {
  cleanup_free char *clean = cgroup_path_clean(path);
  if (strcmp(clean, "/") == 0 || clean[0] == '\0')
    return hull_error(err, 0,
                      "cgroup path `%s`: names a root or hull's own cgroup",
                      path);
  struct cgroup *cg = xzalloc(sizeof(*cg));
  cg->manager = m;
  cg->path = xstrdup(path);
  cg->dirfd = -1;
  cg->dirs = xzalloc((hs->len + 1) * sizeof(char *));
  cg->controllers = xzalloc((hs->len + 1) * sizeof(char *));
  for (size_t i = 0; i < hs->len; i++) {
    if (!keep(&hs->items[i]))
      continue;
    cg->dirs[cg->n_dirs] = cgroup_hierarchy_dir(&hs->items[i], clean);
    cg->controllers[cg->n_dirs] = xstrdup(hs->items[i].controllers);
    cg->n_dirs++;
  }
  cg->procs_dir = pick_procs_dir(cg->controllers, cg->n_dirs);
  *out = cg;
  return 0;
}

void cgroup_free(struct cgroup *cg) {
  if (cg == NULL)
    return;
  strv_free(cg->dirs);
  strv_free(cg->controllers);
  cgroup_free(cg->inner);
  free(cg->slice);
  free(cg->unit);
  if (cg->dirfd >= 0)
    close(cg->dirfd);
  free(cg->path);
  free(cg);
}

int cgroup_dirfd(struct cgroup *cg) { return cg->dirfd; }

int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n,
                hull_error_t *err) {
  *pids = NULL;
  *n = 0;
  if (cg->n_dirs == 0)
    return 0;
  return cgroup_fs_read_pids(cg->dirs[cg->procs_dir], pids, n, err);
}

/* `sub` cleaned as a path below the container's cgroup: empty and "."
 * components dropped, ".." climbing back at most to where it started; a
 * leading '/' does not make it absolute (runc joins it to the container's
 * path). NULL when it would climb out. */
static char *sub_cgroup_clean(const char *sub) {
  char *out = xmalloc(strlen(sub) + 1), *o = out;
  for (const char *p = sub; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (o == out) {
        free(out);
        return NULL;
      }
      while (o > out && o[-1] != '/')
        o--;
      if (o > out)
        o--;
    } else if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (o > out)
        *o++ = '/';
      memcpy(o, p, n);
      o += n;
    }
    p += n + (p[n] == '/');
  }
  *o = '\0';
  return out;
}

/* Moves hierarchy i of cg down to `clean` below it, which must exist. */
static int descend_dir(struct cgroup *cg, size_t i, const char *clean,
                       hull_error_t *err) {
  char *dir = xasprintf("%s/%s", cg->dirs[i], clean);
  struct stat st;
  int found = stat(dir, &st);
  if (found < 0 || !S_ISDIR(st.st_mode)) {
    if (found == 0 || errno == ENOENT || errno == ENOTDIR)
      hull_error(err, 0, "no such cgroup `%s`", dir);
    else
      hull_error(err, errno, "cgroup `%s`", dir);
    free(dir);
    return -1;
  }
  free(cg->dirs[i]);
  cg->dirs[i] = dir;
  /* The cgroup2 directory is the clone3(CLONE_INTO_CGROUP) target. */
  if (cg->controllers[i][0] == '\0' && cg->dirfd >= 0) {
    close(cg->dirfd);
    cg->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->dirfd < 0)
      return hull_error(err, errno, "open `%s`", dir);
  }
  return 0;
}

int cgroup_descend(struct cgroup *cg, const char *controller,
                   const char *sub, hull_error_t *err) {
  cleanup_free char *clean = sub_cgroup_clean(sub);
  if (clean == NULL)
    return hull_error(err, 0, "%s is not a sub cgroup path", sub);
  bool known = controller == NULL;
  for (size_t i = 0; i < cg->n_dirs; i++) {
    if (controller &&
        !cgroup_controllers_include(cg->controllers[i], controller))
      continue;
    known = true;
    if (*clean && descend_dir(cg, i, clean, err) < 0)
      return -1;
  }
  if (!known)
    return hull_error(err, 0, "unknown controller %s", controller);
  /* The systemd driver's cgroupfs cgroup does the moving. */
  return cg->inner ? cgroup_descend(cg->inner, controller, sub, err) : 0;
}

bool cgroup_controllers_include(const char *controllers, const char *name) {
  size_t len = strlen(name);
  for (const char *p = controllers; *p;) {
    size_t n = strcspn(p, ",");
    if (n == len && strncmp(p, name, n) == 0)
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}
