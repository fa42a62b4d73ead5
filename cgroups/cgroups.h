/* cgroups.h — the cgroup manager seam.
 *
 * A manager places a container in its own cgroup and removes that cgroup
 * again. hull detects the host's layout (cgroup v2 unified, v1/hybrid, or no
 * usable cgroupfs) and picks the matching implementation. `apply` writes
 * every linux.resources field (one file per controller: memory.c, cpu.c,
 * pids.c, blkio.c, hugetlb.c, rdma.c, net.c, unified.c; v1<->v2 value
 * conversions in convert.c; device rules in devices-v1.c and, as an eBPF
 * program, devices-v2.c). `freeze` and `frozen` (freezer.c) serve pause and
 * resume, `update` changes a running container's limits, `stats` (stats.c)
 * reads its usage, and oom.c watches for OOM kills. The systemd driver
 * (systemd.c, `--systemd-cgroup`) starts a transient scope over D-Bus and
 * then works on the scope's directory through the cgroupfs managers. */
#ifndef HULL_CGROUPS_H
#define HULL_CGROUPS_H

#include "runtime/spec/spec.h"

enum cgroup_mode { CGROUP_MODE_V2, CGROUP_MODE_V1, CGROUP_MODE_DISABLED };

struct cgroup;                 /* one container's cgroup, opaque */

/* ---- usage counters, the fields of runc's `events --stats` --------------
 * Times are nanoseconds, sizes bytes; a counter the host does not have is
 * 0. */
struct cgroup_memory_entry { uint64_t limit, usage, max, failcnt; };
struct cgroup_counter { char *name; uint64_t value; };
struct cgroup_blkio_entry { uint64_t major, minor; char *op; uint64_t value; };
struct cgroup_blkio_list { struct cgroup_blkio_entry *items; size_t len; };
struct cgroup_hugetlb_stats { char *page_size; uint64_t usage, max, failcnt; };

/* runc's blkio lists, in its JSON order. */
enum cgroup_blkio_kind {
  BLKIO_SERVICE_BYTES, BLKIO_SERVICED, BLKIO_QUEUED, BLKIO_SERVICE_TIME,
  BLKIO_WAIT_TIME, BLKIO_MERGED, BLKIO_TIME, BLKIO_SECTORS, BLKIO_KINDS
};

struct cgroup_stats {
  struct {
    uint64_t total, kernel, user;
    uint64_t *percpu, *percpu_kernel, *percpu_user;
    size_t n_percpu, n_percpu_kernel, n_percpu_user;
    uint64_t periods, throttled_periods, throttled_time;
  } cpu;
  struct {
    uint16_t *cpus, *mems; size_t n_cpus, n_mems;
    uint64_t cpu_exclusive, mem_hardwall, mem_exclusive, memory_migrate,
        memory_spread_page, memory_spread_slab, memory_pressure,
        sched_load_balance;
    int64_t sched_relax_domain_level;
  } cpuset;
  struct {
    uint64_t cache;
    struct cgroup_memory_entry usage, swap, kernel, kernel_tcp;
    struct cgroup_counter *raw; size_t n_raw;   /* memory.stat, in order */
  } memory;
  struct { uint64_t current, limit; } pids;    /* limit 0: none */
  struct cgroup_blkio_list blkio[BLKIO_KINDS];
  struct cgroup_hugetlb_stats *hugetlb; size_t n_hugetlb;
};
void cgroup_stats_release(struct cgroup_stats *s);

/* Paths follow runc's cgroupfs driver: an absolute path hangs off each
 * hierarchy's root, a relative one off the calling process's own cgroup in
 * each hierarchy at create (on a pure cgroup2 host off that cgroup's
 * parent, as runc's fs2 driver: a cgroup with processes in it gives its
 * children no controllers). runc resolves it there once and keeps the
 * directories in its state; hull keeps create's /proc/self/cgroup
 * (cgroup_own_cgroups) and hands it to `load`, so that delete, kill or
 * update run from another cgroup find the same directories. A path naming
 * a root or the caller's own cgroup is refused: destroy kills everything
 * inside. */
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
  /* Opens an existing cgroup by path (for delete/kill after create); a
   * relative path hangs off own_cgroups, create's /proc/self/cgroup text
   * (NULL: the caller's own cgroups). */
  int (*load)(const struct cgroup_manager *m, const char *path,
              const char *own_cgroups, struct cgroup **out,
              hull_error_t *err);
  /* Freezes (true) or thaws (false) every process in the cgroup and waits
   * until the kernel says it is done (v2: cgroup.freeze and cgroup.events;
   * v1: freezer.state). A host without a freezer is an error. */
  int (*freeze)(struct cgroup *cg, bool frozen, hull_error_t *err);
  /* Whether the cgroup is frozen now; false without a freezer. */
  int (*frozen)(struct cgroup *cg, bool *frozen, hull_error_t *err);
  /* Writes r into a live cgroup, as `update` does: every resource apply
   * writes except the device rules, which update cannot change (runc sets
   * SkipDevices the same way). */
  int (*update)(struct cgroup *cg, const struct spec_resources *r,
                hull_error_t *err);
  /* Reads the usage counters of every controller there is; a controller
   * that is not there leaves its part zero. Release with
   * cgroup_stats_release. */
  int (*stats)(struct cgroup *cg, struct cgroup_stats *out,
               hull_error_t *err);
};

