/* test_seccomp.c — linux.seccomp as runtime/security/seccomp.c builds it:
 * filters from hand-made struct spec_seccomp values, read back as
 * libseccomp's pseudo filter code, or loaded in a forked child that calls
 * syscalls and reports their errnos through a pipe. */
#include "runtime/security/security.h"
#include "tests/suite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- building profiles ------------------------------------------------------ */

#define MAX_RULES 8

struct profile {
  struct spec_seccomp s;
  struct spec_seccomp_syscall rules[MAX_RULES];
};

static void profile_init(struct profile *p, const char *default_action) {
  memset(p, 0, sizeof(*p));
  p->s.default_action = (char *)default_action;
  p->s.syscalls = p->rules;
}

static struct spec_seccomp_syscall *add(struct profile *p, char **names,
                                        const char *action) {
  ck_assert_uint_lt(p->s.n_syscalls, MAX_RULES);
  struct spec_seccomp_syscall *sc = &p->rules[p->s.n_syscalls++];
  sc->names = names;
  sc->action = (char *)action;
  return sc;
}

static void with_errno(struct spec_seccomp_syscall *sc, uint64_t e) {
  sc->errno_ret = (struct spec_uint){.set = true, .v = e};
}

#define NAMES(...) ((char *[]){__VA_ARGS__, NULL})

/* What the syscalls a child needs to report back and exit. */
/* What a filtered child needs to report and end; sigaltstack for ASan's
 * exit path (`make check-sanitize`). */
static char *reporting[] = {"write", "exit_group", "exit", "sigaltstack",
                            NULL};

/* The filter as pseudo code (the test fails when it does not build). */
static char *pfc_of(const struct spec_seccomp *s) {
  hull_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  int r = seccomp_filter_build(s, &ctx, &err);
  ck_assert_msg(r == 0, "build: %s", err ? err->msg : "?");
  int fd = memfd_create("pfc", MFD_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(seccomp_export_pfc(ctx, fd), 0);
  seccomp_release(ctx);
  off_t len = lseek(fd, 0, SEEK_END);
  char *text = xzalloc((size_t)len + 1);
  ck_assert_int_eq(pread(fd, text, (size_t)len, 0), len);
  close(fd);
  return text;
}

/* The error a profile gives (the test fails when it builds). */
static char *error_of(const struct spec_seccomp *s) {
  hull_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  ck_assert_int_lt(seccomp_filter_build(s, &ctx, &err), 0);
  ck_assert_ptr_null(ctx);
  char *msg = xstrdup(err->msg);
  hull_error_release(&err);
  return msg;
}

/* ---- loading in a child ------------------------------------------------------ */

struct call { long nr; long a0, a1; };
#define MAX_CALLS 6

/* Loads s in a forked child (with no_new_privs), makes each call and
 * returns the errno of each (0 when it succeeded). */
static void errnos_under(const struct spec_seccomp *s, const struct call *calls,
                         size_t n, int *errnos) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    hull_error_t err = NULL;
    int out[MAX_CALLS] = {0};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        seccomp_apply(s, NULL, &err) < 0)
      _exit(3);
    for (size_t i = 0; i < n; i++) {
      errno = 0;
      long r = syscall(calls[i].nr, calls[i].a0, calls[i].a1, 0, 0, 0, 0);
      out[i] = r < 0 ? errno : 0;
    }
    _exit(write(p[1], out, sizeof(out)) == sizeof(out) ? 0 : 4);
  }
  close(p[1]);
  int got[MAX_CALLS];
  ssize_t len = read(p[0], got, sizeof(got));
  close(p[0]);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child status %#x", status);
  ck_assert_int_eq(len, sizeof(got));
  memcpy(errnos, got, n * sizeof(int));
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(rules_become_filter_code) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ALLOW");
  with_errno(add(&p, NAMES("getcwd"), "SCMP_ACT_ERRNO"), 42);
  add(&p, NAMES("getppid", "no_such_syscall"), "SCMP_ACT_KILL_PROCESS");
  add(&p, NAMES("uname"), "SCMP_ACT_ERRNO");   /* EPERM by default */
  add(&p, NAMES("getpid"), "SCMP_ACT_ALLOW");  /* = default: skipped */
  add(&p, NAMES("kill"), "SCMP_ACT_TRACE");
  cleanup_free char *pfc = pfc_of(&p.s);
  ck_assert_msg(strstr(pfc, "\"getcwd\"") && strstr(pfc, "ERRNO(42)"), "%s", pfc);
  ck_assert_msg(strstr(pfc, "\"getppid\"") && strstr(pfc, "KILL_PROCESS"), "%s",
                pfc);
  ck_assert_msg(strstr(pfc, "\"uname\"") && strstr(pfc, "ERRNO(1)"), "%s", pfc);
  ck_assert_msg(strstr(pfc, "TRACE(1)"), "%s", pfc);
  ck_assert_msg(!strstr(pfc, "\"getpid\""), "%s", pfc);
  /* An allowing default gets no ENOSYS rules. */
  ck_assert_msg(!strstr(pfc, "ERRNO(38)"), "%s", pfc);
}
END_TEST

