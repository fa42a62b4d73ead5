/* test-console.c — process.terminal with --console-socket, the way an
 * engine uses it: it listens on a unix socket, `create` sends it the pty
 * master (SCM_RIGHTS), and what the container writes comes out there. */
#include "tests/integration/harness.h"
#include "tests/integration/console-receiver.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

START_TEST(console_socket_gets_the_pty_master) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = hconsole_listen(sock);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("isatty", "1"),
                                          .terminal = true});
  char *args[] = {"create", "--console-socket", sock, "--bundle", c->bundle,
                  c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = hconsole_receive_fd(listener);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  unsigned int pty_number;
  ck_assert_msg(ioctl(master, TIOCGPTN, &pty_number) == 0,
                "what arrived is not a pty master: %s", strerror(errno));

  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  hrun_expect(0, c, "start", c->id);
  cleanup_free char *seen = hconsole_read_until(master, "yes", 5000);
  ck_assert_msg(hcontains(seen, "yes"),
                "the container's stdout is not the tty; read: `%s`", seen);

  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* What is typed on the master reaches the container's stdin. */
START_TEST(console_input_reaches_the_container) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = hconsole_listen(sock);
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"read line;"
                                   " echo got-$line\"",
                           .terminal = true});
  char *args[] = {"run", "-d", "--console-socket", sock, "--bundle",
                  c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = hconsole_receive_fd(listener);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  ck_assert_int_eq(write(master, "ping\n", 5), 5);
  cleanup_free char *seen = hconsole_read_until(master, "got-ping", 5000);
  ck_assert_msg(hcontains(seen, "got-ping"), "read: `%s`", seen);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
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
  cleanup_close int listener = hconsole_listen(sock);
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
  tcase_add_test(tc, detached_terminal_without_socket_fails_clearly);
  tcase_add_test(tc, console_socket_without_terminal_fails);
  tcase_add_test(tc, unreachable_console_socket_fails_naming_it);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(console_suite)
