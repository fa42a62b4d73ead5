/* test_spec_process_json.c — spec_process_to_json is the inverse of
 * spec_parse_process_json: parse(to_json(p)) == p for every member the
 * parser reads (VM mode sends an exec's process to the guest this way). */
#include "../suite.h"
#include "runtime/spec/spec.h"

#include <stdlib.h>
#include <string.h>

static struct spec_process *parse_ok(const char *json) {
  cleanup_error hull_error_t err = NULL;
  struct spec_process *p = NULL;
  int r = spec_parse_process_json(json, strlen(json), "p.json", &p, &err);
  ck_assert_msg(r == 0, "parse failed: %s\n%s", err ? err->msg : "?", json);
  return p;
}

static void assert_str_same(const char *what, const char *a, const char *b) {
  ck_assert_msg((a == NULL) == (b == NULL), "%s: one is absent", what);
  if (a)
    ck_assert_msg(strcmp(a, b) == 0, "%s: `%s` != `%s`", what, a, b);
}

static void assert_strv_same(const char *what, char *const *a,
                             char *const *b) {
  ck_assert_msg((a == NULL) == (b == NULL), "%s: one is absent", what);
  if (a == NULL)
    return;
  ck_assert_msg(strv_len(a) == strv_len(b), "%s: lengths differ", what);
  for (size_t i = 0; a[i]; i++)
    assert_str_same(what, a[i], b[i]);
}

#define ASSERT_SPEC_NUM_SAME(what, a, b)                                      \
  do {                                                                        \
    ck_assert_msg((a).set == (b).set, "%s: set differs", what);               \
    ck_assert_msg(!(a).set || (a).v == (b).v, "%s: value differs", what);     \
  } while (0)

static void assert_caps_same(const struct spec_capabilities *a,
                             const struct spec_capabilities *b) {
  ck_assert((a == NULL) == (b == NULL));
  if (a == NULL)
    return;
  assert_strv_same("bounding", a->bounding, b->bounding);
  assert_strv_same("effective", a->effective, b->effective);
  assert_strv_same("inheritable", a->inheritable, b->inheritable);
  assert_strv_same("permitted", a->permitted, b->permitted);
  assert_strv_same("ambient", a->ambient, b->ambient);
}

static void assert_scheduler_same(const struct spec_scheduler *a,
                                  const struct spec_scheduler *b) {
  ck_assert((a == NULL) == (b == NULL));
  if (a == NULL)
    return;
  assert_str_same("scheduler.policy", a->policy, b->policy);
  ASSERT_SPEC_NUM_SAME("scheduler.nice", a->nice, b->nice);
  ASSERT_SPEC_NUM_SAME("scheduler.priority", a->priority, b->priority);
  assert_strv_same("scheduler.flags", a->flags, b->flags);
  ASSERT_SPEC_NUM_SAME("scheduler.runtime", a->runtime, b->runtime);
  ASSERT_SPEC_NUM_SAME("scheduler.deadline", a->deadline, b->deadline);
  ASSERT_SPEC_NUM_SAME("scheduler.period", a->period, b->period);
}

static void assert_process_same(const struct spec_process *a,
                                const struct spec_process *b) {
  ck_assert_int_eq(a->terminal, b->terminal);
  ck_assert_int_eq(a->has_console_size, b->has_console_size);
  ck_assert_uint_eq(a->console_height, b->console_height);
  ck_assert_uint_eq(a->console_width, b->console_width);
  ck_assert_uint_eq(a->user.uid, b->user.uid);
  ck_assert_uint_eq(a->user.gid, b->user.gid);
  ASSERT_SPEC_NUM_SAME("user.umask", a->user.umask, b->user.umask);
  ck_assert_uint_eq(a->user.n_additional_gids, b->user.n_additional_gids);
  for (size_t i = 0; i < a->user.n_additional_gids; i++)
    ck_assert_uint_eq(a->user.additional_gids[i], b->user.additional_gids[i]);
  assert_str_same("user.username", a->user.username, b->user.username);
  assert_strv_same("args", a->args, b->args);
  assert_str_same("commandLine", a->command_line, b->command_line);
  assert_strv_same("env", a->env, b->env);
  assert_str_same("cwd", a->cwd, b->cwd);
  assert_caps_same(a->capabilities, b->capabilities);
  ck_assert_uint_eq(a->n_rlimits, b->n_rlimits);
  for (size_t i = 0; i < a->n_rlimits; i++) {
    assert_str_same("rlimit type", a->rlimits[i].type, b->rlimits[i].type);
    ck_assert_uint_eq(a->rlimits[i].soft, b->rlimits[i].soft);
    ck_assert_uint_eq(a->rlimits[i].hard, b->rlimits[i].hard);
  }
  ck_assert_int_eq(a->no_new_privileges, b->no_new_privileges);
  assert_str_same("apparmorProfile", a->apparmor_profile, b->apparmor_profile);
  ASSERT_SPEC_NUM_SAME("oomScoreAdj", a->oom_score_adj, b->oom_score_adj);
  assert_scheduler_same(a->scheduler, b->scheduler);
  assert_str_same("selinuxLabel", a->selinux_label, b->selinux_label);
  ck_assert((a->io_priority == NULL) == (b->io_priority == NULL));
  if (a->io_priority) {
    assert_str_same("ioPriority.class", a->io_priority->class_,
                    b->io_priority->class_);
    ASSERT_SPEC_NUM_SAME("ioPriority.priority", a->io_priority->priority,
                         b->io_priority->priority);
  }
  assert_str_same("execCPUAffinity.initial", a->exec_cpu_affinity.initial,
                  b->exec_cpu_affinity.initial);
  assert_str_same("execCPUAffinity.final", a->exec_cpu_affinity.final,
                  b->exec_cpu_affinity.final);
}

