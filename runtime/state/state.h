/* state.h — where hull remembers containers between commands.
 *
 * Layout under --root (default /run/hull; a user other than root:
 * $XDG_RUNTIME_DIR/hull, see state_root_default):
 *   <root>/<id>/state.json   what `state` reports, written atomically
 *   <root>/<id>/config.json  the bundle's config as it was at create
 *   <root>/<id>/exec.fifo    exists while the container is `created`
 *   <root>/<id>/resources.json  linux.resources as of the last `update`
 *                               (runtime/container/update.c)
 * Every command holds an flock on <root>/<id> while it works, so concurrent
 * commands on one id take turns. */
#ifndef HULL_STATE_H
#define HULL_STATE_H

#include "runtime/spec/spec.h"

#define STATE_MAX_ID_LEN 1024
#define STATE_DEFAULT_ROOT "/run/hull"

/* The --root a command gets when none is given, by runc's rule (root.c):
 * $XDG_RUNTIME_DIR/hull for a user other than root, and for root in a user
 * namespace (in_user_ns: one hull did not make, as podman's rootless mode)
 * unless $USER is "root" -- made 0700 and sticky, as runc does; else
 * STATE_DEFAULT_ROOT. A user other than root without $XDG_RUNTIME_DIR is
 * an error saying so. */
int state_root_default(bool in_user_ns, char **root, hull_error_t *err);
/* The same path, for help, without making anything or failing. */
char *state_root_default_name(bool in_user_ns);

enum container_status {
  STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_STOPPED,
  STATUS_PAUSED
};

struct container_state {
  char *id;
  char *bundle;
  char *rootfs;
  char *created;             /* RFC 3339, UTC */
  char *owner;
  char *cgroup_path;
  char *cgroup_own;          /* create's /proc/self/cgroup, which a relative
                                cgroup_path hangs off; NULL otherwise */
  char *handler;             /* "process" or "vm" */
  pid_t pid;
  uint64_t pid_start_time;   /* /proc/<pid>/stat field 22, guards pid reuse */
  /* Without a mount namespace of its own the container's mounts live in
   * the runtime's: the id of the mount the rootfs was on before create
   * stacked its own onto it, for delete to tell them apart; else 0. */
  uint64_t rootfs_mount_below;
  /* The cgroup already held others' processes at create (runc's "not
   * empty" warning): delete kills only what is the container's, and leaves
   * the cgroup to them while they are in it. */
  bool cgroup_shared;
  /* The names inside of the linux.netDevices create has moved into the
   * container's network namespace, in config order (NULL-terminated; NULL:
   * none): delete moves those back. A name template ("net%d") is resolved
   * here. */
  char **net_devices_moved;
  /* run.oci.network=pasta|slirp4netns (runtime/container/user-network.c):
   * hull's keeper process, which stops the helper when the init dies, and
   * the helper itself; delete kills both. 0: none. */
  pid_t net_keeper_pid, net_helper_pid;
  uint64_t net_keeper_start_time, net_helper_start_time;
  struct spec_map annotations;
};

/* An id runc would accept: non-empty, at most STATE_MAX_ID_LEN, only
 * [A-Za-z0-9_+.-], not "." or "..". */
int state_validate_id(const char *id, hull_error_t *err);

/* A held container directory: the dir fd carries the flock. */
struct state_dir {
  int fd;
  char *path;
};
void state_dir_close(struct state_dir *d);
/* Drops the lock (closes the fd) and keeps the path: for a command that
 * goes on to wait on the container, which must not keep the others out
 * meanwhile (a paused container waits for `resume`). */
void state_dir_unlock(struct state_dir *d);
#define cleanup_state_dir __attribute__((cleanup(state_dir_close)))

/* Creates <root>/<id> and locks it; `container with id exists: ID` when it
 * is there already. */
int state_dir_create(const char *root, const char *id, struct state_dir *out,
                     hull_error_t *err);
