/* pids.c — linux.resources.pids.limit: pids.max, the same file on v1 and
 * v2. Zero or negative means no limit ("max"). */
#include "cgroups/internal.h"

int cgroup_set_pids(const char *dir, const struct spec_resources *r,
                    hull_error_t *err) {
  if (!r->pids.limit.set)
    return 0;
  if (r->pids.limit.v <= 0)
    return cgroup_fs_write(dir, "pids.max", "max", "pids.limit", err);
  return cgroup_fs_write_i64(dir, "pids.max", r->pids.limit.v, "pids.limit",
                             err);
}