/* parse(to_json(parse(json))) equals parse(json), and to_json is stable. */
static void check_round_trip(const char *json) {
  struct spec_process *p = parse_ok(json);
  char *text = spec_process_to_json(p);
  struct spec_process *q = parse_ok(text);
  assert_process_same(p, q);
  char *again = spec_process_to_json(q);
  ck_assert_str_eq(text, again);
  free(again);
  free(text);
  spec_process_free(q);
  spec_process_free(p);
}

START_TEST(test_every_member_round_trips) {
  check_round_trip(
      "{\"terminal\": true, \"consoleSize\": {\"height\": 40, \"width\": 120},"
      " \"user\": {\"uid\": 1000, \"gid\": 1001, \"umask\": 18,"
      "  \"additionalGids\": [5, 6, 4294967295], \"username\": \"me\"},"
      " \"args\": [\"sh\", \"-c\", \"echo \\\"hi\\\"\\n\\u0001 é\"],"
      " \"commandLine\": \"cmd /c dir\","
      " \"env\": [\"PATH=/bin\", \"EMPTY=\"], \"cwd\": \"/srv/x\","
      " \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"],"
      "  \"effective\": [\"CAP_KILL\"], \"inheritable\": [],"
      "  \"permitted\": [\"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]},"
      " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024,"
      "  \"hard\": 18446744073709551615},"
      "  {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}],"
      " \"noNewPrivileges\": true, \"apparmorProfile\": \"prof\","
      " \"oomScoreAdj\": -1000,"
      " \"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"nice\": -5,"
      "  \"priority\": 3, \"flags\": [\"SCHED_FLAG_RECLAIM\"],"
      "  \"runtime\": 10, \"deadline\": 18446744073709551615,"
      "  \"period\": 30},"
      " \"selinuxLabel\": \"system_u:system_r:container_t:s0\","
      " \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 4},"
      " \"execCPUAffinity\": {\"initial\": \"0-3, 7\", \"final\": \"1\"}}");
}
END_TEST

START_TEST(test_minimal_process_round_trips) {
  check_round_trip("{\"cwd\": \"/\"}");
  check_round_trip("{\"cwd\": \"/\", \"args\": [], \"env\": [],"
                   " \"capabilities\": {}, \"scheduler\":"
                   " {\"policy\": \"SCHED_OTHER\"}, \"oomScoreAdj\": 0,"
                   " \"user\": {\"umask\": 0}}");
}
END_TEST

/* A struct built in C (as `exec`'s flags build one), not from JSON. */
START_TEST(test_built_process_round_trips) {
  struct spec_process p = {
      .args = (char *[]){"ls", "-l", NULL},
      .cwd = "/tmp",
      .user = {.uid = 3, .gid = 4},
      .no_new_privileges = true,
  };
  char *text = spec_process_to_json(&p);
  struct spec_process *q = parse_ok(text);
  assert_process_same(&p, q);
  free(text);
  spec_process_free(q);
}
END_TEST

static Suite *spec_process_json_suite(void) {
  Suite *s = suite_create("spec-process-json");
  TCase *tc = tcase_create("round_trip");
  tcase_add_test(tc, test_every_member_round_trips);
  tcase_add_test(tc, test_minimal_process_round_trips);
  tcase_add_test(tc, test_built_process_round_trips);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(spec_process_json_suite)
