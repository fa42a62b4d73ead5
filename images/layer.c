/* layer.c — a layer blob unpacked into a directory overlayfs can use as a
 * lower layer (image-spec layer.md), its diff_id computed on the way.
 *
 * Two libarchive readers in a chain: `raw` decompresses the blob (format
 * "raw", the one filter the media type names), `tar` parses what raw
 * yields through a read callback that also hashes it, so the diff_id is the
 * digest of exactly the uncompressed tar, in one pass. Every entry lands
 * through layer-path.c: relative, beneath the layer directory, never through
 * a symlink that leaves it. Whiteouts become overlayfs whiteouts (a 0:0
 * character device; `.wh..wh..opq`: trusted.overlay.opaque=y). Directory
 * modes and mtimes are set last, when nothing more is written into them. */
#include "images/images.h"
#include "runtime/vm/libarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

struct dir_meta {
  char *path; /* cleaned, relative to the layer directory ("" is itself) */
  mode_t mode;
  struct timespec mtime;
};

struct unpack {
  const struct archive_api *api;
  struct archive *raw; /* the blob, decompressed */
  struct archive *tar; /* parses what raw yields */
  struct image_hasher *hasher;
  uint64_t bytes;
  hull_error_t raw_err; /* why raw stopped, when it failed */
  int dest_fd;
  struct dir_meta *dirs;
  size_t n_dirs, cap_dirs;
};

/* ---- media types ---------------------------------------------------- */

static const struct {
  const char *media_type;
  int filter;
} layer_types[] = {
    {"application/vnd.oci.image.layer.v1.tar", ARCHIVE_FILTER_NONE},
    {"application/vnd.oci.image.layer.v1.tar+gzip", ARCHIVE_FILTER_GZIP},
    {"application/vnd.oci.image.layer.v1.tar+zstd", ARCHIVE_FILTER_ZSTD},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar",
     ARCHIVE_FILTER_NONE},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
     ARCHIVE_FILTER_GZIP},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
     ARCHIVE_FILTER_ZSTD},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", ARCHIVE_FILTER_GZIP},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
     ARCHIVE_FILTER_GZIP},
};

static int layer_filter(const char *media_type, int *filter,
                        hull_error_t *err) {
  for (size_t i = 0; i < sizeof layer_types / sizeof *layer_types; i++)
    if (strcmp(media_type, layer_types[i].media_type) == 0) {
      *filter = layer_types[i].filter;
      return 0;
    }
  return hull_error(err, 0, "layer media type \"%s\": not a layer "
                    "(application/vnd.oci.image.layer.v1.tar, +gzip, +zstd "
                    "or application/vnd.docker.image.rootfs.diff.tar.gzip)",
                    media_type);
}

static const char *filter_name(int filter) {
  return filter == ARCHIVE_FILTER_GZIP   ? "gzip"
         : filter == ARCHIVE_FILTER_ZSTD ? "zstd"
                                         : "uncompressed";
}

/* ---- the two readers ------------------------------------------------ */

/* ARCHIVE_RETRY (a damaged header libarchive could skip) is an error here:
 * a layer is taken whole or not at all. */
static bool read_ok(int r) { return r == ARCHIVE_OK || r == ARCHIVE_WARN; }

static int data_error(struct unpack *u, hull_error_t *err) {
  if (u->raw_err) {
    hull_error_release(err);
    *err = take_ptr(u->raw_err);
    return -1;
  }
  const char *why = u->api->archive_error_string(u->tar);
  return hull_error(err, 0, "layer data: %s", why ? why : "unreadable tar");
}

/* The tar reader's input: the next decompressed block, hashed. */
static la_ssize_t feed_tar(struct archive *a, void *data, const void **block) {
  struct unpack *u = data;
  size_t size = 0;
  la_int64_t offset;
  int r = u->api->archive_read_data_block(u->raw, block, &size, &offset);
  if (r == ARCHIVE_EOF)
    return 0;
  if (!read_ok(r)) {
    const char *why = u->api->archive_error_string(u->raw);
    hull_error(&u->raw_err, 0, "layer data: %s",
               why ? why : "decompression failed");
    return -1;
  }
  image_hasher_update(u->hasher, *block, size);
  u->bytes += size;
  return (la_ssize_t)size;
}

/* Hashes what the tar reader left: the padding after the end marker. */
static int drain_raw(struct unpack *u, hull_error_t *err) {
  const void *block;
  la_ssize_t n;
  while ((n = feed_tar(NULL, u, &block)) > 0)
    ;
  return n < 0 ? data_error(u, err) : 0;
}

