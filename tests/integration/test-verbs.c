/* test-verbs.c — the verbs that work through a live container's cgroup:
 * pause/resume (a counter stands still while paused), update (new limits
 * seen in the kernel's files and by their effect), events (stats and an
 * OOM kill), ps, and their errors in runc's words.
 *
 * Works on v1/hybrid hosts and on a pure cgroup v2 host; a layout or
 * controller a test needs that is missing makes it say so and pass. The
 * container's cgroup is hull's default, /hull/<id>. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

static char *knob(enum layout l, const char *controller, const char *id,
                  const char *file) {
  cleanup_free char *path =
      l == LAYOUT_V1
          ? xasprintf("/sys/fs/cgroup/%s/hull/%s/%s", controller, id, file)
          : xasprintf("/sys/fs/cgroup/hull/%s/%s", id, file);
  char *text = hread_file(path);
  return text ? text : xstrdup("<unreadable>");
}

#define ck_knob(l, ctrl, id, file, want)                                     \
  do {                                                                       \
    cleanup_free char *got_ = knob(l, ctrl, id, file);                       \
    ck_assert_msg(strcmp(got_, want) == 0, "%s = \"%s\", want \"%s\"", file, \
                  got_, want);                                               \
  } while (0)

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0)
    ;
}


/* Runs a command that must fail with status 1 and `words` on stderr. */
#define ck_fails(words, c, ...)                                              \
  do {                                                                       \
    struct hres r_ = hrun(c, __VA_ARGS__, NULL);                             \
    ck_assert_hres(r_, 1);                                                   \
    ck_assert_msg(hcontains(r_.err, words), "stderr: %s, want %s", r_.err,   \
                  words);                                                    \
    hres_free(&r_);                                                          \
  } while (0)

/* create + start; the create's output file (which the container's stdout
 * keeps writing to) is returned when out_path is not NULL. */
static void create_and_start(struct hctx *c, const struct hconfig *cfg,
                             char **out_path) {
  hctx_write_config(c, cfg);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  if (out_path)
    *out_path = xstrdup(r.out_path);
  hres_free(&r);
  hrun_expect(0, c, "start", c->id);
}

static long counter_value(struct hctx *c) {
  cleanup_free char *path = xasprintf("%s/counter", c->rootfs);
  cleanup_free char *text = hread_file(path);
  return text ? atol(text) : -1;
}

static void ck_status(struct hctx *c, const char *want) {
  pid_t pid;
  cleanup_free char *got = hstate_status(c, c->id, &pid);
  ck_assert_msg(strcmp(got, want) == 0, "status %s, want %s", got, want);
}

/* ---- pause and resume -------------------------------------------------- */

START_TEST(pause_stops_progress_and_resume_restarts_it) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "freezer"), "no freezer");
  struct hctx *c = hctx_new();
  create_and_start(c, &(struct hconfig){.args = HELPER("counter", "/counter")},
                   NULL);
  cleanup_free char *counter = xasprintf("%s/counter", c->rootfs);
  ck_assert(hwait_file(counter, "\n", 5000));

  hrun_expect(0, c, "pause", c->id);
  ck_status(c, "paused");
  struct hres r = hrun(c, "list", NULL);
  ck_assert_msg(hcontains(r.out, "paused"), "list: %s", r.out);
  hres_free(&r);
  long before = counter_value(c);
  sleep_ms(200);
  long after = counter_value(c);
  ck_assert_msg(before == after, "counter moved from %ld to %ld while paused",
                before, after);
  ck_fails("container not running", c, "pause", c->id);

  hrun_expect(0, c, "resume", c->id);
  ck_status(c, "running");
  sleep_ms(200);
  long resumed = counter_value(c);
  ck_assert_msg(resumed > after, "counter stuck at %ld after resume", resumed);
  ck_fails("container not paused", c, "resume", c->id);

  /* delete --force takes a paused container too. */
  hrun_expect(0, c, "pause", c->id);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(kill_reaches_a_paused_container) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "freezer"), "no freezer");
  struct hctx *c = hctx_new();
  create_and_start(c, &(struct hconfig){.args = HELPER("counter", "/counter")},
                   NULL);
  hrun_expect(0, c, "pause", c->id);
  ck_fails("cannot delete container", c, "delete", c->id);
  hrun_expect(0, c, "kill", c->id, "KILL");
  ck_assert_msg(hwait_status(c, c->id, "stopped", 5000),
                "a paused container survived SIGKILL");
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* ---- update -------------------------------------------------------------- */

