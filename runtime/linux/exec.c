/* exec.c — `exec`: a new process in a container that already exists.
 *
 *   hull ──clone3 (into the cgroup)──> child ──setns×N, chroot──┐
 *                                                               │ clone
 *   hull <───────── SYNC_INIT_PID ─────────────────────────── grandchild
 *
 * The child moves itself into the container's v1 cgroups (writing "0" to
 * `tasks` costs no RCU grace period, unlike a move by pid), is placed in
 * the rest by the parent, joins the
 * init's namespaces (/proc/<init>/ns/..., user namespace first) and its root,
 * and forks: a pid (or time) namespace joined by setns only applies to
 * children. The grandchild is forked with CLONE_PARENT, so it is hull's own
 * child, which hull can wait for. It sets up the process (tty, cwd, env,
 * user, security, seccomp last) and execs; the sync socket is close-on-exec,
 * so EOF on it means the exec happened, and an error before that comes back
 * as SYNC_ERROR (`exec: "/bin/nope": ...`).
 *
 * Both stay non-dumpable until the exec: a process of the container must
 * not open /proc/<pid>/exe of a hull child to overwrite hull's binary
 * (CVE-2019-5736), nor ptrace it or read its fds. */
#include "linux.h"
#include "process-setup.h"
#include "sync.h"
#include "runtime/security/security.h"
#include "runtime/state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The names under /proc/<pid>/ns/. */
static const char *const proc_ns_names[SPEC_NS_COUNT] = {
    [SPEC_NS_PID] = "pid",   [SPEC_NS_NETWORK] = "net",
    [SPEC_NS_MOUNT] = "mnt", [SPEC_NS_IPC] = "ipc",
    [SPEC_NS_UTS] = "uts",   [SPEC_NS_USER] = "user",
    [SPEC_NS_CGROUP] = "cgroup", [SPEC_NS_TIME] = "time",
};

