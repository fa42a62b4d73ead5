/* linux.h — the Linux isolation primitives a container's process is built
 * from: the root filesystem (mounts resolved inside the rootfs, devices,
 * pivot_root, masked/readonly paths, sysctl) and the process that runs in
 * the namespaces (see process.c). */
#ifndef HULL_LINUX_H
#define HULL_LINUX_H

#include "runtime/spec/spec.h"

/* ---- root filesystem (rootfs.c, mounts.c, devices.c, resolve.c) ------- */

struct rootfs_options {
  const char *rootfs;        /* absolute host path of the bundle's rootfs */
  const char *bundle;        /* relative bind-mount sources resolve here */
  const char *cgroup_path;   /* the container's cgroup, for cgroup mounts */
  bool in_user_ns;           /* devices are bind-mounted, not mknod'ed */
  bool new_cgroup_ns;
  bool terminal;             /* /dev/console is wanted */
  /* No mount namespace of its own: the mounts go into the runtime's (as
   * runc), under the rootfs bound onto itself, and the root is changed
   * with chroot (rootfs_chroot); delete takes them down
   * (rootfs_release_shared). */
  bool shares_mount_ns;
  /* Per spec->mounts entry: a detached copy of the bind source that the
   * runtime made before the user namespace (rootfs_open_bind_sources), or
   * -1; NULL for none. */
  const int *bind_fds;
  /* A detached copy of the rootfs (rootfs_open_idmapped) attached at the
   * rootfs in place of binding it onto itself; NULL for none. */
  const int *rootfs_tree;
};

/* Runs in the container's child, inside its new mount namespace, before
 * pivot_root: sets root propagation (rootfsPropagation, default rslave as
 * runc), makes the rootfs a mount point, performs spec->mounts in order with
 * every destination resolved inside the rootfs, creates the default devices
 * and linux.devices, the /dev symlinks and /dev/ptmx. */
int rootfs_prepare(const struct spec *spec, const struct rootfs_options *opts,
                   hull_error_t *err);

/* Refuses what runc 1.2 refuses of idmapped mounts (uidMappings,
 * gidMappings, "idmap", "ridmap"): on anything but a bind mount, with only
 * one of the two mappings, or with neither and no user namespace to take
 * them from. Messages name mounts[i]. */
int rootfs_validate_idmaps(const struct spec *spec, hull_error_t *err);

/* Bind sources, which the root of a user namespace may not reach (a 0700
 * directory of the host's root on the way), are opened by the runtime, as
 * runc does:
 * - an idmapped bind's source, before the init exists: a detached copy
 *   (open_tree(OPEN_TREE_CLONE), recursive for rbind) given its mapping
 *   (mount_setattr MOUNT_ATTR_IDMAP, which only a detached mount takes).
 *   *fds gets spec->n_mounts entries, -1 where no copy was made (NULL
 *   without mounts); the init attaches them with move_mount.
 * - with a user namespace, every other bind's source, in the init's mount
 *   namespace once it exists (through /proc/<pid>/root, as the runtime):
 *   O_PATH fds the init binds from, so that the mounts under an rbind stay
 *   locked as the namespace's copies are. rootfs_source_from_runtime says
 *   which entries, rootfs_open_sources_in opens them in that order. */
int rootfs_open_bind_sources(const struct spec *spec, const char *bundle,
                             int **fds, hull_error_t *err);
bool rootfs_source_from_runtime(const struct spec *spec, size_t index);
int rootfs_open_sources_in(const struct spec *spec, const char *bundle,
                           pid_t pid, int **fds, size_t *n, hull_error_t *err);
void rootfs_close_bind_sources(int *fds, size_t n);

/* A detached copy of the mount tree at path (open_tree OPEN_TREE_CLONE;
 * recursive: with the mounts below it) that shows its files' ids through
 * the maps of the user namespace userns (mount_setattr MOUNT_ATTR_IDMAP):
 * shared files seen as another id range's, never chowned (idmap.c). `what`
 * names the tree in errors ("layer", "rootfs"); where the kernel cannot
 * idmap its file system the error names that and ends with `fallback`,
 * what to do instead. */
int idmap_clone_tree(const char *path, bool recursive, int userns,
                     const char *what, const char *fallback, int *tree,
                     hull_error_t *err);
/* The name of the file system path is on ("ext4", "ramfs", or its magic
 * number), for messages. */
char *fs_type_name(const char *path);
/* The rootfs, recursively, as idmap_clone_tree makes it for the spec's
 * linux.uidMappings and gidMappings (container root's files are the host
 * root's, seen as the container root's), for rootfs_options.rootfs_tree. */
int rootfs_open_idmapped(const struct spec *spec, const char *rootfs,
                         int *tree, hull_error_t *err);

/* pivot_root into the rootfs and detach the old root; with no_pivot,
 * MS_MOVE the rootfs onto / and chroot. Ends with cwd "/". */
