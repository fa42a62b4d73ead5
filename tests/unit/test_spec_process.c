/* test_spec_process.c — a process object on its own, as `exec --process`
 * reads it: parsed like config.json's process, errors naming the file and
 * the field, and the checks a process to run must pass. */
#include "../suite.h"
#include "runtime/spec/spec.h"

#include <string.h>

static int parse(const char *json, struct spec_process **p,
                 hull_error_t *err) {
  return spec_parse_process_json(json, strlen(json), "p.json", p, err);
}

START_TEST(test_process_object_fields) {
  cleanup_error hull_error_t err = NULL;
  struct spec_process *p = NULL;
  ck_assert_int_eq(
      parse("{\"terminal\": true, \"args\": [\"sh\", \"-c\", \"true\"],"
            " \"env\": [\"A=1\"], \"cwd\": \"/srv\","
            " \"user\": {\"uid\": 7, \"gid\": 8, \"additionalGids\": [9]},"
            " \"capabilities\": {\"bounding\": [\"CAP_KILL\"]},"
            " \"noNewPrivileges\": true}",
            &p, &err),
      0);
  ck_assert(p->terminal);
  ck_assert_str_eq(p->args[2], "true");
  ck_assert_str_eq(p->env[0], "A=1");
  ck_assert_str_eq(p->cwd, "/srv");
  ck_assert_uint_eq(p->user.uid, 7);
  ck_assert_uint_eq(p->user.gid, 8);
  ck_assert_uint_eq(p->user.n_additional_gids, 1);
  ck_assert_str_eq(p->capabilities->bounding[0], "CAP_KILL");
  ck_assert(p->no_new_privileges);
  ck_assert_int_eq(spec_validate_process(p, "p.json: ", &err), 0);
  spec_process_free(p);
}
END_TEST

START_TEST(test_process_object_errors) {
  cleanup_error hull_error_t err = NULL;
  struct spec_process *p = NULL;
  ck_assert_int_lt(parse("{\"args\": \"sh\", \"cwd\": \"/\"}", &p, &err), 0);
  ck_assert_ptr_null(p);
  ck_assert_str_eq(err->msg, "p.json: .args: expected array of strings");
  ck_assert_int_lt(parse("{\"args\": [\"sh\"]}", &p, &err), 0);
  ck_assert_str_eq(err->msg, "p.json: .cwd: required");
  ck_assert_int_lt(parse("[1]", &p, &err), 0);
  ck_assert_msg(strstr(err->msg, "p.json: ") == err->msg, "%s", err->msg);

  ck_assert_int_eq(parse("{\"cwd\": \"/\"}", &p, &err), 0);
  ck_assert_int_lt(spec_validate_process(p, "p.json: ", &err), 0);
  ck_assert_str_eq(err->msg, "p.json: .args: must not be empty");
  spec_process_free(p);
  ck_assert_int_eq(parse("{\"args\": [\"x\"], \"cwd\": \"rel\"}", &p, &err),
                   0);
  ck_assert_int_lt(spec_validate_process(p, "p.json: ", &err), 0);
  ck_assert_str_eq(err->msg, "p.json: .cwd: must be an absolute path");
  spec_process_free(p);
}
END_TEST

static Suite *spec_process_suite(void) {
  Suite *s = suite_create("spec-process");
  TCase *tc = tcase_create("process");
  tcase_add_test(tc, test_process_object_fields);
  tcase_add_test(tc, test_process_object_errors);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(spec_process_suite)
