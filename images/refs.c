/* refs.c — the store's names: refs.json maps a normalised name
 * ("docker.io/library/debian:12") to the descriptor of an index or a
 * manifest. Readers read the file as it is (it is only ever replaced by a
 * rename); writers take refs.lock, read, change, write tmp/refs.json-<pid>,
 * fsync and rename. */
#include "images/images.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define DOCKER_DOMAIN "docker.io"
#define NAME_MAX_LEN 255

/* ---- normalisation (distribution/reference's ParseNormalizedNamed) ------- */

bool image_ref_is_tag(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' &&
        t[i] != '-')
      return false;
  return true;
}

/* [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool path_component_ok(const char *c, size_t n) {
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < n && (islower((unsigned char)c[i]) ||
                     isdigit((unsigned char)c[i])))
      i++;
    if (i == start)
      return false;
    if (i == n)
      return true;
    if (c[i] == '.' || (c[i] == '_' && (i + 1 >= n || c[i + 1] != '_')))
      i++;
    else if (c[i] == '_')
      i += 2;
    else if (c[i] == '-')
      while (i < n && c[i] == '-')
        i++;
    else
      return false;
  }
}

static bool path_ok(const char *p) {
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!path_component_ok(p, n))
      return false;
    if (!slash)
      return true;
    p = slash + 1;
  }
}

/* A host name or address, with a port: loosely, what docker accepts. */
static bool domain_ok(const char *d, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)d[i]) && !strchr(".-:[]", d[i]))
      return false;
  return true;
}

/* Whether the first component of a name is a registry's host: docker's
 * rule (a dot or a port, or "localhost", or uppercase letters). */
static bool is_domain(const char *c, size_t n) {
  if (memchr(c, '.', n) || memchr(c, ':', n) ||
      (n == 9 && strncmp(c, "localhost", 9) == 0))
    return true;
  for (size_t i = 0; i < n; i++)
    if (isupper((unsigned char)c[i]))
      return true;
  return false;
}

static int bad_ref(const char *ref, const char *why, hull_error_t *err) {
  return hull_error(err, 0, "image name \"%s\": invalid reference format%s%s",
                    ref, why ? ": " : "", why ? why : "");
}

int image_ref_normalize(const char *ref, char **out, hull_error_t *err) {
  cleanup_free char *name = xstrdup(ref);
  char *digest = strchr(name, '@');
  if (digest) {
    *digest++ = '\0';
    struct image_digest d;
    if (image_digest_parse(digest, &d, err) < 0)
      return hull_error_wrap(err, "image name \"%s\"", ref);
  }
  char *last_slash = strrchr(name, '/');
  char *tag = strchr(last_slash ? last_slash : name, ':');
  if (tag) {
    *tag++ = '\0';
    if (!image_ref_is_tag(tag))
      return bad_ref(ref, "bad tag", err);
  }
  const char *slash = strchr(name, '/');
  cleanup_free char *domain = NULL;
  const char *path = name;
  if (slash && is_domain(name, (size_t)(slash - name))) {
    if (!domain_ok(name, (size_t)(slash - name)))
      return bad_ref(ref, "bad registry host", err);
    domain = xstrndup(name, (size_t)(slash - name));
    path = slash + 1;
  } else {
    domain = xstrdup(DOCKER_DOMAIN);
  }
  if (strcmp(domain, "index.docker.io") == 0) {
    free(domain);
    domain = xstrdup(DOCKER_DOMAIN);
  }
  for (const char *c = path; *c; c++)
    if (isupper((unsigned char)*c))
      return bad_ref(ref, "repository name must be lowercase", err);
  if (!path_ok(path))
    return bad_ref(ref, NULL, err);
  bool library = strcmp(domain, DOCKER_DOMAIN) == 0 && !strchr(path, '/');
  cleanup_free char *full = xasprintf(
      "%s/%s%s%s%s%s", domain, library ? "library/" : "", path,
      tag || !digest ? ":" : "", tag ? tag : (digest ? "" : "latest"),
      digest ? "@" : "");
  if (strlen(full) > NAME_MAX_LEN)
    return bad_ref(ref, "longer than 255 characters", err);
  *out = digest ? xasprintf("%s%s", full, digest) : take_ptr(full);
  return 0;
}

/* ---- refs.json ----------------------------------------------------------- */

