/* net.c — linux.resources.network on v1's net_cls and net_prio
 * controllers. cgroup v2 has neither (it classifies traffic with eBPF), so
 * the v2 manager refuses these fields. */
#include "cgroups/internal.h"

#include <string.h>

int cgroup_v1_set_net_cls(const char *dir, const struct spec_resources *r,
                          hull_error_t *err) {
  if (!r->network.class_id.set)
    return 0;
  return cgroup_fs_write_u64(dir, "net_cls.classid", r->network.class_id.v,
                             "network.classID", err);
}

int cgroup_v1_set_net_prio(const char *dir, const struct spec_resources *r,
                           hull_error_t *err) {
  for (size_t i = 0; i < r->network.n_priorities; i++) {
    const struct spec_net_priority *p = &r->network.priorities[i];
    cleanup_free char *field = xasprintf("network.priorities[%zu]", i);
    if (p->name == NULL || *p->name == '\0' ||
        p->name[strcspn(p->name, " \n")] != '\0')
      return hull_error(err, 0, "linux.resources.%s: bad interface name",
                        field);
    cleanup_free char *line = xasprintf("%s %u", p->name, p->priority);
    if (cgroup_fs_write(dir, "net_prio.ifpriomap", line, field, err) < 0)
      return -1;
  }
  return 0;
}