int rootfs_pivot(const char *rootfs, bool no_pivot, hull_error_t *err);

/* Instead of rootfs_pivot for a container sharing the runtime's mount
 * namespace, where pivot_root or a move onto "/" would change the root of
 * every process on the host: chroot into the rootfs. Ends with cwd "/". */
int rootfs_chroot(const char *rootfs, hull_error_t *err);

/* The id of the mount `path` is on (statx's unique mount id where the
 * kernel has one); 0 when it cannot be told. */
uint64_t rootfs_mount_id(const char *path);

/* `delete` of a container that shared the runtime's mount namespace:
 * detaches the mount tree create stacked on `rootfs`, i.e. the mount
 * there when its id is no longer `below`, the id create saw before it
 * mounted anything. Nothing when there is none. */
int rootfs_release_shared(const char *rootfs, uint64_t below,
                          hull_error_t *err);

/* After the pivot: maskedPaths, readonlyPaths, linux.sysctl, the read-only
 * remount of / for root.readonly, and rootfsPropagation on the new root. */
int rootfs_finish(const struct spec *spec, hull_error_t *err);

/* Every OCI mount option rootfs_prepare understands, NULL-terminated
 * (for `hull features`). */
const char *const *rootfs_mount_option_names(void);

/* Opens `path` inside the directory tree at root_fd, never leaving it:
 * symlinks and ".." are resolved as if root_fd were "/" (openat2
 * RESOLVE_IN_ROOT, or an equivalent walk on old kernels). */
int open_in_root(int root_fd, const char *path, int flags, hull_error_t *err);
/* The component walk open_in_root falls back to; exposed so tests can run it
 * on a kernel that has openat2. */
int open_in_root_walk(int root_fd, const char *path, int flags,
                      hull_error_t *err);

/* Creates the missing components of `path` inside root_fd (directories; the
 * last one an empty file for CREATE_FILE), resolving symlinks and ".." the
 * way open_in_root does, so nothing is ever created outside the root. */
enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };
int create_in_root(int root_fd, const char *path, enum create_kind kind,
                   mode_t mode, hull_error_t *err);

/* After the pivot: binds the pty slave at pty_path over /dev/console (made
 * as an empty file when missing). */
int rootfs_bind_console(const char *pty_path, hull_error_t *err);

/* Refuses linux.sysctl keys whose namespace the container does not own, as
 * runc does; the message names the key. */
int rootfs_validate_sysctl(const struct spec *spec, hull_error_t *err);


/* ---- terminal (console.c) ---------------------------------------------- */

/* Parent: connects to --console-socket before the init is cloned. */
int console_connect(const char *socket_path, int *fd, hull_error_t *err);
/* Init, after pivot_root: makes the pty, sends its master over socket_fd,
 * applies consoleSize, binds it over /dev/console and makes it stdio. */
int console_setup(int socket_fd, const struct spec_process *p,
                  hull_error_t *err);
/* `exec`: the same for a process joining a running container, without
 * touching its /dev/console. */
int console_setup_exec(int socket_fd, const struct spec_process *p,
                       hull_error_t *err);
/* Sends a pty master over a connected --console-socket, as runc does
 * (SCM_RIGHTS; VM mode's host-side pty goes the same way). */
int console_send_master(int socket_fd, int master, hull_error_t *err);

/* ---- namespaces (namespaces.c, id-maps.c) -------------------------------- */

int ns_clone_flag(enum spec_ns_type type);
/* hull itself runs in a user namespace other than the initial one (as
 * under podman's rootless mode): root there cannot mknod, and may be
 * denied what the host's root owns. */
bool ns_running_in_user_ns(void);
/* Opens every namespace `path` of the spec (checking with NS_GET_NSTYPE that
 * it is a namespace of the declared type); fds[type] = -1 for the others. */
int ns_open_paths(const struct spec *spec, int fds[SPEC_NS_COUNT],
                  hull_error_t *err);
void ns_close_paths(int fds[SPEC_NS_COUNT]);
/* CLONE_NEW* flags of the namespaces the spec asks to create. */
int ns_new_flags(const struct spec *spec);
/* The same without CLONE_NEWCGROUP: a new cgroup namespace is unshared by
 * the init only once it is in its cgroup, which becomes the namespace's
 * root (on v1 the init is moved after it was cloned). */
int ns_clone_flags(const struct spec *spec);
/* Joins the opened namespaces, user first so the others are entered with
 * its privileges. */
int ns_join(int fds[SPEC_NS_COUNT], hull_error_t *err);
/* Parent side (id-maps.c): writes linux.uidMappings/gidMappings for pid.
 * Root writes them itself; a runtime that is not root writes a map of only
 * its own id itself (setgroups denied first for the gid map) and has
 * newuidmap/newgidmap write any other, whose refusal is the error
 * ("linux.uidMappings: newuidmap: uid range ... not allowed"). */