void image_names_free(struct image_name *names, size_t n) {
  for (size_t i = 0; names && i < n; i++) {
    free(names[i].name);
    image_descriptor_clear(&names[i].target);
  }
  free(names);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct image_name *)a)->name,
                ((const struct image_name *)b)->name);
}

static int parse_refs(struct image_store *s, const char *json,
                      struct image_name **out, size_t *n, hull_error_t *err) {
  cleanup_free char *what = xasprintf("%s/refs.json", image_store_root(s));
  char msg[256] = "";
  yajl_val root = yajl_tree_parse(json, msg, sizeof(msg));
  const char *path[] = {"names", NULL};
  yajl_val names = root ? yajl_tree_get(root, path, yajl_t_object) : NULL;
  if (names == NULL) {
    yajl_tree_free(root);
    return hull_error(err, 0, "%s: not a names file (no .names object)",
                      what);
  }
  *n = names->u.object.len;
  *out = xzalloc((*n ? *n : 1) * sizeof(**out));
  int r = 0;
  for (size_t i = 0; r == 0 && i < *n; i++) {
    const char *name = names->u.object.keys[i];
    cleanup_free char *at = xasprintf(".names[\"%s\"]", name);
    (*out)[i].name = xstrdup(name);
    r = image_descriptor_parse(what, at, names->u.object.values[i],
                               &(*out)[i].target, err);
  }
  yajl_tree_free(root);
  if (r < 0) {
    image_names_free(*out, *n);
    *out = NULL;
    return -1;
  }
  qsort(*out, *n, sizeof(**out), by_name);
  return 0;
}

int image_refs_list(struct image_store *s, struct image_name **out,
                    size_t *n, hull_error_t *err) {
  *out = NULL;
  *n = 0;
  cleanup_free char *json = NULL;
  if (read_file_at(image_store_dirfd(s), "refs.json", &json, NULL, err) < 0) {
    if ((*err)->errno_value != ENOENT)
      return hull_error_wrap(err, "image store `%s`", image_store_root(s));
    hull_error_release(err);
    return 0;
  }
  return parse_refs(s, json, out, n, err);
}

static int write_refs(struct image_store *s, const struct image_name *names,
                      size_t n, hull_error_t *err) {
  yajl_gen g = json_gen_new(true);
  yajl_gen_map_open(g);
  json_gen_string(g, "names");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < n; i++) {
    if (names[i].name == NULL)   /* removed */
      continue;
    json_gen_string(g, names[i].name);
    image_descriptor_to_json(g, &names[i].target);
  }
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  cleanup_free char *json = json_gen_finish(g);
  int dirfd = image_store_dirfd(s);
  cleanup_free char *tmp = xasprintf("tmp/refs.json-%d", (int)getpid());
  cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
                                O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return hull_error(err, errno, "create `%s/%s`", image_store_root(s), tmp);
  if (write_all(fd, json, strlen(json)) < 0 || write_all(fd, "\n", 1) < 0 ||
      fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, "refs.json") < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return hull_error(err, e, "write `%s/refs.json`", image_store_root(s));
  }
  if (fsync(dirfd) < 0)
    return hull_error(err, errno, "fsync `%s`", image_store_root(s));
  return 0;
}

static int lock_refs(struct image_store *s, int *out, hull_error_t *err) {
  cleanup_close int fd = openat(image_store_dirfd(s), "refs.lock",
                                O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                                0600);
  if (fd < 0)
    return hull_error(err, errno, "open `%s/refs.lock`", image_store_root(s));
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return hull_error(err, errno, "lock `%s/refs.lock`",
                        image_store_root(s));
  *out = take_fd(&fd);
  return 0;
}

static struct image_name *find_name(struct image_name *names, size_t n,
                                    const char *name) {
  for (size_t i = 0; i < n; i++)
    if (names[i].name && strcmp(names[i].name, name) == 0)
      return &names[i];
  return NULL;
}

int image_refs_set(struct image_store *s, char *const *new_names,
                   const struct image_descriptor *target, hull_error_t *err) {
  cleanup_close int lock = -1;
  if (lock_refs(s, &lock, err) < 0)
    return -1;
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  size_t more = strv_len(new_names);
  names = xrealloc(names, (n + more + 1) * sizeof(*names));
  for (size_t i = 0; i < more; i++) {
    struct image_name *e = find_name(names, n, new_names[i]);
    if (e == NULL) {
      e = &names[n++];
      memset(e, 0, sizeof(*e));
      e->name = xstrdup(new_names[i]);
    }
    image_descriptor_clear(&e->target);
    image_descriptor_copy(&e->target, target);
    free(take_ptr(e->target.ref_name));
    image_platform_clear(&e->target.platform);
  }
  int r = write_refs(s, names, n, err);
  image_names_free(names, n);
  return r;
}

