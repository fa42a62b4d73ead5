/* cgroups.h — the cgroup manager seam.
 *
 * A manager places a container in its own cgroup and removes that cgroup
 * again. hull detects the host's layout (cgroup v2 unified, v1/hybrid, or no
 * usable cgroupfs) and picks the matching implementation. `apply` writes
 * every linux.resources field (one file per controller: memory.c, cpu.c,
 * pids.c, blkio.c, hugetlb.c, rdma.c, net.c, unified.c; v1<->v2 value
 * conversions in convert.c; device rules in devices-v1.c and, as an eBPF
 * program, devices-v2.c). Freezing, stats, update and the systemd driver
 * are still to come; this interface is where they plug in. */
#ifndef HULL_CGROUPS_H
#define HULL_CGROUPS_H

#include "runtime/spec/spec.h"

enum cgroup_mode { CGROUP_MODE_V2, CGROUP_MODE_V1, CGROUP_MODE_DISABLED };

struct cgroup;                 /* one container's cgroup, opaque */

/* Paths follow runc's cgroupfs driver: an absolute path hangs off each
 * hierarchy's root, a relative one off the calling process's own cgroup in
 * each hierarchy (so `load` must run from the same cgroup as `create` for
 * relative paths). A path naming a root or the caller's own cgroup is
 * refused: destroy kills everything inside. */
struct cgroup_manager {
  const char *name;
  /* Creates the cgroup at `path` in every hierarchy the manager uses (v1:
   * every mounted one, incl. name=systemd and the hybrid cgroup2; v2: the
   * unified one) — mkdir -p; an existing cgroup is fine. */
  int (*create)(const struct cgroup_manager *m, const char *path,
                struct cgroup **out, hull_error_t *err);
  /* Moves a single-threaded process into the cgroup (v1 moves its one
   * thread; see fs.c for why). */
  int (*enter)(struct cgroup *cg, pid_t pid, hull_error_t *err);
  /* Applies linux.resources and allows linux.devices (l may be NULL).
   * A resource the manager cannot apply is an error naming the field, and
   * a failed write names the field, the value and the file. */
  int (*apply)(struct cgroup *cg, const struct spec_linux *l,
               hull_error_t *err);
  /* Sends sig to every process in the cgroup. */
  int (*signal_all)(struct cgroup *cg, int sig, hull_error_t *err);
  /* SIGKILLs what is left (v2: cgroup.kill first), waits a bounded time for
   * it to go, and removes the cgroup and any below it in every hierarchy; a
   * missing cgroup is fine, so destroy may run twice. Parents such as /hull
   * are left in place: removing them races with a concurrent create. */
  int (*destroy)(struct cgroup *cg, hull_error_t *err);
  /* Opens an existing cgroup by path (for delete/kill after create). */
  int (*load)(const struct cgroup_manager *m, const char *path,
              struct cgroup **out, hull_error_t *err);
};

enum cgroup_mode cgroup_detect_mode(void);
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode);

/* The path a container's cgroup gets: linux.cgroupsPath when set, cleaned
 * like runc's CleanPath (absolute stays absolute, relative stays relative,
 * ".." cannot climb out), else "/hull/<id>". (runc without cgroupsPath uses
 * "<own cgroup>/<id>"; hull prefers a fixed place it can find again.) */
char *cgroup_path_for(const struct spec *spec, const char *id);

/* An fd for clone3(CLONE_INTO_CGROUP) on v2, owned by cg; -1 on v1 and
 * disabled. */
int cgroup_dirfd(struct cgroup *cg);
/* Every pid in the cgroup and the cgroups below it (for kill --all), read
 * from one hierarchy: v1 prefers pids, then memory, then name=systemd. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, hull_error_t *err);
void cgroup_free(struct cgroup *cg);

#endif
