/* test-sync.c — the conversation between create and the container's init
 * (runtime/linux/sync.c) over a SOCK_SEQPACKET socketpair: messages larger
 * than the socket's buffer, and a child's error that arrives behind the
 * kernel's "connection reset" or a broken pipe. */
#include "runtime/linux/sync.h"
#include "tests/suite.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void seqpacket_pair(int sv[2]) {
  ck_assert_int_eq(
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* 1 MiB crosses a socket whose buffer holds a fraction of it: the sender
 * (a child) and the receiver take turns, and the text arrives whole. */
START_TEST(a_message_larger_than_the_socket_buffer_arrives_whole) {
  enum { LEN = 1 << 20 };
  char *text = malloc(LEN + 1);
  for (size_t i = 0; i < LEN; i++)
    text[i] = (char)('a' + i % 26);
  text[LEN] = '\0';
  int sv[2];
  seqpacket_pair(sv);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    hull_error_t err = NULL;
    _exit(sync_send(sv[1], SYNC_NS_READY_ACK, 7, text, &err) == 0 ? 0 : 1);
  }
  close(sv[1]);
  struct sync_msg msg = {0};
  hull_error_t err = NULL;
  ck_assert_msg(sync_expect(sv[0], SYNC_NS_READY_ACK, &msg, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert_int_eq(msg.value, 7);
  ck_assert_uint_eq(strlen(msg.data), LEN);
  ck_assert(memcmp(msg.data, text, LEN) == 0);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  free(msg.data);
  free(text);
  close(sv[0]);
}
END_TEST

/* The child reports an error and exits without reading what the parent
 * sent it: the parent's receive gets the child's message, not "Connection
 * reset by peer". */
START_TEST(a_childs_error_survives_the_connection_reset) {
  int sv[2];
  seqpacket_pair(sv);
  hull_error_t err = NULL;
  ck_assert_int_eq(sync_send(sv[0], SYNC_USERMAP_ACK, 0, NULL, &err), 0);
  ck_assert_int_eq(sync_send(sv[1], SYNC_ERROR, 0, "mount `/x`: boom", &err),
                   0);
  close(sv[1]); /* unread: the parent's ACK */
  struct sync_msg msg = {0};
  ck_assert_int_lt(sync_recv(sv[0], &msg, &err), 0);
  ck_assert_str_eq(err->msg, "mount `/x`: boom");
  hull_error_release(&err);
  close(sv[0]);
}
END_TEST

/* The child reported an error and closed its end before the parent's
 * next send: the send fails with the child's message, not EPIPE. */
START_TEST(a_send_to_a_child_that_failed_reports_its_error) {
  int sv[2];
  seqpacket_pair(sv);
  hull_error_t err = NULL;
  ck_assert_int_eq(sync_send(sv[1], SYNC_ERROR, 0, "pivot_root: boom", &err),
                   0);
  close(sv[1]);
  ck_assert_int_lt(sync_send(sv[0], SYNC_USERMAP_ACK, 0, NULL, &err), 0);
  ck_assert_str_eq(err->msg, "pivot_root: boom");
  hull_error_release(&err);
  /* Gone without a word: it says so. */
  seqpacket_pair(sv);
  close(sv[1]);
  ck_assert_int_lt(sync_send(sv[0], SYNC_USERMAP_ACK, 0, NULL, &err), 0);
  ck_assert_str_eq(err->msg, "container init exited during setup");
  hull_error_release(&err);
  close(sv[0]);
}
END_TEST

static Suite *sync_suite(void) {
  Suite *s = suite_create("sync");
  TCase *tc = tcase_create("messages");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, a_message_larger_than_the_socket_buffer_arrives_whole);
  tcase_add_test(tc, a_childs_error_survives_the_connection_reset);
  tcase_add_test(tc, a_send_to_a_child_that_failed_reports_its_error);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(sync_suite)
