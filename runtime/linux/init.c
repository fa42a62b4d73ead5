/* init.c — what the container's child does, in order:
 *   namespaces → (parent: cgroup, prestart/createRuntime hooks) →
 *   hostname → rootfs → createContainer hooks (cwd: the rootfs) →
 *   pivot_root → masked paths → cwd, executable check → SYNC_READY → block
 *   on exec.fifo (until `start`) → user, umask, security (seccomp last) →
 *   startContainer hooks (as runc: under the process's user, capabilities
 *   and seccomp filter) → exec.
 * Until SYNC_READY an error goes back over the sync socket; after it, over
 * exec.fifo to whoever ran `start`. */
#include "init.h"
#include "sync.h"
#include "hooks/hooks.h"
#include "netns/netns.h"
#include "runtime/security/security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- namespaces ---------------------------------------------------------- */

static int become_root_in_new_userns(int sync_fd, pid_t report_pid,
                                     hull_error_t *err) {
  struct sync_msg msg = {0};
  if (sync_send(sync_fd, SYNC_USERMAP_REQ, report_pid, NULL, err) < 0 ||
      sync_expect(sync_fd, SYNC_USERMAP_ACK, &msg, err) < 0)
    return -1;
  /* A change of host uid (root mapped to another id than the runtime's)
   * makes us not dumpable; a rootless runtime still needs us so (see
   * init_main). */
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (setresgid(0, 0, 0) < 0)
    return hull_error(err, errno, "setresgid to root in the user namespace");
  if (setresuid(0, 0, 0) < 0)
    return hull_error(err, errno, "setresuid to root in the user namespace");
  if (dumpable == 1)
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  return 0;
}

/* With a user namespace, the runtime opens the bind sources in our mount
 * namespace, now that it exists (see rootfs_source_from_runtime); they go
 * into bind_fds by mount index. */
static int receive_bind_sources(const struct spec *spec, int sync_fd,
                                int *bind_fds, hull_error_t *err) {
  size_t n = 0;
  for (size_t i = 0; i < spec->n_mounts; i++)
    n += rootfs_source_from_runtime(spec, i);
  if (n == 0)
    return 0;
  cleanup_free int *fds = xmalloc(n * sizeof(*fds));
  if (sync_send(sync_fd, SYNC_SOURCES_REQ, 0, NULL, err) < 0 ||
      sync_recv_fds(sync_fd, fds, n, err) < 0)
    return -1;
  for (size_t i = 0, k = 0; i < spec->n_mounts; i++)
    if (rootfs_source_from_runtime(spec, i))
      bind_fds[i] = fds[k++];
  return 0;
}

static bool joins_or_creates(const struct spec *spec,
                             const int ns_fds[SPEC_NS_COUNT],
                             enum spec_ns_type t) {
  return ns_fds[t] >= 0 || (ns_new_flags(spec) & ns_clone_flag(t));
}

/* Staged path: join, unshare, and fork the real init when pid or time
 * namespaces only take effect for children. Returns in the init. */
