/* resume.c — `hull resume ID`: thaw a paused container. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_resume(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  if (cli_expect_args("resume", argc, argv, 1, 1, err) < 0)
    return -1;
  return container_resume(g->root, argv[1], err) < 0 ? -1 : 0;
}
