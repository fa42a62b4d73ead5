/* test-shared-cgroup.c — a container placed in a cgroup that already has
 * processes (the same linux.cgroupsPath as a running container) gets
 * runc 1.1's warning and still runs; deleting it leaves the other's
 * processes and the cgroup alone. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <signal.h>

START_TEST(second_container_in_a_busy_cgroup_is_warned_and_runs) {
  struct hctx *c = hctx_new();
  cleanup_free char *path = xasprintf("\"cgroupsPath\": \"/hull/%s\"", c->id);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .linux_extra = path});
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(!hcontains(r.err, "not empty"), "%s", r.err);
  hres_free(&r);

  cleanup_free char *second = xasprintf("%s-b", c->id);
  r = hrun(c, "run", "-d", "--bundle", c->bundle, second, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.err, "level=warning msg=\"container's cgroup is "
                                 "not empty: 1 process(es) found\""),
                "%s", r.err);
  hres_free(&r);
  cleanup_free char *status = hstate_status(c, second, NULL);
  ck_assert_str_eq(status, "running");
  r = hrun(c, "exec", second, "/bin/true", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);

  /* Each has a pid namespace of its own: deleting the second kills only
   * its processes and leaves the cgroup to the first, as runc does. */
  pid_t first_pid = 0;
  cleanup_free char *first_status = hstate_status(c, c->id, &first_pid);
  ck_assert_str_eq(first_status, "running");
  r = hrun(c, "delete", "--force", second, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.err, "still holds 1 process(es) of others: left "
                                 "in place"), "%s", r.err);
  hres_free(&r);
  cleanup_free char *after = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(after, "running");
  ck_assert_int_eq(kill(first_pid, 0), 0);
  hctx_delete_and_finish(c); /* the last one removes the cgroup */
}
END_TEST

static Suite *shared_cgroup_suite(void) {
  Suite *s = suite_create("integration-shared-cgroup");
  TCase *tc = harness_tcase("shared-cgroup", 30);
  tcase_add_test(tc, second_container_in_a_busy_cgroup_is_warned_and_runs);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(shared_cgroup_suite)
