/* test-hangs.c — no command waits forever: a wait on a paused container
 * holds no lock that the resume needs, a frozen cgroup is refused before
 * anything is cloned into it, a state of any size crosses the sync socket,
 * and every wait that has no bound of its own ends on the caller's
 * SIGTERM with nothing left behind. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static bool has_freezer(void) {
  enum layout l = host_layout();
  return l != LAYOUT_OTHER && has_controller(l, "freezer");
}


/* SIGTERM to a hull in the background: it must be gone within 5 s, dead
 * of that signal, having said why. */
static void ck_ends_on_sigterm(struct hbg *b) {
  ck_assert_int_eq(kill(b->pid, SIGTERM), 0);
  struct hres r = hbg_wait(b, 5000);
  ck_assert_msg(r.status == 128 + SIGTERM,
                "after SIGTERM: exit status %d (-1: still waiting)\n"
                "stderr: %s", r.status, r.err);
  ck_assert_msg(hcontains(r.err, "interrupted by SIGTERM"), "%s", r.err);
  hres_free(&r);
}

static bool process_gone(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
  cleanup_free char *stat = hread_file(path);
  if (stat == NULL)
    return true;
  const char *p = strrchr(stat, ')');
  return p && p[1] == ' ' && p[2] == 'Z';
}

static bool wait_gone(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (process_gone(pid))
      return true;
    sleep_ms(20);
  }
  return process_gone(pid);
}

/* ---- 1. exec into a paused container ------------------------------------ */

/* As runc: exec --ignore-paused waits for the resume, and holds nothing
 * the resume needs meanwhile. */
START_TEST(exec_ignoring_pause_runs_once_resumed) {
  SKIP_UNLESS(has_freezer(), "no freezer (v1 hierarchy or cgroup.freeze)");
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  hrun_expect(0, c, "pause", c->id);
  char *args[] = {"exec", "--ignore-paused", c->id, "/bin/echo", "ok",
                  NULL};
  struct hbg b = hstart(c, args, -1, -1);
  sleep_ms(1000);
  /* state and resume take the container's lock: exec must not hold it. */
  struct hres st = hrun(c, "state", c->id, NULL);
  ck_assert_hres(st, 0);
  ck_assert_msg(hcontains(st.out, "\"status\": \"paused\""), "%s", st.out);
  hres_free(&st);
  hrun_expect(0, c, "resume", c->id);
  struct hres r = hbg_wait(&b, 5000);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "ok\n");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_into_a_paused_container_fails_as_runc) {
  SKIP_UNLESS(has_freezer(), "no freezer (v1 hierarchy or cgroup.freeze)");
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  hrun_expect(0, c, "pause", c->id);
  struct hres r = hrun(c, "exec", c->id, "/bin/echo", "ok", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "cannot exec in a paused container (use "
                                 "--ignore-paused to override)"),
                "%s", r.err);
  ck_assert_str_eq(r.out, "");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* Waiting on the frozen process, exec still ends on SIGTERM; what it
 * started dies with the resume and nothing of it is left. */
START_TEST(exec_waiting_on_a_paused_container_ends_on_sigterm) {
  SKIP_UNLESS(has_freezer(), "no freezer (v1 hierarchy or cgroup.freeze)");
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  hrun_expect(0, c, "pause", c->id);
  char *args[] = {"exec", "--ignore-paused", c->id, "/bin/echo", "ok",
                  NULL};
  struct hbg b = hstart(c, args, -1, -1);
  sleep_ms(1000);
  ck_ends_on_sigterm(&b);
  hrun_expect(0, c, "resume", c->id);
  /* Only the init is left in the container. */
  for (int waited = 0;; waited += 20) {
    struct hres r = hrun(c, "ps", "--format", "json", c->id, NULL);
    ck_assert_hres(r, 0);
    bool one = strchr(r.out, ',') == NULL;
    hres_free(&r);
    if (one)
      break;
    ck_assert_msg(waited < 5000, "the exec's process outlived the resume");
    sleep_ms(20);
  }
  hctx_delete_and_finish(c);
}
END_TEST

/* ---- 2. a cgroup that exists frozen ------------------------------------- */

