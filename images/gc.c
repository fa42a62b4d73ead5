/* gc.c — removing what no name reaches: blobs, and the temp files of
 * writers that died. The store is open exclusively (no import or pull is
 * between storing a blob and naming it), and the marks are made before
 * anything is removed, so a manifest that cannot be read stops gc with
 * nothing lost. */
#include "images/images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct marks {
  struct image_store *s;
  char **digests;   /* sorted after marking */
  size_t n;
  char **layers;    /* the diff_ids the marked configs list */
};

/* A config's diff_ids: the unpacked layers of a named image. */
static int mark_layers(struct marks *m, const struct image_descriptor *d,
                       hull_error_t *err) {
  cleanup_free char *json = NULL;
  size_t len;
  if (image_store_read_blob(m->s, &d->digest, d->size, &json, &len, err) < 0)
    return -1;
  struct image_config *c = NULL;
  if (image_config_parse(d->digest.text, json, &c, err) < 0)
    return -1;
  for (size_t i = 0; i < c->n_diff_ids; i++)
    strv_append(&m->layers, c->diff_ids[i].text);
  image_config_free(c);
  return 0;
}

static int mark(const struct image_descriptor *d, void *arg,
                hull_error_t *err) {
  struct marks *m = arg;
  strv_append(&m->digests, d->digest.text);
  m->n++;
  if (image_media_kind(d->media_type) == IMAGE_KIND_CONFIG)
    return mark_layers(m, d, err);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool marked(const struct marks *m, const char *digest) {
  return m->n && bsearch(&digest, m->digests, m->n, sizeof(char *),
                         cmp_str) != NULL;
}

static int mark_named(struct image_store *s, struct marks *m,
                      hull_error_t *err) {
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    r = image_walk(s, &names[i].target, mark, m, err);
  image_names_free(names, n);
  if (r < 0)
    return hull_error_wrap(err, "gc: nothing removed");
  if (m->n)
    qsort(m->digests, m->n, sizeof(char *), cmp_str);
  return 0;
}

static bool in_use(const struct image_gc_hooks *hooks,
                   const struct image_digest *d) {
  return hooks && hooks->blob_in_use && hooks->blob_in_use(d, hooks->arg);
}

static int sweep_blobs(struct image_store *s, const char *alg,
                       const struct marks *m,
                       const struct image_gc_hooks *hooks, char ***removed,
                       int64_t *bytes, hull_error_t *err) {
  cleanup_free char *dir = xasprintf("blobs/%s", alg);
  int fd = openat(image_store_dirfd(s), dir,
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return hull_error(err, errno, "gc: open `%s/%s`", image_store_root(s),
                      dir);
  }
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    cleanup_free char *text = xasprintf("%s:%s", alg, e->d_name);
    struct image_digest digest;
    cleanup_error hull_error_t not_digest = NULL;
    bool is_digest = image_digest_parse(text, &digest, &not_digest) == 0;
    if (marked(m, text) || (is_digest && in_use(hooks, &digest)))
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
      *bytes += st.st_size;
    if (unlinkat(dirfd(d), e->d_name, 0) < 0)
      r = hull_error(err, errno, "gc: remove `%s/%s/%s`",
                     image_store_root(s), dir, e->d_name);
    else
      strv_append(removed, text);
  }
  closedir(d);
  return r;
}

static bool layer_marked(const struct marks *m,
                         const struct image_gc_hooks *hooks,
                         const char *text) {
  for (char **l = m->layers; l && *l; l++)
    if (strcmp(*l, text) == 0)
      return true;
  struct image_digest d;
  cleanup_error hull_error_t not_digest = NULL;
  return image_digest_parse(text, &d, &not_digest) == 0 && hooks &&
         hooks->layer_in_use && hooks->layer_in_use(&d, hooks->arg);
}

/* The unpacked layers no named image and no hook's bundle uses. */
static int sweep_layers(struct image_store *s, const char *alg,
                        const struct marks *m,
                        const struct image_gc_hooks *hooks, char ***removed,
                        hull_error_t *err) {
  cleanup_free char *dir = xasprintf("%s/layers/%s", image_store_root(s), alg);
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : hull_error(err, errno, "gc: open `%s`", dir);
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    cleanup_free char *text = xasprintf("%s:%s", alg, e->d_name);
    if (layer_marked(m, hooks, text))
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
    if (remove_tree(path, err) < 0)
      r = hull_error_wrap(err, "gc");
    else {
      cleanup_free char *what = xasprintf("layer %s", text);
      strv_append(removed, what);
    }
  }
  closedir(d);
  return r;
}

/* Every file in tmp/: no writer is alive while gc holds the store. */
static int sweep_temp(struct image_store *s, hull_error_t *err) {
  cleanup_free char *tmp = xasprintf("%s/tmp", image_store_root(s));
  if (remove_tree(tmp, err) < 0 || mkdir_p(tmp, 0700, err) < 0)
    return hull_error_wrap(err, "gc");
  return 0;
}

int image_store_gc(struct image_store *s, const struct image_gc_hooks *hooks,
                   char ***removed, int64_t *bytes, hull_error_t *err) {
  struct marks m = {.s = s};
  *bytes = 0;
  int r = mark_named(s, &m, err);
  if (r == 0)
    r = sweep_blobs(s, "sha256", &m, hooks, removed, bytes, err);
  if (r == 0)
    r = sweep_blobs(s, "sha512", &m, hooks, removed, bytes, err);
  if (r == 0)
    r = sweep_layers(s, "sha256", &m, hooks, removed, err);
  if (r == 0)
    r = sweep_layers(s, "sha512", &m, hooks, removed, err);
  if (r == 0)
    r = sweep_temp(s, err);
  strv_free(m.digests);
  strv_free(m.layers);
  return r;
}
