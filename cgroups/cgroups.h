/* cgroups.h — the cgroup manager seam.
 *
 * A manager places a container in its own cgroup and removes that cgroup
 * again. hull detects the host's layout (cgroup v2 unified, v1/hybrid, or no
 * usable cgroupfs) and picks the matching implementation. Resource limits,
 * freezing, stats and the systemd driver are the cgroups issue's; this
 * interface is where they plug in. */
#ifndef HULL_CGROUPS_H
#define HULL_CGROUPS_H

#include "runtime/spec/spec.h"

enum cgroup_mode { CGROUP_MODE_V2, CGROUP_MODE_V1, CGROUP_MODE_DISABLED };

struct cgroup;                 /* one container's cgroup, opaque */

struct cgroup_manager {
  const char *name;
  /* Creates the cgroup at `path` (relative to each hierarchy's root). */
  int (*create)(const struct cgroup_manager *m, const char *path,
                struct cgroup **out, hull_error_t *err);
  /* Moves pid into the cgroup. */
  int (*enter)(struct cgroup *cg, pid_t pid, hull_error_t *err);
  /* Applies linux.resources (may be NULL). */
  int (*apply)(struct cgroup *cg, const struct spec_resources *res,
               hull_error_t *err);
  /* Sends sig to every process in the cgroup. */
  int (*signal_all)(struct cgroup *cg, int sig, hull_error_t *err);
  /* Kills what is left and removes the cgroup; a missing cgroup is fine. */
  int (*destroy)(struct cgroup *cg, hull_error_t *err);
  /* Opens an existing cgroup by path (for delete/kill after create). */
  int (*load)(const struct cgroup_manager *m, const char *path,
              struct cgroup **out, hull_error_t *err);
};

enum cgroup_mode cgroup_detect_mode(void);
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode);

/* The path a container's cgroup gets: linux.cgroupsPath when set (absolute
 * as given, relative under hull's parent), else "/hull/<id>". */
char *cgroup_path_for(const struct spec *spec, const char *id);

/* An fd for clone3(CLONE_INTO_CGROUP) on v2; -1 when not available. */
int cgroup_dirfd(struct cgroup *cg);
/* Every pid in the cgroup (for kill --all and delete). */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, hull_error_t *err);
void cgroup_free(struct cgroup *cg);

#endif