/* The user's cgroup at cgroupsPath /<id>-user, frozen; its directory. */
static char *make_frozen_cgroup(struct hctx *c, enum layout l) {
  char *dir = l == LAYOUT_V1
                  ? xasprintf("/sys/fs/cgroup/freezer/%s-user", c->id)
                  : xasprintf("/sys/fs/cgroup/%s-user", c->id);
  ck_assert_msg(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
  cleanup_free char *knob = xasprintf(
      "%s/%s", dir, l == LAYOUT_V1 ? "freezer.state" : "cgroup.freeze");
  hwrite_file(knob, l == LAYOUT_V1 ? "FROZEN" : "1", 0644);
  return dir;
}

static void thaw_and_remove(const char *dir, enum layout l) {
  cleanup_free char *knob = xasprintf(
      "%s/%s", dir, l == LAYOUT_V1 ? "freezer.state" : "cgroup.freeze");
  hwrite_file(knob, l == LAYOUT_V1 ? "THAWED" : "0", 0644);
  ck_assert_msg(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
}

static void ck_refused_frozen(struct hctx *c, const char *verb,
                              const char *dir) {
  struct hres r = hrun(c, verb, "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "container's cgroup unexpectedly frozen"),
                "%s", r.err);
  hres_free(&r);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_msg(r.status == 1 && hcontains(r.err, "does not exist"),
                "%s left a container: %s", verb, r.out);
  hres_free(&r);
  struct stat st;
  ck_assert_msg(stat(dir, &st) == 0, "%s removed the user's cgroup %s", verb,
                dir);
}

START_TEST(create_refuses_a_frozen_cgroup) {
  enum layout l = host_layout();
  SKIP_UNLESS(has_freezer(), "no freezer (v1 hierarchy or cgroup.freeze)");
  struct hctx *c = hctx_new();
  cleanup_free char *dir = make_frozen_cgroup(c, l);
  cleanup_free char *extra = xasprintf("\"cgroupsPath\": \"/%s-user\"", c->id);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0"),
                                         .linux_extra = extra});
  ck_refused_frozen(c, "create", dir);
  ck_refused_frozen(c, "run", dir);
  thaw_and_remove(dir, l);
  hctx_finish(c); /* nothing else of <id>-user in any hierarchy */
}
END_TEST

/* A cgroup made below a frozen one starts frozen. */
START_TEST(create_refuses_a_cgroup_below_a_frozen_one) {
  enum layout l = host_layout();
  SKIP_UNLESS(has_freezer(), "no freezer (v1 hierarchy or cgroup.freeze)");
  struct hctx *c = hctx_new();
  cleanup_free char *dir = make_frozen_cgroup(c, l);
  cleanup_free char *extra =
      xasprintf("\"cgroupsPath\": \"/%s-user/ctr\"", c->id);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0"),
                                         .linux_extra = extra});
  ck_refused_frozen(c, "create", dir);
  thaw_and_remove(dir, l);
  hctx_finish(c);
}
END_TEST

/* ---- 3. a state larger than the sync socket's buffer -------------------- */

START_TEST(a_large_state_crosses_the_sync_socket) {
  struct hctx *c = hctx_new();
  /* ~300 KB of small annotations: each message of create's that carries
   * the state is larger than a socket buffer. */
  size_t cap = 400 * 1024, len = 0;
  char *ann = xmalloc(cap);
  len += (size_t)snprintf(ann, cap, "\"annotations\": {");
  int n = 0;
  while (len < 300 * 1024) {
    len += (size_t)snprintf(ann + len, cap - len, "%s\"hull.test/k%05d\": "
                            "\"v%05d\"", n ? ", " : "", n, n);
    n++;
  }
  snprintf(ann + len, cap - len, "}");
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = ann});
  free(ann);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *create_out = xstrdup(r.out_path);
  hres_free(&r);
  hrun_expect(0, c, "start", c->id);
  ck_assert_msg(hwait_file(create_out, "ready", 5000), "init never ready");
  r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *last = xasprintf("\"hull.test/k%05d\": \"v%05d\"", n - 1,
                                      n - 1);
  ck_assert_msg(hcontains(r.out, "\"hull.test/k00000\": \"v00000\"") &&
                    hcontains(r.out, last),
                "state lacks the annotations (%zu bytes)", strlen(r.out));
  ck_assert_msg(hcontains(r.out, "\"status\": \"running\""), "not running");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* ---- 4. waits end on the caller's SIGTERM -------------------------------- */

/* The init stopped (SIGSTOP) before start releases it: start ends on
 * SIGTERM, and what state says stays true. */
START_TEST(start_of_a_stopped_init_ends_on_sigterm) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *create_out = xstrdup(r.out_path);
  hres_free(&r);
  pid_t init = 0;
  cleanup_free char *status = hstate_status(c, c->id, &init);
  ck_assert_str_eq(status, "created");
  ck_assert_int_eq(kill(init, SIGSTOP), 0);
  char *args[] = {"start", c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  sleep_ms(500);
  ck_ends_on_sigterm(&b);
  /* A stopped init is no writer of the fifo: start never let it go, and
   * the container is still created; once it continues, start works. */
  ck_assert_int_eq(kill(init, SIGCONT), 0);
  cleanup_free char *after = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(after, "created");
  hrun_expect(0, c, "start", c->id);
  ck_assert_msg(hwait_file(create_out, "ready", 5000), "init never ran");
  cleanup_free char *running = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(running, "running");
  hctx_delete_and_finish(c);
}
END_TEST

