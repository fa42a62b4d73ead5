/* resolve.c — images as the store holds them: an index or manifest read
 * back verified and checked against its descriptor, every blob below a
 * descriptor (image_walk, for gc and sizes), and a name resolved to the
 * manifest and config for a platform (image_resolve, for inspect and for
 * running an image). */
#include "images/images.h"

#include <stdlib.h>
#include <string.h>

/* An index pointing to an index pointing to ...: no real image nests. */
#define WALK_MAX_DEPTH 8

static int media_type_agrees(const char *what, const char *own,
                             const struct image_descriptor *d,
                             hull_error_t *err) {
  if (own && strcmp(own, d->media_type) != 0)
    return hull_error(err, 0, "%s: .mediaType: \"%s\" does not match the "
                      "descriptor's \"%s\"", what, own, d->media_type);
  return 0;
}

int image_load_index(struct image_store *s, const struct image_descriptor *d,
                     struct image_index **out, char **raw, hull_error_t *err) {
  cleanup_free char *json = NULL;
  if (image_store_read_blob(s, &d->digest, d->size, &json, NULL, err) < 0)
    return -1;
  cleanup_free char *what = xasprintf("index %s", d->digest.text);
  struct image_index *ix = NULL;
  if (image_index_parse(what, json, &ix, err) < 0)
    return -1;
  if (media_type_agrees(what, ix->media_type, d, err) < 0) {
    image_index_free(ix);
    return -1;
  }
  *out = ix;
  if (raw)
    *raw = take_ptr(json);
  return 0;
}

int image_load_manifest(struct image_store *s,
                        const struct image_descriptor *d,
                        struct image_manifest **out, char **raw,
                        hull_error_t *err) {
  cleanup_free char *json = NULL;
  if (image_store_read_blob(s, &d->digest, d->size, &json, NULL, err) < 0)
    return -1;
  cleanup_free char *what = xasprintf("manifest %s", d->digest.text);
  struct image_manifest *m = NULL;
  if (image_manifest_parse(what, json, &m, err) < 0)
    return -1;
  if (media_type_agrees(what, m->media_type, d, err) < 0) {
    image_manifest_free(m);
    return -1;
  }
  *out = m;
  if (raw)
    *raw = take_ptr(json);
  return 0;
}

static int walk(struct image_store *s, const struct image_descriptor *d,
                image_visit_fn visit, void *arg, int depth,
                hull_error_t *err) {
  if (!image_store_has(s, &d->digest))
    return 0;
  if (visit(d, arg, err) < 0)
    return -1;
  if (depth > WALK_MAX_DEPTH)
    return hull_error(err, 0, "index %s: nested deeper than %d",
                      d->digest.text, WALK_MAX_DEPTH);
  switch (image_media_kind(d->media_type)) {
  case IMAGE_KIND_INDEX: {
    struct image_index *ix = NULL;
    if (image_load_index(s, d, &ix, NULL, err) < 0)
      return -1;
    int r = 0;
    for (size_t i = 0; r == 0 && i < ix->n_manifests; i++)
      r = walk(s, &ix->manifests[i], visit, arg, depth + 1, err);
    image_index_free(ix);
    return r;
  }
  case IMAGE_KIND_MANIFEST: {
    struct image_manifest *m = NULL;
    if (image_load_manifest(s, d, &m, NULL, err) < 0)
      return -1;
    int r = walk(s, &m->config, visit, arg, depth + 1, err);
    for (size_t i = 0; r == 0 && i < m->n_layers; i++)
      r = walk(s, &m->layers[i], visit, arg, depth + 1, err);
    image_manifest_free(m);
    return r;
  }
  default:
    return 0;
  }
}

int image_walk(struct image_store *s, const struct image_descriptor *d,
               image_visit_fn visit, void *arg, hull_error_t *err) {
  return walk(s, d, visit, arg, 0, err);
}

/* ---- resolving a name ---------------------------------------------------------- */

