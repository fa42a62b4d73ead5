/* test-process.c — the container process as config.json describes it: cwd,
 * env, user and groups, umask, a read-only root, stdio, inherited fds. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <string.h>

START_TEST(cwd_is_set) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("cwd"),
                                                   .cwd = "/tmp"});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "/tmp\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(cwd_is_created_when_missing) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("cwd"),
                                                   .cwd = "/work/here"});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "/work/here\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(env_is_exactly_the_config) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("env"),
                           .env = "\"GREETING=hello world\", \"EMPTY=\""});
  ck_assert_hres(r, 0);
  ck_assert(hcontains(r.out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                             "/usr/bin:/sbin:/bin\n"));
  ck_assert(hcontains(r.out, "TERM=xterm\n"));
  ck_assert(hcontains(r.out, "GREETING=hello world\n"));
  ck_assert(hcontains(r.out, "EMPTY=\n"));
  /* Nothing of the runtime's own environment leaks in (HOME is allowed:
   * runc adds it from /etc/passwd when the config has none). */
  ck_assert_msg(!hcontains(r.out, "HULL_TEST_ROOTFS"), "env leaked: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(user_groups_and_umask) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("id"),
                           .user = "\"uid\": 1000, \"gid\": 1000,"
                                   " \"additionalGids\": [10, 20],"
                                   " \"umask\": 23"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=1000\neuid=1000\ngid=1000\negid=1000\n"),
                "id: %s", r.out);
  ck_assert_msg(hcontains(r.out, "groups=10,20\n"), "id: %s", r.out);
  ck_assert_msg(hcontains(r.out, "umask=0027\n"), "id: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(default_umask_is_0022) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("id")});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=0\n"), "id: %s", r.out);
  ck_assert_msg(hcontains(r.out, "umask=0022\n"), "id: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(readonly_root_refuses_writes) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("touch", "/x"),
                                                   .readonly_root = true});
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "stderr: %s", r.err);
  hres_free(&r);

  /* Mounts on top of a read-only root stay writable. */
  hctx_finish(c);
  c = hctx_new();
  r = hrun_config(c, &(struct hconfig){.args = HELPER("touch", "/dev/shm/x"),
                                       .readonly_root = true});
  ck_assert_hres(r, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(capabilities_and_no_new_privs) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("status")});
  ck_assert_hres(r, 0);
  /* CAP_AUDIT_WRITE(29), CAP_KILL(5), CAP_NET_BIND_SERVICE(10). */
  ck_assert_msg(hcontains(r.out, "CapEff:\t0000000020000420\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "CapBnd:\t0000000020000420\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "NoNewPrivs:\t1\n"), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(stdio_is_not_a_terminal_and_no_fds_leak) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper"
                                   " isatty 1; exec /bin/hull-test-helper fds\""});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "no\n"), "%s", r.out);
  /* After "no\n" nothing: fds is empty. */
  ck_assert_msg(strcmp(r.out, "no\n") == 0, "unexpected fds: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(container_process_is_pid_1) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("pid")});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "pid=1\nppid=0\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *process_suite(void) {
  Suite *s = suite_create("integration-process");
  TCase *tc = harness_tcase("process", 30);
  tcase_add_test(tc, cwd_is_set);
  tcase_add_test(tc, cwd_is_created_when_missing);
  tcase_add_test(tc, env_is_exactly_the_config);
  tcase_add_test(tc, user_groups_and_umask);
  tcase_add_test(tc, default_umask_is_0022);
  tcase_add_test(tc, readonly_root_refuses_writes);
  tcase_add_test(tc, capabilities_and_no_new_privs);
  tcase_add_test(tc, stdio_is_not_a_terminal_and_no_fds_leak);
  tcase_add_test(tc, container_process_is_pid_1);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(process_suite)
