/* import.c — `hull image import DIR`: an OCI image layout directory
 * (image-layout.md) into the store (oci-archive.c unpacks an archive of
 * one into the store's tmp/ and comes here). Each blob index.json reaches is copied
 * into the store, which checks its size and digest; an index or manifest
 * is parsed only from the store's verified copy, and its children copied
 * next. Names are written last (the naming rule is in images.h), so a
 * failed import names nothing and leaves only unnamed blobs for gc. */
#include "images/images.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 8

struct layout {
  const char *dir;      /* what errors and the bare-tag rule call it */
  int dirfd;
  struct image_store *store;
};

static int check_oci_layout(struct layout *l, hull_error_t *err) {
  cleanup_free char *json = NULL;
  cleanup_free char *what = xasprintf("%s/oci-layout", l->dir);
  if (read_file_at(l->dirfd, "oci-layout", &json, NULL, err) < 0) {
    if ((*err)->errno_value == ENOENT)
      return hull_error(err, 0, "%s: not an OCI image layout (no oci-layout "
                                "file)", l->dir);
    return -1;
  }
  char msg[256] = "";
  yajl_val root = yajl_tree_parse(json, msg, sizeof(msg));
  const char *path[] = {"imageLayoutVersion", NULL};
  yajl_val v = root ? yajl_tree_get(root, path, yajl_t_string) : NULL;
  int r = 0;
  if (root == NULL || !YAJL_IS_OBJECT(root))
    r = hull_error(err, 0, "%s: not a JSON object", what);
  else if (v == NULL)
    r = hull_error(err, 0, "%s: .imageLayoutVersion: missing (or not a "
                           "string)", what);
  else if (strcmp(v->u.string, "1.0.0") != 0)
    r = hull_error(err, 0, "%s: .imageLayoutVersion: \"%s\" is not a "
                           "version hull reads (1.0.0)", what,
                   v->u.string);
  yajl_tree_free(root);
  return r;
}

static int copy_blob(struct layout *l, const struct image_descriptor *d,
                     hull_error_t *err) {
  if (image_store_has(l->store, &d->digest)) {
    /* Verified when stored; this descriptor's size is checked here. */
    cleanup_close int fd = -1;
    return image_store_open_blob(l->store, &d->digest, d->size, false, &fd,
                                 err);
  }
  cleanup_free char *path = image_store_blob_path(&d->digest);
  cleanup_close int fd =
      openat(l->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    return hull_error(err, errno, "blob %s: open `%s/%s`", d->digest.text,
                      l->dir, path);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return hull_error(err, 0, "blob %s: `%s/%s` is not a regular file",
                      d->digest.text, l->dir, path);
  return image_store_put_fd(l->store, &d->digest, d->size, fd, err);
}

static int copy_tree(struct layout *l, const struct image_descriptor *d,
                     int depth, hull_error_t *err) {
  if (copy_blob(l, d, err) < 0)
    return -1;
  if (depth > MAX_DEPTH)
    return hull_error(err, 0, "index %s: nested deeper than %d",
                      d->digest.text, MAX_DEPTH);
  int r = 0;
  switch (image_media_kind(d->media_type)) {
  case IMAGE_KIND_INDEX: {
    struct image_index *ix = NULL;
    if (image_load_index(l->store, d, &ix, NULL, err) < 0)
      return -1;
    for (size_t i = 0; r == 0 && i < ix->n_manifests; i++)
      r = copy_tree(l, &ix->manifests[i], depth + 1, err);
    image_index_free(ix);
    return r;
  }
  case IMAGE_KIND_MANIFEST: {
    struct image_manifest *m = NULL;
    if (image_load_manifest(l->store, d, &m, NULL, err) < 0)
      return -1;
    r = copy_blob(l, &m->config, err);
    for (size_t i = 0; r == 0 && i < m->n_layers; i++)
      r = copy_blob(l, &m->layers[i], err);
    image_manifest_free(m);
    return r;
  }
  default:
    return 0;   /* unknown media types are copied, not parsed */
  }
}

/* ---- names ----------------------------------------------------------------- */

/* Whether a name the user gave carries its own tag or digest. */
static bool has_tag(const char *name) {
  const char *slash = strrchr(name, '/');
  return strchr(name, '@') || strchr(slash ? slash : name, ':');
}

/* The source's base name as a repository path component: "app" for a
 * directory app/ or an archive app.tar, app.oci.tar.gz. */
static char *repository_of_dir(const char *dir) {
  cleanup_free char *copy = xstrdup(dir);
  char *base = basename(copy);
  static const char *const suffixes[] = {".gz", ".zst", ".tgz", ".tar", ".oci"};
  for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
    size_t n = strlen(base), k = strlen(suffixes[i]);
    if (n > k && strcmp(base + n - k, suffixes[i]) == 0)
      base[n - k] = '\0';
  }
  char *repo = xasprintf("localhost/%s", *base && *base != '/' ? base : "image");
  for (char *c = repo + 10; *c; c++) {
    *c = (char)tolower((unsigned char)*c);
    if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
      *c = '-';
  }
  return repo;
}

