/* docker-archive.c — the archives of `docker save` before Docker 25 (and
 * `podman save --format docker-archive`), turned into an OCI image layout
 * in the directory they were unpacked into (oci-archive.c), which is then
 * imported like any layout:
 *
 *   manifest.json  [{"Config": "<hex>.json", "RepoTags": ["busybox:1"],
 *                    "Layers": ["<hex>/layer.tar", ...]}]
 *
 * The config and each layer (an uncompressed tar, so its digest is also
 * its diff_id) become blobs under their sha256; a manifest is written for
 * each entry (OCI media types: the config is an image config, each layer
 * application/vnd.oci.image.layer.v1.tar), and index.json gets one entry
 * per RepoTag with the tag as its ref.name, which import normalises as
 * docker does. */
#include "images/images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

struct moved {              /* a member already made a blob */
  char *path;
  struct image_digest digest;
  int64_t size;
};

struct conversion {
  const char *label;        /* the archive, for errors */
  int dirfd;
  struct moved *moved;
  size_t n_moved;
  yajl_gen index;           /* index.json being written */
};

static int digest_file(struct conversion *c, const char *path,
                       struct image_digest *d, int64_t *size,
                       hull_error_t *err) {
  cleanup_close int fd =
      openat(c->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return hull_error(err, errno, "%s: member %s", c->label, path);
  struct image_hasher *h = image_hasher_new(IMAGE_SHA256);
  const size_t chunk = 256 * 1024;
  cleanup_free char *buf = xmalloc(chunk);
  *size = 0;
  ssize_t n;
  while ((n = read(fd, buf, chunk)) > 0) {
    image_hasher_update(h, buf, (size_t)n);
    *size += n;
  }
  if (n < 0) {
    image_hasher_free(h);
    return hull_error(err, errno, "%s: member %s: read", c->label, path);
  }
  image_hasher_finish(h, d);
  return 0;
}

/* Member path as a blob of the layout: its descriptor's digest and size.
 * Only a name the unpacking could have written (image_archive_member_ok)
 * is opened, so manifest.json cannot point outside the directory. */
static int member_blob(struct conversion *c, const char *path,
                       struct image_digest *d, int64_t *size,
                       hull_error_t *err) {
  if (!image_archive_member_ok(path))
    return hull_error(err, 0, "%s: manifest.json: \"%s\" is not a member "
                              "name hull reads", c->label, path);
  for (size_t i = 0; i < c->n_moved; i++)
    if (strcmp(c->moved[i].path, path) == 0) {
      *d = c->moved[i].digest;
      *size = c->moved[i].size;
      return 0;
    }
  if (digest_file(c, path, d, size, err) < 0)
    return -1;
  cleanup_free char *blob = image_store_blob_path(d);
  if (renameat(c->dirfd, path, c->dirfd, blob) < 0)
    return hull_error(err, errno, "%s: member %s", c->label, path);
  c->moved = xrealloc(c->moved, (c->n_moved + 1) * sizeof(*c->moved));
  c->moved[c->n_moved++] =
      (struct moved){.path = xstrdup(path), .digest = *d, .size = *size};
  return 0;
}

static int put_blob(struct conversion *c, const char *data,
                    struct image_digest *d, hull_error_t *err) {
  image_digest_of(IMAGE_SHA256, data, strlen(data), d);
  cleanup_free char *blob = image_store_blob_path(d);
  cleanup_close int fd = openat(c->dirfd, blob, O_WRONLY | O_CREAT | O_TRUNC |
                                O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || write_all(fd, data, strlen(data)) < 0)
    return hull_error(err, errno, "%s: write %s", c->label, blob);
  return 0;
}

static void gen_descriptor(yajl_gen g, const char *mt,
                           const struct image_digest *d, int64_t size) {
  struct image_descriptor desc = {.media_type = (char *)mt, .digest = *d,
                                  .size = size};
  image_descriptor_to_json(g, &desc);
}

static const char *entry_string(yajl_val entry, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(entry, path, yajl_t_string);
  return v ? v->u.string : NULL;
}

static yajl_val entry_array(yajl_val entry, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(entry, path, yajl_t_array);
}

/* The manifest of entry i; *digest and *size describe it. */
static int convert_entry(struct conversion *c, yajl_val entry, size_t i,
                         struct image_digest *digest, int64_t *size,
                         hull_error_t *err) {
  const char *config = entry_string(entry, "Config");
  yajl_val layers = entry_array(entry, "Layers");
  if (config == NULL || layers == NULL)
    return hull_error(err, 0, "%s: manifest.json: [%zu]: needs Config (a "
                              "string) and Layers (an array)", c->label, i);
  struct image_digest d;
  int64_t n;
  if (member_blob(c, config, &d, &n, err) < 0)
    return -1;
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  json_gen_string(g, "schemaVersion");
  yajl_gen_integer(g, 2);
  json_gen_string(g, "mediaType");
  json_gen_string(g, IMAGE_MT_MANIFEST);
  json_gen_string(g, "config");
  gen_descriptor(g, IMAGE_MT_CONFIG, &d, n);
  json_gen_string(g, "layers");
  yajl_gen_array_open(g);
  int r = 0;
  for (size_t k = 0; r == 0 && k < layers->u.array.len; k++) {
    yajl_val v = layers->u.array.values[k];
    if (!YAJL_IS_STRING(v))
      r = hull_error(err, 0, "%s: manifest.json: [%zu].Layers[%zu]: expected "
                             "a string", c->label, i, k);
    else if ((r = member_blob(c, v->u.string, &d, &n, err)) == 0)
      gen_descriptor(g, LAYER_TAR, &d, n);
  }
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  cleanup_free char *manifest = json_gen_finish(g);
  if (r < 0 || put_blob(c, manifest, digest, err) < 0)
    return -1;
  *size = (int64_t)strlen(manifest);
  return 0;
}

static void index_entry(struct conversion *c, const struct image_digest *d,
                        int64_t size, const char *ref_name) {
  yajl_gen_map_open(c->index);
  json_gen_string(c->index, "mediaType");
  json_gen_string(c->index, IMAGE_MT_MANIFEST);
  json_gen_string(c->index, "digest");
  json_gen_string(c->index, d->text);
  json_gen_string(c->index, "size");
  yajl_gen_integer(c->index, size);
  if (ref_name) {
    json_gen_string(c->index, "annotations");
    yajl_gen_map_open(c->index);
    json_gen_string(c->index, IMAGE_ANNOTATION_REF_NAME);
    json_gen_string(c->index, ref_name);
    yajl_gen_map_close(c->index);
  }
  yajl_gen_map_close(c->index);
}

static int convert_entries(struct conversion *c, yajl_val list,
                           hull_error_t *err) {
  for (size_t i = 0; i < list->u.array.len; i++) {
    yajl_val entry = list->u.array.values[i];
    struct image_digest d;
    int64_t size = 0;
    if (convert_entry(c, entry, i, &d, &size, err) < 0)
      return -1;
    yajl_val tags = entry_array(entry, "RepoTags");
    size_t named = 0;
    for (size_t k = 0; tags && k < tags->u.array.len; k++)
      if (YAJL_IS_STRING(tags->u.array.values[k])) {
        index_entry(c, &d, size, tags->u.array.values[k]->u.string);
        named++;
      }
    if (named == 0)
      index_entry(c, &d, size, NULL);
  }
  return 0;
}

static int create_file(struct conversion *c, const char *name,
                       const char *data, hull_error_t *err) {
  cleanup_close int fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC |
                                O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || write_all(fd, data, strlen(data)) < 0)
    return hull_error(err, errno, "%s: write %s", c->label, name);
  return 0;
}

