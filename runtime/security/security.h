/* security.h — the process-security step: what a container's process may do.
 *
 * Called by the container's init right before exec, in this order:
 *   security_before_user()  still root in the container: rlimits,
 *                           oom_score_adj, personality, the capability
 *                           bounding set, keep-caps across the uid change
 *   (the init switches to process.user)
 *   security_after_user()   effective/permitted/inheritable/ambient
 *                           capabilities, no_new_privs, and the seccomp
 *                           filter last, so hull's own setup is unfiltered. */
#ifndef HULL_SECURITY_H
#define HULL_SECURITY_H

#include "runtime/spec/spec.h"

int security_before_user(const struct spec *spec, hull_error_t *err);
int security_after_user(const struct spec *spec, hull_error_t *err);

#endif