int ns_write_id_maps(const struct spec *spec, pid_t pid, hull_error_t *err);
/* A user namespace with these uid and gid maps ("containerID hostID size"
 * lines), held by *fd (for idmapped mounts). */
int ns_new_user_fd(const struct spec_id_mapping *uid, size_t n_uid,
                   const struct spec_id_mapping *gid, size_t n_gid, int *fd,
                   hull_error_t *err);
/* Child side, after unshare(CLONE_NEWTIME) and before the first fork into
 * it: linux.timeOffsets. */
int ns_write_time_offsets(const struct spec *spec, hull_error_t *err);

/* ---- the container process (process.c, sync.c, init.c) ----------------- */

/* Parent-side callbacks. on_ns_ready runs once the init's namespaces exist:
 * cgroup placement and the pid in state.json; it returns the state JSON the
 * init hands to its own hooks (createContainer, startContainer), or two
 * documents on two lines, the first for createContainer hooks and the
 * second for startContainer's. on_rootfs_ready runs once the rootfs is
 * mounted, before pivot_root: the prestart and createRuntime hooks (as
 * runc; hooks such as GPU setup mount into the prepared rootfs). */
typedef int (*process_ns_ready_fn)(void *ctx, pid_t pid, char **state_json,
                                   hull_error_t *err);
typedef int (*process_rootfs_ready_fn)(void *ctx, hull_error_t *err);

struct process_config {
  const struct spec *spec;
  const char *id;
  const char *bundle;        /* absolute */
  const char *rootfs;        /* absolute */
  const char *state_dir;     /* the container's state directory */
  int exec_fifo_fd;          /* O_PATH fd of exec.fifo (see create.c) */
  bool runtime_in_user_ns;   /* hull runs in a user namespace it did not
                                make (create_options') */
  const char *cache_dir;     /* <state root>/.cache (absolute), or NULL */
  const char *cgroup_path;
  int cgroup_fd;             /* clone3(CLONE_INTO_CGROUP) target, or -1 */
  /* v1 `tasks` files the init writes "0" into, moving itself into its
   * cgroup without the RCU grace period a move by the parent costs; the
   * parent moves it into the other hierarchies (on_ns_ready). */
  const int *cgroup_self_fds;
  size_t n_cgroup_self_fds;
  int console_fd;            /* connected --console-socket, or -1 */
  /* rootfs_open_idmapped's copy of the rootfs, which the init attaches
   * in place of binding the rootfs; -1 for none. */
  int rootfs_tree_fd;
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  process_ns_ready_fn on_ns_ready;
  process_rootfs_ready_fn on_rootfs_ready;
  void *ctx;
};

/* Starts the container's init: it enters or creates the namespaces, sets up
 * the rootfs and the process, and then waits on exec.fifo. Returns once it
 * waits (pid in *pid) or with the child's own error. The init is this
 * process's child (also when a pid namespace had to be joined). */
int process_spawn(const struct process_config *cfg, pid_t *pid,
                  hull_error_t *err);

/* `start`: releases an init waiting on <state_dir>/exec.fifo and waits until
 * it has exec'd the user program; the init's startContainer-hook or exec
 * error comes back as the error. released(ctx) (NULL: none) runs once the
 * init is let go, before that wait: the caller drops the container's lock
 * there. */
int process_release(const char *state_dir, pid_t pid, uint64_t start_time,
                    void (*released)(void *ctx), void *ctx,
                    hull_error_t *err);

/* ---- a process joining a container (exec.c) ------------------------------ */

/* Parent side: puts the new process (single-threaded, not yet in any of the
 * container's namespaces) into the container's cgroup. */
typedef int (*exec_enter_cgroup_fn)(void *ctx, pid_t pid, hull_error_t *err);

struct exec_config {
  const struct spec *spec;   /* the container's config; spec->process is
                                the process to run */
  pid_t init_pid;            /* whose namespaces and root are joined */
  uint64_t init_start_time;  /* against pid reuse */
  const char *state_dir;     /* the container's state directory */
  const char *cache_dir;     /* <state root>/.cache (absolute), or NULL */
  const char *state_json;    /* for a seccomp listener */
  int cgroup_fd;             /* clone3(CLONE_INTO_CGROUP) target, or -1 */
  /* As in process_config: v1 `tasks` files the child moves itself through;
   * enter_cgroup does the rest. */
  const int *cgroup_self_fds;
  size_t n_cgroup_self_fds;
  int console_fd;            /* connected --console-socket, or -1 */
  int preserve_fds;
  exec_enter_cgroup_fn enter_cgroup;
  void *ctx;
};

/* `exec`: starts spec->process in every namespace of the container's init
 * (user namespace first), its cgroup and its root, with the process's
 * user, cwd, env, rlimits, capabilities, no_new_privs, LSM label and the
 * container's seccomp filter. Returns once it has exec'd (pid in *pid, a
 * child of this process), or with its error (`exec: "x": ...`). */
int process_exec(const struct exec_config *cfg, pid_t *pid, hull_error_t *err);

#endif
