/* tmpcopyup.c — runc's `tmpcopyup`: a tmpfs that starts with a copy of what
 * the image had at its mount point.
 *
 * The copy walks two directory fds with *at() calls only: entries are
 * lstat'ed, opened with O_NOFOLLOW and symlinks are recreated from
 * readlinkat(), never followed, so nothing outside the source tree is read.
 * Owners are copied as this process sees them, which inside a user namespace
 * is as the container sees them; an owner the namespace does not map (shown
 * as the overflow id) cannot be set and is left as ours. Data, modes, owners
 * and times are copied, and the extended attributes of files and directories
 * that the tmpfs takes; device nodes are left out in a user namespace, which
 * may not make them; hard links become separate files. */
#include "rootfs-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The container path of an entry, for messages. */
static char *child_path(const char *dir, const char *name) {
  return xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
}

/* Best effort: a tmpfs or a user namespace refuses some attributes
 * (trusted.* in a user namespace, other LSMs' security.*), and it is the
 * content that the container needs. */
static void copy_xattrs(int src, int dst, const char *path) {
  ssize_t len = flistxattr(src, NULL, 0);
  if (len <= 0)
    return;
  cleanup_free char *names = xmalloc((size_t)len);
  len = flistxattr(src, names, (size_t)len);
  for (ssize_t off = 0; len > 0 && off < len; off += strlen(names + off) + 1) {
    const char *name = names + off;
    ssize_t vlen = fgetxattr(src, name, NULL, 0);
    if (vlen < 0)
      continue;
    cleanup_free char *value = xmalloc((size_t)vlen + 1);
    vlen = fgetxattr(src, name, value, (size_t)vlen);
    if (vlen < 0 || fsetxattr(dst, name, value, (size_t)vlen, 0) < 0)
      log_debug("tmpcopyup `%s`: xattr `%s` not copied", path, name);
  }
}

/* chown drops set-id bits, so the mode follows it. */
static int copy_owner_and_mode(int dst, const struct stat *st,
                               const char *path, hull_error_t *err) {
  if (fchown(dst, st->st_uid, st->st_gid) < 0 && errno != EINVAL)
    return hull_error(err, errno, "chown `%s`", path);
  if (fchmod(dst, st->st_mode & 07777) < 0)
    return hull_error(err, errno, "chmod `%s`", path);
  return 0;
}

static int copy_times(int dst, const struct stat *st, const char *path,
                      hull_error_t *err) {
  const struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (futimens(dst, times) < 0)
    return hull_error(err, errno, "set times of `%s`", path);
  return 0;
}

/* Owner, mode, xattrs, times of an open file or directory. */
static int copy_metadata(int src, int dst, const struct stat *st,
                         const char *path, hull_error_t *err) {
  if (copy_owner_and_mode(dst, st, path, err) < 0)
    return -1;
  copy_xattrs(src, dst, path);
  return copy_times(dst, st, path, err);
}

/* Opens name in dir, refusing symlinks, and checks it is still the kind
 * of file lstat saw (the source can change under us). */
static int open_source(int dir, const char *name, int flags, mode_t type,
                       struct stat *st, const char *path, hull_error_t *err) {
  int fd = openat(dir, name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  if (fstat(fd, st) < 0 || (st->st_mode & S_IFMT) != type) {
    int e = errno;
    close(fd);
    return hull_error(err, e ? e : ESTALE, "`%s` changed while copying", path);
  }
  return fd;
}

static int copy_file(int src_dir, int dst_dir, const char *name,
                     const char *path, hull_error_t *err) {
  struct stat st;
  cleanup_close int src =
      open_source(src_dir, name, O_RDONLY, S_IFREG, &st, path, err);
  if (src < 0)
    return -1;
  cleanup_close int dst = openat(
      dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    return hull_error(err, errno, "create `%s`", path);
  if (copy_fd_contents(src, dst, path, err) < 0)
    return -1;
  return copy_metadata(src, dst, &st, path, err);
}

static int copy_symlink(int src_dir, int dst_dir, const char *name,
                        const struct stat *st, const char *path,
                        hull_error_t *err) {
  size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : 4096;
  cleanup_free char *target = xmalloc(size);
  ssize_t n = readlinkat(src_dir, name, target, size);
  if (n < 0)
    return hull_error(err, errno, "readlink `%s`", path);
  if ((size_t)n == size)
    return hull_error(err, ENAMETOOLONG, "`%s` changed while copying", path);
  target[n] = '\0';
  if (symlinkat(target, dst_dir, name) < 0)
    return hull_error(err, errno, "symlink `%s`", path);
  if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) <
          0 &&
      errno != EINVAL)
    return hull_error(err, errno, "chown `%s`", path);
  const struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return hull_error(err, errno, "set times of `%s`", path);
  return 0;
}

