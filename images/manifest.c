/* manifest.c — image indexes, manifests and configs: parsed from JSON and
 * checked against the image-spec's rules (descriptor.md, image-index.md,
 * manifest.md, config.md), with errors that name the document and the
 * field: "manifest sha256:<hex>: .config.size: expected a non-negative
 * integer". Docker's schema 2 (what registries still serve) is accepted
 * beside OCI's. As the spec asks, unknown media types of a manifest's
 * config and layers or of an index's entries are stored and copied, not
 * refused; image_resolve (resolve.c), which is about running the image,
 * wants an image config. Platforms are in platform.c. */
#include "images/images.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than any real document; yajl's tree free is recursive. */
#define JSON_MAX_DEPTH 64

/* ---- media types --------------------------------------------------------- */

enum image_media_kind image_media_kind(const char *mt) {
  static const struct {
    const char *type;
    enum image_media_kind kind;
  } known[] = {
      {IMAGE_MT_INDEX, IMAGE_KIND_INDEX},
      {IMAGE_MT_DOCKER_LIST, IMAGE_KIND_INDEX},
      {IMAGE_MT_MANIFEST, IMAGE_KIND_MANIFEST},
      {IMAGE_MT_DOCKER_MANIFEST, IMAGE_KIND_MANIFEST},
      {IMAGE_MT_CONFIG, IMAGE_KIND_CONFIG},
      {IMAGE_MT_DOCKER_CONFIG, IMAGE_KIND_CONFIG},
      {"application/vnd.oci.image.layer.v1.tar", IMAGE_KIND_LAYER},
      {"application/vnd.oci.image.layer.v1.tar+gzip", IMAGE_KIND_LAYER},
      {"application/vnd.oci.image.layer.v1.tar+zstd", IMAGE_KIND_LAYER},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar",
       IMAGE_KIND_LAYER},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
       IMAGE_KIND_LAYER},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
       IMAGE_KIND_LAYER},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", IMAGE_KIND_LAYER},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
       IMAGE_KIND_LAYER},
  };
  for (size_t i = 0; mt && i < sizeof(known) / sizeof(*known); i++)
    if (strcmp(mt, known[i].type) == 0)
      return known[i].kind;
  return IMAGE_KIND_OTHER;
}

/* RFC 6838's type "/" subtype, as the descriptor schema's pattern says:
 * each part a letter or digit, then up to 126 of [A-Za-z0-9!#$&^_.+-]. */
static bool media_type_part_ok(const char *p, size_t n) {
  if (n == 0 || n > 127 || !isalnum((unsigned char)p[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)p[i]) && !strchr("!#$&^_.+-", p[i]))
      return false;
  return true;
}

static bool media_type_ok(const char *mt) {
  const char *slash = strchr(mt, '/');
  return slash && media_type_part_ok(mt, (size_t)(slash - mt)) &&
         media_type_part_ok(slash + 1, strlen(slash + 1));
}

/* ---- JSON fields ----------------------------------------------------------- */

static int field_error(const char *what, const char *path, hull_error_t *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int field_error(const char *what, const char *path, hull_error_t *err,
                       const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return hull_error(err, 0, "%s: %s: %s", what, *path ? path : ".", msg);
}

/* Member key of obj (at path): a string, or absent (1 / 0; -1 on error). */
static int get_string(const char *what, const char *path, yajl_val obj,
                      const char *key, bool required, const char **out,
                      hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.%s", path, key);
  yajl_val v = json_member(obj, key);
  *out = NULL;
  if (v == NULL) {
    if (required)
      return field_error(what, at, err, "missing");
    return 0;
  }
  if (!YAJL_IS_STRING(v))
    return field_error(what, at, err, "expected a string");
  *out = YAJL_GET_STRING(v);
  return 1;
}

static int get_array(const char *what, const char *path, yajl_val obj,
                     const char *key, yajl_val *out, hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.%s", path, key);
  *out = json_member(obj, key);
  if (*out == NULL)
    return field_error(what, at, err, "missing");
  if (!YAJL_IS_ARRAY(*out))
    return field_error(what, at, err, "expected an array");
  return 0;
}

static int check_schema_version(const char *what, yajl_val root,
                                hull_error_t *err) {
  yajl_val v = json_member(root, "schemaVersion");
  if (v == NULL)
    return field_error(what, ".schemaVersion", err, "missing");
  if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) != 2)
    return field_error(what, ".schemaVersion", err, "must be 2");
  return 0;
}

