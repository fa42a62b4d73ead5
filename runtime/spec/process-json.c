/* process-json.c — a process object back to config.md JSON, the inverse of
 * spec_parse_process_json: VM mode sends an `exec`'s process to the guest
 * agent this way. Every member the parser reads is written when set, so
 * parsing the output gives the same struct back. */
#include "spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void gen_key(yajl_gen g, const char *key) { json_gen_string(g, key); }

/* Numbers go out as text: uint64 values above INT64_MAX (RLIM_INFINITY)
 * do not fit yajl_gen_integer. */
static void gen_uint(yajl_gen g, uint64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

static void gen_int(yajl_gen g, int64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

static void gen_string_member(yajl_gen g, const char *key, const char *s) {
  if (s == NULL)
    return;
  gen_key(g, key);
  json_gen_string(g, s);
}

static void gen_strv_member(yajl_gen g, const char *key, char *const *v) {
  if (v == NULL)
    return;
  gen_key(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; v[i]; i++)
    json_gen_string(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_spec_int_member(yajl_gen g, const char *key,
                                struct spec_int v) {
  if (!v.set)
    return;
  gen_key(g, key);
  gen_int(g, v.v);
}

static void gen_spec_uint_member(yajl_gen g, const char *key,
                                 struct spec_uint v) {
  if (!v.set)
    return;
  gen_key(g, key);
  gen_uint(g, v.v);
}

static void gen_user(yajl_gen g, const struct spec_process *p) {
  gen_key(g, "user");
  yajl_gen_map_open(g);
  gen_key(g, "uid");
  gen_uint(g, p->user.uid);
  gen_key(g, "gid");
  gen_uint(g, p->user.gid);
  gen_spec_uint_member(g, "umask", p->user.umask);
  if (p->user.n_additional_gids) {
    gen_key(g, "additionalGids");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < p->user.n_additional_gids; i++)
      gen_uint(g, p->user.additional_gids[i]);
    yajl_gen_array_close(g);
  }
  gen_string_member(g, "username", p->user.username);
  yajl_gen_map_close(g);
}

static void gen_capabilities(yajl_gen g, const struct spec_capabilities *c) {
  if (c == NULL)
    return;
  gen_key(g, "capabilities");
  yajl_gen_map_open(g);
  gen_strv_member(g, "bounding", c->bounding);
  gen_strv_member(g, "effective", c->effective);
  gen_strv_member(g, "inheritable", c->inheritable);
  gen_strv_member(g, "permitted", c->permitted);
  gen_strv_member(g, "ambient", c->ambient);
  yajl_gen_map_close(g);
}

static void gen_rlimits(yajl_gen g, const struct spec_process *p) {
  if (p->n_rlimits == 0)
    return;
  gen_key(g, "rlimits");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < p->n_rlimits; i++) {
    yajl_gen_map_open(g);
    gen_string_member(g, "type", p->rlimits[i].type);
    gen_key(g, "soft");
    gen_uint(g, p->rlimits[i].soft);
    gen_key(g, "hard");
    gen_uint(g, p->rlimits[i].hard);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_scheduler(yajl_gen g, const struct spec_scheduler *s) {
  if (s == NULL)
    return;
  gen_key(g, "scheduler");
  yajl_gen_map_open(g);
  gen_string_member(g, "policy", s->policy);
  gen_spec_int_member(g, "nice", s->nice);
  gen_spec_int_member(g, "priority", s->priority);
  gen_strv_member(g, "flags", s->flags);
  gen_spec_uint_member(g, "runtime", s->runtime);
  gen_spec_uint_member(g, "deadline", s->deadline);
  gen_spec_uint_member(g, "period", s->period);
  yajl_gen_map_close(g);
}

static void gen_io_priority(yajl_gen g, const struct spec_io_priority *io) {
  if (io == NULL)
    return;
  gen_key(g, "ioPriority");
  yajl_gen_map_open(g);
  gen_string_member(g, "class", io->class_);
  gen_spec_int_member(g, "priority", io->priority);
  yajl_gen_map_close(g);
}

static void gen_exec_cpu_affinity(yajl_gen g, const struct spec_process *p) {
  if (p->exec_cpu_affinity.initial == NULL &&
      p->exec_cpu_affinity.final == NULL)
    return;
  gen_key(g, "execCPUAffinity");
  yajl_gen_map_open(g);
  gen_string_member(g, "initial", p->exec_cpu_affinity.initial);
  gen_string_member(g, "final", p->exec_cpu_affinity.final);
  yajl_gen_map_close(g);
}

char *spec_process_to_json(const struct spec_process *p) {
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  gen_key(g, "terminal");
  yajl_gen_bool(g, p->terminal);
  if (p->has_console_size) {
    gen_key(g, "consoleSize");
    yajl_gen_map_open(g);
    gen_key(g, "height");
    gen_uint(g, p->console_height);
    gen_key(g, "width");
    gen_uint(g, p->console_width);
    yajl_gen_map_close(g);
  }
  gen_user(g, p);
  gen_strv_member(g, "args", p->args);
  gen_string_member(g, "commandLine", p->command_line);
  gen_strv_member(g, "env", p->env);
  gen_string_member(g, "cwd", p->cwd);
  gen_capabilities(g, p->capabilities);
  gen_rlimits(g, p);
  gen_key(g, "noNewPrivileges");
  yajl_gen_bool(g, p->no_new_privileges);
  gen_string_member(g, "apparmorProfile", p->apparmor_profile);
  gen_spec_int_member(g, "oomScoreAdj", p->oom_score_adj);
  gen_scheduler(g, p->scheduler);
  gen_string_member(g, "selinuxLabel", p->selinux_label);
  gen_io_priority(g, p->io_priority);
  gen_exec_cpu_affinity(g, p);
  yajl_gen_map_close(g);
  return json_gen_finish(g);
}
