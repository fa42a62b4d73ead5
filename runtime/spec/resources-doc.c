/* resources-doc.c — linux.resources outside a config.json: `update`'s
 * --resources document, the merge of an update into the current resources,
 * and the JSON text hull keeps of them. The merge works on JSON trees, so
 * every field the parser knows survives an update without a writer for
 * each. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* A JSON object, or an error saying what is wrong with the text. */
static int parse_object(const char *json, yajl_val *out, hull_error_t *err) {
  if (json_precheck(json, strlen(json), err) < 0)
    return -1;
  char msg[1024] = "";
  *out = yajl_tree_parse(json, msg, sizeof(msg));
  if (*out == NULL) {
    msg[strcspn(msg, "\n")] = '\0';
    return hull_error(err, 0, "invalid JSON: %s", msg[0] ? msg : "syntax");
  }
  if (!YAJL_IS_OBJECT(*out)) {
    yajl_tree_free(*out);
    *out = NULL;
    return hull_error(err, 0, "expected a JSON object");
  }
  return 0;
}

int spec_resources_parse(const char *json, size_t len, const char *label,
                         struct spec_resources **out, hull_error_t *err) {
  *out = NULL;
  cleanup_free char *text = xstrndup(json, len);
  if (strlen(text) != len)
    return hull_error(err, 0, "%s: NUL byte in the JSON text", label);
  yajl_val doc = NULL;
  if (parse_object(text, &doc, err) < 0)
    return hull_error_wrap(err, "%s", label);
  /* The parser reads member "resources" of a parent; give it one. */
  const char *keys[] = {"resources"};
  yajl_val values[] = {doc};
  struct yajl_val_s parent = {.type = yajl_t_object};
  parent.u.object.keys = keys;
  parent.u.object.values = values;
  parent.u.object.len = 1;
  struct spec_resources *r = NULL;
  int ret = spec_parse_resources(&parent, NULL, &r, err);
  yajl_tree_free(doc);
  if (ret < 0) {
    spec_resources_free(r);
    return hull_error_wrap(err, "%s", label);
  }
  *out = r ? r : xzalloc(sizeof(*r));
  return 0;
}

/* ---- writing a tree back ---------------------------------------------- */

/* The last value of key in obj, JSON null included (jfield hides nulls);
 * *found says whether the key is there at all. */
static yajl_val last_value(yajl_val obj, const char *key, bool *found) {
  *found = false;
  if (obj == NULL || !YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = obj->u.object.len; i-- > 0;)
    if (strcmp(obj->u.object.keys[i], key) == 0) {
      *found = true;
      return obj->u.object.values[i];
    }
  return NULL;
}

/* Whether member i is the first with its key: a key given twice is written
 * once, with its last value, as Go's encoding/json reads it. */
static bool first_key(yajl_val obj, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (strcmp(obj->u.object.keys[j], obj->u.object.keys[i]) == 0)
      return false;
  return true;
}

static void gen_key(yajl_gen g, const char *key) {
  yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static void gen_value(yajl_gen g, yajl_val v) {
  if (json_gen_scalar(g, v))
    return;
  if (YAJL_IS_ARRAY(v)) {
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->u.array.len; i++)
      gen_value(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
  } else {
    yajl_gen_map_open(g);
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (!first_key(v, i))
        continue;
      bool found;
      gen_key(g, v->u.object.keys[i]);
      gen_value(g, last_value(v, v->u.object.keys[i], &found));
    }
    yajl_gen_map_close(g);
  }
}

static void gen_merged(yajl_gen g, yajl_val base, yajl_val update) {
  if (update == NULL || YAJL_IS_NULL(update)) {
    gen_value(g, base);
    return;
  }
  if (base == NULL || !YAJL_IS_OBJECT(base) || !YAJL_IS_OBJECT(update)) {
    gen_value(g, update);
    return;
  }
  yajl_gen_map_open(g);
  bool found;
  for (size_t i = 0; i < base->u.object.len; i++) {
    if (!first_key(base, i))
      continue;
    const char *key = base->u.object.keys[i];
    gen_key(g, key);
    gen_merged(g, last_value(base, key, &found),
               last_value(update, key, &found));
  }
  for (size_t i = 0; i < update->u.object.len; i++) {
    const char *key = update->u.object.keys[i];
    bool in_base;
    last_value(base, key, &in_base);
    yajl_val v = last_value(update, key, &found);
    if (!first_key(update, i) || in_base || v == NULL || YAJL_IS_NULL(v))
      continue;
    gen_key(g, key);
    gen_value(g, v);
  }
  yajl_gen_map_close(g);
}

int spec_json_merge(const char *base, const char *update, char **out,
                    hull_error_t *err) {
  yajl_val b = NULL, u = NULL;
  if (parse_object(base, &b, err) < 0)
    return -1;
  if (parse_object(update, &u, err) < 0) {
    yajl_tree_free(b);
    return -1;
  }
  yajl_gen g = json_gen_new(false);
  gen_merged(g, b, u);
  *out = json_gen_finish(g);
  yajl_tree_free(b);
  yajl_tree_free(u);
  return 0;
}

int spec_resources_of_config(const char *config_json, char **out,
                             hull_error_t *err) {
  yajl_val doc = NULL;
  if (parse_object(config_json, &doc, err) < 0)
    return hull_error_wrap(err, "config.json");
  yajl_val linux = jfield(doc, "linux");
  yajl_val res = linux ? jfield(linux, "resources") : NULL;
  if (res == NULL || !YAJL_IS_OBJECT(res)) {
    *out = xstrdup("{}");
  } else {
    yajl_gen g = json_gen_new(false);
    gen_value(g, res);
    *out = json_gen_finish(g);
  }
  yajl_tree_free(doc);
  return 0;
}
