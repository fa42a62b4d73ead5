/* namespaces.c — creating, joining and configuring Linux namespaces. */
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int ns_clone_flag(enum spec_ns_type type) {
  static const int flags[SPEC_NS_COUNT] = {
      [SPEC_NS_PID] = CLONE_NEWPID,   [SPEC_NS_NETWORK] = CLONE_NEWNET,
      [SPEC_NS_MOUNT] = CLONE_NEWNS,  [SPEC_NS_IPC] = CLONE_NEWIPC,
      [SPEC_NS_UTS] = CLONE_NEWUTS,   [SPEC_NS_USER] = CLONE_NEWUSER,
      [SPEC_NS_CGROUP] = CLONE_NEWCGROUP, [SPEC_NS_TIME] = CLONE_NEWTIME,
  };
  return flags[type];
}

void ns_close_paths(int fds[SPEC_NS_COUNT]) {
  for (int i = 0; i < SPEC_NS_COUNT; i++) {
    if (fds[i] >= 0)
      close(fds[i]);
    fds[i] = -1;
  }
}

static int open_ns_path(const struct spec_namespace *ns, int *fd,
                        hull_error_t *err) {
  *fd = open(ns->path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return hull_error(err, errno, "open %s namespace `%s`",
                      spec_ns_type_name(ns->type), ns->path);
  int kind = ioctl(*fd, NS_GET_NSTYPE);
  if (kind < 0 || kind != ns_clone_flag(ns->type))
    return hull_error(err, 0, "`%s` is not a %s namespace", ns->path,
                      spec_ns_type_name(ns->type));
  return 0;
}

int ns_open_paths(const struct spec *spec, int fds[SPEC_NS_COUNT],
                  hull_error_t *err) {
  for (int i = 0; i < SPEC_NS_COUNT; i++)
    fds[i] = -1;
  if (spec->linux == NULL)
    return 0;
  for (size_t i = 0; i < spec->linux->n_namespaces; i++) {
    const struct spec_namespace *ns = &spec->linux->namespaces[i];
    if (ns->path == NULL || *ns->path == '\0')
      continue;
    if (open_ns_path(ns, &fds[ns->type], err) < 0) {
      ns_close_paths(fds);
      return -1;
    }
  }
  return 0;
}

int ns_new_flags(const struct spec *spec) {
  int flags = 0;
  if (spec->linux == NULL)
    return 0;
  for (size_t i = 0; i < spec->linux->n_namespaces; i++) {
    const struct spec_namespace *ns = &spec->linux->namespaces[i];
    if (ns->path == NULL || *ns->path == '\0')
      flags |= ns_clone_flag(ns->type);
  }
  return flags;
}

int ns_clone_flags(const struct spec *spec) {
  return ns_new_flags(spec) & ~CLONE_NEWCGROUP;
}

int ns_join(int fds[SPEC_NS_COUNT], hull_error_t *err) {
  /* The user namespace first: the others are then joined with the
   * capabilities it grants. The mount namespace last but one, so path
   * lookups above still see the runtime's mounts; order otherwise as runc. */
  static const enum spec_ns_type order[] = {
      SPEC_NS_USER, SPEC_NS_IPC, SPEC_NS_UTS, SPEC_NS_NETWORK,
      SPEC_NS_PID,  SPEC_NS_CGROUP, SPEC_NS_TIME, SPEC_NS_MOUNT};
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    enum spec_ns_type t = order[i];
    if (fds[t] < 0)
      continue;
    if (setns(fds[t], ns_clone_flag(t)) < 0)
      return hull_error(err, errno, "join %s namespace",
                        spec_ns_type_name(t));
  }
  return 0;
}

static char *format_id_map(const struct spec_id_mapping *m, size_t n) {
  size_t cap = n * 40 + 1, used = 0;
  char *s = xmalloc(cap);
  s[0] = '\0';
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(s + used, cap - used, "%u %u %u\n",
                             m[i].container_id, m[i].host_id, m[i].size);
  return s;
}

static int write_map(pid_t pid, const char *file,
                     const struct spec_id_mapping *m, size_t n,
                     hull_error_t *err) {
  if (n == 0)
    return 0;
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
  cleanup_free char *map = format_id_map(m, n);
  if (write_file(path, map, strlen(map), err) < 0)
    return hull_error_wrap(err, "linux.%s", strcmp(file, "uid_map") == 0
                                                ? "uidMappings"
                                                : "gidMappings");
  return 0;
}

int ns_write_id_maps(const struct spec *spec, pid_t pid, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0)
    return -1;
  return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err);
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

int ns_write_time_offsets(const struct spec *spec, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  char buf[128];
  size_t n = 0;
  if (l->time_offsets.monotonic.set)
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "monotonic %lld %u\n",
                          (long long)l->time_offsets.monotonic.secs,
                          l->time_offsets.monotonic.nanosecs);
  if (l->time_offsets.boottime.set)
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "boottime %lld %u\n",
                          (long long)l->time_offsets.boottime.secs,
                          l->time_offsets.boottime.nanosecs);
  if (n == 0)
    return 0;
  if (write_file("/proc/self/timens_offsets", buf, n, err) < 0)
    return hull_error_wrap(err, "linux.timeOffsets");
  return 0;
}
