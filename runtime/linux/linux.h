/* linux.h — the Linux isolation primitives a container's process is built
 * from: the root filesystem (mounts resolved inside the rootfs, devices,
 * pivot_root, masked/readonly paths, sysctl) and the process that runs in
 * the namespaces (see process.c). */
#ifndef HULL_LINUX_H
#define HULL_LINUX_H

#include "runtime/spec/spec.h"

/* ---- root filesystem (rootfs.c, mounts.c, devices.c, resolve.c) ------- */

struct rootfs_options {
  const char *rootfs;        /* absolute host path of the bundle's rootfs */
  const char *bundle;        /* relative bind-mount sources resolve here */
  const char *cgroup_path;   /* the container's cgroup, for cgroup mounts */
  bool in_user_ns;           /* devices are bind-mounted, not mknod'ed */
  bool new_cgroup_ns;
  bool terminal;             /* /dev/console is wanted */
};

/* Runs in the container's child, inside its new mount namespace, before
 * pivot_root: sets root propagation (rootfsPropagation, default rslave as
 * runc), makes the rootfs a mount point, performs spec->mounts in order with
 * every destination resolved inside the rootfs, creates the default devices
 * and linux.devices, the /dev symlinks and /dev/ptmx. */
int rootfs_prepare(const struct spec *spec, const struct rootfs_options *opts,
                   hull_error_t *err);

/* pivot_root into the rootfs and detach the old root; with no_pivot,
 * MS_MOVE the rootfs onto / and chroot. Ends with cwd "/". */
int rootfs_pivot(const char *rootfs, bool no_pivot, hull_error_t *err);

/* After the pivot: maskedPaths, readonlyPaths, linux.sysctl, the read-only
 * remount of / for root.readonly, and rootfsPropagation on the new root. */
int rootfs_finish(const struct spec *spec, hull_error_t *err);

/* Opens `path` inside the directory tree at root_fd, never leaving it:
 * symlinks and ".." are resolved as if root_fd were "/" (openat2
 * RESOLVE_IN_ROOT, or an equivalent walk on old kernels). */
int open_in_root(int root_fd, const char *path, int flags, hull_error_t *err);

#endif
