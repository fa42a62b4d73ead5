/* notify-socket.c — sd_notify through hull, as runc does it. When hull
 * runs with NOTIFY_SOCKET (systemd's, or an engine's in its sd-notify
 * mode), `create` bind-mounts <state dir>/notify read-only at /run/notify
 * in the container and gives the process NOTIFY_SOCKET=
 * /run/notify/notify.sock; `start` binds that socket before the process
 * runs, then waits until the container sends READY=… (or its init dies)
 * and passes it on to the host's socket, followed by MAINPID=<init pid>
 * so the service manager watches the container's init. */
#include "lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOTIFY_DIR "notify"
#define NOTIFY_SOCK "notify.sock"
#define NOTIFY_DIR_IN_CONTAINER "/run/notify"
/* How often the relay checks that the init is still there. */
#define NOTIFY_POLL_MS 100

static const char *host_notify_socket(void) {
  const char *host = getenv("NOTIFY_SOCKET");
  return host && *host ? host : NULL;
}

static char **strv_of(const char *const *items) {
  size_t n = 0;
  while (items[n])
    n++;
  char **v = xzalloc((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    v[i] = xstrdup(items[i]);
  return v;
}

static void add_notify_mount(struct spec *spec, const char *source) {
  spec->mounts =
      xrealloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*spec->mounts));
  struct spec_mount *m = &spec->mounts[spec->n_mounts++];
  memset(m, 0, sizeof(*m));
  m->destination = xstrdup(NOTIFY_DIR_IN_CONTAINER);
  m->source = xstrdup(source);
  m->type = xstrdup("bind");
  m->options = strv_of((const char *const[]){"bind", "nosuid", "noexec",
                                             "nodev", "ro", NULL});
}

static void add_notify_env(struct spec_process *p) {
  size_t n = strv_len(p->env);
  p->env = xrealloc(p->env, (n + 2) * sizeof(char *));
  p->env[n] = xstrdup("NOTIFY_SOCKET=" NOTIFY_DIR_IN_CONTAINER "/" NOTIFY_SOCK);
  p->env[n + 1] = NULL;
}

int notify_socket_prepare(struct lifecycle *lc, hull_error_t *err) {
  if (host_notify_socket() == NULL || lc->spec->process == NULL)
    return 0;
  if (mkdirat(lc->dir.fd, NOTIFY_DIR, 0755) < 0)
    return hull_error(err, errno, "mkdir `%s/%s`", lc->dir.path, NOTIFY_DIR);
  char dir[PATH_MAX];
  if (realpath(lc->dir.path, dir) == NULL)
    return hull_error(err, errno, "resolve `%s`", lc->dir.path);
  cleanup_free char *source = xasprintf("%s/%s", dir, NOTIFY_DIR);
  add_notify_mount(lc->spec, source);
  add_notify_env(lc->spec->process);
  return 0;
}

/* A sockaddr for path; '@' names an abstract socket, as in systemd. */
static int unix_address(const char *path, struct sockaddr_un *addr,
                        socklen_t *len, hull_error_t *err) {
  size_t n = strlen(path);
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (n >= sizeof(addr->sun_path))
    return hull_error(err, ENAMETOOLONG, "notify socket `%s`", path);
  memcpy(addr->sun_path, path, n);
  if (path[0] == '@')
    addr->sun_path[0] = '\0';
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                     (path[0] == '@' ? 0 : 1));
  return 0;
}

int notify_socket_bind(const char *state_dir, int *fd, hull_error_t *err) {
  *fd = -1;
  if (host_notify_socket() == NULL)
    return 0;
  /* A container created without NOTIFY_SOCKET has no socket to offer. */
  cleanup_free char *dir = xasprintf("%s/%s", state_dir, NOTIFY_DIR);
  struct stat st;
  if (stat(dir, &st) < 0 && errno == ENOENT)
    return 0;
  cleanup_free char *path = xasprintf("%s/%s", dir, NOTIFY_SOCK);
  struct sockaddr_un addr;
  socklen_t len;
  if (unix_address(path, &addr, &len, err) < 0)
    return -1;
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return hull_error(err, errno, "socket");
  unlink(path); /* a start that died before the process ran left it */
  if (bind(s, (struct sockaddr *)&addr, len) < 0)
    return hull_error(err, errno, "bind `%s`", path);
  /* The container's user, whoever it is, may send to it. */
  if (chmod(path, 0777) < 0)
    return hull_error(err, errno, "chmod `%s`", path);
  *fd = take_fd(&s);
  return 0;
}

/* Whether pid has exited (a zombie child of ours counts as exited). */
static bool process_gone(pid_t pid) {
  siginfo_t si = {0};
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
    return si.si_pid == pid;
  return kill(pid, 0) < 0 && errno == ESRCH;
}

/* The READY=… line of a datagram, or NULL. */
static const char *ready_line(char *msg, size_t *len) {
  for (char *line = msg; line && *line;) {
    char *end = strchr(line, '\n');
    if (strncmp(line, "READY=", 6) == 0) {
      *len = end ? (size_t)(end - line) : strlen(line);
      return line;
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

static int send_to_host(const char *ready, size_t len, pid_t pid,
                        hull_error_t *err) {
  const char *host = host_notify_socket();
  struct sockaddr_un addr;
  socklen_t addr_len;
  if (unix_address(host, &addr, &addr_len, err) < 0)
    return -1;
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return hull_error(err, errno, "socket");
  if (connect(s, (struct sockaddr *)&addr, addr_len) < 0)
    return hull_error(err, errno, "connect to NOTIFY_SOCKET `%s`", host);
  cleanup_free char *ready_msg = xasprintf("%.*s\n", (int)len, ready);
  cleanup_free char *pid_msg = xasprintf("MAINPID=%d\n", (int)pid);
  if (send(s, ready_msg, strlen(ready_msg), MSG_NOSIGNAL) < 0 ||
      send(s, pid_msg, strlen(pid_msg), MSG_NOSIGNAL) < 0)
    return hull_error(err, errno, "send to NOTIFY_SOCKET `%s`", host);
  return 0;
}

int notify_socket_relay(int fd, pid_t pid, hull_error_t *err) {
  char buf[4096];
  while (!process_gone(pid)) {
    int n = wait_fd(fd, POLLIN, NOTIFY_POLL_MS,
                    "waiting for the container's READY=1", err);
    if (n < 0)
      return -1;
    if (n == 0)
      continue;
    ssize_t got = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    if (got < 0)
      continue;
    buf[got] = '\0';
    size_t len = 0;
    const char *ready = ready_line(buf, &len);
    if (ready)
      return send_to_host(ready, len, pid, err);
  }
  return 0;
}
