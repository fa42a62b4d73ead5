/* mounts.c — config.json's mounts, performed in order inside the rootfs.
 *
 * Every destination is created and opened inside the rootfs (resolve.c) and
 * the mount goes onto /proc/self/fd/N of that O_PATH fd, so a symlink in the
 * rootfs, even one swapped in while we work, cannot point a mount at the
 * host. Afterwards the destination is opened again and checked to be the
 * mount we made (bubblewrap does the same). A tmpfs with `tmpcopyup`
 * starts with a copy of what the rootfs had at its destination. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* What one entry of spec->mounts resolves to before anything is mounted. */
struct mount_job {
  size_t index;
  const struct spec_mount *m;
  struct mount_options o;
  const char *type;          /* "bind" for bind mounts */
  char *source;              /* bind sources made absolute */
  bool bind;
  int source_fd;             /* opened by the runtime, or -1 */
  bool detached;             /* source_fd is a detached (idmapped) copy */
};

static void mount_job_free(struct mount_job *j) {
  mount_options_free(&j->o);
  free(j->source);
}

static bool is_type(const char *type, const char *want) {
  return type && strcmp(type, want) == 0;
}

/* Appends `opt` to the data string unless `key` is already in it. */
static void add_data_option(struct mount_options *o, const char *key,
                            const char *opt) {
  if (o->data && strstr(o->data, key))
    return;
  char *data = o->data ? xasprintf("%s,%s", o->data, opt) : xstrdup(opt);
  free(o->data);
  o->data = data;
}

bool mount_is_bind(const struct spec_mount *m, const struct mount_options *o) {
  return is_type(m->type, "bind") || (o->flags & MS_BIND);
}

static void mount_job_init(struct mount_job *j, size_t index,
                           const struct spec_mount *m,
                           const struct rootfs_options *opts) {
  memset(j, 0, sizeof(*j));
  j->index = index;
  j->m = m;
  mount_options_parse(m->options, &j->o);
  j->bind = mount_is_bind(m, &j->o);
  if (j->bind) {
    j->o.flags |= MS_BIND;
    j->type = "bind";
  } else {
    j->type = m->type ? m->type : "none";
  }
  j->source_fd = j->bind && opts->bind_fds ? opts->bind_fds[index] : -1;
  j->detached = j->source_fd >= 0 && mount_is_idmapped(m, &j->o);
  const char *src = m->source ? m->source : j->type;
  if (j->bind && src[0] != '/' && opts->bundle)
    j->source = xasprintf("%s/%s", opts->bundle, src);
  else
    j->source = xstrdup(src);
  /* runc's default spec asks for these; the kernel wants them to give the
   * container its own pts instance with a usable ptmx. */
  if (is_type(j->type, "devpts")) {
    add_data_option(&j->o, "newinstance", "newinstance");
    add_data_option(&j->o, "ptmxmode=", "ptmxmode=0666");
  }
}

/* Makes sure the destination exists in the rootfs: an empty file when a
 * file is bound onto it, a directory otherwise. */
static int create_destination(int root_fd, struct mount_job *j,
                              hull_error_t *err) {
  enum create_kind kind = CREATE_DIR;
  if (j->bind) {
    struct stat st;
    if ((j->source_fd >= 0 ? fstat(j->source_fd, &st) : stat(j->source, &st)) <
        0)
      return hull_error(err, errno, "mount `%s` to `%s`: stat source",
                        j->source, j->m->destination);
    if (!S_ISDIR(st.st_mode))
      kind = CREATE_FILE;
  }
  if (create_in_root(root_fd, j->m->destination, kind, 0755, err) < 0)
    return hull_error_wrap(err, "mounts[%zu]: destination `%s`", j->index,
                           j->m->destination);
  return 0;
}

static int apply_propagation(int fd, const struct mount_options *o,
                             const char *dest, hull_error_t *err) {
  struct fd_path p = fd_path(fd);
  for (size_t i = 0; i < o->n_propagation; i++)
    if (mount(NULL, p.s, NULL, o->propagation[i], NULL) < 0)
      return hull_error(err, errno, "set propagation of `%s`", dest);
  return 0;
}

static int apply_recursive_attrs(int fd, const struct mount_options *o,
                                 const char *dest, hull_error_t *err) {
  if (o->attr_set == 0 && o->attr_clr == 0)
    return 0;
  struct mount_attr attr = {.attr_set = o->attr_set, .attr_clr = o->attr_clr};
  if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                    sizeof(attr)) < 0)
    return hull_error(err, errno, "set recursive attributes of `%s`", dest);
  return 0;
}