/* The name (before normalisation) of entry d; NULL: unnamed. */
static char *entry_name(const char *dir, const char *given,
                        const struct image_descriptor *d) {
  const char *ref = d->ref_name;
  if (given)
    return xasprintf("%s:%s", given,
                     ref && image_ref_is_tag(ref) ? ref : "latest");
  if (ref == NULL || *ref == '\0')
    return NULL;
  if (!image_ref_is_tag(ref))
    return xstrdup(ref);
  cleanup_free char *repo = repository_of_dir(dir);
  return xasprintf("%s:%s", repo, ref);
}

/* names[i]: the normalised name of entry i, NULL when it has none, "" when
 * it is named through entry 0 (one --name for one image). */
static int name_entries(struct layout *l, const char *given,
                        const struct image_index *ix, char **names,
                        hull_error_t *err) {
  if (given && has_tag(given)) {
    /* Several entries may be tags of one image (umoci's 1.0 and latest). */
    for (size_t i = 1; i < ix->n_manifests; i++) {
      if (strcmp(ix->manifests[i].digest.text,
                 ix->manifests[0].digest.text) != 0)
        return hull_error(err, 0, "--name %s names one image, and "
                                  "%s/index.json has several", given,
                          l->dir);
      names[i] = xstrdup("");   /* the same image: named once */
    }
    if (ix->n_manifests == 0)
      return hull_error(err, 0, "%s/index.json: no image", l->dir);
    return image_ref_normalize(given, &names[0], err);
  }
  for (size_t i = 0; i < ix->n_manifests; i++) {
    cleanup_free char *name = entry_name(l->dir, given, &ix->manifests[i]);
    if (name == NULL)
      continue;
    if (image_ref_normalize(name, &names[i], err) < 0)
      return hull_error_wrap(err, "%s/index.json: .manifests[%zu]", l->dir,
                             i);
    for (size_t j = 0; j < i; j++)
      if (names[j] && strcmp(names[j], names[i]) == 0 &&
          strcmp(ix->manifests[j].digest.text,
                 ix->manifests[i].digest.text) != 0)
        return hull_error(err, 0, "%s/index.json: .manifests[%zu] and "
                                  "[%zu] would both be named %s", l->dir, j,
                          i, names[i]);
  }
  return 0;
}

static int write_names(struct layout *l, const struct image_index *ix,
                       char **names, char ***out, hull_error_t *err) {
  for (size_t i = 0; i < ix->n_manifests; i++) {
    if (names[i] && *names[i] == '\0')
      continue;
    if (names[i] == NULL) {
      strv_append(out, ix->manifests[i].digest.text);
      continue;
    }
    char *one[] = {names[i], NULL};
    if (image_refs_set(l->store, one, &ix->manifests[i], err) < 0)
      return -1;
    strv_append(out, names[i]);
  }
  return 0;
}

static int import(struct layout *l, const char *given, char ***out,
                  hull_error_t *err) {
  if (check_oci_layout(l, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (read_file_at(l->dirfd, "index.json", &json, NULL, err) < 0)
    return hull_error_wrap(err, "%s", l->dir);
  cleanup_free char *what = xasprintf("%s/index.json", l->dir);
  struct image_index *ix = NULL;
  if (image_index_parse(what, json, &ix, err) < 0)
    return -1;
  char **names = xzalloc((ix->n_manifests + 1) * sizeof(char *));
  int r = name_entries(l, given, ix, names, err);
  for (size_t i = 0; r == 0 && i < ix->n_manifests; i++)
    r = copy_tree(l, &ix->manifests[i], 0, err);
  if (r == 0)
    r = write_names(l, ix, names, out, err);
  for (size_t i = 0; i < ix->n_manifests; i++)
    free(names[i]);
  free(names);
  image_index_free(ix);
  return r;
}

int image_import_layout_as(struct image_store *s, const char *dir,
                           const char *label, const char *name, char ***names,
                           hull_error_t *err) {
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return hull_error(err, errno, "open `%s`", dir);
  struct layout l = {.dir = label, .dirfd = dirfd, .store = s};
  return import(&l, name, names, err);
}

int image_import_layout(struct image_store *s, const char *dir,
                        const char *name, char ***names, hull_error_t *err) {
  return image_import_layout_as(s, dir, dir, name, names, err);
}

int image_import(struct image_store *s, const char *path, const char *name,
                 char ***names, hull_error_t *err) {
  struct stat st;
  if (stat(path, &st) < 0)
    return hull_error(err, errno, "stat `%s`", path);
  if (S_ISDIR(st.st_mode))
    return image_import_layout(s, path, name, names, err);
  return image_import_archive(s, path, name, names, err);
}