static int enter_namespaces_staged(const struct process_config *cfg,
                                   int ns_fds[SPEC_NS_COUNT], int *bind_fds,
                                   int sync_fd, hull_error_t *err) {
  const struct spec *spec = cfg->spec;
  /* Decided before the paths are closed: a joined pid namespace, like a
   * new one, only holds the children of whoever setns()ed into it. */
  bool fork_init = joins_or_creates(spec, ns_fds, SPEC_NS_PID) ||
                   joins_or_creates(spec, ns_fds, SPEC_NS_TIME);
  if (ns_join(ns_fds, err) < 0)
    return -1;
  ns_close_paths(ns_fds);
  int flags = ns_clone_flags(spec);
  if (flags && unshare(flags) < 0)
    return hull_error(err, errno, "unshare namespaces");
  if ((flags & CLONE_NEWUSER) &&
      become_root_in_new_userns(sync_fd, getpid(), err) < 0)
    return -1;
  if ((flags & CLONE_NEWTIME) && ns_write_time_offsets(spec, err) < 0)
    return -1;
  /* Still the runtime's child: it finds our mount namespace by our pid. */
  if (receive_bind_sources(spec, sync_fd, bind_fds, err) < 0)
    return -1;
  if (!fork_init)
    return 0;
  /* The init waits until we have told the runtime its pid: both write to
   * the one socket, and an init that spoke first (SYNC_NS_READY) would be
   * taken for us, a process about to exit (its cgroup, its netns). */
  int told[2];
  if (pipe2(told, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  pid_t init = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (init < 0)
    return hull_error(err, errno, "fork container init");
  if (init == 0) {
    close(told[1]);
    char byte;
    while (read(told[0], &byte, 1) < 0 && errno == EINTR)
      ;
    close(told[0]);
    return 0;
  }
  close(told[0]);
  hull_error_t ignored = NULL;
  sync_send(sync_fd, SYNC_INIT_PID, init, NULL, &ignored);
  _exit(0); /* closes told[1]: the init reads EOF and goes on */
}

/* ---- small setup steps ------------------------------------------------- */

static int set_names(const struct spec *spec, hull_error_t *err) {
  if (spec->hostname && *spec->hostname &&
      sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    return hull_error(err, errno, "sethostname `%s`", spec->hostname);
  if (spec->domainname && *spec->domainname &&
      setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
    return hull_error(err, errno, "setdomainname `%s`", spec->domainname);
  return 0;
}

/* A session keyring of its own, so containers do not share the host's. */
static void join_new_session_keyring(const char *id) {
  cleanup_free char *name = xasprintf("_ses.%s", id);
  syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
}

/* ---- the fifo hand-off to `start` ---------------------------------------- */

/* Blocks until `start` opens the fifo for reading; the write end stays open
 * (close-on-exec) so a later error can be written to `start`. */
static int wait_for_start(int fifo_path_fd, int *fifo, hull_error_t *err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo_path_fd);
  do
    *fifo = open(path, O_WRONLY | O_CLOEXEC);
  while (*fifo < 0 && errno == EINTR);
  if (*fifo < 0)
    return hull_error(err, errno, "open exec fifo");
  close(fifo_path_fd);
  return 0;
}

__attribute__((noreturn)) static void fail_to_start(int fifo,
                                                    hull_error_t *err) {
  const char *msg = *err ? (*err)->msg : "unknown error";
  (void)write_all(fifo, msg, strlen(msg));
  _exit(EXIT_FAILURE);
}

/* The runtime's fds the init does not need must go at once: the state
 * directory's fd carries `create`'s flock, which a copy would keep held.
 * The log stays (close-on-exec) for the warnings logged until exec. */
static void close_runtime_fds(const struct process_config *cfg,
                              const int ns_fds[SPEC_NS_COUNT],
                              const int *bind_fds, int sync_fd) {
  size_t n_bind = bind_fds ? cfg->spec->n_mounts : 0;
  cleanup_free int *keep = xmalloc(
      (SPEC_NS_COUNT + 5 + cfg->n_cgroup_self_fds + n_bind) * sizeof(*keep));
  size_t n = 0;
  for (size_t i = 0; i < n_bind; i++)
    keep[n++] = bind_fds[i];
  for (int i = 0; i < SPEC_NS_COUNT; i++)
    keep[n++] = ns_fds[i];
  keep[n++] = sync_fd;
  keep[n++] = cfg->console_fd;
  keep[n++] = cfg->exec_fifo_fd;
  keep[n++] = cfg->rootfs_tree_fd;
  keep[n++] = log_fd();
  for (size_t i = 0; i < cfg->n_cgroup_self_fds; i++)
    keep[n++] = cfg->cgroup_self_fds[i];
  close_fds_except(3 + cfg->preserve_fds, keep, n);
}

/* ---- the whole sequence ------------------------------------------------ */

struct init_run {
  const struct process_config *cfg;
  const int *bind_fds;       /* bind sources by mount index, or NULL */
  int sync_fd;
  int fifo_path_fd;
  char *exe;
  char **env;
  char *state_json;          /* for createContainer hooks */
  char *started_json;        /* for startContainer hooks */
  struct seccomp_prepared seccomp; /* built at create, loaded at start */
};

/* The hooks the parent runs in the runtime namespace; without any, the
 * round trip to it is skipped. */
static bool has_runtime_hooks(const struct spec *spec) {
  return spec->hooks.prestart.len > 0 || spec->hooks.create_runtime.len > 0;
}

/* "0" moves the writing thread (we have one) into the cgroup of the
 * `tasks` file without the lock whose RCU grace period a move of another
 * pid waits for; the files were opened on the host, by root. */
static int move_self_into_cgroup(const struct process_config *cfg,
                                 hull_error_t *err) {
  for (size_t i = 0; i < cfg->n_cgroup_self_fds; i++) {
    if (write(cfg->cgroup_self_fds[i], "0", 1) != 1)
      return hull_error(err, errno, "move into the container's cgroup");
    close(cfg->cgroup_self_fds[i]);
  }
  return 0;
}

/* Moves into our v1 cgroups, then waits until the parent has put us in
 * the rest; then a new cgroup namespace can be made, rooted there. */
static int wait_for_cgroup(struct init_run *r, int new_ns, hull_error_t *err) {
  if (move_self_into_cgroup(r->cfg, err) < 0)
    return -1;
  struct sync_msg ready = {0};
  if (sync_expect(r->sync_fd, SYNC_NS_READY_ACK, &ready, err) < 0)
    return -1;
  /* Until the parent's on_ns_ready is done a rootless runtime may still
   * open our /proc/PID/ns files (a network helper joins them, see
   * runtime/container/user-network.c); no container code ran yet. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* Two documents, one a line (see linux.h, on_ns_ready). */
  r->state_json = ready.data;
  char *newline = r->state_json ? strchr(r->state_json, '\n') : NULL;
  if (newline)
    *newline = '\0';
  r->started_json = newline ? newline + 1 : r->state_json;
  if ((new_ns & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
    return hull_error(err, errno, "unshare cgroup namespace");
  return 0;
}

static int setup_container(struct init_run *r, hull_error_t *err) {
  const struct process_config *cfg = r->cfg;
  const struct spec *spec = cfg->spec;
  int new_ns = ns_new_flags(spec);
  if (sync_send(r->sync_fd, SYNC_NS_READY, 0, NULL, err) < 0)
    return -1;
  /* The parent records our pid and moves us into the cgroups we do not
   * enter ourselves (by pid: an RCU grace period): set up the rootfs
   * meanwhile, outside the container's memory cgroup, unless a cgroup
   * namespace (whose root must be our cgroup) is needed for the cgroup
   * mounts. No user code runs before the wait. */
  bool wait_early = (new_ns & CLONE_NEWCGROUP) != 0;
  if (wait_early && wait_for_cgroup(r, new_ns, err) < 0)
    return -1;
  if ((new_ns & CLONE_NEWNET) && netns_loopback_up(err) < 0)
    return -1;
  if (set_names(spec, err) < 0)
    return -1;
  if (!cfg->no_new_keyring)
    join_new_session_keyring(cfg->id);
  struct rootfs_options ro = {
      .rootfs = cfg->rootfs,
      .bundle = cfg->bundle,
      .cgroup_path = cfg->cgroup_path,
      /* A joined user namespace, or hull's own (podman's rootless mode
       * runs runtimes as root in one): the kernel makes no device node
       * there either (as runc's RunningInUserNS). */
      .in_user_ns = (new_ns & CLONE_NEWUSER) != 0 || cfg->runtime_in_user_ns,
      .new_cgroup_ns = (new_ns & CLONE_NEWCGROUP) != 0,
      .terminal = spec->process->terminal,
      .shares_mount_ns = spec_namespace_find(spec, SPEC_NS_MOUNT) == NULL,
      .bind_fds = r->bind_fds,
      .rootfs_tree = cfg->rootfs_tree_fd >= 0 ? &cfg->rootfs_tree_fd : NULL,
  };
  if (rootfs_prepare(spec, &ro, err) < 0)
    return -1;
  if (!wait_early && wait_for_cgroup(r, new_ns, err) < 0)
    return -1;
  if (has_runtime_hooks(spec)) {
    struct sync_msg done = {0};
    if (sync_send(r->sync_fd, SYNC_ROOTFS_READY, 0, NULL, err) < 0 ||
        sync_expect(r->sync_fd, SYNC_ROOTFS_READY_ACK, &done, err) < 0)
      return -1;
  }
  /* As runc: createContainer hooks work in the rootfs (a relative path
   * lands in the container's root); pivot_root changes directory anyway. */
  if (spec->hooks.create_container.len > 0 && chdir(cfg->rootfs) < 0)
    return hull_error(err, errno, "chdir `%s`", cfg->rootfs);
  if (hooks_run("createContainer", &spec->hooks.create_container,
                r->state_json, err) < 0)
    return -1;
  /* A bad seccomp profile fails `create`; its listener's path and the
   * filter cache are host paths, reachable until pivot_root. */
  if (spec->linux && seccomp_prepare(spec->linux->seccomp, cfg->cache_dir,
                                     &r->seccomp, err) < 0)
    return -1;
  int entered = ro.shares_mount_ns
                    ? rootfs_chroot(cfg->rootfs, err)
                    : rootfs_pivot(cfg->rootfs, cfg->no_pivot, err);
  if (entered < 0 || rootfs_finish(spec, err) < 0)
    return -1;
  if (spec->process->terminal && console_setup(cfg->console_fd,
                                                spec->process, err) < 0)
    return -1;
  if (process_enter_cwd(spec->process->cwd, err) < 0)
    return -1;
  r->env = process_env_with_home(spec->process);
  return init_find_executable(spec->process, &r->exe, err);
}

__attribute__((noreturn)) static void run_user_program(struct init_run *r,
                                                    int fifo) {
  const struct spec *spec = r->cfg->spec;
  hull_error_t err = NULL;
  r->seccomp.state_json = r->started_json;
  if (security_before_user(spec, &r->seccomp, &err) < 0 ||
      process_set_user(spec->process, &err) < 0 ||
      security_after_user(spec, &r->seccomp, &err) < 0)
    fail_to_start(fifo, &err);
  if (hooks_run("startContainer", &spec->hooks.start_container,
                r->started_json, &err) < 0)
    fail_to_start(fifo, &err);
  /* What the user program must not inherit: everything above stdio and
   * the preserved fds, except the fifo (close-on-exec, for errors). */
  close_fds_except(3 + r->cfg->preserve_fds, &fifo, 1);
  execve(r->exe, spec->process->args, r->env);
  hull_error(&err, errno, "exec: \"%s\"", spec->process->args[0]);
  fail_to_start(fifo, &err);
}

void init_main(const struct process_config *cfg, int ns_fds[SPEC_NS_COUNT],
               int *bind_fds, bool staged, bool rootless_runtime,
               int sync_fd) {
  hull_error_t err = NULL;
  struct init_run r = {.cfg = cfg, .bind_fds = bind_fds, .sync_fd = sync_fd,
                       .fifo_path_fd = cfg->exec_fifo_fd,
                       .seccomp = {.listener_fd = -1}};
  /* First of all: until it execs the user program this process is hull, and
   * a container process sharing its pid namespace must not reach the host's
   * hull binary through /proc/PID/exe, nor its memory, environ or fds
   * (CVE-2019-5736). Non-dumpable closes those to anyone without
   * CAP_SYS_PTRACE on the host; execve makes the user program dumpable
   * again. A runtime that is not root has no such capability: it writes
   * our maps (or has newuidmap write them) and opens our bind sources in
   * our mount namespace, and our namespaces for a network helper, through
   * our /proc files, which are its only while we are dumpable, so we stay
   * so until then (runc's init is dumpable the same way): until the
   * parent has answered SYNC_NS_READY. Nothing of the container runs
   * meanwhile. */
  if (!rootless_runtime)
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* The signals create holds (interrupt_hold) are the container's to get:
   * `kill` of a created container, and the user program's. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  close_runtime_fds(cfg, ns_fds, bind_fds, sync_fd);
  /* Die with the runtime while it still sets us up. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (staged) {
    if (enter_namespaces_staged(cfg, ns_fds, bind_fds, sync_fd, &err) < 0)
      sync_fail(sync_fd, &err);
  } else {
    ns_close_paths(ns_fds);
    if ((ns_new_flags(cfg->spec) & CLONE_NEWUSER) &&
        become_root_in_new_userns(sync_fd, 0, &err) < 0)
      sync_fail(sync_fd, &err);
    if (receive_bind_sources(cfg->spec, sync_fd, bind_fds, &err) < 0)
      sync_fail(sync_fd, &err);
  }
  /* A rootless runtime's init stays dumpable a little longer: see
   * wait_for_cgroup. */
  if (setup_container(&r, &err) < 0)
    sync_fail(sync_fd, &err);
  /* `create` returns once it reads SYNC_READY; we outlive it. */
  prctl(PR_SET_PDEATHSIG, 0);
  if (sync_send(sync_fd, SYNC_READY, 0, NULL, &err) < 0)
    _exit(EXIT_FAILURE);
  close(sync_fd);
  int fifo = -1;
  if (wait_for_start(r.fifo_path_fd, &fifo, &err) < 0)
    _exit(EXIT_FAILURE);
  run_user_program(&r, fifo);
}
