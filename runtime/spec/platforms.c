/* platforms.c — sections for platforms hull does not run on (freebsd,
 * solaris, windows, zos). A config may carry them; we check their shape as
 * far as the schema's own test files need and keep nothing. */
#include "parse.h"

#include <stdlib.h>

static const char *const sharing_modes[] = {"disable", "new", "inherit",
                                            NULL};
static const char *const sharing_modes_no_disable[] = {"new", "inherit",
                                                       NULL};

static int check_enum(yajl_val obj, const struct jpath *at, const char *key,
                      const char *const *allowed, hull_error_t *err) {
  cleanup_free char *value = NULL;
  return jstring_enum(obj, at, key, OPTIONAL, allowed, "sharing mode", &value,
                      err);
}

static int check_freebsd_jail(yajl_val freebsd, const struct jpath *up,
                              hull_error_t *err) {
  yajl_val jail;
  int r = jobject(freebsd, up, "jail", OPTIONAL, &jail, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "jail");
  static const char *const modes[] = {"ip4", "ip6", "sysvmsg", "sysvsem",
                                      "sysvshm", NULL};
  for (const char *const *m = modes; *m; m++)
    if (check_enum(jail, at, *m, sharing_modes, err) < 0)
      return -1;
  if (check_enum(jail, at, "host", sharing_modes_no_disable, err) < 0 ||
      check_enum(jail, at, "vnet", sharing_modes_no_disable, err) < 0)
    return -1;
  return 0;
}

static int check_freebsd(yajl_val doc, hull_error_t *err) {
  yajl_val freebsd;
  int r = jobject(doc, NULL, "freebsd", OPTIONAL, &freebsd, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(NULL, "freebsd");
  yajl_val devices = jfield(freebsd, "devices");
  if (devices != NULL && !YAJL_IS_ARRAY(devices))
    return jerr(JKEY(at, "devices"), err, "expected array");
  return check_freebsd_jail(freebsd, at, err);
}

int spec_check_other_platforms(yajl_val doc, hull_error_t *err) {
  static const char *const sections[] = {"solaris", "windows", "zos", NULL};
  yajl_val v;
  for (const char *const *s = sections; *s; s++)
    if (jobject(doc, NULL, *s, OPTIONAL, &v, err) < 0)
      return -1;
  return check_freebsd(doc, err);
}
