/* rootfs.c — the order of rootfs setup: propagation, the rootfs as a mount
 * point, mounts, devices (rootfs_prepare); pivot_root (rootfs_pivot); then
 * what needs the new root: read-only /, sysctl, readonly and masked paths,
 * rootfsPropagation (rootfs_finish). runc's order, so results match. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* Linux 6.8: never reused */
#endif

static int root_propagation(const struct spec *spec, unsigned long *flag,
                            hull_error_t *err) {
  const char *p = spec->linux ? spec->linux->rootfs_propagation : NULL;
  *flag = 0;
  if (p == NULL || *p == '\0')
    return 0;
  *flag = propagation_flag(p);
  if (*flag == 0)
    return hull_error(err, EINVAL, "linux.rootfsPropagation: unknown `%s`", p);
  return 0;
}

static bool path_under(const char *path, const char *dir) {
  if (strcmp(dir, "/") == 0)
    return true;
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* pivot_root refuses a new root whose parent mount is shared; runc makes
 * that parent private. */
static int make_parent_mount_private(const char *rootfs, hull_error_t *err) {
  struct mountinfo *mi = NULL;
  size_t n = 0;
  if (mountinfo_read(&mi, &n, err) < 0)
    return -1;
  const struct mountinfo *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (path_under(rootfs, mi[i].mount_point) &&
        (!best || strlen(mi[i].mount_point) >= strlen(best->mount_point)))
      best = &mi[i];
  int ret = 0;
  if (best && strstr(best->optional, "shared:") &&
      mount(NULL, best->mount_point, NULL, MS_PRIVATE, NULL) < 0)
    ret = hull_error(err, errno, "make `%s` private", best->mount_point);
  mountinfo_free(mi, n);
  return ret;
}

/* Propagation settles what our mounts may reach: in a mount namespace of
 * our own, "/" is made rslave (or rootfsPropagation) and the rootfs's
 * parent private, as runc. In the runtime's namespace that would change the
 * host's mounts, so only our own tree, the rootfs bound onto itself, is made
 * private once it exists (bind_rootfs). */
static int isolate_root(const struct spec *spec,
                        const struct rootfs_options *opts, hull_error_t *err) {
  if (opts->shares_mount_ns)
    return 0;
  unsigned long flag;
  if (root_propagation(spec, &flag, err) < 0)
    return -1;
  /* Nothing we mount from here on may reach the host. An unbindable "/"
   * could not be bound below, so that flag waits for rootfs_finish, which
   * puts it on the container's own "/" (runc 1.1 fails here instead). */
  if (!flag || (flag & MS_UNBINDABLE))
    flag = MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, flag, NULL) < 0)
    return hull_error(err, errno, "set propagation of `/`");
  return make_parent_mount_private(opts->rootfs, err);
}

/* The rootfs becomes a mount point: bound onto itself, or, when the
 * runtime made a detached (idmapped) copy of it, that copy attached there. */
