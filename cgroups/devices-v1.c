/* devices-v1.c — linux.resources.devices on the v1 devices controller:
 * the rules of devices.c, in order, to devices.deny and devices.allow. */
#include "cgroups/internal.h"

#include <stdlib.h>
#include <string.h>

static void format_number(char *buf, size_t len, int64_t n) {
  if (n < 0)
    snprintf(buf, len, "*");
  else
    snprintf(buf, len, "%lld", (long long)n);
}

static int write_rule(const char *dir, const struct cgroup_device_rule *r,
                      hull_error_t *err) {
  char major[24], minor[24];
  format_number(major, sizeof(major), r->major);
  format_number(minor, sizeof(minor), r->minor);
  cleanup_free char *line =
      r->type == 'a' ? xstrdup("a")
                     : xasprintf("%c %s:%s %s", r->type, major, minor,
                                 r->access);
  cleanup_free char *knob =
      xasprintf("%s/%s", dir, r->allow ? "devices.allow" : "devices.deny");
  if (write_file(knob, line, strlen(line), err) < 0)
    return hull_error_wrap(err, "linux.resources.devices `%s`", line);
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
  if (dir == NULL || res == NULL || res->n_devices == 0)
    return 0;
  cleanup_free struct cgroup_device_rule *rules = NULL;
  size_t n = cgroup_device_rules(res, devices, n_devices, &rules);
  for (size_t i = 0; i < n; i++)
    if (write_rule(dir, &rules[i], err) < 0)
      return -1;
  return 0;
}
