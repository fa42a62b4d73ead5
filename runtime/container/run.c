/* run.c — `run`: create, start, and (in the foreground) wait and delete.
 * A foreground terminal without --console-socket is proxied by hull
 * (tty-proxy.c). */
#include "lifecycle.h"

#include <sys/prctl.h>
#include <unistd.h>

int container_run(const struct create_options *o, int *exit_code,
                  hull_error_t *err) {
  bool detach = o->detach;
  /* Processes the init leaves behind are reparented to us, not to init(1),
   * so nothing escapes `run`'s wait (as runc, unless --no-subreaper). */
  if (!detach && !o->no_subreaper)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t pid;
  cleanup_close int master = -1;
  if (lifecycle_create(o, &master, &pid, err) < 0)
    return -1;
  /* As runc: --keep leaves the container, stopped, also when it failed
   * to start, for `state` and a later `delete`. */
  if (container_start(o->root, o->id, err) < 0) {
    cleanup_error hull_error_t ignored = NULL;
    if (!o->keep)
      container_delete(o->root, o->id, true, &ignored);
    return -1;
  }
  *exit_code = 0;
  if (detach)
    return 0;
  *exit_code = master >= 0 ? tty_proxy_run(master, pid)
                           : lifecycle_wait_forwarding(pid);
  return o->keep ? 0 : container_delete(o->root, o->id, true, err);
}
