/* run.c — `run`: create, start, and (in the foreground) wait and delete. */
#include "lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* Signals a foreground `run` passes on to the container, as runc does. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                                SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP, SIGALRM,
                                SIGPIPE, SIGTTIN, SIGTTOU};

static int exit_code_of(int status) {
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* Forwards signals until the init exits; returns its exit code. */
static int wait_forwarding(pid_t pid) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR)
      return 255;
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD)
      kill(pid, sig);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return exit_code_of(status);
}

int container_run(const struct create_options *o, int *exit_code,
                  hull_error_t *err) {
  bool detach = o->detach;
  /* Processes the init leaves behind are reparented to us, not to init(1),
   * so nothing escapes `run`'s wait. */
  if (!detach)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t pid;
  if (container_create(o, &pid, err) < 0)
    return -1;
  if (container_start(o->root, o->id, err) < 0) {
    cleanup_error hull_error_t ignored = NULL;
    container_delete(o->root, o->id, true, &ignored);
    return -1;
  }
  *exit_code = 0;
  if (detach)
    return 0;
  *exit_code = wait_forwarding(pid);
  return container_delete(o->root, o->id, true, err);
}
