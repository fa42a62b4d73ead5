/* rlimits.c — process.rlimits, set while the init is still root. */
#include "security.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_from_name(const char *name) {
  for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
    if (strcmp(rlimit_names[i].name, name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

/* Names are all checked before any limit changes, so a typo in the last
 * entry does not leave the first ones applied. */
static int check_names(const struct spec_process *p, hull_error_t *err) {
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const char *type = p->rlimits[i].type;
    if (type == NULL)
      return hull_error(err, 0, "process.rlimits[%zu].type: missing", i);
    if (rlimit_from_name(type) < 0)
      return hull_error(err, 0, "process.rlimits[%zu].type: unknown rlimit "
                        "\"%s\"", i, type);
  }
  return 0;
}

static int set_one(const struct spec_rlimit *r, hull_error_t *err) {
  int resource = rlimit_from_name(r->type);
  struct rlimit old = {0};
  getrlimit(resource, &old);
  struct rlimit want = {.rlim_cur = r->soft, .rlim_max = r->hard};
  if (setrlimit(resource, &want) == 0)
    return 0;
  int e = errno;
  const char *why = "";
  if (e == EPERM && want.rlim_max > old.rlim_max)
    why = " (raising a hard limit needs CAP_SYS_RESOURCE)";
  else if (e == EINVAL && want.rlim_cur > want.rlim_max)
    why = " (soft limit above hard limit)";
  hull_error(err, 0,
             "process.rlimits: setrlimit %s soft=%llu hard=%llu: %s%s",
             r->type, (unsigned long long)r->soft,
             (unsigned long long)r->hard, strerror(e), why);
  (*err)->errno_value = e;
  return -1;
}

int rlimits_apply(const struct spec_process *p, hull_error_t *err) {
  if (check_names(p, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_rlimits; i++)
    if (set_one(&p->rlimits[i], err) < 0)
      return -1;
  return 0;
}
