/* test_cli.c — the signal names and numbers `kill` accepts, flags
 * anywhere among a command's arguments (cli_flags_first), and --rootless's
 * values. */
#include "runtime/cli/cli.h"
#include "runtime/linux/linux.h"
#include "tests/suite.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  /* As runc: 0 only asks whether the process exists. */
  ck_assert_int_eq(parsed("0"), 0);
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

/* ---- flags anywhere (cli_flags_first) ---------------------------------- */

static const struct option test_opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"bundle-extra", required_argument, NULL, 'B'},
    {"detach", no_argument, NULL, 'd'},
    {"all", no_argument, NULL, 'a'},
    {"cpuset-cpus", required_argument, NULL, 1},
    {"resources", required_argument, NULL, 'r'},
    {"log-level", optional_argument, NULL, 2},
    {NULL, 0, NULL, 0},
};
#define TEST_SHORT "+b:dar:"

/* cli_flags_first on the words (a space-separated list), joined back. */
static char *reordered(const char *words) {
  cleanup_free char *copy = xstrdup(words);
  char *argv[32];
  int argc = 0;
  for (char *save = NULL, *w = strtok_r(copy, " ", &save); w;
       w = strtok_r(NULL, " ", &save))
    argv[argc++] = w;
  argv[argc] = NULL;
  cli_flags_first(argc, argv, TEST_SHORT, test_opts);
  char *out = xstrdup(argv[0]);
  for (int i = 1; i < argc; i++) {
    char *more = xasprintf("%s %s", out, argv[i]);
    free(out);
    out = more;
  }
  return out;
}

#define ck_reorders(from, to)                                                \
  do {                                                                       \
    cleanup_free char *got_ = reordered(from);                               \
    ck_assert_msg(strcmp(got_, to) == 0, "`%s` -> `%s`, want `%s`", from,     \
                  got_, to);                                                 \
  } while (0)

START_TEST(flags_after_the_id_move_ahead_with_their_values) {
  ck_reorders("update ID --cpuset-cpus 1", "update --cpuset-cpus 1 ID");
  ck_reorders("create ID --bundle B", "create --bundle B ID");
  ck_reorders("run ID -d --bundle B", "run -d --bundle B ID");
  ck_reorders("create ID --bundle=B", "create --bundle=B ID");
  ck_reorders("update ID -r F", "update -r F ID");
  ck_reorders("update ID -rF", "update -rF ID");
  /* Already in order: unchanged. */
  ck_reorders("create --bundle B -d ID", "create --bundle B -d ID");
  ck_reorders("list", "list");
}
END_TEST

/* A flag without a value leaves the next word where it is: the positional
 * arguments keep their order (urfave/cli would move `KILL` before ID). */
START_TEST(flags_without_values_take_nothing_along) {
  ck_reorders("kill ID --all KILL", "kill --all ID KILL");
  ck_reorders("kill ID KILL --all", "kill --all ID KILL");
  ck_reorders("kill ID KILL -a", "kill -a ID KILL");
  ck_reorders("run ID -d", "run -d ID");
}
END_TEST

START_TEST(short_clusters_end_at_the_flag_with_a_value) {
  ck_reorders("run ID -db B", "run -db B ID");
  ck_reorders("run ID -dbB", "run -dbB ID");
  ck_reorders("run ID -ad", "run -ad ID");
}
END_TEST

/* getopt_long takes unambiguous abbreviations; an ambiguous one and an
 * unknown flag move alone (getopt then refuses them). */
START_TEST(long_flags_as_getopt_reads_them) {
  ck_reorders("update ID --cpuset 1", "update --cpuset 1 ID");
  ck_reorders("run ID --det x", "run --det ID x");
  ck_reorders("create ID --bundle-e B", "create --bundle-e B ID");
  /* --bund: --bundle or --bundle-extra. */
  ck_reorders("create ID --bund B", "create --bund ID B");
  ck_reorders("state ID --bogus x", "state --bogus ID x");
  ck_reorders("run ID --log-level debug", "run --log-level ID debug");
  ck_reorders("run ID --log-level=debug", "run --log-level=debug ID");
}
END_TEST

/* "--" ends the flags: it goes between flags and positional arguments and
 * what follows it stays positional. A lone "-" is positional (stdin). */
START_TEST(double_dash_ends_the_flags) {
  ck_reorders("delete ID -- --force", "delete -- ID --force");
  ck_reorders("delete -a -- ID", "delete -a -- ID");
  ck_reorders("kill ID -a -- -9 x", "kill -a -- ID -9 x");
  ck_reorders("update ID -r -", "update -r - ID");
  ck_reorders("update - ID -d", "update -d - ID");
  /* A flag's value may be "--". */
  ck_reorders("create ID --bundle --", "create --bundle -- ID");
}
END_TEST

static enum rootless_mode rootless_of(const char *value) {
  enum rootless_mode m = ROOTLESS_FALSE;
  hull_error_t err = NULL;
  ck_assert_msg(cli_parse_rootless(value, &m, &err) == 0, "`%s`: %s", value,
                err ? err->msg : "");
  return m;
}

/* runc's parseBoolOrAuto: Go's boolean spellings, auto in any case, and
 * the empty string for auto. */
START_TEST(rootless_values_are_runcs) {
  const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < 6; i++) {
    ck_assert_int_eq(rootless_of(yes[i]), ROOTLESS_TRUE);
    ck_assert_int_eq(rootless_of(no[i]), ROOTLESS_FALSE);
  }
  ck_assert_int_eq(rootless_of("auto"), ROOTLESS_AUTO);
  ck_assert_int_eq(rootless_of("AuTo"), ROOTLESS_AUTO);
  ck_assert_int_eq(rootless_of(""), ROOTLESS_AUTO);
  const char *bad[] = {"yes", "tRUE", "2", "autox"};
  for (size_t i = 0; i < 4; i++) {
    enum rootless_mode m;
    hull_error_t err = NULL;
    ck_assert_int_lt(cli_parse_rootless(bad[i], &m, &err), 0);
    cleanup_free char *want = xasprintf("invalid value \"%s\" for flag "
                                        "--rootless: want true, false or "
                                        "auto", bad[i]);
    ck_assert_str_eq(err->msg, want);
    hull_error_release(&err);
  }
}
END_TEST

/* --rootless decides the cgroup rule; auto follows who runs hull. */
START_TEST(rootless_cgroups_follow_the_flag) {
  struct global_options g = {.rootless = ROOTLESS_TRUE};
  ck_assert(cli_rootless_cgroups(&g));
  g.rootless = ROOTLESS_FALSE;
  ck_assert(!cli_rootless_cgroups(&g));
  g.rootless = ROOTLESS_AUTO;
  ck_assert_int_eq(cli_rootless_cgroups(&g), geteuid() != 0 ||
                                               ns_running_in_user_ns());
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
  TCase *order = tcase_create("flag-order");
  tcase_add_test(order, flags_after_the_id_move_ahead_with_their_values);
  tcase_add_test(order, flags_without_values_take_nothing_along);
  tcase_add_test(order, short_clusters_end_at_the_flag_with_a_value);
  tcase_add_test(order, long_flags_as_getopt_reads_them);
  tcase_add_test(order, double_dash_ends_the_flags);
  suite_add_tcase(s, order);
  TCase *rootless = tcase_create("rootless");
  tcase_add_test(rootless, rootless_values_are_runcs);
  tcase_add_test(rootless, rootless_cgroups_follow_the_flag);
  suite_add_tcase(s, rootless);
  return s;
}
HULL_SUITE(cli_suite)
