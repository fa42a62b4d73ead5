/* lifecycle.h — one open container, shared by the lifecycle's verbs
 * (private to runtime/container). */
#ifndef HULL_CONTAINER_LIFECYCLE_H
#define HULL_CONTAINER_LIFECYCLE_H

#include "container.h"
#include "cgroups/cgroups.h"

struct lifecycle {
  struct state_dir dir;      /* locked */
  struct container_state *state;
  bool state_missing;        /* a bare directory: create died before
                                writing state.json; state is a placeholder */
  struct spec *spec;         /* the config.json copy, see lifecycle_spec */
  bool spec_tried;
  const struct cgroup_manager *cgroups;
};

/* Opens, locks and reads container `id`. */
int lifecycle_open(const char *root, const char *id, struct lifecycle *lc,
                   hull_error_t *err);
void lifecycle_close(struct lifecycle *lc);
/* The saved config, parsed on first use; NULL when it cannot be read. */
const struct spec *lifecycle_spec(struct lifecycle *lc);
#define cleanup_lifecycle __attribute__((cleanup(lifecycle_close)))

/* state_status, plus `paused` when the process is alive and the cgroup's
 * freezer holds it. */
enum container_status lifecycle_status(const struct lifecycle *lc);

/* The container's cgroup (*cg NULL when it has none, e.g. a create that
 * died early); free with cgroup_free. */
int lifecycle_cgroup(const struct lifecycle *lc, struct cgroup **cg,
                     hull_error_t *err);
/* Thaws the cgroup when it is frozen: on v1 a frozen task does not act on
 * a signal, not even SIGKILL, until it is thawed. */
int lifecycle_thaw_if_frozen(const struct lifecycle *lc, hull_error_t *err);

/* Kills the container's processes and waits until the init is gone. */
int lifecycle_kill_all(struct lifecycle *lc, hull_error_t *err);
/* Undoes everything create made: processes, cgroup, poststop hooks, state
 * directory. Safe to repeat after a crash half-way. */
int lifecycle_destroy(struct lifecycle *lc, hull_error_t *err);

/* Forwards the signals a foreground `run`/`exec` passes on (as runc) to
 * pid until it exits; returns its exit code (128+N when killed by N). */
int lifecycle_wait_forwarding(pid_t pid);
/* Blocks those signals (and SIGCHLD) ahead of the wait, so that one sent
 * before it starts is forwarded too, not fatal to hull; a child must
 * unblock them. */
void lifecycle_block_forwarded_signals(void);
/* Writes pid to path (--pid-file); path NULL: nothing. */
int lifecycle_write_pid_file(const char *path, pid_t pid, hull_error_t *err);
/* <root>/.cache, absolute (a child may change directory before it reads
 * it), for what containers share: compiled seccomp filters. NULL without a
 * seccomp profile, or when the root cannot be resolved: the cache is never
 * a reason to fail. */
char *lifecycle_cache_dir(const char *root, const struct spec *spec);

#endif
