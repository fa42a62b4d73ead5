/* test-run-options.c — runc 1.1's run options and the global --rootless:
 * `run --keep` leaves the stopped container for `state` and `delete`,
 * `run --no-subreaper` leaves orphans to the host, and --rootless takes
 * true, false and auto. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(run_keep_leaves_the_container_stopped_until_delete) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/poststop-ran", c->dir);
  cleanup_free char *hooks = xasprintf(
      "\"hooks\": {\"poststop\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\","
      " \"-c\", \"echo done > %s\"]}]}", marker);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "3"),
                                         .top_extra = hooks});
  hrun_expect(3, c, "run", "--keep", "--bundle", c->bundle, c->id);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "stopped");
  ck_assert_msg(access(marker, F_OK) != 0, "poststop ran before delete");
  struct hres r = hrun(c, "list", "-q", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *line = xasprintf("%s\n", c->id);
  ck_assert_str_eq(r.out, line);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  ck_assert_msg(access(marker, F_OK) == 0, "poststop did not run at delete");
  hctx_finish(c);
}
END_TEST

/* create has neither flag (runc: "flag provided but not defined"). */
START_TEST(create_refuses_run_only_flags) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){0});
  const char *const flags[] = {"--keep", "--no-subreaper", "-d"};
  for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++) {
    struct hres r = hrun(c, "create", flags[i], "--bundle", c->bundle, c->id,
                         NULL);
    ck_assert_hres(r, 1);
    cleanup_free char *want =
        xasprintf("flag provided but not defined: %s", flags[i]);
    ck_assert_msg(hcontains(r.err, want), "%s", r.err);
    hres_free(&r);
  }
  hctx_finish(c);
}
END_TEST

/* The PPid of a process orphaned inside a container without its own pid
 * namespace, as `run` (with extra flags) reports it, and the pid of the
 * foreground hull. */
static long orphan_parent(struct hctx *c, const char *flag, pid_t *hull) {
  hctx_write_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"sh -c 'sleep 30 & echo $! >"
                     " /tmp/bg'; sleep 1; grep PPid /proc/$(cat /tmp/bg)/"
                     "status\"",
             .namespaces = "{\"type\": \"mount\"}, {\"type\": \"uts\"}"});
  char *args[] = {"run", (char *)flag, "--bundle", c->bundle, c->id, NULL};
  if (flag == NULL)
    memmove(&args[1], &args[2], 4 * sizeof(char *));
  struct hbg b = hstart(c, args, -1, -1);
  *hull = b.pid;
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  const char *p = strstr(r.out, "PPid:");
  ck_assert_msg(p != NULL, "%s", r.out);
  long ppid = strtol(p + 5, NULL, 10);
  hres_free(&r);
  return ppid;
}

START_TEST(run_is_a_subreaper_unless_told_not_to_be) {
  struct hctx *c = hctx_new();
  pid_t hull;
  long ppid = orphan_parent(c, NULL, &hull);
  ck_assert_msg(ppid == hull, "orphan's parent %ld, hull %d", ppid, (int)hull);
  ppid = orphan_parent(c, "--no-subreaper", &hull);
  ck_assert_msg(ppid != hull && ppid > 0, "orphan's parent %ld, hull %d",
                ppid, (int)hull);
  hctx_finish(c);
}
END_TEST

/* As runc as root: auto is not rootless, true runs as usual, and values
 * that are not Go booleans are refused. */
START_TEST(rootless_takes_true_false_and_auto) {
  SKIP_UNLESS(geteuid() == 0, "root");
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  const char *const values[] = {"auto", "true", "false", "AUTO", "1", "f"};
  for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
    struct hres r = hrun(c, "--rootless", values[i], "run", "--bundle",
                         c->bundle, c->id, NULL);
    ck_assert_msg(r.status == 0, "--rootless %s: %s", values[i], r.err);
    hres_free(&r);
  }
  struct hres r = hrun(c, "--rootless", "yes", "list", NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "--rootless") && hcontains(r.err, "yes"),
                "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *run_options_suite(void) {
  Suite *s = suite_create("integration-run-options");
  TCase *tc = harness_tcase("run-options", 40);
  tcase_add_test(tc, run_keep_leaves_the_container_stopped_until_delete);
  tcase_add_test(tc, create_refuses_run_only_flags);
  tcase_add_test(tc, run_is_a_subreaper_unless_told_not_to_be);
  tcase_add_test(tc, rootless_takes_true_false_and_auto);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(run_options_suite)
