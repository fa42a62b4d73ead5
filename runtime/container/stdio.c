/* stdio.c — create and exec for a caller that owns the container's stdio
 * itself (the VM guest agent relays it over its channel).
 *
 * A container's process inherits hull's fds 0, 1 and 2 (the init and an
 * exec'd process keep them across their setup). So for the duration of the
 * call hull's own 0–2 are set aside and the caller's fds put in their
 * place; the signal mask is emptied too, since the process inherits it and
 * the caller keeps SIGCHLD blocked for its signalfd. The caller is
 * single-threaded: nothing else sees the swap. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

struct saved_stdio {
  int fds[3];                /* hull's own 0–2, or -1 when one was closed */
  sigset_t mask;
};

static void stdio_restore(struct saved_stdio *s) {
  for (int i = 0; i < 3; i++) {
    if (s->fds[i] >= 0) {
      dup2(s->fds[i], i);
      close(s->fds[i]);
    } else {
      close(i);
    }
    s->fds[i] = -1;
  }
  sigprocmask(SIG_SETMASK, &s->mask, NULL);
}

static int stdio_swap_in(const int stdio[3], struct saved_stdio *s,
                         hull_error_t *err) {
  for (int i = 0; i < 3; i++)
    if (stdio[i] < 3)
      return hull_error(err, EINVAL, "stdio fd %d for the container's fd %d",
                        stdio[i], i);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, NULL, &s->mask);
  for (int i = 0; i < 3; i++) {
    s->fds[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
    if (s->fds[i] < 0 && errno != EBADF) {
      int e = errno;
      stdio_restore(s);
      return hull_error(err, e, "set aside fd %d", i);
    }
  }
  for (int i = 0; i < 3; i++) {
    if (dup2(stdio[i], i) < 0) {
      int e = errno;
      stdio_restore(s);
      return hull_error(err, e, "dup2 %d to %d", stdio[i], i);
    }
  }
  sigprocmask(SIG_SETMASK, &none, NULL);
  return 0;
}

int container_create_with_stdio(const struct create_options *o,
                                const int stdio[3], int *master, pid_t *pid,
                                hull_error_t *err) {
  *master = -1;
  struct saved_stdio s = {.fds = {-1, -1, -1}};
  if (stdio_swap_in(stdio, &s, err) < 0)
    return -1;
  int ret = lifecycle_create(o, master, pid, err);
  stdio_restore(&s);
  return ret;
}

int container_exec_with_stdio(const struct exec_options *o,
                              const char *process_json, const int stdio[3],
                              int *master, pid_t *pid, hull_error_t *err) {
  *master = -1;
  struct saved_stdio s = {.fds = {-1, -1, -1}};
  if (stdio_swap_in(stdio, &s, err) < 0)
    return -1;
  int ret = container_exec_begin(o, process_json, pid, master, err);
  stdio_restore(&s);
  return ret;
}
