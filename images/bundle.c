/* bundle.c — a runtime bundle made from an image: BUNDLE/rootfs an
 * overlayfs of the image's unpacked layers (layers.c) with its upper and
 * work directories in BUNDLE/.upper and BUNDLE/.work, or, where overlayfs
 * cannot be had, a full copy of the layers applied in order; BUNDLE/config.json
 * from the image config (convert.c); BUNDLE/.hull-image recording what the
 * bundle uses, so gc keeps it and umount knows what to undo. */
#include "images/images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RECORD ".hull-image"

/* ---- the copy fallback ------------------------------------------------------ */

/* The files of one layer with more than one name, by inode: a second
 * name is linked to the first copy, so hard links stay links. maps: a
 * user-namespaced container's, whose copy is owned as its idmapped
 * overlay would show it (NULL: as in the layer). */
struct copy_links {
  struct copied { dev_t dev; ino_t ino; char *dst; } *v;
  size_t n;
  const struct image_id_maps *maps;
};

static const char *copied_as(const struct copy_links *l, const struct stat *st) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].dev == st->st_dev && l->v[i].ino == st->st_ino)
      return l->v[i].dst;
  return NULL;
}

static void remember_copy(struct copy_links *l, const struct stat *st,
                          const char *dst) {
  l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
  l->v[l->n++] = (struct copied){st->st_dev, st->st_ino, xstrdup(dst)};
}

static void copy_links_free(struct copy_links *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].dst);
  free(l->v);
}

static int copy_layer_dir(const char *src, const char *dst,
                          struct copy_links *links, hull_error_t *err);

static bool is_whiteout(const struct stat *st) {
  return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(const char *dir) {
  char v[2];
  ssize_t n = lgetxattr(dir, "trusted.overlay.opaque", v, sizeof(v));
  return n == 1 && v[0] == 'y';
}

/* The layer's xattrs but overlayfs's own (the opaque mark was applied);
 * after the chown, which clears security.capability. */
static int copy_xattrs(const char *src, const char *dst, hull_error_t *err) {
  char names[4096];
  ssize_t n = llistxattr(src, names, sizeof(names));
  if (n < 0)
    return errno == ENOTSUP ? 0
                            : hull_error(err, errno, "copy layer: xattrs of "
                                                     "`%s`", src);
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    if (strncmp(name, "trusted.overlay.", 16) == 0)
      continue;
    char value[4096];
    ssize_t len = lgetxattr(src, name, value, sizeof(value));
    if (len < 0)
      return hull_error(err, errno, "copy layer: xattr %s of `%s`", name, src);
    if (lsetxattr(dst, name, value, (size_t)len, 0) < 0)
      return hull_error(err, errno, "copy layer: xattr %s on `%s`", name, dst);
  }
  return 0;
}

