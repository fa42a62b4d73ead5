/* convert.c — an image's config blob becomes the config.json of a container
 * of that image (image-spec conversion.md), on top of `hull spec`'s default
 * document, whose every other member is kept as it is and where it is.
 *
 * The one thing read from disk is the image's /etc/passwd and /etc/group, to
 * resolve Config.User. Both are opened inside the rootfs (open_in_root: an
 * absolute or ".." symlink stays in it), without blocking (a fifo there must
 * not hang hull) and only when regular files of sane size. */
#include "images.h"
#include "netns/netns.h"
#include "runtime/linux/linux.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#define IMPLICIT_PREFIX "org.opencontainers.image."
/* Annotations hull obeys (handler, VM, network): never taken from labels. */
#define HULL_ANNOTATION_PREFIX "run.oci."
#define ACCOUNT_FILE_MAX (16 << 20)

/* ---- the image config: the fields conversion reads --------------------- */

struct config_fields {
  yajl_val doc;                  /* the strings below point into it */
  const char *os, *architecture, *variant, *os_version, *author, *created;
  char *os_features;             /* the array joined with commas */
  const char *user, *working_dir, *stop_signal;
  char **entrypoint, **cmd, **env;
  yajl_val labels;               /* an object of strings */
  char **exposed_ports, **volumes;   /* the keys of those objects */
};

static void config_fields_free(struct config_fields *c) {
  yajl_tree_free(c->doc);
  free(c->os_features);
  strv_free(c->entrypoint);
  strv_free(c->cmd);
  strv_free(c->env);
  strv_free(c->exposed_ports);
  strv_free(c->volumes);
}

/* The value of key in obj, NULL when absent or null (config.md: null is
 * absent); a key given twice takes its last value, as Go's decoder. */
