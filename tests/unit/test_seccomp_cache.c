/* test_seccomp_cache.c — runtime/security/seccomp_cache.c: the canonical
 * serialization and its key (equal profiles agree, any change that shapes
 * the filter disagrees), cache files that round-trip the BPF program,
 * files that must be ignored (corrupt, short, another profile under the
 * same name, writable by others), a cache directory that cannot be used,
 * and a cached program that the kernel enforces. */
#include "runtime/security/security.h"
#include "tests/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a profile with one of everything ---------------------------------- */

struct profile {
  struct spec_seccomp s;
  struct spec_seccomp_syscall rules[2];
  struct spec_seccomp_arg args[2];
  char *names0[3], *names1[2], *archs[3], *flags[2];
};

static void profile_init(struct profile *p) {
  memset(p, 0, sizeof(*p));
  p->names0[0] = "getcwd";
  p->names0[1] = "getppid";
  p->names1[0] = "personality";
  p->archs[0] = "SCMP_ARCH_X86_64";
  p->archs[1] = "SCMP_ARCH_X86";
  p->flags[0] = "SECCOMP_FILTER_FLAG_TSYNC"; /* valgrind lacks the others */
  p->args[0] = (struct spec_seccomp_arg){.index = 0, .value = 8,
                                         .op = "SCMP_CMP_EQ"};
  p->args[1] = (struct spec_seccomp_arg){
      .index = 1, .value = 3, .value_two = {.set = true, .v = 1},
      .op = "SCMP_CMP_MASKED_EQ"};
  p->rules[0] = (struct spec_seccomp_syscall){
      .names = p->names0, .action = "SCMP_ACT_ERRNO",
      .errno_ret = {.set = true, .v = 42}};
  p->rules[1] = (struct spec_seccomp_syscall){
      .names = p->names1, .action = "SCMP_ACT_ERRNO", .args = p->args,
      .n_args = 2};
  p->s = (struct spec_seccomp){.default_action = "SCMP_ACT_ALLOW",
                               .architectures = p->archs,
                               .flags = p->flags,
                               .syscalls = p->rules,
                               .n_syscalls = 2};
}

static uint64_t key_of(const struct spec_seccomp *s) {
  struct seccomp_profile_bytes b;
  seccomp_profile_serialize(s, &b);
  uint64_t key = seccomp_profile_key(&b);
  free(b.data);
  return key;
}

/* ---- a cache directory per test ---------------------------------------- */

static char tmpdir[] = "/tmp/hull-seccomp-cache-XXXXXX";
static char *cache_dir;

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-seccomp-cache-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  cache_dir = xasprintf("%s/.cache/seccomp", tmpdir);
}

static void teardown(void) {
  hull_error_t err = NULL;
  if (remove_tree(tmpdir, &err) < 0)
    hull_error_release(&err);
  free(cache_dir);
}

/* The one file in cache_dir (the test fails unless there is exactly one). */
static char *the_cache_file(const struct spec_seccomp *s) {
  struct seccomp_profile_bytes b;
  seccomp_profile_serialize(s, &b);
  char *path = xasprintf("%s/%016llx", cache_dir,
                         (unsigned long long)seccomp_profile_key(&b));
  free(b.data);
  ck_assert_msg(access(path, F_OK) == 0, "no cache file %s", path);
  return path;
}

static struct seccomp_bpf bpf_for(const struct spec_seccomp *s) {
  hull_error_t err = NULL;
  struct seccomp_bpf bpf = {0};
  int r = seccomp_bpf_for(s, cache_dir, &bpf, &err);
  ck_assert_msg(r == 0, "seccomp_bpf_for: %s", err ? err->msg : "?");
  ck_assert_uint_gt(bpf.len, 0);
  return bpf;
}

static bool same_program(const struct seccomp_bpf *a,
                         const struct seccomp_bpf *b) {
  return a->len == b->len &&
         memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0;
}

/* A program no compiler made from the profile: everything fails EXDEV. */
static struct sock_filter exdev_insn[] = {
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EXDEV)};
static const struct seccomp_bpf exdev_program = {.insns = exdev_insn,
                                                 .len = 1};

