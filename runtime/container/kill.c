/* kill.c — `kill`: signal a container's init, or all its processes. */
#include "lifecycle.h"

#include <errno.h>
#include <signal.h>

static bool has_own_pid_namespace(struct lifecycle *lc) {
  const struct spec *spec = lifecycle_spec(lc);
  const struct spec_namespace *ns =
      spec ? spec_namespace_find(spec, SPEC_NS_PID) : NULL;
  return ns != NULL && (ns->path == NULL || *ns->path == '\0');
}

static int signal_all(struct lifecycle *lc, int sig, bool stopped,
                      hull_error_t *err) {
  /* A VM's processes are in the guest: its handler reaches them. The
   * cgroup holds only the VM's host side, whose processes must not get
   * the container's signals; SIGKILL may still take them when the guest
   * cannot be reached, and a stopped container's cgroup holds what is
   * left. Signal 0 delivers nothing: the host side answers the probe. */
  const struct exec_handler *h = exec_handler_named(lc->state->handler);
  if (h && h->signal_all && !stopped && sig != 0) {
    cleanup_error hull_error_t handler_err = NULL;
    if (h->signal_all(lc->dir.path, sig, &handler_err) == 0)
      return 0;
    if (sig != SIGKILL) {
      hull_error_release(err);
      *err = take_ptr(handler_err);
      return -1;
    }
    log_debug("kill --all through the %s handler: %s", h->name,
              handler_err->msg);
  }
  /* Without a cgroup, SIGKILL of an init with a pid namespace of its own
   * takes every process of it; nothing else tells hull which they are. */
  if (lifecycle_refuse_cgroupless(lc, "kill --all", err) < 0) {
    if (sig != SIGKILL || !has_own_pid_namespace(lc))
      return -1;
    hull_error_release(err);
    if (!stopped && kill(lc->state->pid, SIGKILL) < 0 && errno != ESRCH)
      return hull_error(err, errno, "kill container init %d",
                        (int)lc->state->pid);
    return 0;
  }
  struct cgroup *cg = NULL;
  if (lc->cgroups->load(lc->cgroups, lc->state->cgroup_path,
                        lc->state->cgroup_own, &cg, err) < 0)
    return -1;
  int ret = cg ? lc->cgroups->signal_all(cg, sig, err) : 0;
  cgroup_free(cg);
  return ret;
}

int container_kill(const char *root, const char *id, int sig, bool all,
                   hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  enum container_status status = lifecycle_status(&lc);
  if (status == STATUS_STOPPED && !all)
    return hull_error(err, 0, "container not running");
  if (all) {
    if (signal_all(&lc, sig, status == STATUS_STOPPED, err) < 0)
      return -1;
  } else if (kill(lc.state->pid, sig) < 0) {
    /* It died and was reaped since the status check (another kill, or
     * its own exit): what the status would say now. */
    if (errno == ESRCH)
      return hull_error(err, 0, "container not running");
    return hull_error(err, errno, "kill container init %d",
                      (int)lc.state->pid);
  }
  /* A paused container gets other signals when it is resumed, as with
   * runc; SIGKILL thaws it, since on cgroup v1 it would not die frozen. */
  if (sig == SIGKILL && status == STATUS_PAUSED)
    return lifecycle_thaw_if_frozen(&lc, err);
  return 0;
}
