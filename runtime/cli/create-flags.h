/* create-flags.h — the flags `create` and `run` share (private to cli/). */
#ifndef HULL_CLI_CREATE_FLAGS_H
#define HULL_CLI_CREATE_FLAGS_H

#include "images/images.h"
#include "runtime/container/container.h"

/* run --image: a container made from an image of the store. */
struct run_image_flags {
  const char *ref;         /* --image REF */
  const char *name;        /* --name ID (default: 12 random hex digits) */
  const char *image_root;  /* --image-root */
  bool rm;                 /* --rm: the container and its bundle go at exit */
  struct image_id_maps maps; /* --uidmap/--gidmap: a user namespace */
  char **args;             /* the words after the flags: the command */
};

/* run_flags: also run's own flags (-d/--detach, --keep, --no-subreaper, and
 * into img the --image ones); create does not know them. With --image the
 * positional words are the command, else the one container id. */
int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool run_flags,
                       struct run_image_flags *img, hull_error_t *err);

#endif