static void store(const struct spec_seccomp *s, const struct seccomp_bpf *bpf) {
  struct seccomp_profile_bytes b;
  seccomp_profile_serialize(s, &b);
  hull_error_t err = NULL;
  int r = seccomp_cache_store(cache_dir, &b, bpf, &err);
  ck_assert_msg(r == 0, "store: %s", err ? err->msg : "?");
  free(b.data);
}

static bool lookup_hits(const struct spec_seccomp *s) {
  struct seccomp_profile_bytes b;
  seccomp_profile_serialize(s, &b);
  struct seccomp_bpf got = {0};
  int r = seccomp_cache_lookup(cache_dir, &b, &got);
  free(b.data);
  seccomp_bpf_free(&got);
  return r == 1;
}

/* ---- keys ---------------------------------------------------------------- */

START_TEST(equal_profiles_have_equal_keys) {
  struct profile a, b;
  profile_init(&a);
  profile_init(&b);
  ck_assert_uint_eq(key_of(&a.s), key_of(&b.s));
  /* Equal strings at other addresses. */
  char name[] = "getcwd";
  b.names0[0] = name;
  ck_assert_uint_eq(key_of(&a.s), key_of(&b.s));
  /* The listener does not shape the filter. */
  b.s.listener_path = "/run/agent.sock";
  b.s.listener_metadata = "meta";
  ck_assert_uint_eq(key_of(&a.s), key_of(&b.s));
}
END_TEST

/* Every way of changing the filter, applied to a fresh profile each. */
static void change(struct profile *p, int how) {
  switch (how) {
  case 0: p->s.default_action = "SCMP_ACT_ERRNO"; break;
  case 1: p->s.default_errno_ret = (struct spec_uint){.set = true, .v = 1}; break;
  case 2: p->rules[0].action = "SCMP_ACT_KILL"; break;
  case 3: p->rules[0].errno_ret.v = 43; break;
  case 4: p->rules[0].errno_ret.set = false; break;
  case 5: p->names0[1] = "getpid"; break;
  case 6: p->names0[1] = NULL; break;
  case 7: p->args[0].value = 9; break;
  case 8: p->args[0].index = 2; break;
  case 9: p->args[0].op = "SCMP_CMP_NE"; break;
  case 10: p->args[1].value_two.v = 2; break;
  case 11: p->rules[1].n_args = 1; break;
  case 12: p->archs[1] = "SCMP_ARCH_X32"; break;
  case 13: p->archs[0] = NULL; break;
  case 14: p->s.architectures = NULL; break;
  case 15: p->flags[0] = "SECCOMP_FILTER_FLAG_LOG"; break;
  case 16: p->s.flags = NULL; break;
  case 17: p->s.n_syscalls = 1; break;
  /* Strings are length-prefixed: moving a name between neighbours shows. */
  case 18: p->names0[0] = "getcwdgetppid"; p->names0[1] = NULL; break;
  }
}
#define N_CHANGES 19

START_TEST(any_change_changes_the_key) {
  struct profile base;
  profile_init(&base);
  uint64_t keys[N_CHANGES + 1];
  keys[N_CHANGES] = key_of(&base.s);
  for (int how = 0; how < N_CHANGES; how++) {
    struct profile p;
    profile_init(&p);
    change(&p, how);
    keys[how] = key_of(&p.s);
  }
  /* keys[N_CHANGES] is the unchanged profile. */
  for (int i = 0; i <= N_CHANGES; i++)
    for (int j = i + 1; j <= N_CHANGES; j++)
      ck_assert_msg(keys[i] != keys[j], "changes %d and %d agree", i, j);
}
END_TEST

START_TEST(key_is_fnv1a_of_the_serialization) {
  struct seccomp_profile_bytes b = {.data = "a", .len = 1};
  ck_assert_uint_eq(seccomp_profile_key(&b), 0xaf63dc4c8601ec8cULL);
  b = (struct seccomp_profile_bytes){.data = "", .len = 0};
  ck_assert_uint_eq(seccomp_profile_key(&b), 0xcbf29ce484222325ULL);
}
END_TEST

/* ---- the cache files ------------------------------------------------------ */