static int copy_metadata(const char *src, const char *dst,
                         const struct stat *st,
                         const struct image_id_maps *maps, hull_error_t *err) {
  uid_t uid = maps ? image_id_maps_host_uid(maps, st->st_uid) : st->st_uid;
  gid_t gid = maps ? image_id_maps_host_gid(maps, st->st_gid) : st->st_gid;
  if (lchown(dst, uid, gid) < 0)
    return hull_error(err, errno, "copy layer: chown `%s`", dst);
  if (copy_xattrs(src, dst, err) < 0)
    return -1;
  if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
    return hull_error(err, errno, "copy layer: chmod `%s`", dst);
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  utimensat(AT_FDCWD, dst, t, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int copy_file(const char *src, const char *dst, const struct stat *st,
                     hull_error_t *err) {
  cleanup_close int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return hull_error(err, errno, "copy layer: open `%s`", src);
  cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                        O_CLOEXEC, st->st_mode & 0777);
  if (out < 0)
    return hull_error(err, errno, "copy layer: make `%s`", dst);
  return copy_fd_contents(in, out, src, err);
}

/* One entry of a layer over what the rootfs holds at dst. */
static int copy_entry(const char *src, const char *dst,
                      struct copy_links *links, hull_error_t *err) {
  struct stat st, old;
  if (lstat(src, &st) < 0)
    return hull_error(err, errno, "copy layer: stat `%s`", src);
  bool exists = lstat(dst, &old) == 0;
  if (S_ISDIR(st.st_mode) && exists && S_ISDIR(old.st_mode)) {
    if (is_opaque(src)) { /* the lower layers' contents are hidden */
      if (remove_tree(dst, err) < 0 || mkdir(dst, 0700) < 0)
        return hull_error_wrap(err, "copy layer: `%s`", dst);
    }
  } else if (exists && remove_tree(dst, err) < 0) {
    return hull_error_wrap(err, "copy layer");
  }
  if (is_whiteout(&st))
    return 0;
  int r = 0;
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(dst, 0700) < 0 && errno != EEXIST)
      return hull_error(err, errno, "copy layer: mkdir `%s`", dst);
    r = copy_layer_dir(src, dst, links, err);
  } else if (S_ISREG(st.st_mode) && st.st_nlink > 1 &&
             copied_as(links, &st)) {
    if (link(copied_as(links, &st), dst) < 0)
      return hull_error(err, errno, "copy layer: link `%s`", dst);
    return 0;
  } else if (S_ISREG(st.st_mode)) {
    r = copy_file(src, dst, &st, err);
    if (r == 0 && st.st_nlink > 1)
      remember_copy(links, &st, dst);
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(src, target, sizeof(target) - 1);
    if (n < 0)
      return hull_error(err, errno, "copy layer: readlink `%s`", src);
    target[n] = '\0';
    if (symlink(target, dst) < 0)
      r = hull_error(err, errno, "copy layer: symlink `%s`", dst);
  } else if (mknod(dst, st.st_mode, st.st_rdev) < 0) {
    r = hull_error(err, errno, "copy layer: mknod `%s`", dst);
  }
  return r < 0 ? -1 : copy_metadata(src, dst, &st, links->maps, err);
}

static int copy_layer_dir(const char *src, const char *dst,
                          struct copy_links *links, hull_error_t *err) {
  DIR *d = opendir(src);
  if (d == NULL)
    return hull_error(err, errno, "copy layer: open `%s`", src);
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *s = xasprintf("%s/%s", src, e->d_name);
    cleanup_free char *t = xasprintf("%s/%s", dst, e->d_name);
    r = copy_entry(s, t, links, err);
  }
  closedir(d);
  return r;
}

/* The layers (bottom first) copied into rootfs in order, whiteouts and
 * opaque directories applied as overlayfs would. */
