/* lifecycle.c — opening a container and tearing it down. */
#include "lifecycle.h"
#include "hooks/hooks.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const struct spec *lifecycle_spec(struct lifecycle *lc) {
  if (lc->spec || lc->spec_tried)
    return lc->spec;
  lc->spec_tried = true;
  cleanup_free char *path = xasprintf("%s/%s", lc->dir.path, STATE_CONFIG);
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file(path, &text, NULL, &err) < 0 ||
      spec_parse(text, strlen(text), "config.json", &lc->spec, &err) < 0)
    lc->spec = NULL;
  return lc->spec;
}

/* A create killed before its first state write leaves a bare directory:
 * it is an (empty) stopped container that delete can remove. */
static struct container_state *placeholder_state(const char *id) {
  struct container_state *st = xzalloc(sizeof(*st));
  st->id = xstrdup(id);
  return st;
}

struct lifecycle_cgroup_cache {
  struct cgroup *cg;
  bool loaded;
};

int lifecycle_open(const char *root, const char *id, struct lifecycle *lc,
                   hull_error_t *err) {
  *lc = (struct lifecycle){.dir = {.fd = -1}};
  if (state_dir_open(root, id, &lc->dir, err) < 0)
    return -1;
  cleanup_error hull_error_t read_err = NULL;
  if (state_read(&lc->dir, &lc->state, &read_err) < 0) {
    lc->state = placeholder_state(id);
    lc->state_missing = true;
  }
  lc->cgroups = cgroup_manager_for_path(lc->state->cgroup_path, false);
  lc->cgroup_cache = xzalloc(sizeof(*lc->cgroup_cache));
  return 0;
}

void lifecycle_close(struct lifecycle *lc) {
  if (lc->cgroup_cache) {
    cgroup_free(lc->cgroup_cache->cg);
    free(lc->cgroup_cache);
    lc->cgroup_cache = NULL;
  }
  state_dir_close(&lc->dir);
  container_state_free(lc->state);
  spec_free(lc->spec);
  lc->state = NULL;
  lc->spec = NULL;
}

int lifecycle_cgroup(const struct lifecycle *lc, struct cgroup **cg,
                     hull_error_t *err) {
  *cg = NULL;
  if (lc->state->cgroup_path == NULL || *lc->state->cgroup_path == '\0')
    return 0;
  return lc->cgroups->load(lc->cgroups, lc->state->cgroup_path,
                           lc->state->cgroup_own, cg, err);
}

int lifecycle_refuse_cgroupless(const struct lifecycle *lc, const char *what,
                                hull_error_t *err) {
  /* create records the path before it makes the cgroup, and drops it only
   * when it goes without one; a bare directory (a create that died
   * before) is no container to ask about. */
  if (lc->state_missing ||
      (lc->state->cgroup_path && *lc->state->cgroup_path))
    return 0;
  return hull_error(err, 0, "container %s runs without a cgroup (rootless: "
                    "none was writable when it was created): %s needs one",
                    lc->state->id, what);
}

/* The cgroup (NULL: none) for lifecycle.c's own use: owned by the cache
 * when there is one, else by the caller (*owned). A failed load is not
 * cached. */
static int cached_cgroup(const struct lifecycle *lc, struct cgroup **cg,
                         struct cgroup **owned, hull_error_t *err) {
  struct lifecycle_cgroup_cache *cache = lc->cgroup_cache;
  *owned = NULL;
  if (cache && cache->loaded) {
    *cg = cache->cg;
    return 0;
  }
  if (lifecycle_cgroup(lc, cg, err) < 0)
    return -1;
  if (cache) {
    cache->cg = *cg;
    cache->loaded = true;
  } else {
    *owned = *cg;
  }
  return 0;
}

/* A cgroup that cannot be read is not reported as paused: state and list
 * must still answer. */
static bool is_frozen(const struct lifecycle *lc) {
  struct cgroup *cg = NULL, *owned = NULL;
  cleanup_error hull_error_t err = NULL;
  bool frozen = false;
  if (cached_cgroup(lc, &cg, &owned, &err) == 0 && cg)
    lc->cgroups->frozen(cg, &frozen, &err);
  cgroup_free(owned);
  return frozen;
}

enum container_status lifecycle_status(const struct lifecycle *lc) {
  enum container_status s = state_status(&lc->dir, lc->state);
  if ((s == STATUS_CREATED || s == STATUS_RUNNING) && is_frozen(lc))
    return STATUS_PAUSED;
  return s;
}

int lifecycle_thaw_if_frozen(const struct lifecycle *lc, hull_error_t *err) {
  struct cgroup *cg = NULL, *owned = NULL;
  if (cached_cgroup(lc, &cg, &owned, err) < 0)
    return -1;
  bool frozen = false;
  int ret = 0;
  if (cg)
    ret = lc->cgroups->frozen(cg, &frozen, err);
  if (ret == 0 && frozen)
    ret = lc->cgroups->freeze(cg, false, err);
  cgroup_free(owned);
  return ret;
}