static int bind_rootfs(const struct rootfs_options *opts, hull_error_t *err) {
  if (opts->rootfs_tree) {
    if (move_mount(*opts->rootfs_tree, "", AT_FDCWD, opts->rootfs,
                   MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return hull_error(err, errno, "attach the idmapped rootfs at `%s`",
                        opts->rootfs);
  } else if (mount(opts->rootfs, opts->rootfs, "bind", MS_BIND | MS_REC,
                   NULL) < 0) {
    return hull_error(err, errno, "bind rootfs `%s` onto itself", opts->rootfs);
  }
  if (opts->shares_mount_ns &&
      mount(NULL, opts->rootfs, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
    return hull_error(err, errno, "make rootfs `%s` private", opts->rootfs);
  return 0;
}

int rootfs_prepare(const struct spec *spec, const struct rootfs_options *opts,
                   hull_error_t *err) {
  if (!opts->rootfs || opts->rootfs[0] != '/')
    return hull_error(err, EINVAL, "rootfs `%s`: not an absolute path",
                      opts->rootfs ? opts->rootfs : "");
  if (rootfs_validate_sysctl(spec, err) < 0 ||
      isolate_root(spec, opts, err) < 0 || bind_rootfs(opts, err) < 0)
    return -1;
  /* Opened after the bind, so it is the new mount. */
  cleanup_close int root_fd =
      open(opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hull_error(err, errno, "open rootfs `%s`", opts->rootfs);
  return rootfs_do_mounts(root_fd, spec, opts, err);
}

int rootfs_chroot(const char *rootfs, hull_error_t *err) {
  if (chdir(rootfs) < 0)
    return hull_error(err, errno, "chdir `%s`", rootfs);
  if (chroot(".") < 0)
    return hull_error(err, errno, "chroot `%s`", rootfs);
  if (chdir("/") < 0)
    return hull_error(err, errno, "chdir `/`");
  return 0;
}

uint64_t rootfs_mount_id(const char *path) {
  struct statx stx;
  if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE, &stx) ==
          0 &&
      (stx.stx_mask & STATX_MNT_ID_UNIQUE))
    return stx.stx_mnt_id;
  if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
      (stx.stx_mask & STATX_MNT_ID))
    return stx.stx_mnt_id;
  return 0;
}

int rootfs_release_shared(const char *rootfs, uint64_t below,
                          hull_error_t *err) {
  uint64_t top = rootfs_mount_id(rootfs);
  if (below == 0 || top == 0 || top == below)
    return 0;
  /* Lazily: a process outside the container may still hold a file open in
   * it; the tree goes away with the last user. */
  if (umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
    return hull_error(err, errno, "unmount rootfs `%s`", rootfs);
  return 0;
}

/* Whether a mount is a whole proc or sysfs (its root is the file system's
 * root) outside the rootfs: what lets the kernel allow a fresh mount of the
 * same type (mnt_already_visible). */
static bool is_full_kernel_fs_outside(const struct mountinfo *m,
                                      const char *rootfs) {
  return strcmp(m->root, "/") == 0 &&
         (strcmp(m->fstype, "proc") == 0 || strcmp(m->fstype, "sysfs") == 0) &&
         !path_under(m->mount_point, rootfs);
}

/* Without pivot_root the old root stays in the mount namespace underneath
 * the rootfs. Its whole /proc and /sys would let a process that gains
 * CAP_SYS_ADMIN in a new user namespace mount a fresh, unmasked procfs (the
 * kernel allows that while a full mount of it is visible). As runc's
 * msMoveRoot: detach every such mount, or cover it with a tmpfs where it
 * cannot be unmounted. */
static int hide_kernel_fs_outside(const char *rootfs, hull_error_t *err) {
  struct mountinfo *mi = NULL;
  size_t n = 0;
  if (mountinfo_read(&mi, &n, err) < 0)
    return -1;
  int ret = 0;
  for (size_t i = 0; i < n && ret == 0; i++) {
    const char *p = mi[i].mount_point;
    if (!is_full_kernel_fs_outside(&mi[i], rootfs))
      continue;
    /* The unmount must not propagate to the host. */
    if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
      if (errno != ENOENT) /* gone with a parent detached before */
        ret = hull_error(err, errno, "make `%s` rslave", p);
      continue;
    }
    if (umount2(p, MNT_DETACH) == 0)
      continue;
    if (errno != EINVAL && errno != EPERM)
      ret = hull_error(err, errno, "unmount `%s`", p);
    else if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
      ret = hull_error(err, errno, "cover `%s` with a tmpfs", p);
  }
  mountinfo_free(mi, n);
  return ret;
}

static int move_root(const char *rootfs, hull_error_t *err) {
  if (hide_kernel_fs_outside(rootfs, err) < 0)
    return -1;
  if (chdir(rootfs) < 0)
    return hull_error(err, errno, "chdir `%s`", rootfs);
  if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    return hull_error(err, errno, "move `%s` to `/`", rootfs);
  if (chroot(".") < 0)
    return hull_error(err, errno, "chroot `%s`", rootfs);
  if (chdir("/") < 0)
    return hull_error(err, errno, "chdir `/`");
  return 0;
}

int rootfs_pivot(const char *rootfs, bool no_pivot, hull_error_t *err) {
  if (no_pivot)
    return move_root(rootfs, err);
  cleanup_close int old_root =
      open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (old_root < 0)
    return hull_error(err, errno, "open `/`");
  cleanup_close int new_root =
      open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (new_root < 0)
    return hull_error(err, errno, "open `%s`", rootfs);
  if (fchdir(new_root) < 0)
    return hull_error(err, errno, "chdir `%s`", rootfs);
  /* pivot_root(".", ".") stacks the old root on top of the new one; no
   * directory for it is needed inside the rootfs. */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return hull_error(err, errno, "pivot_root `%s`", rootfs);
  if (fchdir(old_root) < 0)
    return hull_error(err, errno, "chdir to the old root");
  /* Detaching must not propagate the unmount to the host's peers. */
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return hull_error(err, errno, "make the old root rslave");
  if (umount2(".", MNT_DETACH) < 0)
    return hull_error(err, errno, "detach the old root");
  if (chdir("/") < 0)
    return hull_error(err, errno, "chdir `/`");
  return 0;
}

static int remount_root_readonly(hull_error_t *err) {
  cleanup_close int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `/`");
  if (remount_fd(fd, MS_BIND | MS_REC | MS_RDONLY, "/", err) < 0)
    return hull_error_wrap(err, "root.readonly");
  return 0;
}

int rootfs_finish(const struct spec *spec, hull_error_t *err) {
  if (spec->root.readonly && remount_root_readonly(err) < 0)
    return -1;
  if (rootfs_write_sysctl(spec, err) < 0)
    return -1;
  if (spec->linux &&
      (rootfs_readonly_paths(spec->linux->readonly_paths, err) < 0 ||
       rootfs_mask_paths(spec->linux->masked_paths, err) < 0))
    return -1;
  /* Applied to the new "/" only now: before the pivot it would have been
   * the host's root that became shared or unbindable. */
  unsigned long flag;
  if (root_propagation(spec, &flag, err) < 0)
    return -1;
  if (flag && mount(NULL, "/", NULL, flag, NULL) < 0)
    return hull_error(err, errno, "linux.rootfsPropagation: set `/`");
  return 0;
}
