/* parse.c — the JSON walking helpers every part of the spec parser uses:
 * paths for error messages, typed getters with the schema's ranges, arrays
 * and maps, and the raw-text checks done before yajl sees the document. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths and errors ------------------------------------------------ */

/* Keys that are not plain identifiers (sysctl names, annotation keys with
 * dots) are quoted so the path stays unambiguous. */
static bool key_is_plain(const char *k) {
  if (*k == '\0')
    return false;
  for (; *k; k++)
    if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
      return false;
  return true;
}

static void jpath_append(const struct jpath *at, FILE *f) {
  if (at == NULL || (at->up == NULL && at->key == NULL))
    return;
  jpath_append(at->up, f);
  if (at->key == NULL)
    fprintf(f, "[%zu]", at->index);
  else if (key_is_plain(at->key))
    fprintf(f, ".%s", at->key);
  else
    fprintf(f, "[\"%s\"]", at->key);
}

char *jpath_format(const struct jpath *at) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (f == NULL)
    abort();
  jpath_append(at, f);
  fclose(f);
  return buf;
}

int jerr(const struct jpath *at, hull_error_t *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *what = NULL;
  if (vasprintf(&what, fmt, ap) < 0)
    abort();
  va_end(ap);
  cleanup_free char *path = jpath_format(at);
  return hull_error(err, 0, "%s: %s", *path ? path : ".", what);
}

/* ---- members -------------------------------------------------------- */

/* A key given twice takes its last value, as Go's encoding/json (runc,
 * containerd) reads it. */
yajl_val jfield(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = obj->u.object.len; i-- > 0;) {
    if (strcmp(obj->u.object.keys[i], key) == 0) {
      yajl_val v = obj->u.object.values[i];
      return YAJL_IS_NULL(v) ? NULL : v;
    }
  }
  return NULL;
}

/* Shared start of every getter: finds the member, reports a missing
 * required one. Returns 1 with *v set, 0 when absent, -1 on error. */
static int member(yajl_val obj, const struct jpath *at, const char *key,
                  bool required, yajl_val *v, hull_error_t *err) {
  *v = jfield(obj, key);
  if (*v != NULL)
    return 1;
  if (required)
    return jerr(JKEY(at, key), err, "required");
  return 0;
}

int jobject(yajl_val obj, const struct jpath *at, const char *key,
            bool required, yajl_val *out, hull_error_t *err) {
  yajl_val v;
  *out = NULL;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_OBJECT(v))
    return jerr(JKEY(at, key), err, "expected object");
  *out = v;
  return 1;
}

int jstring(yajl_val obj, const struct jpath *at, const char *key,
            bool required, char **out, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_STRING(v))
    return jerr(JKEY(at, key), err, "expected string");
  free(*out);
  *out = xstrdup(v->u.string);
  return 1;
}

static bool all_strings(yajl_val arr) {
  for (size_t i = 0; i < arr->u.array.len; i++)
    if (!YAJL_IS_STRING(arr->u.array.values[i]))
      return false;
  return true;
}