static void reap_if_child(pid_t pid) {
  /* `run` is the init's parent; after `create` exited it is not ours. */
  while (waitpid(pid, NULL, WNOHANG) < 0 && errno == EINTR)
    ;
}

static int wait_until_gone(const struct container_state *st,
                           hull_error_t *err) {
  for (int i = 0; i < 2000; i++) {
    reap_if_child(st->pid);
    if (!process_is_alive(st->pid, st->pid_start_time))
      return 0;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return hull_error(err, 0, "container init %d did not exit after SIGKILL",
                    (int)st->pid);
}

static int kill_cgroup(struct lifecycle *lc, hull_error_t *err) {
  struct cgroup *cg = NULL, *owned = NULL;
  if (cached_cgroup(lc, &cg, &owned, err) < 0)
    return -1;
  int ret = cg ? lc->cgroups->signal_all(cg, SIGKILL, err) : 0;
  cgroup_free(owned);
  return ret;
}

/* A container with a pid namespace of its own (made for it, not joined)
 * dies with its init: the kernel kills the rest of the namespace. When its
 * cgroup also holds processes that are not its own (containers sharing a
 * linux.cgroupsPath, as create found), only the init is killed, as runc
 * does; otherwise everything in the cgroup is, which also takes what a
 * half-done create or exec left there. */
static bool dies_with_its_init(struct lifecycle *lc) {
  if (!lc->state->cgroup_shared)
    return false;
  const struct spec *spec = lifecycle_spec(lc);
  /* A VM's cgroup holds only its own monitor and hypervisor: all go. */
  if (spec == NULL || exec_handler_for(spec)->signal_all != NULL)
    return false;
  const struct spec_namespace *ns = spec_namespace_find(spec, SPEC_NS_PID);
  return ns != NULL && ns->path == NULL;
}

int lifecycle_kill_all(struct lifecycle *lc, hull_error_t *err) {
  const struct container_state *st = lc->state;
  if (process_is_alive(st->pid, st->pid_start_time) &&
      kill(st->pid, SIGKILL) < 0 && errno != ESRCH)
    return hull_error(err, errno, "kill container init %d", (int)st->pid);
  /* Without a pid namespace the init's death does not take the rest. */
  if (!dies_with_its_init(lc) && kill_cgroup(lc, err) < 0)
    return -1;
  /* A paused container dies only once thawed (cgroup v1), as runc does it:
   * kill first, so nothing runs user code after the thaw. */
  if (lifecycle_thaw_if_frozen(lc, err) < 0)
    return -1;
  return wait_until_gone(st, err);
}

/* After the init's namespace died: what is left in the cgroup is someone
 * else's (create warned that the cgroup was not empty). The cgroup stays
 * for them, as with runc; the last container to go removes it. */
static bool shared_with_others(struct lifecycle *lc, struct cgroup *cg) {
  if (!dies_with_its_init(lc))
    return false;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  cleanup_error hull_error_t ignored = NULL;
  if (cgroup_pids(cg, &pids, &n, &ignored) < 0 || n == 0)
    return false;
  log_warning("container's cgroup `%s` still holds %zu process(es) of "
              "others: left in place", lc->state->cgroup_path, n);
  return true;
}

static int destroy_cgroup(struct lifecycle *lc, hull_error_t *err) {
  struct cgroup *cg = NULL, *owned = NULL;
  if (cached_cgroup(lc, &cg, &owned, err) < 0)
    return -1;
  int ret = cg && !shared_with_others(lc, cg) ? lc->cgroups->destroy(cg, err)
                                              : 0;
  cgroup_free(owned);
  return ret;
}

int lifecycle_destroy(struct lifecycle *lc, hull_error_t *err) {
  /* Before the kill: the init's death takes the namespace, and virtual
   * devices with it. A device that cannot come back is no reason to keep
   * the container. */
  cleanup_error hull_error_t net_err = NULL;
  if (net_devices_move_back(lc, &net_err) < 0)
    log_warning("%s", net_err->msg);
  if (lifecycle_kill_all(lc, err) < 0 || destroy_cgroup(lc, err) < 0 ||
      network_detach(lc, err) < 0)
    return -1;
  if (lc->state->rootfs_mount_below &&
      rootfs_release_shared(lc->state->rootfs, lc->state->rootfs_mount_below,
                            err) < 0)
    return -1;
  const struct spec *spec = lifecycle_spec(lc);
  if (spec && lc->state->bundle) {
    cleanup_free char *json = state_oci_json(lc->state, STATUS_STOPPED, false);
    hooks_run_warn("poststop", &spec->hooks.poststop, json);
  }
  /* The processes are gone: the ids are no one's now. */
  if (userns_auto_release(lc, err) < 0)
    return -1;
  return state_dir_remove(&lc->dir, err);
}