/* Nesting depth and NUL bytes, which yajl_tree cannot be trusted with. */
static int json_precheck(const char *what, const char *json,
                         hull_error_t *err) {
  int depth = 0;
  bool in_string = false;
  for (const char *p = json; *p; p++) {
    if (in_string) {
      if (*p == '\\' && p[1])
        p++;
      else if (*p == '"')
        in_string = false;
    } else if (*p == '"') {
      in_string = true;
    } else if (*p == '{' || *p == '[') {
      if (++depth > JSON_MAX_DEPTH)
        return hull_error(err, 0, "%s: nested deeper than %d", what,
                          JSON_MAX_DEPTH);
    } else if (*p == '}' || *p == ']') {
      depth--;
    }
  }
  return 0;
}

static int parse_json(const char *what, const char *json, yajl_val *out,
                      hull_error_t *err) {
  if (json_precheck(what, json, err) < 0)
    return -1;
  char msg[256] = "";
  *out = yajl_tree_parse(json, msg, sizeof(msg));
  if (*out == NULL) {
    for (char *c = msg; *c; c++)   /* yajl's message spans lines */
      if (*c == '\n')
        *c = ' ';
    return hull_error(err, 0, "%s: not JSON: %s", what, msg);
  }
  if (!YAJL_IS_OBJECT(*out)) {
    yajl_tree_free(*out);
    return hull_error(err, 0, "%s: expected a JSON object", what);
  }
  return 0;
}

/* ---- descriptors -------------------------------------------------------- */

void image_descriptor_clear(struct image_descriptor *d) {
  free(d->media_type);
  free(d->ref_name);
  image_platform_clear(&d->platform);
  memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

void image_descriptor_copy(struct image_descriptor *to,
                           const struct image_descriptor *from) {
  *to = *from;
  to->media_type = dup_or_null(from->media_type);
  to->ref_name = dup_or_null(from->ref_name);
  to->platform.os = dup_or_null(from->platform.os);
  to->platform.architecture = dup_or_null(from->platform.architecture);
  to->platform.variant = dup_or_null(from->platform.variant);
}

static int parse_platform(const char *what, const char *path, yajl_val v,
                          struct image_platform *out, hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.platform", path);
  if (!YAJL_IS_OBJECT(v))
    return field_error(what, at, err, "expected an object");
  const char *os, *arch, *variant;
  if (get_string(what, at, v, "architecture", true, &arch, err) < 0 ||
      get_string(what, at, v, "os", true, &os, err) < 0 ||
      get_string(what, at, v, "variant", false, &variant, err) < 0)
    return -1;
  out->os = xstrdup(os);
  out->architecture = xstrdup(arch);
  out->variant = dup_or_null(variant);
  return 0;
}

static int parse_annotations(const char *what, const char *path, yajl_val v,
                             struct image_descriptor *out,
                             hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.annotations", path);
  if (!YAJL_IS_OBJECT(v))
    return field_error(what, at, err, "expected an object");
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *key = v->u.object.keys[i];
    if (!YAJL_IS_STRING(v->u.object.values[i])) {
      cleanup_free char *k = xasprintf("%s[\"%s\"]", at, key);
      return field_error(what, k, err, "expected a string");
    }
    const char *value = v->u.object.values[i]->u.string;
    if (strcmp(key, IMAGE_ANNOTATION_REF_NAME) == 0 && out->ref_name == NULL)
      out->ref_name = xstrdup(value);
    /* containerd's (and Docker 25's) whole name beats a bare ref.name tag. */
    if (strcmp(key, "io.containerd.image.name") == 0) {
      free(out->ref_name);
      out->ref_name = xstrdup(value);
    }
  }
  return 0;
}

static int parse_size(const char *what, const char *path, yajl_val v,
                      int64_t *out, hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.size", path);
  if (v == NULL)
    return field_error(what, at, err, "missing");
  if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
    return field_error(what, at, err, "expected a non-negative integer");
  *out = YAJL_GET_INTEGER(v);
  return 0;
}

static int parse_urls(const char *what, const char *path, yajl_val v,
                      hull_error_t *err) {
  cleanup_free char *at = xasprintf("%s.urls", path);
  if (!YAJL_IS_ARRAY(v))
    return field_error(what, at, err, "expected an array");
  for (size_t i = 0; i < v->u.array.len; i++)
    if (!YAJL_IS_STRING(v->u.array.values[i])) {
      cleanup_free char *item = xasprintf("%s[%zu]", at, i);
      return field_error(what, item, err, "expected a string");
    }
  return 0;
}

