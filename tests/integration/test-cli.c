/* test-cli.c — the command line as a user or an engine meets it: version,
 * help, unknown commands and flags, logging, --pid-file, --preserve-fds,
 * and the shape of `state`. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* Runs the runtime without --root. */
static struct hres run_bare(struct hctx *c, char **args) {
  return hrun_argv(c, NULL, args, 10000);
}

static bool matches(const char *text, const char *pattern) {
  regex_t re;
  ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
  bool m = regexec(&re, text, 0, NULL, 0) == 0;
  regfree(&re);
  return m;
}

#define RFC3339 \
  "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?" \
  "(Z|[+-][0-9]{2}:[0-9]{2})"

/* Fails with exit status 1 and an error that names `what`. */
static void assert_fails_naming(struct hres *r, const char *what) {
  ck_assert_msg(r->status == 1, "exit status %d, want 1\nstderr: %s",
                r->status, r->err);
  ck_assert_msg(hcontains(r->err, what), "error does not name `%s`: %s", what,
                r->err);
}

START_TEST(version_names_hull) {
  struct hctx *c = hctx_new();
  struct hres r = run_bare(c, (char *[]){"--version", NULL});
  ck_assert_hres(r, 0);
  ck_assert_msg(strncmp(r.out, "hull version ", 13) == 0, "--version: %s", r.out);
  ck_assert(hcontains(r.out, "spec: "));
  hres_free(&r);
  r = run_bare(c, (char *[]){"-v", NULL});
  ck_assert_hres(r, 0);
  ck_assert_msg(strncmp(r.out, "hull version ", 13) == 0, "-v: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(help_lists_commands_and_flags) {
  struct hctx *c = hctx_new();
  struct hres r = run_bare(c, (char *[]){"help", NULL});
  ck_assert_hres(r, 0);
  const char *verbs[] = {"create", "start", "run", "state", "kill", "delete",
                         "list", "spec", "features"};
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    ck_assert_msg(hcontains(r.out, verbs[i]), "help lacks %s:\n%s", verbs[i],
                  r.out);
  ck_assert(hcontains(r.out, "--root"));
  ck_assert(hcontains(r.out, "--log-format"));
  hres_free(&r);

  r = run_bare(c, (char *[]){"--help", NULL});
  ck_assert_hres(r, 0);
  ck_assert(hcontains(r.out, "create"));
  hres_free(&r);

  /* `help create` and `create --help` both show create's flags. */
  char *help_create[] = {"help", "create", NULL};
  char *create_help[] = {"create", "--help", NULL};
  char **forms[] = {help_create, create_help};
  for (size_t i = 0; i < 2; i++) {
    r = run_bare(c, forms[i]);
    ck_assert_hres(r, 0);
    const char *flags[] = {"--bundle", "--console-socket", "--pid-file",
                           "--preserve-fds", "--no-pivot"};
    for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++)
      ck_assert_msg(hcontains(r.out, flags[j]), "`%s %s` lacks %s:\n%s",
                    forms[i][0], forms[i][1], flags[j], r.out);
    hres_free(&r);
  }

  r = run_bare(c, (char *[]){"kill", "-h", NULL});
  ck_assert_hres(r, 0);
  ck_assert(hcontains(r.out, "--all"));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(unknown_command_and_flags_fail_naming_them) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "frobnicate", NULL);
  assert_fails_naming(&r, "frobnicate");
  hres_free(&r);
  r = hrun(c, "help", "frobnicate", NULL);
  assert_fails_naming(&r, "frobnicate");
  hres_free(&r);
  r = hrun(c, "--frobnicate", "list", NULL);
  assert_fails_naming(&r, "--frobnicate");
  hres_free(&r);
  r = hrun(c, "create", "--frobnicate", "--bundle", c->bundle, c->id, NULL);
  assert_fails_naming(&r, "--frobnicate");
  hres_free(&r);
  r = hrun(c, "delete", "--frobnicate", c->id, NULL);
  assert_fails_naming(&r, "--frobnicate");
  hres_free(&r);
  r = hrun(c, "state", NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(r.err[0] != '\0', "state without an id printed no error");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* The systemd driver needs systemd as PID 1 (make check-vm-systemd tests
 * it there); elsewhere, one line saying so, and no container left. */
START_TEST(systemd_cgroup_without_systemd_says_why) {
  if (access("/run/systemd/system", F_OK) == 0)
    return;                  /* a systemd host: nothing to refuse */
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){0});
  struct hres r = hrun(c, "--systemd-cgroup", "run", "--bundle", c->bundle,
                       c->id, NULL);
  assert_fails_naming(&r, "--systemd-cgroup");
  ck_assert_msg(hcontains(r.err, "systemd is not running (PID 1 is "),
                "--systemd-cgroup error: %s", r.err);
  hres_free(&r);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_msg(r.status != 0, "a failed --systemd-cgroup run left %s",
                c->id);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(kill_with_a_bad_signal_names_it) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "kill", c->id, "SIGFROB", NULL);
  assert_fails_naming(&r, "SIGFROB");
  hres_free(&r);
  r = hrun(c, "kill", c->id, "999", NULL);
  assert_fails_naming(&r, "999");
  hres_free(&r);
  /* The container did not get some other signal instead. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(pid_file_holds_the_state_pid) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  cleanup_free char *pid_file = xasprintf("%s/container.pid", c->dir);
  hrun_expect(0, c, "create", "--pid-file", pid_file, "--bundle", c->bundle, c->id);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "created");
  cleanup_free char *text = hread_file(pid_file);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(matches(text, "^[0-9]+$"), "pid file: `%s`", text);
  ck_assert_int_gt(pid, 0);
  ck_assert_int_eq(atoi(text), pid);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* Runs `run [--preserve-fds N]` with a host file as the runtime's fd 3 and
 * returns what the helper's `fds` printed in the container. */
