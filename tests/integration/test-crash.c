/* test-crash.c — hull killed half-way, or a create that failed, leaves
 * nothing that `delete` cannot find and undo. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Asserts `state ID` fails saying the container does not exist. */
static void assert_gone(struct hctx *c) {
  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_msg(r.status != 0, "state of a deleted container: %s", r.out);
  ck_assert_msg(hcontains(r.err, "does not exist") && hcontains(r.err, c->id),
                "state error: %s", r.err);
  hres_free(&r);
  cleanup_free char *dir = xasprintf("%s/%s", c->root, c->id);
  ck_assert_msg(access(dir, F_OK) != 0, "%s still exists", dir);
}

/* `create` whose createRuntime hook hangs, killed with SIGKILL while the
 * hook runs: the init exists, its cgroup exists, state.json names both. */
static void create_killed_in_hook(struct hctx *c) {
  cleanup_free char *marker = xasprintf("%s/hook-ran", c->dir);
  cleanup_free char *hooks = xasprintf(
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\":"
      " [\"sh\", \"-c\", \"echo $$ > %1$s.tmp && mv %1$s.tmp %1$s;"
      " exec sleep 30\"]}]}",
      marker);
  hctx_write_config(c, &(struct hconfig){
                           .args = HELPER("sleep", "30"),
                           .top_extra = hooks});
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  bool ran = hwait_file(marker, "\n", 5000);
  if (!ran)
    kill(b.pid, SIGKILL);
  struct hres r = {0};
  if (ran) {
    ck_assert_int_eq(kill(b.pid, SIGKILL), 0);
    r = hbg_wait(&b, 5000);
    ck_assert_int_eq(r.status, 128 + SIGKILL);
  } else {
    r = hbg_wait(&b, 5000);
  }
  ck_assert_msg(ran, "the createRuntime hook did not run; create said: %s",
                r.err);
  hres_free(&r);

  /* The hook is a host process of the dead runtime, not the container's:
   * stop it ourselves. */
  cleanup_free char *hook_pid = hread_file(marker);
  pid_t pid = (pid_t)atoi(hook_pid);
  ck_assert_int_gt(pid, 1);
  kill(pid, SIGKILL);

  /* What the user sees now: the container is there, in some state. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_msg(strcmp(status, "created") == 0 ||
                    strcmp(status, "stopped") == 0 ||
                    strcmp(status, "creating") == 0,
                "state after a killed create: `%s`", status);
}

START_TEST(delete_after_create_killed_in_hook) {
  struct hctx *c = hctx_new();
  create_killed_in_hook(c);
  hrun_expect(0, c, "delete", c->id);
  assert_gone(c);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_force_after_create_killed_in_hook) {
  struct hctx *c = hctx_new();
  create_killed_in_hook(c);
  hrun_expect(0, c, "delete", "--force", c->id);
  assert_gone(c);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_force_after_foreground_run_killed) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  char *args[] = {"run", "--bundle", c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  bool running = hwait_status(c, c->id, "running", 5000);
  kill(b.pid, SIGKILL);
  struct hres r = hbg_wait(&b, 5000);
  ck_assert_msg(running, "run never got to running: %s", r.err);
  ck_assert_int_eq(r.status, 128 + SIGKILL);
  hres_free(&r);

  /* Either the container outlived the runtime or died with it. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_msg(strcmp(status, "running") == 0 || strcmp(status, "stopped") == 0,
                "state after a killed run: `%s`", status);

  hrun_expect(0, c, "delete", "--force", c->id);
  assert_gone(c);
  hctx_finish(c);
}
END_TEST

/* A create killed right after mkdir <root>/<id>, before any state.json. */
static void make_bare_state_dir(struct hctx *c) {
  cleanup_free char *dir = xasprintf("%s/%s", c->root, c->id);
  ck_assert_int_eq(mkdir(dir, 0711), 0);
}

START_TEST(state_of_a_dir_without_state_json_fails) {
  struct hctx *c = hctx_new();
  make_bare_state_dir(c);
  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_msg(r.status != 0,
                "state of a container with no state.json succeeded:\n%s",
                r.out);
  ck_assert_msg(hcontains(r.err, c->id), "state error does not name the id: %s",
                r.err);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  assert_gone(c);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_removes_a_dir_without_state_json) {
  struct hctx *c = hctx_new();
  make_bare_state_dir(c);
  hrun_expect(0, c, "delete", c->id);
  assert_gone(c);

  make_bare_state_dir(c);
  hrun_expect(0, c, "delete", "--force", c->id);
  assert_gone(c);
  hctx_finish(c);
}
END_TEST

/* The init fails at exec, after its cgroup was made: all of
 * it is undone, and the id can be used again at once. */
START_TEST(failed_create_leaves_nothing) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/no/such/program\""});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_msg(r.status != 0, "create with a missing executable succeeded");
  ck_assert_msg(hcontains(r.err, "/no/such/program"), "create error: %s", r.err);
  hres_free(&r);
  assert_gone(c);
  r = hrun(c, "list", "-q", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "");
  hres_free(&r);

  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "--bundle", c->bundle, c->id);
  hctx_finish(c);
}
END_TEST

static Suite *crash_suite(void) {
  Suite *s = suite_create("integration-crash");
  TCase *tc = harness_tcase("crash", 30);
  tcase_add_test(tc, delete_after_create_killed_in_hook);
  tcase_add_test(tc, delete_force_after_create_killed_in_hook);
  tcase_add_test(tc, delete_force_after_foreground_run_killed);
  tcase_add_test(tc, state_of_a_dir_without_state_json_fails);
  tcase_add_test(tc, delete_removes_a_dir_without_state_json);
  tcase_add_test(tc, failed_create_leaves_nothing);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(crash_suite)
