/* test-errors.c — what goes wrong and how the runtime says so: runc exits
 * 1 with a message on stderr naming what failed, and leaves nothing behind.
 * Messages are matched loosely (a key word), not word for word. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <string.h>
#include <unistd.h>

/* Asserts r failed the way runc fails: status 1 and a message on stderr
 * that contains word (case-insensitive). */
static void assert_fails_naming(struct hres *r, const char *word) {
  ck_assert_msg(r->status == 1, "exit status %d, want 1\nstderr: %s", r->status,
                r->err);
  ck_assert_msg(r->err[0] != '\0', "no error message on stderr");
  ck_assert_msg(word == NULL || strcasestr(r->err, word) != NULL,
                "stderr does not mention \"%s\": %s", word, r->err);
}

START_TEST(broken_config_json) {
  struct hctx *c = hctx_new();
  hctx_write_config_raw(c, "{ \"ociVersion\": \"1.0.2\", nope");
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, NULL);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(missing_config_json) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, "config.json");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(missing_rootfs) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){0});
  hull_error_t err = NULL;
  ck_assert_int_eq(remove_tree(c->rootfs, &err), 0);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, "rootfs");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(executable_not_found_on_create) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = "\"/bin/nope\""});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, "/bin/nope");
  hres_free(&r);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(executable_not_found_on_run) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = "\"nope-in-path\""});
  assert_fails_naming(&r, "nope-in-path");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(duplicate_id) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, "exists");
  hres_free(&r);
  /* The first container is untouched. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(unknown_id) {
  struct hctx *c = hctx_new();
  cleanup_free char *id = xasprintf("%s-none", c->id);
  const char *verbs[][3] = {{"state", NULL}, {"start", NULL}, {"kill", NULL},
                            {"delete", NULL}, {"kill", "KILL"}};
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    struct hres r = verbs[i][1] ? hrun(c, verbs[i][0], id, verbs[i][1], NULL)
                                : hrun(c, verbs[i][0], id, NULL);
    assert_fails_naming(&r, "does not exist");
    hres_free(&r);
  }
  hctx_finish(c);
}
END_TEST

START_TEST(kill_of_a_stopped_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  struct hres r = hrun(c, "kill", c->id, NULL);
  assert_fails_naming(&r, "not running");
  hres_free(&r);
  r = hrun(c, "kill", c->id, "KILL", NULL);
  assert_fails_naming(&r, "not running");
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_of_a_running_container_needs_force) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "delete", c->id, NULL);
  assert_fails_naming(&r, "running");
  hres_free(&r);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "running");
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_force_of_a_created_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(invalid_ids) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){0});
  const char *bad[] = {"../x", "", "a/b", ".."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct hres r = hrun(c, "create", "--bundle", c->bundle, bad[i], NULL);
    assert_fails_naming(&r, "id");
    hres_free(&r);
    r = hrun(c, "state", bad[i], NULL);
    assert_fails_naming(&r, NULL);
    hres_free(&r);
  }
  cleanup_free char *outside = xasprintf("%s/x", c->dir);
  ck_assert_msg(access(outside, F_OK) != 0, "an id escaped --root: %s", outside);
  hctx_finish(c);
}
END_TEST

START_TEST(start_twice_fails) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "start", c->id);
  struct hres r = hrun(c, "start", c->id, NULL);
  assert_fails_naming(&r, NULL);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(invalid_rootfs_propagation) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.linux_extra = "\"rootfsPropagation\": \"sideways\""});
  assert_fails_naming(&r, NULL);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *errors_suite(void) {
  Suite *s = suite_create("integration-errors");
  TCase *tc = harness_tcase("errors", 30);
  tcase_add_test(tc, broken_config_json);
  tcase_add_test(tc, missing_config_json);
  tcase_add_test(tc, missing_rootfs);
  tcase_add_test(tc, executable_not_found_on_create);
  tcase_add_test(tc, executable_not_found_on_run);
  tcase_add_test(tc, duplicate_id);
  tcase_add_test(tc, unknown_id);
  tcase_add_test(tc, kill_of_a_stopped_container);
  tcase_add_test(tc, delete_of_a_running_container_needs_force);
  tcase_add_test(tc, delete_force_of_a_created_container);
  tcase_add_test(tc, invalid_ids);
  tcase_add_test(tc, start_twice_fails);
  tcase_add_test(tc, invalid_rootfs_propagation);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(errors_suite)
