/* spec.c — the document as a whole: reading config.json, handing the yajl
 * tree to the per-section parsers, the portable sections (root, mounts,
 * hooks, annotations), freeing, and the lookup helpers. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- mounts ----------------------------------------------------------- */

static int parse_mount(yajl_val v, const struct jpath *at, void *item,
                       hull_error_t *err) {
  struct spec_mount *m = item;
  if (jstring(v, at, "destination", REQUIRED, &m->destination, err) < 0 ||
      jstring(v, at, "source", OPTIONAL, &m->source, err) < 0 ||
      jstring(v, at, "type", OPTIONAL, &m->type, err) < 0 ||
      jstrv(v, at, "options", OPTIONAL, &m->options, err) < 0 ||
      jarray(v, at, "uidMappings", OPTIONAL, sizeof(struct spec_id_mapping),
             jid_mapping, &m->uid_mappings, &m->n_uid_mappings, err) < 0 ||
      jarray(v, at, "gidMappings", OPTIONAL, sizeof(struct spec_id_mapping),
             jid_mapping, &m->gid_mappings, &m->n_gid_mappings, err) < 0)
    return -1;
  return 0;
}

static void mounts_free(struct spec_mount *mounts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(mounts[i].destination);
    free(mounts[i].source);
    free(mounts[i].type);
    strv_free(mounts[i].options);
    free(mounts[i].uid_mappings);
    free(mounts[i].gid_mappings);
  }
  free(mounts);
}

/* ---- hooks ----------------------------------------------------------- */

static int parse_hook(yajl_val v, const struct jpath *at, void *item,
                      hull_error_t *err) {
  struct spec_hook *h = item;
  if (jstring(v, at, "path", REQUIRED, &h->path, err) < 0 ||
      jstrv(v, at, "args", OPTIONAL, &h->args, err) < 0 ||
      jstrv(v, at, "env", OPTIONAL, &h->env, err) < 0 ||
      jspec_int(v, at, "timeout", INT64_MIN, INT64_MAX, &h->timeout, err) < 0)
    return -1;
  if (h->timeout.set && h->timeout.v < 1)
    return jerr(JKEY(at, "timeout"), err, "must be at least 1");
  return 0;
}

static int parse_hook_list(yajl_val hooks, const struct jpath *at,
                           const char *key, struct spec_hook_list *list,
                           hull_error_t *err) {
  return jarray(hooks, at, key, OPTIONAL, sizeof(struct spec_hook),
                parse_hook, &list->items, &list->len, err);
}