START_TEST(architectures_are_added) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ALLOW");
  p.s.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
  add(&p, NAMES("getcwd"), "SCMP_ACT_ERRNO");
  cleanup_free char *pfc = pfc_of(&p.s);
  ck_assert_msg(strstr(pfc, "arch x86_64") && strstr(pfc, "arch x86 ") &&
                    strstr(pfc, "arch x32"), "%s", pfc);
}
END_TEST

/* Above PID_MAX_LIMIT (2^22), so no process has it on any host, and its
 * low byte (0x20) does not pass the MASKED_EQ rule below: getsid() on it
 * reaches the kernel and fails with ESRCH. */
#define NO_SUCH_PID 0x40000020

START_TEST(errno_and_args_under_the_kernel) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ALLOW");
  /* The same index twice: either matches (runc's OR). */
  struct spec_seccomp_arg either[] = {{.index = 0, .value = 5, .op = "SCMP_CMP_EQ"},
                                      {.index = 0, .value = 7, .op = "SCMP_CMP_EQ"}};
  struct spec_seccomp_syscall *sc = add(&p, NAMES("getpgid"), "SCMP_ACT_ERRNO");
  with_errno(sc, 33);
  sc->args = either;
  sc->n_args = 2;
  /* Different indexes: both must match (AND). */
  struct spec_seccomp_arg both[] = {{.index = 0, .value = 1, .op = "SCMP_CMP_EQ"},
                                    {.index = 1, .value = 4242, .op = "SCMP_CMP_GE"}};
  sc = add(&p, NAMES("getpriority"), "SCMP_ACT_ERRNO");
  with_errno(sc, 34);
  sc->args = both;
  sc->n_args = 2;
  /* MASKED_EQ: value is the mask, valueTwo what the masked arg must be. */
  struct spec_seccomp_arg masked[] = {
      {.index = 0, .value = 0xf0, .value_two = {true, 0x10},
       .op = "SCMP_CMP_MASKED_EQ"}};
  sc = add(&p, NAMES("getsid"), "SCMP_ACT_ERRNO");
  with_errno(sc, 35);
  sc->args = masked;
  sc->n_args = 1;
  struct call calls[] = {
      {SYS_getpgid, 5, 0},        {SYS_getpgid, 7, 0},
      {SYS_getpriority, 1, 4242}, {SYS_getpriority, 1, 1},
      {SYS_getsid, 0x13, 0},      {SYS_getsid, NO_SUCH_PID, 0},
  };
  int got[6];
  errnos_under(&p.s, calls, 6, got);
  ck_assert_int_eq(got[0], 33);
  ck_assert_int_eq(got[1], 33);
  ck_assert_int_eq(got[2], 34);
  ck_assert_int_ne(got[3], 34);   /* who < 4242: not matched */
  ck_assert_int_eq(got[4], 35);
  ck_assert_int_eq(got[5], ESRCH);
}
END_TEST

/* A deny-by-default profile that knows nothing newer than rseq (334 on
 * x86_64): clone3 (435) is newer and fails with ENOSYS, getppid (110) is
 * older and gets the default EPERM. */
START_TEST(syscalls_newer_than_the_profile_get_enosys) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ERRNO");
  add(&p, reporting, "SCMP_ACT_ALLOW");
  add(&p, NAMES("rseq", "getpid"), "SCMP_ACT_ALLOW");
  cleanup_free char *pfc = pfc_of(&p.s);
  ck_assert_msg(strstr(pfc, "\"clone3\"") && strstr(pfc, "ERRNO(38)"), "%s", pfc);
  ck_assert_msg(!strstr(pfc, "\"getppid\""), "%s", pfc);
  struct call calls[] = {{435 /* clone3 */, 0, 0}, {SYS_getppid, 0, 0},
                         {SYS_getpid, 0, 0}, {452 /* fchmodat2 */, 0, 0}};
  int got[4];
  errnos_under(&p.s, calls, 4, got);
  ck_assert_int_eq(got[0], ENOSYS);
  ck_assert_int_eq(got[1], EPERM);
  ck_assert_int_eq(got[2], 0);
  ck_assert_int_eq(got[3], ENOSYS);
}
END_TEST

/* Once the profile names something newer (mseal, 462), clone3 is not newer
 * than the profile any more: the default action applies. */