static int fill_descriptor(const char *what, const char *path, yajl_val v,
                           struct image_descriptor *out, hull_error_t *err) {
  if (!YAJL_IS_OBJECT(v))
    return field_error(what, path, err, "expected a descriptor object");
  const char *mt, *digest;
  if (get_string(what, path, v, "mediaType", true, &mt, err) < 0)
    return -1;
  if (!media_type_ok(mt)) {
    cleanup_free char *at = xasprintf("%s.mediaType", path);
    return field_error(what, at, err, "\"%s\" is not a media type", mt);
  }
  out->media_type = xstrdup(mt);
  if (get_string(what, path, v, "digest", true, &digest, err) < 0)
    return -1;
  if (image_digest_parse(digest, &out->digest, err) < 0)
    return hull_error_wrap(err, "%s: %s.digest", what, path);
  if (parse_size(what, path, json_member(v, "size"), &out->size, err) < 0)
    return -1;
  yajl_val p = json_member(v, "platform");
  if (p && parse_platform(what, path, p, &out->platform, err) < 0)
    return -1;
  yajl_val a = json_member(v, "annotations");
  if (a && parse_annotations(what, path, a, out, err) < 0)
    return -1;
  yajl_val u = json_member(v, "urls");
  if (u && parse_urls(what, path, u, err) < 0)
    return -1;
  return 0;
}

int image_descriptor_parse(const char *what, const char *path, yajl_val v,
                           struct image_descriptor *out, hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  if (fill_descriptor(what, path, v, out, err) < 0) {
    image_descriptor_clear(out);
    return -1;
  }
  return 0;
}

void image_descriptor_fields_to_json(yajl_gen g,
                                     const struct image_descriptor *d) {
  json_gen_string(g, "mediaType");
  json_gen_string(g, d->media_type);
  json_gen_string(g, "digest");
  json_gen_string(g, d->digest.text);
  json_gen_string(g, "size");
  yajl_gen_integer(g, d->size);
}

void image_descriptor_to_json(yajl_gen g, const struct image_descriptor *d) {
  yajl_gen_map_open(g);
  image_descriptor_fields_to_json(g, d);
  yajl_gen_map_close(g);
}

/* Each member of array v (at path) into a new array of descriptors. */
static int parse_descriptors(const char *what, const char *path, yajl_val v,
                             struct image_descriptor **out, size_t *n,
                             hull_error_t *err) {
  *n = v->u.array.len;
  *out = xzalloc((*n ? *n : 1) * sizeof(**out));
  for (size_t i = 0; i < *n; i++) {
    cleanup_free char *at = xasprintf("%s[%zu]", path, i);
    if (image_descriptor_parse(what, at, v->u.array.values[i], &(*out)[i],
                               err) < 0)
      return -1;
  }
  return 0;
}

static void descriptors_free(struct image_descriptor *d, size_t n) {
  for (size_t i = 0; d && i < n; i++)
    image_descriptor_clear(&d[i]);
  free(d);
}

/* ---- index ------------------------------------------------------------------ */

void image_index_free(struct image_index *ix) {
  if (ix == NULL)
    return;
  free(ix->media_type);
  descriptors_free(ix->manifests, ix->n_manifests);
  free(ix);
}

static int check_own_media_type(const char *what, yajl_val root,
                                const char *oci, const char *docker,
                                const char *kind, char **out,
                                hull_error_t *err) {
  const char *mt;
  int r = get_string(what, "", root, "mediaType", false, &mt, err);
  if (r < 0)
    return -1;
  if (r > 0 && strcmp(mt, oci) != 0 && strcmp(mt, docker) != 0)
    return field_error(what, ".mediaType", err, "\"%s\" is not %s (%s)", mt,
                       kind, oci);
  *out = dup_or_null(mt);
  return 0;
}

static int fill_index(const char *what, yajl_val root, struct image_index *ix,
                      hull_error_t *err) {
  yajl_val manifests;
  if (check_schema_version(what, root, err) < 0 ||
      check_own_media_type(what, root, IMAGE_MT_INDEX, IMAGE_MT_DOCKER_LIST,
                           "an image index", &ix->media_type, err) < 0 ||
      get_array(what, "", root, "manifests", &manifests, err) < 0)
    return -1;
  return parse_descriptors(what, ".manifests", manifests, &ix->manifests,
                           &ix->n_manifests, err);
}