static bool is_own_namespace(int fd, const char *name) {
  cleanup_free char *self = xasprintf("/proc/self/ns/%s", name);
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

static bool kernel_has_namespace(const char *name) {
  cleanup_free char *self = xasprintf("/proc/self/ns/%s", name);
  return access(self, F_OK) == 0;
}

/* Every namespace of the init that is not already ours (joining one's own
 * user namespace is an error; the others would be no-ops). A namespace
 * type this kernel lacks is skipped. */
static int open_init_namespaces(pid_t pid, int fds[SPEC_NS_COUNT],
                                hull_error_t *err) {
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    fds[t] = -1;
  for (int t = 0; t < SPEC_NS_COUNT; t++) {
    cleanup_free char *path =
        xasprintf("/proc/%d/ns/%s", (int)pid, proc_ns_names[t]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !kernel_has_namespace(proc_ns_names[t]))
      continue;
    if (fd < 0) {
      int e = errno;
      ns_close_paths(fds);
      /* The init is on its way out (a pid namespace's init lingers until
       * the rest of the namespace is gone). */
      if (e == ENOENT || e == ESRCH)
        return hull_error(err, 0, "cannot exec in a stopped container");
      return hull_error(err, e, "open `%s`", path);
    }
    if (is_own_namespace(fd, proc_ns_names[t]))
      close(fd);
    else
      fds[t] = fd;
  }
  return 0;
}

/* What the parent opens for the child: the init's namespaces and root. */
struct exec_handles {
  int ns_fds[SPEC_NS_COUNT];
  int root_fd;
  struct seccomp_prepared seccomp;
};

static void exec_handles_close(struct exec_handles *h) {
  ns_close_paths(h->ns_fds);
  if (h->root_fd >= 0)
    close(h->root_fd);
  h->root_fd = -1;
  if (h->seccomp.listener_fd >= 0)
    close(h->seccomp.listener_fd);
  h->seccomp.listener_fd = -1;
  seccomp_bpf_free(&h->seccomp.bpf);
}

static int open_handles(const struct exec_config *cfg, struct exec_handles *h,
                        hull_error_t *err) {
  if (open_init_namespaces(cfg->init_pid, h->ns_fds, err) < 0)
    return -1;
  cleanup_free char *root = xasprintf("/proc/%d/root", (int)cfg->init_pid);
  h->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (h->root_fd < 0)
    return hull_error(err, errno, "open `%s`", root);
  /* The fds name the init we were asked about, not a process that took
   * over its pid after it died. */
  if (!process_is_alive(cfg->init_pid, cfg->init_start_time))
    return hull_error(err, 0, "container init %d is not running",
                      (int)cfg->init_pid);
  /* Compiled here, where the filter cache and a listener socket (host
   * paths) are reachable. */
  const struct spec_linux *l = cfg->spec->linux;
  if (l && seccomp_prepare(l->seccomp, cfg->cache_dir, &h->seccomp, err) < 0)
    return -1;
  h->seccomp.state_json = cfg->state_json;
  return 0;
}

/* ---- the child: into the container ------------------------------------- */

static int enter_root(int root_fd, hull_error_t *err) {
  /* setns(mnt) left us at the namespace's root; the init's root is where
   * it pivoted (or chrooted, with --no-pivot). */
  if (fchdir(root_fd) < 0)
    return hull_error(err, errno, "enter the container's root");
  if (chroot(".") < 0)
    return hull_error(err, errno, "chroot into the container's root");
  if (chdir("/") < 0)
    return hull_error(err, errno, "chdir /");
  return 0;
}

__attribute__((noreturn)) static void run_process(
    const struct exec_config *cfg, struct exec_handles *h, int sync_fd) {
  const struct spec *spec = cfg->spec;
  const struct spec_process *p = spec->process;
  hull_error_t err = NULL;
  cleanup_free char *exe = NULL;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* A foreground exec blocks the signals it forwards; the process starts
   * with none blocked. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (p->terminal && console_setup_exec(cfg->console_fd, p, &err) < 0)
    sync_fail(sync_fd, &err);
  if (cfg->console_fd >= 0)
    close(cfg->console_fd);
  if (process_enter_cwd(p->cwd, &err) < 0)
    sync_fail(sync_fd, &err);
  char **env = process_env_with_home(p);
  if (init_find_executable(p, &exe, &err) < 0)
    sync_fail(sync_fd, &err);
  /* From here on it is the user's process; hull's death no longer ends it
   * (as for the init after create). */
  prctl(PR_SET_PDEATHSIG, 0);
  if (security_before_user(spec, &h->seccomp, &err) < 0 ||
      process_set_user(p, &err) < 0 ||
      security_after_user(spec, &h->seccomp, &err) < 0)
    sync_fail(sync_fd, &err);
  close_fds_except(3 + cfg->preserve_fds, &sync_fd, 1);
  execve(exe, p->args, env);
  hull_error(&err, errno, "exec: \"%s\"", p->args[0]);
  sync_fail(sync_fd, &err);
}

__attribute__((noreturn)) static void exec_child(const struct exec_config *cfg,
                                                 struct exec_handles *h,
                                                 int sync_fd) {
  hull_error_t err = NULL;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* hull's fds are not the container's (exec dropped its lock before the
   * fork, and closed the state directory's fd with it). The
   * log stays (close-on-exec) for the warnings logged until exec. */
  cleanup_free int *keep =
      xmalloc((SPEC_NS_COUNT + 5 + cfg->n_cgroup_self_fds) * sizeof(*keep));
  size_t n = 0;
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    keep[n++] = h->ns_fds[t];
  keep[n++] = h->root_fd;
  keep[n++] = sync_fd;
  keep[n++] = cfg->console_fd;
  keep[n++] = h->seccomp.listener_fd;
  keep[n++] = log_fd();
  for (size_t i = 0; i < cfg->n_cgroup_self_fds; i++)
    keep[n++] = cfg->cgroup_self_fds[i];
  close_fds_except(3 + cfg->preserve_fds, keep, n);

  for (size_t i = 0; i < cfg->n_cgroup_self_fds; i++) {
    if (write(cfg->cgroup_self_fds[i], "0", 1) != 1) {
      hull_error(&err, errno, "move into the container's cgroup");
      sync_fail(sync_fd, &err);
    }
    close(cfg->cgroup_self_fds[i]);
  }
  struct sync_msg placed = {0};
  if (sync_expect(sync_fd, SYNC_NS_READY_ACK, &placed, &err) < 0)
    _exit(EXIT_FAILURE);
  free(placed.data);
  if (ns_join(h->ns_fds, &err) < 0)
    sync_fail(sync_fd, &err);
  ns_close_paths(h->ns_fds);
  if (enter_root(h->root_fd, &err) < 0)
    sync_fail(sync_fd, &err);
  close(h->root_fd);
  h->root_fd = -1;
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    hull_error(&err, errno, "fork the exec'd process");
    sync_fail(sync_fd, &err);
  }
  if (pid == 0)
    run_process(cfg, h, sync_fd);
  if (sync_send(sync_fd, SYNC_INIT_PID, pid, NULL, &err) < 0)
    _exit(EXIT_FAILURE);
  _exit(0);
}

/* ---- the parent ------------------------------------------------------- */

/* The child exits as soon as it has reported the process; the container
 * may be paused meanwhile (exec holds no lock), which holds it until the
 * resume: the wait ends on a held interrupt too (the child is then left to
 * die at the thaw, and init(1) to reap it). */
static int reap(pid_t pid, hull_error_t *err) {
  /* A pidfd turns readable at the exit; without one (before Linux 5.3)
   * short naps do. */
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  for (int nap = 1;; nap = nap < 16 ? nap * 2 : 16) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return 0;
    if (wait_fd(pidfd, POLLIN, pidfd >= 0 ? -1 : nap,
                "waiting for exec's child to exit", err) < 0)
      return -1;
  }
}