int jstrv(yajl_val obj, const struct jpath *at, const char *key,
          bool required, char ***out, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_ARRAY(v) || !all_strings(v))
    return jerr(JKEY(at, key), err, "expected array of strings");
  size_t n = v->u.array.len;
  char **strv = xzalloc((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    strv[i] = xstrdup(v->u.array.values[i]->u.string);
  strv_free(*out);
  *out = strv;
  return 1;
}

int jbool(yajl_val obj, const struct jpath *at, const char *key,
          bool required, bool *out, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
    return jerr(JKEY(at, key), err, "expected boolean");
  *out = YAJL_IS_TRUE(v);
  return 1;
}

int jspec_bool(yajl_val obj, const struct jpath *at, const char *key,
               struct spec_bool *out, hull_error_t *err) {
  int r = jbool(obj, at, key, OPTIONAL, &out->v, err);
  if (r > 0)
    out->set = true;
  return r;
}

/* ---- integers ------------------------------------------------------- */

enum int_text { INT_OK, INT_NOT_INTEGER, INT_TOO_BIG };

/* Reads an integer literal as sign and magnitude. yajl has already checked
 * the JSON number grammar; a fraction or exponent makes it no integer. */
static enum int_text read_int_text(const char *s, bool *negative,
                                   uint64_t *magnitude) {
  *negative = (*s == '-');
  if (*negative)
    s++;
  if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
    return INT_NOT_INTEGER;
  errno = 0;
  char *end;
  *magnitude = strtoull(s, &end, 10);
  if (errno == ERANGE)
    return INT_TOO_BIG;
  return INT_OK;
}

/* Reads an integer's sign and magnitude; *too_big is set when the
 * magnitude exceeds uint64, which every field's range check then rejects. */
static int number_value(yajl_val v, const struct jpath *at, bool *negative,
                        uint64_t *magnitude, bool *too_big,
                        hull_error_t *err) {
  if (!YAJL_IS_NUMBER(v))
    return jerr(at, err, "expected integer");
  enum int_text r = read_int_text(v->u.number.r, negative, magnitude);
  if (r == INT_NOT_INTEGER)
    return jerr(at, err, "expected integer, got %s", v->u.number.r);
  *too_big = (r == INT_TOO_BIG);
  return 0;
}

static int int_value(yajl_val v, const struct jpath *at, int64_t min,
                     int64_t max, int64_t *out, hull_error_t *err) {
  bool neg, too_big;
  uint64_t mag;
  if (number_value(v, at, &neg, &mag, &too_big, err) < 0)
    return -1;
  /* Two's complement: INT64_MIN's magnitude is INT64_MAX + 1. */
  bool fits = !too_big && (neg ? mag <= (uint64_t)INT64_MAX + 1
                               : mag <= (uint64_t)INT64_MAX);
  int64_t value = 0;
  if (fits)
    value = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  if (!fits || value < min || value > max)
    return jerr(at, err, "%s is out of range [%" PRId64 ", %" PRId64 "]",
                v->u.number.r, min, max);
  *out = value;
  return 0;
}

static int uint_value(yajl_val v, const struct jpath *at, uint64_t max,
                      uint64_t *out, hull_error_t *err) {
  bool neg, too_big;
  uint64_t mag;
  if (number_value(v, at, &neg, &mag, &too_big, err) < 0)
    return -1;
  if (too_big || (neg && mag != 0) || mag > max)
    return jerr(at, err, "%s is out of range [0, %" PRIu64 "]",
                v->u.number.r, max);
  *out = mag;
  return 0;
}

int jint(yajl_val obj, const struct jpath *at, const char *key, bool required,
         int64_t min, int64_t max, int64_t *out, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  return int_value(v, JKEY(at, key), min, max, out, err) < 0 ? -1 : 1;
}

int juint(yajl_val obj, const struct jpath *at, const char *key,
          bool required, uint64_t max, uint64_t *out, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  return uint_value(v, JKEY(at, key), max, out, err) < 0 ? -1 : 1;
}

int juint32(yajl_val obj, const struct jpath *at, const char *key,
            bool required, uint32_t *out, hull_error_t *err) {
  uint64_t v;
  int r = juint(obj, at, key, required, UINT32_MAX, &v, err);
  if (r > 0)
    *out = (uint32_t)v;
  return r;
}

int jspec_int(yajl_val obj, const struct jpath *at, const char *key,
              int64_t min, int64_t max, struct spec_int *out,
              hull_error_t *err) {
  int r = jint(obj, at, key, OPTIONAL, min, max, &out->v, err);
  if (r > 0)
    out->set = true;
  return r;
}

int jspec_uint(yajl_val obj, const struct jpath *at, const char *key,
               uint64_t max, struct spec_uint *out, hull_error_t *err) {
  int r = juint(obj, at, key, OPTIONAL, max, &out->v, err);
  if (r > 0)
    out->set = true;
  return r;
}

int juint32_array(yajl_val obj, const struct jpath *at, const char *key,
                  uint32_t **out, size_t *n, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *here = JKEY(at, key);
  if (!YAJL_IS_ARRAY(v))
    return jerr(here, err, "expected array of integers");
  *n = v->u.array.len;
  *out = xzalloc((*n ? *n : 1) * sizeof(uint32_t));
  for (size_t i = 0; i < *n; i++) {
    uint64_t x;
    if (uint_value(v->u.array.values[i], JIDX(here, i), UINT32_MAX, &x,
                   err) < 0)
      return -1;
    (*out)[i] = (uint32_t)x;
  }
  return 1;
}

/* ---- enums ---------------------------------------------------------- */

bool str_in(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0)
      return true;
  return false;
}

int jstring_enum(yajl_val obj, const struct jpath *at, const char *key,
                 bool required, const char *const *allowed, const char *what,
                 char **out, hull_error_t *err) {
  int r = jstring(obj, at, key, required, out, err);
  if (r > 0 && !str_in(*out, allowed))
    return jerr(JKEY(at, key), err, "unknown %s \"%s\"", what, *out);
  return r;
}

int jstrv_enum(yajl_val obj, const struct jpath *at, const char *key,
               const char *const *allowed, const char *what, char ***out,
               hull_error_t *err) {
  int r = jstrv(obj, at, key, OPTIONAL, out, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; (*out)[i]; i++)
    if (!str_in((*out)[i], allowed))
      return jerr(JIDX(JKEY(at, key), i), err, "unknown %s \"%s\"", what,
                  (*out)[i]);
  return 1;
}

/* ---- maps and arrays ------------------------------------------------- */

