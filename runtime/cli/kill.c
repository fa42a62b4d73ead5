/* kill.c — `hull kill [--all] ID [SIGNAL]`. */
#include "cli.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <signal.h>

int cmd_kill(const struct global_options *g, int argc, char **argv,
             hull_error_t *err) {
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                       {NULL, 0, NULL, 0}};
  bool all = false;
  cli_flags_first(argc, argv, "a", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
    if (c != 'a')
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    all = true;
  }
  int left = argc - optind;
  if (left < 1 || left > 2)
    return hull_error(err, 0,
                      "\"kill\" requires a minimum of 1 and a maximum of 2 "
                      "arguments");
  int sig = SIGTERM;
  if (left == 2 && parse_signal(argv[optind + 1], &sig, err) < 0)
    return -1;
  return container_kill(g->root, argv[optind], sig, all, err) < 0 ? -1 : 0;
}
