/* test_hooks.c — hook_run and hooks_run against small /bin/sh hooks written
 * into a temporary directory. */
#include "hooks/hooks.h"
#include "tests/suite.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-hooks-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(tmpdir, &err);
  hull_error_release(&err);
}

/* Writes an executable /bin/sh script named `name`; returns its path. */
static char *script(const char *name, const char *body) {
  char *path = xasprintf("%s/%s", tmpdir, name);
  char *text = xasprintf("#!/bin/sh\n%s\n", body);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0755, &err), 0);
  free(text);
  return path;
}

static char *slurp(const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", tmpdir, name);
  char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(read_file(path, &text, NULL, &err) == 0, "%s",
                err ? err->msg : "");
  return text;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

static const char *STATE = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\","
                           "\"status\":\"creating\",\"pid\":42}";

START_TEST(hook_gets_state_on_stdin) {
  cleanup_free char *body = xasprintf("cat > %s/stdin", tmpdir);
  struct spec_hook hook = {.path = script("h", body)};
  hull_error_t err = NULL;
  ck_assert_msg(hook_run("prestart", &hook, STATE, &err) == 0, "%s",
                err ? err->msg : "");
  cleanup_free char *got = slurp("stdin");
  ck_assert_str_eq(got, STATE);
  free(hook.path);
}
END_TEST

START_TEST(hook_gets_args_and_env) {
  cleanup_free char *body =
      xasprintf("echo \"$0|$1|$2|$FOO|$HOME\" > %s/out", tmpdir);
  char *path = script("h", body);
  char *args[] = {"argv0-name", "one", "two", NULL};
  char *env[] = {"FOO=bar", NULL};
  struct spec_hook hook = {.path = path, .args = args, .env = env};
  hull_error_t err = NULL;
  ck_assert_msg(hook_run("createRuntime", &hook, STATE, &err) == 0, "%s",
                err ? err->msg : "");
  cleanup_free char *got = slurp("out");
  /* $0 is the script path for sh; args[1..] arrive; only env is passed. */
  cleanup_free char *want = xasprintf("%s|one|two|bar|\n", path);
  ck_assert_str_eq(got, want);
  free(path);
}
END_TEST

START_TEST(hook_without_args_or_env) {
  cleanup_free char *body = xasprintf("env > %s/env; echo \"$#\" > %s/argc",
                                      tmpdir, tmpdir);
  struct spec_hook hook = {.path = script("h", body)};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("poststart", &hook, "", &err), 0);
  cleanup_free char *argc = slurp("argc");
  ck_assert_str_eq(argc, "0\n");
  /* sh itself adds PWD (and maybe SHLVL, _); nothing of ours leaks in. */
  cleanup_free char *env = slurp("env");
  ck_assert_ptr_null(strstr(env, "HOME="));
  free(hook.path);
}
END_TEST

START_TEST(hook_sees_only_std_fds) {
  cleanup_free char *body = xasprintf("ls /proc/self/fd > %s/fds", tmpdir);
  struct spec_hook hook = {.path = script("h", body)};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("prestart", &hook, STATE, &err), 0);
  cleanup_free char *fds = slurp("fds");
  /* 0, 1, 2, and the fd `ls` opened to read /proc/self/fd. */
  ck_assert_str_eq(fds, "0\n1\n2\n3\n");
  free(hook.path);
}
END_TEST

