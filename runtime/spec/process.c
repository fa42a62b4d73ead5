/* process.c — the "process" section: what runs in the container and with
 * which identity, capabilities, limits and scheduling. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

static const char *const scheduler_policies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE", NULL};

static const char *const scheduler_flags[] = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
    "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
    "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX", NULL};

static const char *const io_priority_classes[] = {
    "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL};

/* The schema's pattern ^RLIMIT_[A-Z]+$. */
static bool is_rlimit_name(const char *s) {
  const char *prefix = "RLIMIT_";
  if (strncmp(s, prefix, strlen(prefix)) != 0)
    return false;
  const char *rest = s + strlen(prefix);
  return *rest != '\0' &&
         strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(rest);
}

static int parse_rlimit(yajl_val v, const struct jpath *at, void *item,
                        hull_error_t *err) {
  struct spec_rlimit *rl = item;
  if (jstring(v, at, "type", REQUIRED, &rl->type, err) < 0)
    return -1;
  if (!is_rlimit_name(rl->type))
    return jerr(JKEY(at, "type"), err, "invalid rlimit type \"%s\"",
                rl->type);
  if (juint(v, at, "soft", REQUIRED, UINT64_MAX, &rl->soft, err) < 0 ||
      juint(v, at, "hard", REQUIRED, UINT64_MAX, &rl->hard, err) < 0)
    return -1;
  return 0;
}

static int parse_user(yajl_val process, const struct jpath *up,
                      struct spec_process *p, hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "user", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "user");
  if (juint32(v, at, "uid", OPTIONAL, &p->user.uid, err) < 0 ||
      juint32(v, at, "gid", OPTIONAL, &p->user.gid, err) < 0 ||
      jspec_uint(v, at, "umask", UINT32_MAX, &p->user.umask, err) < 0 ||
      juint32_array(v, at, "additionalGids", &p->user.additional_gids,
                    &p->user.n_additional_gids, err) < 0 ||
      jstring(v, at, "username", OPTIONAL, &p->user.username, err) < 0)
    return -1;
  return 0;
}

static int parse_console_size(yajl_val process, const struct jpath *up,
                              struct spec_process *p, hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "consoleSize", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "consoleSize");
  if (juint32(v, at, "height", REQUIRED, &p->console_height, err) < 0 ||
      juint32(v, at, "width", REQUIRED, &p->console_width, err) < 0)
    return -1;
  p->has_console_size = true;
  return 0;
}

static int parse_capabilities(yajl_val process, const struct jpath *up,
                              struct spec_process *p, hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "capabilities", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "capabilities");
  struct spec_capabilities *c = p->capabilities = xzalloc(sizeof(*c));
  if (jstrv(v, at, "bounding", OPTIONAL, &c->bounding, err) < 0 ||
      jstrv(v, at, "effective", OPTIONAL, &c->effective, err) < 0 ||
      jstrv(v, at, "inheritable", OPTIONAL, &c->inheritable, err) < 0 ||
      jstrv(v, at, "permitted", OPTIONAL, &c->permitted, err) < 0 ||
      jstrv(v, at, "ambient", OPTIONAL, &c->ambient, err) < 0)
    return -1;
  return 0;
}

static int parse_scheduler(yajl_val process, const struct jpath *up,
                           struct spec_process *p, hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "scheduler", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "scheduler");
  struct spec_scheduler *s = p->scheduler = xzalloc(sizeof(*s));
  if (jstring_enum(v, at, "policy", REQUIRED, scheduler_policies,
                   "scheduler policy", &s->policy, err) < 0 ||
      jspec_int(v, at, "nice", INT32_MIN, INT32_MAX, &s->nice, err) < 0 ||
      jspec_int(v, at, "priority", INT32_MIN, INT32_MAX, &s->priority, err) <
          0 ||
      jstrv_enum(v, at, "flags", scheduler_flags, "scheduler flag",
                 &s->flags, err) < 0 ||
      jspec_uint(v, at, "runtime", UINT64_MAX, &s->runtime, err) < 0 ||
      jspec_uint(v, at, "deadline", UINT64_MAX, &s->deadline, err) < 0 ||
      jspec_uint(v, at, "period", UINT64_MAX, &s->period, err) < 0)
    return -1;
  return 0;
}

