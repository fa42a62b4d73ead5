/* devices.c — the device rules a container gets, in order, for both
 * managers, as runc 1.1 builds them (specconv.CreateCgroupConfig): an
 * implicit deny-all (runc's device emulator starts as an allow list), then
 * the config's linux.resources.devices rules in order, then runc's
 * "allowed devices" (mknod of any node; null, random, full, tty, zero,
 * urandom; pts, ptmx, tun). Nothing else: a node listed in linux.devices is
 * created in the container but gets no rule of its own, so a deny in
 * linux.resources.devices covers it (runc leaves out an allowed device
 * whose path linux.devices lists too: that entry replaces it). v1 writes
 * the list to devices.deny/allow; v2 compiles it to an eBPF program
 * (devices-v2.c). `update` leaves the rules alone, as runc 1.1 does. */
#include "cgroups/internal.h"

#include <string.h>

struct allowed_device {
  const char *path;          /* NULL: a rule, not a node */
  struct cgroup_device_rule rule;
};

static const struct allowed_device always_allowed[] = {
    {NULL, {true, 'c', -1, -1, "m"}},
    {NULL, {true, 'b', -1, -1, "m"}},
    {"/dev/null", {true, 'c', 1, 3, "rwm"}},
    {"/dev/random", {true, 'c', 1, 8, "rwm"}},
    {"/dev/full", {true, 'c', 1, 7, "rwm"}},
    {"/dev/tty", {true, 'c', 5, 0, "rwm"}},
    {"/dev/zero", {true, 'c', 1, 5, "rwm"}},
    {"/dev/urandom", {true, 'c', 1, 9, "rwm"}},
    {NULL, {true, 'c', 136, -1, "rwm"}},   /* /dev/pts/N */
    {NULL, {true, 'c', 5, 2, "rwm"}},      /* /dev/ptmx */
    {NULL, {true, 'c', 10, 200, "rwm"}},   /* /dev/net/tun */
};

static bool listed_in(const char *path, const struct spec_device *devices,
                      size_t n_devices) {
  for (size_t i = 0; path && i < n_devices; i++)
    if (devices[i].path && strcmp(devices[i].path, path) == 0)
      return true;
  return false;
}

static struct cgroup_device_rule from_spec_rule(const struct spec_device_rule *s) {
  struct cgroup_device_rule r = {
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

size_t cgroup_device_rules(const struct spec_resources *res,
                           const struct spec_device *devices, size_t n_devices,
                           struct cgroup_device_rule **out) {
  size_t n_always = sizeof(always_allowed) / sizeof(always_allowed[0]);
  size_t n_res = res ? res->n_devices : 0;
  size_t n = 0;
  struct cgroup_device_rule *rules =
      xmalloc((1 + n_res + n_always) * sizeof(*rules));
  rules[n++] = (struct cgroup_device_rule){false, 'a', -1, -1, "rwm"};
  for (size_t i = 0; i < n_res; i++)
    rules[n++] = from_spec_rule(&res->devices[i]);
  for (size_t i = 0; i < n_always; i++)
    if (!listed_in(always_allowed[i].path, devices, n_devices))
      rules[n++] = always_allowed[i].rule;
  *out = rules;
  return n;
}
