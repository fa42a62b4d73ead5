/* hooks.c — running one OCI hook: fork, exec, feed the state on stdin,
 * collect stderr, and wait on a pidfd with the hook's timeout.
 *
 * The hook's stdout goes to hull's stderr: hull's stdout can carry what a
 * caller parses (the container's output under `run`, JSON from other verbs),
 * and a hook's chatter must never mix into it, while on stderr it stays
 * visible to whoever debugs the hook. Its stderr is captured so the first
 * line can explain a failure. */
#include "hooks/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What we keep of the hook's stderr: enough for a message's first line. */
#define STDERR_KEEP 4096

struct hook_io {
  int stdin_w;               /* -1 once the state is written or refused */
  int stderr_r;              /* -1 at EOF */
  const char *state;
  size_t state_len, state_off;
  char stderr_buf[STDERR_KEEP + 1];
  size_t stderr_len;
};

static int pidfd_open_(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* ---- the child --------------------------------------------------------- */

static void child_fail(int errfd, int e) {
  (void)write_all(errfd, &e, sizeof(e));
  _exit(127);
}

/* Puts fd on a number above 2 so that the dup2()s onto 0, 1, 2 below cannot
 * clobber it, even when hull itself was started with some of 0-2 closed. */
static int lift_fd(int fd, int errfd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (r < 0)
    child_fail(errfd, errno);
  return r;
}

/* Closes every fd above 2 but `keep` (>= 3), so nothing of hull's leaks. */
static void close_others(int keep) {
  /* close_range() exists since 5.9; older kernels get the slow loop. */
  bool below_ok = keep == 3 || syscall(SYS_close_range, 3U,
                                       (unsigned)keep - 1, 0) == 0;
  if (below_ok && syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
    return;
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < (max > 0 ? max : 1024); fd++)
    if (fd != keep)
      close(fd);
}

static char *const empty_env[] = {NULL};

__attribute__((noreturn)) static void
exec_hook(const struct spec_hook *hook, int stdin_r, int stderr_w, int errfd) {
  errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
  if (errfd < 0)
    _exit(127);
  stdin_r = lift_fd(stdin_r, errfd);
  stderr_w = lift_fd(stderr_w, errfd);
  int out = fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (out < 0)
    out = lift_fd(open("/dev/null", O_WRONLY | O_CLOEXEC), errfd);

  if (dup2(stdin_r, 0) < 0 || dup2(out, 1) < 0 || dup2(stderr_w, 2) < 0)
    child_fail(errfd, errno);
  close_others(errfd);

  /* Ignored signals and the blocked mask survive exec; the hook gets a
   * clean slate, as from a shell. */
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  char *const default_argv[] = {hook->path, NULL};
  char *const *argv = hook->args ? hook->args : default_argv;
  char *const *envp = hook->env ? hook->env : empty_env;
  execve(hook->path, argv, envp);
  child_fail(errfd, errno);
  _exit(127);
}

/* ---- the parent -------------------------------------------------------- */

/* write() that reports EPIPE instead of dying of SIGPIPE when the hook
 * closed its stdin without reading: SIGPIPE is blocked around the write and
 * a SIGPIPE it raised is consumed before the mask is restored. */
static ssize_t write_no_sigpipe(int fd, const void *buf, size_t len) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE);

  ssize_t n = write(fd, buf, len);
  int e = errno;
  if (n < 0 && e == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return n;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void feed_stdin(struct hook_io *io) {
  ssize_t n = write_no_sigpipe(io->stdin_w, io->state + io->state_off,
                               io->state_len - io->state_off);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n < 0) {               /* EPIPE: the hook does not want the state */
    close_fd(&io->stdin_w);
    return;
  }
  io->state_off += (size_t)n;
  if (io->state_off == io->state_len)
    close_fd(&io->stdin_w);  /* EOF tells the hook the state is complete */
}

static void drain_stderr(struct hook_io *io) {
  for (;;) {
    char chunk[4096];
    ssize_t n = read(io->stderr_r, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close_fd(&io->stderr_r);
      return;
    }
    size_t room = STDERR_KEEP - io->stderr_len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(io->stderr_buf + io->stderr_len, chunk, take);
    io->stderr_len += take;
  }
}

