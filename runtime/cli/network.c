/* network.c — `hull network ls|check|rm`: hull's own networks under
 * --root (hull-network(8)). */
#include "cli.h"
#include "runtime/container/container.h"

#include <stdio.h>
#include <string.h>

static int print_lines(char **lines) {
  for (char **l = lines; l && *l; l++)
    printf("%s\n", *l);
  return 0;
}

int cmd_network(const struct global_options *g, int argc, char **argv,
                hull_error_t *err) {
  if (cli_wants_help(argc, argv, true)) {
    print_command_help(command_find("network"));
    return 0;
  }
  const char *sub = argc > 1 ? argv[1] : NULL;
  if (sub && strcmp(sub, "rm") == 0) {
    if (argc != 3)
      return hull_error(err, 0, "network rm: expects one network name");
    return container_network_remove(g->root, argv[2], err) < 0 ? -1 : 0;
  }
  if (sub == NULL || argc > 2)
    return hull_error(err, 0, "network: expects one of ls, check, rm NAME");
  cleanup_strv char **lines = NULL;
  if (strcmp(sub, "ls") == 0) {
    if (container_network_list(g->root, &lines, err) < 0)
      return -1;
    return print_lines(lines);
  }
  if (strcmp(sub, "check") == 0) {
    if (container_network_leftovers(g->root, &lines, err) < 0)
      return -1;
    print_lines(lines);
    return lines && *lines ? 1 : 0;
  }
  return hull_error(err, 0, "network: unknown command \"%s\" (ls, check, "
                            "rm NAME)", sub);
}
