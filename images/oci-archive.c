/* oci-archive.c — `hull image import FILE` of an OCI archive: a tar (plain,
 * gzip or zstd: libarchive's filters) of an image layout. Members are
 * written by names made here, never by the archive's: only oci-layout,
 * index.json and blobs/<alg>/<hex> with a valid digest are taken, as
 * regular files, into a fresh directory in the store's tmp/ (gc removes
 * it if hull dies); then the directory is imported as a layout, which
 * verifies every blob it uses. */
#include "images/images.h"
#include "runtime/vm/libarchive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The path in the layout that member `name` is, NULL when it is none. */
static char *layout_path(const char *name) {
  while (strncmp(name, "./", 2) == 0)
    name += 2;
  if (strcmp(name, "oci-layout") == 0 || strcmp(name, "index.json") == 0)
    return xstrdup(name);
  if (strncmp(name, "blobs/", 6) != 0)
    return NULL;
  cleanup_free char *digest = xstrdup(name + 6);
  char *slash = strchr(digest, '/');
  if (slash == NULL)
    return NULL;
  *slash = ':';
  struct image_digest d;
  cleanup_error hull_error_t not_one = NULL;
  if (image_digest_parse(digest, &d, &not_one) < 0)
    return NULL;
  return image_store_blob_path(&d);
}

static int extract_member(const struct archive_api *a, struct archive *ar,
                          struct archive_entry *e, const char *file,
                          int dirfd, const char *path, hull_error_t *err) {
  if (a->archive_entry_filetype(e) != AE_IFREG)
    return hull_error(err, 0, "%s: member %s: not a regular file", file,
                      a->archive_entry_pathname(e));
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
  struct archive_entry *e;
  int r;
  while ((r = a->archive_read_next_header(ar, &e)) == ARCHIVE_OK ||
         r == ARCHIVE_WARN) {
    cleanup_free char *path = layout_path(a->archive_entry_pathname(e));
    if (path && extract_member(a, ar, e, file, dirfd, path, err) < 0)
      return -1;
  }
  if (r != ARCHIVE_EOF)
    return hull_error(err, 0, "%s: %s", file, a->archive_error_string(ar));
  return 0;
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
  *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return hull_error(err, errno, "open `%s`", dir);
  for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++)
    if (mkdirat(*dirfd, sub[i], 0700) < 0)
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
  if (r == 0 && faccessat(dirfd, "oci-layout", F_OK, 0) < 0)
    r = hull_error(err, 0, "%s: not an OCI archive (no oci-layout member; "
                           "docker save archives of Docker before 25 are "
                           "not supported yet)", file);
  if (r == 0)
    r = image_import_layout_as(s, dir, file, name, names, err);
  cleanup_error hull_error_t ignored = NULL;
  if (dir)
    remove_tree(dir, &ignored);
  return r;
}
