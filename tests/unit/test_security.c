/* test_security.c — the process-security step, run the way the init runs it:
 * a forked child calls security_before_user(), switches uid/gid, calls
 * security_after_user(), and reports what the kernel says about it
 * (/proc/self/status, rlimits, oom_score_adj, …) through a pipe.
 * Needs root, as the unit tests do. */
#include "runtime/security/security.h"
#include "tests/suite.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIT(cap) (UINT64_C(1) << (cap))
/* runc's default: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10). */
#define RUNC_DEFAULT_MASK (BIT(29) | BIT(5) | BIT(10))

static char *runc_default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL",
                                    "CAP_NET_BIND_SERVICE", NULL};

/* A config.json as the parser would build it; tests fill in what they need. */
struct fixture {
  struct spec spec;
  struct spec_process process;
  struct spec_linux linux_cfg;
  struct spec_capabilities caps;
};

static void fixture_init(struct fixture *f) {
  memset(f, 0, sizeof(*f));
  f->spec.process = &f->process;
  f->spec.linux = &f->linux_cfg;
}

static void use_caps_everywhere(struct fixture *f, char **names) {
  f->caps = (struct spec_capabilities){names, names, names, names, names};
  f->process.capabilities = &f->caps;
}

/* What the child saw after both calls (or after the failing one). */
struct report {
  bool failed_before, failed_after;
  char error[512];
  uint64_t bnd, eff, prm, inh, amb;
  int no_new_privs;
  uint64_t nofile_soft, nofile_hard;
  int oom_score_adj;
  int personality;
  int ioprio;
  int sched_policy;
  uint64_t cpus;                 /* the first 64 CPUs of the affinity mask */
  uid_t uid;
};

static uint64_t status_field(const char *status, const char *key, int base) {
  const char *line = strstr(status, key);
  return line ? strtoull(line + strlen(key), NULL, base) : UINT64_MAX;
}

static void collect(struct report *r) {
  cleanup_free char *status = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file("/proc/self/status", &status, NULL, &err) == 0) {
    r->bnd = status_field(status, "\nCapBnd:", 16);
    r->eff = status_field(status, "\nCapEff:", 16);
    r->prm = status_field(status, "\nCapPrm:", 16);
    r->inh = status_field(status, "\nCapInh:", 16);
    r->amb = status_field(status, "\nCapAmb:", 16);
    r->no_new_privs = (int)status_field(status, "\nNoNewPrivs:", 10);
  }
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  r->nofile_soft = nofile.rlim_cur;
  r->nofile_hard = nofile.rlim_max;
  cleanup_free char *oom = NULL;
  if (read_file("/proc/self/oom_score_adj", &oom, NULL, &err) == 0)
    r->oom_score_adj = atoi(oom);
  r->personality = personality(0xffffffff);
  r->ioprio = (int)syscall(SYS_ioprio_get, 1, 0);
  r->sched_policy = sched_getscheduler(0);
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < 64; c++)
      if (CPU_ISSET(c, &set))
        r->cpus |= UINT64_C(1) << c;
  r->uid = getuid();
}

static void run_child(const struct spec *spec, void (*prepare)(void),
                      struct report *r) {
  hull_error_t err = NULL;
  if (prepare)
    prepare();
  if (security_before_user(spec, NULL, &err) < 0) {
    r->failed_before = true;
  } else {
    uid_t uid = spec->process->user.uid;
    gid_t gid = spec->process->user.gid;
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(uid, uid, uid) < 0)
      hull_error(&err, errno, "switch to %u:%u", uid, gid);
    if (err || security_after_user(spec, NULL, &err) < 0)
      r->failed_after = true;
  }
  if (err)
    snprintf(r->error, sizeof(r->error), "%s", err->msg);
  hull_error_release(&err);
  collect(r);
}

/* Runs the security step in a child, as the init would, and returns its
 * report. `prepare` runs in the child first (to set up a starting state). */
static struct report run_security(const struct spec *spec,
                                  void (*prepare)(void)) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    struct report r = {0};
    run_child(spec, prepare, &r);
    _exit(write_all(p[1], &r, sizeof(r)) < 0 ? 1 : 0);
  }
  close(p[1]);
  struct report r = {0};
  ssize_t n = read_all(p[0], &r, sizeof(r));
  close(p[0]);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ck_assert_int_eq(n, (ssize_t)sizeof(r));
  return r;
}

/* Like run_security(), but the child then execs cat /proc/self/status, so
 * the report is what the container's program sees after execve. */