START_TEST(update_changes_limits_of_a_running_container) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "memory") && has_controller(l, "pids"),
              "no memory or pids controller");
  const char *memory_file = l == LAYOUT_V1 ? "memory.limit_in_bytes"
                                           : "memory.max";
  struct hctx *c = hctx_new();
  cleanup_free char *out_path = NULL;
  create_and_start(c, &(struct hconfig){.args = HELPER("await", "/go",
                                                       "forkbomb", "10")},
                   &out_path);
  hrun_expect(0, c, "update", "--memory", "64m", c->id);
  ck_knob(l, "memory", c->id, memory_file, "67108864\n");
  /* The next update starts from the saved resources: memory stays. */
  hrun_expect(0, c, "update", "--pids-limit", "5", c->id);
  ck_knob(l, "pids", c->id, "pids.max", "5\n");
  ck_knob(l, "memory", c->id, memory_file, "67108864\n");

  /* A linux.resources document; the other flags are ignored then. */
  cleanup_free char *doc = xasprintf("%s/resources.json", c->dir);
  hwrite_file(doc, "{\"memory\": {\"limit\": 50331648}}", 0644);
  hrun_expect(0, c, "update", "--resources", doc, "--pids-limit", "9", c->id);
  ck_knob(l, "memory", c->id, memory_file, "50331648\n");
  ck_knob(l, "pids", c->id, "pids.max", "5\n");

  struct hres r = hrun(c, "events", "--stats", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert(hjson_valid(r.out));
  static const char *const type[] = {"type", NULL};
  static const char *const usage[] = {"data", "memory", "usage", "usage", NULL};
  static const char *const current[] = {"data", "pids", "current", NULL};
  static const char *const limit[] = {"data", "pids", "limit", NULL};
  cleanup_free char *t = hjson_string(r.out, type);
  ck_assert_str_eq(t, "stats");
  ck_assert_msg(hjson_int(r.out, usage, 0) > 0, "memory usage: %s", r.out);
  ck_assert_msg(hjson_int(r.out, current, 0) >= 1, "pids current: %s", r.out);
  ck_assert_int_eq(hjson_int(r.out, limit, 0), 5);
  hres_free(&r);

  /* By effect: the helper is the first of the five pids. */
  cleanup_free char *go = xasprintf("%s/go", c->rootfs);
  hwrite_file(go, "", 0644);
  ck_assert_msg(hwait_status(c, c->id, "stopped", 5000), "forkbomb hangs");
  ck_assert(hwait_file(out_path, "forks=", 2000));
  cleanup_free char *out = hread_file(out_path);
  ck_assert_msg(hcontains(out, "forks=4\n"), "out: %s", out);

  ck_fails("container not running", c, "update", "--memory", "64m", c->id);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* ---- events ---------------------------------------------------------------- */

START_TEST(events_streams_an_oom_kill_and_ends_with_the_container) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "memory"), "no memory controller");
  bool swap = l == LAYOUT_V2 ||
              access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes",
                     F_OK) == 0;
  cleanup_free char *res = xasprintf(
      "\"resources\": {\"memory\": {\"limit\": 33554432%s}}",
      swap ? ", \"swap\": 33554432" : "");
  struct hctx *c = hctx_new();
  create_and_start(c, &(struct hconfig){.args = HELPER("await", "/go",
                                                       "memhog", "64"),
                                        .linux_extra = res},
                   NULL);
  char *args[] = {"events", "--interval", "100ms", c->id, NULL};
  struct hbg bg = hstart(c, args, -1, -1);
  /* The first stats line comes after the OOM watch is in place. */
  ck_assert(hwait_file(bg.out_path, "\"type\":\"stats\"", 5000));
  cleanup_free char *go = xasprintf("%s/go", c->rootfs);
  hwrite_file(go, "", 0644);
  struct hres r = hbg_wait(&bg, 10000);
  ck_assert_hres(r, 0);
  cleanup_free char *oom = xasprintf("{\"type\":\"oom\",\"id\":\"%s\"}", c->id);
  ck_assert_msg(hcontains(r.out, oom), "no OOM event; events: %.800s",
                r.out);
  hres_free(&r);
  ck_fails("is not running", c, "events", "--stats", c->id);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* ---- ps -------------------------------------------------------------------- */

