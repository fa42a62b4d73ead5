/* idmap.c — idmapped bind mounts: mounts[].uidMappings/gidMappings and the
 * "idmap"/"ridmap" options (runtime-spec config.md, runc 1.2's semantics).
 *
 * The kernel gives a mapping only to a detached mount (mount_setattr with
 * MOUNT_ATTR_IDMAP and a user namespace fd whose maps are the mapping), and
 * only to a caller privileged over the file system: so the runtime, before
 * the init exists, maps the copy that rootfs_open_bind_sources made, and the
 * init attaches it. A mapping line "containerID hostID size" reads as a user
 * namespace's: a file owned by containerID on disk shows as hostID through
 * the mount (and as whatever the container's own namespace makes of that).
 *
 * Also the copies others map whole: an image's layers (images/idmap.c) and
 * the rootfs of a container given its ids by run.oci.userns=auto
 * (idmap_clone_tree, rootfs_open_idmapped). */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

bool mount_is_idmapped(const struct spec_mount *m,
                       const struct mount_options *o) {
  return o->idmap || o->ridmap || m->n_uid_mappings > 0 ||
         m->n_gid_mappings > 0;
}

/* Without mappings of its own an idmapped mount takes the container's user
 * namespace's (runc 1.2): a new one's maps, or a joined one itself. */
static bool takes_container_maps(const struct spec_mount *m) {
  return m->n_uid_mappings == 0 && m->n_gid_mappings == 0;
}

static int check_one(const struct spec *spec, size_t i, hull_error_t *err) {
  const struct spec_mount *m = &spec->mounts[i];
  struct mount_options o;
  mount_options_parse(m->options, &o);
  bool idmapped = mount_is_idmapped(m, &o), bind = mount_is_bind(m, &o);
  mount_options_free(&o);
  if (!idmapped)
    return 0;
  if (!bind)
    return hull_error(err, 0, "config.json: .mounts[%zu]: id-mapped mounts "
                              "are only supported for bind-mounts", i);
  bool has_userns = spec_namespace_find(spec, SPEC_NS_USER) != NULL;
  bool both = m->n_uid_mappings > 0 && m->n_gid_mappings > 0;
  if (!both && !(takes_container_maps(m) && has_userns))
    return hull_error(err, 0, "config.json: .mounts[%zu]: id-mapped mounts "
                              "must have both uid and gid mappings specified",
                      i);
  return 0;
}

int rootfs_validate_idmaps(const struct spec *spec, hull_error_t *err) {
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (check_one(spec, i, err) < 0)
      return -1;
  return 0;
}

/* The user namespace whose maps are mounts[index]'s mapping. */
static int open_mapping(const struct spec *spec, size_t index, int *fd,
                        hull_error_t *err) {
  const struct spec_mount *m = &spec->mounts[index];
  if (!takes_container_maps(m))
    return ns_new_user_fd(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                          m->n_gid_mappings, fd, err);
  const struct spec_namespace *user = spec_namespace_find(spec, SPEC_NS_USER);
  if (user && user->path && *user->path) {
    *fd = open(user->path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
      return hull_error(err, errno, "open user namespace `%s`", user->path);
    return 0;
  }
  const struct spec_linux *l = spec->linux;
  return ns_new_user_fd(l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
                        l->n_gid_mappings, fd, err);
}

int idmap_apply(int tree_fd, const struct spec *spec, size_t index,
                const struct mount_options *o, hull_error_t *err) {
  const struct spec_mount *m = &spec->mounts[index];
  cleanup_close int userns = -1;
  if (open_mapping(spec, index, &userns, err) < 0)
    return hull_error_wrap(err, "mounts[%zu]: idmap", index);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                            .userns_fd = (uint64_t)userns};
  unsigned flags = AT_EMPTY_PATH | (o->ridmap ? AT_RECURSIVE : 0);
  if (mount_setattr(tree_fd, "", flags, &attr, sizeof(attr)) < 0)
    return hull_error(err, errno, "mounts[%zu]: idmap `%s`", index,
                      m->source ? m->source : "");
  return 0;
}

/* ---- whole trees: layers, a rootfs ------------------------------------ */

char *fs_type_name(const char *path) {
  static const struct { unsigned long magic; const char *name; } known[] = {
      {EXT4_SUPER_MAGIC, "ext4"},   {XFS_SUPER_MAGIC, "xfs"},
      {BTRFS_SUPER_MAGIC, "btrfs"}, {TMPFS_MAGIC, "tmpfs"},
      {OVERLAYFS_SUPER_MAGIC, "overlayfs"}, {V9FS_MAGIC, "9p"},
      {NFS_SUPER_MAGIC, "nfs"},     {F2FS_SUPER_MAGIC, "f2fs"},
      {RAMFS_MAGIC, "ramfs"},
  };
  struct statfs fs;
  if (statfs(path, &fs) < 0)
    return xstrdup("an unknown file system");
  for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
    if ((unsigned long)fs.f_type == known[i].magic)
      return xstrdup(known[i].name);
  return xasprintf("file system 0x%lx", (unsigned long)fs.f_type);
}

int idmap_clone_tree(const char *path, bool recursive, int userns,
                     const char *what, const char *fallback, int *tree,
                     hull_error_t *err) {
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  cleanup_close int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE |
                                                       OPEN_TREE_CLOEXEC | rec);
  if (fd < 0)
    return hull_error(err, errno, "clone the mount of %s `%s`", what, path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                            .userns_fd = (uint64_t)userns};
  if (mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
    int e = errno;
    cleanup_free char *fs = fs_type_name(path);
    return hull_error(err, e, "the kernel cannot idmap %s `%s` (%s; %s)",
                      what, path, fs, fallback);
  }
  *tree = take_fd(&fd);
  return 0;
}

int rootfs_open_idmapped(const struct spec *spec, const char *rootfs,
                         int *tree, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  cleanup_close int userns = -1;
  if (ns_new_user_fd(l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
                     l->n_gid_mappings, &userns, err) < 0)
    return hull_error_wrap(err, "idmapped rootfs");
  return idmap_clone_tree(rootfs, true, userns, "rootfs",
                          "give the container linux.uidMappings and "
                          "gidMappings of its own and a rootfs chowned to "
                          "them instead", tree, err);
}
