/* mac.c — process.apparmorProfile and process.selinuxLabel: the label the
 * kernel gives the process at its next execve, written to /proc/self/attr.
 * A label for a security module the host does not run is an error: the
 * container would otherwise run less confined than its config says. */
#include "security.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool apparmor_enabled(void) {
  cleanup_free char *v = NULL;
  hull_error_t ignored = NULL;
  bool on = read_file("/sys/module/apparmor/parameters/enabled", &v, NULL,
                      &ignored) == 0 &&
            v[0] == 'Y';
  hull_error_release(&ignored);
  return on;
}

int apparmor_apply(const char *profile, hull_error_t *err) {
  if (profile == NULL || *profile == '\0')
    return 0;
  if (!apparmor_enabled())
    return hull_error(err, 0, "process.apparmorProfile: \"%s\" requested but "
                      "AppArmor is not enabled on this host", profile);
  cleanup_free char *cmd = xasprintf("exec %s", profile);
  /* Kernels with stacked LSMs have an AppArmor-only attr directory; older
   * ones only the shared file. */
  const char *path = "/proc/self/attr/apparmor/exec";
  if (access(path, F_OK) < 0)
    path = "/proc/self/attr/exec";
  if (write_file(path, cmd, strlen(cmd), err) < 0)
    return hull_error_wrap(err, "process.apparmorProfile: set \"%s\"",
                           profile);
  return 0;
}

static bool selinux_enabled(void) {
  return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

int selinux_apply(const char *label, hull_error_t *err) {
  if (label == NULL || *label == '\0')
    return 0;
  if (!selinux_enabled())
    return hull_error(err, 0, "process.selinuxLabel: \"%s\" requested but "
                      "SELinux is not enabled on this host", label);
  if (write_file("/proc/self/attr/exec", label, strlen(label), err) < 0)
    return hull_error_wrap(err, "process.selinuxLabel: set \"%s\"", label);
  return 0;
}

int mount_label_check(const char *label, hull_error_t *err) {
  if (label == NULL || *label == '\0')
    return 0;
  if (!selinux_enabled())
    return hull_error(err, 0, "linux.mountLabel: \"%s\" requested but "
                      "SELinux is not enabled on this host", label);
  return hull_error(err, 0, "linux.mountLabel: not supported (hull does not "
                    "label mounts)");
}
