/* init.h — the container's side of setup (private to runtime/linux). */
#ifndef HULL_LINUX_INIT_H
#define HULL_LINUX_INIT_H

#include "linux.h"
#include "process-setup.h"

/* Runs in the freshly cloned child: enters the namespaces (when staged),
 * sets up the container, waits on exec.fifo and execs the user program.
 * Never returns; errors go to the parent over sync_fd. */
/* bind_fds: rootfs_open_bind_sources's, or NULL; the init adds the
 * sources the runtime opens in its mount namespace. rootless_runtime: the
 * runtime is not root (geteuid() before the clone; a new user namespace
 * hides it from the child until its maps are written). */
__attribute__((noreturn)) void init_main(const struct process_config *cfg,
                                         int ns_fds[SPEC_NS_COUNT],
                                         int *bind_fds, bool staged,
                                         bool rootless_runtime, int sync_fd);

#endif
