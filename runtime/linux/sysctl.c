/* sysctl.c — linux.sysctl: checked against the container's namespaces the
 * way runc checks them, then written under /proc/sys after the pivot. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* IPC sysctls a new ipc namespace owns (plus fs.mqueue.*). */
static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",   "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
    "kernel.shm_rmid_forced",
};

bool spec_wants_namespace(const struct spec *spec, enum spec_ns_type type) {
  if (!spec->linux)
    return false;
  for (size_t i = 0; i < spec->linux->n_namespaces; i++)
    if (spec->linux->namespaces[i].type == type)
      return true;
  return false;
}

static bool is_ipc_sysctl(const char *key) {
  if (strncmp(key, "fs.mqueue.", 10) == 0)
    return true;
  for (size_t i = 0; i < sizeof(ipc_sysctls) / sizeof(ipc_sysctls[0]); i++)
    if (strcmp(key, ipc_sysctls[i]) == 0)
      return true;
  return false;
}

/* "net/ipv4/ip_forward" and "net.ipv4.ip_forward" name the same knob. */
static char *dotted(const char *key) {
  char *k = xstrdup(key);
  for (char *p = k; *p; p++)
    if (*p == '/')
      *p = '.';
  return k;
}

static int validate_key(const struct spec *spec, const char *key,
                        hull_error_t *err) {
  cleanup_free char *k = dotted(key);
  /* Components are separated by dots; none may climb out of /proc/sys. */
  if (*k == '\0' || *k == '.' || strstr(k, "..") || k[strlen(k) - 1] == '.')
    return hull_error(err, EINVAL, "sysctl \"%s\": invalid name", key);
  if (is_ipc_sysctl(k)) {
    if (spec_wants_namespace(spec, SPEC_NS_IPC))
      return 0;
    return hull_error(err, 0,
                      "sysctl \"%s\" is not allowed in the hosts ipc namespace",
                      key);
  }
  if (strncmp(k, "net.", 4) == 0) {
    if (spec_wants_namespace(spec, SPEC_NS_NETWORK))
      return 0;
    return hull_error(
        err, 0, "sysctl \"%s\" is not allowed in the hosts network namespace",
        key);
  }
  if (spec_wants_namespace(spec, SPEC_NS_UTS)) {
    if (strcmp(k, "kernel.domainname") == 0)
      return 0;
    if (strcmp(k, "kernel.hostname") == 0)
      return hull_error(err, 0, "sysctl \"%s\" is not allowed; the "
                        "\"hostname\" field should be used instead", key);
  }
  return hull_error(err, 0,
                    "sysctl \"%s\" is not in a separate kernel namespace", key);
}

int rootfs_validate_sysctl(const struct spec *spec, hull_error_t *err) {
  if (!spec->linux)
    return 0;
  const struct spec_map *m = &spec->linux->sysctl;
  for (size_t i = 0; i < m->len; i++)
    if (validate_key(spec, m->items[i].key, err) < 0)
      return hull_error_wrap(err, "linux.sysctl");
  return 0;
}

int rootfs_write_sysctl(const struct spec *spec, hull_error_t *err) {
  if (rootfs_validate_sysctl(spec, err) < 0)
    return -1;
  if (!spec->linux)
    return 0;
  const struct spec_map *m = &spec->linux->sysctl;
  for (size_t i = 0; i < m->len; i++) {
    cleanup_free char *path = xasprintf("/proc/sys/%s", m->items[i].key);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    const char *v = m->items[i].value ? m->items[i].value : "";
    cleanup_close int fd =
        open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || write_all(fd, v, strlen(v)) < 0)
      return hull_error(err, errno, "linux.sysctl: write \"%s\" to `%s`",
                        m->items[i].key, path);
  }
  return 0;
}
