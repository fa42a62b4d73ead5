/* internal.h — what the cgroup managers (v1.c, v2.c, disabled.c) share
 * inside cgroups/. Nothing outside this folder includes it, except the
 * module's own unit test. */
#ifndef HULL_CGROUPS_INTERNAL_H
#define HULL_CGROUPS_INTERNAL_H

#include "cgroups/cgroups.h"

struct bpf_insn;

/* One mounted hierarchy as the calling process sees it. */
struct cgroup_hierarchy {
  char *controllers;         /* as /proc/self/cgroup names it: "memory",
                                "cpu,cpuacct", "name=systemd"; "" = cgroup2 */
  char *mountpoint;          /* "/sys/fs/cgroup/memory" */
  char *own_path;            /* the caller's cgroup in it, relative to the
                                mount: "/" or "/system.slice/x.service" */
};

struct cgroup_hierarchies { struct cgroup_hierarchy *items; size_t len; };

/* Pairs the lines of /proc/self/cgroup with the cgroup and cgroup2 mounts in
 * /proc/self/mountinfo (texts given, so tests can feed their own). A
 * hierarchy that is not mounted is left out. */
void cgroup_hierarchies_parse(const char *mountinfo, const char *self_cgroup,
                              struct cgroup_hierarchies *out);
/* own_cgroups: a /proc/self/cgroup text to resolve relative paths against
 * (see cgroup_own_cgroups); NULL: the caller's own. */
int cgroup_hierarchies_read(struct cgroup_hierarchies *out,
                            const char *own_cgroups, hull_error_t *err);
void cgroup_hierarchies_free(struct cgroup_hierarchies *h);

/* The directory of `path` in hierarchy h: absolute paths hang off the
 * hierarchy's root, relative ones off the caller's own cgroup (runc's
 * cgroupfs driver). Path is already cleaned (cgroup_path_clean). */
char *cgroup_hierarchy_dir(const struct cgroup_hierarchy *h, const char *path);

/* Normalizes a cgroupsPath like runc's CleanPath: collapses "//" and ".",
 * resolves ".." without climbing above the start, keeps it absolute or
 * relative. "" stays "". */
char *cgroup_path_clean(const char *path);

struct cgroup {
  const struct cgroup_manager *manager;
  char *path;                /* as given to create/load */
  char **dirs;               /* absolute directories, one per hierarchy */
  char **controllers;        /* parallel to dirs */
  size_t n_dirs;
  size_t procs_dir;          /* which dir cgroup_pids reads */
  int dirfd;                 /* v2: the cgroup directory; else -1 */
  bool v1_self_entered;      /* the process moves itself into the v1
                                hierarchies (cgroup_open_self_enter) */
  /* systemd driver only (systemd.c): the scope's unit and slice, the
   * cgroupfs cgroup of the scope's directory once it exists, and the
   * resources apply() keeps for enter() to start the scope with. */
  char *slice, *unit;
  struct cgroup *inner;
  const struct spec_linux *pending;
};

/* ---- systemd driver names (systemd.c) ---------------------------------------
 * runc's `slice:prefix:name` to a slice ("" = system.slice) and a unit
 * `prefix-name.scope` (`name.scope` without prefix). */
int cgroup_systemd_parse(const char *path, char **slice, char **unit,
                         hull_error_t *err);
/* A slice's directory below the cgroup root: "a-b.slice" ->
 * "/a.slice/a-b.slice", "-.slice" -> "". */
char *cgroup_systemd_slice_dir(const char *slice);

/* A cgroup at `path` in every hierarchy of hs for which keep(h) is true.
 * Refuses a path that would be a hierarchy's root or the caller's own
 * cgroup: destroy kills everything inside. */
int cgroup_new(const struct cgroup_manager *m, const char *path,
               const struct cgroup_hierarchies *hs,
               bool (*keep)(const struct cgroup_hierarchy *h),
               struct cgroup **out, hull_error_t *err);

/* Whether the comma-separated list `controllers` ("cpu,cpuacct") names
 * `name` (cgroups.c). */
bool cgroup_controllers_include(const char *controllers, const char *name);
/* Sleeps ms milliseconds, through signals (fs.c): polling where the kernel
 * gives no notification (v1 emptiness, freezer state). */
void cgroup_sleep_ms(long ms);

/* ---- cgroupfs operations shared by v1 and v2 (fs.c) ------------------- */

