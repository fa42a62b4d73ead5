/* start.c — `start`: run the user program of a created container. */
#include "lifecycle.h"
#include "hooks/hooks.h"

static int check_startable(const struct lifecycle *lc, hull_error_t *err) {
  switch (lifecycle_status(lc)) {
  case STATUS_CREATED:
    return 0;
  case STATUS_STOPPED:
    return hull_error(err, 0, "cannot start a container that has stopped");
  case STATUS_RUNNING:
    return hull_error(err, 0, "cannot start an already running container");
  default:
    return hull_error(err, 0, "cannot start a container in the %s state",
                      state_status_name(lifecycle_status(lc)));
  }
}

static void unlock_when_released(void *opaque) {
  state_dir_unlock(opaque);
}

/* Lets the process run; *notify_fd is the bound notify socket (or -1) and
 * *pid the init, for the relay that follows. The lock is held until the
 * init is let go: what follows (its exec, the poststart hooks, READY=1)
 * waits on the container and must not keep kill or delete out. */
static int start_process(const char *root, const char *id, int *notify_fd,
                         pid_t *pid, hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  if (check_startable(&lc, err) < 0)
    return -1;
  *pid = lc.state->pid;
  /* Bound before the process runs, so no READY=1 is lost. */
  if (notify_socket_bind(lc.dir.path, notify_fd, err) < 0)
    return -1;
  const struct exec_handler *h = exec_handler_named(lc.state->handler);
  if (h == NULL)
    return hull_error(err, 0, "unknown execution handler `%s`",
                      lc.state->handler);
  const struct spec *spec = lifecycle_spec(&lc);
  if (h->release(lc.dir.path, lc.state->pid, lc.state->pid_start_time,
                 unlock_when_released, &lc.dir, err) < 0)
    return -1;
  if (spec) {
    cleanup_free char *json = state_oci_json(lc.state, STATUS_RUNNING, false);
    hooks_run_warn("poststart", &spec->hooks.poststart, json);
  }
  return 0;
}

/* As runc: with NOTIFY_SOCKET set, start returns once the container said
 * READY=1 (passed on to the host) or its init exited. */
int container_start(const char *root, const char *id, hull_error_t *err) {
  cleanup_close int notify_fd = -1;
  pid_t pid = 0;
  if (start_process(root, id, &notify_fd, &pid, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  return notify_socket_relay(notify_fd, pid, err);
}
