/* pause.c — `pause` and `resume`: freezing a container's processes with
 * its cgroup's freezer, and thawing them. The state needs no record of it:
 * lifecycle_status asks the freezer. */
#include "lifecycle.h"

static int set_frozen(struct lifecycle *lc, bool frozen, hull_error_t *err) {
  struct cgroup *cg = NULL;
  if (lifecycle_refuse_cgroupless(lc, frozen ? "pause" : "resume", err) < 0 ||
      lifecycle_cgroup(lc, &cg, err) < 0)
    return -1;
  if (cg == NULL)
    return hull_error(err, 0, "container %s has no cgroup to %s",
                      lc->state->id, frozen ? "freeze" : "thaw");
  int ret = lc->cgroups->freeze(cg, frozen, err);
  cgroup_free(cg);
  return ret;
}

int container_pause(const char *root, const char *id, hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  /* As runc: a created or running container can be paused, nothing else
   * (a paused one neither). */
  enum container_status status = lifecycle_status(&lc);
  if (status != STATUS_CREATED && status != STATUS_RUNNING)
    return hull_error(err, 0, "container not running");
  return set_frozen(&lc, true, err);
}

int container_resume(const char *root, const char *id, hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  if (lifecycle_status(&lc) != STATUS_PAUSED)
    return hull_error(err, 0, "container not paused");
  return set_frozen(&lc, false, err);
}
