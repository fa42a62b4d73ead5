/* test-exec-cgroup.c — `exec --cgroup [CONTROLLER:]PATH` as runc 1.1: the
 * process goes to an existing sub-cgroup of the container's; a path that
 * leaves the container's cgroup, a missing sub-cgroup, an unknown
 * controller and a malformed argument are one-line errors. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* `exec --cgroup ARG... ID true` fails with one line naming want, and
 * exit status 255 as runc's failed exec. */
static void assert_refused(struct hctx *c, const char *want, const char *a,
                           const char *b) {
  struct hres r = b ? hrun(c, "exec", "--cgroup", a, "--cgroup", b, c->id,
                           "/bin/true", NULL)
                    : hrun(c, "exec", "--cgroup", a, c->id, "/bin/true", NULL);
  ck_assert_hres(r, 255); /* runc's status for a failed exec */
  ck_assert_msg(hcontains(r.err, want), "--cgroup %s: want `%s`, got: %s", a,
                want, r.err);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "not one line: %s", r.err);
  hres_free(&r);
}

START_TEST(exec_cgroup_refuses_paths_leaving_the_container) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL); /* its cgroup is /hull/<id> */
  const char *const escapes[] = {"..", "../x", "/../../x", "sub/../..",
                                 "./../x", "memory:../x"};
  for (size_t i = 0; i < sizeof(escapes) / sizeof(*escapes); i++) {
    const char *sub = strchr(escapes[i], ':') ? strchr(escapes[i], ':') + 1
                                              : escapes[i];
    cleanup_free char *want = xasprintf("%s is not a sub cgroup path", sub);
    assert_refused(c, want, escapes[i], NULL);
  }
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_cgroup_errors_name_the_problem) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  assert_refused(c, "--cgroup: no such cgroup `", "nosuch", NULL);
  assert_refused(c, "/hull/", "nosuch", NULL);
  assert_refused(c, "--cgroup: unknown controller bogus", "bogus:sub", NULL);
  assert_refused(c, "invalid --cgroup argument: a:b:c", "a:b:c", NULL);
  assert_refused(c, "invalid --cgroup argument: :x (empty <controller> "
                    "prefix)", ":x", NULL);
  assert_refused(c, "invalid --cgroup argument: x (missing <controller>: "
                    "prefix)", "x", "pids:y");
  assert_refused(c, "invalid --cgroup argument(s): controller pids specified "
                    "multiple times", "pids:x", "cpu,pids:y");
  hctx_delete_and_finish(c);
}
END_TEST

/* v1: CONTROLLER:PATH moves the process in that hierarchy only. */
START_TEST(exec_cgroup_controller_form_moves_one_hierarchy) {
  enum layout l = host_layout();
  SKIP_UNLESS(l == LAYOUT_V1 && has_controller(l, "pids"),
              "needs a cgroup v1 pids hierarchy at /sys/fs/cgroup/pids");
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  cleanup_free char *sub = xasprintf("/sys/fs/cgroup/pids/hull/%s/sub", c->id);
  ck_assert_msg(mkdir(sub, 0755) == 0, "mkdir %s", sub);
  struct hres r = hrun(c, "exec", "--cgroup", "pids:sub", c->id,
                       "/bin/hull-test-helper", "cat", "/proc/self/cgroup",
                       NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *in_sub = xasprintf(":pids:/hull/%s/sub\n", c->id);
  ck_assert_msg(hcontains(r.out, in_sub), "%s", r.out);
  /* The other hierarchies keep the container's own cgroup. */
  cleanup_free char *memory = xasprintf(":memory:/hull/%s\n", c->id);
  ck_assert_msg(!has_controller(l, "memory") || hcontains(r.out, memory),
                "%s", r.out);
  hres_free(&r);
  hctx_delete_and_finish(c); /* delete removes the sub-cgroup too */
}
END_TEST

/* v2 has one hierarchy and no per-controller paths (runc: the same). */
START_TEST(exec_cgroup_controller_form_is_unknown_on_v2) {
  SKIP_UNLESS(host_layout() == LAYOUT_V2, "needs a pure cgroup v2 host");
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  assert_refused(c, "--cgroup: unknown controller pids", "pids:sub", NULL);
  hctx_delete_and_finish(c);
}
END_TEST

static Suite *exec_cgroup_suite(void) {
  Suite *s = suite_create("integration-exec-cgroup");
  TCase *tc = harness_tcase("exec-cgroup", 30);
  tcase_add_test(tc, exec_cgroup_refuses_paths_leaving_the_container);
  tcase_add_test(tc, exec_cgroup_errors_name_the_problem);
  tcase_add_test(tc, exec_cgroup_controller_form_moves_one_hierarchy);
  tcase_add_test(tc, exec_cgroup_controller_form_is_unknown_on_v2);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(exec_cgroup_suite)
