/* delete.c — `hull delete [--force] ID`. */
#include "cli.h"
#include "images/images.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The bundle of the container when `run --image` made it (its record says
 * "owner run"): it goes with the container. NULL otherwise. */
static char *image_bundle_of(const char *root, const char *id) {
  char *bundle = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (container_bundle(root, id, &bundle, &ignored) < 0)
    return NULL;
  if (bundle && image_bundle_owned_by(bundle, "run"))
    return bundle;
  free(bundle);
  return NULL;
}

static int remove_bundle(const char *bundle, hull_error_t *err) {
  if (image_bundle_remove(bundle, err) < 0)
    return hull_error_wrap(err, "delete: the container's image bundle");
  if (rmdir(bundle) < 0)
    return hull_error(err, errno, "delete: remove `%s`", bundle);
  return 0;
}

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
  cleanup_free char *bundle = image_bundle_of(g->root, argv[optind]);
  if (container_delete(g->root, argv[optind], force, err) == 0)
    return bundle ? remove_bundle(bundle, err) : 0;
  /* As runc: --force on a container that is already gone succeeds. */
  if (force && (*err)->errno_value == ENOENT) {
    hull_error_release(err);
    return 0;
  }
  return -1;
}