static yajl_val member(yajl_val obj, const char *key) {
  yajl_val found = NULL;
  if (obj == NULL || !YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      found = obj->u.object.values[i];
  return found != NULL && !YAJL_IS_NULL(found) ? found : NULL;
}

static int get_string(yajl_val obj, const char *key, const char *field,
                      const char **out, hull_error_t *err) {
  yajl_val v = member(obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!YAJL_IS_STRING(v))
    return hull_error(err, 0, "%s: expected a string", field);
  *out = YAJL_GET_STRING(v);
  return 0;
}

static int get_strv(yajl_val obj, const char *key, const char *field,
                    char ***out, hull_error_t *err) {
  yajl_val v = member(obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!YAJL_IS_ARRAY(v))
    return hull_error(err, 0, "%s: expected an array of strings", field);
  char **list = xzalloc((v->u.array.len + 1) * sizeof(char *));
  for (size_t i = 0; i < v->u.array.len; i++) {
    if (!YAJL_IS_STRING(v->u.array.values[i])) {
      strv_free(list);
      return hull_error(err, 0, "%s: expected an array of strings", field);
    }
    list[i] = xstrdup(YAJL_GET_STRING(v->u.array.values[i]));
  }
  *out = list;
  return 0;
}

/* The keys of a JSON object (Go's map[string]struct{}), in document order. */
static int get_keys(yajl_val obj, const char *key, const char *field,
                    char ***out, hull_error_t *err) {
  yajl_val v = member(obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!YAJL_IS_OBJECT(v))
    return hull_error(err, 0, "%s: expected an object", field);
  char **keys = xzalloc((v->u.object.len + 1) * sizeof(char *));
  for (size_t i = 0; i < v->u.object.len; i++)
    keys[i] = xstrdup(v->u.object.keys[i]);
  *out = keys;
  return 0;
}

static char *join(char *const *list, const char *sep) {
  size_t len = 1;
  for (size_t i = 0; list[i]; i++)
    len += strlen(list[i]) + strlen(sep);
  char *s = xzalloc(len);
  for (size_t i = 0; list[i]; i++) {
    if (i > 0)
      strcat(s, sep);
    strcat(s, list[i]);
  }
  return s;
}

static int parse_labels(yajl_val config, struct config_fields *c,
                        hull_error_t *err) {
  yajl_val labels = member(config, "Labels");
  if (labels == NULL)
    return 0;
  if (!YAJL_IS_OBJECT(labels))
    return hull_error(err, 0, "config.Labels: expected an object");
  for (size_t i = 0; i < labels->u.object.len; i++)
    if (!YAJL_IS_STRING(labels->u.object.values[i]))
      return hull_error(err, 0, "config.Labels \"%s\": expected a string",
                        labels->u.object.keys[i]);
  c->labels = labels;
  return 0;
}

static int parse_execution(yajl_val doc, struct config_fields *c,
                           hull_error_t *err) {
  yajl_val config = member(doc, "config");
  if (config == NULL)
    return 0;
  if (!YAJL_IS_OBJECT(config))
    return hull_error(err, 0, "config: expected an object");
  if (get_string(config, "User", "config.User", &c->user, err) < 0 ||
      get_string(config, "WorkingDir", "config.WorkingDir", &c->working_dir,
                 err) < 0 ||
      get_string(config, "StopSignal", "config.StopSignal", &c->stop_signal,
                 err) < 0 ||
      get_strv(config, "Entrypoint", "config.Entrypoint", &c->entrypoint,
               err) < 0 ||
      get_strv(config, "Cmd", "config.Cmd", &c->cmd, err) < 0 ||
      get_strv(config, "Env", "config.Env", &c->env, err) < 0 ||
      get_keys(config, "ExposedPorts", "config.ExposedPorts",
               &c->exposed_ports, err) < 0 ||
      get_keys(config, "Volumes", "config.Volumes", &c->volumes, err) < 0)
    return -1;
  return parse_labels(config, c, err);
}

static int parse_image_config(const char *json, struct config_fields *c,
                              hull_error_t *err) {
  char msg[1024] = "";
  c->doc = yajl_tree_parse(json, msg, sizeof(msg));
  if (c->doc == NULL) {
    msg[strcspn(msg, "\n")] = '\0';
    return hull_error(err, 0, "image config: invalid JSON: %s",
                      msg[0] ? msg : "syntax error");
  }
  if (!YAJL_IS_OBJECT(c->doc))
    return hull_error(err, 0, "image config: expected a JSON object");
  cleanup_strv char **features = NULL;
  if (get_string(c->doc, "os", "os", &c->os, err) < 0 ||
      get_string(c->doc, "architecture", "architecture", &c->architecture,
                 err) < 0 ||
      get_string(c->doc, "variant", "variant", &c->variant, err) < 0 ||
      get_string(c->doc, "os.version", "os.version", &c->os_version, err) < 0 ||
      get_strv(c->doc, "os.features", "os.features", &features, err) < 0 ||
      get_string(c->doc, "author", "author", &c->author, err) < 0 ||
      get_string(c->doc, "created", "created", &c->created, err) < 0)
    return -1;
  if (features != NULL)
    c->os_features = join(features, ",");
  return parse_execution(c->doc, c, err);
}

/* ---- platform ------------------------------------------------------------- */

const char *image_host_architecture(void) {
  /* hull's own build: the binaries it can run natively are those. */
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__loongarch64)
  return "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "mips64le";
#elif defined(__mips64)
  return "mips64";
#else
  return "unknown";
#endif
}

static int check_platform(const struct config_fields *c, hull_error_t *err) {
  if (c->os == NULL)
    return hull_error(err, 0, "os: required");
  if (strcmp(c->os, "linux") != 0)
    return hull_error(err, 0, "os \"%s\": the image is not for linux", c->os);
  if (c->architecture == NULL)
    return hull_error(err, 0, "architecture: required");
  const char *host = image_host_architecture();
  if (strcmp(c->architecture, host) != 0)
    return hull_error(err, 0,
                      "architecture \"%s\": the image is not for this host "
                      "(%s)", c->architecture, host);
  return 0;
}

/* ---- process.args, .env, .cwd ------------------------------------------- */

/* Entrypoint, then the caller's command or else Cmd (conversion.md note 2). */
static int process_args(const struct config_fields *c,
                        const struct image_run_options *o, char ***out,
                        hull_error_t *err) {
  char **args = strv_dup(c->entrypoint);
  char *const *tail = o->args != NULL && o->args[0] != NULL ? o->args : c->cmd;
  for (size_t i = 0; tail != NULL && tail[i]; i++)
    strv_append(&args, tail[i]);
  if (args[0] == NULL) {
    strv_free(args);
    return hull_error(err, 0, "config: no command: the image has neither "
                      "Entrypoint nor Cmd and none was given");
  }
  *out = args;
  return 0;
}