/* The first set field of res (NULL: none) other than devices, as a path
 * below linux.resources ("memory.limit"), or NULL when none is. */
const char *cgroup_resources_first_set(const struct spec_resources *res);

enum cgroup_mode cgroup_detect_mode(void);
const struct cgroup_manager *cgroup_manager_for(enum cgroup_mode mode);

/* The path a container's cgroup gets: linux.cgroupsPath when set, cleaned
 * like runc's CleanPath (absolute stays absolute, relative stays relative,
 * ".." cannot climb out), else "/hull/<id>". (runc without cgroupsPath uses
 * "<own cgroup>/<id>"; hull prefers a fixed place it can find again.)
 * With systemd: cgroupsPath as given (runc's "slice:prefix:name"), else
 * "system.slice:hull:<id>". */
char *cgroup_path_for(const struct spec *spec, const char *id, bool systemd);

/* For a relative cgroupfs path, the calling process's /proc/self/cgroup,
 * which create saves for `load`; NULL (and 0) for any other path. */
int cgroup_own_cgroups(const char *path, char **out, hull_error_t *err);

/* Whether a container's saved cgroup path is a systemd one
 * ("slice:prefix:name"), so that every later command picks the manager
 * its create used without being told again. */
bool cgroup_path_is_systemd(const char *path);
/* The systemd driver when asked (--systemd-cgroup) or for such a path,
 * else the host's cgroupfs manager. */
const struct cgroup_manager *cgroup_manager_for_path(const char *path,
                                                     bool systemd);
/* Whether the systemd driver can serve path (NULL: any): it must be
 * "slice:prefix:name", and systemd the init (sd_booted), else
 * "--systemd-cgroup: systemd is not running (PID 1 is ...)". */
int cgroup_systemd_check(const char *path, hull_error_t *err);

/* `exec --cgroup [CONTROLLER:]SUB` (runc's sub-cgroups): moves cg down to
 * its existing sub-cgroup `sub` in the hierarchy that has `controller`, or
 * in every hierarchy when controller is NULL. A sub that leaves cg is
 * refused in runc's words ("../x is not a sub cgroup path"), as are a
 * controller cg has no hierarchy for ("unknown controller X") and a
 * directory that does not exist ("no such cgroup `DIR`"). */
int cgroup_descend(struct cgroup *cg, const char *controller,
                   const char *sub, hull_error_t *err);

/* As runc before create makes anything: refuses a cgroup at path that a
 * process would be frozen in (v1 freezer.state not THAWED, v2 cgroup.freeze
 * or a frozen ancestor; a missing cgroup is judged by its nearest existing
 * ancestor, which it would inherit the state of), with "container's cgroup
 * unexpectedly frozen: <file and value>". The init would otherwise freeze
 * half-way through its setup and create would wait on it forever. */
int cgroup_refuse_frozen(const struct cgroup_manager *m, const char *path,
                         hull_error_t *err);
/* An fd for clone3(CLONE_INTO_CGROUP) on v2, owned by cg; -1 on v1 and
 * disabled. */
int cgroup_dirfd(struct cgroup *cg);
/* Moving another process into a v1 cgroup takes the cgroup threadgroup
 * lock for writing, which waits for an RCU grace period (5-10 ms, the
 * largest single cost of create); a thread that writes "0" to `tasks`
 * moves itself without that lock. This opens `tasks` in each of cg's v1
 * hierarchies (*fds, *n; free *fds, close each) for a single-threaded
 * process about to be forked, which inherits them (they keep working in
 * its new namespaces) and must move itself through them before anything
 * of the container runs; enter() then leaves those hierarchies to it.
 * *n is 0 where nothing is to be done so: cgroup2 places a process at
 * clone, the systemd driver starts a scope with it. */
int cgroup_open_self_enter(struct cgroup *cg, int **fds, size_t *n,
                           hull_error_t *err);
/* Every pid in the cgroup and the cgroups below it (for kill --all), read
 * from one hierarchy: v1 prefers pids, then memory, then name=systemd. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, hull_error_t *err);
void cgroup_free(struct cgroup *cg);

/* ---- OOM notifications (oom.c) ---------------------------------------------
 * v1: an eventfd registered for memory.oom_control through
 * cgroup.event_control; v2: inotify on memory.events, whose oom_kill count
 * is compared with the last one seen. Poll cgroup_oom_watch_fd for input,
 * then call cgroup_oom_watch_read. A cgroup without a memory controller
 * gives a watch whose fd is -1: it never reports anything. */
struct cgroup_oom_watch;
int cgroup_oom_watch_open(struct cgroup *cg, struct cgroup_oom_watch **out,
                          hull_error_t *err);
int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w);
/* *ooms: how many OOM kills since the last read (0 for a wake-up that was
 * not one); *gone: the cgroup has been removed, nothing more will come. */
int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *ooms,
                          bool *gone, hull_error_t *err);
void cgroup_oom_watch_free(struct cgroup_oom_watch *w);

#endif
