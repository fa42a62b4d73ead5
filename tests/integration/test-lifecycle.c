/* test-lifecycle.c — run/create/start/state/delete/kill/list: the verbs and
 * what runc shows for each step of a container's life. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(run_prints_output_and_exits_zero) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("hostname")});
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "hull-test\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(run_propagates_exit_code) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "3")});
  hrun_expect(3, c, "run", "--bundle", c->bundle, c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(run_killed_container_exits_137) {
  /* `run` in the foreground while another invocation kills the container:
   * run's own exit status must be 128+9. */
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  pid_t runner = fork();
  ck_assert(runner >= 0);
  if (runner == 0) {
    struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
    _exit(r.status < 0 ? 250 : r.status);
  }
  ck_assert(hwait_status(c, c->id, "running", 5000));
  hrun_expect(0, c, "kill", c->id, "9");
  int status;
  ck_assert_int_eq(waitpid(runner, &status, 0), runner);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 137);
  hctx_finish(c);
}
END_TEST

START_TEST(create_start_state_delete) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "0.3")});
  cleanup_free char *pid_file = xasprintf("%s/pidfile", c->dir);

  hrun_expect(0, c, "create", "--bundle", c->bundle, "--pid-file", pid_file, c->id);

  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hjson_valid(r.out), "state is not JSON: %s", r.out);
  cleanup_free char *status = hjson_string(r.out, (const char *[]){"status", NULL});
  cleanup_free char *id = hjson_string(r.out, (const char *[]){"id", NULL});
  cleanup_free char *bundle = hjson_string(r.out, (const char *[]){"bundle", NULL});
  cleanup_free char *version =
      hjson_string(r.out, (const char *[]){"ociVersion", NULL});
  long long pid = hjson_int(r.out, (const char *[]){"pid", NULL}, 0);
  ck_assert_str_eq(status, "created");
  ck_assert_str_eq(id, c->id);
  ck_assert_str_eq(bundle, c->bundle);
  ck_assert_ptr_nonnull(version);
  ck_assert_int_gt(pid, 0);
  hres_free(&r);

  cleanup_free char *pid_text = hread_file(pid_file);
  ck_assert_ptr_nonnull(pid_text);
  ck_assert_int_eq(atoll(pid_text), pid);

  hrun_expect(0, c, "start", c->id);
  cleanup_free char *running = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(running, "running");

  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);

  r = hrun(c, "state", c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(run_detached_returns_while_container_runs) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert(hwait_file(r.out_path, "ready", 5000));
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "running");
  ck_assert_int_gt(pid, 0);
  ck_assert_int_eq(kill(pid, 0), 0);

  struct hres k = hrun(c, "kill", c->id, NULL); /* SIGTERM by default */
  ck_assert_hres(k, 0);
  hres_free(&k);
  ck_assert(hwait_file(r.out_path, "SIGTERM", 5000));
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(delete_of_a_created_container_needs_no_force) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "created");
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c); /* the waiting init process is gone too */
}
END_TEST

START_TEST(stopped_state_has_pid_zero) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_int_eq(hjson_int(r.out, (const char *[]){"pid", NULL}, -1), 0);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* Starts signal-wait in a created+started container; returns the path its
 * stdout goes to (free it). */
static char *start_signal_waiter(struct hctx *c, const char *id) {
  struct hres r = hrun(c, "create", "--bundle", c->bundle, id, NULL);
  ck_assert_hres(r, 0);
  char *out = take_ptr(r.out_path);
  hres_free(&r);
  hrun_expect(0, c, "start", id);
  ck_assert_msg(hwait_file(out, "ready", 5000), "signal-wait never got ready");
  return out;
}

static void kill_and_expect(const char *sig, const char *expect) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  cleanup_free char *out = start_signal_waiter(c, c->id);
  struct hres r = sig ? hrun(c, "kill", c->id, sig, NULL)
                      : hrun(c, "kill", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(hwait_file(out, expect, 5000), "kill %s: no %s", sig ? sig : "",
                expect);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}

START_TEST(kill_default_is_sigterm) { kill_and_expect(NULL, "SIGTERM"); }
END_TEST
START_TEST(kill_by_name_without_sig) { kill_and_expect("USR1", "SIGUSR1"); }
END_TEST
START_TEST(kill_by_name_with_sig) { kill_and_expect("SIGUSR1", "SIGUSR1"); }
END_TEST
START_TEST(kill_by_number) { kill_and_expect("15", "SIGTERM"); }
END_TEST

START_TEST(kill_all_reaches_every_process) {
  struct hctx *c = hctx_new();
  hctx_write_config(
      c, &(struct hconfig){.args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper"
                                   " sleep 30 & /bin/hull-test-helper sleep 30 &"
                                   " echo ready; wait\""});
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert(hwait_file(r.out_path, "ready", 5000));
  hres_free(&r);
  hrun_expect(0, c, "kill", "--all", c->id, "KILL");
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c); /* also proves the two sleepers are gone */
}
END_TEST