static size_t env_name_len(const char *entry) {
  const char *eq = strchr(entry, '=');
  return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Replaces the variable of entry's name in *env, or appends entry. */
static void env_set(char ***env, const char *entry) {
  size_t n = env_name_len(entry);
  for (char **p = *env; p && *p; p++)
    if (env_name_len(*p) == n && strncmp(*p, entry, n) == 0) {
      free(*p);
      *p = xstrdup(entry);
      return;
    }
  strv_append(env, entry);
}

/* The default's variables (TERM only with a terminal, as docker), each
 * replaced in place by the image's of the same name (note 1: no default
 * overrides the image), then the image's, then the caller's over them. */
static char **process_env(yajl_val defaults, const struct config_fields *c,
                          const struct image_run_options *o) {
  char **env = xzalloc(sizeof(char *));
  yajl_val list = member(member(defaults, "process"), "env");
  for (size_t i = 0; list && YAJL_IS_ARRAY(list) && i < list->u.array.len;
       i++) {
    const char *e = YAJL_GET_STRING(list->u.array.values[i]);
    if (e != NULL && (o->terminal || strncmp(e, "TERM=", 5) != 0))
      strv_append(&env, e);
  }
  for (size_t i = 0; c->env && c->env[i]; i++)
    env_set(&env, c->env[i]);
  for (size_t i = 0; o->env && o->env[i]; i++)
    env_set(&env, o->env[i]);
  return env;
}

static int process_cwd(const struct config_fields *c, const char **out,
                       hull_error_t *err) {
  *out = "/";
  if (c->working_dir == NULL || c->working_dir[0] == '\0')
    return 0;
  if (c->working_dir[0] != '/')
    return hull_error(err, 0, "config.WorkingDir \"%s\": not an absolute path",
                      c->working_dir);
  *out = c->working_dir;
  return 0;
}

/* ---- process.user: Config.User against the image's account files -------- */

struct image_user {
  uint32_t uid, gid;
  uint32_t *additional_gids;
  size_t n_additional_gids;
};

/* A uid or gid written in decimal; false for anything else (a name). */
static bool parse_id(const char *s, uint32_t *out) {
  if (*s == '\0' || strlen(s) > 10)
    return false;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v >= UINT32_MAX) /* (uid_t)-1 means "unchanged" to the kernel */
    return false;
  *out = (uint32_t)v;
  return true;
}

/* The text of path (/etc/passwd, /etc/group) in the rootfs; "" when the
 * image has none. `user` (Config.User) prefixes errors. */
static int read_account_file(const char *rootfs, const char *path,
                             const char *user, char **out, hull_error_t *err) {
  cleanup_close int root_fd =
      open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hull_error(err, errno, "rootfs `%s`", rootfs);
  cleanup_close int fd = open_in_root(
      root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, err);
  if (fd < 0 && (*err)->errno_value == ENOENT) {
    hull_error_release(err);
    *out = xstrdup("");
    return 0;
  }
  if (fd < 0)
    return hull_error_wrap(err, "config.User \"%s\"", user);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "config.User \"%s\": %s", user, path);
  if (!S_ISREG(st.st_mode))
    return hull_error(err, 0, "config.User \"%s\": %s: not a regular file",
                      user, path);
  if (st.st_size > ACCOUNT_FILE_MAX)
    return hull_error(err, 0, "config.User \"%s\": %s: larger than %d bytes",
                      user, path, ACCOUNT_FILE_MAX);
  char *text = xmalloc((size_t)st.st_size + 1);
  ssize_t n = read_all(fd, text, (size_t)st.st_size);
  if (n < 0) {
    free(text);
    return hull_error(err, errno, "config.User \"%s\": read %s", user, path);
  }
  text[n] = '\0';
  *out = text;
  return 0;
}

/* Calls fn with the fields of each line of an account file (name:x:id:...)
 * that has at least min_fields, until fn returns true. */
#define ACCOUNT_FIELDS 7
typedef bool account_line_fn(char *const *fields, void *ctx);

static bool each_account_line(const char *text, size_t min_fields,
                              account_line_fn *fn, void *ctx) {
  cleanup_free char *copy = xstrdup(text);
  char *rest = copy, *line;
  while ((line = strsep(&rest, "\n")) != NULL) {
    if (line[0] == '\0' || line[0] == '#')
      continue;
    char *fields[ACCOUNT_FIELDS] = {0}, *tok;
    size_t n = 0;
    while (n < ACCOUNT_FIELDS && (tok = strsep(&line, ":")) != NULL)
      fields[n++] = tok;
    if (n >= min_fields && fn(fields, ctx))
      return true;
  }
  return false;
}

/* A passwd entry looked for by name (name set) or by uid. */
struct passwd_query {
  const char *name;
  uint32_t uid, gid;
};