START_TEST(program_round_trips_through_the_cache) {
  struct profile p;
  profile_init(&p);
  hull_error_t err = NULL;
  struct seccomp_bpf compiled = {0};
  ck_assert_int_eq(seccomp_filter_compile(&p.s, &compiled, &err), 0);
  struct seccomp_bpf first = bpf_for(&p.s);     /* a miss: compiles, stores */
  ck_assert(same_program(&first, &compiled));
  cleanup_free char *path = the_cache_file(&p.s);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  ck_assert_int_eq(stat(cache_dir, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0700);
  struct seccomp_bpf second = bpf_for(&p.s);    /* a hit */
  ck_assert(same_program(&second, &compiled));
  seccomp_bpf_free(&compiled);
  seccomp_bpf_free(&first);
  seccomp_bpf_free(&second);
}
END_TEST

/* What is in the file is what is used: the cache is read, not bypassed. */
START_TEST(a_hit_does_not_compile) {
  struct profile p;
  profile_init(&p);
  store(&p.s, &exdev_program);
  struct seccomp_bpf got = bpf_for(&p.s);
  ck_assert(same_program(&got, &exdev_program));
  seccomp_bpf_free(&got);
}
END_TEST

/* A file under p's key made for another profile (a hash collision). */
START_TEST(another_profile_under_the_same_name_misses) {
  struct profile p, q;
  profile_init(&p);
  profile_init(&q);
  q.rules[0].errno_ret.v = 7;
  store(&q.s, &exdev_program);
  cleanup_free char *q_path = the_cache_file(&q.s);
  store(&p.s, &exdev_program);
  cleanup_free char *p_path = the_cache_file(&p.s);
  ck_assert_int_eq(rename(q_path, p_path), 0);
  ck_assert(!lookup_hits(&p.s));
  struct seccomp_bpf got = bpf_for(&p.s);
  ck_assert(!same_program(&got, &exdev_program));
  seccomp_bpf_free(&got);
  ck_assert(lookup_hits(&p.s));   /* rewritten for p */
}
END_TEST

static void rewrite(const char *path, const char *data, size_t len) {
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(path, data, len, 0600, &err), 0);
}

START_TEST(corrupt_files_are_ignored_and_rewritten) {
  struct profile p;
  profile_init(&p);
  struct seccomp_bpf good = bpf_for(&p.s);
  cleanup_free char *path = the_cache_file(&p.s);
  cleanup_free char *orig = NULL;
  size_t len;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(path, &orig, &len, &err), 0);
  cleanup_free char *bad = xmalloc(len + 8);
  /* Short at every length, one byte flipped at several places (magic,
   * lengths, profile, program), one byte too many, empty. */
  size_t cuts[] = {0, 1, 8, 15, 16, 100, len - 9, len - 8, len - 1};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    rewrite(path, orig, cuts[i]);
    ck_assert_msg(!lookup_hits(&p.s), "a file cut at %zu hits", cuts[i]);
  }
  size_t flips[] = {0, 8, 12, 20, 200, len - 8 * good.len - 8, len - 1};
  for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
    memcpy(bad, orig, len);
    bad[flips[i]] ^= 0x40;
    rewrite(path, bad, len);
    bool hit = lookup_hits(&p.s);
    /* A flip inside the program still parses: the layout cannot tell. */
    if (flips[i] < len - 8 * good.len)
      ck_assert_msg(!hit, "a flip at %zu hits", flips[i]);
  }
  memcpy(bad, orig, len);
  bad[len] = 0;
  rewrite(path, bad, len + 1);
  ck_assert(!lookup_hits(&p.s));
  /* The next container rewrites it. */
  rewrite(path, "garbage", 7);
  struct seccomp_bpf again = bpf_for(&p.s);
  ck_assert(same_program(&again, &good));
  cleanup_free char *now = NULL;
  size_t now_len;
  ck_assert_int_eq(read_file(path, &now, &now_len, &err), 0);
  ck_assert_uint_eq(now_len, len);
  ck_assert_mem_eq(now, orig, len);
  seccomp_bpf_free(&good);
  seccomp_bpf_free(&again);
}
END_TEST

START_TEST(files_others_may_write_are_ignored) {
  struct profile p;
  profile_init(&p);
  store(&p.s, &exdev_program);
  cleanup_free char *path = the_cache_file(&p.s);
  ck_assert(lookup_hits(&p.s));
  ck_assert_int_eq(chmod(path, 0622), 0);
  ck_assert(!lookup_hits(&p.s));
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(chown(path, 1234, 0), 0);
  ck_assert(!lookup_hits(&p.s));
}
END_TEST

