/* parse.h — internal to runtime/spec: walking a yajl tree into the structs of
 * spec.h. Nothing outside this folder includes it.
 *
 * Every getter reads member `key` of object `obj`, whose own path is `at`,
 * and reports errors as "<path>: <what>" (spec_parse() adds the label).
 * Getters return 1 when the member was present, 0 when absent (or JSON null,
 * which Go-written configs use for empty fields), -1 on error. Outputs are
 * written straight into the spec; on error the caller frees the whole spec,
 * so every free function accepts half-filled structs. */
#ifndef HULL_SPEC_PARSE_H
#define HULL_SPEC_PARSE_H

#include "spec.h"

#include <yajl/yajl_tree.h>

/* A JSON path as a chain of stack frames: no allocation while walking. A
 * frame with key NULL is an array index. */
struct jpath {
  const struct jpath *up;
  const char *key;
  size_t index;
};

#define JKEY(parent, k) (&(const struct jpath){.up = (parent), .key = (k)})
#define JIDX(parent, i) (&(const struct jpath){.up = (parent), .index = (i)})

enum { OPTIONAL = 0, REQUIRED = 1 };

/* ".linux.namespaces[0].type"; "" for the root. */
char *jpath_format(const struct jpath *at);
/* Sets *err to "<path>: <fmt>" and returns -1. */
int jerr(const struct jpath *at, hull_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Member `key` of `obj`, or NULL when absent or JSON null. */
yajl_val jfield(yajl_val obj, const char *key);

int jobject(yajl_val obj, const struct jpath *at, const char *key,
            bool required, yajl_val *out, hull_error_t *err);
int jstring(yajl_val obj, const struct jpath *at, const char *key,
            bool required, char **out, hull_error_t *err);
int jstrv(yajl_val obj, const struct jpath *at, const char *key,
          bool required, char ***out, hull_error_t *err);
int jbool(yajl_val obj, const struct jpath *at, const char *key,
          bool required, bool *out, hull_error_t *err);
int jspec_bool(yajl_val obj, const struct jpath *at, const char *key,
               struct spec_bool *out, hull_error_t *err);

/* Integers are read from the number's text, so the whole uint64 range
 * works and fractions or out-of-range values are errors, never rounded. */
int jint(yajl_val obj, const struct jpath *at, const char *key, bool required,
         int64_t min, int64_t max, int64_t *out, hull_error_t *err);
int juint(yajl_val obj, const struct jpath *at, const char *key,
          bool required, uint64_t max, uint64_t *out, hull_error_t *err);
int juint32(yajl_val obj, const struct jpath *at, const char *key,
            bool required, uint32_t *out, hull_error_t *err);
int jspec_int(yajl_val obj, const struct jpath *at, const char *key,
              int64_t min, int64_t max, struct spec_int *out,
              hull_error_t *err);
int jspec_uint(yajl_val obj, const struct jpath *at, const char *key,
               uint64_t max, struct spec_uint *out, hull_error_t *err);
/* An array of uint32 values. */
int juint32_array(yajl_val obj, const struct jpath *at, const char *key,
                  uint32_t **out, size_t *n, hull_error_t *err);

/* String values restricted to a NULL-terminated list; `what` names the
 * kind in the error: unknown <what> "<value>". */
int jstring_enum(yajl_val obj, const struct jpath *at, const char *key,
                 bool required, const char *const *allowed, const char *what,
                 char **out, hull_error_t *err);
int jstrv_enum(yajl_val obj, const struct jpath *at, const char *key,
               const char *const *allowed, const char *what, char ***out,
               hull_error_t *err);
bool str_in(const char *s, const char *const *list);

/* An object of string values. */
int jmap(yajl_val obj, const struct jpath *at, const char *key,
         struct spec_map *out, hull_error_t *err);
void spec_map_free(struct spec_map *m);

/* An array of objects, each parsed by `parse` into a zeroed item of
 * `item_size` bytes. *items and *n are set before the items are parsed, so
 * a failure leaves them for the free function. */
typedef int (*jitem_fn)(yajl_val v, const struct jpath *at, void *item,
                        hull_error_t *err);
int jarray(yajl_val obj, const struct jpath *at, const char *key,
           bool required, size_t item_size, jitem_fn parse, void *items,
           size_t *n, hull_error_t *err);
/* An object whose members are objects, each parsed by `parse` with its
 * name. Same ownership rule as jarray. */
typedef int (*jentry_fn)(const char *name, yajl_val v, const struct jpath *at,
                         void *item, hull_error_t *err);
int jobject_map(yajl_val obj, const struct jpath *at, const char *key,
                size_t item_size, jentry_fn parse, void *items, size_t *n,
                hull_error_t *err);

int jid_mapping(yajl_val v, const struct jpath *at, void *item,
                hull_error_t *err);

/* The raw text checks yajl_tree cannot do for us: nesting depth (its free
 * is recursive) and NUL bytes, which would cut C strings short. */
#define SPEC_MAX_DEPTH 200
int json_precheck(const char *json, size_t len, hull_error_t *err);

/* ---- the parts of the document, one file each ----------------------
 * Each reads its member ("process", "linux", "resources", ...) of the
 * object `parent` at path `at`; *out stays NULL when it is absent. */

int spec_parse_process(yajl_val parent, const struct jpath *at,
                       struct spec_process **out, hull_error_t *err);
/* The same for a process object itself (`exec --process FILE`). */
int spec_parse_process_object(yajl_val v, const struct jpath *at,
                              struct spec_process **out, hull_error_t *err);
void spec_process_free(struct spec_process *p);

int spec_parse_linux(yajl_val parent, const struct jpath *at,
                     struct spec_linux **out, hull_error_t *err);
void spec_linux_free(struct spec_linux *l);

int spec_parse_resources(yajl_val parent, const struct jpath *at,
                         struct spec_resources **out, hull_error_t *err);
void spec_resources_free(struct spec_resources *r);

int spec_parse_seccomp(yajl_val parent, const struct jpath *at,
                       struct spec_seccomp **out, hull_error_t *err);
void spec_seccomp_free(struct spec_seccomp *s);

int spec_parse_vm(yajl_val parent, const struct jpath *at, struct spec_vm **out,
                  hull_error_t *err);
void spec_vm_free(struct spec_vm *vm);

/* Other platforms' sections: checked only as far as the schema's own bad
 * examples need, never stored. */
int spec_check_other_platforms(yajl_val root, hull_error_t *err);

#endif