static int copy_layers(char *const *dirs, const char *rootfs,
                       const struct image_id_maps *maps, hull_error_t *err) {
  for (size_t i = 0; dirs && dirs[i]; i++) {
    struct stat st;
    struct copy_links links = {.maps = maps};
    int r = copy_layer_dir(dirs[i], rootfs, &links, err);
    copy_links_free(&links);
    if (r < 0)
      return -1;
    /* The layer's root directory gives the rootfs its owner and mode. */
    if (stat(dirs[i], &st) == 0 &&
        copy_metadata(dirs[i], rootfs, &st, maps, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- overlayfs ---------------------------------------------------------------- */

static int mount_overlay(char *const *dirs, const char *bundle,
                         const char *rootfs, hull_error_t *err) {
  size_t n = strv_len(dirs);
  if (n == 0)
    return hull_error(err, 0, "image has no layers: overlayfs needs one");
  size_t len = 0;
  /* The option string separates paths with ':' and options with ','. */
  if (strpbrk(bundle, ":,\\"))
    return hull_error(err, EINVAL, "overlayfs: path `%s` holds ':', ',' or "
                                   "'\\'", bundle);
  for (size_t i = 0; i < n; i++) {
    if (strpbrk(dirs[i], ":,\\"))
      return hull_error(err, EINVAL, "overlayfs: path `%s` holds ':', ',' "
                                     "or '\\'", dirs[i]);
    len += strlen(dirs[i]) + 1;
  }
  cleanup_free char *lower = xzalloc(len + 1);
  for (size_t i = n; i-- > 0;) { /* overlayfs wants the top layer first */
    if (i != n - 1)
      strcat(lower, ":");
    strcat(lower, dirs[i]);
  }
  cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s/.upper,"
                                      "workdir=%s/.work", lower, bundle,
                                      bundle);
  if (mount("overlay", rootfs, "overlay", 0, opts) < 0)
    return hull_error(err, errno, "mount overlayfs on `%s`", rootfs);
  return 0;
}

/* ---- bundles -------------------------------------------------------------- */

static int write_record(struct image_store *s, const char *bundle,
                        const struct image_resolved *r,
                        const char *ref, enum image_rootfs_mode mode,
                        const char *owner, const char *notes,
                        hull_error_t *err) {
  /* One fact a line: what gc must keep and how umount undoes it; the
   * store absolute, as umount may run from elsewhere. */
  cleanup_free char *store = realpath(image_store_root(s), NULL);
  cleanup_free char *text = xasprintf(
      "ref %s\nowner %s\nstore %s\nrootfs %s\nblob %s\nblob %s\nblob %s\n",
      ref, owner, store ? store : image_store_root(s),
      mode == IMAGE_ROOTFS_COPY ? "copy" : "overlay", r->target.digest.text,
      r->manifest_desc.digest.text, r->manifest->config.digest.text);
  for (size_t i = 0; i < r->manifest->n_layers; i++) {
    char *more = xasprintf("%sblob %s\n", text,
                           r->manifest->layers[i].digest.text);
    free(text);
    text = more;
  }
  for (size_t i = 0; i < r->config->n_diff_ids; i++) {
    char *more = xasprintf("%slayer %s\n", text, r->config->diff_ids[i].text);
    free(text);
    text = more;
  }
  if (notes) {
    char *more = xasprintf("%s%s", text, notes);
    free(text);
    text = more;
  }
  cleanup_free char *path = xasprintf("%s/" RECORD, bundle);
  return write_file_atomic(path, text, strlen(text), 0600, err);
}

bool image_bundle_owned_by(const char *bundle, const char *owner) {
  cleanup_strv char **lines = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (image_bundle_record(bundle, &lines, &ignored) < 0)
    return false;
  cleanup_free char *want = xasprintf("owner %s", owner);
  for (char **l = lines; *l; l++)
    if (strcmp(*l, want) == 0)
      return true;
  return false;
}

bool image_bundle_is(const char *bundle) {
  cleanup_free char *path = xasprintf("%s/" RECORD, bundle);
  return access(path, F_OK) == 0;
}

int image_bundle_record(const char *bundle, char ***lines, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/" RECORD, bundle);
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file(path, &text, &len, err) < 0)
    return -1;
  char **out = NULL;
  for (char *save, *l = strtok_r(text, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save))
    strv_append(&out, l);
  *lines = out;
  return 0;
}

/* <store>/mounts/<sha256 of the bundle's path>: a symlink to a bundle
 * `hull image mount` made, so gc finds its record wherever it is. */
static char *mount_link(const char *store, const char *bundle) {
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, bundle, strlen(bundle), &d);
  return xasprintf("%s/mounts/%s", store, image_digest_hex(&d));
}

static int register_mount(struct image_store *s, const char *bundle,
                          hull_error_t *err) {
  cleanup_free char *store = realpath(image_store_root(s), NULL);
  if (store == NULL)
    return hull_error(err, errno, "store `%s`", image_store_root(s));
  cleanup_free char *dir = xasprintf("%s/mounts", store);
  if (mkdir_p(dir, 0700, err) < 0)
    return -1;
  cleanup_free char *link = mount_link(store, bundle);
  if (symlink(bundle, link) < 0 && errno != EEXIST)
    return hull_error(err, errno, "bundle: make `%s`", link);
  return 0;
}

/* Drops the bundle's mounts/ link, named by its record's "store". */
static void unregister_mount(const char *bundle) {
  cleanup_strv char **lines = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (image_bundle_record(bundle, &lines, &ignored) < 0)
    return;
  for (char **l = lines; *l; l++)
    if (strncmp(*l, "store ", 6) == 0) {
      cleanup_free char *link = mount_link(*l + 6, bundle);
      unlink(link);
    }
}

static int unmount_rootfs(const char *rootfs, hull_error_t *err) {
  if (umount2(rootfs, UMOUNT_NOFOLLOW) == 0 || errno == EINVAL ||
      errno == ENOENT)
    return 0;
  return hull_error(err, errno, "unmount `%s`", rootfs);
}

int image_bundle_remove(const char *bundle_arg, hull_error_t *err) {
  cleanup_free char *bundle = realpath(bundle_arg, NULL);
  if (bundle == NULL)
    return hull_error(err, errno, "bundle `%s`", bundle_arg);
  if (image_bundle_owned_by(bundle, "mount"))
    unregister_mount(bundle);
  cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
  if (unmount_rootfs(rootfs, err) < 0 ||
      image_idmapped_lowers_remove(bundle, err) < 0)
    return -1;
  const char *const made[] = {"rootfs", ".upper", ".work", "config.json",
                              RECORD};
  for (size_t i = 0; i < sizeof(made) / sizeof(*made); i++) {
    cleanup_free char *p = xasprintf("%s/%s", bundle, made[i]);
    if (remove_tree(p, err) < 0)
      return -1;
  }
  return 0;
}

/* .upper and .work, the container root's with maps: the merged root
 * directory is the upper one, so it owns its "/" and what it writes. */
static int make_upper(const char *bundle, const struct image_id_maps *maps,
                      hull_error_t *err) {
  const char *const dirs[] = {".upper", ".work"};
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *p = xasprintf("%s/%s", bundle, dirs[i]);
    if (mkdir_p(p, i == 0 ? 0755 : 0700, err) < 0)
      return -1;
    if (maps && chown(p, image_id_maps_host_uid(maps, 0),
                      image_id_maps_host_gid(maps, 0)) < 0)
      return hull_error(err, errno, "bundle: chown `%s`", p);
  }
  return 0;
}