START_TEST(an_unusable_cache_dir_only_costs_time) {
  struct profile p;
  profile_init(&p);
  hull_error_t err = NULL;
  struct seccomp_bpf bpf = {0};
  ck_assert_int_eq(seccomp_bpf_for(&p.s, "/proc/self/no-cache-here", &bpf,
                                   &err), 0);
  ck_assert_uint_gt(bpf.len, 0);
  seccomp_bpf_free(&bpf);
  /* A file where the directory should be. */
  cleanup_free char *file_dir = xasprintf("%s/file", tmpdir);
  rewrite(file_dir, "x", 1);
  ck_assert_int_eq(seccomp_bpf_for(&p.s, file_dir, &bpf, &err), 0);
  ck_assert_uint_gt(bpf.len, 0);
  seccomp_bpf_free(&bpf);
  /* A bad profile still fails, cache or not. */
  p.rules[0].action = "SCMP_ACT_FOO";
  ck_assert_int_lt(seccomp_bpf_for(&p.s, cache_dir, &bpf, &err), 0);
  ck_assert_ptr_nonnull(strstr(err->msg, "unknown action"));
  hull_error_release(&err);
  ck_assert_int_eq(access(cache_dir, F_OK), -1);
}
END_TEST

/* A cached notify profile without listenerPath is still refused. */
START_TEST(profile_checks_run_on_a_hit) {
  struct profile p;
  profile_init(&p);
  p.rules[0].action = "SCMP_ACT_NOTIFY";
  store(&p.s, &exdev_program);
  hull_error_t err = NULL;
  struct seccomp_bpf bpf = {0};
  ck_assert_int_lt(seccomp_bpf_for(&p.s, cache_dir, &bpf, &err), 0);
  ck_assert_ptr_nonnull(strstr(err->msg, "listenerPath: required"));
  hull_error_release(&err);
}
END_TEST

/* ---- the kernel enforces what came from the cache ------------------------ */

START_TEST(cached_program_is_enforced) {
  struct profile p;
  profile_init(&p);
  p.s.flags = NULL;
  seccomp_bpf_free((struct seccomp_bpf[]){bpf_for(&p.s)}); /* fill the cache */
  ck_assert(lookup_hits(&p.s));
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    hull_error_t err = NULL;
    struct seccomp_prepared prepared;
    if (seccomp_prepare(&p.s, tmpdir, &prepared, &err) < 0)
      _exit(10);
    /* seccomp_prepare appends "seccomp" to the cache dir it is given. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(11);
    if (seccomp_apply(&p.s, &prepared, &err) < 0)
      _exit(12);
    char buf[64];
    if (syscall(SYS_getcwd, buf, sizeof(buf)) >= 0 || errno != 42)
      _exit(13);
    if (syscall(SYS_personality, 8, 1) >= 0 || errno != EPERM)
      _exit(14);
    _exit(syscall(SYS_getpid) > 0 ? 0 : 15);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child status %#x", status);
}
END_TEST

static Suite *seccomp_cache_suite(void) {
  Suite *s = suite_create("seccomp-cache");
  TCase *tc = tcase_create("seccomp-cache");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, equal_profiles_have_equal_keys);
  tcase_add_test(tc, any_change_changes_the_key);
  tcase_add_test(tc, key_is_fnv1a_of_the_serialization);
  tcase_add_test(tc, program_round_trips_through_the_cache);
  tcase_add_test(tc, a_hit_does_not_compile);
  tcase_add_test(tc, another_profile_under_the_same_name_misses);
  tcase_add_test(tc, corrupt_files_are_ignored_and_rewritten);
  tcase_add_test(tc, files_others_may_write_are_ignored);
  tcase_add_test(tc, an_unusable_cache_dir_only_costs_time);
  tcase_add_test(tc, profile_checks_run_on_a_hit);
  suite_add_tcase(s, tc);
  /* valgrind cannot run seccomp filters: `make check-valgrind` skips it. */
  TCase *kernel = tcase_create("seccomp-cache-kernel");
  tcase_set_tags(kernel, "kernel-security");
  tcase_add_checked_fixture(kernel, setup, teardown);
  tcase_add_test(kernel, cached_program_is_enforced);
  suite_add_tcase(s, kernel);
  return s;
}
HULL_SUITE(seccomp_cache_suite)