static bool passwd_matches(char *const *f, void *ctx) {
  struct passwd_query *q = ctx;
  uint32_t uid, gid;
  if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
    return false;
  if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
    return false;
  q->uid = uid;
  q->gid = gid;
  return true;
}

struct group_query {
  const char *name;
  uint32_t gid;
};

static bool group_matches(char *const *f, void *ctx) {
  struct group_query *q = ctx;
  if (strcmp(f[0], q->name) != 0 || !parse_id(f[2], &q->gid))
    return false;
  return true;
}

/* Collects the gid of every group that lists member, once each. */
struct member_query {
  const char *member;
  struct image_user *u;
};

static bool collect_membership(char *const *f, void *ctx) {
  struct member_query *q = ctx;
  uint32_t gid;
  if (!parse_id(f[2], &gid))
    return false;
  cleanup_free char *members = xstrdup(f[3]);
  char *rest = members, *m;
  while ((m = strsep(&rest, ",")) != NULL) {
    m[strcspn(m, " \r")] = '\0';
    if (strcmp(m, q->member) != 0)
      continue;
    struct image_user *u = q->u;
    for (size_t i = 0; i < u->n_additional_gids; i++)
      if (u->additional_gids[i] == gid)
        return false;
    u->additional_gids = xrealloc(
        u->additional_gids, (u->n_additional_gids + 1) * sizeof(uint32_t));
    u->additional_gids[u->n_additional_gids++] = gid;
    break;
  }
  return false; /* every line */
}

/* conversion.md "Config.User": numbers are copied; names resolved in the
 * image's /etc/passwd and /etc/group. A user without a group gets its
 * passwd gid; a user given by name and without a group also the groups
 * that list it (not for a uid, nor with a group: "SHOULD NOT modify"). */
static int resolve_user(const char *rootfs, const char *spec_user,
                        struct image_user *u, hull_error_t *err) {
  memset(u, 0, sizeof(*u));
  if (spec_user == NULL || spec_user[0] == '\0')
    return 0;
  cleanup_free char *user = xstrdup(spec_user);
  char *group = strchr(user, ':');
  if (group != NULL)
    *group++ = '\0';
  if (user[0] == '\0' || (group != NULL && group[0] == '\0'))
    return hull_error(err, 0, "config.User \"%s\": expected user[:group]",
                      spec_user);
  bool numeric_user = parse_id(user, &u->uid);
  bool numeric_group = group != NULL && parse_id(group, &u->gid);

  if (!numeric_user || group == NULL) {
    cleanup_free char *passwd = NULL;
    if (read_account_file(rootfs, "/etc/passwd", spec_user, &passwd, err) < 0)
      return -1;
    struct passwd_query q = {.name = numeric_user ? NULL : user,
                             .uid = u->uid};
    bool found = each_account_line(passwd, 4, passwd_matches, &q);
    if (!found && !numeric_user)
      return hull_error(err, 0,
                        "config.User \"%s\": no such user in /etc/passwd",
                        spec_user);
    u->uid = q.uid;
    if (group == NULL)
      u->gid = found ? q.gid : 0;
  }
  if ((group != NULL && !numeric_group) || (group == NULL && !numeric_user)) {
    cleanup_free char *groups = NULL;
    if (read_account_file(rootfs, "/etc/group", spec_user, &groups, err) < 0)
      return -1;
    if (group != NULL) {
      struct group_query q = {.name = group};
      if (!each_account_line(groups, 3, group_matches, &q))
        return hull_error(err, 0,
                          "config.User \"%s\": no such group in /etc/group",
                          spec_user);
      u->gid = q.gid;
    } else {
      struct member_query q = {.member = user, .u = u};
      each_account_line(groups, 4, collect_membership, &q);
    }
  }
  return 0;
}

/* ---- annotations ---------------------------------------------------------- */

struct annotations {
  struct spec_kv *items;
  size_t len;
};

static void annotations_free(struct annotations *a) {
  for (size_t i = 0; i < a->len; i++) {
    free(a->items[i].key);
    free(a->items[i].value);
  }
  free(a->items);
}

/* Sets key to value: in place when the key is there (precedence), else
 * appended. A NULL value sets nothing. */
static void annotation_set(struct annotations *a, const char *key,
                           const char *value) {
  if (value == NULL)
    return;
  for (size_t i = 0; i < a->len; i++)
    if (strcmp(a->items[i].key, key) == 0) {
      free(a->items[i].value);
      a->items[i].value = xstrdup(value);
      return;
    }
  a->items = xrealloc(a->items, (a->len + 1) * sizeof(*a->items));
  a->items[a->len].key = xstrdup(key);
  a->items[a->len].value = xstrdup(value);
  a->len++;
}

