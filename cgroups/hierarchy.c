/* hierarchy.c — which cgroup hierarchies are mounted where, and where the
 * calling process sits in each: /proc/self/mountinfo joined with
 * /proc/self/cgroup. */
#include "cgroups/internal.h"

#include <stdlib.h>
#include <string.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_octal(const char *s) {
  char *out = xmalloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' &&
        s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 4;
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return out;
}

/* Whether the comma-separated list `set` holds the word `w` (length n). */
static bool list_has(const char *set, const char *w, size_t n) {
  for (const char *p = set; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, w, n) == 0)
      return true;
    p += len + (p[len] == ',');
  }
  return false;
}

/* Every controller of `controllers` is among the mount's super options. */
static bool options_name(const char *superopts, const char *controllers) {
  for (const char *p = controllers; *p;) {
    size_t len = strcspn(p, ",");
    if (!list_has(superopts, p, len))
      return false;
    p += len + (p[len] == ',');
  }
  return true;
}

struct cgroup_mount { char *root, *mountpoint, *superopts; bool v2; };

/* Splits one mountinfo line; false when it is not a cgroup mount. Fields:
 * id parent dev root mountpoint opts [optional...] - fstype source super. */
static bool parse_mount_line(char *line, struct cgroup_mount *m) {
  char *field[6], *save = NULL, *tok = strtok_r(line, " ", &save);
  int i = 0;
  for (; tok && i < 6; tok = strtok_r(NULL, " ", &save))
    field[i++] = tok;
  if (i < 6)
    return false;
  while (tok && strcmp(tok, "-") != 0)
    tok = strtok_r(NULL, " ", &save);
  char *fstype = strtok_r(NULL, " ", &save);
  char *source = strtok_r(NULL, " ", &save);
  char *superopts = strtok_r(NULL, " ", &save);
  if (fstype == NULL || source == NULL || superopts == NULL)
    return false;
  m->v2 = strcmp(fstype, "cgroup2") == 0;
  if (!m->v2 && strcmp(fstype, "cgroup") != 0)
    return false;
  m->root = field[3];
  m->mountpoint = field[4];
  m->superopts = superopts;
  return true;
}

/* The mount of the hierarchy named by a /proc/self/cgroup line: the first
 * whose root is the hierarchy's root, else the first at all. */
static const struct cgroup_mount *
find_mount(const struct cgroup_mount *mounts, size_t n,
           const char *controllers) {
  const struct cgroup_mount *any = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct cgroup_mount *m = &mounts[i];
    bool match = *controllers == '\0'
                     ? m->v2
                     : !m->v2 && options_name(m->superopts, controllers);
    if (!match)
      continue;
    if (strcmp(m->root, "/") == 0)
      return m;
    if (any == NULL)
      any = m;
  }
  return any;
}

/* own_path relative to the mount: a mount of a subtree (root "/a") shows
 * cgroup "/a/b" as "<mountpoint>/b". */
static char *relative_to_mount(const char *own, const char *root) {
  size_t n = strlen(root);
  if (strcmp(root, "/") == 0 || strncmp(own, root, n) != 0 ||
      (own[n] != '/' && own[n] != '\0'))
    return xstrdup(own);
  return xstrdup(own[n] ? own + n : "/");
}

void cgroup_hierarchies_parse(const char *mountinfo, const char *self_cgroup,
                              struct cgroup_hierarchies *out) {
  *out = (struct cgroup_hierarchies){0};
  cleanup_free char *mi = xstrdup(mountinfo);
  cleanup_free struct cgroup_mount *mounts = NULL;
  size_t n_mounts = 0;
  char *save = NULL;
  for (char *line = strtok_r(mi, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    struct cgroup_mount m;
    if (!parse_mount_line(line, &m))
      continue;
    mounts = xrealloc(mounts, (n_mounts + 1) * sizeof(*mounts));
    mounts[n_mounts++] = m;
  }

  cleanup_free char *sc = xstrdup(self_cgroup);
  for (char *line = strtok_r(sc, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    /* "<id>:<controllers>:<path>"; the path may itself hold ':'. */
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    const char *controllers = c1 + 1, *own = c2 + 1;
    const struct cgroup_mount *m = find_mount(mounts, n_mounts, controllers);
    if (m == NULL)
      continue;
    out->items = xrealloc(out->items, (out->len + 1) * sizeof(*out->items));
    out->items[out->len++] = (struct cgroup_hierarchy){
        .controllers = xstrdup(controllers),
        .mountpoint = unescape_octal(m->mountpoint),
        .own_path = relative_to_mount(own, m->root),
    };
  }
}

int cgroup_hierarchies_read(struct cgroup_hierarchies *out,
                            const char *own_cgroups, hull_error_t *err) {
  cleanup_free char *mountinfo = NULL, *self = NULL;
  if (read_file("/proc/self/mountinfo", &mountinfo, NULL, err) < 0 ||
      (own_cgroups == NULL &&
       read_file("/proc/self/cgroup", &self, NULL, err) < 0))
    return -1;
  cgroup_hierarchies_parse(mountinfo, own_cgroups ? own_cgroups : self, out);
  return 0;
}

int cgroup_own_cgroups(const char *path, char **out, hull_error_t *err) {
  *out = NULL;
  if (path == NULL || path[0] == '/' || path[0] == '\0' ||
      cgroup_path_is_systemd(path))
    return 0;
  return read_file("/proc/self/cgroup", out, NULL, err);
}

void cgroup_hierarchies_free(struct cgroup_hierarchies *h) {
  for (size_t i = 0; i < h->len; i++) {
    free(h->items[i].controllers);
    free(h->items[i].mountpoint);
    free(h->items[i].own_path);
  }
  free(h->items);
  *h = (struct cgroup_hierarchies){0};
}

char *cgroup_hierarchy_dir(const struct cgroup_hierarchy *h,
                           const char *path) {
  if (path[0] == '/')
    return xasprintf("%s%s", h->mountpoint, path);
  const char *own = strcmp(h->own_path, "/") == 0 ? "" : h->own_path;
  return xasprintf("%s%s/%s", h->mountpoint, own, path);
}
