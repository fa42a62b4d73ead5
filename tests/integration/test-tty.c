/* test-tty.c — a foreground terminal without --console-socket: `run` and
 * `exec -t` proxy the container's pty to their own stdio, as runc does.
 * Some tests run hull on a pty the test opens (the way a user's shell
 * would), others with plain files (the way `script` or a CI job would). */
#include "tests/integration/harness.h"
#include "tests/integration/console-receiver.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* hull running with a pty of the test's as its controlling terminal,
 * stdin and stdout; the test types on master and reads what hull shows. */
struct on_pty {
  pid_t pid;
  int master;
  int slave;                 /* kept open: its modes are checked after */
  char *err_path;
};

static void open_pty(struct on_pty *p, unsigned short rows,
                     unsigned short cols) {
  p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ck_assert_msg(p->master >= 0, "posix_openpt: %s", strerror(errno));
  ck_assert_int_eq(grantpt(p->master), 0);
  ck_assert_int_eq(unlockpt(p->master), 0);
  p->slave = open(ptsname(p->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ck_assert_msg(p->slave >= 0, "open pty slave: %s", strerror(errno));
  struct winsize ws = {.ws_row = rows, .ws_col = cols};
  ck_assert_int_eq(ioctl(p->master, TIOCSWINSZ, &ws), 0);
}

static struct on_pty start_on_pty(struct hctx *c, char *const *args,
                                  unsigned short rows, unsigned short cols) {
  struct on_pty p = {0};
  open_pty(&p, rows, cols);
  p.err_path = xasprintf("%s/tty-err.%d", c->dir, ++c->n_runs);
  const char *hull = getenv("HULL") && *getenv("HULL") ? getenv("HULL")
                                                       : "./hull";
  size_t n = strv_len(args);
  char **argv = xzalloc((n + 4) * sizeof(char *));
  argv[0] = (char *)hull;
  argv[1] = "--root";
  argv[2] = c->root;
  memcpy(argv + 3, args, n * sizeof(char *));
  p.pid = fork();
  ck_assert_int_ge(p.pid, 0);
  if (p.pid == 0) {
    int errfd = open(p.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (setsid() < 0 || ioctl(p.slave, TIOCSCTTY, 0) < 0 || errfd < 0 ||
        dup2(p.slave, 0) < 0 || dup2(p.slave, 1) < 0 || dup2(errfd, 2) < 0)
      _exit(126);
    execv(hull, argv);
    _exit(127);
  }
  free(argv);
  return p;
}

/* Its exit status, or -1 when it outlived timeout_ms (then it is killed). */
static int wait_on_pty(struct on_pty *p, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    int status;
    if (waitpid(p->pid, &status, WNOHANG) == p->pid)
      return WIFEXITED(status) ? WEXITSTATUS(status)
                               : 128 + WTERMSIG(status);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(p->pid, SIGKILL);
  waitpid(p->pid, NULL, 0);
  return -1;
}

static void on_pty_free(struct on_pty *p) {
  close(p->master);
  close(p->slave);
  free(p->err_path);
}

static bool is_raw(int tty) {
  struct termios t;
  ck_assert_int_eq(tcgetattr(tty, &t), 0);
  return (t.c_lflag & (ICANON | ECHO)) == 0;
}

/* ---- run ------------------------------------------------------------------ */

START_TEST(run_terminal_without_tty_still_proxies) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
                                     .args = HELPER("isatty", "1"),
                                     .terminal = true});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "yes"), "the process's stdout is no tty: "
                "`%s`", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(run_terminal_propagates_exit_code) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
                                     .args = HELPER("exit", "7"),
                                     .terminal = true});
  ck_assert_hres(r, 7);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Without a tty on hull's stdin nothing overrides process.consoleSize. */
START_TEST(run_terminal_applies_console_size) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/stty\", \"size\"",
             .terminal = true,
             .process_extra = "\"consoleSize\": {\"height\": 33, "
                              "\"width\": 101}"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "33 101"), "stty size: `%s`", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* On a pty: the caller's terminal is raw while the process runs and
 * restored after, typed input reaches it and its exit code comes back. */
START_TEST(run_on_a_tty_proxies_input_and_restores_the_terminal) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"[ -t 0 ] && "
                                   "echo ready; read l; echo got-$l; "
                                   "exit 3\"",
                           .terminal = true});
  char *args[] = {"run", "--bundle", c->bundle, c->id, NULL};
  struct on_pty p = start_on_pty(c, args, 24, 80);
  cleanup_free char *ready = hconsole_read_until(p.master, "ready", 10000);
  ck_assert_msg(hcontains(ready, "ready"), "read: `%s`", ready);
  ck_assert_msg(is_raw(p.slave), "the caller's terminal is not raw");
  ck_assert_int_eq(write(p.master, "ping\r", 5), 5);
  cleanup_free char *seen = hconsole_read_until(p.master, "got-ping", 5000);
  ck_assert_msg(hcontains(seen, "got-ping"), "read: `%s`", seen);
  ck_assert_int_eq(wait_on_pty(&p, 10000), 3);
  ck_assert_msg(!is_raw(p.slave), "the caller's terminal stayed raw");
  on_pty_free(&p);
  hctx_finish(c);
}
END_TEST