static char *run_security_then_exec(const struct spec *spec) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    struct report r = {0};
    run_child(spec, NULL, &r);
    if (r.failed_before || r.failed_after)
      _exit(1);
    dup2(p[1], STDOUT_FILENO);
    char *argv[] = {"cat", "/proc/self/status", NULL};
    execv("/bin/cat", argv);
    _exit(127);
  }
  close(p[1]);
  size_t cap = 1 << 16;
  char *out = xzalloc(cap);
  ssize_t n = read_all(p[0], out, cap - 1);
  close(p[0]);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ck_assert_int_gt(n, 0);
  return out;
}

static uint64_t host_bounding(void) {
  cleanup_free char *status = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(read_file("/proc/self/status", &status, NULL, &err), 0);
  return status_field(status, "\nCapBnd:", 16);
}

/* valgrind emulates RLIMIT_NOFILE (it keeps fds of its own) and refuses
 * changes to it, so those checks only mean something without it. */
static bool under_valgrind(void) {
  const char *preload = getenv("LD_PRELOAD");
  return preload && strstr(preload, "vgpreload");
}

/* Makes this test's process a host without CAP_SYS_RESOURCE, as some are
 * (containers, this project's CI machines): the capability leaves the
 * bounding, permitted, effective and inheritable sets. Only in a forked
 * test: the sets do not come back. */
static void lose_cap_sys_resource(void) {
  const char *fork_mode = getenv("CK_FORK");
  ck_assert_msg(!fork_mode || strcmp(fork_mode, "no") != 0,
                "needs Check's forked mode");
  if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE) == 1)
    ck_assert_int_eq(prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE), 0);
  cap_t caps = cap_get_proc();
  ck_assert_ptr_nonnull(caps);
  cap_value_t v = CAP_SYS_RESOURCE;
  ck_assert_int_eq(cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR), 0);
  ck_assert_int_eq(cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR), 0);
  ck_assert_int_eq(cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_CLEAR), 0);
  ck_assert_int_eq(cap_set_proc(caps), 0);
  cap_free(caps);
}

#define ck_assert_ok(r)                                                      \
  ck_assert_msg(!(r).failed_before && !(r).failed_after, "failed: %s",       \
                (r).error)

/* ---- capabilities -------------------------------------------------------- */

START_TEST(runc_default_caps_as_root) {
  struct fixture f;
  fixture_init(&f);
  f.caps = (struct spec_capabilities){.bounding = runc_default_caps,
                                      .effective = runc_default_caps,
                                      .permitted = runc_default_caps};
  f.process.capabilities = &f.caps;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.uid, 0);
  ck_assert_uint_eq(r.bnd, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.eff, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.prm, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.inh, 0);
  ck_assert_uint_eq(r.amb, 0);
  ck_assert_int_eq(r.no_new_privs, 0);
}
END_TEST