int cgroup_fs_enter(struct cgroup *cg, pid_t pid, hull_error_t *err);
int cgroup_fs_signal_all(struct cgroup *cg, int sig, hull_error_t *err);
/* SIGKILLs every process in any of the cgroup's directories until none is
 * left (bounded wait), then removes the directories deepest first. Missing
 * directories are fine. */
int cgroup_fs_destroy(struct cgroup *cg, hull_error_t *err);
/* The pids in dir and every cgroup below it, appended to *pids. */
int cgroup_fs_read_pids(const char *dir, pid_t **pids, size_t *n,
                        hull_error_t *err);
/* apply() for managers that set no resources yet: fine for NULL or empty,
 * otherwise an error naming the first field that is set. */
int cgroup_apply_unsupported(struct cgroup *cg, const struct spec_linux *l,
                             hull_error_t *err);
/* One device rule; major/minor -1 = any, type 'a' = every device. */
struct cgroup_device_rule {
  bool allow;
  char type;                 /* a, b or c */
  int64_t major, minor;
  const char *access;        /* some of "rwm" */
};
/* The ordered rules a container gets (devices.c), as runc's: deny all,
 * res->devices (res may be NULL: none), the devices every container needs (but those whose path
 * `devices`, linux.devices, redefines). The last matching rule decides.
 * Returns the count; free *out. */
size_t cgroup_device_rules(const struct spec_resources *res,
                           const struct spec_device *devices, size_t n_devices,
                           struct cgroup_device_rule **out);
/* v2: the rules as an eBPF program attached to the cgroup directory fd
 * (devices-v2.c). */
int cgroup_v2_apply_devices(int dirfd, const struct spec_resources *res,
                            const struct spec_device *devices,
                            size_t n_devices, hull_error_t *err);
/* The program itself (exposed for tests): instructions into *out (free
 * it), returns their count. */
size_t cgroup_device_program(const struct cgroup_device_rule *rules, size_t n,
                             struct bpf_insn **out);
/* v1: the devices controller's rules (devices-v1.c). */
int cgroup_v1_apply_devices(struct cgroup *cg,
                            const struct spec_resources *res,
                            const struct spec_device *devices,
                            size_t n_devices, hull_error_t *err);
/* The same per controller (resources.c): a manager applies a controller
 * only when its predicate names a field. */
const char *cgroup_memory_first_set(const struct spec_resources *r);
const char *cgroup_cpu_first_set(const struct spec_resources *r);
const char *cgroup_cpuset_first_set(const struct spec_resources *r);
const char *cgroup_pids_first_set(const struct spec_resources *r);
const char *cgroup_blkio_first_set(const struct spec_resources *r);
const char *cgroup_hugetlb_first_set(const struct spec_resources *r);
const char *cgroup_net_cls_first_set(const struct spec_resources *r);
const char *cgroup_net_prio_first_set(const struct spec_resources *r);
const char *cgroup_rdma_first_set(const struct spec_resources *r);
const char *cgroup_unified_first_set(const struct spec_resources *r);

/* ---- knobs (fs.c) ----------------------------------------------------------
 * One write(2) of value to <dir>/<file>. `field` is the spec path below
 * linux.resources the value came from; errors read
 *   linux.resources.memory.limit: write 1000 to <dir>/memory.limit_in_bytes:
 *   Device or resource busy */
bool cgroup_fs_has(const char *dir, const char *file);
int cgroup_fs_write(const char *dir, const char *file, const char *value,
                    const char *field, hull_error_t *err);
int cgroup_fs_write_u64(const char *dir, const char *file, uint64_t value,
                        const char *field, hull_error_t *err);
int cgroup_fs_write_i64(const char *dir, const char *file, int64_t value,
                        const char *field, hull_error_t *err);
/* A number file; "max" reads as UINT64_MAX. */
int cgroup_fs_read_u64(const char *dir, const char *file, uint64_t *out,
                       hull_error_t *err);

/* ---- v1 <-> v2 conversions (convert.c) ----------------------------------- */

/* cpu.shares [2, 262144] to cpu.weight [1, 10000]; 0 (unset) stays 0. The
 * quadratic-in-log2 formula of runc >= 1.3.2 and crun >= 1.23. */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares);
/* blkio weight [10, 1000] to io.weight [1, 10000] (runc's linear map). */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);
/* The OCI swap value (memory+swap, 0 = unset, -1 = unlimited) and memory
 * limit to memory.swap.max: *write false when nothing is to be written,
 * else *out is the swap alone in bytes or -1 for "max". */
int cgroup_swap_to_v2(int64_t swap, int64_t limit, bool *write, int64_t *out,
                      hull_error_t *err);

