/* pause.c — `hull pause ID`: freeze a container's processes. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_pause(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  if (cli_expect_args("pause", argc, argv, 1, 1, err) < 0)
    return -1;
  return container_pause(g->root, argv[1], err) < 0 ? -1 : 0;
}
