/* state.c — `hull state ID`: the OCI state document. */
#include "cli.h"
#include "runtime/container/container.h"

#include <stdlib.h>

int cmd_state(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  if (cli_expect_args("state", argc, argv, 1, 1, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (container_state(g->root, argv[1], &json, err) < 0)
    return -1;
  printf("%s\n", json);
  return 0;
}
