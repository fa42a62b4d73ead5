/* rootless.c — the global --rootless and what hull decides without it, as
 * runc does: whether cgroups hull may not write are a reason to fail. */
#include "cli.h"
#include "runtime/linux/linux.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

int cli_parse_rootless(const char *value, enum rootless_mode *out,
                       hull_error_t *err) {
  /* Go's strconv.ParseBool spellings, "auto" in any case, and "" (auto),
   * as runc's parseBoolOrAuto. */
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  if (*value == '\0' || strcasecmp(value, "auto") == 0) {
    *out = ROOTLESS_AUTO;
    return 0;
  }
  for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
    if (strcmp(value, yes[i]) == 0) {
      *out = ROOTLESS_TRUE;
      return 0;
    }
    if (strcmp(value, no[i]) == 0) {
      *out = ROOTLESS_FALSE;
      return 0;
    }
  }
  return hull_error(err, 0, "invalid value \"%s\" for flag --rootless: "
                    "want true, false or auto", value);
}

/* runc's shouldUseRootlessCgroupManager: auto is rootless for a user other
 * than root and for root in a user namespace it did not make (podman's
 * rootless mode: the host's cgroups are not its to write). runc asks the
 * systemd user bus whose it is for --systemd-cgroup there; hull takes it
 * as rootless too, since a rootful systemd inside a user namespace is
 * rare and a rootless one is podman's case. */
bool cli_rootless_cgroups(const struct global_options *g) {
  switch (g->rootless) {
  case ROOTLESS_TRUE:
    return true;
  case ROOTLESS_FALSE:
    return false;
  case ROOTLESS_AUTO:
    break;
  }
  return geteuid() != 0 || g->in_user_ns;
}
