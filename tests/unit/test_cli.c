/* test_cli.c — the signal names and numbers `kill` accepts. */
#include "runtime/cli/cli.h"
#include "tests/suite.h"

#include <signal.h>
#include <string.h>

static int parsed(const char *s) {
  int sig = -1;
  hull_error_t err = NULL;
  ck_assert_msg(parse_signal(s, &sig, &err) == 0, "`%s` rejected: %s", s,
                err ? err->msg : "");
  return sig;
}

static void assert_rejected(const char *s) {
  int sig = -1;
  hull_error_t err = NULL;
  ck_assert_msg(parse_signal(s, &sig, &err) < 0, "`%s` accepted as %d", s, sig);
  ck_assert_ptr_nonnull(err);
  /* The message names what the user typed. */
  ck_assert_msg(strstr(err->msg, s) != NULL, "`%s` not in `%s`", s, err->msg);
  ck_assert_ptr_nonnull(strstr(err->msg, "signal"));
  hull_error_release(&err);
}

START_TEST(names_with_and_without_sig) {
  ck_assert_int_eq(parsed("TERM"), SIGTERM);
  ck_assert_int_eq(parsed("SIGTERM"), SIGTERM);
  ck_assert_int_eq(parsed("KILL"), SIGKILL);
  ck_assert_int_eq(parsed("SIGUSR1"), SIGUSR1);
  ck_assert_int_eq(parsed("HUP"), SIGHUP);
  ck_assert_int_eq(parsed("WINCH"), SIGWINCH);
}
END_TEST

/* runc upper-cases the name before looking it up. */
START_TEST(names_ignore_case) {
  ck_assert_int_eq(parsed("term"), SIGTERM);
  ck_assert_int_eq(parsed("sigterm"), SIGTERM);
  ck_assert_int_eq(parsed("SigKill"), SIGKILL);
}
END_TEST

START_TEST(numbers) {
  ck_assert_int_eq(parsed("9"), SIGKILL);
  ck_assert_int_eq(parsed("15"), SIGTERM);
  ck_assert_int_eq(parsed("1"), SIGHUP);
}
END_TEST

START_TEST(realtime_signals) {
  ck_assert_int_eq(parsed("RTMIN"), SIGRTMIN);
  ck_assert_int_eq(parsed("RTMIN+2"), SIGRTMIN + 2);
  ck_assert_int_eq(parsed("SIGRTMIN+2"), SIGRTMIN + 2);
  ck_assert_int_eq(parsed("RTMAX"), SIGRTMAX);
  ck_assert_int_eq(parsed("RTMAX-1"), SIGRTMAX - 1);
}
END_TEST

START_TEST(bad_signals) {
  assert_rejected("BOGUS");
  assert_rejected("SIGBOGUS");
  assert_rejected("0");
  assert_rejected("-9");
  assert_rejected("65");
  assert_rejected("9x");
  assert_rejected("RTMIN+100");
  assert_rejected("RTMAX+1");
  assert_rejected("RTMIN-1");
  assert_rejected("SIG");
}
END_TEST

START_TEST(empty_is_rejected) {
  int sig = -1;
  hull_error_t err = NULL;
  ck_assert_int_lt(parse_signal("", &sig, &err), 0);
  ck_assert_ptr_nonnull(strstr(err->msg, "signal"));
  hull_error_release(&err);
}
END_TEST

static Suite *cli_suite(void) {
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("signals");
  tcase_add_test(tc, names_with_and_without_sig);
  tcase_add_test(tc, names_ignore_case);
  tcase_add_test(tc, numbers);
  tcase_add_test(tc, realtime_signals);
  tcase_add_test(tc, bad_signals);
  tcase_add_test(tc, empty_is_rejected);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(cli_suite)
