/* devices.c — /dev in the container: runc's default device nodes, the
 * spec's linux.devices, the /dev/fd and /dev/std* symlinks and /dev/ptmx.
 *
 * Outside a user namespace nodes are made with mknod; inside one mknod is
 * refused, so an empty file is bound over with the host's node instead. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct device {
  const char *path;
  mode_t type;               /* S_IFCHR, S_IFBLK, S_IFIFO */
  unsigned major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

/* runc's default devices (libcontainer/specconv AllowedDevices). */
static const struct device default_devices[] = {
    {"/dev/null", S_IFCHR, 1, 3, 0666, 0, 0},
    {"/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0},
    {"/dev/full", S_IFCHR, 1, 7, 0666, 0, 0},
    {"/dev/random", S_IFCHR, 1, 8, 0666, 0, 0},
    {"/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0},
    {"/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0},
};

static const char *const dev_symlinks[][2] = {
    {"/proc/self/fd", "fd"},
    {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"},
};

/* A bind mount of something onto /dev replaces our /dev management. */
static bool dev_is_bound(const struct spec *spec) {
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct spec_mount *m = &spec->mounts[i];
    if (!m->destination)
      continue;
    size_t n = strlen(m->destination);
    while (n > 1 && m->destination[n - 1] == '/')
      n--;
    bool bind = (m->type && strcmp(m->type, "bind") == 0);
    for (size_t k = 0; m->options && m->options[k]; k++)
      bind |= strcmp(m->options[k], "bind") == 0 ||
              strcmp(m->options[k], "rbind") == 0;
    if (bind && n == 4 && strncmp(m->destination, "/dev", 4) == 0)
      return true;
  }
  return false;
}

static int device_from_spec(const struct spec_device *d, struct device *out,
                            hull_error_t *err) {
  if (!d->path || !d->type)
    return hull_error(err, EINVAL, "linux.devices: path and type required");
  switch (d->type[0]) {
  case 'c':
  case 'u':
    out->type = S_IFCHR;
    break;
  case 'b':
    out->type = S_IFBLK;
    break;
  case 'p':
    out->type = S_IFIFO;
    break;
  default:
    return hull_error(err, EINVAL, "linux.devices: `%s`: unknown type `%s`",
                      d->path, d->type);
  }
  if (out->type != S_IFIFO && (!d->major.set || !d->minor.set))
    return hull_error(err, EINVAL, "linux.devices: `%s`: major and minor "
                      "required", d->path);
  out->path = d->path;
  out->major = (unsigned)d->major.v;
  out->minor = (unsigned)d->minor.v;
  out->mode = d->file_mode.set ? (mode_t)d->file_mode.v & 07777 : 0666;
  out->uid = d->uid.set ? (uid_t)d->uid.v : 0;
  out->gid = d->gid.set ? (gid_t)d->gid.v : 0;
  return 0;
}

/* Splits "/dev/a/b" into its parent opened in the root and "b". */
static int open_parent(int root_fd, const char *path, const char **name,
                       hull_error_t *err) {
  const char *slash = strrchr(path, '/');
  *name = slash ? slash + 1 : path;
  if (**name == '\0')
    return hull_error(err, EINVAL, "`%s`: not a file name", path);
  cleanup_free char *parent = slash ? xstrndup(path, (size_t)(slash - path))
                                    : xstrdup(".");
  if (*parent == '\0') {
    free(parent);
    parent = xstrdup("/");
  }
  if (create_in_root(root_fd, parent, CREATE_DIR, 0755, err) < 0)
    return -1;
  return open_in_root(root_fd, parent, O_PATH | O_DIRECTORY, err);
}

static int bind_device(int root_fd, const struct device *d, hull_error_t *err) {
  if (create_in_root(root_fd, d->path, CREATE_FILE, 0644, err) < 0)
    return -1;
  cleanup_close int fd = open_in_root(root_fd, d->path, O_PATH, err);
  if (fd < 0)
    return -1;
  struct fd_path p = fd_path(fd);
  if (mount(d->path, p.s, NULL, MS_BIND, NULL) < 0)
    return hull_error(err, errno, "bind device `%s`", d->path);
  return 0;
}

static int mknod_device(int root_fd, const struct device *d,
                        hull_error_t *err) {
  const char *name;
  cleanup_close int dir = open_parent(root_fd, d->path, &name, err);
  if (dir < 0)
    return -1;
  /* mknodat needs a real directory fd, not an O_PATH one. */
  cleanup_close int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return hull_error(err, errno, "open parent of `%s`", d->path);
  if (mknodat(dfd, name, d->type | d->mode, makedev(d->major, d->minor)) < 0) {
    if (errno != EEXIST)
      return hull_error(err, errno, "mknod `%s`", d->path);
    /* An image that ships the node keeps it, as with runc. */
    return 0;
  }
  /* The umask must not narrow the mode the spec asked for. */
  if (fchmodat(dfd, name, d->mode, 0) < 0)
    return hull_error(err, errno, "chmod `%s`", d->path);
  if (fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return hull_error(err, errno, "chown `%s`", d->path);
  return 0;
}

static int create_device(int root_fd, const struct device *d, bool bind,
                         hull_error_t *err) {
  return bind ? bind_device(root_fd, d, err) : mknod_device(root_fd, d, err);
}

static bool spec_has_device(const struct spec *spec, const char *path) {
  if (!spec->linux)
    return false;
  for (size_t i = 0; i < spec->linux->n_devices; i++)
    if (spec->linux->devices[i].path &&
        strcmp(spec->linux->devices[i].path, path) == 0)
      return true;
  return false;
}

static int create_dev_links(int root_fd, hull_error_t *err) {
  cleanup_close int dir = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY,
                                       err);
  if (dir < 0)
    return -1;
  cleanup_close int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return hull_error(err, errno, "open `/dev`");
  for (size_t i = 0; i < sizeof(dev_symlinks) / sizeof(dev_symlinks[0]); i++)
    if (symlinkat(dev_symlinks[i][0], dfd, dev_symlinks[i][1]) < 0 &&
        errno != EEXIST)
      return hull_error(err, errno, "symlink `/dev/%s`", dev_symlinks[i][1]);
  /* runc links /dev/core only when the host has /proc/kcore. */
  if (access("/proc/kcore", F_OK) == 0 &&
      symlinkat("/proc/kcore", dfd, "core") < 0 && errno != EEXIST)
    return hull_error(err, errno, "symlink `/dev/core`");
  /* The devpts instance's ptmx, not the host's. */
  if (unlinkat(dfd, "ptmx", 0) < 0 && errno != ENOENT)
    return hull_error(err, errno, "remove `/dev/ptmx`");
  if (symlinkat("pts/ptmx", dfd, "ptmx") < 0)
    return hull_error(err, errno, "symlink `/dev/ptmx`");
  return 0;
}

int rootfs_create_devices(int root_fd, const struct spec *spec,
                          const struct rootfs_options *opts,
                          hull_error_t *err) {
  if (dev_is_bound(spec))
    return 0;
  if (create_in_root(root_fd, "/dev", CREATE_DIR, 0755, err) < 0)
    return hull_error_wrap(err, "create devices");
  for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]);
       i++) {
    if (spec_has_device(spec, default_devices[i].path))
      continue;
    if (create_device(root_fd, &default_devices[i], opts->in_user_ns, err) < 0)
      return hull_error_wrap(err, "create devices");
  }
  for (size_t i = 0; spec->linux && i < spec->linux->n_devices; i++) {
    struct device d;
    if (device_from_spec(&spec->linux->devices[i], &d, err) < 0 ||
        create_device(root_fd, &d, opts->in_user_ns, err) < 0)
      return hull_error_wrap(err, "create devices");
  }
  if (create_dev_links(root_fd, err) < 0)
    return hull_error_wrap(err, "create devices");
  /* The console is bound over /dev/console after the pivot, when a
   * read-only /dev could no longer get the file to bind it onto. */
  if (opts->terminal &&
      create_in_root(root_fd, "/dev/console", CREATE_FILE, 0666, err) < 0)
    return hull_error_wrap(err, "create `/dev/console`");
  return 0;
}

int rootfs_bind_console(const char *pty_path, hull_error_t *err) {
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return hull_error(err, errno, "open `/`");
  if (create_in_root(root, "/dev/console", CREATE_FILE, 0666, err) < 0)
    return hull_error_wrap(err, "create `/dev/console`");
  cleanup_close int fd = open_in_root(root, "/dev/console", O_PATH, err);
  if (fd < 0)
    return -1;
  struct fd_path p = fd_path(fd);
  if (mount(pty_path, p.s, NULL, MS_BIND, NULL) < 0)
    return hull_error(err, errno, "mount `%s` to `/dev/console`", pty_path);
  return 0;
}