START_TEST(non_root_user_keeps_ambient_caps) {
  struct fixture f;
  fixture_init(&f);
  char *two[] = {"CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
  use_caps_everywhere(&f, two);
  f.caps.bounding = runc_default_caps;
  f.process.user.uid = 1000;
  f.process.user.gid = 1000;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  uint64_t want = BIT(5) | BIT(10);
  ck_assert_uint_eq(r.uid, 1000);
  ck_assert_uint_eq(r.bnd, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.eff, want);
  ck_assert_uint_eq(r.prm, want);
  ck_assert_uint_eq(r.inh, want);
  ck_assert_uint_eq(r.amb, want);
}
END_TEST

/* Without keep-caps the switch to uid 1000 would have emptied permitted;
 * without ambient caps nothing survives an execve either. */
START_TEST(non_root_user_without_ambient) {
  struct fixture f;
  fixture_init(&f);
  f.caps = (struct spec_capabilities){.bounding = runc_default_caps,
                                      .effective = runc_default_caps,
                                      .permitted = runc_default_caps};
  f.process.capabilities = &f.caps;
  f.process.user.uid = 1000;
  f.process.user.gid = 1000;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.eff, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.prm, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(r.amb, 0);
}
END_TEST

/* What survives execve is what the container sees: for root the bounding
 * set refills permitted; for uid 1000 only the ambient set does. */
START_TEST(caps_after_execve) {
  struct fixture f;
  fixture_init(&f);
  f.caps = (struct spec_capabilities){.bounding = runc_default_caps,
                                      .effective = runc_default_caps,
                                      .permitted = runc_default_caps};
  f.process.capabilities = &f.caps;
  cleanup_free char *root = run_security_then_exec(&f.spec);
  ck_assert_uint_eq(status_field(root, "\nCapEff:", 16), RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(status_field(root, "\nCapPrm:", 16), RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(status_field(root, "\nCapBnd:", 16), RUNC_DEFAULT_MASK);

  char *kill_only[] = {"CAP_KILL", NULL};
  f.caps.inheritable = runc_default_caps;
  f.caps.ambient = kill_only;
  f.process.user.uid = 1000;
  f.process.user.gid = 1000;
  f.process.no_new_privileges = true;
  cleanup_free char *user = run_security_then_exec(&f.spec);
  ck_assert_uint_eq(status_field(user, "\nCapEff:", 16), BIT(5));
  ck_assert_uint_eq(status_field(user, "\nCapPrm:", 16), BIT(5));
  ck_assert_uint_eq(status_field(user, "\nCapAmb:", 16), BIT(5));
  ck_assert_uint_eq(status_field(user, "\nCapInh:", 16), RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(status_field(user, "\nNoNewPrivs:", 10), 1);
}
END_TEST

/* runc: no process.capabilities means no capabilities, bounding included. */
START_TEST(absent_capabilities_means_none) {
  struct fixture f;
  fixture_init(&f);
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.bnd, 0);
  ck_assert_uint_eq(r.eff, 0);
  ck_assert_uint_eq(r.prm, 0);
  ck_assert_uint_eq(r.inh, 0);
  ck_assert_uint_eq(r.amb, 0);
}
END_TEST

/* runtime-spec: a value that cannot be mapped to a kernel interface MUST
 * be an error; the check runs before anything changes. */
START_TEST(unknown_capability_is_refused_before_any_change) {
  struct fixture f;
  fixture_init(&f);
  char *names[] = {"CAP_KILL", "CAP_NOT_A_REAL_ONE", "CAP_CHOWN", NULL};
  use_caps_everywhere(&f, names);
  struct report r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error, "process.capabilities.bounding[1]: unknown "
                            "capability \"CAP_NOT_A_REAL_ONE\"");
  ck_assert_uint_eq(r.bnd, host_bounding());
}
END_TEST

/* A real capability newer than the kernel (CAP_PERFMON is 38,
 * CAP_CHECKPOINT_RESTORE 40) is skipped, as runc does; one the table does
 * not know is not a capability at all. */
START_TEST(capability_newer_than_the_kernel_is_unavailable) {
  ck_assert_int_eq(cap_lookup("CAP_CHOWN", 38), 0);
  ck_assert_int_eq(cap_lookup("CAP_SYSLOG", 38), 34);
  ck_assert_int_eq(cap_lookup("CAP_PERFMON", 38), CAP_UNAVAILABLE);
  ck_assert_int_eq(cap_lookup("CAP_BPF", 38), CAP_UNAVAILABLE);
  ck_assert_int_eq(cap_lookup("CAP_CHECKPOINT_RESTORE", 38), CAP_UNAVAILABLE);
  ck_assert_int_eq(cap_lookup("CAP_CHECKPOINT_RESTORE", 41), 40);
  ck_assert_int_eq(cap_lookup("CAP_TEST", 41), CAP_UNKNOWN);
  ck_assert_int_eq(cap_lookup("CAP_chown", 41), CAP_UNKNOWN);
}
END_TEST

/* A host whose bounding set lacks CAP_SYS_RESOURCE: asking for it warns and
 * grants the rest (runtime-spec: SHOULD NOT fail). */
START_TEST(unavailable_capability_is_skipped) {
  SKIP_UNLESS(!under_valgrind(), "valgrind does not model capability sets");
  lose_cap_sys_resource();
  struct fixture f;
  fixture_init(&f);
  char *names[] = {"CAP_KILL", "CAP_SYS_RESOURCE", NULL};
  use_caps_everywhere(&f, names);
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.eff, BIT(5));
  ck_assert_uint_eq(r.prm, BIT(5));
  ck_assert_uint_eq(r.amb, BIT(5));
}
END_TEST

START_TEST(malformed_capability_is_rejected_before_any_change) {
  struct fixture f;
  fixture_init(&f);
  char *names[] = {"CAP_KILL", "CAP_NET-ADMIN", NULL};
  f.caps.bounding = runc_default_caps;
  f.caps.effective = names;
  f.process.capabilities = &f.caps;
  struct spec_rlimit lim[] = {{"RLIMIT_NOFILE", 100, 100}};
  f.process.rlimits = lim;
  f.process.n_rlimits = 1;
  struct report r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error, "process.capabilities.effective[1]: malformed "
                            "capability name \"CAP_NET-ADMIN\"");
  ck_assert_uint_eq(r.bnd, host_bounding());
  ck_assert_uint_ne(r.nofile_hard, 100);
}
END_TEST