/* The overlay of a user-namespaced container: on the layers' idmapped
 * clones, which go again once it holds its own. Where the overlay cannot
 * be had on them, the same overlay on the plain layers tells whether
 * overlayfs refuses idmapped lowers or anything at all. */
static int mount_idmapped_overlay(char *const *dirs, const char *bundle,
                                  const char *rootfs,
                                  const struct image_id_maps *maps,
                                  hull_error_t *err) {
  cleanup_strv char **lowers = NULL;
  int r = image_idmapped_lowers(dirs, bundle, maps, &lowers, err);
  if (r == 0 && mount_overlay(lowers, bundle, rootfs, err) < 0) {
    r = -1;
    cleanup_error hull_error_t plain = NULL;
    if (mount_overlay(dirs, bundle, rootfs, &plain) == 0) {
      umount2(rootfs, UMOUNT_NOFOLLOW);
      hull_error_wrap(err, "overlayfs refuses idmapped lowers (--copy or "
                           "HULL_IMAGE_ROOTFS=copy makes a chowned copy)");
    }
  }
  cleanup_error hull_error_t detach_err = NULL;
  if (image_idmapped_lowers_remove(bundle, &detach_err) < 0 && r == 0) {
    umount2(rootfs, UMOUNT_NOFOLLOW);
    *err = detach_err;
    detach_err = NULL;
    return -1;
  }
  return r;
}

static int make_rootfs(char *const *dirs, const char *bundle,
                       const char *rootfs, const struct image_id_maps *maps,
                       enum image_rootfs_mode *mode, hull_error_t *err) {
  /* A chowned copy costs a copy of every layer: only when asked. */
  if (maps && *mode == IMAGE_ROOTFS_AUTO)
    *mode = IMAGE_ROOTFS_OVERLAY;
  if (*mode != IMAGE_ROOTFS_COPY) {
    if (make_upper(bundle, maps, err) < 0)
      return -1;
    cleanup_error hull_error_t overlay_err = NULL;
    if (maps)
      return mount_idmapped_overlay(dirs, bundle, rootfs, maps, err);
    if (mount_overlay(dirs, bundle, rootfs, &overlay_err) == 0)
      return 0;
    int e = overlay_err->errno_value;
    /* No overlayfs, or one that refuses these directories: copy. */
    if (*mode == IMAGE_ROOTFS_OVERLAY ||
        (e != ENODEV && e != EINVAL && e != EPERM && e != 0)) {
      *err = overlay_err;
      overlay_err = NULL;
      return -1;
    }
    cleanup_free char *upper = xasprintf("%s/.upper", bundle);
    cleanup_free char *work = xasprintf("%s/.work", bundle);
    rmdir(upper);
    rmdir(work);
    *mode = IMAGE_ROOTFS_COPY;
  }
  return copy_layers(dirs, rootfs, maps, err);
}

