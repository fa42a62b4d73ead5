/* start.c — `hull start ID`. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_start(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  if (cli_expect_args("start", argc, argv, 1, 1, err) < 0)
    return -1;
  interrupt_hold(); /* SIGTERM ends start's waits, not its bookkeeping */
  return container_start(g->root, argv[1], err) < 0 ? -1 : 0;
}
