/* test-concurrency.c — several hull processes on one container at the same
 * moment take turns on its lock: none crashes, each succeeds or says the
 * container does not exist, and nothing is left. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PER_VERB 3

struct racer {
  const char *verb;
  struct hbg bg;
};

/* Starts PER_VERB each of `delete --force`, `state` and `kill` on c->id,
 * all held at one gate and let go together. */
static void race(struct hctx *c, const char *kill_signal) {
  int gate[2];
  /* Close-on-exec: the runtimes do not keep the gate. */
  ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
  char *del[] = {"delete", "--force", c->id, NULL};
  char *state[] = {"state", c->id, NULL};
  char *kil[] = {"kill", c->id, (char *)kill_signal, NULL};
  struct racer racers[3 * PER_VERB];
  int n = 0;
  for (int i = 0; i < PER_VERB; i++) {
    racers[n].verb = "delete";
    racers[n++].bg = hstart(c, del, gate[0], -1);
    racers[n].verb = "state";
    racers[n++].bg = hstart(c, state, gate[0], -1);
    racers[n].verb = "kill";
    racers[n++].bg = hstart(c, kil, gate[0], -1);
  }
  /* One byte each: every child holds the write end too, so no EOF. */
  char go[3 * PER_VERB];
  memset(go, 'g', sizeof go);
  ck_assert_int_eq(write(gate[1], go, (size_t)n), n);
  close(gate[0]);
  close(gate[1]);

  for (int i = 0; i < n; i++) {
    struct hres r = hbg_wait(&racers[i].bg, 15000);
    const char *verb = racers[i].verb;
    ck_assert_msg(r.status == 0 || r.status == 1,
                  "%s: exit status %d (crash or hang)\nstderr: %s", verb,
                  r.status, r.err);
    if (strcmp(verb, "delete") == 0)
      /* As runc: --force on a container already gone succeeds, also when
       * it went while we waited for the lock. */
      ck_assert_msg(r.status == 0, "delete --force failed: %s", r.err);
    else if (r.status == 1)
      ck_assert_msg(hcontains(r.err, "does not exist") ||
                        (strcmp(verb, "kill") == 0 &&
                         hcontains(r.err, "not running")),
                    "%s failed unclearly: %s", verb, r.err);
    if (strcmp(verb, "state") == 0 && r.status == 0)
      ck_assert_msg(hjson_valid(r.out), "state printed broken JSON: %s", r.out);
    hres_free(&r);
  }

  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert(hcontains(r.err, "does not exist"));
  hres_free(&r);
}

START_TEST(racing_a_created_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  for (int round = 0; round < 3; round++) {
    hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
    race(c, "KILL");
  }
  hctx_finish(c);
}
END_TEST

START_TEST(racing_a_running_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30")});
  for (int round = 0; round < 3; round++) {
    hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
    /* USR1 is ignored by the helper as pid 1: kill keeps succeeding until
     * a delete wins. */
    race(c, "USR1");
  }
  hctx_finish(c);
}
END_TEST

START_TEST(racing_a_stopped_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  race(c, "KILL");
  hctx_finish(c);
}
END_TEST

static Suite *concurrency_suite(void) {
  Suite *s = suite_create("integration-concurrency");
  TCase *tc = harness_tcase("concurrency", 60);
  tcase_add_test(tc, racing_a_created_container);
  tcase_add_test(tc, racing_a_running_container);
  tcase_add_test(tc, racing_a_stopped_container);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(concurrency_suite)