static int make_bundle(struct image_store *s, const struct image_resolved *r,
                       const char *ref, const char *bundle,
                       const struct image_run_options *o,
                       enum image_rootfs_mode mode, const char *owner,
                       const char *notes, hull_error_t *err) {
  cleanup_strv char **dirs = NULL;
  if (image_layers_unpack(s, r, &dirs, err) < 0)
    return -1;
  cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
  if (mkdir(rootfs, 0755) < 0)
    return hull_error(err, errno, "bundle: mkdir `%s`", rootfs);
  /* The record first: a bundle is undone by what it says it holds. */
  if (write_record(s, bundle, r, ref, mode, owner, notes, err) < 0 ||
      make_rootfs(dirs, bundle, rootfs, o->id_maps, &mode, err) < 0 ||
      write_record(s, bundle, r, ref, mode, owner, notes, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (image_runtime_config(r->raw_config, rootfs, o, &json, err) < 0)
    return -1;
  cleanup_free char *config = xasprintf("%s/config.json", bundle);
  if (write_file_atomic(config, json, strlen(json), 0644, err) < 0)
    return -1;
  return strcmp(owner, "mount") == 0 ? register_mount(s, bundle, err) : 0;
}

/* The runtime reaches a user-namespaced container's rootfs as the
 * container's root, whose host uid must be able to search every directory
 * from / to the bundle: a child with its host ids tries each, top down,
 * and names the first that stops it. */
static int check_reachable(const char *bundle, const struct image_id_maps *m,
                           hull_error_t *err) {
  uid_t uid = image_id_maps_host_uid(m, 0);
  gid_t gid = image_id_maps_host_gid(m, 0);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return hull_error(err, e, "fork");
  }
  if (child == 0) {
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0)
      _exit(2);
    for (size_t i = 1;; i++)
      if (bundle[i] == '/' || bundle[i] == '\0') {
        cleanup_free char *dir = xstrndup(bundle, i);
        if (access(dir, X_OK) < 0) {
          write_all(pipefd[1], dir, strlen(dir));
          _exit(1);
        }
        if (bundle[i] == '\0')
          _exit(0);
      }
  }
  close(pipefd[1]);
  char dir[PATH_MAX] = "";
  ssize_t n = read_all(pipefd[0], dir, sizeof(dir) - 1);
  close(pipefd[0]);
  dir[n > 0 ? n : 0] = '\0';
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
    return hull_error(err, 0, "--uidmap: the container's root (host uid %u) "
                              "cannot search `%s`, on the way to its rootfs",
                      (unsigned)uid, dir);
  return hull_error(err, 0, "--uidmap: cannot take host uid %u to check "
                            "the way to the rootfs", (unsigned)uid);
}

int image_bundle_make(struct image_store *s, const char *ref,
                      const char *bundle_arg, const struct image_run_options *o,
                      enum image_rootfs_mode mode, const char *owner,
                      const char *notes, hull_error_t *err) {
  /* Searchable by others with maps: the container's root goes through. */
  if (mkdir_p(bundle_arg, o->id_maps ? 0711 : 0700, err) < 0)
    return -1;
  cleanup_free char *bundle = realpath(bundle_arg, NULL);
  if (bundle == NULL)
    return hull_error(err, errno, "bundle `%s`", bundle_arg);
  if (o->id_maps && check_reachable(bundle, o->id_maps, err) < 0)
    return -1;
  const char *const taken[] = {"config.json", "rootfs", RECORD};
  for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++) {
    cleanup_free char *p = xasprintf("%s/%s", bundle, taken[i]);
    if (access(p, F_OK) == 0)
      return hull_error(err, EEXIST, "bundle `%s`: %s exists already", bundle,
                        taken[i]);
  }
  struct image_resolved r;
  if (image_resolve(s, ref, NULL, &r, err) < 0)
    return -1;
  int ret = make_bundle(s, &r, ref, bundle, o, mode, owner, notes, err);
  image_resolved_clear(&r);
  if (ret < 0) {
    cleanup_error hull_error_t ignored = NULL;
    image_bundle_remove(bundle, &ignored);
  }
  return ret;
}
