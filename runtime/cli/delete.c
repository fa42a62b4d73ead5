/* delete.c — `hull delete [--force] ID`. */
#include "cli.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <errno.h>

int cmd_delete(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                       {NULL, 0, NULL, 0}};
  bool force = false;
  cli_flags_first(argc, argv, "f", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
    if (c != 'f')
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    force = true;
  }
  if (cli_expect_args("delete", argc, argv, optind, 1, err) < 0)
    return -1;
  interrupt_hold(); /* SIGTERM ends delete's waits, not its removals */
  if (container_delete(g->root, argv[optind], force, err) == 0)
    return 0;
  /* As runc: --force on a container that is already gone succeeds. */
  if (force && (*err)->errno_value == ENOENT) {
    hull_error_release(err);
    return 0;
  }
  return -1;
}