static char *fds_seen(struct hctx *c, const char *preserve) {
  cleanup_free char *passed = xasprintf("%s/passed-file", c->dir);
  hwrite_file(passed, "x", 0644);
  int fd = open(passed, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("fds")});
  char *with[] = {"run", "--preserve-fds", (char *)preserve, "--bundle",
                  c->bundle, c->id, NULL};
  char *without[] = {"run", "--bundle", c->bundle, c->id, NULL};
  struct hbg b = hstart(c, preserve ? with : without, -1, fd);
  close(fd);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  char *out = take_ptr(r.out);
  hres_free(&r);
  return out;
}

START_TEST(preserve_fds_passes_fd_3) {
  struct hctx *c = hctx_new();
  cleanup_free char *out = fds_seen(c, "1");
  ck_assert_msg(matches(out, "^3 .*passed-file$"),
                "fd 3 not preserved; the container's fds:\n%s", out);
  hctx_finish(c);
}
END_TEST

START_TEST(fd_3_is_not_inherited_without_preserve_fds) {
  struct hctx *c = hctx_new();
  cleanup_free char *out = fds_seen(c, NULL);
  ck_assert_msg(!hcontains(out, "passed-file") && !matches(out, "^3 "),
                "the container inherited fds:\n%s", out);
  free(take_ptr(out));
  out = fds_seen(c, "0");
  ck_assert_msg(!hcontains(out, "passed-file"),
                "--preserve-fds 0 passed fds:\n%s", out);
  hctx_finish(c);
}
END_TEST

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The member names of a JSON object, sorted, space separated. */
static char *object_keys(const char *json) {
  char errbuf[256];
  yajl_val v = yajl_tree_parse(json, errbuf, sizeof errbuf);
  ck_assert_msg(v && YAJL_IS_OBJECT(v), "not a JSON object: %s", json);
  size_t n = YAJL_GET_OBJECT(v)->len;
  char **keys = xzalloc((n + 1) * sizeof *keys);
  for (size_t i = 0; i < n; i++)
    keys[i] = xstrdup(YAJL_GET_OBJECT(v)->keys[i]);
  yajl_tree_free(v);
  qsort(keys, n, sizeof *keys, compare_strings);
  char *joined = xstrdup("");
  for (size_t i = 0; i < n; i++) {
    char *next = xasprintf("%s%s%s", joined, i ? " " : "", keys[i]);
    free(joined);
    joined = next;
  }
  strv_free(keys);
  return joined;
}

