/* test-console.c — process.terminal with --console-socket, the way an
 * engine uses it: it listens on a unix socket, `create` sends it the pty
 * master (SCM_RIGHTS), and what the container writes comes out there. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(path), sizeof addr.sun_path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_msg(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0,
                "bind %s: %s", path, strerror(errno));
  ck_assert_int_eq(listen(fd, 4), 0);
  return fd;
}

static bool readable_within(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;
  while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
    ;
  return n > 0;
}

/* Accepts one connection and returns the fd it carries, or -1. */
static int receive_fd(int listener) {
  if (!readable_within(listener, 5000))
    return -1;
  cleanup_close int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0 || !readable_within(conn, 5000))
    return -1;
  char name[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control,
                       .msg_controllen = sizeof control};
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
      cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

/* Reads from the pty master until `needle` shows up, the other side is
 * closed (EIO) or timeout_ms pass; returns what was read. */
static char *read_until(int master, const char *needle, int timeout_ms) {
  size_t len = 0, cap = 256;
  char *buf = xmalloc(cap);
  buf[0] = '\0';
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                   (now.tv_nsec - start.tv_nsec) / 1000000;
    if (strstr(buf, needle) || elapsed > timeout_ms ||
        !readable_within(master, (int)(timeout_ms - elapsed)))
      return buf;
    if (len + 128 > cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(master, buf + len, cap - len - 1);
    if (n <= 0)
      return buf;
    len += (size_t)n;
    buf[len] = '\0';
  }
}

START_TEST(console_socket_gets_the_pty_master) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = listen_on(sock);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("isatty", "1"),
                                          .terminal = true});
  char *args[] = {"create", "--console-socket", sock, "--bundle", c->bundle,
                  c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = receive_fd(listener);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  unsigned int pty_number;
  ck_assert_msg(ioctl(master, TIOCGPTN, &pty_number) == 0,
                "what arrived is not a pty master: %s", strerror(errno));

  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  r = hrun(c, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *seen = read_until(master, "yes", 5000);
  ck_assert_msg(hcontains(seen, "yes"),
                "the container's stdout is not the tty; read: `%s`", seen);

  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  r = hrun(c, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* What is typed on the master reaches the container's stdin. */
START_TEST(console_input_reaches_the_container) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = listen_on(sock);
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"read line;"
                                   " echo got-$line\"",
                           .terminal = true});
  char *args[] = {"run", "-d", "--console-socket", sock, "--bundle",
                  c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = receive_fd(listener);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  ck_assert_int_eq(write(master, "ping\n", 5), 5);
  cleanup_free char *seen = read_until(master, "got-ping", 5000);
  ck_assert_msg(hcontains(seen, "got-ping"), "read: `%s`", seen);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  r = hrun(c, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(foreground_terminal_without_socket_fails_clearly) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){.terminal = true});
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "tty") || hcontains(r.err, "terminal"),
                "error: %s", r.err);
  hres_free(&r);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "");
  hctx_finish(c);
}
END_TEST

START_TEST(detached_terminal_without_socket_fails_clearly) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.terminal = true});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "console socket"), "error: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(console_socket_without_terminal_fails) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = listen_on(sock);
  hctx_write_config(c, &(struct hconfig){.terminal = false});
  struct hres r = hrun(c, "create", "--console-socket", sock, "--bundle",
                       c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "console socket"), "error: %s", r.err);
  hres_free(&r);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "");
  hctx_finish(c);
}
END_TEST

START_TEST(unreachable_console_socket_fails_naming_it) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/nobody-listens.sock", c->dir);
  hctx_write_config(c, &(struct hconfig){.terminal = true});
  struct hres r = hrun(c, "create", "--console-socket", sock, "--bundle",
                       c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, sock), "error: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *console_suite(void) {
  Suite *s = suite_create("integration-console");
  TCase *tc = harness_tcase("console", 30);
  tcase_add_test(tc, console_socket_gets_the_pty_master);
  tcase_add_test(tc, console_input_reaches_the_container);
  tcase_add_test(tc, foreground_terminal_without_socket_fails_clearly);
  tcase_add_test(tc, detached_terminal_without_socket_fails_clearly);
  tcase_add_test(tc, console_socket_without_terminal_fails);
  tcase_add_test(tc, unreachable_console_socket_fails_naming_it);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(console_suite)
