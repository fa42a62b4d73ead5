/* process-utils.c — what the verbs that start a process share: the pid
 * file, the seccomp cache directory, and waiting in the foreground. */
#include "lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

int lifecycle_write_pid_file(const char *path, pid_t pid, hull_error_t *err) {
  if (path == NULL)
    return 0;
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
  return write_file_atomic(path, buf, (size_t)n, 0644, err);
}

/* `hull list` skips dot-directories. */
char *lifecycle_cache_dir(const char *root, const struct spec *spec) {
  if (spec->linux == NULL || spec->linux->seccomp == NULL)
    return NULL;
  cleanup_free char *abs_root = realpath(root, NULL);
  return abs_root ? xasprintf("%s/.cache", abs_root) : NULL;
}

/* Signals a foreground `run` or `exec` passes on, as runc does. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                                SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP, SIGALRM,
                                SIGPIPE, SIGTTIN, SIGTTOU};

static int exit_code_of(int status) {
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

void lifecycle_forwarded_set(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    sigaddset(set, forwarded[i]);
}

void lifecycle_block_forwarded_signals(void) {
  sigset_t set;
  lifecycle_forwarded_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

int lifecycle_wait_forwarding(pid_t pid) {
  sigset_t set, old;
  lifecycle_forwarded_set(&set);
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
