/* rootfs-internal.h — what the rootfs files (rootfs.c, mounts.c,
 * mount-options.c, cgroup-mount.c, devices.c, masked.c, sysctl.c) share among
 * themselves. Nothing outside runtime/linux includes this. */
#ifndef HULL_ROOTFS_INTERNAL_H
#define HULL_ROOTFS_INTERNAL_H

#include "linux.h"

#include <sys/mount.h>

/* A mount's options, parsed the way runc parses them. */
struct mount_options {
  unsigned long flags;            /* MS_* for mount(2), incl. MS_BIND|MS_REC */
  unsigned long propagation[8];   /* MS_SHARED…, applied in order after */
  size_t n_propagation;
  uint64_t attr_set, attr_clr;    /* rro, rnosuid…: mount_setattr recursive */
  char *data;                     /* everything else, comma-joined */
  bool tmpcopyup;                 /* runc's: fill a tmpfs from the rootfs */
  bool idmap, ridmap;             /* an idmapped bind (ridmap: recursively) */
};

/* Flags that a remount must carry or the kernel refuses it when the mount
 * was locked by a less privileged user namespace. */
#define MS_LOCKABLE                                                           \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |               \
   MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

void mount_options_parse(char *const *options, struct mount_options *out);
void mount_options_free(struct mount_options *o);
/* MS_SHARED, MS_SLAVE|MS_REC, … for "shared", "rslave", …; 0 otherwise. */
unsigned long propagation_flag(const char *name);

/* "/proc/self/fd/N" for an fd, to hand to mount(2). */
struct fd_path { char s[32]; };
struct fd_path fd_path(int fd);

/* Remounts the mount at `fd` with MS_REMOUNT|flags (add MS_BIND for bind
 * mounts); on EPERM retries with the flags the mount already has locked. */
int remount_fd(int fd, unsigned long flags, const char *what,
               hull_error_t *err);

/* One line of /proc/self/mountinfo. */
struct mountinfo {
  char *root, *mount_point, *fstype, *source, *super_opts, *optional;
};
/* Reads /proc/self/mountinfo; returns the count, entries in *out. */
int mountinfo_read(struct mountinfo **out, size_t *n, hull_error_t *err);
void mountinfo_free(struct mountinfo *m, size_t n);

/* The cgroup mount: cgroup2 on a unified host, runc's tmpfs of v1
 * hierarchies otherwise. The destination exists already. */
int mount_cgroup(int root_fd, const struct spec_mount *m,
                 const struct mount_options *o,
                 const struct rootfs_options *opts, hull_error_t *err);

/* Copies the entries of directory src_dir (files, directories, symlinks,
 * special files, with owners, modes, xattrs and times) into the empty
 * directory dst_dir, never following a symlink; dest names it in messages. */
int tmpcopyup(int src_dir, int dst_dir, const char *dest, hull_error_t *err);

/* Whether a mount is a bind: type "bind", or "bind"/"rbind" among its
 * options (mounts.c). */
bool mount_is_bind(const struct spec_mount *m, const struct mount_options *o);
/* Whether mounts[i] asks for an idmapping (mappings or idmap/ridmap). */
bool mount_is_idmapped(const struct spec_mount *m,
                       const struct mount_options *o);
/* Gives the detached mount tree_fd the idmapping mounts[index] asks for
 * (idmap.c). */
int idmap_apply(int tree_fd, const struct spec *spec, size_t index,
                const struct mount_options *o, hull_error_t *err);

/* Devices, /dev symlinks and /dev/ptmx. */
int rootfs_create_devices(int root_fd, const struct spec *spec,
                          const struct rootfs_options *opts,
                          hull_error_t *err);

/* Performs spec->mounts in order, then creates the devices
 * (rootfs_create_devices); read-only tmpfs mounts turn read-only only after
 * that, so tmpcopyup, mounts inside them and /dev's nodes can be made. */
int rootfs_do_mounts(int root_fd, const struct spec *spec,
                     const struct rootfs_options *opts, hull_error_t *err);

/* maskedPaths and readonlyPaths, after the pivot. */
int rootfs_mask_paths(char *const *paths, hull_error_t *err);
int rootfs_readonly_paths(char *const *paths, hull_error_t *err);

/* Validates, then writes linux.sysctl under /proc/sys (after the pivot). */
int rootfs_write_sysctl(const struct spec *spec, hull_error_t *err);

/* Whether spec->linux asks for a new namespace of this type. */
bool spec_wants_namespace(const struct spec *spec, enum spec_ns_type type);

#endif
