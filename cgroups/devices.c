/* devices.c — the device rules a container gets, in order, for both
 * managers: as runc, everything is denied, then the config's
 * linux.resources.devices rules apply in order, then the devices every
 * container needs (runc's "allowed devices": mknod of any node, null, zero,
 * full, tty, random, urandom, pts, ptmx, tun) and the nodes listed in
 * linux.devices are allowed. v1 writes the list to devices.deny/allow;
 * v2 compiles it to an eBPF program (devices-v2.c). */
#include "cgroups/internal.h"

#include <string.h>

static const struct cgroup_device_rule always_allowed[] = {
    {true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},
    {true, 'c', 1, 3, "rwm"},  {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 7, "rwm"},  {true, 'c', 5, 0, "rwm"},
    {true, 'c', 1, 5, "rwm"},  {true, 'c', 1, 9, "rwm"},
    {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"},
    {true, 'c', 10, 200, "rwm"},
};

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
  size_t max = 1 + res->n_devices + n_always + n_devices, n = 0;
  struct cgroup_device_rule *rules = xmalloc(max * sizeof(*rules));
  rules[n++] = (struct cgroup_device_rule){false, 'a', -1, -1, "rwm"};
  for (size_t i = 0; i < res->n_devices; i++)
    rules[n++] = from_spec_rule(&res->devices[i]);
  for (size_t i = 0; i < n_always; i++)
    rules[n++] = always_allowed[i];
  for (size_t i = 0; i < n_devices; i++) {
    const struct spec_device *d = &devices[i];
    if (d->type == NULL || strchr("cbu", d->type[0]) == NULL)
      continue;
    rules[n++] = (struct cgroup_device_rule){
        true, d->type[0] == 'b' ? 'b' : 'c', d->major.set ? d->major.v : -1,
        d->minor.set ? d->minor.v : -1, "rwm"};
  }
  *out = rules;
  return n;
}
