/* test-flag-order.c — flags after the container id, as runc 1.1's CLI
 * library (urfave/cli) takes them for every command but exec and ps, whose
 * words after the id belong to a process; "--" ends the flags. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <string.h>

/* create, start, state, kill, delete with their flags last. */
START_TEST(lifecycle_flags_after_the_id) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", c->id, "--bundle", c->bundle);
  struct hres r = hrun(c, "state", c->id, "--", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "\"created\""), "%s", r.out);
  hres_free(&r);
  hrun_expect(0, c, "start", "--", c->id);
  hrun_expect(0, c, "kill", c->id, "KILL", "--all");
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  /* After "--" a flag is an argument. */
  r = hrun(c, "delete", c->id, "--", "--force", NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "delete\\\" requires exactly 1 argument(s)"),
                "%s", r.err);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id, "--force");
  hctx_finish(c);
}
END_TEST

START_TEST(run_flags_after_the_id) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "run", c->id, "-d", "--bundle", c->bundle);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "running");
  hrun_expect(0, c, "delete", c->id, "-f");
  hctx_finish(c);
}
END_TEST

/* The bug that started it: `update ID --FLAG V` said "requires exactly 1
 * argument(s)". */
START_TEST(update_flags_after_the_id) {
  enum layout l = host_layout();
  SKIP_UNLESS(has_controller(l, "pids"), "a pids cgroup controller");
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "update", c->id, "--pids-limit", "123");
  cleanup_free char *path =
      l == LAYOUT_V1 ? xasprintf("/sys/fs/cgroup/pids/hull/%s/pids.max", c->id)
                     : xasprintf("/sys/fs/cgroup/hull/%s/pids.max", c->id);
  cleanup_free char *max = hread_file(path);
  ck_assert_msg(max && strcmp(max, "123\n") == 0, "%s: %s", path,
                max ? max : "(unreadable)");
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(events_flags_after_the_id) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "events", c->id, "--stats", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "\"type\":\"stats\""), "%s", r.out);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* exec's words after the id are the process's, --help included. */
START_TEST(exec_words_after_the_id_belong_to_the_process) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "exec", c->id, "/bin/echo", "--help", "-d", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "--help -d\n");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* --help anywhere before "--" is help, as with runc. */
START_TEST(help_after_the_id) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "state", c->id, "--help", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "hull state"), "%s", r.out);
  hres_free(&r);
  r = hrun(c, "state", c->id, "--bogus", NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "flag provided but not defined: --bogus"),
                "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *flag_order_suite(void) {
  Suite *s = suite_create("integration-flag-order");
  TCase *tc = harness_tcase("flag-order", 30);
  tcase_add_test(tc, lifecycle_flags_after_the_id);
  tcase_add_test(tc, run_flags_after_the_id);
  tcase_add_test(tc, update_flags_after_the_id);
  tcase_add_test(tc, events_flags_after_the_id);
  tcase_add_test(tc, exec_words_after_the_id_belong_to_the_process);
  tcase_add_test(tc, help_after_the_id);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(flag_order_suite)