/* The members OCI requires (ociVersion id status pid bundle, annotations
 * when there are some) plus the three runc adds (rootfs created owner),
 * which engines read too; nothing else. */
START_TEST(state_json_has_the_oci_members) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *keys = object_keys(r.out);
  ck_assert_str_eq(keys, "bundle created id ociVersion owner pid rootfs status");
  cleanup_free char *id = hjson_string(r.out, (const char *[]){"id", NULL});
  cleanup_free char *bundle =
      hjson_string(r.out, (const char *[]){"bundle", NULL});
  ck_assert_str_eq(id, c->id);
  ck_assert_str_eq(bundle, c->bundle);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);

  hctx_write_config(c, &(struct hconfig){
                           .args = HELPER("sleep", "30"),
                           .top_extra = "\"annotations\": {\"org.example.a\":"
                                        " \"one\", \"b\": \"two \\\"2\\\"\"}"});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *keys2 = object_keys(r.out);
  ck_assert_str_eq(keys2, "annotations bundle created id ociVersion owner pid "
                          "rootfs status");
  {
    char errbuf[256];
    yajl_val v = yajl_tree_parse(r.out, errbuf, sizeof errbuf);
    yajl_val a = yajl_tree_get(v, (const char *[]){"annotations", NULL},
                               yajl_t_object);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(YAJL_GET_OBJECT(a)->len, 2);
    yajl_tree_free(v);
  }
  cleanup_free char *a1 = hjson_string(
      r.out, (const char *[]){"annotations", "org.example.a", NULL});
  cleanup_free char *a2 =
      hjson_string(r.out, (const char *[]){"annotations", "b", NULL});
  ck_assert_ptr_nonnull(a1);
  ck_assert_ptr_nonnull(a2);
  ck_assert_str_eq(a1, "one");
  ck_assert_str_eq(a2, "two \"2\"");
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* ---- logging ------------------------------------------------------------ */

START_TEST(json_log_file_gets_one_error_line) {
  struct hctx *c = hctx_new();
  cleanup_free char *log = xasprintf("%s/hull.log", c->dir);
  struct hres r = hrun(c, "--log", log, "--log-format", "json", "state",
                       "nope-such-id", NULL);
  ck_assert_int_eq(r.status, 1);
  /* With a log file the user still sees the message on stderr. */
  ck_assert_msg(hcontains(r.err, "nope-such-id"), "stderr: %s", r.err);
  ck_assert_msg(!hcontains(r.err, "level="), "stderr has a log line: %s",
                r.err);
  hres_free(&r);

  cleanup_free char *text = hread_file(log);
  ck_assert_ptr_nonnull(text);
  size_t len = strlen(text);
  ck_assert_msg(len > 0 && text[len - 1] == '\n' && strchr(text, '\n') ==
                                                        text + len - 1,
                "want exactly one line in the log:\n%s", text);
  ck_assert_msg(hjson_valid(text), "log line is not JSON: %s", text);
  cleanup_free char *level = hjson_string(text, (const char *[]){"level", NULL});
  cleanup_free char *msg = hjson_string(text, (const char *[]){"msg", NULL});
  cleanup_free char *when = hjson_string(text, (const char *[]){"time", NULL});
  ck_assert_ptr_nonnull(level);
  ck_assert_ptr_nonnull(msg);
  ck_assert_ptr_nonnull(when);
  ck_assert_str_eq(level, "error");
  ck_assert_msg(hcontains(msg, "nope-such-id"), "msg: %s", msg);
  ck_assert_msg(matches(when, "^" RFC3339 "$"), "time is not RFC 3339: %s", when);
  hctx_finish(c);
}
END_TEST

