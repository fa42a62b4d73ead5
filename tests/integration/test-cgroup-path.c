/* test-cgroup-path.c — a relative linux.cgroupsPath hangs off the cgroups
 * `create` ran in, for every later verb too: `update` and `delete` run from
 * another cgroup must find the container's cgroup where create made it, and
 * leave nothing behind. Where it hangs off is runc's: the caller's own
 * cgroup on v1, that cgroup's parent on v2 (a cgroup2 cgroup with processes
 * in it gives its children no controllers). */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hierarchy the test moves itself in: v1's pids one, or cgroup2. */
static const char *hierarchy_root(enum layout l) {
  return l == LAYOUT_V1 ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup";
}

/* Our own cgroup in that hierarchy, from /proc/self/cgroup ("N:pids:/a"
 * on v1, "0::/a" on v2). */
static char *own_cgroup(enum layout l) {
  const char *key = l == LAYOUT_V1 ? "pids:" : ":";
  cleanup_free char *self = hread_file("/proc/self/cgroup");
  ck_assert_ptr_nonnull(self);
  for (char *line = strtok(self, "\n"); line; line = strtok(NULL, "\n")) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && strncmp(c1 + 1, key, strlen(key)) == 0)
      return xstrdup(c2 + 1);
  }
  ck_abort_msg("no %s line in /proc/self/cgroup", key);
  return NULL;
}

static void move_self(const char *dir) {
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *pid = xasprintf("%d", (int)getpid());
  hwrite_file(procs, pid, 0644);
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

START_TEST(relative_cgroups_path_is_found_from_another_cgroup) {
  enum layout l = host_layout();
  SKIP_UNLESS(l == LAYOUT_V2 || (l == LAYOUT_V1 && has_controller(l, "pids")),
              "needs cgroup2 at /sys/fs/cgroup or the v1 pids hierarchy");
  struct hctx *c = hctx_new();
  cleanup_free char *own = own_cgroup(l);
  cleanup_free char *home = xasprintf("%s%s", hierarchy_root(l),
                                      strcmp(own, "/") == 0 ? "" : own);
  /* A cgroup of the test's own to create from; on v2 inside a box, whose
   * child the container's cgroup becomes (the box holds no process). */
  cleanup_free char *box = xasprintf("%s/%s-box", home, c->id);
  cleanup_free char *creator =
      l == LAYOUT_V1 ? xasprintf("%s/%s-creator", home, c->id)
                     : xasprintf("%s/creator", box);
  cleanup_free char *rel = xasprintf("%s-rel", c->id);
  cleanup_free char *where = xasprintf("%s/%s", l == LAYOUT_V1 ? creator : box,
                                       rel);
  cleanup_free char *elsewhere = xasprintf("%s/%s", home, rel);
  if (l == LAYOUT_V2)
    ck_assert_msg(mkdir(box, 0755) == 0, "mkdir %s", box);
  ck_assert_msg(mkdir(creator, 0755) == 0, "mkdir %s", creator);

  cleanup_free char *extra = xasprintf("\"cgroupsPath\": \"%s\"", rel);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "100"),
                                         .linux_extra = extra});
  move_self(creator);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  move_self(home); /* back before any assertion can end the test */
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(is_dir(where), "create made no %s", where);

  /* From the test's own cgroup, update writes where create made it. */
  hrun_expect(0, c, "update", "--pids-limit", "33", c->id);
  cleanup_free char *max_path = xasprintf("%s/pids.max", where);
  cleanup_free char *max = hread_file(max_path);
  ck_assert_msg(max && strncmp(max, "33", 2) == 0, "%s: `%s`", max_path,
                max ? max : "(unreadable)");
  ck_assert_msg(!is_dir(elsewhere), "update made %s", elsewhere);

  hrun_expect(0, c, "delete", "--force", c->id);
  ck_assert_msg(!is_dir(where), "%s left after delete", where);
  ck_assert_msg(!is_dir(elsewhere), "delete made %s", elsewhere);
  ck_assert_msg(rmdir(creator) == 0, "rmdir %s", creator);
  if (l == LAYOUT_V2)
    ck_assert_msg(rmdir(box) == 0, "rmdir %s", box);
  hctx_finish(c);
}
END_TEST

static Suite *cgroup_path_suite(void) {
  Suite *s = suite_create("integration-cgroup-path");
  TCase *tc = harness_tcase("relative", 30);
  tcase_add_test(tc, relative_cgroups_path_is_found_from_another_cgroup);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(cgroup_path_suite)