/* ---- one setter per controller -------------------------------------------
 * Each writes the fields of r it owns into the controller's directory dir
 * (v1: that hierarchy's; v2: the one cgroup directory), so tests can point
 * them at a temporary directory. */
int cgroup_v1_set_memory(const char *dir, const struct spec_resources *r,
                         hull_error_t *err);
int cgroup_v2_set_memory(const char *dir, const struct spec_resources *r,
                         hull_error_t *err);
int cgroup_v1_set_cpu(const char *dir, const struct spec_resources *r,
                      hull_error_t *err);
int cgroup_v2_set_cpu(const char *dir, const struct spec_resources *r,
                      hull_error_t *err);
int cgroup_set_cpuset(const char *dir, const struct spec_resources *r,
                      hull_error_t *err);
int cgroup_set_pids(const char *dir, const struct spec_resources *r,
                    hull_error_t *err);
int cgroup_v1_set_blkio(const char *dir, const struct spec_resources *r,
                        hull_error_t *err);
int cgroup_v2_set_io(const char *dir, const struct spec_resources *r,
                     hull_error_t *err);
int cgroup_set_hugetlb(const char *dir, const struct spec_resources *r,
                       bool v2, hull_error_t *err);
int cgroup_set_rdma(const char *dir, const struct spec_resources *r,
                    hull_error_t *err);
int cgroup_v1_set_net_cls(const char *dir, const struct spec_resources *r,
                          hull_error_t *err);
int cgroup_v1_set_net_prio(const char *dir, const struct spec_resources *r,
                           hull_error_t *err);
int cgroup_v2_set_unified(const char *dir, const struct spec_resources *r,
                          hull_error_t *err);

/* v2: every resource of r (not devices) into the cgroup directory dir. */
int cgroup_v2_apply_resources(const char *dir, const struct spec_resources *r,
                              hull_error_t *err);
/* v2: enables the wanted controllers (cpu cpuset io memory pids hugetlb
 * rdma misc, those the parent offers) in cgroup.subtree_control of every
 * ancestor of dir below root, and of root itself when with_root, so that
 * dir gets their files. Failures to enable are left to show as a missing
 * file when a resource needs it. */
int cgroup_v2_enable_controllers(const char *root, const char *dir,
                                 bool with_root, hull_error_t *err);

/* ---- freezer (freezer.c) ---------------------------------------------------
 * Freeze or thaw dir and wait for the kernel to finish: v1 through
 * freezer.state, v2 through cgroup.freeze and cgroup.events. */
int cgroup_v1_freeze(const char *dir, bool frozen, hull_error_t *err);
int cgroup_v2_freeze(const char *dir, bool frozen, hull_error_t *err);
int cgroup_v1_is_frozen(const char *dir, bool *frozen, hull_error_t *err);
int cgroup_v2_is_frozen(const char *dir, bool *frozen, hull_error_t *err);
/* The manager operations: the v1 freezer hierarchy when the cgroup has
 * one, else its cgroup2 directory (hybrid hosts and v2). */
int cgroup_fs_freeze(struct cgroup *cg, bool frozen, hull_error_t *err);
int cgroup_fs_frozen(struct cgroup *cg, bool *frozen, hull_error_t *err);

/* ---- stats (stats.c) -------------------------------------------------------
 * Each adds what its files say to *s; absent files leave zeros. */
int cgroup_v1_stats_cpu(const char *cpuacct_dir, const char *cpu_dir,
                        struct cgroup_stats *s, hull_error_t *err);
int cgroup_v1_stats_memory(const char *dir, struct cgroup_stats *s,
                           hull_error_t *err);
int cgroup_v1_stats_blkio(const char *dir, struct cgroup_stats *s,
                          hull_error_t *err);
int cgroup_stats_pids(const char *dir, struct cgroup_stats *s,
                      hull_error_t *err);
/* v1: cpuset.cpus, cpuset.mems and the flag files; v2: the effective
 * lists. */
int cgroup_stats_cpuset(const char *dir, bool v2, struct cgroup_stats *s,
                        hull_error_t *err);
int cgroup_stats_hugetlb(const char *dir, bool v2, struct cgroup_stats *s,
                         hull_error_t *err);
/* Everything, from one cgroup2 directory. */
int cgroup_v2_stats(const char *dir, struct cgroup_stats *s,
                    hull_error_t *err);
/* Everything, from each v1 controller's hierarchy. */
int cgroup_v1_stats(struct cgroup *cg, struct cgroup_stats *s,
                    hull_error_t *err);

#endif
