/* devices-v1.c — linux.resources.devices on the v1 devices controller:
 * the rules of devices.c, in order, to devices.deny and devices.allow. */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void format_number(char *buf, size_t len, int64_t n) {
  if (n < 0)
    snprintf(buf, len, "*");
  else
    snprintf(buf, len, "%lld", (long long)n);
}

/* devices.allow and devices.deny, each opened once for all the rules (a
 * container gets a score of them): one write(2) is one rule. */
struct rule_knobs { int allow, deny; };

static int knob_fd(const char *dir, int *fd, const char *name,
                   hull_error_t *err) {
  if (*fd >= 0)
    return *fd;
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  *fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (*fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  return *fd;
}

static int write_rule(const char *dir, struct rule_knobs *k,
                      const struct cgroup_device_rule *r, hull_error_t *err) {
  char major[24], minor[24];
  format_number(major, sizeof(major), r->major);
  format_number(minor, sizeof(minor), r->minor);
  cleanup_free char *line =
      r->type == 'a' ? xstrdup("a")
                     : xasprintf("%c %s:%s %s", r->type, major, minor,
                                 r->access);
  const char *name = r->allow ? "devices.allow" : "devices.deny";
  int fd = knob_fd(dir, r->allow ? &k->allow : &k->deny, name, err);
  if (fd < 0)
    return hull_error_wrap(err, "linux.resources.devices `%s`", line);
  if (write_all(fd, line, strlen(line)) < 0) {
    hull_error(err, errno, "write `%s/%s`", dir, name);
    return hull_error_wrap(err, "linux.resources.devices `%s`", line);
  }
  return 0;
}

static const char *devices_dir(const struct cgroup *cg) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (strcmp(cg->controllers[i], "devices") == 0)
      return cg->dirs[i];
  return NULL;
}

int cgroup_v1_apply_devices(struct cgroup *cg,
                            const struct spec_resources *res,
                            const struct spec_device *devices,
                            size_t n_devices, hull_error_t *err) {
  const char *dir = devices_dir(cg);
  if (dir == NULL)
    return 0;
  cleanup_free struct cgroup_device_rule *rules = NULL;
  size_t n = cgroup_device_rules(res, devices, n_devices, &rules);
  struct rule_knobs k = {.allow = -1, .deny = -1};
  int ret = 0;
  for (size_t i = 0; ret == 0 && i < n; i++)
    ret = write_rule(dir, &k, &rules[i], err);
  if (k.allow >= 0)
    close(k.allow);
  if (k.deny >= 0)
    close(k.deny);
  return ret;
}