/* A createRuntime hook with no timeout that never returns: create ends on
 * SIGTERM, the hook with it, and nothing of the container is left. */
/* `create` in the background with a `kind` hook that writes its pid to
 * marker and then sleeps forever; returns once the hook runs. */
static struct hbg create_stuck_in_hook(struct hctx *c, const char *kind,
                                       const char *marker) {
  cleanup_free char *hooks = xasprintf(
      "\"hooks\": {\"%s\": [{\"path\": \"/bin/sh\", \"args\": "
      "[\"sh\", \"-c\", \"echo $$ > %s; exec sleep 1000\"]}]}", kind,
      marker);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0"),
                                         .top_extra = hooks});
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(marker, "\n", 5000), "the %s hook never ran",
                kind);
  return b;
}

START_TEST(create_waiting_on_a_hook_ends_on_sigterm) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook.pid", c->dir);
  struct hbg b = create_stuck_in_hook(c, "createRuntime", marker);
  cleanup_free char *text = hread_file(marker);
  pid_t hook = (pid_t)atoi(text);
  ck_assert_int_gt(hook, 0);

  /* Meanwhile delete waits for the container's lock: SIGTERM ends that
   * wait too. */
  char *del[] = {"delete", "--force", c->id, NULL};
  struct hbg d = hstart(c, del, -1, -1);
  sleep_ms(300);
  ck_ends_on_sigterm(&d);

  ck_ends_on_sigterm(&b);
  ck_assert_msg(wait_gone(hook, 2000), "the hook %d outlived create",
                (int)hook);
  hctx_finish(c);
}
END_TEST

/* The init never reports ready (its createContainer hook, run inside the
 * container during setup, sleeps): create waits on the sync socket and
 * ends on SIGTERM, and the init, the hook and the state go. */
START_TEST(create_waiting_on_the_init_ends_on_sigterm) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook.pid", c->dir);
  struct hbg b = create_stuck_in_hook(c, "createContainer", marker);
  ck_ends_on_sigterm(&b);
  hctx_finish(c); /* no init, hook, cgroup or state */
}
END_TEST

/* NOTIFY_SOCKET set and the container never says READY=1: start waits
 * without the lock, and ends on SIGTERM. */
START_TEST(start_waiting_for_ready_ends_on_sigterm) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/systemd.sock", c->dir);
  setenv("NOTIFY_SOCKET", sock, 1);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait")});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *create_out = xstrdup(r.out_path);
  hres_free(&r);
  char *args[] = {"start", c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(create_out, "ready", 5000), "init never ran");
  /* Waiting, and not with the lock. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "running");
  ck_ends_on_sigterm(&b);
  unsetenv("NOTIFY_SOCKET");
  hctx_delete_and_finish(c);
}
END_TEST

/* hull holds SIGTERM and friends blocked while it works; the container's
 * processes must not inherit that mask (a blocked SIGTERM would make
 * `docker stop` wait for its SIGKILL). */
#define SIGBLK_ARGS "\"/bin/sh\", \"-c\", \"grep SigBlk /proc/self/status\""
#define NOTHING_BLOCKED "SigBlk:\t0000000000000000\n"

START_TEST(container_processes_block_no_signal) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.args = SIGBLK_ARGS});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, NOTHING_BLOCKED), "run: %s", r.out);
  hres_free(&r);
  hrun_waiter(c, NULL);
  r = hrun(c, "exec", c->id, "/bin/sh", "-c", "grep SigBlk /proc/self/status",
           NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, NOTHING_BLOCKED), "exec: %s", r.out);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

static Suite *hangs_suite(void) {
  Suite *s = suite_create("integration-hangs");
  TCase *tc = harness_tcase("hangs", 60);
  tcase_add_test(tc, exec_ignoring_pause_runs_once_resumed);
  tcase_add_test(tc, exec_into_a_paused_container_fails_as_runc);
  tcase_add_test(tc, exec_waiting_on_a_paused_container_ends_on_sigterm);
  tcase_add_test(tc, create_refuses_a_frozen_cgroup);
  tcase_add_test(tc, create_refuses_a_cgroup_below_a_frozen_one);
  tcase_add_test(tc, a_large_state_crosses_the_sync_socket);
  tcase_add_test(tc, start_of_a_stopped_init_ends_on_sigterm);
  tcase_add_test(tc, create_waiting_on_a_hook_ends_on_sigterm);
  tcase_add_test(tc, create_waiting_on_the_init_ends_on_sigterm);
  tcase_add_test(tc, start_waiting_for_ready_ends_on_sigterm);
  tcase_add_test(tc, container_processes_block_no_signal);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(hangs_suite)
