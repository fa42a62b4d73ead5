/* socket-activation.c — systemd's socket activation through hull, as runc
 * does it: when hull's environment says LISTEN_FDS=N for hull's own pid,
 * fds 3..3+N-1 go into the container ahead of --preserve-fds, and the
 * process is told LISTEN_FDS=N, LISTEN_PID=1. */
#include "lifecycle.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal number filling all of s, or -1. */
static long parse_count(const char *s) {
  if (s == NULL || *s == '\0')
    return -1;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  return (*end == '\0' && v >= 0) ? v : -1;
}

int socket_activation_fds(void) {
  long pid = parse_count(getenv("LISTEN_PID"));
  long n = parse_count(getenv("LISTEN_FDS"));
  if (pid != (long)getpid() || n <= 0 || n > 4096)
    return 0;
  return (int)n;
}

static void env_append(char ***env, char *entry) {
  size_t n = strv_len(*env);
  *env = xrealloc(*env, (n + 2) * sizeof(char *));
  (*env)[n] = entry;
  (*env)[n + 1] = NULL;
}

void socket_activation_apply(struct spec *spec) {
  int n = socket_activation_fds();
  if (n == 0 || spec->process == NULL)
    return;
  /* Inherited, not close-on-exec: the user program is to get them. */
  for (int fd = 3; fd < 3 + n; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
      fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  /* Appended, as runc does: the config's own entries come first. */
  env_append(&spec->process->env, xasprintf("LISTEN_FDS=%d", n));
  env_append(&spec->process->env, xstrdup("LISTEN_PID=1"));
}
