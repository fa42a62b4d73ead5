/* share.c — the container's files shared with the guest, live, over qemu's
 * built-in virtio-9p (no daemon beside qemu): the bundle's rootfs and each
 * bind mount's source are exported by qemu (-fsdev local) and mounted by
 * the agent where the copies would be (/bundle/rootfs, /bundle/binds/N).
 * Writes land in the bundle as a namespace container's would, the size is
 * unbounded by the guest's RAM, and host edits are seen in the guest.
 *
 * 9p exports directories. A bind of a directory exports the directory
 * itself. A bind of anything else (a file: /etc/hosts, /etc/resolv.conf,
 * a log) would mean exporting its parent, which is more than the container
 * was given (a bind of /etc/passwd would hand the guest kernel all of
 * /etc). Instead the share is a directory of its own in the state dir,
 * <state dir>/shares/N, holding one entry, VM_SHARE_ENTRY, on which the
 * monitor bind-mounts the source in its private mount namespace: qemu (its
 * child, in that namespace) exports just that file, writes reach the real
 * one, and the mount goes with the monitor and qemu: nothing to undo on
 * the host. The agent bind-mounts the entry onto /bundle/binds/N.
 *
 * The same shares go over virtio-fs instead where a virtiofsd runs
 * (vm_settings.share; virtiofs.c serves them), and when the spec's `vm`
 * object names an image, the rootfs is that disk's file system rather
 * than root.path's files: the share is then a virtio-blk disk (qemu.c
 * attaches it; the guest mounts it). */
#include "host.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARES_DIR "shares"

/* Whether the mount's options leave it read-only (the last of ro/rw). */
static bool mount_readonly(const struct spec_mount *m) {
  bool ro = false;
  for (char **o = m->options; o && *o; o++) {
    if (strcmp(*o, "ro") == 0)
      ro = true;
    else if (strcmp(*o, "rw") == 0)
      ro = false;
  }
  return ro;
}

static void add_share(struct vm_shares *s, struct vm_share share) {
  s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
  s->v[s->n++] = share;
}

/* A bind of a non-directory: <state dir>/shares/<index>/VM_SHARE_ENTRY,
 * an empty file for the monitor to mount the source on. */