static int open_readers(struct unpack *u, int fd, int filter,
                        const char *media_type, hull_error_t *err) {
  const struct archive_api *api = u->api;
  u->raw = api->archive_read_new();
  u->tar = api->archive_read_new();
  if (u->raw == NULL || u->tar == NULL)
    return hull_error(err, ENOMEM, "libarchive");
  if (filter == ARCHIVE_FILTER_GZIP)
    api->archive_read_support_filter_gzip(u->raw);
  else if (filter == ARCHIVE_FILTER_ZSTD)
    api->archive_read_support_filter_zstd(u->raw);
  api->archive_read_support_format_raw(u->raw);
  struct archive_entry *e;
  if (api->archive_read_open_fd(u->raw, fd, 128 * 1024) != ARCHIVE_OK ||
      !read_ok(api->archive_read_next_header(u->raw, &e))) {
    const char *why = api->archive_error_string(u->raw);
    return hull_error(err, 0, "layer data: %s", why ? why : "empty");
  }
  if (api->archive_filter_code(u->raw, 0) != filter)
    return hull_error(err, 0, "layer data: not %s as its media type %s says",
                      filter_name(filter), media_type);
  api->archive_read_support_format_tar(u->tar);
  if (api->archive_read_open(u->tar, u, NULL, feed_tar, NULL) != ARCHIVE_OK)
    return data_error(u, err);
  return 0;
}

/* ---- metadata ------------------------------------------------------- */

/* Where an entry was made: its parent and name, and an fd when one is open
 * (a regular file or a directory); the rest go by (parent, name) without
 * following the last component. */
struct placed {
  const char *entry; /* the name in the tar, for errors */
  int parent;        /* O_PATH */
  const char *name;
  int fd; /* -1: none */
};

