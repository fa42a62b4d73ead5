/* test-userns-pool.c — run.oci.userns=auto's id pool
 * (runtime/state/userns-pool.c) under a temporary --root: the pool's
 * sources, first fit across uids and gids, records held, committed,
 * released and reclaimed. */
#include "runtime/state/state.h"
#include "tests/suite.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void setup(void) {
  strcpy(root, "/tmp/hull-userns-pool-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(root, &err);
  hull_error_release(&err);
}

/* A container's state dir, as create makes it before it takes a range. */
static void make_state_dir(const char *id) {
  cleanup_free char *dir = xasprintf("%s/%s", root, id);
  ck_assert_int_eq(mkdir(dir, 0711), 0);
}

static bool has_record(const char *name) {
  cleanup_free char *path = xasprintf("%s/.userns/%s", root, name);
  return access(path, F_OK) == 0;
}

static int n_records(void) {
  cleanup_free char *path = xasprintf("%s/.userns", root);
  DIR *d = opendir(path);
  if (d == NULL)
    return 0;
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += de->d_name[0] != '.';
  closedir(d);
  return n;
}

static struct userns_pool pool_of(const char *text) {
  struct userns_pool p;
  hull_error_t err = NULL;
  ck_assert_msg(userns_pool_parse(text, &p, &err) == 0, "%s", err->msg);
  return p;
}

static struct userns_span take(const struct userns_pool *p, const char *id,
                               uint32_t size, struct userns_lease *l) {
  hull_error_t err = NULL;
  ck_assert_msg(userns_lease_take(root, id, p, size, l, &err) == 0, "%s",
                err ? err->msg : "");
  return l->range;
}

START_TEST(ranges_are_first_fit_and_disjoint) {
  struct userns_pool p = pool_of("100000:300000");
  struct userns_lease a, b, c;
  make_state_dir("a");
  make_state_dir("b");
  make_state_dir("c");
  ck_assert_uint_eq(take(&p, "a", 65536, &a).uid, 100000);
  ck_assert_uint_eq(take(&p, "b", 1000, &b).uid, 165536);
  ck_assert_uint_eq(take(&p, "c", 65536, &c).uid, 166536);
  ck_assert_uint_eq(c.range.gid, 166536);
  ck_assert(has_record("pending:100000:100000+65536=a"));
  hull_error_t err = NULL;
  ck_assert_int_eq(userns_lease_commit(&b, &err), 0);
  ck_assert(has_record("165536:165536+1000=b"));
  /* b's range goes back and fits a small one, not a large one. */
  ck_assert_int_eq(userns_release(root, "b", &err), 0);
  struct userns_lease d, e;
  make_state_dir("d");
  make_state_dir("e");
  ck_assert_uint_eq(take(&p, "d", 2000, &d).uid, 232072);
  ck_assert_uint_eq(take(&p, "e", 500, &e).uid, 165536);
  userns_lease_close(&a);
  userns_lease_close(&c);
  userns_lease_close(&d);
  userns_lease_close(&e);
  userns_pool_clear(&p);
}
END_TEST

START_TEST(an_exhausted_pool_says_so) {
  struct userns_pool p = pool_of("100000:100000");
  struct userns_lease a, b;
  make_state_dir("a");
  make_state_dir("b");
  take(&p, "a", 65536, &a);
  hull_error_t err = NULL;
  ck_assert_int_eq(userns_lease_take(root, "b", &p, 65536, &b, &err), -1);
  ck_assert_str_eq(err->msg, "no free range of 65536 ids left in the pool "
                             "(--userns-pool 100000:100000; 1 ranges held)");
  hull_error_release(&err);
  ck_assert_int_eq(b.fd, -1);
  ck_assert_int_eq(n_records(), 1);
  userns_lease_close(&a);
  userns_pool_clear(&p);
}
END_TEST

/* A record of another pool (another --userns-pool earlier) still blocks
 * the ids it holds, uids and gids each. */