START_TEST(caps_from_spec_masks) {
  char *lower[] = {"CAP_chown", NULL};
  char *no_prefix[] = {"KILL", NULL};
  struct spec_capabilities c = {.bounding = runc_default_caps};
  struct cap_masks m;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(caps_from_spec(&c, false, &m, &err), 0);
  ck_assert_uint_eq(m.bounding, RUNC_DEFAULT_MASK);
  ck_assert_uint_eq(m.effective, 0);
  /* runc only knows upper-case names */
  c.ambient = lower;
  ck_assert_int_lt(caps_from_spec(&c, false, &m, &err), 0);
  ck_assert_str_eq(err->msg, "process.capabilities.ambient[0]: unknown "
                             "capability \"CAP_chown\"");
  hull_error_release(&err);
  c.ambient = NULL;
  c.permitted = no_prefix;
  ck_assert_int_lt(caps_from_spec(&c, false, &m, &err), 0);
  ck_assert_str_eq(err->msg, "process.capabilities.permitted[0]: malformed "
                             "capability name \"KILL\"");
  ck_assert_int_eq(caps_from_spec(NULL, false, &m, &err), 0);
  ck_assert_uint_eq(m.bounding | m.effective | m.permitted, 0);
}
END_TEST

/* ---- rlimits, oom_score_adj, no_new_privs --------------------------------- */

START_TEST(rlimit_nofile_lowered) {
  SKIP_UNLESS(!under_valgrind(), "valgrind refuses RLIMIT_NOFILE changes");
  struct fixture f;
  fixture_init(&f);
  struct spec_rlimit lim[] = {{"RLIMIT_NOFILE", 256, 512}};
  f.process.rlimits = lim;
  f.process.n_rlimits = 1;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.nofile_soft, 256);
  ck_assert_uint_eq(r.nofile_hard, 512);
}
END_TEST

static void lower_nofile_hard_to_1024(void) {
  struct rlimit l = {1024, 1024};
  setrlimit(RLIMIT_NOFILE, &l);
}

START_TEST(rlimit_hard_raise_needs_cap_sys_resource) {
  SKIP_UNLESS(!under_valgrind(), "valgrind refuses RLIMIT_NOFILE changes");
  lose_cap_sys_resource();
  struct fixture f;
  fixture_init(&f);
  struct spec_rlimit lim[] = {{"RLIMIT_NOFILE", 2048, 2048}};
  f.process.rlimits = lim;
  f.process.n_rlimits = 1;
  struct report r = run_security(&f.spec, lower_nofile_hard_to_1024);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error,
                   "process.rlimits: setrlimit RLIMIT_NOFILE soft=2048 "
                   "hard=2048: Operation not permitted (raising a hard limit "
                   "needs CAP_SYS_RESOURCE)");
  ck_assert_uint_eq(r.nofile_hard, 1024);
}
END_TEST

START_TEST(unknown_rlimit_rejected_before_any_change) {
  struct fixture f;
  fixture_init(&f);
  struct spec_rlimit lim[] = {{"RLIMIT_NOFILE", 100, 100},
                              {"RLIMIT_CORE", 0, 0},
                              {"RLIMIT_FOO", 1, 1}};
  f.process.rlimits = lim;
  f.process.n_rlimits = 3;
  struct report r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error,
                   "process.rlimits[2].type: unknown rlimit \"RLIMIT_FOO\"");
  ck_assert_uint_ne(r.nofile_hard, 100);
}
END_TEST

START_TEST(no_new_privs_and_oom_score_adj) {
  struct fixture f;
  fixture_init(&f);
  f.process.no_new_privileges = true;
  f.process.oom_score_adj = (struct spec_int){true, 500};
  f.process.user.uid = 1000;
  f.process.user.gid = 1000;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_int_eq(r.no_new_privs, 1);
  ck_assert_int_eq(r.oom_score_adj, 500);
}
END_TEST

/* ---- personality, I/O priority, scheduler, CPU affinity ------------------- */

START_TEST(personality_linux32) {
  struct fixture f;
  fixture_init(&f);
  f.linux_cfg.personality.present = true;
  f.linux_cfg.personality.domain = "LINUX32";
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_int_eq(r.personality & 0xff, PER_LINUX32);

  f.linux_cfg.personality.domain = "LINUX64";
  r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error,
                   "linux.personality.domain: unknown domain \"LINUX64\"");
}
END_TEST

