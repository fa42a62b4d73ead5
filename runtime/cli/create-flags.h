/* create-flags.h — the flags `create` and `run` share (private to cli/). */
#ifndef HULL_CLI_CREATE_FLAGS_H
#define HULL_CLI_CREATE_FLAGS_H

#include "runtime/container/container.h"

/* detach NULL: -d/--detach is not a flag of this verb. */
int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool *detach,
                       hull_error_t *err);

#endif
