/* resume.c — `hull resume ID`: thaw a paused container. */
#include "cli.h"
#include "runtime/container/container.h"

int cmd_resume(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  const char *id;
  if (cli_parse_id("resume", argc, argv, &id, err) < 0)
    return -1;
  return container_resume(g->root, id, err) < 0 ? -1 : 0;
}
