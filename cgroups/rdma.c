/* rdma.c — linux.resources.rdma: one rdma.max line per device, the same
 * on v1 and v2: "mlx5_1 hca_handle=3 hca_object=10000". */
#include "cgroups/internal.h"

#include <string.h>

int cgroup_set_rdma(const char *dir, const struct spec_resources *r,
                    hull_error_t *err) {
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct spec_rdma *d = &r->rdma[i];
    cleanup_free char *field = xasprintf("rdma.%s", d->device ? d->device : "");
    if (d->device == NULL || *d->device == '\0' ||
        d->device[strcspn(d->device, " \n")] != '\0')
      return hull_error(err, 0, "linux.resources.%s: bad device name", field);
    if (!d->hca_handles.set && !d->hca_objects.set)
      continue;
    cleanup_free char *handles =
        d->hca_handles.set ? xasprintf(" hca_handle=%llu",
                                       (unsigned long long)d->hca_handles.v)
                           : xstrdup("");
    cleanup_free char *objects =
        d->hca_objects.set ? xasprintf(" hca_object=%llu",
                                       (unsigned long long)d->hca_objects.v)
                           : xstrdup("");
    cleanup_free char *line = xasprintf("%s%s%s", d->device, handles, objects);
    if (cgroup_fs_write(dir, "rdma.max", line, field, err) < 0)
      return -1;
  }
  return 0;
}