int image_index_parse(const char *what, const char *json,
                      struct image_index **out, hull_error_t *err) {
  yajl_val root;
  if (parse_json(what, json, &root, err) < 0)
    return -1;
  struct image_index *ix = xzalloc(sizeof(*ix));
  int r = fill_index(what, root, ix, err);
  yajl_tree_free(root);
  if (r < 0) {
    image_index_free(ix);
    return -1;
  }
  *out = ix;
  return 0;
}

/* ---- manifest --------------------------------------------------------------- */

void image_manifest_free(struct image_manifest *m) {
  if (m == NULL)
    return;
  free(m->media_type);
  image_descriptor_clear(&m->config);
  descriptors_free(m->layers, m->n_layers);
  free(m);
}

static int fill_manifest(const char *what, yajl_val root,
                         struct image_manifest *m, hull_error_t *err) {
  if (check_schema_version(what, root, err) < 0 ||
      check_own_media_type(what, root, IMAGE_MT_MANIFEST,
                           IMAGE_MT_DOCKER_MANIFEST, "an image manifest",
                           &m->media_type, err) < 0)
    return -1;
  if (m->media_type == NULL)
    m->media_type = xstrdup(IMAGE_MT_MANIFEST);
  yajl_val config = json_member(root, "config"), layers;
  if (config == NULL)
    return field_error(what, ".config", err, "missing");
  if (image_descriptor_parse(what, ".config", config, &m->config, err) < 0 ||
      get_array(what, "", root, "layers", &layers, err) < 0)
    return -1;
  return parse_descriptors(what, ".layers", layers, &m->layers, &m->n_layers,
                           err);
}

int image_manifest_parse(const char *what, const char *json,
                         struct image_manifest **out, hull_error_t *err) {
  yajl_val root;
  if (parse_json(what, json, &root, err) < 0)
    return -1;
  struct image_manifest *m = xzalloc(sizeof(*m));
  int r = fill_manifest(what, root, m, err);
  yajl_tree_free(root);
  if (r < 0) {
    image_manifest_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

/* ---- config ------------------------------------------------------------------- */

void image_config_free(struct image_config *c) {
  if (c == NULL)
    return;
  image_platform_clear(&c->platform);
  free(c->diff_ids);
  free(c);
}

static int fill_rootfs(const char *what, yajl_val root, struct image_config *c,
                       hull_error_t *err) {
  yajl_val rootfs = json_member(root, "rootfs"), ids;
  if (rootfs == NULL)
    return field_error(what, ".rootfs", err, "missing");
  if (!YAJL_IS_OBJECT(rootfs))
    return field_error(what, ".rootfs", err, "expected an object");
  const char *type;
  if (get_string(what, ".rootfs", rootfs, "type", true, &type, err) < 0)
    return -1;
  if (strcmp(type, "layers") != 0)
    return field_error(what, ".rootfs.type", err,
                       "\"%s\" is not \"layers\"", type);
  if (get_array(what, ".rootfs", rootfs, "diff_ids", &ids, err) < 0)
    return -1;
  c->n_diff_ids = ids->u.array.len;
  c->diff_ids = xzalloc((c->n_diff_ids ? c->n_diff_ids : 1) *
                        sizeof(*c->diff_ids));
  for (size_t i = 0; i < c->n_diff_ids; i++) {
    yajl_val v = ids->u.array.values[i];
    cleanup_free char *at = xasprintf(".rootfs.diff_ids[%zu]", i);
    if (!YAJL_IS_STRING(v))
      return field_error(what, at, err, "expected a string");
    if (image_digest_parse(YAJL_GET_STRING(v), &c->diff_ids[i], err) < 0)
      return hull_error_wrap(err, "%s: %s", what, at);
  }
  return 0;
}

static int fill_config(const char *what, yajl_val root, struct image_config *c,
                       hull_error_t *err) {
  const char *arch, *os, *variant;
  if (get_string(what, "", root, "architecture", true, &arch, err) < 0 ||
      get_string(what, "", root, "os", true, &os, err) < 0 ||
      get_string(what, "", root, "variant", false, &variant, err) < 0)
    return -1;
  c->platform.architecture = xstrdup(arch);
  c->platform.os = xstrdup(os);
  c->platform.variant = dup_or_null(variant);
  return fill_rootfs(what, root, c, err);
}

int image_config_parse(const char *what, const char *json,
                       struct image_config **out, hull_error_t *err) {
  yajl_val root;
  if (parse_json(what, json, &root, err) < 0)
    return -1;
  struct image_config *c = xzalloc(sizeof(*c));
  int r = fill_config(what, root, c, err);
  yajl_tree_free(root);
  if (r < 0) {
    image_config_free(c);
    return -1;
  }
  *out = c;
  return 0;
}