static int write_layout_files(struct conversion *c, hull_error_t *err) {
  cleanup_free char *index = json_gen_finish(take_ptr(c->index));
  if (create_file(c, "index.json", index, err) < 0 ||
      create_file(c, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}",
                  err) < 0)
    return -1;
  return 0;
}

int image_docker_archive_to_layout(int dirfd, const char *label,
                                   hull_error_t *err) {
  cleanup_free char *json = NULL;
  if (read_file_at(dirfd, "manifest.json", &json, NULL, err) < 0)
    return hull_error_wrap(err, "%s", label);
  char msg[256] = "";
  yajl_val list = yajl_tree_parse(json, msg, sizeof(msg));
  if (list == NULL || !YAJL_IS_ARRAY(list)) {
    yajl_tree_free(list);
    return hull_error(err, 0, "%s: manifest.json: expected a JSON array",
                      label);
  }
  struct conversion c = {.label = label, .dirfd = dirfd,
                         .index = json_gen_new(false)};
  yajl_gen_map_open(c.index);
  json_gen_string(c.index, "schemaVersion");
  yajl_gen_integer(c.index, 2);
  json_gen_string(c.index, "mediaType");
  json_gen_string(c.index, IMAGE_MT_INDEX);
  json_gen_string(c.index, "manifests");
  yajl_gen_array_open(c.index);
  int r = convert_entries(&c, list, err);
  yajl_gen_array_close(c.index);
  yajl_gen_map_close(c.index);
  if (r == 0)
    r = write_layout_files(&c, err);
  if (c.index)
    yajl_gen_free(c.index);
  for (size_t i = 0; i < c.n_moved; i++)
    free(c.moved[i].path);
  free(c.moved);
  yajl_tree_free(list);
  return r;
}
