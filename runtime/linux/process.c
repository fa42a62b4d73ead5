/* process.c — the parent's side of starting a container's init.
 *
 * Fast path: one clone3() creates every new namespace at once and the child
 * is the init. Staged path, when a namespace must be joined by `path` or a
 * time namespace needs offsets: the child joins (user namespace first),
 * unshares the new ones, and forks the init with CLONE_PARENT when a pid or
 * time namespace only applies to children — so the init is always our child.
 * Either way the conversation over the sync socket is the same loop. */
#include "linux.h"
#include "sync.h"
#include "init.h"
#include "runtime/state/state.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static bool needs_staged_setup(const struct spec *spec,
                               const int ns_fds[SPEC_NS_COUNT]) {
  for (int i = 0; i < SPEC_NS_COUNT; i++)
    if (ns_fds[i] >= 0)
      return true;
  const struct spec_linux *l = spec->linux;
  return (ns_new_flags(spec) & CLONE_NEWTIME) &&
         (l->time_offsets.monotonic.set || l->time_offsets.boottime.set);
}

/* fork()-like clone3: no new stack, the child returns 0. Without clone3
 * (old kernels, valgrind) plain clone does, and the cgroup manager moves
 * the child itself. */
pid_t clone3_fork(uint64_t flags, int cgroup_fd) {
  struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0 && errno == ENOSYS)
    pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
  return pid;
}

/* How long kill_and_reap waits: a task in a frozen v1 cgroup does not act
 * on SIGKILL until it is thawed. */
#define REAP_WAIT_MS 1000

void kill_and_reap(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  for (int waited = 0; waited < REAP_WAIT_MS; waited++) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR))
      return;
    struct timespec ms = {0, 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  /* It dies when its cgroup thaws; init(1) reaps it once hull is gone. */
  log_debug("process %d: killed, not gone after %d ms (frozen?)", (int)pid,
            REAP_WAIT_MS);
}

/* Sends a reply. When the child cannot read it any more, it failed while
 * we worked (it sets up its rootfs meanwhile) and its own error is waiting
 * on the socket: that is the error to report, not our broken pipe. */
static int reply(int fd, enum sync_type type, const char *data,
                 hull_error_t *err) {
  if (sync_send(fd, type, 0, data, err) == 0)
    return 0;
  hull_error_t child_err = NULL;
  struct sync_msg msg = {0};
  if (sync_recv(fd, &msg, &child_err) == 0) {
    free(msg.data);
    return -1;
  }
  if (strcmp(child_err->msg, "container init exited during setup") == 0) {
    hull_error_release(&child_err);
    return -1;
  }
  hull_error_release(err);
  *err = child_err;
  return -1;
}

/* Answers the child until it reports SYNC_READY. *init starts as the
 * cloned pid and becomes the staged path's grandchild when it reports. */
static int converse(const struct process_config *cfg, int fd, pid_t *init,
                    hull_error_t *err) {
  for (;;) {
    struct sync_msg msg = {0};
    if (sync_recv(fd, &msg, err) < 0)
      return -1;
    cleanup_free char *data = msg.data;
    switch (msg.type) {
    case SYNC_USERMAP_REQ:
      if (ns_write_id_maps(cfg->spec, msg.value ? msg.value : *init, err) < 0)
        return -1;
      if (reply(fd, SYNC_USERMAP_ACK, NULL, err) < 0)
        return -1;
      break;
    case SYNC_SOURCES_REQ: {
      int *fds = NULL;
      size_t n = 0;
      if (rootfs_open_sources_in(cfg->spec, cfg->bundle, *init, &fds, &n,
                                 err) < 0)
        return -1;
      int sent = sync_send_fds(fd, fds, n, err);
      rootfs_close_bind_sources(fds, n);
      if (sent < 0)
        return -1;
      break;
    }
    case SYNC_INIT_PID: {
      pid_t intermediate = *init;
      *init = msg.value;
      while (waitpid(intermediate, NULL, 0) < 0 && errno == EINTR)
        ;
      break;
    }
    case SYNC_NS_READY: {
      cleanup_free char *state = NULL;
      if (cfg->on_ns_ready && cfg->on_ns_ready(cfg->ctx, *init, &state, err) < 0)
        return -1;
      if (reply(fd, SYNC_NS_READY_ACK, state, err) < 0)
        return -1;
      break;
    }
    case SYNC_ROOTFS_READY:
      if (cfg->on_rootfs_ready && cfg->on_rootfs_ready(cfg->ctx, err) < 0)
        return -1;
      if (reply(fd, SYNC_ROOTFS_READY_ACK, NULL, err) < 0)
        return -1;
      break;
    case SYNC_READY:
      return 0;
    default:
      return hull_error(err, 0, "container setup: unexpected message %d",
                        (int)msg.type);
    }
  }
}