START_TEST(syscalls_older_than_the_newest_named_keep_the_default) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ERRNO");
  add(&p, reporting, "SCMP_ACT_ALLOW");
  add(&p, NAMES("fchmodat2"), "SCMP_ACT_ALLOW");
  struct call calls[] = {{435 /* clone3 */, 0, 0}, {SYS_getppid, 0, 0}};
  int got[2];
  errnos_under(&p.s, calls, 2, got);
  ck_assert_int_eq(got[0], EPERM);
  ck_assert_int_eq(got[1], EPERM);
  /* A default errno of ENOSYS needs no extra rules. */
  p.s.default_errno_ret = (struct spec_uint){.set = true, .v = ENOSYS};
  p.rules[1].names = NAMES("getpid");
  cleanup_free char *pfc = pfc_of(&p.s);
  ck_assert_msg(!strstr(pfc, "\"clone3\""), "%s", pfc);
}
END_TEST

static void expect_error(const struct spec_seccomp *s, const char *want) {
  cleanup_free char *msg = error_of(s);
  ck_assert_str_eq(msg, want);
}

START_TEST(bad_profiles_name_the_field) {
  struct profile p;
  profile_init(&p, "SCMP_ACT_ALLOW");
  add(&p, NAMES("getpid"), "SCMP_ACT_ERRNO");
  add(&p, NAMES("getppid"), "SCMP_ACT_ERRNO");
  add(&p, NAMES("getcwd"), "SCMP_ACT_ERRNO");
  add(&p, NAMES("uname"), "SCMP_ACT_FOO");
  expect_error(&p.s, "linux.seccomp.syscalls[3].action: unknown action "
                     "\"SCMP_ACT_FOO\"");
  p.rules[3].action = "SCMP_ACT_ERRNO";

  struct spec_seccomp_arg bad_op = {.index = 0, .op = "SCMP_CMP_FOO"};
  p.rules[1].args = &bad_op;
  p.rules[1].n_args = 1;
  expect_error(&p.s, "linux.seccomp.syscalls[1].args[0].op: unknown operator "
                     "\"SCMP_CMP_FOO\"");
  struct spec_seccomp_arg bad_index = {.index = 6, .op = "SCMP_CMP_EQ"};
  p.rules[1].args = &bad_index;
  expect_error(&p.s, "linux.seccomp.syscalls[1].args[0].index: 6 is out of "
                     "range (0-5)");
  p.rules[1].n_args = 0;

  p.rules[2].names = NAMES("");
  expect_error(&p.s, "linux.seccomp.syscalls[2].names[0]: empty syscall name");
  p.rules[2].names = (char *[]){NULL};
  expect_error(&p.s, "linux.seccomp.syscalls[2].names: must not be empty");
  p.rules[2].names = NAMES("getcwd");

  p.s.default_action = "SCMP_ACT_BOGUS";
  expect_error(&p.s, "linux.seccomp.defaultAction: unknown action "
                     "\"SCMP_ACT_BOGUS\"");
  p.s.default_action = "SCMP_ACT_ALLOW";

  p.s.flags = NAMES("SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS");
  expect_error(&p.s, "linux.seccomp.flags[1]: unknown flag "
                     "\"SECCOMP_FILTER_FLAG_BOGUS\"");
  p.s.flags = NAMES("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  free(pfc_of(&p.s));

  p.s.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64");
  expect_error(&p.s, "linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is "
                     "not supported by this build's libseccomp");
  p.s.architectures = NULL;

  p.rules[0].action = "SCMP_ACT_NOTIFY";
  expect_error(&p.s, "linux.seccomp.listenerPath: required with "
                     "SCMP_ACT_NOTIFY");
  p.rules[0].action = "SCMP_ACT_ERRNO";
  p.s.listener_metadata = "x";
  expect_error(&p.s, "linux.seccomp.listenerMetadata: set without "
                     "listenerPath");
}
END_TEST

START_TEST(features_lists) {
  const char *supported[8];
  seccomp_supported_flag_names(supported);
  ck_assert_str_eq(supported[0], "SECCOMP_FILTER_FLAG_TSYNC");
  size_t n = 0;
  for (const char *const *a = seccomp_action_names(); *a; a++)
    n++;
  ck_assert_uint_eq(n, 9);
  n = 0;
  for (const char *const *o = seccomp_operator_names(); *o; o++)
    n++;
  ck_assert_uint_eq(n, 7);
}
END_TEST

static Suite *seccomp_suite(void) {
  Suite *s = suite_create("seccomp");
  TCase *tc = tcase_create("seccomp");
  /* valgrind cannot run seccomp filters: `make check-valgrind` skips it. */
  tcase_set_tags(tc, "kernel-security");
  tcase_add_test(tc, rules_become_filter_code);
  tcase_add_test(tc, architectures_are_added);
  tcase_add_test(tc, errno_and_args_under_the_kernel);
  tcase_add_test(tc, syscalls_newer_than_the_profile_get_enosys);
  tcase_add_test(tc, syscalls_older_than_the_newest_named_keep_the_default);
  tcase_add_test(tc, bad_profiles_name_the_field);
  tcase_add_test(tc, features_lists);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(seccomp_suite)
