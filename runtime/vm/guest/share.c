/* share.c — the guest's side of the container's shared files (the host's
 * is runtime/vm/share.c): each virtio-9p or virtio-fs share mounted where
 * the guest's config finds the rootfs and the bind sources, before the
 * container is created; or, for vm.image, the disk's file system as the
 * rootfs.
 *
 * virtio-fs needs no options: what caches the guest may keep is the
 * virtiofsd's to say (virtiofs.c: none for attributes, so host edits are
 * seen at once).
 *
 * A disk is /dev/vda when the kernel found no partition table on it (the
 * spec's image "contains the root filesystem": an image of one file
 * system), else its first partition, /dev/vda1 (a disk image made with a
 * partition table, as other tools make them). Its type is found by trying
 * those the kernel has (/proc/filesystems, as mount(8) does).
 *
 * Mount options: 9p2000.L (Linux's own dialect: uids, gids, modes, device
 * nodes and xattrs as the host has them); msize 512000, the most Linux's
 * virtio transport takes (PAGE_SIZE * (VIRTQUEUE_NUM - 3)): fewer round
 * trips for large reads and writes; cache=mmap: no page or dentry cache
 * (reads, lookups and attributes go to the host each time, so an edit on
 * the host is seen at once, as in a namespace container), except what
 * shared writable mmap(2) needs, which cache=none would refuse. */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARE_MOUNTS "/vm/share-mounts"
#define SHARE_OPTIONS "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"

static int mount_9p(const char *tag, const char *target, bool ro,
                    hull_error_t *err) {
  if (mkdir_p(target, 0755, err) < 0)
    return -1;
  /* suid and dev, as the rootfs of a namespace container: its own
   * mounts decide what its processes get. */
  if (mount(tag, target, "9p", ro ? MS_RDONLY : 0, SHARE_OPTIONS) < 0)
    return hull_error(err, errno, "mount virtio-9p share `%s` on `%s` (does "
                      "the guest kernel have 9p and 9pnet_virtio?)", tag,
                      target);
  return 0;
}

/* An empty file to bind-mount a share's entry on, and its parents. */
static int make_file(const char *path, hull_error_t *err) {
  cleanup_free char *parent = xstrdup(path);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    if (mkdir_p(parent, 0755, err) < 0)
      return -1;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return hull_error(err, errno, "create `%s`", path);
  close(fd);
  return 0;
}

static int mount_virtiofs(const char *tag, const char *target, bool ro,
                          hull_error_t *err) {
  if (mkdir_p(target, 0755, err) < 0)
    return -1;
  if (mount(tag, target, "virtiofs", ro ? MS_RDONLY : 0, NULL) < 0)
    return hull_error(err, errno, "mount virtio-fs share `%s` on `%s` (does "
                      "the guest kernel have virtiofs?)", tag, target);
  return 0;
}

static int mount_dir(const char *transport, const char *tag,
                     const char *target, bool ro, hull_error_t *err) {
  return strcmp(transport, "virtiofs") == 0
             ? mount_virtiofs(tag, target, ro, err)
             : mount_9p(tag, target, ro, err);
}

/* The disk's device, or its first partition's. */
static char *disk_device(const char *disk) {
  cleanup_free char *part = xasprintf("/sys/block/%s/%s1", disk, disk);
  if (access(part, F_OK) == 0)
    return xasprintf("/dev/%s1", disk);
  return xasprintf("/dev/%s", disk);
}

/* Each block file system the kernel has, until one takes dev; the error
 * names those tried (none: the kernel has no block file system at all,
 * as hull's own kernel, which would need CONFIG_EXT4_FS). */
static int mount_disk(const char *disk, const char *target, bool ro,
                      hull_error_t *err) {
  if (mkdir_p(target, 0755, err) < 0)
    return -1;
  cleanup_free char *dev = disk_device(disk);
  cleanup_free char *types = NULL;
  if (read_file("/proc/filesystems", &types, NULL, err) < 0)
    return -1;
  cleanup_free char *tried = xstrdup("");
  int last = ENODEV;
  char *save = NULL;
  for (char *line = strtok_r(types, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "nodev", 5) == 0)
      continue;
    const char *type = line + strspn(line, " \t");
    if (mount(dev, target, type, ro ? MS_RDONLY : 0, NULL) == 0)
      return 0;
    last = errno;
    char *longer = xasprintf("%s%s%s", tried, *tried ? ", " : "", type);
    free(tried);
    tried = longer;
  }
  return hull_error(err, last, "mount the VM image's disk `%s` on `%s` as "
                    "any block file system the guest kernel has (%s)", dev,
                    target, *tried ? tried : "it has none");
}

/* "TAG GUEST_PATH ro|rw dir|entry|disk 9p|virtiofs|virtio-blk" */
static int mount_share(char *line, hull_error_t *err) {
  char tag[256], path[4096], mode[3], kind[6], transport[11];
  if (sscanf(line, "%255s %4095s %2s %5s %10s", tag, path, mode, kind,
             transport) != 5 ||
      (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0) ||
      (strcmp(kind, "dir") != 0 && strcmp(kind, "entry") != 0 &&
       strcmp(kind, "disk") != 0))
    return hull_error(err, 0, "`%s`: bad line `%s`", VM_GUEST_SHARES, line);
  bool ro = strcmp(mode, "ro") == 0;
  if (strcmp(kind, "disk") == 0)
    return mount_disk(tag, path, ro, err);
  if (strcmp(kind, "dir") == 0)
    return mount_dir(transport, tag, path, ro, err);
  cleanup_free char *dir = xasprintf(SHARE_MOUNTS "/%s", tag);
  cleanup_free char *entry = xasprintf("%s/" VM_SHARE_ENTRY, dir);
  if (mount_dir(transport, tag, dir, ro, err) < 0 || make_file(path, err) < 0)
    return -1;
  if (mount(entry, path, NULL, MS_BIND, NULL) < 0)
    return hull_error(err, errno, "bind-mount `%s` on `%s`", entry, path);
  return 0;
}

int guest_mount_shares(hull_error_t *err) {
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t missing = NULL;
  if (read_file(VM_GUEST_SHARES, &text, NULL, &missing) < 0)
    return 0; /* the files are in the initramfs */
  if (guest_load_modules(VM_GUEST_SHARE_MODULES, err) < 0)
    return hull_error_wrap(err, "VM shares");
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save))
    if (mount_share(line, err) < 0)
      return hull_error_wrap(err, "VM shares");
  return 0;
}