/* Flags that only a remount of a fresh bind mount can apply. */
static unsigned long bind_remount_flags(unsigned long flags) {
  return flags & ~(MS_BIND | MS_REC | MS_REMOUNT | MS_SILENT);
}

static bool sysfs_needs_bind(const struct spec *spec,
                             const struct rootfs_options *opts) {
  /* sysfs shows the mounter's network namespace; a user namespace that does
   * not own one may not mount it (runc binds the host's /sys instead). */
  return opts->in_user_ns && !spec_wants_namespace(spec, SPEC_NS_NETWORK);
}

/* Checks that `fd`, the destination opened after mounting, is the mount we
 * made: the bind source itself, or a different file system than before. */
static int verify_mount(int fd, const struct mount_job *j,
                        const struct stat *before, hull_error_t *err) {
  struct stat now;
  if (fstat(fd, &now) < 0)
    return hull_error(err, errno, "stat `%s`", j->m->destination);
  if (j->bind) {
    struct stat src;
    if ((j->source_fd >= 0 ? fstat(j->source_fd, &src)
                           : stat(j->source, &src)) < 0)
      return hull_error(err, errno, "stat `%s`", j->source);
    if (src.st_dev == now.st_dev && src.st_ino == now.st_ino)
      return 0;
  } else if (now.st_dev != before->st_dev || now.st_ino != before->st_ino ||
             (j->o.flags & MS_REMOUNT)) {
    return 0;
  }
  return hull_error(err, 0,
                    "mount `%s` to `%s`: destination changed while mounting",
                    j->source, j->m->destination);
}

/* tmpcopyup: runc mounts the tmpfs on a staging directory, copies into it
 * and moves it onto the destination. hull mounts it on the destination
 * directly: the directory underneath stays reachable through `under`, an
 * fd opened before the mount, so no staging directory outside the rootfs is
 * needed. */
static bool wants_copyup(const struct mount_job *j) {
  return j->o.tmpcopyup && !j->bind && is_type(j->type, "tmpfs");
}

static int copy_up(int under, int mfd, const struct mount_job *j,
                   hull_error_t *err) {
  const char *dest = j->m->destination;
  cleanup_close int top = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0)
    return hull_error(err, errno, "tmpcopyup `%s`: open the tmpfs", dest);
  return tmpcopyup(under, top, dest, err);
}

/* A read-only tmpfs is mounted read-write and made read-only only once every
 * mount and device is made, as runc does: tmpcopyup has to fill it, later
 * mounts inside it (podman's /etc/hostname in a `--tmpfs /etc:ro`) need
 * their mount points created, and a read-only /dev its device nodes. */
struct ro_later {
  int *fds;            /* O_PATH fds of the mounts, which keep them alive */
  const char **dests;  /* for messages */
  size_t n;
};

static bool wants_ro_later(const struct mount_job *j) {
  return !j->bind && is_type(j->type, "tmpfs") && (j->o.flags & MS_RDONLY);
}

static void ro_later_add(struct ro_later *l, int fd, const char *dest) {
  l->fds = xrealloc(l->fds, (l->n + 1) * sizeof(*l->fds));
  l->dests = xrealloc(l->dests, (l->n + 1) * sizeof(*l->dests));
  l->fds[l->n] = fd;
  l->dests[l->n++] = dest;
}

static void ro_later_free(struct ro_later *l) {
  for (size_t i = 0; i < l->n; i++)
    close(l->fds[i]);
  free(l->fds);
  free(l->dests);
}

/* Only the read-only bit changes: the mount keeps nosuid, noexec and what
 * mount_setattr gave it. */
static int make_readonly(int fd, const char *dest, hull_error_t *err) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)
    return 0;
  if (errno != ENOSYS)
    return hull_error(err, errno, "make `%s` read-only", dest);
  /* Older kernels: a bind remount, which sets every per-mount flag, so the
   * current ones (statvfs's ST_* bits are the MS_* bits) are repeated. */
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0)
    return hull_error(err, errno, "statvfs `%s`", dest);
  return remount_fd(fd, MS_BIND | MS_RDONLY | (sv.f_flag & MS_LOCKABLE), dest,
                    err);
}

static int ro_later_apply(const struct ro_later *l, hull_error_t *err) {
  for (size_t i = 0; i < l->n; i++)
    if (make_readonly(l->fds[i], l->dests[i], err) < 0)
      return -1;
  return 0;
}

/* proc and sysfs are where a kernel interface is expected: mounted through
 * a symlink, they could land anywhere (CVE-2019-19921). As runc, an
 * existing destination must be a directory itself, checked before anything
 * is created (a dangling link's target would be). */