int process_spawn(const struct process_config *cfg, pid_t *pid,
                  hull_error_t *err) {
  int ns_fds[SPEC_NS_COUNT];
  if (ns_open_paths(cfg->spec, ns_fds, err) < 0)
    return -1;
  /* Made here, where the runtime may give them their idmapping. */
  int *bind_fds = NULL;
  size_t n_mounts = cfg->spec->n_mounts;
  if (rootfs_open_bind_sources(cfg->spec, cfg->bundle, &bind_fds, err) < 0) {
    ns_close_paths(ns_fds);
    return -1;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    ns_close_paths(ns_fds);
    rootfs_close_bind_sources(bind_fds, n_mounts);
    return hull_error(err, errno, "socketpair");
  }
  bool staged = needs_staged_setup(cfg->spec, ns_fds);
  bool rootless = geteuid() != 0;
  uint64_t flags = staged ? 0 : (uint64_t)ns_clone_flags(cfg->spec);
  pid_t child = clone3_fork(flags, staged ? -1 : cfg->cgroup_fd);
  if (child < 0) {
    int e = errno;
    ns_close_paths(ns_fds);
    rootfs_close_bind_sources(bind_fds, n_mounts);
    close(sv[0]);
    close(sv[1]);
    return hull_error(err, e, "clone container init");
  }
  if (child == 0) {
    close(sv[0]);
    init_main(cfg, ns_fds, bind_fds, staged, rootless, sv[1]);
  }
  close(sv[1]);
  ns_close_paths(ns_fds);
  rootfs_close_bind_sources(bind_fds, n_mounts);
  pid_t init = child;
  int ret = converse(cfg, sv[0], &init, err);
  close(sv[0]);
  if (ret < 0) {
    kill_and_reap(init);
    if (init != child)
      kill_and_reap(child);
    return -1;
  }
  *pid = init;
  return 0;
}

/* ---- start: releasing the waiting init ---------------------------------- */

static void on_alarm(int sig) { (void)sig; }

/* A blocking open of the fifo returns once the init opened its end; an
 * interval timer interrupts it now and then so that an init that died, or
 * a held SIGTERM (interrupt_hold), cannot leave `start` hanging. */
static int open_fifo_reader(const char *path, pid_t pid, uint64_t start_time,
                            hull_error_t *err) {
  struct sigaction sa = {.sa_handler = on_alarm}, old_sa;
  sigaction(SIGALRM, &sa, &old_sa);
  struct itimerval tick = {{0, 50000}, {0, 50000}}, old_tick;
  setitimer(ITIMER_REAL, &tick, &old_tick);
  int fd;
  for (;;) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EINTR)
      break;
    if (!process_is_alive(pid, start_time)) {
      errno = ESRCH;
      break;
    }
    if (interrupt_pending())
      break;
  }
  int e = errno;
  setitimer(ITIMER_REAL, &old_tick, NULL);
  sigaction(SIGALRM, &old_sa, NULL);
  if (fd < 0 && e == ESRCH)
    return hull_error(err, 0, "container init exited before start");
  if (fd < 0 && e == EINTR)
    return interrupt_error("waiting for the container init to open its "
                           "exec fifo", err);
  if (fd < 0)
    return hull_error(err, e, "open `%s`", path);
  return fd;
}

/* Reads until EOF (at most len bytes), waiting on a held interrupt too. */
static ssize_t read_until_exec(int fd, char *buf, size_t len,
                               hull_error_t *err) {
  size_t got = 0;
  while (got < len) {
    if (wait_fd(fd, POLLIN, -1, "waiting for the container's process to "
                "start", err) < 0)
      return -1;
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return hull_error(err, errno, "read the exec fifo");
    if (n == 0)
      break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

int process_release(const char *state_dir, pid_t pid, uint64_t start_time,
                    void (*released)(void *ctx), void *ctx,
                    hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", state_dir, "exec.fifo");
  cleanup_close int fd = open_fifo_reader(path, pid, start_time, err);
  if (fd < 0)
    return -1;
  /* The init is let go: from here it is not `created` any more (state.c
   * tells by the fifo), whether or not we see its exec. */
  unlink(path);
  if (released)
    released(ctx);
  /* EOF: the write end closed on exec. Anything written is the init's
   * error from a startContainer hook or from exec itself. */
  char buf[4096];
  ssize_t n = read_until_exec(fd, buf, sizeof(buf) - 1, err);
  if (n < 0)
    return -1;
  if (n > 0) {
    buf[n] = '\0';
    return hull_error(err, 0, "%s", buf);
  }
  return 0;
}
