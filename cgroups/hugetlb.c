/* hugetlb.c — linux.resources.hugepageLimits: hugetlb.<size>.limit_in_bytes
 * on v1, hugetlb.<size>.max on v2, and the matching .rsvd. file (reserved
 * pages, kernel 5.7+) where it exists, as runc. */
#include "cgroups/internal.h"

#include <string.h>

/* The kernel's names: digits and KB, MB or GB ("2MB", "1GB", "64KB"). A
 * check, because the size becomes part of a file name. */
static bool page_size_valid(const char *s) {
  size_t digits = strspn(s, "0123456789");
  return digits > 0 &&
         (strcmp(s + digits, "KB") == 0 || strcmp(s + digits, "MB") == 0 ||
          strcmp(s + digits, "GB") == 0);
}

int cgroup_set_hugetlb(const char *dir, const struct spec_resources *r,
                       bool v2, hull_error_t *err) {
  const char *suffix = v2 ? "max" : "limit_in_bytes";
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct spec_hugepage_limit *h = &r->hugepage_limits[i];
    cleanup_free char *field = xasprintf("hugepageLimits[%zu]", i);
    if (h->page_size == NULL || !page_size_valid(h->page_size))
      return hull_error(err, 0, "linux.resources.%s: bad pageSize `%s` (want "
                        "e.g. 2MB)", field, h->page_size ? h->page_size : "");
    cleanup_free char *file = xasprintf("hugetlb.%s.%s", h->page_size, suffix);
    if (cgroup_fs_write_u64(dir, file, h->limit, field, err) < 0)
      return -1;
    cleanup_free char *rsvd =
        xasprintf("hugetlb.%s.rsvd.%s", h->page_size, suffix);
    if (cgroup_fs_has(dir, rsvd) &&
        cgroup_fs_write_u64(dir, rsvd, h->limit, field, err) < 0)
      return -1;
  }
  return 0;
}