static int parse_hooks(yajl_val root, struct spec_hooks *hooks,
                       hull_error_t *err) {
  yajl_val v;
  int r = jobject(root, NULL, "hooks", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(NULL, "hooks");
  if (parse_hook_list(v, at, "prestart", &hooks->prestart, err) < 0 ||
      parse_hook_list(v, at, "createRuntime", &hooks->create_runtime, err) <
          0 ||
      parse_hook_list(v, at, "createContainer", &hooks->create_container,
                      err) < 0 ||
      parse_hook_list(v, at, "startContainer", &hooks->start_container,
                      err) < 0 ||
      parse_hook_list(v, at, "poststart", &hooks->poststart, err) < 0 ||
      parse_hook_list(v, at, "poststop", &hooks->poststop, err) < 0)
    return -1;
  return 0;
}

static void hook_list_free(struct spec_hook_list *list) {
  for (size_t i = 0; i < list->len; i++) {
    free(list->items[i].path);
    strv_free(list->items[i].args);
    strv_free(list->items[i].env);
  }
  free(list->items);
}

static void hooks_free(struct spec_hooks *h) {
  hook_list_free(&h->prestart);
  hook_list_free(&h->create_runtime);
  hook_list_free(&h->create_container);
  hook_list_free(&h->start_container);
  hook_list_free(&h->poststart);
  hook_list_free(&h->poststop);
}

/* ---- the document ------------------------------------------------------ */

/* config.md: root is required everywhere but on Windows (Hyper-V containers
 * must not set it). */
static int parse_root(yajl_val doc, struct spec *spec, hull_error_t *err) {
  yajl_val root;
  bool required = jfield(doc, "windows") == NULL;
  int r = jobject(doc, NULL, "root", required, &root, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(NULL, "root");
  if (jstring(root, at, "path", REQUIRED, &spec->root.path, err) < 0 ||
      jbool(root, at, "readonly", OPTIONAL, &spec->root.readonly, err) < 0)
    return -1;
  return 0;
}

static int parse_document(yajl_val doc, struct spec *spec, hull_error_t *err) {
  if (jstring(doc, NULL, "ociVersion", REQUIRED, &spec->oci_version, err) <
          0 ||
      parse_root(doc, spec, err) < 0 ||
      jarray(doc, NULL, "mounts", OPTIONAL, sizeof(struct spec_mount),
             parse_mount, &spec->mounts, &spec->n_mounts, err) < 0 ||
      spec_parse_process(doc, NULL, &spec->process, err) < 0 ||
      jstring(doc, NULL, "hostname", OPTIONAL, &spec->hostname, err) < 0 ||
      jstring(doc, NULL, "domainname", OPTIONAL, &spec->domainname, err) <
          0 ||
      parse_hooks(doc, &spec->hooks, err) < 0 ||
      jmap(doc, NULL, "annotations", &spec->annotations, err) < 0 ||
      spec_parse_linux(doc, NULL, &spec->linux, err) < 0 ||
      spec_parse_vm(doc, NULL, &spec->vm, err) < 0 ||
      spec_check_other_platforms(doc, err) < 0)
    return -1;
  return 0;
}

/* yajl's verbose message spans lines (it draws an arrow under the text);
 * our errors are one line, so keep its first line. */
static int yajl_failure(const char *msg, hull_error_t *err) {
  size_t n = strcspn(msg, "\n");
  while (n > 0 && msg[n - 1] == ' ')
    n--;
  return hull_error(err, 0, "invalid JSON: %.*s", (int)n,
                    *msg ? msg : "parse error");
}

static int parse_tree(const char *json, size_t len, yajl_val *out,
                      hull_error_t *err) {
  size_t blank = 0;
  while (blank < len && strchr(" \t\r\n", json[blank]) != NULL &&
         json[blank] != '\0')
    blank++;
  if (blank == len)
    return hull_error(err, 0, "empty document");
  if (json_precheck(json, len, err) < 0)
    return -1;
  /* yajl_tree_parse wants a NUL-terminated string; the precheck made sure
   * there is no NUL inside. */
  cleanup_free char *text = xstrndup(json, len);
  char msg[1024] = "";
  *out = yajl_tree_parse(text, msg, sizeof(msg));
  if (*out == NULL)
    return yajl_failure(msg, err);
  if (!YAJL_IS_OBJECT(*out)) {
    yajl_tree_free(*out);
    *out = NULL;
    return hull_error(err, 0, "expected a JSON object at the top level");
  }
  return 0;
}

int spec_parse(const char *json, size_t len, const char *label,
               struct spec **out, hull_error_t *err) {
  yajl_val doc = NULL;
  *out = NULL;
  if (parse_tree(json, len, &doc, err) < 0)
    return hull_error_wrap(err, "%s", label);
  cleanup_spec struct spec *spec = xzalloc(sizeof(*spec));
  int r = parse_document(doc, spec, err);
  yajl_tree_free(doc);
  if (r < 0)
    return hull_error_wrap(err, "%s", label);
  *out = take_ptr(spec);
  return 0;
}

int spec_parse_process_json(const char *json, size_t len, const char *label,
                            struct spec_process **out, hull_error_t *err) {
  yajl_val doc = NULL;
  *out = NULL;
  if (parse_tree(json, len, &doc, err) < 0)
    return hull_error_wrap(err, "%s", label);
  struct spec_process *p = NULL;
  int r = spec_parse_process_object(doc, NULL, &p, err);
  yajl_tree_free(doc);
  if (r < 0) {
    spec_process_free(p);
    return hull_error_wrap(err, "%s", label);
  }
  *out = p;
  return 0;
}

int spec_load(const char *bundle, struct spec **out, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  cleanup_free char *json = NULL;
  size_t len = 0;
  *out = NULL;
  if (read_file(path, &json, &len, err) < 0)
    return -1;
  return spec_parse(json, len, "config.json", out, err);
}

void spec_free(struct spec *spec) {
  if (spec == NULL)
    return;
  free(spec->oci_version);
  free(spec->root.path);
  mounts_free(spec->mounts, spec->n_mounts);
  spec_process_free(spec->process);
  free(spec->hostname);
  free(spec->domainname);
  hooks_free(&spec->hooks);
  spec_map_free(&spec->annotations);
  spec_linux_free(spec->linux);
  spec_vm_free(spec->vm);
  free(spec);
}

void cleanup_specp(struct spec **spec) {
  spec_free(*spec);
  *spec = NULL;
}

/* ---- checks for running ------------------------------------------------ */

int spec_validate_process(const struct spec_process *p, const char *at,
                          hull_error_t *err) {
  if (p->args == NULL || p->args[0] == NULL)
    return hull_error(err, 0, "%s.args: must not be empty", at);
  if (p->cwd == NULL)
    return hull_error(err, 0, "%s.cwd: required", at);
  if (p->cwd[0] != '/')
    return hull_error(err, 0, "%s.cwd: must be an absolute path", at);
  return 0;
}

/* Fields hull parses but cannot honour: running without them would give
 * the container less than its config asks for, so they are errors. */
static int refuse_unimplemented(const struct spec *spec, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  if (l == NULL)
    return 0;
  if (l->intel_rdt.present) {
    bool mounted = access("/sys/fs/resctrl/schemata", F_OK) == 0;
    return hull_error(err, 0, "config.json: .linux.intelRdt: not supported "
                      "(hull has no resctrl support%s)",
                      mounted ? "" : "; this host has no resctrl filesystem "
                                     "mounted either");
  }
  return 0;
}

int spec_validate_for_run(const struct spec *spec, hull_error_t *err) {
  const struct spec_process *p = spec->process;
  if (p == NULL)
    return hull_error(err, 0, "config.json: .process: required");
  if (spec_validate_process(p, "config.json: .process", err) < 0)
    return -1;
  if (spec->root.path == NULL || spec->root.path[0] == '\0')
    return hull_error(err, 0, "config.json: .root.path: required");
  return refuse_unimplemented(spec, err);
}

/* ---- lookups ---------------------------------------------------------- */

const char *spec_map_get(const struct spec_map *m, const char *key) {
  for (size_t i = 0; i < m->len; i++)
    if (strcmp(m->items[i].key, key) == 0)
      return m->items[i].value;
  return NULL;
}

int spec_refuse_unknown_annotations(const struct spec_map *a,
                                    const char *prefix,
                                    const char *const *known,
                                    hull_error_t *err) {
  size_t plen = strlen(prefix);
  for (size_t i = 0; i < a->len; i++) {
    const char *key = a->items[i].key;
    if (strncmp(key, prefix, plen) != 0)
      continue;
    bool found = false;
    for (const char *const *k = known; *k && !found; k++)
      found = strcmp(key + plen, *k) == 0;
    if (found)
      continue;
    cleanup_free char *names = xstrdup("");
    for (const char *const *k = known; *k; k++) {
      char *longer = xasprintf("%s%s%s", names, *names ? "," : "", *k);
      free(names);
      names = longer;
    }
    return hull_error(err, 0, "annotation %s: unknown (hull reads %s{%s})",
                      key, prefix, names);
  }
  return 0;
}

const struct spec_namespace *spec_namespace_find(const struct spec *spec,
                                                 enum spec_ns_type type) {
  if (spec->linux == NULL)
    return NULL;
  for (size_t i = 0; i < spec->linux->n_namespaces; i++)
    if (spec->linux->namespaces[i].type == type)
      return &spec->linux->namespaces[i];
  return NULL;
}