/* After SYNC_INIT_PID: EOF when the process exec'd, else its error. */
static int wait_for_exec(int fd, hull_error_t *err) {
  if (wait_fd(fd, POLLIN, -1, "waiting for the exec'd process to start",
              err) < 0)
    return -1;
  char byte;
  ssize_t n;
  do
    n = recv(fd, &byte, 1, MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  struct sync_msg msg = {0};
  if (sync_recv(fd, &msg, err) < 0)
    return -1;
  free(msg.data);
  return hull_error(err, 0, "exec: unexpected message %d", (int)msg.type);
}

/* *child is reaped (and set to -1) once it has reported the process. */
static int converse(const struct exec_config *cfg, int fd, pid_t *child,
                    pid_t *process, hull_error_t *err) {
  if (cfg->enter_cgroup && cfg->enter_cgroup(cfg->ctx, *child, err) < 0)
    return -1;
  /* The ack create's init waits for too: "you are in your cgroup". */
  if (sync_send(fd, SYNC_NS_READY_ACK, 0, NULL, err) < 0)
    return -1;
  struct sync_msg msg = {0};
  if (sync_expect(fd, SYNC_INIT_PID, &msg, err) < 0)
    return -1;
  free(msg.data);
  *process = msg.value;
  if (reap(*child, err) < 0)
    return -1;
  *child = -1;
  return wait_for_exec(fd, err);
}

int process_exec(const struct exec_config *cfg, pid_t *pid,
                 hull_error_t *err) {
  struct exec_handles h = {.root_fd = -1, .seccomp = {.listener_fd = -1}};
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    h.ns_fds[t] = -1;
  if (open_handles(cfg, &h, err) < 0) {
    exec_handles_close(&h);
    return -1;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    exec_handles_close(&h);
    return hull_error(err, errno, "socketpair");
  }
  pid_t child = clone3_fork(0, cfg->cgroup_fd);
  if (child < 0) {
    int e = errno;
    exec_handles_close(&h);
    close(sv[0]);
    close(sv[1]);
    return hull_error(err, e, "fork for exec");
  }
  if (child == 0) {
    close(sv[0]);
    exec_child(cfg, &h, sv[1]);
  }
  close(sv[1]);
  exec_handles_close(&h);
  pid_t process = -1;
  int ret = converse(cfg, sv[0], &child, &process, err);
  close(sv[0]);
  if (ret < 0) {
    kill_and_reap(process);
    kill_and_reap(child);
    return -1;
  }
  *pid = process;
  return 0;
}
