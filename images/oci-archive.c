/* oci-archive.c — `hull image import FILE` of an archive: a tar (plain,
 * gzip or zstd: libarchive's filters) of an image layout, or a docker save
 * archive (docker-archive.c makes a layout of it). Members are unpacked
 * into a fresh directory in the store's tmp/ (gc removes it if hull dies):
 * only regular files whose names are 1 to 3 plain components
 * (image_archive_member_ok), so none lands outside. A symlink member
 * whose target, read from the link's directory, is such a name too
 * becomes a hard link to that member once all are unpacked: docker and
 * podman save write <id>/layer.tar as a link to the layer stored once
 * (`../<hex>.tar`). Any other member is skipped. Then the directory is
 * imported as a layout, which verifies every blob it uses; a blob it
 * needs that was skipped is an error naming it. */
#include "images/images.h"
#include "runtime/vm/libarchive.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 to 3 components of [A-Za-z0-9._-], none starting with a dot: every
 * name a layout (blobs/sha256/<hex>) or a docker save archive
 * (<hex>/layer.tar, <hex>.json) uses, and never an absolute path, "..",
 * or a hidden file. */
bool image_archive_member_ok(const char *name) {
  int components = 0;
  for (const char *p = name; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 0 || p[0] == '.' || ++components > 3)
      return false;
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
        return false;
    p += n;
    if (*p == '/')
      p++;
  }
  return components > 0;
}

/* Member name as its path in the directory, NULL when it is none to take. */
static char *member_path(const char *name) {
  while (strncmp(name, "./", 2) == 0)
    name += 2;
  size_t n = strlen(name);
  cleanup_free char *path = xstrndup(name, n && name[n - 1] == '/' ? n - 1 : n);
  return image_archive_member_ok(path) ? take_ptr(path) : NULL;
}

/* The directories above path, made as needed. */
static int make_parents(int dirfd, const char *path, hull_error_t *err) {
  cleanup_free char *p = xstrdup(path);
  for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    if (mkdirat(dirfd, p, 0700) < 0 && errno != EEXIST)
      return hull_error(err, errno, "mkdir %s", p);
    *s = '/';
  }
  return 0;
}

/* A symlink member, made a hard link after the others are unpacked. */
struct archive_link {
  char *path;     /* the member */
  char *target;   /* the member it names, resolved from path's directory */
};

struct archive_links {
  struct archive_link *v;
  size_t n;
};

static void archive_links_free(struct archive_links *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].path);
    free(l->v[i].target);
  }
  free(l->v);
}
#define cleanup_archive_links __attribute__((cleanup(archive_links_free)))

/* target read from path's directory, without the file system: "..", "."
 * and empty components folded. NULL when it is absolute, climbs out of
 * the archive, or is no member name hull takes. */
static char *link_target(const char *path, const char *target) {
  if (target == NULL || target[0] == '/')
    return NULL;
  const char *slash = strrchr(path, '/');
  cleanup_free char *joined =
      slash ? xasprintf("%.*s/%s", (int)(slash - path), path, target)
            : xstrdup(target);
  cleanup_free char *out = xzalloc(strlen(joined) + 1);
  size_t len = 0;
  for (char *save = NULL, *c = strtok_r(joined, "/", &save); c;
       c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      if (len == 0)
        return NULL;
      char *up = strrchr(out, '/');
      len = up ? (size_t)(up - out) : 0;
      out[len] = '\0';
      continue;
    }
    len += (size_t)sprintf(out + len, "%s%s", len ? "/" : "", c);
  }
  return image_archive_member_ok(out) ? take_ptr(out) : NULL;
}

static void remember_link(struct archive_links *links, const char *path,
                          const char *target) {
  char *resolved = link_target(path, target);
  if (resolved == NULL)
    return; /* skipped, as a member hull does not take */
  links->v = xrealloc(links->v, (links->n + 1) * sizeof(*links->v));
  links->v[links->n++] =
      (struct archive_link){.path = xstrdup(path), .target = resolved};
}

/* Links to links are followed no further: their target is no regular
 * member, and linkat fails on it. */
static int make_links(const struct archive_links *links, const char *file,
                      int dirfd, hull_error_t *err) {
  for (size_t i = 0; i < links->n; i++) {
    const struct archive_link *l = &links->v[i];
    struct stat st;
    if (fstatat(dirfd, l->target, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode))
      continue; /* a link to nothing hull took: skipped as well */
    if (make_parents(dirfd, l->path, err) < 0)
      return hull_error_wrap(err, "%s", file);
    if (linkat(dirfd, l->target, dirfd, l->path, 0) == 0)
      continue;
    if (errno == EEXIST)
      return hull_error(err, 0, "%s: member %s: more than once", file,
                        l->path);
    return hull_error(err, errno, "%s: member %s", file, l->path);
  }
  return 0;
}

