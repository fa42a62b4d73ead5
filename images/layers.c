/* layers.c — layers unpacked once into the store, shared by every bundle:
 * <root>/layers/<alg>/<hex of diff_id>/. A layer is unpacked into a temp
 * directory under tmp/, its diff_id checked against the config's, and
 * renamed into place, all under the layer's flock, so a directory under
 * layers/ is only ever a complete, verified layer; a killed unpack leaves
 * only its temp directory, which gc removes with the rest of tmp/. */
#include "images/images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *alg_name(const struct image_digest *d) {
  return d->algorithm == IMAGE_SHA512 ? "sha512" : "sha256";
}

char *image_layer_dir(struct image_store *s, const struct image_digest *diff_id) {
  return xasprintf("%s/layers/%s/%s", image_store_root(s), alg_name(diff_id),
                   image_digest_hex(diff_id));
}

static bool is_dir(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The flock serialising unpacks of one layer (tmp/layer-<hex>.lock). */
static int lock_layer(struct image_store *s, const struct image_digest *diff_id,
                      int *out, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/tmp/layer-%s.lock",
                                      image_store_root(s),
                                      image_digest_hex(diff_id));
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return hull_error(err, errno, "layer %s: lock `%s`", diff_id->text, path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      int e = errno;
      close(fd);
      return hull_error(err, e, "layer %s: lock `%s`", diff_id->text, path);
    }
  *out = fd;
  return 0;
}

/* Unpacks layer i into a temp directory, checks its diff_id and renames it
 * to dest. */
static int unpack_into_place(struct image_store *s,
                             const struct image_descriptor *layer,
                             const struct image_digest *want, size_t i,
                             const char *dest, hull_error_t *err) {
  cleanup_free char *tmp = xasprintf("%s/tmp/layer-%s-XXXXXX",
                                     image_store_root(s),
                                     image_digest_hex(want));
  if (mkdtemp(tmp) == NULL)
    return hull_error(err, errno, "layer %s: make `%s`", layer->digest.text,
                      tmp);
  chmod(tmp, 0755);
  cleanup_close int fd = -1;
  struct image_layer_unpacked got;
  int r = image_store_open_blob(s, &layer->digest, layer->size, true, &fd, err);
  if (r == 0)
    r = image_layer_unpack(fd, layer->media_type, tmp, &got, err);
  if (r < 0)
    hull_error_wrap(err, "layer %s", layer->digest.text);
  else if (strcmp(got.diff_id.text, want->text) != 0)
    r = hull_error(err, 0, "layer %s: diff_id %s does not match the config's "
                           "rootfs.diff_ids[%zu] %s", layer->digest.text,
                   got.diff_id.text, i, want->text);
  if (r == 0 && rename(tmp, dest) < 0)
    r = hull_error(err, errno, "layer %s: rename `%s` to `%s`",
                   layer->digest.text, tmp, dest);
  if (r < 0) {
    cleanup_error hull_error_t ignored = NULL;
    remove_tree(tmp, &ignored);
  }
  return r;
}

static int ensure_layer(struct image_store *s,
                        const struct image_descriptor *layer,
                        const struct image_digest *diff_id, size_t i,
                        const char *dest, hull_error_t *err) {
  if (is_dir(dest))
    return 0;
  cleanup_free char *parent = xasprintf("%s/layers/%s", image_store_root(s),
                                        alg_name(diff_id));
  if (mkdir_p(parent, 0700, err) < 0)
    return -1;
  cleanup_close int lock = -1;
  if (lock_layer(s, diff_id, &lock, err) < 0)
    return -1;
  if (is_dir(dest)) /* another process unpacked it while we waited */
    return 0;
  return unpack_into_place(s, layer, diff_id, i, dest, err);
}

int image_layers_unpack(struct image_store *s, const struct image_resolved *r,
                        char ***dirs, hull_error_t *err) {
  const struct image_manifest *m = r->manifest;
  const struct image_config *c = r->config;
  if (m->n_layers != c->n_diff_ids)
    return hull_error(err, 0, "image %s: the manifest has %zu layers, the "
                              "config's rootfs.diff_ids %zu",
                      r->manifest_desc.digest.text, m->n_layers,
                      c->n_diff_ids);
  char **out = NULL;
  for (size_t i = 0; i < m->n_layers; i++) {
    char *dest = image_layer_dir(s, &c->diff_ids[i]);
    if (ensure_layer(s, &m->layers[i], &c->diff_ids[i], i, dest, err) < 0) {
      free(dest);
      strv_free(out);
      return -1;
    }
    strv_append(&out, dest);
    free(dest);
  }
  *dirs = out;
  return 0;
}