START_TEST(list_table_json_and_quiet) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);

  struct hres r = hrun(c, "list", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(strncmp(r.out, "ID", 2) == 0, "list header: %s", r.out);
  ck_assert(hcontains(r.out, "PID"));
  ck_assert(hcontains(r.out, "STATUS"));
  ck_assert(hcontains(r.out, "BUNDLE"));
  ck_assert(hcontains(r.out, c->id));
  ck_assert(hcontains(r.out, "created"));
  ck_assert(hcontains(r.out, c->bundle));
  hres_free(&r);

  r = hrun(c, "list", "-q", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("%s\n", c->id);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);

  r = hrun(c, "list", "--format", "json", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hjson_valid(r.out), "list json: %s", r.out);
  /* yajl paths cannot index arrays; check the text instead. */
  ck_assert(r.out[0] == '[');
  cleanup_free char *quoted_id = xasprintf("\"%s\"", c->id);
  ck_assert_msg(hcontains(r.out, "\"id\"") && hcontains(r.out, quoted_id),
                "list json: %s", r.out);
  ck_assert(hcontains(r.out, "\"status\"") && hcontains(r.out, "\"created\""));
  hres_free(&r);

  hrun_expect(0, c, "delete", "--force", c->id);

  r = hrun(c, "list", "--format", "json", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(strncmp(r.out, "null", 4) == 0 || strncmp(r.out, "[]", 2) == 0,
                "empty list json: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(spec_writes_a_default_config) {
  struct hctx *c = hctx_new();
  char *args[] = {"spec", "--bundle", c->bundle, NULL};
  struct hres r = hrun_argv(c, NULL, args, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *path = xasprintf("%s/config.json", c->bundle);
  cleanup_free char *json = hread_file(path);
  ck_assert_ptr_nonnull(json);
  ck_assert_msg(hjson_valid(json), "spec output is not JSON:\n%s", json);
  cleanup_free char *root = hjson_string(json, (const char *[]){"root", "path", NULL});
  ck_assert_str_eq(root, "rootfs");
  cleanup_free char *version = hjson_string(json, (const char *[]){"ociVersion", NULL});
  ck_assert_ptr_nonnull(version);
  /* args is ["sh"]: yajl paths cannot index arrays, so match the text. */
  const char *args_at = strstr(json, "\"args\"");
  ck_assert_ptr_nonnull(args_at);
  const char *open = strchr(args_at, '[');
  const char *close = strchr(args_at, ']');
  ck_assert(open && close && open < close);
  cleanup_free char *inner = xstrndup(open + 1, (size_t)(close - open - 1));
  char *p = inner, *q = inner;
  for (; *p; p++)
    if (*p != ' ' && *p != '\n' && *p != '\t')
      *q++ = *p;
  *q = '\0';
  ck_assert_str_eq(inner, "\"sh\"");

  /* A second spec refuses to overwrite. */
  r = hrun_argv(c, NULL, args, 10000);
  ck_assert_int_ne(r.status, 0);
  ck_assert(hcontains(r.err, "config.json"));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(features_reports_oci_versions) {
  struct hctx *c = hctx_new();
  char *args[] = {"features", NULL};
  struct hres r = hrun_argv(c, NULL, args, 10000);
  ck_assert_hres(r, 0);
  ck_assert_msg(hjson_valid(r.out), "features is not JSON:\n%s", r.out);
  cleanup_free char *min = hjson_string(r.out, (const char *[]){"ociVersionMin", NULL});
  cleanup_free char *max = hjson_string(r.out, (const char *[]){"ociVersionMax", NULL});
  ck_assert_ptr_nonnull(min);
  ck_assert_ptr_nonnull(max);
  ck_assert_str_eq(min, "1.0.0");
  ck_assert(hcontains(r.out, "\"hooks\""));
  ck_assert(hcontains(r.out, "\"mountOptions\""));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *lifecycle_suite(void) {
  Suite *s = suite_create("integration-lifecycle");
  TCase *tc = harness_tcase("lifecycle", 30);
  tcase_add_test(tc, run_prints_output_and_exits_zero);
  tcase_add_test(tc, run_propagates_exit_code);
  tcase_add_test(tc, run_killed_container_exits_137);
  tcase_add_test(tc, create_start_state_delete);
  tcase_add_test(tc, run_detached_returns_while_container_runs);
  tcase_add_test(tc, delete_of_a_created_container_needs_no_force);
  tcase_add_test(tc, stopped_state_has_pid_zero);
  tcase_add_test(tc, kill_default_is_sigterm);
  tcase_add_test(tc, kill_by_name_without_sig);
  tcase_add_test(tc, kill_by_name_with_sig);
  tcase_add_test(tc, kill_by_number);
  tcase_add_test(tc, kill_all_reaches_every_process);
  tcase_add_test(tc, list_table_json_and_quiet);
  tcase_add_test(tc, spec_writes_a_default_config);
  tcase_add_test(tc, features_reports_oci_versions);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(lifecycle_suite)