START_TEST(hook_exit_status_names_stderr) {
  struct spec_hook hook = {
      .path = script("h", "echo 'bad things' >&2; echo more >&2; exit 3")};
  hull_error_t err = NULL;
  int fds_before = count_fds();
  ck_assert_int_eq(hook_run("prestart", &hook, STATE, &err), -1);
  ck_assert_int_eq(count_fds(), fds_before);   /* no pipe or pidfd leaks */
  cleanup_free char *want = xasprintf(
      "prestart hook `%s`: exit status 3, stderr: bad things", hook.path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  free(hook.path);
}
END_TEST

START_TEST(hook_killed_by_signal) {
  struct spec_hook hook = {.path = script("h", "kill -TERM $$")};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("poststop", &hook, STATE, &err), -1);
  cleanup_free char *want = xasprintf(
      "poststop hook `%s`: signal: terminated", hook.path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  free(hook.path);
}
END_TEST

/* Go's names keep an acronym's capitals: "I/O possible", not "i/O". */
START_TEST(hook_killed_by_signal_named_as_go_does) {
  struct spec_hook hook = {.path = script("h", "kill -IO $$")};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("poststop", &hook, STATE, &err), -1);
  cleanup_free char *want = xasprintf(
      "poststop hook `%s`: signal: I/O possible", hook.path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  free(hook.path);
}
END_TEST

START_TEST(hook_timeout_kills_it) {
  struct spec_hook hook = {.path = script("h", "exec sleep 10"),
                           .timeout = {.set = true, .v = 1}};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  hull_error_t err = NULL;
  int fds_before = count_fds();
  ck_assert_int_eq(hook_run("prestart", &hook, STATE, &err), -1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ck_assert_int_eq(count_fds(), fds_before);
  double took = (double)(t1.tv_sec - t0.tv_sec) +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ck_assert_msg(took >= 0.9 && took < 2.0, "took %.2f s", took);
  cleanup_free char *want =
      xasprintf("prestart hook `%s`: hook ran past specified "
                "timeout of 1.0s", hook.path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  free(hook.path);
}
END_TEST

START_TEST(hook_ignoring_large_stdin) {
  /* More state than a pipe holds, to a hook that never reads it: hull must
   * neither block nor die of SIGPIPE. */
  size_t n = 1 << 20;
  cleanup_free char *big = xmalloc(n + 1);
  memset(big, 'x', n);
  big[n] = '\0';
  struct spec_hook hook = {.path = script("h", "exit 0")};
  hull_error_t err = NULL;
  ck_assert_msg(hook_run("prestart", &hook, big, &err) == 0, "%s",
                err ? err->msg : "");
  free(hook.path);
}
END_TEST

START_TEST(hook_missing_path) {
  cleanup_free char *path = xasprintf("%s/nope", tmpdir);
  struct spec_hook hook = {.path = path};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("prestart", &hook, STATE, &err), -1);
  cleanup_free char *want = xasprintf(
      "prestart hook `%s`: exec: No such file or directory", path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
}
END_TEST

START_TEST(hook_not_executable) {
  char *path = script("h", "exit 0");
  chmod(path, 0644);
  struct spec_hook hook = {.path = path};
  hull_error_t err = NULL;
  ck_assert_int_eq(hook_run("prestart", &hook, STATE, &err), -1);
  cleanup_free char *want =
      xasprintf("prestart hook `%s`: exec: Permission denied", path);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  free(path);
}
END_TEST

START_TEST(hooks_stop_at_first_failure) {
  cleanup_free char *b1 = xasprintf("echo 1 >> %s/log", tmpdir);
  cleanup_free char *b2 = xasprintf("echo 2 >> %s/log; exit 1", tmpdir);
  cleanup_free char *b3 = xasprintf("echo 3 >> %s/log", tmpdir);
  struct spec_hook items[] = {{.path = script("h1", b1)},
                              {.path = script("h2", b2)},
                              {.path = script("h3", b3)}};
  struct spec_hook_list list = {.items = items, .len = 3};
  hull_error_t err = NULL;
  ck_assert_int_eq(hooks_run("createContainer", &list, STATE, &err), -1);
  ck_assert_ptr_nonnull(strstr(err->msg, "h2`: exit status 1"));
  ck_assert_msg(strncmp(err->msg, "error running hook #1: createContainer hook `",
                        45) == 0, "%s", err->msg);
  hull_error_release(&err);
  cleanup_free char *log = slurp("log");
  ck_assert_str_eq(log, "1\n2\n");

  /* The warning flavour runs them all. */
  hooks_run_warn("poststop", &list, STATE);
  cleanup_free char *log2 = slurp("log");
  ck_assert_str_eq(log2, "1\n2\n1\n2\n3\n");
  for (int i = 0; i < 3; i++)
    free(items[i].path);
}
END_TEST

static Suite *hooks_suite(void) {
  Suite *s = suite_create("hooks");
  TCase *tc = tcase_create("run");
  /* Unchecked: one directory for the test case, removed even when a test
   * fails. Tests run one after another; each rewrites its scripts and reads
   * only output files of its own name. */
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 10);
  tcase_add_test(tc, hook_gets_state_on_stdin);
  tcase_add_test(tc, hook_gets_args_and_env);
  tcase_add_test(tc, hook_without_args_or_env);
  tcase_add_test(tc, hook_sees_only_std_fds);
  tcase_add_test(tc, hook_exit_status_names_stderr);
  tcase_add_test(tc, hook_killed_by_signal);
  tcase_add_test(tc, hook_killed_by_signal_named_as_go_does);
  tcase_add_test(tc, hook_timeout_kills_it);
  tcase_add_test(tc, hook_ignoring_large_stdin);
  tcase_add_test(tc, hook_missing_path);
  tcase_add_test(tc, hook_not_executable);
  tcase_add_test(tc, hooks_stop_at_first_failure);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(hooks_suite)
