/* freezer.c — pause and resume: freezing every process of a cgroup.
 *
 * cgroup v2 has the freezer in its core: cgroup.freeze asks, and the
 * "frozen" line of cgroup.events says when every task has stopped. v1 has
 * a freezer controller whose freezer.state goes THAWED -> FREEZING -> FROZEN.
 * A v1/hybrid host uses the v1 freezer when it is mounted and falls back to
 * the cgroup2 tree (which always has cgroup.freeze, controllers or not). */
#include "cgroups/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a freeze or thaw may take before it is an error; tasks in an
 * uninterruptible sleep hold a v1 freeze up. */
#define FREEZE_WAIT_MS 5000

/* Where to freeze: *v2 tells which kind of directory it is; NULL when the
 * cgroup has neither. */
static const char *freezer_dir(const struct cgroup *cg, bool *v2) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cgroup_controllers_include(cg->controllers[i], "freezer")) {
      *v2 = false;
      return cg->dirs[i];
    }
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cg->controllers[i][0] == '\0' &&
        cgroup_fs_has(cg->dirs[i], "cgroup.freeze")) {
      *v2 = true;
      return cg->dirs[i];
    }
  return NULL;
}

/* freezer.state's word, without the newline. */
static int v1_state(const char *dir, char *out, size_t size,
                    hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/freezer.state", dir);
  cleanup_free char *text = NULL;
  if (read_file(path, &text, NULL, err) < 0)
    return -1;
  text[strcspn(text, "\n")] = '\0';
  snprintf(out, size, "%s", text);
  return 0;
}

int cgroup_v1_freeze(const char *dir, bool frozen, hull_error_t *err) {
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (cgroup_fs_write(dir, "freezer.state", want, "freezer", err) < 0)
    return hull_error_wrap(err, "%s", frozen ? "freeze" : "thaw");
  /* A write of FROZEN returns at once with the state FREEZING; the kernel
   * finishes when every task has reached the refrigerator. */
  for (int waited = 0;; waited++) {
    char state[32];
    if (v1_state(dir, state, sizeof(state), err) < 0)
      return -1;
    if (strcmp(state, want) == 0)
      return 0;
    if (waited >= FREEZE_WAIT_MS) {
      if (frozen) {
        cleanup_error hull_error_t ignored = NULL;
        cgroup_fs_write(dir, "freezer.state", "THAWED", "freezer", &ignored);
      }
      return hull_error(err, EBUSY, "%s `%s`: freezer.state is still %s "
                        "after %d ms", frozen ? "freeze" : "thaw", dir, state,
                        FREEZE_WAIT_MS);
    }
    /* Writing again nudges tasks that were forking while we froze. */
    if (frozen && waited % 100 == 99 &&
        cgroup_fs_write(dir, "freezer.state", want, "freezer", err) < 0)
      return -1;
    cgroup_sleep_ms(1);
  }
}

/* The value of `key` in a flat keyed file ("populated 1\nfrozen 0\n");
 * -1 when the key is not there. */
