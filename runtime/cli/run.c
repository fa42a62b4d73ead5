/* run.c — `hull run`: create + start, and wait unless --detach. */
#include "cli.h"
#include "create-flags.h"

int cmd_run(const struct global_options *g, int argc, char **argv,
            hull_error_t *err) {
  struct create_options o = {.root = g->root,
                            .systemd_cgroup = g->systemd_cgroup};
  if (parse_create_flags("run", argc, argv, &o, true, err) < 0)
    return -1;
  int code = 0;
  interrupt_hold(); /* SIGTERM ends run's waits; it cleans up first */
  if (container_run(&o, &code, err) < 0)
    return -1;
  return code;
}