static int set_owner(const struct placed *p, struct archive_entry *e,
                     const struct archive_api *api, hull_error_t *err) {
  uid_t uid = (uid_t)api->archive_entry_uid(e);
  gid_t gid = (gid_t)api->archive_entry_gid(e);
  int r = p->fd >= 0 ? fchown(p->fd, uid, gid)
                     : fchownat(p->parent, p->name, uid, gid,
                                AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return hull_error(err, errno, "layer entry \"%s\": chown to %u:%u",
                      p->entry, (unsigned)uid, (unsigned)gid);
  return 0;
}

/* After set_owner: chown clears setuid/setgid and security.capability. */
static int set_xattrs(const struct placed *p, struct archive_entry *e,
                      const struct archive_api *api, hull_error_t *err) {
  if (api->archive_entry_xattr_reset(e) == 0)
    return 0;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d/", p->parent);
  cleanup_free char *path = xasprintf("%s%s", proc, p->name);
  const char *key;
  const void *value;
  size_t size;
  while (api->archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    /* overlayfs's own (redirect, metacopy, origin, opaque...) would make
     * the mount show what the tar does not hold; only whiteouts, converted
     * above, may set them. */
    if (strncmp(key, "trusted.overlay.", 16) == 0 ||
        strncmp(key, "user.overlay.", 13) == 0) {
      log_warning("layer entry \"%s\": xattr %s dropped (overlayfs's own)",
                  p->entry, key);
      continue;
    }
    /* The parent through its fd (the kernel's own link), the name itself
     * not followed: lsetxattr on a symlink sets the symlink's. */
    int r = p->fd >= 0 ? fsetxattr(p->fd, key, value, size, 0)
                       : lsetxattr(path, key, value, size, 0);
    if (r == 0)
      continue;
    if (errno == ENOTSUP) {
      log_warning("layer entry \"%s\": xattr %s skipped: not supported here",
                  p->entry, key);
      continue;
    }
    return hull_error(err, errno, "layer entry \"%s\": xattr %s", p->entry,
                      key);
  }
  return 0;
}

static struct timespec entry_mtime(struct archive_entry *e,
                                   const struct archive_api *api) {
  return (struct timespec){.tv_sec = api->archive_entry_mtime(e),
                           .tv_nsec = api->archive_entry_mtime_nsec(e)};
}

/* Owner, mode, xattrs and mtime of anything but a directory. */
static int set_metadata(const struct placed *p, struct archive_entry *e,
                        const struct archive_api *api, bool is_symlink,
                        hull_error_t *err) {
  if (set_owner(p, e, api, err) < 0)
    return -1;
  mode_t mode = api->archive_entry_mode(e) & 07777;
  if (!is_symlink) {
    int r = p->fd >= 0 ? fchmod(p->fd, mode) : fchmodat(p->parent, p->name,
                                                        mode, 0);
    if (r < 0)
      return hull_error(err, errno, "layer entry \"%s\": chmod %04o",
                        p->entry, (unsigned)mode);
  }
  if (set_xattrs(p, e, api, err) < 0)
    return -1;
  struct timespec t = entry_mtime(e, api);
  struct timespec times[2] = {t, t};
  int r = p->fd >= 0 ? futimens(p->fd, times)
                     : utimensat(p->parent, p->name, times,
                                 AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return hull_error(err, errno, "layer entry \"%s\": set mtime", p->entry);
  return 0;
}

/* ---- making room ---------------------------------------------------- */

/* Removes name in dirfd and all below it, never following a symlink. */
static int remove_at(int dirfd, const char *name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -1;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                   O_CLOEXEC);
  if (fd < 0)
    return -1;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return -1;
  }
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      r = remove_at(fd, de->d_name);
  closedir(d);
  return r < 0 ? -1 : unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* An entry replaces what an earlier one made at its name, as tar does; a
 * directory over a directory keeps it (and its contents): *kept says so. */
static int make_room(const struct placed *p, bool is_dir, bool *kept,
                     hull_error_t *err) {
  struct stat st;
  if (kept)
    *kept = false;
  if (fstatat(p->parent, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0
                           : hull_error(err, errno, "layer entry \"%s\"",
                                        p->entry);
  if (is_dir && S_ISDIR(st.st_mode)) {
    *kept = true;
    return 0;
  }
  if (remove_at(p->parent, p->name) < 0)
    return hull_error(err, errno, "layer entry \"%s\": replacing what an "
                      "earlier entry made", p->entry);
  return 0;
}

/* ---- entries -------------------------------------------------------- */

/* A directory's mode and mtime, for finish_dirs. */
static void push_dir(struct unpack *u, const char *clean,
                     struct archive_entry *e) {
  if (u->n_dirs == u->cap_dirs)
    u->dirs = xrealloc(u->dirs, (u->cap_dirs = u->cap_dirs * 2 + 16) *
                                    sizeof *u->dirs);
  u->dirs[u->n_dirs++] = (struct dir_meta){
      .path = xstrdup(clean),
      .mode = u->api->archive_entry_mode(e) & 07777,
      .mtime = entry_mtime(e, u->api),
  };
}

static int unpack_dir(struct unpack *u, struct archive_entry *e,
                      struct placed *p, const char *clean,
                      hull_error_t *err) {
  bool kept;
  if (make_room(p, true, &kept, err) < 0)
    return -1;
  if (!kept && mkdirat(p->parent, p->name, 0700) < 0)
    return hull_error(err, errno, "layer entry \"%s\": mkdir", p->entry);
  cleanup_close int fd = openat(p->parent, p->name, O_RDONLY | O_DIRECTORY |
                                                        O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "layer entry \"%s\": open", p->entry);
  p->fd = fd;
  if (set_owner(p, e, u->api, err) < 0 || set_xattrs(p, e, u->api, err) < 0)
    return -1;
  push_dir(u, clean, e);
  return 0;
}

static int write_contents(struct unpack *u, int fd, const char *entry,
                          int64_t size, hull_error_t *err) {
  for (;;) {
    const void *block;
    size_t len;
    la_int64_t offset;
    int r = u->api->archive_read_data_block(u->tar, &block, &len, &offset);
    if (r == ARCHIVE_EOF)
      break;
    if (!read_ok(r))
      return data_error(u, err);
    /* Offsets skip the holes of a sparse file. */
    const char *b = block;
    while (len > 0) {
      ssize_t n = pwrite(fd, b, len, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hull_error(err, errno, "layer entry \"%s\": write", entry);
      b += n;
      len -= (size_t)n;
      offset += n;
    }
  }
  if (ftruncate(fd, size) < 0)
    return hull_error(err, errno, "layer entry \"%s\": truncate", entry);
  return 0;
}

static int unpack_file(struct unpack *u, struct archive_entry *e,
                       struct placed *p, hull_error_t *err) {
  if (make_room(p, false, NULL, err) < 0)
    return -1;
  cleanup_close int fd = openat(p->parent, p->name, O_WRONLY | O_CREAT |
                                    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return hull_error(err, errno, "layer entry \"%s\": create", p->entry);
  if (write_contents(u, fd, p->entry, u->api->archive_entry_size(e), err) < 0)
    return -1;
  p->fd = fd;
  return set_metadata(p, e, u->api, false, err);
}

/* The target is data: it is read only inside the container's rootfs. */
static int unpack_symlink(struct unpack *u, struct archive_entry *e,
                          struct placed *p, hull_error_t *err) {
  const char *target = u->api->archive_entry_symlink(e);
  if (target == NULL)
    return hull_error(err, 0, "layer entry \"%s\": symlink without a "
                      "target", p->entry);
  if (make_room(p, false, NULL, err) < 0)
    return -1;
  if (symlinkat(target, p->parent, p->name) < 0)
    return hull_error(err, errno, "layer entry \"%s\": symlink", p->entry);
  return set_metadata(p, e, u->api, true, err);
}

/* A hard link's target must be an earlier entry of this layer, reached
 * beneath the layer directory. The link shares the target's inode, so the
 * entry's own metadata is not applied (it would change the target's). */
static int unpack_hardlink(struct unpack *u, const char *target_raw,
                           struct placed *p, hull_error_t *err) {
  cleanup_free char *what = xasprintf("hard link to \"%s\"", target_raw);
  cleanup_free char *target = NULL;
  if (layer_path_clean(target_raw, &target) < 0 || *target == '\0')
    return layer_entry_error(p->entry, what, EXDEV, err);
  const char *slash = strrchr(target, '/');
  const char *target_name = slash ? slash + 1 : target;
  cleanup_free char *up = slash ? xstrndup(target, (size_t)(slash - target))
                                : xstrdup("");
  cleanup_close int up_fd =
      layer_open_beneath(u->dest_fd, up, O_PATH | O_DIRECTORY, 0);
  struct stat st;
  if (up_fd < 0 || fstatat(up_fd, target_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return layer_entry_error(p->entry, what, errno, err);
  struct stat here;
  if (fstatat(p->parent, p->name, &here, AT_SYMLINK_NOFOLLOW) == 0 &&
      here.st_dev == st.st_dev && here.st_ino == st.st_ino)
    return 0; /* already that file */
  if (make_room(p, false, NULL, err) < 0)
    return -1;
  if (linkat(up_fd, target_name, p->parent, p->name, 0) < 0)
    return hull_error(err, errno, "layer entry \"%s\": %s", p->entry, what);
  return 0;
}

/* Devices and fifos. Without CAP_MKNOD (rootless) a device is skipped, as
 * rootless engines do: the container gets its /dev from the runtime. */
static int unpack_node(struct unpack *u, struct archive_entry *e,
                       struct placed *p, mode_t type, hull_error_t *err) {
  if (make_room(p, false, NULL, err) < 0)
    return -1;
  dev_t dev = type == S_IFIFO
                  ? 0
                  : makedev(u->api->archive_entry_rdevmajor(e),
                            u->api->archive_entry_rdevminor(e));
  if (mknodat(p->parent, p->name, type | 0600, dev) < 0) {
    if (errno == EPERM && type != S_IFIFO) {
      log_warning("layer entry \"%s\": device node skipped (no CAP_MKNOD)",
                  p->entry);
      return 0;
    }
    return hull_error(err, errno, "layer entry \"%s\": mknod", p->entry);
  }
  return set_metadata(p, e, u->api, false, err);
}

/* `.wh.NAME` hides NAME of the layers below: an overlayfs whiteout. One
 * for a name this layer made itself hides nothing (layer.md: whiteouts
 * apply to lower layers only). `.wh..wh..opq` makes its directory opaque;
 * other `.wh..wh.` names are aufs bookkeeping, not content. */
static int unpack_whiteout(struct placed *p, hull_error_t *err) {
  if (strcmp(p->name, OPAQUE_MARKER) == 0) {
    cleanup_close int dir = openat(p->parent, ".", O_RDONLY | O_DIRECTORY |
                                                       O_CLOEXEC);
    if (dir < 0 || fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0)
      return hull_error(err, errno, "layer entry \"%s\": opaque directory "
                        "(trusted.overlay.opaque)", p->entry);
    return 0;
  }
  if (strncmp(p->name, WHITEOUT_PREFIX WHITEOUT_PREFIX, 8) == 0)
    return 0;
  const char *hidden = p->name + strlen(WHITEOUT_PREFIX);
  if (*hidden == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
    return hull_error(err, 0, "layer entry \"%s\": a whiteout that names "
                      "no file", p->entry);
  struct stat st;
  if (fstatat(p->parent, hidden, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (mknodat(p->parent, hidden, S_IFCHR | 0000, makedev(0, 0)) < 0)
    return hull_error(err, errno, "layer entry \"%s\": whiteout", p->entry);
  return 0;
}

static int unpack_entry(struct unpack *u, struct archive_entry *e,
                        hull_error_t *err) {
  const struct archive_api *api = u->api;
  const char *entry = api->archive_entry_pathname(e);
  if (entry == NULL)
    return hull_error(err, 0, "layer entry without a name");
  mode_t type = api->archive_entry_filetype(e);
  const char *hardlink = api->archive_entry_hardlink(e);
  cleanup_free char *clean = NULL;
  if (layer_path_clean(entry, &clean) < 0)
    return layer_entry_error(entry, "", EXDEV, err);
  if (*clean == '\0') {
    if (type != AE_IFDIR || hardlink)
      return hull_error(err, 0, "layer entry \"%s\": names the layer "
                        "directory but is not a directory", entry);
    struct placed root = {.entry = entry, .parent = u->dest_fd, .name = ".",
                          .fd = u->dest_fd};
    if (set_owner(&root, e, api, err) < 0 || set_xattrs(&root, e, api, err) < 0)
      return -1;
    push_dir(u, "", e);
    return 0;
  }
  struct placed p = {.entry = entry, .fd = -1};
  cleanup_close int parent =
      layer_open_parent(u->dest_fd, entry, clean, &p.name, err);
  if (parent < 0)
    return -1;
  p.parent = parent;
  if (strncmp(p.name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
    return unpack_whiteout(&p, err);
  if (hardlink)
    return unpack_hardlink(u, hardlink, &p, err);
  switch (type) {
  case AE_IFDIR:
    return unpack_dir(u, e, &p, clean, err);
  case AE_IFREG:
    return unpack_file(u, e, &p, err);
  case AE_IFLNK:
    return unpack_symlink(u, e, &p, err);
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO:
    return unpack_node(u, e, &p, type, err);
  default:
    return hull_error(err, 0, "layer entry \"%s\": unsupported file type "
                      "0%o", entry, (unsigned)type);
  }
}

/* Modes and mtimes of directories, now that nothing more is written into
 * them. One a later entry replaced is no longer a directory: skipped. */
static int finish_dirs(struct unpack *u, hull_error_t *err) {
  for (size_t i = 0; i < u->n_dirs; i++) {
    const struct dir_meta *d = &u->dirs[i];
    cleanup_close int fd = layer_open_beneath(
        u->dest_fd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd < 0)
      continue;
    struct timespec times[2] = {d->mtime, d->mtime};
    if (fchmod(fd, d->mode) < 0 || futimens(fd, times) < 0)
      return hull_error(err, errno, "layer entry \"%s\": directory mode "
                        "and mtime", *d->path ? d->path : ".");
  }
  return 0;
}

static void unpack_free(struct unpack *u) {
  if (u->tar)
    u->api->archive_read_free(u->tar);
  if (u->raw)
    u->api->archive_read_free(u->raw);
  image_hasher_free(u->hasher);
  hull_error_release(&u->raw_err);
  for (size_t i = 0; i < u->n_dirs; i++)
    free(u->dirs[i].path);
  free(u->dirs);
  if (u->dest_fd >= 0)
    close(u->dest_fd);
}

static int unpack_all(struct unpack *u, int fd, const char *media_type,
                      struct image_layer_unpacked *out, hull_error_t *err) {
  int filter = ARCHIVE_FILTER_NONE;
  if (layer_filter(media_type, &filter, err) < 0 ||
      archive_api_load(&u->api, err) < 0 ||
      open_readers(u, fd, filter, media_type, err) < 0)
    return -1;
  for (;;) {
    struct archive_entry *e;
    int r = u->api->archive_read_next_header(u->tar, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (!read_ok(r))
      return data_error(u, err);
    if (unpack_entry(u, e, err) < 0)
      return -1;
  }
  if (drain_raw(u, err) < 0 || finish_dirs(u, err) < 0)
    return -1;
  image_hasher_finish(take_ptr(u->hasher), &out->diff_id);
  out->bytes = u->bytes;
  return 0;
}

int image_layer_unpack(int fd, const char *media_type, const char *dest,
                       struct image_layer_unpacked *out, hull_error_t *err) {
  struct unpack u = {.dest_fd = -1};
  u.dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u.dest_fd < 0)
    return hull_error(err, errno, "layer directory \"%s\"", dest);
  u.hasher = image_hasher_new(IMAGE_SHA256);
  int r = unpack_all(&u, fd, media_type, out, err);
  unpack_free(&u);
  return r;
}
