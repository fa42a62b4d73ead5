/* cgroup-mount.c — a mount of type cgroup/cgroup2 in the container.
 *
 * On a cgroup v2 host that is cgroup2 itself. On a v1 or hybrid host it is
 * what runc builds: a tmpfs at the destination holding, for each v1
 * hierarchy the host has mounted, the container's own cgroup directory
 * (bound from the host, or with a cgroup namespace a fresh mount of that
 * hierarchy, whose root is then the container's cgroup), plus symlinks for
 * co-mounted controllers (cpu -> cpu,cpuacct). With "ro" all of it is
 * read-only. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_DEFAULT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static bool host_is_unified(void) {
  struct statfs sf;
  return statfs("/sys/fs/cgroup", &sf) == 0 &&
         sf.f_type == CGROUP2_SUPER_MAGIC;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The hierarchy's controllers from its super options: "rw,cpu,cpuacct" ->
 * "cpu,cpuacct", keeping name=…, dropping what only the host may set. */
static char *hierarchy_controllers(const char *super_opts) {
  cleanup_free char *copy = xstrdup(super_opts);
  char *out = NULL, *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "rw") == 0 || strcmp(t, "ro") == 0 ||
        strncmp(t, "release_agent=", 14) == 0 ||
        strcmp(t, "clone_children") == 0)
      continue;
    char *n = out ? xasprintf("%s,%s", out, t) : xstrdup(t);
    free(out);
    out = n;
  }
  return out ? out : xstrdup("");
}

/* This process's cgroup in the hierarchy with these controllers, from
 * /proc/self/cgroup ("4:cpu,cpuacct:/a/b"); NULL when it has none. */
static char *own_cgroup(const char *controllers) {
  cleanup_free char *text = NULL;
  hull_error_t ignored = NULL;
  if (read_file("/proc/self/cgroup", &text, NULL, &ignored) < 0) {
    hull_error_release(&ignored);
    return NULL;
  }
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *c = strchr(line, ':');
    char *p = c ? strchr(c + 1, ':') : NULL;
    if (!p)
      continue;
    *p = '\0';
    if (strcmp(c + 1, controllers) == 0)
      return xstrdup(p + 1);
  }
  return NULL;
}

/* The host directory to bind for this hierarchy: the container's cgroup
 * (opts->cgroup_path) when it exists there, else our own. */
static char *hierarchy_source(const struct mountinfo *h, const char *ctrls,
                              const struct rootfs_options *opts) {
  cleanup_free char *own = own_cgroup(ctrls);
  const char *candidates[] = {opts->cgroup_path, own};
  for (size_t i = 0; i < 2; i++) {
    const char *cg = candidates[i];
    if (!cg)
      continue;
    /* Paths in a hierarchy are seen relative to its mount's root. */
    size_t rl = strlen(h->root);
    if (strcmp(h->root, "/") != 0 && strncmp(cg, h->root, rl) == 0)
      cg += rl;
    char *src = xasprintf("%s/%s", h->mount_point, cg);
    struct stat st;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
      return src;
    free(src);
  }
  return xstrdup(h->mount_point);
}