/* ---- lookups ----------------------------------------------------------------- */

static bool is_hex(const char *s) {
  return *s && strspn(s, "0123456789abcdef") == strlen(s);
}

/* The hex (prefix) a digest-like ref asks for, NULL when ref is no digest:
 * "sha256:<hex>", "<name>@sha256:<hex>", or 4 to 128 hex digits. */
static const char *digest_part(const char *ref) {
  const char *at = strchr(ref, '@');
  if (at)
    ref = at + 1;
  if (strncmp(ref, "sha256:", 7) == 0 || strncmp(ref, "sha512:", 7) == 0)
    return ref;
  size_t n = strlen(ref);
  return n >= 4 && n <= 128 && is_hex(ref) ? ref : NULL;
}

static bool digest_matches(const struct image_digest *d, const char *want) {
  const char *hex = strchr(want, ':') ? d->text : image_digest_hex(d);
  return strncmp(hex, want, strlen(want)) == 0 &&
         (!strchr(want, ':') || strlen(want) == strlen(d->text));
}

/* The one digest among the names that want (a digest or prefix) means. */
static int match_digest(const char *ref, const char *want,
                        struct image_name *names, size_t n,
                        const struct image_digest **out, hull_error_t *err) {
  *out = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct image_digest *d = &names[i].target.digest;
    if (!digest_matches(d, want) || (*out && strcmp((*out)->text, d->text) == 0))
      continue;
    if (*out)
      return hull_error(err, 0, "image \"%s\": more than one image matches "
                                "(%s, %s)", ref, (*out)->text, d->text);
    *out = d;
  }
  if (*out == NULL)
    return hull_error(err, 0, "image \"%s\": no such image", ref);
  return 0;
}

static int lookup(const char *ref, struct image_name *names, size_t n,
                  struct image_descriptor *out, hull_error_t *err) {
  cleanup_free char *name = NULL;
  cleanup_error hull_error_t name_err = NULL;
  if (image_ref_normalize(ref, &name, &name_err) == 0 && !strchr(name, '@')) {
    struct image_name *e = find_name(names, n, name);
    if (e) {
      image_descriptor_copy(out, &e->target);
      return 0;
    }
  }
  const char *want = digest_part(ref);
  if (want == NULL) {
    if (name_err)
      return hull_error(err, 0, "%s", name_err->msg);
    return hull_error(err, 0, "image \"%s\": no such image", ref);
  }
  const struct image_digest *d;
  if (match_digest(ref, want, names, n, &d, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (&names[i].target.digest == d)
      image_descriptor_copy(out, &names[i].target);
  return 0;
}

int image_refs_lookup(struct image_store *s, const char *ref,
                      struct image_descriptor *out, hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  int r = lookup(ref, names, n, out, err);
  image_names_free(names, n);
  return r;
}

static int remove_matching(const char *ref, struct image_name *names,
                           size_t n, char ***removed, hull_error_t *err) {
  cleanup_free char *name = NULL;
  cleanup_error hull_error_t ignored = NULL;
  struct image_name *e = NULL;
  if (image_ref_normalize(ref, &name, &ignored) == 0)
    e = find_name(names, n, name);
  if (e) {
    strv_append(removed, e->name);
    free(take_ptr(e->name));
    return 0;
  }
  struct image_descriptor target;
  if (lookup(ref, names, n, &target, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i].target.digest.text, target.digest.text) == 0) {
      strv_append(removed, names[i].name);
      free(take_ptr(names[i].name));
    }
  image_descriptor_clear(&target);
  return 0;
}

int image_refs_remove(struct image_store *s, const char *ref,
                      char ***removed, hull_error_t *err) {
  cleanup_close int lock = -1;
  if (lock_refs(s, &lock, err) < 0)
    return -1;
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  int r = remove_matching(ref, names, n, removed, err);
  if (r == 0)
    r = write_refs(s, names, n, err);
  image_names_free(names, n);
  return r;
}