static struct timespec monotonic_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts;
}

static int64_t ns_until(struct timespec deadline) {
  struct timespec now = monotonic_now();
  return (int64_t)(deadline.tv_sec - now.tv_sec) * 1000000000 +
         (deadline.tv_nsec - now.tv_nsec);
}

/* Waits for pid and returns its status; EINTR-safe. */
static int reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

/* The running hook. Without a pidfd (pidfd_open is ENOSYS before 5.3 and
 * under valgrind 3.19) we fall back to polling waitpid(WNOHANG) every
 * FALLBACK_TICK_NS; SIGCHLD is never used, it belongs to the process. */
struct hook_child { pid_t pid; int pidfd; bool exited; int status; };

#define FALLBACK_TICK_NS 10000000

static bool child_exited(struct hook_child *c, short pidfd_revents) {
  if (c->pidfd >= 0 && pidfd_revents) {
    c->status = reap(c->pid);
    c->exited = true;
  } else if (c->pidfd < 0) {
    c->exited = waitpid(c->pid, &c->status, WNOHANG) == c->pid;
  }
  return c->exited;
}

/* Serves the hook's pipes until it exits (returns 0, c->status set), the
 * deadline passes (returns 1) or a held interrupt is pending (returns 2:
 * the caller's SIGTERM ends a hook without a timeout too). deadline NULL:
 * no timeout. */
