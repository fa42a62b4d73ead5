/* test_cache.c — runtime/common/cache.c: a cache past its bound evicts
 * its least recently used entries (use, not creation, makes an entry
 * recent), an entry someone holds is never evicted, abandoned temporaries
 * go, the bound's environment variable, and users that never fail while
 * eviction runs concurrently (plain entries and the VM base initramfs). */
#include "runtime/common/common.h"
#include "runtime/vm/host.h"
#include "runtime/vm/vm.h"
#include "tests/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/hull-cache-XXXXXX";
static char *dir;

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-cache-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  dir = xasprintf("%s/c", tmpdir);
}

static void teardown(void) {
  cleanup_free char *cmd = xasprintf("rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
  free(dir);
}

/* Adds entry name of size bytes (filled with fill), or takes the one a
 * concurrent writer added; returns its held fd. */
static int add_held(const char *name, size_t size, char fill) {
  hull_error_t err = NULL;
  char *tmp = NULL;
  int fd = cache_new_entry(dir, &tmp, &err);
  ck_assert_msg(fd >= 0, "%s", err ? err->msg : "");
  char *buf = xmalloc(size);
  memset(buf, fill, size);
  ck_assert_int_eq(write_all(fd, buf, size), 0);
  free(buf);
  ck_assert_msg(cache_publish_or_use(dir, tmp, name, &fd, &err) == 0, "%s",
                err ? err->msg : "");
  free(tmp);
  return fd;
}

static void add(const char *name, size_t size, time_t used) {
  close(add_held(name, size, 'x'));
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  struct timespec t[2] = {{.tv_sec = used}, {.tv_sec = used}};
  ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool exists(const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static struct cache_trim_result trim(uint64_t max) {
  struct cache_trim_result r;
  hull_error_t err = NULL;
  ck_assert_msg(cache_trim(dir, max, true, &r, &err) == 0, "%s",
                err ? err->msg : "");
  return r;
}

/* a, b, c written in that order; a used last: b, then c, go first. */
START_TEST(past_its_bound_the_least_recently_used_go) {
  time_t now = time(NULL);
  add("a", 1000, now - 300);
  add("b", 1000, now - 200);
  add("c", 1000, now - 100);
  int fd = cache_use(dir, "a");
  ck_assert_int_ge(fd, 0);
  close(fd);
  struct cache_trim_result r = trim(2500);
  ck_assert_uint_eq(r.removed, 1);
  ck_assert_uint_eq(r.freed, 1000);
  ck_assert_uint_eq(r.kept, 2000);
  cleanup_free char *b = xasprintf("%s/b", dir);
  ck_assert_str_eq(r.removed_paths[0], b);
  strv_free(r.removed_paths);
  ck_assert(exists("a") && !exists("b") && exists("c"));
  r = trim(1000);
  ck_assert_uint_eq(r.kept, 1000);
  strv_free(r.removed_paths);
  ck_assert(exists("a") && !exists("c"));
  /* within its bound: nothing goes */
  r = trim(1000);
  ck_assert_uint_eq(r.removed, 0);
}
END_TEST

/* Held by a user (cache_use) or by its writer (cache_new_entry's fd):
 * kept, even by a trim to nothing; released, it goes. */
START_TEST(an_entry_in_use_is_not_evicted) {
  time_t now = time(NULL);
  add("old", 100, now - 1000);
  add("older", 100, now - 2000);
  int user = cache_use(dir, "older");
  int writer = add_held("new", 100, 'y');
  struct cache_trim_result r = trim(0);
  ck_assert_uint_eq(r.removed, 1);
  ck_assert_uint_eq(r.kept, 200);
  strv_free(r.removed_paths);
  ck_assert(exists("older") && exists("new") && !exists("old"));
  close(user);
  close(writer);
  r = trim(0);
  ck_assert_uint_eq(r.removed, 2);
  ck_assert_uint_eq(r.freed, 200);
  strv_free(r.removed_paths);
  ck_assert(!exists("older") && !exists("new"));
}
END_TEST

/* A temporary no writer holds, older than a minute, is a dead writer's. */
START_TEST(abandoned_temporaries_are_removed) {
  hull_error_t err = NULL;
  char *held = NULL, *young = NULL;
  int held_fd = cache_new_entry(dir, &held, &err);
  int young_fd = cache_new_entry(dir, &young, &err);
  ck_assert_int_ge(held_fd, 0);
  ck_assert_int_ge(young_fd, 0);
  close(young_fd);
  cleanup_free char *dead = xasprintf("%s/.new-dead", dir);
  int fd = open(dead, O_WRONLY | O_CREAT, 0600);
  ck_assert_int_ge(fd, 0);
  close(fd);
  struct timespec old[2] = {{.tv_sec = time(NULL) - 3600},
                            {.tv_sec = time(NULL) - 3600}};
  ck_assert_int_eq(utimensat(AT_FDCWD, dead, old, 0), 0);
  ck_assert_int_eq(utimensat(AT_FDCWD, held, old, 0), 0);
  struct cache_trim_result r = trim(0);
  ck_assert_uint_eq(r.removed, 1);
  strv_free(r.removed_paths);
  ck_assert_int_ne(access(dead, F_OK), 0);
  ck_assert_int_eq(access(held, F_OK), 0);
  ck_assert_int_eq(access(young, F_OK), 0);
  close(held_fd);
  free(held);
  free(young);
}
END_TEST

START_TEST(a_missing_cache_is_empty) {
  struct cache_trim_result r = trim(0);
  ck_assert_uint_eq(r.removed, 0);
  ck_assert_int_eq(cache_use(dir, "a"), -1);
}
END_TEST

START_TEST(the_bound_comes_from_the_environment) {
  unsetenv("HULL_TEST_CACHE_MAX");
  ck_assert_uint_eq(cache_limit("HULL_TEST_CACHE_MAX", 7), 7);
  setenv("HULL_TEST_CACHE_MAX", "64M", 1);
  ck_assert_uint_eq(cache_limit("HULL_TEST_CACHE_MAX", 7), 64ULL << 20);
  setenv("HULL_TEST_CACHE_MAX", "2G", 1);
  ck_assert_uint_eq(cache_limit("HULL_TEST_CACHE_MAX", 7), 2ULL << 30);
  setenv("HULL_TEST_CACHE_MAX", "0", 1);
  ck_assert_uint_eq(cache_limit("HULL_TEST_CACHE_MAX", 7), 0);
  static const char *const bad[] = {"-1", "12X", "M", "99999999999999G"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    setenv("HULL_TEST_CACHE_MAX", bad[i], 1);
    ck_assert_uint_eq(cache_limit("HULL_TEST_CACHE_MAX", 7), 7);
  }
  unsetenv("HULL_TEST_CACHE_MAX");
}
END_TEST

/* ---- users racing eviction ---------------------------------------------- */

#define ENTRY_SIZE 65536

/* What a create does: use the entry or build it, then read it by path (as
 * qemu reads the kernel) while holding it. 0 when every round saw it whole. */
static int use_or_build(int rounds) {
  for (int i = 0; i < rounds; i++) {
    int fd = cache_use(dir, "e");
    if (fd < 0)
      fd = add_held("e", ENTRY_SIZE, 'e');
    cleanup_free char *path = xasprintf("%s/e", dir);
    cleanup_close int by_path = open(path, O_RDONLY);
    struct stat st;
    if (by_path < 0 || fstat(by_path, &st) < 0 || st.st_size != ENTRY_SIZE)
      return 1;
    close(fd);
  }
  return 0;
}

static pid_t spawn_users(int rounds, int (*user)(int)) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(user(rounds));
  return pid;
}

/* Trims to nothing until the n users are done; each must have succeeded. */
static void trim_while_users_run(pid_t *users, int n) {
  int left = n;
  unsigned trims = 0;
  while (left > 0) {
    struct cache_trim_result r = trim(0);
    strv_free(r.removed_paths);
    trims++;
    for (int i = 0; i < n; i++) {
      int status;
      if (users[i] > 0 && waitpid(users[i], &status, WNOHANG) == users[i]) {
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "a user failed while the cache was trimmed (%#x)",
                      status);
        users[i] = 0;
        left--;
      }
    }
  }
  ck_assert_uint_gt(trims, 1);
}

START_TEST(users_never_fail_while_eviction_runs) {
  pid_t users[4];
  for (int i = 0; i < 4; i++)
    users[i] = spawn_users(300, use_or_build);
  trim_while_users_run(users, 4);
  /* and after it all, the cache still works */
  ck_assert_int_eq(use_or_build(1), 0);
  ck_assert(exists("e"));
}
END_TEST

/* VM creates take the base initramfs (no VM is booted: this is the part
 * of create that uses the cache) while `hull gc` empties it. */
static int use_vm_base(int rounds) {
  for (int i = 0; i < rounds; i++) {
    char *path = NULL;
    int lock;
    hull_error_t err = NULL;
    if (vm_image_base(tmpdir, &path, &lock, &err) < 0)
      return 1;
    cleanup_close int by_path = open(path, O_RDONLY);
    struct stat st;
    free(path);
    if (by_path < 0 || fstat(by_path, &st) < 0 || st.st_size == 0)
      return 2;
    close(lock);
  }
  return 0;
}

START_TEST(vm_base_users_never_fail_while_eviction_runs) {
  free(dir);
  dir = xasprintf("%s/vm", tmpdir);
  pid_t users[2];
  for (int i = 0; i < 2; i++)
    users[i] = spawn_users(15, use_vm_base);
  trim_while_users_run(users, 2);
  ck_assert_int_eq(use_vm_base(1), 0);
}
END_TEST

/* And the kernel unpacked from a bzImage, which qemu opens by path. */
static char *bzimage;

static int use_unpacked_kernel(int rounds) {
  for (int i = 0; i < rounds; i++) {
    int lock;
    cleanup_free char *path = vm_unpacked_kernel(bzimage, tmpdir, &lock);
    if (path == NULL)
      return 1;
    cleanup_close int by_path = open(path, O_RDONLY);
    if (by_path < 0)
      return 2;
    close(lock);
  }
  return 0;
}

START_TEST(unpacked_kernel_users_never_fail_while_eviction_runs) {
  glob_t g;
  if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
    SKIP_TEST("no /boot/vmlinuz-* (linux-image-amd64)");
  bzimage = xstrdup(g.gl_pathv[0]);
  globfree(&g);
  free(dir);
  dir = xasprintf("%s/vm", tmpdir);
  pid_t users[2];
  for (int i = 0; i < 2; i++)
    users[i] = spawn_users(3, use_unpacked_kernel);
  trim_while_users_run(users, 2);
  ck_assert_int_eq(use_unpacked_kernel(1), 0);
  free(bzimage);
}
END_TEST

static Suite *cache_suite(void) {
  Suite *s = suite_create("cache");
  TCase *tc = tcase_create("cache");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, past_its_bound_the_least_recently_used_go);
  tcase_add_test(tc, an_entry_in_use_is_not_evicted);
  tcase_add_test(tc, abandoned_temporaries_are_removed);
  tcase_add_test(tc, a_missing_cache_is_empty);
  tcase_add_test(tc, the_bound_comes_from_the_environment);
  tcase_add_test(tc, users_never_fail_while_eviction_runs);
  tcase_add_test(tc, vm_base_users_never_fail_while_eviction_runs);
  tcase_add_test(tc, unpacked_kernel_users_never_fail_while_eviction_runs);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(cache_suite)