void image_resolved_clear(struct image_resolved *r) {
  strv_free(r->names);
  image_descriptor_clear(&r->target);
  image_index_free(r->index);
  image_descriptor_clear(&r->manifest_desc);
  image_manifest_free(r->manifest);
  image_config_free(r->config);
  free(r->raw_index);
  free(r->raw_manifest);
  free(r->raw_config);
  memset(r, 0, sizeof(*r));
}

static int names_of(struct image_store *s, const struct image_digest *d,
                    char ***out, hull_error_t *err) {
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i].target.digest.text, d->text) == 0)
      strv_append(out, names[i].name);
  image_names_free(names, n);
  if (*out == NULL)
    *out = xzalloc(sizeof(char *));     /* an empty list, not NULL */
  return 0;
}

static int pick_manifest(struct image_store *s, struct image_resolved *r,
                         const struct image_platform *platform,
                         hull_error_t *err) {
  enum image_media_kind kind = image_media_kind(r->target.media_type);
  if (kind == IMAGE_KIND_MANIFEST) {
    image_descriptor_copy(&r->manifest_desc, &r->target);
    return 0;
  }
  if (kind != IMAGE_KIND_INDEX)
    return hull_error(err, 0, "%s: \"%s\" is not an image index or manifest",
                      r->target.digest.text, r->target.media_type);
  if (image_load_index(s, &r->target, &r->index, &r->raw_index, err) < 0)
    return -1;
  struct image_platform host = {0};
  if (platform == NULL) {
    image_platform_host(&host);
    platform = &host;
  }
  const struct image_descriptor *chosen;
  cleanup_free char *what = xasprintf("index %s", r->target.digest.text);
  int ret = image_index_select(what, r->index, platform, &chosen, err);
  image_platform_clear(&host);
  if (ret < 0)
    return -1;
  image_descriptor_copy(&r->manifest_desc, chosen);
  return 0;
}

static int load_config(struct image_store *s, struct image_resolved *r,
                       hull_error_t *err) {
  const struct image_descriptor *c = &r->manifest->config;
  cleanup_free char *mwhat =
      xasprintf("manifest %s", r->manifest_desc.digest.text);
  if (image_media_kind(c->media_type) != IMAGE_KIND_CONFIG)
    return hull_error(err, 0, "%s: .config.mediaType: \"%s\" is not an "
                      "image config (%s)", mwhat, c->media_type,
                      IMAGE_MT_CONFIG);
  for (size_t i = 0; i < r->manifest->n_layers; i++)
    if (image_media_kind(r->manifest->layers[i].media_type) !=
        IMAGE_KIND_LAYER) {
      return hull_error(err, 0, "%s: .layers[%zu].mediaType: \"%s\" is not "
                        "a layer media type", mwhat, i,
                        r->manifest->layers[i].media_type);
    }
  if (image_store_read_blob(s, &c->digest, c->size, &r->raw_config, NULL,
                            err) < 0)
    return -1;
  cleanup_free char *what = xasprintf("config %s", c->digest.text);
  if (image_config_parse(what, r->raw_config, &r->config, err) < 0)
    return -1;
  if (r->config->n_diff_ids != r->manifest->n_layers)
    return hull_error(err, 0, "%s: .rootfs.diff_ids: %zu entries for the "
                      "manifest's %zu layers", what, r->config->n_diff_ids,
                      r->manifest->n_layers);
  return 0;
}

static int resolve(struct image_store *s, const char *ref,
                   const struct image_platform *platform,
                   struct image_resolved *r, hull_error_t *err) {
  if (image_refs_lookup(s, ref, &r->target, err) < 0 ||
      names_of(s, &r->target.digest, &r->names, err) < 0 ||
      pick_manifest(s, r, platform, err) < 0 ||
      image_load_manifest(s, &r->manifest_desc, &r->manifest,
                          &r->raw_manifest, err) < 0)
    return -1;
  return load_config(s, r, err);
}

int image_resolve(struct image_store *s, const char *ref,
                  const struct image_platform *platform,
                  struct image_resolved *out, hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  if (resolve(s, ref, platform, out, err) < 0) {
    image_resolved_clear(out);
    return -1;
  }
  return 0;
}