static int check_special_destination(int root_fd, const struct mount_job *j,
                                     hull_error_t *err) {
  if (j->bind || !(is_type(j->type, "proc") || is_type(j->type, "sysfs")))
    return 0;
  cleanup_close int fd =
      open_in_root(root_fd, j->m->destination, O_PATH | O_NOFOLLOW, err);
  if (fd < 0 && (*err)->errno_value == ENOENT) {
    hull_error_release(err);
    return 0;
  }
  if (fd < 0)
    return hull_error_wrap(err, "mounts[%zu]: destination `%s`", j->index,
                           j->m->destination);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", j->m->destination);
  if (!S_ISDIR(st.st_mode))
    return hull_error(err, 0,
                      "mounts[%zu]: destination `%s`: filesystem \"%s\" must "
                      "be mounted on ordinary directory",
                      j->index, j->m->destination, j->type);
  return 0;
}

static int mount_job_run(int root_fd, const struct spec *spec,
                         struct mount_job *j, const struct rootfs_options *opts,
                         struct ro_later *ro_later, hull_error_t *err) {
  const char *dest = j->m->destination;
  if (check_special_destination(root_fd, j, err) < 0 ||
      create_destination(root_fd, j, err) < 0)
    return -1;
  cleanup_close int fd = open_in_root(root_fd, dest, O_PATH, err);
  if (fd < 0)
    return hull_error_wrap(err, "mounts[%zu]: destination `%s`", j->index,
                           dest);
  struct stat before;
  if (fstat(fd, &before) < 0)
    return hull_error(err, errno, "stat `%s`", dest);
  struct fd_path p = fd_path(fd);
  bool copyup = wants_copyup(j);
  bool ro_deferred = wants_ro_later(j);
  cleanup_close int under = -1;
  if (copyup) {
    under = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (under < 0)
      return hull_error(err, errno, "tmpcopyup `%s`: open", dest);
  }

  int r;
  if (j->detached) {
    r = move_mount(j->source_fd, "", fd, "",
                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  } else if (j->source_fd >= 0) {
    struct fd_path src = fd_path(j->source_fd);
    r = mount(src.s, p.s, NULL, j->o.flags & (MS_BIND | MS_REC), NULL);
  } else if (j->bind) {
    r = mount(j->source, p.s, NULL, j->o.flags & (MS_BIND | MS_REC), NULL);
  } else if (is_type(j->type, "sysfs") && sysfs_needs_bind(spec, opts)) {
    free(j->source);
    j->source = xstrdup("/sys");
    j->bind = true;
    j->o.flags |= MS_BIND | MS_REC;
    r = mount("/sys", p.s, NULL, MS_BIND | MS_REC, NULL);
  } else {
    unsigned long flags = j->o.flags & ~(ro_deferred ? MS_RDONLY : 0);
    r = mount(j->source, p.s, j->type, flags, j->o.data);
  }
  if (r < 0)
    return hull_error(err, errno, "mount `%s` to `%s`", j->source, dest);

  /* The old fd still names the directory underneath; reopen to get the
   * mount on top. */
  cleanup_close int mfd = open_in_root(root_fd, dest, O_PATH, err);
  if (mfd < 0)
    return hull_error_wrap(err, "mount `%s` to `%s`", j->source, dest);
  if (verify_mount(mfd, j, &before, err) < 0)
    return -1;
  if (copyup && copy_up(under, mfd, j, err) < 0)
    return -1;
  if (j->bind && bind_remount_flags(j->o.flags) &&
      remount_fd(mfd, MS_BIND | bind_remount_flags(j->o.flags), dest, err) < 0)
    return hull_error_wrap(err, "mount `%s` to `%s`", j->source, dest);
  if (apply_propagation(mfd, &j->o, dest, err) < 0 ||
      apply_recursive_attrs(mfd, &j->o, dest, err) < 0)
    return hull_error_wrap(err, "mount `%s` to `%s`", j->source, dest);
  if (ro_deferred)
    ro_later_add(ro_later, take_fd(&mfd), dest);
  return 0;
}

static int mount_one(int root_fd, const struct spec *spec, size_t index,
                     const struct rootfs_options *opts,
                     struct ro_later *ro_later, hull_error_t *err) {
  const struct spec_mount *m = &spec->mounts[index];
  if (m->destination == NULL)
    return hull_error(err, EINVAL, "mounts[%zu]: destination missing", index);
  struct mount_job j;
  mount_job_init(&j, index, m, opts);
  int r;
  if (!j.bind && (is_type(j.type, "cgroup") || is_type(j.type, "cgroup2"))) {
    r = create_in_root(root_fd, m->destination, CREATE_DIR, 0755, err);
    if (r < 0)
      hull_error_wrap(err, "mounts[%zu]: destination `%s`", index,
                      m->destination);
    else
      r = mount_cgroup(root_fd, m, &j.o, opts, err);
  } else {
    r = mount_job_run(root_fd, spec, &j, opts, ro_later, err);
  }
  mount_job_free(&j);
  return r;
}

static int open_bind_source(const struct mount_job *j, hull_error_t *err) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (j->o.flags & MS_REC)
    flags |= AT_RECURSIVE;
  int fd = open_tree(AT_FDCWD, j->source, flags);
  if (fd < 0)
    return hull_error(err, errno, "mount `%s` to `%s`: open source",
                      j->source, j->m->destination);
  return fd;
}

