/* devices-v1.c — linux.resources.devices on the v1 devices controller.
 *
 * As runc: everything is denied, then the config's rules apply in order,
 * then the devices every container needs (runc's "allowed devices": mknod of
 * any node, null, zero, full, tty, random, urandom, pts, ptmx, tun) and the
 * nodes listed in linux.devices are allowed. */
#include "cgroups/internal.h"

#include <string.h>

struct device_rule {
  bool allow;
  char type;
  int64_t major, minor;      /* -1: any */
  const char *access;
};

static const struct device_rule always_allowed[] = {
    {true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},
    {true, 'c', 1, 3, "rwm"},  {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 7, "rwm"},  {true, 'c', 5, 0, "rwm"},
    {true, 'c', 1, 5, "rwm"},  {true, 'c', 1, 9, "rwm"},
    {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"},
    {true, 'c', 10, 200, "rwm"},
};

static void format_number(char *buf, size_t len, int64_t n) {
  if (n < 0)
    snprintf(buf, len, "*");
  else
    snprintf(buf, len, "%lld", (long long)n);
}

static int write_rule(const char *dir, const struct device_rule *r,
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

static struct device_rule from_spec_rule(const struct spec_device_rule *s) {
  struct device_rule r = {
      .allow = s->allow,
      .type = s->type && *s->type ? s->type[0] : 'a',
      .major = s->major.set ? s->major.v : -1,
      .minor = s->minor.set ? s->minor.v : -1,
      .access = s->access && *s->access ? s->access : "rwm",
  };
  /* "a" with an access narrower than rwm is still written per type. */
  if (r.type == 'a' && strcmp(r.access, "rwm") != 0) {
    r.type = 'c';
    r.major = r.minor = -1;
  }
  return r;
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
  const struct device_rule deny_all = {false, 'a', -1, -1, "rwm"};
  if (write_rule(dir, &deny_all, err) < 0)
    return -1;
  for (size_t i = 0; i < res->n_devices; i++) {
    struct device_rule r = from_spec_rule(&res->devices[i]);
    if (write_rule(dir, &r, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < sizeof(always_allowed) / sizeof(always_allowed[0]);
       i++)
    if (write_rule(dir, &always_allowed[i], err) < 0)
      return -1;
  for (size_t i = 0; i < n_devices; i++) {
    const struct spec_device *d = &devices[i];
    if (d->type == NULL || strchr("cbu", d->type[0]) == NULL)
      continue;
    struct device_rule r = {true, d->type[0] == 'b' ? 'b' : 'c',
                            d->major.set ? d->major.v : -1,
                            d->minor.set ? d->minor.v : -1, "rwm"};
    if (write_rule(dir, &r, err) < 0)
      return -1;
  }
  return 0;
}
