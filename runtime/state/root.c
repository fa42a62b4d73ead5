/* root.c — where the state root is when --root is not given: runc's rule,
 * so that a rootless engine finds hull's containers where it would look for
 * runc's. */
#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* runc's shouldHonorXDGRuntimeDir: a user other than root keeps its state
 * in its own runtime directory; so does root in a user namespace it did
 * not make (podman's rootless mode runs runtimes there), unless $USER says
 * it is the real root. The real root keeps /run/hull even when
 * $XDG_RUNTIME_DIR names /run/user/0. */
static bool honors_xdg_runtime_dir(bool in_user_ns) {
  if (geteuid() != 0)
    return true;
  if (!in_user_ns)
    return false;
  const char *user = getenv("USER");
  return user == NULL || strcmp(user, "root") != 0;
}

/* The XDG base directory spec asks that files which must outlive the
 * runtime directory's periodic clean-up be sticky: runc makes its directory
 * 0700 with the sticky bit, every time. */
static int make_xdg_root(const char *root, hull_error_t *err) {
  if (mkdir(root, 0700) < 0 && errno != EEXIST)
    return hull_error(err, errno, "the path in $XDG_RUNTIME_DIR must be "
                      "writable by the user: mkdir `%s`", root);
  if (chmod(root, 0700 | S_ISVTX) < 0)
    return hull_error(err, errno, "the path in $XDG_RUNTIME_DIR must be "
                      "writable by the user: chmod `%s`", root);
  return 0;
}

/* $XDG_RUNTIME_DIR/hull when runc's rule picks it, else NULL. */
static char *xdg_root(bool in_user_ns) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg == NULL || *xdg == '\0' || !honors_xdg_runtime_dir(in_user_ns))
    return NULL;
  return xasprintf("%s/hull", xdg);
}

int state_root_default(bool in_user_ns, char **root, hull_error_t *err) {
  *root = xdg_root(in_user_ns);
  if (*root) {
    if (make_xdg_root(*root, err) == 0)
      return 0;
    free(take_ptr(*root));
    return -1;
  }
  /* runc falls back to /run/runc here and fails later on its permissions;
   * say what is missing instead. */
  if (geteuid() != 0)
    return hull_error(err, 0, "XDG_RUNTIME_DIR is not set: hull run by a "
                      "user other than root keeps its state in "
                      "$XDG_RUNTIME_DIR/hull (or give --root)");
  *root = xstrdup(STATE_DEFAULT_ROOT);
  return 0;
}

char *state_root_default_name(bool in_user_ns) {
  char *root = xdg_root(in_user_ns);
  return root ? root : xstrdup(STATE_DEFAULT_ROOT);
}