static int64_t keyed_value(const char *text, const char *key) {
  size_t len = strlen(key);
  for (const char *p = text; *p;) {
    if (strncmp(p, key, len) == 0 && p[len] == ' ')
      return strtoll(p + len + 1, NULL, 10);
    const char *nl = strchr(p, '\n');
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  return -1;
}

int cgroup_v2_freeze(const char *dir, bool frozen, hull_error_t *err) {
  if (cgroup_fs_write(dir, "cgroup.freeze", frozen ? "1" : "0", "freezer",
                      err) < 0)
    return hull_error_wrap(err, "%s", frozen ? "freeze" : "thaw");
  cleanup_free char *events = xasprintf("%s/cgroup.events", dir);
  for (int waited = 0;; waited++) {
    cleanup_free char *text = NULL;
    if (read_file(events, &text, NULL, err) < 0)
      return -1;
    if (keyed_value(text, "frozen") == (frozen ? 1 : 0))
      return 0;
    if (waited >= FREEZE_WAIT_MS)
      return hull_error(err, EBUSY, "%s `%s`: cgroup.events does not say "
                        "frozen %d after %d ms", frozen ? "freeze" : "thaw",
                        dir, frozen, FREEZE_WAIT_MS);
    cgroup_sleep_ms(1);
  }
}

int cgroup_v1_is_frozen(const char *dir, bool *frozen, hull_error_t *err) {
  char state[32];
  if (v1_state(dir, state, sizeof(state), err) < 0)
    return -1;
  /* FROZEN may be inherited from a frozen ancestor; only our own freeze is
   * a pause (freezer.self_freezing, where the kernel has it). */
  if (strcmp(state, "FROZEN") == 0 &&
      cgroup_fs_has(dir, "freezer.self_freezing")) {
    uint64_t self;
    if (cgroup_fs_read_u64(dir, "freezer.self_freezing", &self, err) < 0)
      return -1;
    *frozen = self == 1;
    return 0;
  }
  *frozen = strcmp(state, "THAWED") != 0;
  return 0;
}

int cgroup_v2_is_frozen(const char *dir, bool *frozen, hull_error_t *err) {
  uint64_t v;
  if (cgroup_fs_read_u64(dir, "cgroup.freeze", &v, err) < 0)
    return -1;
  *frozen = v == 1;
  return 0;
}

int cgroup_fs_freeze(struct cgroup *cg, bool frozen, hull_error_t *err) {
  bool v2 = false;
  const char *dir = freezer_dir(cg, &v2);
  if (dir == NULL)
    return hull_error(err, 0, "cgroup `%s`: no freezer (neither a v1 freezer "
                      "hierarchy nor cgroup.freeze)", cg->path);
  return v2 ? cgroup_v2_freeze(dir, frozen, err)
            : cgroup_v1_freeze(dir, frozen, err);
}

int cgroup_fs_frozen(struct cgroup *cg, bool *frozen, hull_error_t *err) {
  bool v2 = false;
  const char *dir = freezer_dir(cg, &v2);
  *frozen = false;
  if (dir == NULL)
    return 0;
  int ret = v2 ? cgroup_v2_is_frozen(dir, frozen, err)
               : cgroup_v1_is_frozen(dir, frozen, err);
  if (ret < 0 && (*err)->errno_value == ENOENT) {
    hull_error_release(err);   /* the cgroup is gone: nothing is frozen */
    *frozen = false;
    return 0;
  }
  return ret;
}

/* ---- before create: a frozen cgroup would freeze the init mid-setup ---- */

/* dir, or its nearest ancestor that exists: a cgroup made below a frozen
 * one starts frozen. */
static char *nearest_existing(const char *dir) {
  char *p = xstrdup(dir);
  while (access(p, F_OK) < 0 && errno == ENOENT) {
    char *slash = strrchr(p, '/');
    if (slash == NULL || slash == p)
      break;
    *slash = '\0';
  }
  return p;
}

/* Why a task placed in dir would be frozen (*why NULL: it would not). A
 * hierarchy's root has no freezer files: nothing freezes it. */
static int v1_freezes(const char *dir, char **why, hull_error_t *err) {
  if (!cgroup_fs_has(dir, "freezer.state"))
    return 0;
  char state[32];
  if (v1_state(dir, state, sizeof(state), err) < 0)
    return -1;
  if (strcmp(state, "THAWED") != 0)
    *why = xasprintf("`%s/freezer.state` is %s", dir, state);
  return 0;
}

static int v2_freezes(const char *dir, char **why, hull_error_t *err) {
  if (!cgroup_fs_has(dir, "cgroup.freeze"))
    return 0;
  bool self = false;
  if (cgroup_v2_is_frozen(dir, &self, err) < 0)
    return -1;
  if (self) {
    *why = xasprintf("`%s/cgroup.freeze` is 1", dir);
    return 0;
  }
  /* Frozen by an ancestor: cgroup.freeze stays 0, the events say it. */
  cleanup_free char *events = xasprintf("%s/cgroup.events", dir);
  cleanup_free char *text = NULL;
  if (read_file(events, &text, NULL, err) < 0)
    return -1;
  if (keyed_value(text, "frozen") == 1)
    *why = xasprintf("`%s` says frozen 1", events);
  return 0;
}

int cgroup_refuse_frozen(const struct cgroup_manager *m, const char *path,
                         hull_error_t *err) {
  struct cgroup *cg = NULL;
  if (m->load(m, path, NULL, &cg, err) < 0)
    return -1;
  cleanup_free char *why = NULL;
  int ret = 0;
  for (size_t i = 0; cg && ret == 0 && why == NULL && i < cg->n_dirs; i++) {
    bool v1 = cgroup_controllers_include(cg->controllers[i], "freezer");
    bool v2 = cg->controllers[i][0] == '\0';
    if (!v1 && !v2)
      continue;
    cleanup_free char *dir = nearest_existing(cg->dirs[i]);
    ret = v1 ? v1_freezes(dir, &why, err) : v2_freezes(dir, &why, err);
  }
  cgroup_free(cg);
  if (ret < 0)
    return -1;
  if (why)
    return hull_error(err, 0, "container's cgroup unexpectedly frozen: %s",
                      why);
  return 0;
}