/* Opens and locks <root>/<id>; `container does not exist` when absent. */
int state_dir_open(const char *root, const char *id, struct state_dir *out,
                   hull_error_t *err);
/* Removes the directory and everything in it (the lock goes with it). */
int state_dir_remove(struct state_dir *d, hull_error_t *err);

int state_write(const struct state_dir *d, const struct container_state *st,
                hull_error_t *err);
int state_read(const struct state_dir *d, struct container_state **out,
               hull_error_t *err);
void container_state_free(struct container_state *st);
void cleanup_container_statep(struct container_state **st);
#define cleanup_container_state \
  __attribute__((cleanup(cleanup_container_statep)))

/* The status as of now: stopped when the pid is gone or reused, created while
 * exec.fifo exists, else running. Paused needs the cgroup's freezer, which is
 * the lifecycle's to ask (runtime/container's lifecycle_status). */
enum container_status state_status(const struct state_dir *d,
                                   const struct container_state *st);
const char *state_status_name(enum container_status s);

/* The OCI state document (runtime.md "State"), as `hull state` prints it
 * and hooks read it on stdin. */
char *state_oci_json(const struct container_state *st,
                     enum container_status status, bool pretty);

/* Every container id under root, sorted. */
int state_list_ids(const char *root, char ***ids, hull_error_t *err);

/* /proc/<pid>/stat start time; 0 when the process is gone. */
uint64_t process_start_time(pid_t pid);
/* True while pid is alive, not a zombie, and started at start_time. */
bool process_is_alive(pid_t pid, uint64_t start_time);

/* ---- tenant id ranges: run.oci.userns=auto (userns-pool.c) ----------- */

/* Host uids [uid, uid+size) beside host gids [gid, gid+size). */
struct userns_span { uint32_t uid, gid, size; };

/* Where containers' ranges come from. */
struct userns_pool {
  struct userns_span *spans;
  size_t n;
  char *source;              /* for messages: "--userns-pool 100000:65536" */
};
/* --userns-pool START:SIZE: uids and gids START.. alike. Refuses a pool
 * holding id 0 or reaching (uid_t)-1. */
int userns_pool_parse(const char *text, struct userns_pool *pool,
                      hull_error_t *err);
/* user's entries in subuid and subgid (NAME:START:SIZE lines, NAME also
 * the user's uid), line i of one beside line i of the other; "no id pool:
 * /etc/subuid has no entry for user "hull" (...)" without any. */
int userns_pool_from_subid(const char *subuid, const char *subgid,
                           const char *user, struct userns_pool *pool,
                           hull_error_t *err);
void userns_pool_clear(struct userns_pool *pool);
/* The most ids one range can have. */
uint64_t userns_pool_largest(const struct userns_pool *pool);

/* A range taken for a create that is under way: a pending record under
 * <root>/.userns that the creator holds an flock on, so that a taker can
 * tell a create that died from one that runs. */
struct userns_lease {
  int fd;                    /* the record, flocked; -1: none */
  struct userns_span range;
  char *root;                /* --root */
  char *name;                /* the pending record's, in <root>/.userns */
};
/* The lowest free range of size ids in the pool for container id (whose
 * state dir exists), under the pool's lock; reclaims on the way the ranges
 * of containers whose state dir is gone and of creates that died. */
int userns_lease_take(const char *root, const char *id,
                      const struct userns_pool *pool, uint32_t size,
                      struct userns_lease *out, hull_error_t *err);
/* create succeeded: the range stays with the container until
 * userns_release; closes the lease. */
int userns_lease_commit(struct userns_lease *l, hull_error_t *err);
void userns_lease_close(struct userns_lease *l);
#define cleanup_userns_lease __attribute__((cleanup(userns_lease_close)))
/* Frees the ranges container id holds (delete, a failed create); none is
 * fine. */
int userns_release(const char *root, const char *id, hull_error_t *err);

#define STATE_EXEC_FIFO "exec.fifo"
#define STATE_CONFIG "config.json"
#define OCI_VERSION "1.2.0"

#endif