START_TEST(gid_ranges_are_kept_apart_too) {
  make_state_dir("old");
  cleanup_free char *dir = xasprintf("%s/.userns", root);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  cleanup_free char *rec = xasprintf("%s/500000:100000+1000=old", dir);
  FILE *f = fopen(rec, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  struct userns_pool p = pool_of("100000:100000");
  struct userns_lease l;
  make_state_dir("new");
  /* uids 100000.. are free, gids 100000..100999 are old's. */
  ck_assert_uint_eq(take(&p, "new", 1000, &l).uid, 101000);
  userns_lease_close(&l);
  userns_pool_clear(&p);
}
END_TEST

/* The creator died (its flock is gone) and left no live first process;
 * a state dir gone: both ranges go to the next taker. */
START_TEST(dead_creates_and_gone_containers_are_reclaimed) {
  struct userns_pool p = pool_of("100000:65536");
  struct userns_lease a, b;
  make_state_dir("a");
  take(&p, "a", 65536, &a);
  userns_lease_close(&a); /* as a SIGKILL would: the flock goes */
  make_state_dir("b");
  ck_assert_uint_eq(take(&p, "b", 65536, &b).uid, 100000);
  ck_assert(!has_record("pending:100000:100000+65536=a"));
  hull_error_t err = NULL;
  ck_assert_int_eq(userns_lease_commit(&b, &err), 0);
  cleanup_free char *bdir = xasprintf("%s/b", root);
  ck_assert_int_eq(rmdir(bdir), 0); /* a delete killed after the rmdir */
  struct userns_lease c;
  make_state_dir("c");
  ck_assert_uint_eq(take(&p, "c", 65536, &c).uid, 100000);
  ck_assert_int_eq(n_records(), 1);
  userns_lease_close(&c);
  userns_pool_clear(&p);
}
END_TEST

/* A create in progress holds its range even without a state.json yet. */
START_TEST(a_running_create_keeps_its_range) {
  struct userns_pool p = pool_of("100000:65536");
  struct userns_lease a, b;
  make_state_dir("a");
  take(&p, "a", 65536, &a);
  make_state_dir("b");
  hull_error_t err = NULL;
  ck_assert_int_eq(userns_lease_take(root, "b", &p, 1, &b, &err), -1);
  hull_error_release(&err);
  ck_assert(has_record("pending:100000:100000+65536=a"));
  userns_lease_close(&a);
  userns_pool_clear(&p);
}
END_TEST

START_TEST(pool_option_is_checked) {
  static const char *const bad[][2] = {
      {"abc", "invalid value \"abc\" for flag --userns-pool: want "
              "START:SIZE"},
      {"100000", "invalid value \"100000\" for flag --userns-pool: want "
                 "START:SIZE"},
      {"100000:", "invalid value \"100000:\" for flag --userns-pool: want "
                  "START:SIZE"},
      {"1:2:3", "invalid value \"1:2:3\" for flag --userns-pool: want "
                "START:SIZE"},
      {"100000:0", "--userns-pool 100000:0: the pool is empty (size 0)"},
      {"0:10", "--userns-pool 0:10: the pool may not hold id 0 (the host's "
               "root)"},
      {"4294967295:1", "--userns-pool 4294967295:1: the pool goes past id "
                       "4294967294"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    struct userns_pool p;
    hull_error_t err = NULL;
    ck_assert_int_eq(userns_pool_parse(bad[i][0], &p, &err), -1);
    ck_assert_str_eq(err->msg, bad[i][1]);
    hull_error_release(&err);
  }
}
END_TEST

static char *write_tmp(const char *name, const char *text) {
  char *path = xasprintf("%s/%s", root, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return path;
}

START_TEST(pool_from_subid_files) {
  cleanup_free char *uid = write_tmp("subuid", "alice:100000:65536\n"
                                               "hull:200000:131072\n"
                                               "hull:900000:1000\n");
  cleanup_free char *gid = write_tmp("subgid", "hull:300000:131072\n"
                                               "# a comment\n"
                                               "hull:800000:1000\n");
  struct userns_pool p;
  hull_error_t err = NULL;
  ck_assert_int_eq(userns_pool_from_subid(uid, gid, "hull", &p, &err), 0);
  ck_assert_uint_eq(p.n, 2);
  ck_assert_uint_eq(p.spans[0].uid, 200000);
  ck_assert_uint_eq(p.spans[0].gid, 300000);
  ck_assert_uint_eq(p.spans[0].size, 131072);
  ck_assert_uint_eq(p.spans[1].uid, 900000);
  ck_assert_uint_eq(p.spans[1].gid, 800000);
  ck_assert_uint_eq(userns_pool_largest(&p), 131072);
  userns_pool_clear(&p);

  ck_assert_int_eq(userns_pool_from_subid(uid, gid, "bob", &p, &err), -1);
  cleanup_free char *want = xasprintf(
      "no id pool: %s has no entry for user \"bob\" (add bob:START:SIZE to "
      "%s and %s, or give --userns-pool START:SIZE)", uid, uid, gid);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);

  cleanup_free char *uneven = write_tmp("subgid2", "hull:300000:65536\n"
                                                  "hull:800000:1000\n");
  ck_assert_int_eq(userns_pool_from_subid(uid, uneven, "hull", &p, &err), -1);
  ck_assert_msg(strstr(err->msg, "has 131072 ids in") != NULL, "%s",
                err->msg);
  hull_error_release(&err);
}
END_TEST

static Suite *userns_pool_suite(void) {
  Suite *s = suite_create("userns-pool");
  TCase *tc = tcase_create("pool");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, ranges_are_first_fit_and_disjoint);
  tcase_add_test(tc, an_exhausted_pool_says_so);
  tcase_add_test(tc, gid_ranges_are_kept_apart_too);
  tcase_add_test(tc, dead_creates_and_gone_containers_are_reclaimed);
  tcase_add_test(tc, a_running_create_keeps_its_range);
  tcase_add_test(tc, pool_option_is_checked);
  tcase_add_test(tc, pool_from_subid_files);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(userns_pool_suite)