static int wait_serving(struct hook_child *c, struct hook_io *io,
                        const struct timespec *deadline) {
  cleanup_close int interrupt = interrupt_fd();
  for (;;) {
    struct pollfd fds[4] = {{.fd = c->pidfd, .events = POLLIN},
                            {.fd = io->stdin_w, .events = POLLOUT},
                            {.fd = io->stderr_r, .events = POLLIN},
                            {.fd = interrupt, .events = POLLIN}};
    int64_t ns = deadline ? ns_until(*deadline) : INT64_MAX;
    if (ns <= 0)
      return 1;
    if (c->pidfd < 0 && ns > FALLBACK_TICK_NS)
      ns = FALLBACK_TICK_NS;
    struct timespec left = {ns / 1000000000, ns % 1000000000};
    bool forever = deadline == NULL && c->pidfd >= 0;
    int n = ppoll(fds, 4, forever ? NULL : &left, NULL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (fds[3].revents)
      return 2;
    if (fds[1].revents)
      feed_stdin(io);
    if (fds[2].revents)
      drain_stderr(io);
    if (child_exited(c, fds[0].revents)) {
      /* Take what stderr already holds, but do not wait for EOF: a daemon
       * the hook left behind may keep the pipe open forever. */
      if (io->stderr_r >= 0)
        drain_stderr(io);
      return 0;
    }
  }
}

static const char *stderr_first_line(struct hook_io *io) {
  io->stderr_buf[io->stderr_len] = '\0';
  char *s = io->stderr_buf;
  s[strcspn(s, "\n")] = '\0';
  return s;
}

/* A signal as Go's os/exec names it ("signal: bad system call"): glibc's
 * description with a leading capital lowered, unless it starts an acronym
 * ("CPU time limit exceeded", "I/O possible"). */
static void describe_signal(int sig, char *buf, size_t size) {
  const char *d = sig < SIGRTMIN ? sigdescr_np(sig) : NULL;
  if (d == NULL) {
    snprintf(buf, size, "signal %d", sig);
    return;
  }
  snprintf(buf, size, "%s", d);
  if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
    buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* runc's words for a hook's end ("exit status 3", "signal: killed"), then
 * the first line of its stderr. */
static int status_error(const char *kind, const struct spec_hook *hook,
                        int status, struct hook_io *io, hull_error_t *err) {
  const char *line = stderr_first_line(io);
  const char *sep = *line ? ", stderr: " : "";
  if (WIFEXITED(status))
    return hull_error(err, 0, "%s hook `%s`: exit status %d%s%s", kind,
                      hook->path, WEXITSTATUS(status), sep, line);
  char what[64];
  describe_signal(WTERMSIG(status), what, sizeof(what));
  return hull_error(err, 0, "%s hook `%s`: signal: %s%s%s%s", kind,
                    hook->path, what, WCOREDUMP(status) ? " (core dumped)" : "",
                    sep, line);
}

static void make_pipe(int fds[2], hull_error_t *err, int *ret) {
  if (*ret == 0 && pipe2(fds, O_CLOEXEC) < 0)
    *ret = hull_error(err, errno, "pipe");
}

int hook_run(const char *kind, const struct spec_hook *hook,
             const char *state_json, hull_error_t *err) {
  if (hook->path == NULL || hook->path[0] != '/')
    return hull_error(err, 0, "%s hook `%s`: path must be absolute", kind,
                      hook->path ? hook->path : "");

  int in[2] = {-1, -1}, errp[2] = {-1, -1}, errpipe[2] = {-1, -1}, ret = 0;
  make_pipe(in, err, &ret);
  make_pipe(errp, err, &ret);
  make_pipe(errpipe, err, &ret);
  pid_t pid = ret == 0 ? fork() : -1;
  if (ret == 0 && pid < 0)
    ret = hull_error(err, errno, "fork");
  if (pid == 0)
    exec_hook(hook, in[0], errp[1], errpipe[1]);
  close_fd(&in[0]);
  close_fd(&errp[1]);
  close_fd(&errpipe[1]);
  struct hook_io *io = xzalloc(sizeof(*io));
  io->stdin_w = in[1];
  io->stderr_r = errp[0];
  cleanup_close int errfd = errpipe[0];
  if (ret < 0)
    goto out;

  /* The error pipe closes at a successful exec, or carries its errno. */
  int exec_errno = 0;
  if (read_all(errfd, &exec_errno, sizeof(exec_errno)) ==
      sizeof(exec_errno)) {
    reap(pid);
    ret = hull_error(err, exec_errno, "%s hook `%s`: exec", kind, hook->path);
    goto out;
  }

  struct hook_child child = {.pid = pid, .pidfd = pidfd_open_(pid)};
  fcntl(io->stdin_w, F_SETFL, O_NONBLOCK);
  fcntl(io->stderr_r, F_SETFL, O_NONBLOCK);
  io->state = state_json ? state_json : "";
  io->state_len = strlen(io->state);
  if (io->state_len == 0)
    close_fd(&io->stdin_w);

  struct timespec deadline = monotonic_now();
  if (hook->timeout.set)
    deadline.tv_sec += hook->timeout.v;
  int r = wait_serving(&child, io, hook->timeout.set ? &deadline : NULL);
  if (child.pidfd >= 0)
    close(child.pidfd);
  if (r != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    reap(pid);
    if (r == 2) {
      cleanup_free char *what = xasprintf("%s hook `%s`", kind, hook->path);
      ret = interrupt_error(what, err);
    } else {
      ret = r > 0 ? hull_error(err, 0, "%s hook `%s`: hook ran past specified "
                               "timeout of %lld.0s", kind, hook->path,
                               (long long)hook->timeout.v)
                  : hull_error(err, e, "%s hook `%s`: poll", kind,
                               hook->path);
    }
    goto out;
  }
  if (!(WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0))
    ret = status_error(kind, hook, child.status, io, err);

out:
  close_fd(&io->stdin_w);
  close_fd(&io->stderr_r);
  free(io);
  return ret;
}

int hooks_run(const char *kind, const struct spec_hook_list *hooks,
              const char *state_json, hull_error_t *err) {
  for (size_t i = 0; i < hooks->len; i++)
    if (hook_run(kind, &hooks->items[i], state_json, err) < 0)
      return hull_error_wrap(err, "error running hook #%zu", i);
  return 0;
}

void hooks_run_warn(const char *kind, const struct spec_hook_list *hooks,
                    const char *state_json) {
  for (size_t i = 0; i < hooks->len; i++) {
    cleanup_error hull_error_t err = NULL;
    if (hook_run(kind, &hooks->items[i], state_json, &err) < 0)
      log_warning("error running hook #%zu: %s", i, err->msg);
  }
}