START_TEST(ps_lists_the_init) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  struct hctx *c = hctx_new();
  create_and_start(c, &(struct hconfig){.args = HELPER("sleep", "30")}, NULL);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_int_gt(pid, 0);
  cleanup_free char *want = xasprintf("[%d]\n", (int)pid);
  struct hres r = hrun(c, "ps", "--format", "json", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);

  r = hrun(c, "ps", c->id, "-o", "pid,args", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *line = xasprintf("%d ", (int)pid);
  ck_assert_msg(hcontains(r.out, "PID") && hcontains(r.out, line) &&
                    hcontains(r.out, "hull-test-helper sleep 30"),
                "ps: %s", r.out);
  /* Only the container's processes: the header and the one line. */
  int lines = 0;
  for (const char *p = r.out; (p = strchr(p, '\n')); p++)
    lines++;
  ck_assert_msg(lines == 2, "ps: %s", r.out);
  hres_free(&r);
  ck_fails("invalid format option", c, "ps", "--format", "yaml", c->id);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(errors_in_runc_words) {
  struct hctx *c = hctx_new();
  ck_fails("container does not exist", c, "pause", "nope");
  ck_fails("container does not exist", c, "resume", "nope");
  ck_fails("container does not exist", c, "update", "--memory", "1m", "nope");
  ck_fails("container does not exist", c, "events", "--stats", "nope");
  ck_fails("container does not exist", c, "ps", "nope");

  /* A stopped container. */
  create_and_start(c, &(struct hconfig){.args = HELPER("exit", "0")}, NULL);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  ck_fails("container not running", c, "pause", c->id);
  ck_fails("container not paused", c, "resume", c->id);
  ck_fails("container not running", c, "update", "--pids-limit", "5", c->id);
  cleanup_free char *words = xasprintf("container with id %s is not running",
                                       c->id);
  ck_fails(words, c, "events", c->id);
  struct hres r = hrun(c, "ps", "-f", "json", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "null\n");
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);

  /* Intel RDT is not there to update. */
  create_and_start(c, &(struct hconfig){.args = HELPER("sleep", "30")}, NULL);
  ck_fails("Intel RDT/CAT: l3 cache schema is not enabled", c, "update",
           "--l3-cache-schema", "L3:0=f", c->id);
  ck_fails("Intel RDT/MBA: memory bandwidth schema is not enabled", c,
           "update", "--mem-bw-schema", "MB:0=70", c->id);
  ck_fails("container not paused", c, "resume", c->id);
  ck_fails("duration interval must be greater than 0", c, "events",
           "--interval", "0s", c->id);
  ck_fails("invalid value for memory: invalid size: '12q'", c, "update",
           "--memory", "12q", c->id);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

static Suite *verbs_suite(void) {
  Suite *s = suite_create("integration-verbs");
  TCase *tc = harness_tcase("verbs", 60);
  tcase_add_test(tc, pause_stops_progress_and_resume_restarts_it);
  tcase_add_test(tc, kill_reaches_a_paused_container);
  tcase_add_test(tc, update_changes_limits_of_a_running_container);
  tcase_add_test(tc, events_streams_an_oom_kill_and_ends_with_the_container);
  tcase_add_test(tc, ps_lists_the_init);
  tcase_add_test(tc, errors_in_runc_words);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(verbs_suite)
