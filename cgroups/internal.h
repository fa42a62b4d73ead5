/* internal.h — what the cgroup managers (v1.c, v2.c, disabled.c) share
 * inside cgroups/. Nothing outside this folder includes it, except the
 * module's own unit test. */
#ifndef HULL_CGROUPS_INTERNAL_H
#define HULL_CGROUPS_INTERNAL_H

#include "cgroups/cgroups.h"

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
int cgroup_hierarchies_read(struct cgroup_hierarchies *out, hull_error_t *err);
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
};

/* A cgroup at `path` in every hierarchy of hs for which keep(h) is true.
 * Refuses a path that would be a hierarchy's root or the caller's own
 * cgroup: destroy kills everything inside. */
int cgroup_new(const struct cgroup_manager *m, const char *path,
               const struct cgroup_hierarchies *hs,
               bool (*keep)(const struct cgroup_hierarchy *h),
               struct cgroup **out, hull_error_t *err);

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
/* v1: the devices controller's rules (devices-v1.c). */
int cgroup_v1_apply_devices(struct cgroup *cg,
                            const struct spec_resources *res,
                            const struct spec_device *devices,
                            size_t n_devices, hull_error_t *err);
/* The first set field of res other than devices, as a JSON path, or NULL
 * when none is. */
const char *cgroup_resources_first_set(const struct spec_resources *res);

#endif
