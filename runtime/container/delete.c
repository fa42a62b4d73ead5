/* delete.c — `delete`: remove a container and all create made. */
#include "lifecycle.h"

int container_delete(const char *root, const char *id, bool force,
                     hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  enum container_status status = lifecycle_status(&lc);
  /* As runc: a created container is deleted without --force (its init has
   * not run user code); a running or paused one needs it. */
  if ((status == STATUS_RUNNING || status == STATUS_PAUSED) && !force)
    return hull_error(err, 0,
                      "cannot delete container %s that is not stopped: %s",
                      id, state_status_name(status));
  return lifecycle_destroy(&lc, err);
}