static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int mount_hierarchy(int root_fd, const char *dest,
                           const struct mountinfo *h,
                           const struct mount_options *o,
                           const struct rootfs_options *opts,
                           hull_error_t *err) {
  cleanup_free char *ctrls = hierarchy_controllers(h->super_opts);
  cleanup_free char *sub = xasprintf("%s/%s", dest, base_name(h->mount_point));
  if (create_in_root(root_fd, sub, CREATE_DIR, 0755, err) < 0)
    return -1;
  cleanup_close int fd = open_in_root(root_fd, sub, O_PATH, err);
  if (fd < 0)
    return -1;
  struct fd_path p = fd_path(fd);
  unsigned long ro = o->flags & MS_RDONLY;

  if (opts->new_cgroup_ns) {
    const char *source = strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : "cgroup";
    if (mount(source, p.s, "cgroup", CGROUP_DEFAULT_FLAGS | ro, ctrls) < 0)
      return hull_error(err, errno, "mount `cgroup` (%s) to `%s`", ctrls, sub);
    return 0;
  }
  cleanup_free char *src = hierarchy_source(h, ctrls, opts);
  if (mount(src, p.s, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error(err, errno, "mount `%s` to `%s`", src, sub);
  cleanup_close int mfd = open_in_root(root_fd, sub, O_PATH, err);
  if (mfd < 0)
    return -1;
  unsigned long flags = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  return remount_fd(mfd, MS_BIND | CGROUP_DEFAULT_FLAGS | flags, sub, err);
}

/* cpu -> cpu,cpuacct for a co-mounted hierarchy. */
static int link_comounted(int root_fd, const char *dest, const char *dir_name,
                          hull_error_t *err) {
  if (!strchr(dir_name, ','))
    return 0;
  cleanup_close int dfd = open_in_root(root_fd, dest, O_PATH | O_DIRECTORY, err);
  if (dfd < 0)
    return -1;
  cleanup_free char *names = xstrdup(dir_name);
  char *save = NULL;
  for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    if (strchr(n, '=') || strcmp(n, dir_name) == 0)
      continue;
    if (symlinkat(dir_name, dfd, n) < 0 && errno != EEXIST)
      return hull_error(err, errno, "symlink `%s/%s`", dest, n);
  }
  return 0;
}

static int mount_cgroup_v1(int root_fd, const struct spec_mount *m,
                           const struct mount_options *o,
                           const struct rootfs_options *opts,
                           hull_error_t *err) {
  const char *dest = m->destination;
  cleanup_close int fd = open_in_root(root_fd, dest, O_PATH, err);
  if (fd < 0)
    return -1;
  struct fd_path p = fd_path(fd);
  if (mount("tmpfs", p.s, "tmpfs", CGROUP_DEFAULT_FLAGS, "mode=755") < 0)
    return hull_error(err, errno, "mount `tmpfs` to `%s`", dest);
  cleanup_close int tfd = open_in_root(root_fd, dest, O_PATH, err);
  if (tfd < 0)
    return -1;
  struct fd_path tp = fd_path(tfd);
  for (size_t i = 0; i < o->n_propagation; i++)
    if (mount(NULL, tp.s, NULL, o->propagation[i], NULL) < 0)
      return hull_error(err, errno, "set propagation of `%s`", dest);

  struct mountinfo *mi = NULL;
  size_t n = 0;
  if (mountinfo_read(&mi, &n, err) < 0)
    return -1;
  int ret = 0;
  for (size_t i = 0; i < n && ret == 0; i++) {
    const struct mountinfo *h = &mi[i];
    if (strcmp(h->fstype, "cgroup") != 0 ||
        (opts->rootfs && under(h->mount_point, opts->rootfs)))
      continue;
    /* One hierarchy may be mounted in several places: use the first. */
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = strcmp(mi[k].fstype, "cgroup") == 0 &&
             strcmp(mi[k].super_opts, h->super_opts) == 0 &&
             !(opts->rootfs && under(mi[k].mount_point, opts->rootfs));
    if (seen)
      continue;
    ret = mount_hierarchy(root_fd, dest, h, o, opts, err);
    if (ret == 0)
      ret = link_comounted(root_fd, dest, base_name(h->mount_point), err);
  }
  mountinfo_free(mi, n);
  if (ret < 0)
    return -1;
  if (o->flags & MS_RDONLY)
    return remount_fd(tfd, MS_BIND | CGROUP_DEFAULT_FLAGS | MS_RDONLY, dest,
                      err);
  return 0;
}

/* Whether we share the cgroup namespace of the host's init (as /proc, still
 * the runtime's, shows it). There a new cgroup2 mount would reapply its
 * options to the host's one cgroup2 superblock, dropping nsdelegate,
 * memory_recursiveprot and the like host-wide. */
static bool in_host_cgroup_ns(const struct rootfs_options *opts) {
  struct stat self, init;
  if (stat("/proc/self/ns/cgroup", &self) < 0 ||
      stat("/proc/1/ns/cgroup", &init) < 0)
    return !opts->new_cgroup_ns;
  return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}

/* Binds the host's cgroup2 directory `src` to dest with the mount's flags. */
static int bind_cgroup2(int root_fd, int fd, const char *src,
                        const char *dest, unsigned long flags,
                        hull_error_t *err) {
  struct fd_path p = fd_path(fd);
  if (mount(src, p.s, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error(err, errno, "mount `%s` to `%s`", src, dest);
  cleanup_close int mfd = open_in_root(root_fd, dest, O_PATH, err);
  if (mfd < 0)
    return -1;
  if (flags & ~MS_REMOUNT)
    return remount_fd(mfd, MS_BIND | (flags & ~MS_REMOUNT), dest, err);
  return 0;
}

static int mount_cgroup_v2(int root_fd, const struct spec_mount *m,
                           const struct mount_options *o,
                           const struct rootfs_options *opts,
                           hull_error_t *err) {
  const char *dest = m->destination;
  cleanup_close int fd = open_in_root(root_fd, dest, O_PATH, err);
  if (fd < 0)
    return -1;
  unsigned long flags = o->flags & ~(MS_BIND | MS_REC);
  /* The same view a new mount would give, without touching the host's. */
  if (in_host_cgroup_ns(opts))
    return bind_cgroup2(root_fd, fd, "/sys/fs/cgroup", dest, flags, err);
  struct fd_path p = fd_path(fd);
  if (mount("cgroup2", p.s, "cgroup2", flags, o->data) == 0)
    return 0;
  if (errno != EPERM && errno != EBUSY)
    return hull_error(err, errno, "mount `cgroup2` to `%s`", dest);
  /* A user namespace may not mount cgroup2: bind the container's cgroup
   * from the host, as runc does. */
  cleanup_free char *src = xasprintf("/sys/fs/cgroup/%s",
                                     opts->cgroup_path ? opts->cgroup_path : "");
  return bind_cgroup2(root_fd, fd, src, dest, flags, err);
}

int mount_cgroup(int root_fd, const struct spec_mount *m,
                 const struct mount_options *o,
                 const struct rootfs_options *opts, hull_error_t *err) {
  int r = host_is_unified() ? mount_cgroup_v2(root_fd, m, o, opts, err)
                            : mount_cgroup_v1(root_fd, m, o, opts, err);
  if (r < 0)
    return hull_error_wrap(err, "mount `%s` to `%s`",
                           m->source ? m->source : "cgroup", m->destination);
  return 0;
}
