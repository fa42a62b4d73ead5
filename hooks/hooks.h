/* hooks.h — running OCI hooks (config.md "POSIX-platform Hooks").
 *
 * A hook is executed with its path, args and env, the container's state JSON
 * on stdin, and killed when its timeout (seconds) passes. The caller decides
 * where it runs (runtime or container namespace) by calling from the right
 * process; this module only runs the programs.
 *
 * The hook gets args (args[0] is its argv[0]; {path} when args is absent),
 * exactly env (nothing when absent), fds 0-2 only: stdin a pipe carrying the
 * state, stdout hull's stderr (never hull's stdout, which callers parse),
 * stderr a pipe hull reads for error messages. */
#ifndef HULL_HOOKS_H
#define HULL_HOOKS_H

#include "runtime/spec/spec.h"

/* Runs one hook to completion. Fails when the hook cannot be started, exits
 * non-zero, is killed by a signal or exceeds its timeout; the error names the
 * hook (`<kind> hook `/path``) and why in runc's words (`exit status 3`,
 * `signal: bad system call`, `hook ran past specified timeout of 5.0s`),
 * with the first line of what it wrote to stderr when it failed. */
int hook_run(const char *kind, const struct spec_hook *hook,
             const char *state_json, hull_error_t *err);

/* Runs every hook of a list in order; stops at the first failure, whose
 * error starts as runc's: `error running hook #<index>: `. */
int hooks_run(const char *kind, const struct spec_hook_list *hooks,
              const char *state_json, hull_error_t *err);

/* Runs every hook, logging failures as warnings (poststart, poststop). */
void hooks_run_warn(const char *kind, const struct spec_hook_list *hooks,
                    const char *state_json);

#endif
