/* id-maps.c — the uid_map and gid_map of a new user namespace. Root writes
 * them itself. A user other than root may write only a map of its own id
 * (user_namespaces(7)); a wider one, such as podman's "0 = me, 1.. = my
 * /etc/subuid range", is written by the setuid helpers newuidmap and
 * newgidmap (package uidmap), which check it against /etc/subuid and
 * /etc/subgid. */
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *format_id_map(const struct spec_id_mapping *m, size_t n) {
  size_t cap = n * 40 + 1, used = 0;
  char *s = xmalloc(cap);
  s[0] = '\0';
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(s + used, cap - used, "%u %u %u\n",
                             m[i].container_id, m[i].host_id, m[i].size);
  return s;
}

static const char *field_of(const char *file) {
  return strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings";
}

static int write_map(pid_t pid, const char *file,
                     const struct spec_id_mapping *m, size_t n,
                     hull_error_t *err) {
  if (n == 0)
    return 0;
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
  cleanup_free char *map = format_id_map(m, n);
  if (write_file(path, map, strlen(map), err) < 0)
    return hull_error_wrap(err, "linux.%s", field_of(file));
  return 0;
}

/* The last line the tool wrote to stderr (it says what it refused), or
 * NULL. */
static char *last_line(char *text) {
  size_t len = strlen(text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  char *nl = strrchr(text, '\n');
  char *line = nl ? nl + 1 : text;
  return *line ? xstrdup(line) : NULL;
}

static char **tool_argv(const char *tool, pid_t pid,
                        const struct spec_id_mapping *m, size_t n) {
  char **argv = xzalloc((3 + 3 * n) * sizeof(*argv));
  size_t k = 0;
  argv[k++] = xstrdup(tool);
  argv[k++] = xasprintf("%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    argv[k++] = xasprintf("%u", m[i].container_id);
    argv[k++] = xasprintf("%u", m[i].host_id);
    argv[k++] = xasprintf("%u", m[i].size);
  }
  return argv;
}

/* Runs `tool PID ID HOST SIZE...` from $PATH, its stderr kept for the
 * error. */
static int run_map_tool(const char *tool, pid_t pid,
                        const struct spec_id_mapping *m, size_t n,
                        hull_error_t *err) {
  cleanup_strv char **argv = tool_argv(tool, pid, m, n);
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(out[0]);
    close(out[1]);
    return hull_error(err, e, "fork %s", tool);
  }
  if (child == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
    }
    dup2(out[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(tool, argv);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(out[1]);
  char said[4096];
  size_t len = 0;
  ssize_t got;
  while (len < sizeof(said) - 1 &&
         (got = read(out[0], said + len, sizeof(said) - 1 - len)) != 0) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      break;
    len += (size_t)got;
  }
  said[len] = '\0';
  close(out[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return hull_error(err, ENOENT, "%s (package uidmap) is needed to map "
                      "more than your own id", tool);
  cleanup_free char *line = last_line(said);
  if (line)
    return hull_error(err, 0, "%s", line);
  return hull_error(err, 0, "%s failed (status %d)", tool,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
                    WTERMSIG(status));
}

/* A map of only the writer's own id, one line of one id: what a runtime
 * that is not root may write itself. */
static bool own_id_only(const struct spec_id_mapping *m, size_t n,
                        uint32_t own) {
  return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

static int write_rootless_map(pid_t pid, const char *file,
                              const struct spec_id_mapping *m, size_t n,
                              uint32_t own, const char *tool,
                              hull_error_t *err) {
  if (n == 0)
    return 0;
  if (own_id_only(m, n, own))
    return write_map(pid, file, m, n, err);
  if (run_map_tool(tool, pid, m, n, err) < 0)
    return hull_error_wrap(err, "linux.%s", field_of(file));
  return 0;
}

int ns_write_id_maps(const struct spec *spec, pid_t pid, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  if (geteuid() == 0) {
    if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
                  err) < 0)
      return -1;
    return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
                     err);
  }
  /* The kernel takes a gid map from a user other than root only once
   * setgroups(2) is denied in the namespace: the container cannot drop
   * the host groups it was started with (runc does the same). newgidmap
   * needs it allowed. */
  if (own_id_only(l->gid_mappings, l->n_gid_mappings, getegid())) {
    cleanup_free char *path = xasprintf("/proc/%d/setgroups", (int)pid);
    if (write_file(path, "deny", 4, err) < 0)
      return hull_error_wrap(err, "linux.gidMappings");
  }
  if (write_rootless_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
                         geteuid(), "newuidmap", err) < 0)
    return -1;
  return write_rootless_map(pid, "gid_map", l->gid_mappings,
                            l->n_gid_mappings, getegid(), "newgidmap", err);
}

int ns_new_user_fd(const struct spec_id_mapping *uid, size_t n_uid,
                   const struct spec_id_mapping *gid, size_t n_gid, int *fd,
                   hull_error_t *err) {
  /* A child holds the namespace while its maps are written and its fd is
   * opened; it waits for the pipe to close and exits. */
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (child < 0) {
    int e = errno;
    close(gate[0]);
    close(gate[1]);
    return hull_error(err, e, "clone a user namespace");
  }
  if (child == 0) {
    char byte;
    close(gate[1]);
    while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(gate[0]);
  int ret = 0;
  if (write_map(child, "uid_map", uid, n_uid, err) < 0 ||
      write_map(child, "gid_map", gid, n_gid, err) < 0) {
    ret = -1;
  } else {
    cleanup_free char *path = xasprintf("/proc/%d/ns/user", (int)child);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
      ret = hull_error(err, errno, "open `%s`", path);
  }
  close(gate[1]);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
    ;
  return ret;
}
