/* unified.c — linux.resources.unified: cgroup v2 files by name, written
 * after every other resource so they have the last word (runc's order).
 *
 * A key must name an existing file of the container's cgroup directory:
 * no '/', no "." or "..", in the form controller.knob. The cgroup.* files
 * that manage the tree (procs, threads, subtree_control, type, kill,
 * freeze) belong to the runtime and are refused; the two that are limits,
 * cgroup.max.depth and cgroup.max.descendants, are allowed. */
#include "cgroups/internal.h"

#include <string.h>

static const char *const allowed_cgroup_keys[] = {
    "cgroup.max.depth", "cgroup.max.descendants",
};

static const char *key_problem(const char *dir, const char *key) {
  if (*key == '\0' || strchr(key, '/') || strcmp(key, ".") == 0 ||
      strcmp(key, "..") == 0)
    return "must be a file name";
  const char *dot = strchr(key, '.');
  if (dot == NULL || dot == key || dot[1] == '\0')
    return "must be in the form controller.knob";
  if (strncmp(key, "cgroup.", 7) == 0) {
    bool ok = false;
    for (size_t i = 0; i < sizeof(allowed_cgroup_keys) / sizeof(char *); i++)
      ok = ok || strcmp(key, allowed_cgroup_keys[i]) == 0;
    if (!ok)
      return "is managed by the runtime";
  }
  if (!cgroup_fs_has(dir, key))
    return "does not exist (is its controller enabled?)";
  return NULL;
}

/* Each line is its own write, as cgroupfs parses one entry per write
 * (io.max with two devices, say). */
static int write_lines(const char *dir, const char *key, const char *value,
                       const char *field, hull_error_t *err) {
  if (*value == '\0' || strchr(value, '\n') == NULL)
    return cgroup_fs_write(dir, key, value, field, err);
  for (const char *p = value; *p;) {
    size_t n = strcspn(p, "\n");
    if (n > 0) {
      cleanup_free char *line = xstrndup(p, n);
      if (cgroup_fs_write(dir, key, line, field, err) < 0)
        return -1;
    }
    p += n + (p[n] == '\n');
  }
  return 0;
}

int cgroup_v2_set_unified(const char *dir, const struct spec_resources *r,
                          hull_error_t *err) {
  for (size_t i = 0; i < r->unified.len; i++) {
    const struct spec_kv *kv = &r->unified.items[i];
    cleanup_free char *field = xasprintf("unified.%s", kv->key);
    const char *problem = key_problem(dir, kv->key);
    if (problem)
      return hull_error(err, 0, "linux.resources.%s: `%s` %s", field, kv->key,
                        problem);
    if (write_lines(dir, kv->key, kv->value ? kv->value : "", field, err) < 0)
      return -1;
  }
  return 0;
}