static void implicit_annotation(struct annotations *a, const char *name,
                                const char *value) {
  cleanup_free char *key = xasprintf(IMPLICIT_PREFIX "%s", name);
  annotation_set(a, key, value);
}

/* "80/tcp" -> "80:80/tcp": an exposed port on the same host port. */
static int same_port_mapping(const char *exposed, char **out,
                             hull_error_t *err) {
  const char *slash = strchr(exposed, '/');
  size_t len = slash ? (size_t)(slash - exposed) : strlen(exposed);
  const char *proto = slash ? slash + 1 : "tcp";
  unsigned port = 0;
  for (size_t i = 0; i < len && port <= 65535; i++)
    port = exposed[i] >= '0' && exposed[i] <= '9'
               ? port * 10 + (unsigned)(exposed[i] - '0')
               : 65536;
  if (len == 0 || port == 0 || port > 65535)
    return hull_error(err, 0, "config.ExposedPorts \"%s\": expected "
                      "port[/tcp|/udp], a port from 1 to 65535", exposed);
  if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
    return hull_error(err, 0, "config.ExposedPorts \"%s\": hull publishes tcp "
                      "and udp ports only (give the ports to publish)",
                      exposed);
  *out = xasprintf("%u:%u/%s", port, port, proto);
  return 0;
}

/* run.oci.network.ports: the caller's (checked now, so a typo fails here
 * with the field named), else each exposed port on the same host port. */
static int published_ports(const struct config_fields *c, const char *given,
                           char **out, hull_error_t *err) {
  *out = NULL;
  if (given != NULL) {
    if (given[0] == '\0')
      return 0;
    cleanup_free struct netns_port *ports = NULL;
    size_t n;
    if (netns_ports_parse(given, &ports, &n, err) < 0)
      return hull_error_wrap(err, "run.oci.network.ports");
    *out = xstrdup(given);
    return 0;
  }
  cleanup_strv char **items = xzalloc(sizeof(char *));
  for (size_t i = 0; c->exposed_ports && c->exposed_ports[i]; i++) {
    cleanup_free char *item = NULL;
    if (same_port_mapping(c->exposed_ports[i], &item, err) < 0)
      return -1;
    bool seen = false; /* "80" and "80/tcp" are one port */
    for (size_t j = 0; items[j] && !seen; j++)
      seen = strcmp(items[j], item) == 0;
    if (!seen)
      strv_append(&items, item);
  }
  if (items[0] != NULL)
    *out = join(items, ",");
  return 0;
}

static bool has_network_namespace(yajl_val defaults) {
  yajl_val list = member(member(defaults, "linux"), "namespaces");
  for (size_t i = 0; list && YAJL_IS_ARRAY(list) && i < list->u.array.len;
       i++) {
    yajl_val type = member(list->u.array.values[i], "type");
    if (type && YAJL_IS_STRING(type) &&
        strcmp(type->u.string, "network") == 0)
      return true;
  }
  return false;
}

static int network_annotations(const struct config_fields *c,
                               const struct image_run_options *o,
                               yajl_val defaults, struct annotations *a,
                               hull_error_t *err) {
  if (!o->network)
    return 0;
  if (!has_network_namespace(defaults))
    return hull_error(err, 0, "network: a network of hull's needs a network "
                      "namespace, which rootless containers do not get");
  cleanup_free char *ports = NULL;
  if (published_ports(c, o->ports, &ports, err) < 0)
    return -1;
  annotation_set(a, NETNS_ANNOTATION,
                 o->network_mode ? o->network_mode : "bridge");
  if (o->network_mode == NULL)
    annotation_set(a, NETNS_ANNOTATION ".bridge", o->network_name);
  annotation_set(a, NETNS_ANNOTATION ".ports", ports);
  return 0;
}

/* The caller's KEY=VALUE annotations (run.oci.* among them: the caller,
 * unlike the image, may pick a handler). */
static int callers_annotations(const struct image_run_options *o,
                               struct annotations *a, hull_error_t *err) {
  for (size_t i = 0; o->annotations && o->annotations[i]; i++) {
    const char *item = o->annotations[i];
    const char *eq = strchr(item, '=');
    if (eq == NULL || eq == item)
      return hull_error(err, 0, "annotation \"%s\": expected KEY=VALUE",
                        item);
    cleanup_free char *key = xstrndup(item, (size_t)(eq - item));
    annotation_set(a, key, eq + 1);
  }
  return 0;
}