static int parse_io_priority(yajl_val process, const struct jpath *up,
                             struct spec_process *p, hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "ioPriority", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "ioPriority");
  struct spec_io_priority *io = p->io_priority = xzalloc(sizeof(*io));
  if (jstring_enum(v, at, "class", REQUIRED, io_priority_classes,
                   "I/O priority class", &io->class_, err) < 0 ||
      jspec_int(v, at, "priority", INT32_MIN, INT32_MAX, &io->priority,
                err) < 0)
    return -1;
  return 0;
}

/* The schema's pattern ^[0-9, -]*$: CPU lists like "0-3, 7". */
static int cpu_list(yajl_val v, const struct jpath *at, const char *key,
                    char **out, hull_error_t *err) {
  int r = jstring(v, at, key, OPTIONAL, out, err);
  if (r > 0 && strspn(*out, "0123456789, -") != strlen(*out))
    return jerr(JKEY(at, key), err, "invalid CPU list \"%s\"", *out);
  return r;
}

static int parse_exec_cpu_affinity(yajl_val process, const struct jpath *up,
                                   struct spec_process *p,
                                   hull_error_t *err) {
  yajl_val v;
  int r = jobject(process, up, "execCPUAffinity", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "execCPUAffinity");
  if (cpu_list(v, at, "initial", &p->exec_cpu_affinity.initial, err) < 0 ||
      cpu_list(v, at, "final", &p->exec_cpu_affinity.final, err) < 0)
    return -1;
  return 0;
}

int spec_parse_process(yajl_val parent, const struct jpath *up,
                       struct spec_process **out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(parent, up, "process", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  return spec_parse_process_object(v, JKEY(up, "process"), out, err);
}

int spec_parse_process_object(yajl_val v, const struct jpath *at,
                              struct spec_process **out, hull_error_t *err) {
  struct spec_process *p = *out = xzalloc(sizeof(*p));
  if (jbool(v, at, "terminal", OPTIONAL, &p->terminal, err) < 0 ||
      parse_console_size(v, at, p, err) < 0 ||
      parse_user(v, at, p, err) < 0 ||
      jstrv(v, at, "args", OPTIONAL, &p->args, err) < 0 ||
      jstring(v, at, "commandLine", OPTIONAL, &p->command_line, err) < 0 ||
      jstrv(v, at, "env", OPTIONAL, &p->env, err) < 0 ||
      jstring(v, at, "cwd", REQUIRED, &p->cwd, err) < 0 ||
      parse_capabilities(v, at, p, err) < 0 ||
      jarray(v, at, "rlimits", OPTIONAL, sizeof(struct spec_rlimit),
             parse_rlimit, &p->rlimits, &p->n_rlimits, err) < 0 ||
      jbool(v, at, "noNewPrivileges", OPTIONAL, &p->no_new_privileges, err) <
          0 ||
      jstring(v, at, "apparmorProfile", OPTIONAL, &p->apparmor_profile,
              err) < 0 ||
      jspec_int(v, at, "oomScoreAdj", INT64_MIN, INT64_MAX, &p->oom_score_adj,
                err) < 0 ||
      parse_scheduler(v, at, p, err) < 0 ||
      jstring(v, at, "selinuxLabel", OPTIONAL, &p->selinux_label, err) < 0 ||
      parse_io_priority(v, at, p, err) < 0 ||
      parse_exec_cpu_affinity(v, at, p, err) < 0)
    return -1;
  return 0;
}

static void capabilities_free(struct spec_capabilities *c) {
  if (c == NULL)
    return;
  strv_free(c->bounding);
  strv_free(c->effective);
  strv_free(c->inheritable);
  strv_free(c->permitted);
  strv_free(c->ambient);
  free(c);
}

static void scheduler_free(struct spec_scheduler *s) {
  if (s == NULL)
    return;
  free(s->policy);
  strv_free(s->flags);
  free(s);
}

void spec_process_free(struct spec_process *p) {
  if (p == NULL)
    return;
  free(p->user.additional_gids);
  free(p->user.username);
  strv_free(p->args);
  free(p->command_line);
  strv_free(p->env);
  free(p->cwd);
  capabilities_free(p->capabilities);
  for (size_t i = 0; i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  free(p->apparmor_profile);
  scheduler_free(p->scheduler);
  free(p->selinux_label);
  if (p->io_priority != NULL)
    free(p->io_priority->class_);
  free(p->io_priority);
  free(p->exec_cpu_affinity.initial);
  free(p->exec_cpu_affinity.final);
  free(p);
}