START_TEST(io_priority_and_scheduler) {
  struct fixture f;
  fixture_init(&f);
  struct spec_io_priority io = {"IOPRIO_CLASS_BE", {true, 6}};
  struct spec_scheduler sched = {.policy = "SCHED_BATCH",
                                 .nice = {true, 5}};
  f.process.io_priority = &io;
  f.process.scheduler = &sched;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_int_eq(r.ioprio, (2 << 13) | 6);
  ck_assert_int_eq(r.sched_policy, SCHED_BATCH);

  sched.policy = "SCHED_FAST";
  r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error,
                   "process.scheduler.policy: unknown policy \"SCHED_FAST\"");
}
END_TEST

START_TEST(exec_cpu_affinity) {
  struct fixture f;
  fixture_init(&f);
  f.process.exec_cpu_affinity.final = "0";
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
  ck_assert_uint_eq(r.cpus, 1);

  f.process.exec_cpu_affinity.final = "0-";
  r = run_security(&f.spec, NULL);
  ck_assert(r.failed_after);
  ck_assert_str_eq(r.error, "process.execCPUAffinity.final: malformed CPU "
                            "list \"0-\"");
}
END_TEST

/* ---- what is not supported yet fails instead of running unconfined -------- */

/* linux.seccomp itself is tested in test_seccomp.c; here only that the
 * step loads it (no longer refuses it). */
START_TEST(seccomp_is_loaded) {
  struct fixture f;
  fixture_init(&f);
  struct spec_seccomp seccomp = {.default_action = "SCMP_ACT_ALLOW"};
  f.linux_cfg.seccomp = &seccomp;
  struct report r = run_security(&f.spec, NULL);
  ck_assert_ok(r);
}
END_TEST

START_TEST(apparmor_without_apparmor_fails) {
  cleanup_free char *enabled = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file("/sys/module/apparmor/parameters/enabled", &enabled, NULL,
                &err) == 0 &&
      enabled[0] == 'Y')
    SKIP_TEST("AppArmor is enabled on this host (the test needs it off)");
  struct fixture f;
  fixture_init(&f);
  f.process.apparmor_profile = "docker-default";
  struct report r = run_security(&f.spec, NULL);
  ck_assert(r.failed_before);
  ck_assert_str_eq(r.error, "process.apparmorProfile: \"docker-default\" "
                            "requested but AppArmor is not enabled on this "
                            "host");
}
END_TEST

static Suite *security_suite(void) {
  Suite *s = suite_create("security");
  TCase *caps = tcase_create("capabilities");
  /* valgrind does not model capability sets: check-valgrind skips these. */
  tcase_set_tags(caps, "kernel-security");
  tcase_add_test(caps, runc_default_caps_as_root);
  tcase_add_test(caps, non_root_user_keeps_ambient_caps);
  tcase_add_test(caps, non_root_user_without_ambient);
  tcase_add_test(caps, caps_after_execve);
  tcase_add_test(caps, absent_capabilities_means_none);
  tcase_add_test(caps, unknown_capability_is_refused_before_any_change);
  tcase_add_test(caps, capability_newer_than_the_kernel_is_unavailable);
  tcase_add_test(caps, unavailable_capability_is_skipped);
  tcase_add_test(caps, malformed_capability_is_rejected_before_any_change);
  tcase_add_test(caps, caps_from_spec_masks);
  suite_add_tcase(s, caps);
  TCase *limits = tcase_create("limits");
  tcase_add_test(limits, rlimit_nofile_lowered);
  tcase_add_test(limits, rlimit_hard_raise_needs_cap_sys_resource);
  tcase_add_test(limits, unknown_rlimit_rejected_before_any_change);
  tcase_add_test(limits, no_new_privs_and_oom_score_adj);
  suite_add_tcase(s, limits);
  TCase *attrs = tcase_create("process attributes");
  tcase_add_test(attrs, personality_linux32);
  tcase_add_test(attrs, io_priority_and_scheduler);
  tcase_add_test(attrs, exec_cpu_affinity);
  suite_add_tcase(s, attrs);
  TCase *later = tcase_create("not yet supported");
  tcase_set_tags(later, "kernel-security"); /* loads a seccomp filter */
  tcase_add_test(later, seccomp_is_loaded);
  tcase_add_test(later, apparmor_without_apparmor_fails);
  suite_add_tcase(s, later);
  return s;
}

HULL_SUITE(security_suite)