/* conversion.md "Annotation Fields" and "Annotations": the implicit ones,
 * then Config.Labels over them (labels win a conflict), then the caller's,
 * then the network the caller asked for. */
static int build_annotations(const struct config_fields *c,
                             const struct image_run_options *o,
                             yajl_val defaults, struct annotations *a,
                             hull_error_t *err) {
  implicit_annotation(a, "os", c->os);
  implicit_annotation(a, "architecture", c->architecture);
  implicit_annotation(a, "variant", c->variant);
  implicit_annotation(a, "os.version", c->os_version);
  implicit_annotation(a, "os.features", c->os_features);
  implicit_annotation(a, "author", c->author);
  implicit_annotation(a, "created", c->created);
  implicit_annotation(a, "stopSignal", c->stop_signal);
  if (c->exposed_ports != NULL && c->exposed_ports[0] != NULL) {
    cleanup_free char *ports = join(c->exposed_ports, ",");
    implicit_annotation(a, "exposedPorts", ports);
  }
  for (size_t i = 0; c->labels && i < c->labels->u.object.len; i++) {
    const char *key = c->labels->u.object.keys[i];
    if (strncmp(key, HULL_ANNOTATION_PREFIX,
                strlen(HULL_ANNOTATION_PREFIX)) == 0)
      log_debug("image label %s left out: hull obeys " HULL_ANNOTATION_PREFIX
                "* annotations only from the caller", key);
    else
      annotation_set(a, key, YAJL_GET_STRING(c->labels->u.object.values[i]));
  }
  if (callers_annotations(o, a, err) < 0)
    return -1;
  return network_annotations(c, o, defaults, a, err);
}

/* ---- volumes -------------------------------------------------------------- */

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* path with "." and ".." taken out lexically, never above "/" (Go's
 * filepath.Clean, as docker cleans volume paths): a bind source made from
 * it stays under volumes_dir. */
static char *clean_path(const char *path) {
  cleanup_free char *copy = xstrdup(path);
  char **parts = xzalloc((strlen(path) + 1) * sizeof(char *));
  size_t n = 0;
  char *rest = copy, *part;
  while ((part = strsep(&rest, "/")) != NULL) {
    if (part[0] == '\0' || strcmp(part, ".") == 0)
      continue;
    if (strcmp(part, "..") == 0) {
      if (n > 0)
        n--;
      continue;
    }
    parts[n++] = part;
  }
  char *clean = xzalloc(strlen(path) + 2);
  for (size_t i = 0; i < n; i++) {
    strcat(clean, "/");
    strcat(clean, parts[i]);
  }
  if (n == 0)
    strcpy(clean, "/");
  free(parts);
  return clean;
}

/* The volume paths (cleaned) in mount order: sorted, so a parent comes
 * before the paths below it and does not hide their mounts. */
static int volume_paths(const struct config_fields *c,
                        const struct image_run_options *o, char ***out,
                        hull_error_t *err) {
  *out = NULL;
  if (o->volumes == IMAGE_VOLUMES_NONE || c->volumes == NULL)
    return 0;
  if (o->volumes == IMAGE_VOLUMES_BIND &&
      (o->volumes_dir == NULL || o->volumes_dir[0] != '/'))
    return hull_error(err, 0, "volumes_dir \"%s\": not an absolute path",
                      o->volumes_dir ? o->volumes_dir : "");
  cleanup_strv char **paths = xzalloc(sizeof(char *));
  for (size_t i = 0; c->volumes[i]; i++) {
    if (c->volumes[i][0] != '/')
      return hull_error(err, 0, "config.Volumes \"%s\": not an absolute path",
                        c->volumes[i]);
    cleanup_free char *clean = clean_path(c->volumes[i]);
    if (strcmp(clean, "/") == 0)
      return hull_error(err, 0, "config.Volumes \"%s\": the root itself",
                        c->volumes[i]);
    bool seen = false; /* "/data" and "/data/" are one volume */
    for (size_t j = 0; paths[j] && !seen; j++)
      seen = strcmp(paths[j], clean) == 0;
    if (!seen)
      strv_append(&paths, clean);
  }
  qsort(paths, strv_len(paths), sizeof(char *), compare_strings);
  *out = take_ptr(paths);
  return 0;
}

/* ---- the document --------------------------------------------------------- */

/* What the conversion puts in place of the default's members. */
struct conversion {
  const struct image_run_options *o;
  const char *rootfs;
  char **args, **env;
  const char *cwd;
  struct image_user user;
  struct annotations annotations;
  char **volumes;
};