/* The caller's window size reaches the pty, at start and on SIGWINCH. */
START_TEST(run_on_a_tty_follows_the_window_size) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"stty size; "
                                   "read l; stty size\"",
                           .terminal = true});
  char *args[] = {"run", "--bundle", c->bundle, c->id, NULL};
  struct on_pty p = start_on_pty(c, args, 40, 120);
  cleanup_free char *first = hconsole_read_until(p.master, "40 120", 10000);
  ck_assert_msg(hcontains(first, "40 120"), "read: `%s`", first);
  /* The kernel sends SIGWINCH to hull, the pty's foreground process. */
  struct winsize ws = {.ws_row = 50, .ws_col = 130};
  ck_assert_int_eq(ioctl(p.master, TIOCSWINSZ, &ws), 0);
  /* Give hull the signal before the shell asks again. */
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL);
  ck_assert_int_eq(write(p.master, "\r", 1), 1);
  cleanup_free char *second = hconsole_read_until(p.master, "50 130", 5000);
  ck_assert_msg(hcontains(second, "50 130"), "read: `%s`", second);
  ck_assert_int_eq(wait_on_pty(&p, 10000), 0);
  on_pty_free(&p);
  hctx_finish(c);
}
END_TEST

/* Output through the pty ends its line with \r\n. */
static bool owner_is(const char *out, const char *want) {
  size_t n = strlen(want);
  return strncmp(out, want, n) == 0 && (out[n] == '\r' || out[n] == '\n');
}

/* The owner of the process's terminal, as uid:gid. */
#define TTY_OWNER "\"/bin/sh\", \"-c\", \"stat -L -c %u:%g /proc/self/fd/0\""

/* A non-root process owns its terminal, so it can use it: its uid and gid
 * (runc 1.1 keeps devpts's group). */
START_TEST(run_terminal_is_owned_by_the_user) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
                                     .args = TTY_OWNER,
                                     .user = "\"uid\": 1000, \"gid\": 100",
                                     .terminal = true});
  ck_assert_hres(r, 0);
  ck_assert_msg(owner_is(r.out, "1000:100"), "terminal owner: `%s`", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* ---- exec -t -------------------------------------------------------------- */


START_TEST(exec_tty_without_tty_still_proxies) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", "-t", c->id, "/bin/hull-test-helper",
                       "isatty", "1", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "yes"), "stdout: `%s`", r.out);
  hres_free(&r);
  r = hrun(c, "exec", "-t", c->id, "/bin/hull-test-helper", "exit", "9",
           NULL);
  ck_assert_hres(r, 9);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_tty_is_owned_by_the_user) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", "-t", "--user", "1000:100", c->id,
                       "/bin/sh", "-c", "stat -L -c %u:%g /proc/self/fd/0",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(owner_is(r.out, "1000:100"), "terminal owner: `%s`", r.out);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_tty_on_a_tty_proxies_input) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  char *args[] = {"exec", "-t", c->id, "/bin/sh", "-c",
                  "[ -t 0 ] && echo ready; read l; echo got-$l; exit 4",
                  NULL};
  struct on_pty p = start_on_pty(c, args, 24, 80);
  cleanup_free char *ready = hconsole_read_until(p.master, "ready", 10000);
  ck_assert_msg(hcontains(ready, "ready"), "read: `%s`", ready);
  ck_assert_int_eq(write(p.master, "pong\r", 5), 5);
  cleanup_free char *seen = hconsole_read_until(p.master, "got-pong", 5000);
  ck_assert_msg(hcontains(seen, "got-pong"), "read: `%s`", seen);
  ck_assert_int_eq(wait_on_pty(&p, 10000), 4);
  ck_assert_msg(!is_raw(p.slave), "the caller's terminal stayed raw");
  on_pty_free(&p);
  hctx_delete_and_finish(c);
}
END_TEST

static Suite *tty_suite(void) {
  Suite *s = suite_create("integration-tty");
  TCase *tc = harness_tcase("tty", 30);
  tcase_add_test(tc, run_terminal_without_tty_still_proxies);
  tcase_add_test(tc, run_terminal_propagates_exit_code);
  tcase_add_test(tc, run_terminal_applies_console_size);
  tcase_add_test(tc, run_on_a_tty_proxies_input_and_restores_the_terminal);
  tcase_add_test(tc, run_on_a_tty_follows_the_window_size);
  tcase_add_test(tc, exec_tty_without_tty_still_proxies);
  tcase_add_test(tc, exec_tty_is_owned_by_the_user);
  tcase_add_test(tc, run_terminal_is_owned_by_the_user);
  tcase_add_test(tc, exec_tty_on_a_tty_proxies_input);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(tty_suite)
