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

int container_start(const char *root, const char *id, hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  if (check_startable(&lc, err) < 0)
    return -1;
  const struct exec_handler *h = exec_handler_named(lc.state->handler);
  if (h == NULL)
    return hull_error(err, 0, "unknown execution handler `%s`",
                      lc.state->handler);
  if (h->release(lc.dir.path, lc.state->pid, lc.state->pid_start_time,
                 err) < 0)
    return -1;
  const struct spec *spec = lifecycle_spec(&lc);
  if (spec) {
    cleanup_free char *json = state_oci_json(lc.state, STATUS_RUNNING, false);
    hooks_run_warn("poststart", &spec->hooks.poststart, json);
  }
  return 0;
}