static void conversion_free(struct conversion *v) {
  strv_free(v->args);
  strv_free(v->env);
  free(v->user.additional_gids);
  annotations_free(&v->annotations);
  strv_free(v->volumes);
}

static void gen_strv(yajl_gen g, char *const *v) {
  yajl_gen_array_open(g);
  for (size_t i = 0; v && v[i]; i++)
    json_gen_string(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_user(yajl_gen g, const struct image_user *u) {
  yajl_gen_map_open(g);
  json_gen_string(g, "uid");
  yajl_gen_integer(g, u->uid);
  json_gen_string(g, "gid");
  yajl_gen_integer(g, u->gid);
  if (u->n_additional_gids > 0) {
    json_gen_string(g, "additionalGids");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < u->n_additional_gids; i++)
      yajl_gen_integer(g, u->additional_gids[i]);
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_process(yajl_gen g, yajl_val process,
                        const struct conversion *v) {
  yajl_gen_map_open(g);
  for (size_t i = 0; i < process->u.object.len; i++) {
    const char *key = process->u.object.keys[i];
    json_gen_string(g, key);
    if (strcmp(key, "terminal") == 0)
      yajl_gen_bool(g, v->o->terminal);
    else if (strcmp(key, "user") == 0)
      gen_user(g, &v->user);
    else if (strcmp(key, "args") == 0)
      gen_strv(g, v->args);
    else if (strcmp(key, "env") == 0)
      gen_strv(g, v->env);
    else if (strcmp(key, "cwd") == 0)
      json_gen_string(g, v->cwd);
    else
      json_gen_tree(g, process->u.object.values[i]);
  }
  yajl_gen_map_close(g);
}

static void gen_root(yajl_gen g, const struct conversion *v) {
  yajl_gen_map_open(g);
  json_gen_string(g, "path");
  json_gen_string(g, v->rootfs);
  json_gen_string(g, "readonly");
  yajl_gen_bool(g, v->o->readonly_rootfs);
  yajl_gen_map_close(g);
}

/* A volume's mount: a tmpfs seeded from the image, or a bind of the
 * directory of the same path under volumes_dir. */
static void gen_volume_mount(yajl_gen g, const char *path,
                             const struct image_run_options *o) {
  bool bind = o->volumes == IMAGE_VOLUMES_BIND;
  cleanup_free char *source =
      bind ? xasprintf("%s%s", o->volumes_dir, path) : xstrdup("tmpfs");
  yajl_gen_map_open(g);
  json_gen_string(g, "destination");
  json_gen_string(g, path);
  json_gen_string(g, "type");
  json_gen_string(g, bind ? "bind" : "tmpfs");
  json_gen_string(g, "source");
  json_gen_string(g, source);
  json_gen_string(g, "options");
  if (bind)
    gen_strv(g, (char *[]){"rbind", "rw", "nosuid", "nodev", NULL});
  else
    gen_strv(g, (char *[]){"rw", "nosuid", "nodev", "tmpcopyup", NULL});
  yajl_gen_map_close(g);
}

/* The default's mounts, then one per volume. */
static void gen_mounts(yajl_gen g, yajl_val mounts,
                       const struct conversion *v) {
  yajl_gen_array_open(g);
  for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++)
    json_gen_tree(g, mounts->u.array.values[i]);
  for (size_t i = 0; v->volumes && v->volumes[i]; i++)
    gen_volume_mount(g, v->volumes[i], v->o);
  yajl_gen_array_close(g);
}

static void gen_annotations(yajl_gen g, const struct annotations *a) {
  yajl_gen_map_open(g);
  for (size_t i = 0; i < a->len; i++) {
    json_gen_string(g, a->items[i].key);
    json_gen_string(g, a->items[i].value);
  }
  yajl_gen_map_close(g);
}

static void gen_id_maps(yajl_gen g, const char *key,
                        const struct spec_id_mapping *v, size_t n) {
  json_gen_string(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_gen_map_open(g);
    json_gen_string(g, "containerID");
    yajl_gen_integer(g, v[i].container_id);
    json_gen_string(g, "hostID");
    yajl_gen_integer(g, v[i].host_id);
    json_gen_string(g, "size");
    yajl_gen_integer(g, v[i].size);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static bool is_user_namespace(yajl_val ns) {
  yajl_val type = member(ns, "type");
  return YAJL_IS_STRING(type) && strcmp(type->u.string, "user") == 0;
}

/* The default's namespaces and a new user namespace. */
static void gen_namespaces(yajl_gen g, yajl_val list) {
  yajl_gen_array_open(g);
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
    if (!is_user_namespace(list->u.array.values[i]))
      json_gen_tree(g, list->u.array.values[i]);
  yajl_gen_map_open(g);
  json_gen_string(g, "type");
  json_gen_string(g, "user");
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
}

/* linux with the caller's maps first, where runc's rootless spec has its
 * own. */
static void gen_linux(yajl_gen g, yajl_val linux,
                      const struct image_id_maps *m) {
  yajl_gen_map_open(g);
  gen_id_maps(g, "uidMappings", m->uid, m->n_uid);
  gen_id_maps(g, "gidMappings", m->gid, m->n_gid);
  for (size_t i = 0; i < linux->u.object.len; i++) {
    const char *key = linux->u.object.keys[i];
    if (strcmp(key, "uidMappings") == 0 || strcmp(key, "gidMappings") == 0)
      continue;
    json_gen_string(g, key);
    if (strcmp(key, "namespaces") == 0)
      gen_namespaces(g, linux->u.object.values[i]);
    else
      json_gen_tree(g, linux->u.object.values[i]);
  }
  yajl_gen_map_close(g);
}

/* The default document member by member, in its order, ours in place of
 * the members the conversion sets. */
static char *gen_document(yajl_val defaults, const struct conversion *v) {
  yajl_gen g = json_gen_new(true);
  yajl_gen_config(g, yajl_gen_indent_string, "\t");
  yajl_gen_map_open(g);
  bool hostname_done = false;
  for (size_t i = 0; i < defaults->u.object.len; i++) {
    const char *key = defaults->u.object.keys[i];
    yajl_val value = defaults->u.object.values[i];
    if (strcmp(key, "annotations") == 0)
      continue; /* hull spec has none; ours are the image's */
    json_gen_string(g, key);
    if (strcmp(key, "process") == 0 && YAJL_IS_OBJECT(value)) {
      gen_process(g, value, v);
    } else if (strcmp(key, "root") == 0) {
      gen_root(g, v);
    } else if (strcmp(key, "mounts") == 0) {
      gen_mounts(g, value, v);
    } else if (strcmp(key, "linux") == 0 && v->o->id_maps &&
               YAJL_IS_OBJECT(value)) {
      gen_linux(g, value, v->o->id_maps);
    } else if (strcmp(key, "hostname") == 0 && v->o->hostname != NULL) {
      json_gen_string(g, v->o->hostname);
      hostname_done = true;
    } else {
      json_gen_tree(g, value);
    }
  }
  if (v->o->hostname != NULL && !hostname_done) {
    json_gen_string(g, "hostname");
    json_gen_string(g, v->o->hostname);
  }
  if (v->annotations.len > 0) {
    json_gen_string(g, "annotations");
    gen_annotations(g, &v->annotations);
  }
  yajl_gen_map_close(g);
  return json_gen_finish_document(g);
}

static yajl_val default_document(bool rootless) {
  cleanup_free char *json = spec_default_json(rootless);
  yajl_val doc = yajl_tree_parse(json, NULL, 0);
  if (doc == NULL || !YAJL_IS_OBJECT(doc))
    abort(); /* hull's own default document: a bug, not an input error */
  return doc;
}

int image_runtime_config(const char *config_json, const char *rootfs,
                         const struct image_run_options *o, char **out,
                         hull_error_t *err) {
  *out = NULL;
  if (rootfs == NULL || rootfs[0] != '/')
    return hull_error(err, 0, "rootfs \"%s\": not an absolute path",
                      rootfs ? rootfs : "");
  struct config_fields c = {0};
  struct conversion v = {.o = o, .rootfs = rootfs};
  yajl_val defaults = default_document(o->rootless);
  int ret = -1;
  if (parse_image_config(config_json, &c, err) < 0 ||
      check_platform(&c, err) < 0 ||
      process_args(&c, o, &v.args, err) < 0 ||
      process_cwd(&c, &v.cwd, err) < 0 ||
      resolve_user(rootfs, c.user, &v.user, err) < 0 ||
      build_annotations(&c, o, defaults, &v.annotations, err) < 0 ||
      volume_paths(&c, o, &v.volumes, err) < 0)
    goto out;
  v.env = process_env(defaults, &c, o);
  *out = gen_document(defaults, &v);
  ret = 0;
out:
  conversion_free(&v);
  config_fields_free(&c);
  yajl_tree_free(defaults);
  return ret;
}