START_TEST(text_log_on_stderr_is_logrus_style) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "state", "nope-such-id", NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(matches(r.err, "^time=\"" RFC3339 "\" level=error msg=\"[^\n]*"
                               "nope-such-id[^\n]*\"$"),
                "stderr: %s", r.err);
  hres_free(&r);

  /* Explicit text format to a file: the same line, and the message alone
   * on stderr. */
  cleanup_free char *log = xasprintf("%s/hull.log", c->dir);
  r = hrun(c, "--log", log, "--log-format", "text", "state", "nope-such-id",
           NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert(hcontains(r.err, "nope-such-id"));
  hres_free(&r);
  cleanup_free char *text = hread_file(log);
  ck_assert_msg(text && matches(text, "^time=\"" RFC3339 "\" level=error "
                                      "msg=\"[^\n]*nope-such-id[^\n]*\"$"),
                "log file: %s", text);

  r = hrun(c, "--log-format", "yaml", "list", NULL);
  assert_fails_naming(&r, "yaml");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(debug_is_accepted) {
  struct hctx *c = hctx_new();
  hrun_expect(0, c, "--debug", "list");
  cleanup_free char *log = xasprintf("%s/hull.log", c->dir);
  struct hres r = hrun(c, "--debug", "--log", log, "--log-format", "json", "state",
           "nope-such-id", NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "does not exist"), "stderr: %s", r.err);
  hres_free(&r);
  /* Every line of a debug log is still one JSON object. */
  cleanup_free char *text = hread_file(log);
  ck_assert_ptr_nonnull(text);
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save))
    ck_assert_msg(hjson_valid(l), "debug log line is not JSON: %s", l);

  hctx_write_config(c, &(struct hconfig){0});
  hrun_expect(0, c, "--debug", "run", "--bundle", c->bundle, c->id);
  hctx_finish(c);
}
END_TEST

/* The init logs warnings (here an ambient capability it cannot raise, as
 * it is not inheritable) after it closed the runtime's other fds; they
 * must still reach the log file, and not land in whatever reused the log's
 * fd number (the exec fifo, so `start` failed under docker with the
 * warnings as its error). */
START_TEST(init_warnings_reach_the_log_file) {
  struct hctx *c = hctx_new();
  cleanup_free char *json = hconfig_json(&(struct hconfig){0});
  const char *caps = "\"capabilities\": {";
  char *at = strstr(json, caps);
  ck_assert_ptr_nonnull(at);
  at += strlen(caps);
  cleanup_free char *with_warning = xasprintf(
      "%.*s\"ambient\": [\"CAP_KILL\"], %s", (int)(at - json), json, at);
  hctx_write_config_raw(c, with_warning);
  cleanup_free char *log = xasprintf("%s/hull.log", c->dir);
  hrun_expect(0, c, "--log", log, "--log-format", "json", "create", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "--log", log, "--log-format", "json", "start", c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
  cleanup_free char *text = hread_file(log);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(hcontains(text, "cannot raise CAP_KILL"), "log: %s", text);
  hctx_finish(c);
}
END_TEST

static Suite *cli_suite(void) {
  Suite *s = suite_create("integration-cli");
  TCase *tc = harness_tcase("cli", 30);
  tcase_add_test(tc, version_names_hull);
  tcase_add_test(tc, help_lists_commands_and_flags);
  tcase_add_test(tc, unknown_command_and_flags_fail_naming_them);
  tcase_add_test(tc, systemd_cgroup_without_systemd_says_why);
  tcase_add_test(tc, kill_with_a_bad_signal_names_it);
  tcase_add_test(tc, pid_file_holds_the_state_pid);
  tcase_add_test(tc, preserve_fds_passes_fd_3);
  tcase_add_test(tc, fd_3_is_not_inherited_without_preserve_fds);
  tcase_add_test(tc, state_json_has_the_oci_members);
  suite_add_tcase(s, tc);
  TCase *logs = harness_tcase("logging", 30);
  tcase_add_test(logs, json_log_file_gets_one_error_line);
  tcase_add_test(logs, text_log_on_stderr_is_logrus_style);
  tcase_add_test(logs, debug_is_accepted);
  tcase_add_test(logs, init_warnings_reach_the_log_file);
  suite_add_tcase(s, logs);
  return s;
}
HULL_SUITE(cli_suite)
