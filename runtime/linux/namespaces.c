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

bool ns_running_in_user_ns(void) {
  /* runc's test: the initial user namespace maps every id to itself, in
   * one line; no uid_map (a kernel without user namespaces) is that too. */
  cleanup_free char *map = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file("/proc/self/uid_map", &map, NULL, &err) < 0)
    return false;
  unsigned long long inside, outside, count;
  if (sscanf(map, "%llu %llu %llu", &inside, &outside, &count) != 3)
    return true;
  return !(inside == 0 && outside == 0 && count == 4294967295ULL);
}

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
