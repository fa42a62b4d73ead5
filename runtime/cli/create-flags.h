/* create-flags.h — the flags `create` and `run` share (private to cli/). */
#ifndef HULL_CLI_CREATE_FLAGS_H
#define HULL_CLI_CREATE_FLAGS_H

#include "runtime/container/container.h"

/* run_flags: also run's own flags (-d/--detach, --keep, --no-subreaper);
 * create does not know them. */
int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool run_flags,
                       hull_error_t *err);

#endif