/* An idmapped bind's source, copied and mapped for the init. */
static int copy_bind_source(const struct spec *spec, struct mount_job *j,
                            int *fd, hull_error_t *err) {
  if (!j->bind || !mount_is_idmapped(j->m, &j->o))
    return 0;
  if ((*fd = open_bind_source(j, err)) < 0)
    return -1;
  return idmap_apply(*fd, spec, j->index, &j->o, err);
}

int rootfs_open_bind_sources(const struct spec *spec, const char *bundle,
                             int **fds, hull_error_t *err) {
  *fds = NULL;
  if (spec->n_mounts == 0)
    return 0;
  int *v = xmalloc(spec->n_mounts * sizeof(*v));
  for (size_t i = 0; i < spec->n_mounts; i++)
    v[i] = -1;
  struct rootfs_options opts = {.bundle = bundle};
  int ret = 0;
  for (size_t i = 0; i < spec->n_mounts && ret == 0; i++) {
    if (spec->mounts[i].destination == NULL)
      continue; /* rootfs_do_mounts names the error */
    struct mount_job j;
    mount_job_init(&j, i, &spec->mounts[i], &opts);
    ret = copy_bind_source(spec, &j, &v[i], err);
    mount_job_free(&j);
  }
  if (ret < 0) {
    rootfs_close_bind_sources(v, spec->n_mounts);
    return -1;
  }
  *fds = v;
  return 0;
}

bool rootfs_source_from_runtime(const struct spec *spec, size_t index) {
  const struct spec_mount *m = &spec->mounts[index];
  if (m->destination == NULL ||
      spec_namespace_find(spec, SPEC_NS_USER) == NULL)
    return false;
  struct mount_job j;
  struct rootfs_options opts = {0};
  mount_job_init(&j, index, m, &opts);
  bool wanted = j.bind && !mount_is_idmapped(m, &j.o);
  mount_job_free(&j);
  return wanted;
}

int rootfs_open_sources_in(const struct spec *spec, const char *bundle,
                           pid_t pid, int **fds, size_t *n,
                           hull_error_t *err) {
  *fds = xmalloc((spec->n_mounts + 1) * sizeof(**fds));
  *n = 0;
  struct rootfs_options opts = {.bundle = bundle};
  for (size_t i = 0; i < spec->n_mounts; i++) {
    if (!rootfs_source_from_runtime(spec, i))
      continue;
    struct mount_job j;
    mount_job_init(&j, i, &spec->mounts[i], &opts);
    cleanup_free char *path = xasprintf("/proc/%d/root%s", (int)pid, j.source);
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
      hull_error(err, errno, "mount `%s` to `%s`: open source", j.source,
                 j.m->destination);
    mount_job_free(&j);
    if (fd < 0) {
      for (size_t k = 0; k < *n; k++)
        close((*fds)[k]);
      free(*fds);
      *fds = NULL;
      return -1;
    }
    (*fds)[(*n)++] = fd;
  }
  return 0;
}

void rootfs_close_bind_sources(int *fds, size_t n) {
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);
}

int rootfs_do_mounts(int root_fd, const struct spec *spec,
                     const struct rootfs_options *opts, hull_error_t *err) {
  struct ro_later ro_later = {0};
  int r = 0;
  for (size_t i = 0; i < spec->n_mounts && r == 0; i++)
    r = mount_one(root_fd, spec, i, opts, &ro_later, err);
  /* Devices go into /dev before a read-only /dev turns read-only. */
  if (r == 0)
    r = rootfs_create_devices(root_fd, spec, opts, err);
  if (r == 0)
    r = ro_later_apply(&ro_later, err);
  ro_later_free(&ro_later);
  return r;
}
