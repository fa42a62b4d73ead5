/* gc.c — `hull gc`: empties the runtime's caches under <root>/.cache (the
 * compiled seccomp filters, the VM base initramfs and unpacked kernels) of
 * every entry no running command holds. `hull image gc` is the image
 * store's. Each cache also bounds itself as it grows (cache.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const caches[] = {"seccomp", "vm"};

int cmd_gc(const struct global_options *g, int argc, char **argv,
           hull_error_t *err) {
  int first = cli_no_flags(argc, argv, err);
  if (first < 0)
    return -1;
  if (first < argc)
    return hull_error(err, 0, "gc: takes no arguments");
  uint64_t freed = 0;
  for (size_t i = 0; i < sizeof(caches) / sizeof(*caches); i++) {
    cleanup_free char *dir = xasprintf("%s/.cache/%s", g->root, caches[i]);
    struct cache_trim_result r;
    if (cache_trim(dir, 0, true, &r, err) < 0)
      return -1;
    for (char **p = r.removed_paths; p && *p; p++)
      printf("deleted: %s\n", *p);
    strv_free(r.removed_paths);
    freed += r.freed;
  }
  char size[32];
  cli_human_size((int64_t)freed, size, sizeof(size));
  printf("Total reclaimed space: %s\n", size);
  return 0;
}