static int extract_member(const struct archive_api *a, struct archive *ar,
                          struct archive_entry *e, const char *file,
                          int dirfd, const char *path,
                          struct archive_links *links, hull_error_t *err) {
  if (a->archive_entry_filetype(e) == AE_IFLNK) {
    remember_link(links, path, a->archive_entry_symlink(e));
    return 0;
  }
  if (a->archive_entry_filetype(e) != AE_IFREG)
    return 0;
  if (make_parents(dirfd, path, err) < 0)
    return hull_error_wrap(err, "%s", file);
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL |
                                O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST)
    return hull_error(err, 0, "%s: member %s: more than once", file, path);
  if (fd < 0)
    return hull_error(err, errno, "%s: member %s", file, path);
  const size_t chunk = 256 * 1024;
  cleanup_free char *buf = xmalloc(chunk);
  for (;;) {
    la_ssize_t n = a->archive_read_data(ar, buf, chunk);
    if (n < 0)
      return hull_error(err, 0, "%s: member %s: %s", file, path,
                        a->archive_error_string(ar));
    if (n == 0)
      return 0;
    if (write_all(fd, buf, (size_t)n) < 0)
      return hull_error(err, errno, "%s: member %s: write", file, path);
  }
}

static int extract(const struct archive_api *a, struct archive *ar,
                   const char *file, int dirfd, hull_error_t *err) {
  cleanup_archive_links struct archive_links links = {0};
  struct archive_entry *e;
  int r;
  while ((r = a->archive_read_next_header(ar, &e)) == ARCHIVE_OK ||
         r == ARCHIVE_WARN) {
    cleanup_free char *path = member_path(a->archive_entry_pathname(e));
    if (path &&
        extract_member(a, ar, e, file, dirfd, path, &links, err) < 0)
      return -1;
  }
  if (r != ARCHIVE_EOF)
    return hull_error(err, 0, "%s: %s", file, a->archive_error_string(ar));
  return make_links(&links, file, dirfd, err);
}

static int make_layout_dir(struct image_store *s, char **out, int *dirfd,
                           hull_error_t *err) {
  char *dir = xasprintf("%s/tmp/archive-XXXXXX", image_store_root(s));
  if (mkdtemp(dir) == NULL) {
    free(dir);
    return hull_error(err, errno, "make a directory in `%s/tmp`",
                      image_store_root(s));
  }
  *out = dir;
  static const char *const sub[] = {"blobs", "blobs/sha256", "blobs/sha512"};
  /* Made first, so that an archive's members land in them. */
  *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return hull_error(err, errno, "open `%s`", dir);
  for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++)
    if (mkdirat(*dirfd, sub[i], 0700) < 0 && errno != EEXIST)
      return hull_error(err, errno, "mkdir `%s/%s`", dir, sub[i]);
  return 0;
}

static int unpack(const struct archive_api *a, const char *file, int dirfd,
                  hull_error_t *err) {
  cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", file);
  struct archive *ar = a->archive_read_new();
  if (ar == NULL)
    abort();
  a->archive_read_support_format_tar(ar);
  a->archive_read_support_filter_all(ar);
  int r;
  if (a->archive_read_open_fd(ar, fd, 64 * 1024) != ARCHIVE_OK)
    r = hull_error(err, 0, "%s: %s", file, a->archive_error_string(ar));
  else
    r = extract(a, ar, file, dirfd, err);
  a->archive_read_free(ar);
  return r;
}

int image_import_archive(struct image_store *s, const char *file,
                         const char *name, char ***names, hull_error_t *err) {
  const struct archive_api *a;
  if (archive_api_load(&a, err) < 0)
    return hull_error_wrap(err, "import `%s`", file);
  cleanup_free char *dir = NULL;
  cleanup_close int dirfd = -1;
  int r = make_layout_dir(s, &dir, &dirfd, err);
  if (r == 0)
    r = unpack(a, file, dirfd, err);
  if (r == 0 && faccessat(dirfd, "oci-layout", F_OK, 0) < 0) {
    if (faccessat(dirfd, "manifest.json", F_OK, 0) == 0)
      r = image_docker_archive_to_layout(dirfd, file, err);
    else
      r = hull_error(err, 0, "%s: neither an OCI archive nor a docker save "
                             "archive (no oci-layout or manifest.json "
                             "member)", file);
  }
  if (r == 0)
    r = image_import_layout_as(s, dir, file, name, names, err);
  cleanup_error hull_error_t ignored = NULL;
  if (dir)
    remove_tree(dir, &ignored);
  return r;
}
