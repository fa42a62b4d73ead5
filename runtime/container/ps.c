/* ps.c — `ps`: the processes of a container, from its cgroup. */
#include "lifecycle.h"

#include <stdlib.h>

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
                   hull_error_t *err) {
  *pids = NULL;
  *n = 0;
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  struct cgroup *cg = NULL;
  if (lifecycle_refuse_cgroupless(&lc, "ps", err) < 0 ||
      lifecycle_cgroup(&lc, &cg, err) < 0)
    return -1;
  /* A stopped container whose cgroup is gone simply has none (runc). */
  int ret = cg ? cgroup_pids(cg, pids, n, err) : 0;
  cgroup_free(cg);
  if (ret < 0)
    return hull_error_wrap(err, "unable to get all container pids");
  return 0;
}
