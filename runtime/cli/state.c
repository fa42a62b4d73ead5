/* state.c — `hull state ID`: the OCI state document. */
#include "cli.h"
#include "runtime/container/container.h"

#include <stdlib.h>

int cmd_state(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  const char *id;
  if (cli_parse_id("state", argc, argv, &id, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (container_state(g->root, id, &json, err) < 0)
    return -1;
  printf("%s\n", json);
  return 0;
}