void spec_map_free(struct spec_map *m) {
  for (size_t i = 0; i < m->len; i++) {
    free(m->items[i].key);
    free(m->items[i].value);
  }
  free(m->items);
  m->items = NULL;
  m->len = 0;
}

int jmap(yajl_val obj, const struct jpath *at, const char *key,
         struct spec_map *out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(obj, at, key, OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *here = JKEY(at, key);
  size_t n = v->u.object.len;
  out->items = xzalloc((n ? n : 1) * sizeof(*out->items));
  out->len = n;
  for (size_t i = 0; i < n; i++) {
    const char *name = v->u.object.keys[i];
    yajl_val value = v->u.object.values[i];
    if (!YAJL_IS_STRING(value))
      return jerr(JKEY(here, name), err, "expected string");
    out->items[i].key = xstrdup(name);
    out->items[i].value = xstrdup(value->u.string);
  }
  return 1;
}

/* Stores the new item array through `items`, which points at a typed
 * pointer (struct spec_mount ** and the like). */
static char *new_items(void *items, size_t n, size_t item_size) {
  char *arr = xzalloc((n ? n : 1) * item_size);
  memcpy(items, &arr, sizeof(arr));
  return arr;
}

int jarray(yajl_val obj, const struct jpath *at, const char *key,
           bool required, size_t item_size, jitem_fn parse, void *items,
           size_t *n, hull_error_t *err) {
  yajl_val v;
  int r = member(obj, at, key, required, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *here = JKEY(at, key);
  if (!YAJL_IS_ARRAY(v))
    return jerr(here, err, "expected array");
  char *arr = new_items(items, v->u.array.len, item_size);
  *n = v->u.array.len;
  for (size_t i = 0; i < *n; i++) {
    yajl_val item = v->u.array.values[i];
    if (!YAJL_IS_OBJECT(item))
      return jerr(JIDX(here, i), err, "expected object");
    if (parse(item, JIDX(here, i), arr + i * item_size, err) < 0)
      return -1;
  }
  return 1;
}

int jobject_map(yajl_val obj, const struct jpath *at, const char *key,
                size_t item_size, jentry_fn parse, void *items, size_t *n,
                hull_error_t *err) {
  yajl_val v;
  int r = jobject(obj, at, key, OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *here = JKEY(at, key);
  char *arr = new_items(items, v->u.object.len, item_size);
  *n = v->u.object.len;
  for (size_t i = 0; i < *n; i++) {
    const char *name = v->u.object.keys[i];
    yajl_val item = v->u.object.values[i];
    if (!YAJL_IS_OBJECT(item))
      return jerr(JKEY(here, name), err, "expected object");
    if (parse(name, item, JKEY(here, name), arr + i * item_size, err) < 0)
      return -1;
  }
  return 1;
}

int jid_mapping(yajl_val v, const struct jpath *at, void *item,
                hull_error_t *err) {
  struct spec_id_mapping *m = item;
  if (juint32(v, at, "containerID", REQUIRED, &m->container_id, err) < 0 ||
      juint32(v, at, "hostID", REQUIRED, &m->host_id, err) < 0 ||
      juint32(v, at, "size", REQUIRED, &m->size, err) < 0)
    return -1;
  return 0;
}

/* ---- raw text checks ------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if there is
 * none. yajl's own check lets overlong forms, surrogates and code points
 * above U+10FFFF through. */
static size_t utf8_sequence(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF; /* bounds for the second byte */
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (left < n || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return n;
}

/* Walks the text once, tracking strings so brackets inside them do not
 * count; also rejects comments, which yajl_tree would accept, and
 * malformed UTF-8 in strings. Grammar errors are left to yajl, which explains them better. */
int json_precheck(const char *json, size_t len, hull_error_t *err) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    char c = json[i];
    if (c == '\0')
      return hull_error(err, 0, "invalid JSON: NUL byte at offset %zu", i);
    if (in_string && (unsigned char)c >= 0x80) {
      size_t n = utf8_sequence((const unsigned char *)json + i, len - i);
      if (n == 0)
        return hull_error(err, 0,
                          "invalid JSON: invalid UTF-8 in string at offset "
                          "%zu",
                          i);
      i += n - 1;
    } else if (in_string) {
      if (c == '\\' && i + 1 < len) {
        if (strncmp(json + i + 1, "u0000", 5) == 0)
          return hull_error(err, 0,
                            "invalid JSON: \\u0000 in string at offset %zu",
                            i);
        i++;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '/') {
      /* yajl_tree turns on yajl's comment extension; JSON has none. */
      return hull_error(err, 0, "invalid JSON: comment at offset %zu", i);
    } else if (c == '{' || c == '[') {
      if (++depth > SPEC_MAX_DEPTH)
        return hull_error(err, 0,
                          "invalid JSON: nested deeper than %d levels",
                          SPEC_MAX_DEPTH);
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return 0;
}
