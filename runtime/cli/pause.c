/* pause.c — `hull pause ID`: freeze a container's processes. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_pause(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  const char *id;
  if (cli_parse_id("pause", argc, argv, &id, err) < 0)
    return -1;
  return container_pause(g->root, id, err) < 0 ? -1 : 0;
}
