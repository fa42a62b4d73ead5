/* start.c — `hull start ID`. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_start(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  const char *id;
  if (cli_parse_id("start", argc, argv, &id, err) < 0)
    return -1;
  interrupt_hold(); /* SIGTERM ends start's waits, not its bookkeeping */
  return container_start(g->root, id, err) < 0 ? -1 : 0;
}
