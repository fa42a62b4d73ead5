/* test-notify.c — what hull passes through from systemd (or an engine in
 * its sd-notify mode), as runc does: socket activation (LISTEN_FDS) and
 * readiness (NOTIFY_SOCKET). The test plays systemd: it hands hull the
 * sockets and listens where READY=1 must arrive. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- LISTEN_FDS ----------------------------------------------------------- */

/* `hull run` with fds 3 and 4 the two sockets, LISTEN_FDS=2, and LISTEN_PID
 * hull's pid (or another one when pid_matches is false), as systemd starts
 * a socket-activated service. Returns the exit status; *out its stdout. */
static int run_activated(struct hctx *c, bool pid_matches, char **out) {
  int pair_a[2], pair_b[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair_a), 0);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair_b), 0);
  cleanup_free char *out_path = xasprintf("%s/activated.out", c->dir);
  const char *hull = getenv("HULL") && *getenv("HULL") ? getenv("HULL")
                                                       : "./hull";
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* Out of the way of 3 and 4 first, then into place. */
    int a = fcntl(pair_a[0], F_DUPFD, 100), b = fcntl(pair_b[0], F_DUPFD, 100);
    int in = open("/dev/null", O_RDONLY);
    int outfd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (a < 0 || b < 0 || in < 0 || outfd < 0 || dup2(in, 0) < 0 ||
        dup2(outfd, 1) < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
      _exit(126);
    char listen_pid[32];
    snprintf(listen_pid, sizeof listen_pid, "%d",
             pid_matches ? (int)getpid() : 1);
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_PID", listen_pid, 1);
    execl(hull, hull, "--root", c->root, "run", "--bundle", c->bundle, c->id,
          (char *)NULL);
    _exit(127);
  }
  close(pair_a[0]);
  close(pair_a[1]);
  close(pair_b[0]);
  close(pair_b[1]);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  *out = hread_file(out_path);
  ck_assert_ptr_nonnull(*out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(listen_fds_reach_the_container) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-"
                                   "helper fds; /bin/hull-test-helper env\""});
  cleanup_free char *out = NULL;
  ck_assert_int_eq(run_activated(c, true, &out), 0);
  ck_assert_msg(hcontains(out, "3 socket:") && hcontains(out, "4 socket:"),
                "fds 3 and 4 are not the sockets: `%s`", out);
  ck_assert_msg(hcontains(out, "LISTEN_FDS=2\n"), "env: `%s`", out);
  ck_assert_msg(hcontains(out, "LISTEN_PID=1\n"), "env: `%s`", out);
  hctx_finish(c);
}
END_TEST

/* LISTEN_PID names another process: the fds are not hull's to pass on. */
START_TEST(listen_fds_for_another_pid_are_ignored) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-"
                                   "helper fds; /bin/hull-test-helper env\""});
  cleanup_free char *out = NULL;
  ck_assert_int_eq(run_activated(c, false, &out), 0);
  ck_assert_msg(!hcontains(out, "3 socket:"), "fd 3 leaked in: `%s`", out);
  ck_assert_msg(!hcontains(out, "LISTEN_FDS=2\n"), "env: `%s`", out);
  hctx_finish(c);
}
END_TEST

/* ---- NOTIFY_SOCKET -------------------------------------------------------- */

/* systemd's end: a datagram socket at c->dir/systemd.sock, named in our
 * environment (hull inherits it). */
static int listen_as_systemd(struct hctx *c) {
  cleanup_free char *path = xasprintf("%s/systemd.sock", c->dir);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(path), sizeof addr.sun_path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_msg(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0,
                "bind %s: %s", path, strerror(errno));
  setenv("NOTIFY_SOCKET", path, 1);
  return fd;
}

/* The next datagram within timeout_ms ("" when none came; free it). */
static char *receive(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  char buf[256] = "";
  if (poll(&p, 1, timeout_ms) == 1) {
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
  }
  return xstrdup(buf);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(start_returns_after_ready_and_forwards_it) {
  struct hctx *c = hctx_new();
  cleanup_close int systemd = listen_as_systemd(c);
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"sleep 1; "
                                   "/bin/hull-test-helper notify READY=1; "
                                   "exec sleep 30\""});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  long long before = now_ms();
  struct hres r = hrun(c, "start", c->id, NULL);
  long long took = now_ms() - before;
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(took >= 800, "start returned after %lld ms, before READY=1",
                took);
  /* Already there when start returns. */
  cleanup_free char *ready = receive(systemd, 0);
  ck_assert_str_eq(ready, "READY=1\n");
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "running");
  cleanup_free char *main_pid = receive(systemd, 1000);
  cleanup_free char *want = xasprintf("MAINPID=%d\n", (int)pid);
  ck_assert_str_eq(main_pid, want);
  hrun_expect(0, c, "delete", "--force", c->id);
  unsetenv("NOTIFY_SOCKET");
  hctx_finish(c);
}
END_TEST

/* The container sees NOTIFY_SOCKET at runc's path; a process that exits
 * without READY=1 does not keep `run` waiting, and nothing is sent. */
START_TEST(notify_socket_is_mounted_at_run_notify) {
  struct hctx *c = hctx_new();
  cleanup_close int systemd = listen_as_systemd(c);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper env; "
                     "/bin/hull-test-helper stat /run/notify/notify.sock\""});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "NOTIFY_SOCKET=/run/notify/notify.sock\n"),
                "env: `%s`", r.out);
  hres_free(&r);
  cleanup_free char *nothing = receive(systemd, 0);
  ck_assert_str_eq(nothing, "");
  unsetenv("NOTIFY_SOCKET");
  hctx_finish(c);
}
END_TEST

static Suite *notify_suite(void) {
  Suite *s = suite_create("integration-notify");
  TCase *tc = harness_tcase("notify", 30);
  tcase_add_test(tc, listen_fds_reach_the_container);
  tcase_add_test(tc, listen_fds_for_another_pid_are_ignored);
  tcase_add_test(tc, start_returns_after_ready_and_forwards_it);
  tcase_add_test(tc, notify_socket_is_mounted_at_run_notify);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(notify_suite)