static int file_share_dir(const char *state_dir, size_t index, char **dir,
                          hull_error_t *err) {
  *dir = xasprintf("%s/" SHARES_DIR "/%zu", state_dir, index);
  if (mkdir_p(*dir, 0700, err) < 0)
    return -1;
  cleanup_free char *entry = xasprintf("%s/" VM_SHARE_ENTRY, *dir);
  int fd = open(entry, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return hull_error(err, errno, "create `%s`", entry);
  close(fd);
  return 0;
}

static int plan_bind(struct vm_shares *s, const struct spec_mount *m,
                     size_t index, const char *state_dir, hull_error_t *err) {
  struct stat st;
  /* Followed through symlinks, as the mount would be. */
  if (stat(m->source, &st) < 0)
    return hull_error(err, errno, "mounts[%zu]: source `%s`", index,
                      m->source);
  if (S_ISSOCK(st.st_mode))
    return hull_error(err, 0, "mounts[%zu]: source `%s` is a socket, which "
                      "a VM cannot reach", index, m->source);
  struct vm_share share = {
      .tag = xasprintf("hull-bind-%zu", index),
      .guest_path = xasprintf("/bundle/binds/%zu", index),
      .readonly = mount_readonly(m),
  };
  if (S_ISDIR(st.st_mode)) {
    share.host_path = xstrdup(m->source);
  } else {
    share.file_source = xstrdup(m->source);
    if (file_share_dir(state_dir, index, &share.host_path, err) < 0) {
      add_share(s, share); /* freed with the rest */
      return -1;
    }
  }
  add_share(s, share);
  return 0;
}

static bool is_bind(const struct spec_mount *m) {
  if (m->type && strcmp(m->type, "bind") == 0)
    return true;
  for (char **o = m->options; o && *o; o++)
    if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
      return true;
  return false;
}

/* Whether dest lies below the destination of one of the first n mounts:
 * the guest creates it in that mount, not in the rootfs. */
static bool below_earlier_mount(const struct spec *spec, size_t n,
                                const char *dest) {
  for (size_t i = 0; i < n; i++) {
    const char *d = spec->mounts[i].destination;
    size_t len = d ? strlen(d) : 0;
    while (len > 0 && d[len - 1] == '/')
      len--;
    if (d && strncmp(dest, d, len) == 0 && dest[len] == '/')
      return true;
  }
  return false;
}

/* A read-only rootfs is exported read-only, so the guest cannot make the
 * mount points it lacks, which a namespace container makes in the rootfs
 * before remounting it read-only: they are made here, as the mounts would
 * make them (a file for a bind of a non-directory, else a directory),
 * resolved inside the rootfs. */
static int make_destinations(const struct spec *spec, const char *rootfs,
                             hull_error_t *err) {
  cleanup_close int root_fd =
      open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hull_error(err, errno, "open rootfs `%s`", rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct spec_mount *m = &spec->mounts[i];
    if (m->destination == NULL ||
        below_earlier_mount(spec, i, m->destination))
      continue;
    enum create_kind kind = CREATE_DIR;
    struct stat st;
    if (is_bind(m) && m->source && stat(m->source, &st) == 0 &&
        !S_ISDIR(st.st_mode))
      kind = CREATE_FILE;
    if (create_in_root(root_fd, m->destination, kind, 0755, err) < 0)
      return hull_error_wrap(err, "mounts[%zu]: destination `%s`", i,
                             m->destination);
  }
  return 0;
}

/* The guest's device for the one disk qemu gives it (virtio-blk, qemu.c):
 * the first, and only, virtio disk. */
#define DISK_DEVICE "vda"

int vm_shares_plan(const struct spec *spec, const struct vm_settings *s,
                   const char *rootfs, const char *state_dir,
                   struct vm_shares *out, hull_error_t *err) {
  *out = (struct vm_shares){.transport = s->share};
  /* An image's mount points are the guest's to make (or its own). */
  if (spec->root.readonly && s->image == NULL &&
      make_destinations(spec, rootfs, err) < 0)
    return -1;
  add_share(out, (struct vm_share){
                     .tag = xstrdup(s->image ? DISK_DEVICE : "hull-rootfs"),
                     .host_path = xstrdup(s->image ? s->image : rootfs),
                     .guest_path = xstrdup("/bundle/rootfs"),
                     .readonly = spec->root.readonly,
                     .disk = s->image != NULL});
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct spec_mount *m = &spec->mounts[i];
    if (!vm_mount_source_to_guest(m))
      continue;
    if (plan_bind(out, m, i, state_dir, err) < 0) {
      vm_shares_free(out);
      return -1;
    }
  }
  return 0;
}

void vm_shares_free(struct vm_shares *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].tag);
    free(s->v[i].host_path);
    free(s->v[i].file_source);
    free(s->v[i].guest_path);
  }
  free(s->v);
  *s = (struct vm_shares){0};
}

char *vm_shares_guest_text(const struct vm_shares *s) {
  char *text = xstrdup("");
  for (size_t i = 0; i < s->n; i++) {
    const struct vm_share *sh = &s->v[i];
    const char *kind = sh->disk          ? "disk"
                       : sh->file_source ? "entry"
                                         : "dir";
    const char *transport = sh->disk ? "virtio-blk"
                            : s->transport == VM_SHARE_VIRTIOFS ? "virtiofs"
                                                                : "9p";
    char *longer = xasprintf("%s%s %s %s %s %s\n", text, sh->tag,
                             sh->guest_path, sh->readonly ? "ro" : "rw", kind,
                             transport);
    free(text);
    text = longer;
  }
  return text;
}

int vm_shares_mount_entries(const struct vm_shares *s, hull_error_t *err) {
  for (size_t i = 0; s && i < s->n; i++) {
    const struct vm_share *sh = &s->v[i];
    if (sh->file_source == NULL)
      continue;
    cleanup_free char *entry = xasprintf("%s/" VM_SHARE_ENTRY, sh->host_path);
    if (mount(sh->file_source, entry, NULL, MS_BIND, NULL) < 0)
      return hull_error(err, errno, "bind-mount `%s` on `%s`",
                        sh->file_source, entry);
  }
  return 0;
}
