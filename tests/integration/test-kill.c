/* test-kill.c — `kill ID 0`, the liveness probe runc allows: it succeeds
 * for a created or running container without disturbing it, fails for a
 * stopped one ("container not running") unless --all, and names a deleted
 * one. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

START_TEST(kill_0_probes_a_created_and_a_running_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "kill", c->id, "0");
  hrun_expect(0, c, "kill", "--all", c->id, "0");
  cleanup_free char *created = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(created, "created");
  hrun_expect(0, c, "start", c->id);
  hrun_expect(0, c, "kill", c->id, "0");
  hrun_expect(0, c, "kill", "--all", c->id, "0");
  /* Nothing was delivered: the process still waits for a signal. */
  cleanup_free char *running = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(running, "running");
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(kill_0_on_a_stopped_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  struct hres r = hrun(c, "kill", c->id, "0", NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "container not running"), "%s", r.err);
  hres_free(&r);
  /* runc: with --all a stopped container that is not deleted yet is fine. */
  hrun_expect(0, c, "kill", "--all", c->id, "0");
  hrun_expect(0, c, "delete", c->id);
  r = hrun(c, "kill", c->id, "0", NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "container does not exist"), "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *kill_suite(void) {
  Suite *s = suite_create("integration-kill");
  TCase *tc = harness_tcase("kill", 30);
  tcase_add_test(tc, kill_0_probes_a_created_and_a_running_container);
  tcase_add_test(tc, kill_0_on_a_stopped_container);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(kill_suite)
