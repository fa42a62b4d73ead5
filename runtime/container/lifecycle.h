/* lifecycle.h — one open container, shared by the lifecycle's verbs
 * (private to runtime/container). */
#ifndef HULL_CONTAINER_LIFECYCLE_H
#define HULL_CONTAINER_LIFECYCLE_H

#include "container.h"
#include "cgroups/cgroups.h"
#include "netns/netns.h"

#include <signal.h>

struct lifecycle {
  struct state_dir dir;      /* locked */
  struct container_state *state;
  bool state_missing;        /* a bare directory: create died before
                                writing state.json; state is a placeholder */
  struct spec *spec;         /* the config.json copy, see lifecycle_spec */
  bool spec_tried;
  const struct cgroup_manager *cgroups;
  /* The container's cgroup as loaded by the first lifecycle.c function
   * that needed it (the status check, kill, thaw and destroy of one
   * command would each read /proc/self/mountinfo otherwise); set up by
   * lifecycle_open, NULL: load every time. */
  struct lifecycle_cgroup_cache *cgroup_cache;
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
/* The container runs without a cgroup of its own (create fell back to
 * none, rootless: see create.c's run_without_cgroup): an error saying that
 * `what` needs one, else 0. */
int lifecycle_refuse_cgroupless(const struct lifecycle *lc, const char *what,
                                hull_error_t *err);
/* Thaws the cgroup when it is frozen: on v1 a frozen task does not act on
 * a signal, not even SIGKILL, until it is thawed. */
int lifecycle_thaw_if_frozen(const struct lifecycle *lc, hull_error_t *err);

/* Kills the container's processes and waits until the init is gone. */
int lifecycle_kill_all(struct lifecycle *lc, hull_error_t *err);
/* Undoes everything create made: processes, cgroup, poststop hooks, state
 * directory. Safe to repeat after a crash half-way. */
int lifecycle_destroy(struct lifecycle *lc, hull_error_t *err);

/* ---- linux.netDevices (net-devices.c) ---------------------------------- */

/* What create checks before it makes anything: the container has a
 * network namespace of its own, the names are interface names. */
int net_devices_check(const struct spec *spec, hull_error_t *err);
/* Moves them into the network namespace of pid (the init, namespaces
 * made), counting them in state.json as they go. */
int net_devices_move_in(struct lifecycle *lc, pid_t pid, hull_error_t *err);
/* Moves those create moved back into hull's network namespace under their
 * host names, while the init still holds the container's. */
int net_devices_move_back(struct lifecycle *lc, hull_error_t *err);

/* ---- hull's own networks: run.oci.network* (network.c) ---------------- */

enum network_mode {
  NETWORK_BRIDGE,          /* a veth pair on a bridge of hull's (network.c) */
  NETWORK_PASTA,           /* a user-mode helper (user-network.c) */
  NETWORK_SLIRP4NETNS,
};

struct network_attachment {
  enum network_mode mode;
  bool host_loopback;            /* pasta, slirp4netns: the host's loopback
                                    reachable at the gateway's address */
  struct netns_network net;      /* bridge: the network and its bridge */
  struct netns_addr addr4, addr6;
  bool has_addr6;
  struct netns_port *ports;      /* to publish */
  size_t n_ports;
  unsigned mtu;                  /* the container's link's */
};

/* True when the annotations ask for one of hull's networks. */
bool network_wanted(const struct spec_map *annotations);
/* What create checks before it makes anything: the annotations parse and
 * the container has a new network namespace. */
int network_check(const struct spec *spec, hull_error_t *err);
/* Before the init exists: its addresses, taken from the allocator, and
 * /etc/hosts and /etc/resolv.conf added to lc->spec's mounts; *out NULL
 * when no network is asked for. */
int network_prepare(struct lifecycle *lc, struct network_attachment **out,
                    hull_error_t *err);
void network_attachment_free(struct network_attachment *at);
void network_attachment_freep(struct network_attachment **at);
#define cleanup_network_attachment \
  __attribute__((cleanup(network_attachment_freep)))
/* The init's namespaces exist: the bridge, the veth pair into pid's
 * network namespace, the published ports. */
int network_attach(struct lifecycle *lc, const struct network_attachment *at,
                   pid_t pid, hull_error_t *err);
/* Undoes network_prepare and network_attach by the container's id alone;
 * safe to repeat, and after a crash at any point. */
int network_detach(struct lifecycle *lc, hull_error_t *err);

/* ---- tenant id ranges: run.oci.userns=auto (userns-auto.c) ------------ */

/* True when the annotations ask for a range of the pool. */
bool userns_auto_wanted(const struct spec *spec);
/* What create checks before it makes anything: the annotation parses,
 * hull is root, the config maps no ids itself, joins no user namespace
 * and has a mount namespace; then the spec gets its new user namespace
 * (maps come with userns_auto_take). Nothing without the annotation. */
int userns_auto_check(struct spec *spec, hull_error_t *err);
/* With the state dir made: a range from the pool (--userns-pool's text,
 * or NULL: /etc/subuid's and /etc/subgid's entries for user hull) held by
 * *lease, and lc->spec's maps 0 -> it. lease->fd -1 without the
 * annotation. */
int userns_auto_take(struct lifecycle *lc, const char *root,
                     const char *pool_option, struct userns_lease *lease,
                     hull_error_t *err);
/* delete, a failed create: the container's range goes back to the pool. */
int userns_auto_release(const struct lifecycle *lc, hull_error_t *err);

/* ---- pasta and slirp4netns: run.oci.network=pasta|slirp4netns
 * (user-network.c) ------------------------------------------------------ */

/* The helper's program name ("pasta", "slirp4netns"). */
const char *user_network_helper(enum network_mode mode);
/* The helper's path on $PATH, or an error naming the annotation. */
int user_network_find(enum network_mode mode, char **path,
                      hull_error_t *err);
/* The init's namespaces exist: starts the helper on pid's network
 * namespace (the address, routes, published ports), watched by a keeper
 * process that stops it when the init dies; both recorded in state.json
 * before create goes on. */
int user_network_start(struct lifecycle *lc,
                       const struct network_attachment *at, pid_t pid,
                       hull_error_t *err);
/* Stops the keeper and the helper state.json names (also those of a create
 * killed half-way) and waits until they are gone; safe to repeat. */
int user_network_stop(struct lifecycle *lc, hull_error_t *err);

/* Forwards the signals a foreground `run`/`exec` passes on (as runc) to
 * pid until it exits; returns its exit code (128+N when killed by N). */
int lifecycle_wait_forwarding(pid_t pid);
/* Blocks those signals (and SIGCHLD) ahead of the wait, so that one sent
 * before it starts is forwarded too, not fatal to hull; a child must
 * unblock them. */
void lifecycle_block_forwarded_signals(void);
/* Those signals and SIGCHLD. */
void lifecycle_forwarded_set(sigset_t *set);

/* ---- a foreground terminal without --console-socket (tty-proxy.c) ------ */

/* runc's rules for a terminal and --console-socket (create, run, exec). */
int tty_check_console_flags(bool detach, bool terminal,
                            const char *console_socket, hull_error_t *err);
/* Where the pty master goes: over --console-socket (*console_fd connected
 * to it), or to hull itself for a foreground terminal (*console_fd is one
 * end of a socketpair for the container side, *ours the other). */
int tty_connect_console(bool detach, bool terminal, const char *console_socket,
                        int *console_fd, int *ours, hull_error_t *err);
/* A socketpair standing in for --console-socket: *theirs goes to the
 * container side as its console fd, hull keeps *ours. */
int tty_proxy_socketpair(int *ours, int *theirs, hull_error_t *err);
/* The pty master the container side has sent over sock. */
int tty_proxy_receive_master(int sock, int *master, hull_error_t *err);
/* Copies stdin to master and master to stdout (the caller's terminal raw
 * meanwhile, when stdin is one; its size follows SIGWINCH) and forwards
 * the other signals to pid until pid exits and the pty drains; returns
 * pid's exit code (128+N when killed by N). */
int tty_proxy_run(int master, pid_t pid);

/* create with the pty master of a foreground terminal (no
 * --console-socket) in *master (-1 otherwise): hull proxies it. */
int lifecycle_create(const struct create_options *o, int *master, pid_t *pid,
                     hull_error_t *err);

/* ---- systemd passthrough (socket-activation.c, notify-socket.c) -------- */

/* N when hull's environment has LISTEN_FDS=N and LISTEN_PID=<hull's pid>
 * (fds 3..3+N-1 go into the container ahead of --preserve-fds); else 0. */
int socket_activation_fds(void);
/* Appends LISTEN_FDS=N and LISTEN_PID=1 to the process's env and clears
 * close-on-exec on those fds; nothing without socket activation. */
void socket_activation_apply(struct spec *spec);
/* With NOTIFY_SOCKET set: makes <state dir>/notify, bind-mounts it at
 * /run/notify and sets NOTIFY_SOCKET=/run/notify/notify.sock in the
 * process's env (as runc). */
int notify_socket_prepare(struct lifecycle *lc, hull_error_t *err);
/* With NOTIFY_SOCKET set: binds <state_dir>/notify/notify.sock (datagram)
 * into *fd; else *fd = -1. */
int notify_socket_bind(const char *state_dir, int *fd, hull_error_t *err);
/* Waits for the container's READY=… on fd and sends it, then MAINPID=pid,
 * to the host's NOTIFY_SOCKET; returns early (0) when pid exits first. */
int notify_socket_relay(int fd, pid_t pid, hull_error_t *err);

/* Writes pid to path (--pid-file); path NULL: nothing. */
int lifecycle_write_pid_file(const char *path, pid_t pid, hull_error_t *err);
/* <root>/.cache, absolute (a child may change directory before it reads
 * it), for what containers share: compiled seccomp filters. NULL without a
 * seccomp profile, or when the root cannot be resolved: the cache is never
 * a reason to fail. */
char *lifecycle_cache_dir(const char *root, const struct spec *spec);

#endif