/* FIFOs, sockets and device nodes. A user namespace may not make devices;
 * those are left out, as the container could not open them anyway. */
static int copy_special(int dst_dir, const char *name, const struct stat *st,
                        const char *path, hull_error_t *err) {
  if (mknodat(dst_dir, name, st->st_mode, st->st_rdev) < 0) {
    if (errno == EPERM && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))) {
      log_debug("tmpcopyup `%s`: device %u:%u not copied", path,
                major(st->st_rdev), minor(st->st_rdev));
      return 0;
    }
    return hull_error(err, errno, "mknod `%s`", path);
  }
  /* O_PATH opens without touching the node (no FIFO wait, no driver). */
  cleanup_close int fd =
      openat(dst_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  struct fd_path p = fd_path(fd);
  if (chown(p.s, st->st_uid, st->st_gid) < 0 && errno != EINVAL)
    return hull_error(err, errno, "chown `%s`", path);
  if (chmod(p.s, st->st_mode & 07777) < 0)
    return hull_error(err, errno, "chmod `%s`", path);
  const struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(AT_FDCWD, p.s, times, 0) < 0)
    return hull_error(err, errno, "set times of `%s`", path);
  return 0;
}

static int copy_tree(int src, int dst, const char *path, hull_error_t *err);

static int copy_dir(int src_dir, int dst_dir, const char *name,
                    const char *path, hull_error_t *err) {
  struct stat st;
  cleanup_close int src = open_source(src_dir, name, O_RDONLY | O_DIRECTORY,
                                      S_IFDIR, &st, path, err);
  if (src < 0)
    return -1;
  /* Private until filled; its real mode comes last. */
  if (mkdirat(dst_dir, name, 0700) < 0)
    return hull_error(err, errno, "mkdir `%s`", path);
  cleanup_close int dst =
      openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return hull_error(err, errno, "open `%s`", path);
  if (copy_tree(src, dst, path, err) < 0)
    return -1;
  return copy_metadata(src, dst, &st, path, err);
}

static int copy_entry(int src, int dst, const char *name, const char *path,
                      hull_error_t *err) {
  struct stat st;
  if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hull_error(err, errno, "stat `%s`", path);
  switch (st.st_mode & S_IFMT) {
  case S_IFDIR:
    return copy_dir(src, dst, name, path, err);
  case S_IFREG:
    return copy_file(src, dst, name, path, err);
  case S_IFLNK:
    return copy_symlink(src, dst, name, &st, path, err);
  default:
    return copy_special(dst, name, &st, path, err);
  }
}

/* Copies the entries of directory src into directory dst. */
static int copy_tree(int src, int dst, const char *path, hull_error_t *err) {
  int list_fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  DIR *d = fdopendir(list_fd);
  if (d == NULL) {
    int e = errno;
    close(list_fd);
    return hull_error(err, e, "open `%s`", path);
  }
  int ret = 0;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (de == NULL) {
      if (errno)
        ret = hull_error(err, errno, "read directory `%s`", path);
      break;
    }
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child = child_path(path, de->d_name);
    if (copy_entry(src, dst, de->d_name, child, err) < 0) {
      ret = -1;
      break;
    }
  }
  closedir(d);
  return ret;
}

int tmpcopyup(int src_dir, int dst_dir, const char *dest, hull_error_t *err) {
  /* The tmpfs root keeps its own owner and mode (mode= or 1777), as with
   * runc: only what is inside the directory is copied. */
  if (copy_tree(src_dir, dst_dir, dest, err) < 0)
    return hull_error_wrap(err, "tmpcopyup `%s`", dest);
  return 0;
}
