/* test_cgroups.c — cgroup paths and hierarchy discovery as pure functions,
 * and the manager on this host's real cgroupfs (hybrid: v1 controllers plus
 * an empty cgroup2 at /sys/fs/cgroup/unified). Live tests work under a
 * unique /hull-test-<pid> parent and remove it again. */
#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "tests/suite.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- paths ------------------------------------------------------------- */

static void assert_clean(const char *in, const char *want) {
  cleanup_free char *got = cgroup_path_clean(in);
  ck_assert_msg(strcmp(got, want) == 0, "clean(%s) = %s, want %s", in, got,
                want);
}

START_TEST(path_clean_like_runc) {
  assert_clean("/a/b", "/a/b");
  assert_clean("/a//b/./c/", "/a/b/c");
  assert_clean("/a/../../../b", "/b");
  assert_clean("/..", "/");
  assert_clean("a/b", "a/b");
  assert_clean("./a/b/../c", "a/c");
  assert_clean("../../../x/y", "x/y");
  assert_clean("a/..", "");
}
END_TEST

START_TEST(path_for_spec) {
  struct spec_linux lx = {0};
  struct spec spec = {.linux = NULL};
  cleanup_free char *dflt = cgroup_path_for(&spec, "c1", false);
  ck_assert_str_eq(dflt, "/hull/c1");

  spec.linux = &lx;
  cleanup_free char *dflt2 = cgroup_path_for(&spec, "c1", false);
  ck_assert_str_eq(dflt2, "/hull/c1");

  lx.cgroups_path = "/machine/../ctr//c1";
  cleanup_free char *abs = cgroup_path_for(&spec, "c1", false);
  ck_assert_str_eq(abs, "/ctr/c1");

  lx.cgroups_path = "../escape/c1";
  cleanup_free char *rel = cgroup_path_for(&spec, "c1", false);
  ck_assert_str_eq(rel, "escape/c1");
}
END_TEST

/* ---- hierarchy discovery -------------------------------------------------- */

static const char *HYBRID_MOUNTINFO =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup "
    "rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /tmp/odd\\040dir rw - tmpfs tmpfs rw\n";

static const char *HYBRID_SELF =
    "5:name=systemd:/user.slice\n"
    "4:memory:/process_api/abc\n"
    "3:cpuset:/\n"
    "2:cpu,cpuacct:/\n"
    "1:net_cls:/\n"            /* not mounted: left out */
    "0::/user.slice\n";

START_TEST(hierarchies_hybrid) {
  struct cgroup_hierarchies hs;
  cgroup_hierarchies_parse(HYBRID_MOUNTINFO, HYBRID_SELF, &hs);
  ck_assert_uint_eq(hs.len, 5);
  ck_assert_str_eq(hs.items[0].controllers, "name=systemd");
  ck_assert_str_eq(hs.items[0].mountpoint, "/sys/fs/cgroup/systemd");
  ck_assert_str_eq(hs.items[1].mountpoint, "/sys/fs/cgroup/memory");
  ck_assert_str_eq(hs.items[1].own_path, "/process_api/abc");
  ck_assert_str_eq(hs.items[3].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  ck_assert_str_eq(hs.items[4].controllers, "");
  ck_assert_str_eq(hs.items[4].mountpoint, "/sys/fs/cgroup/unified");

  /* Absolute paths hang off the root, relative ones off our own cgroup. */
  cleanup_free char *a = cgroup_hierarchy_dir(&hs.items[1], "/hull/c1");
  ck_assert_str_eq(a, "/sys/fs/cgroup/memory/hull/c1");
  cleanup_free char *r = cgroup_hierarchy_dir(&hs.items[1], "c1");
  ck_assert_str_eq(r, "/sys/fs/cgroup/memory/process_api/abc/c1");
  cleanup_free char *r2 = cgroup_hierarchy_dir(&hs.items[2], "c1");
  ck_assert_str_eq(r2, "/sys/fs/cgroup/cpuset/c1");
  cgroup_hierarchies_free(&hs);
}
END_TEST

START_TEST(hierarchies_unified_and_subtree_mount) {
  /* A pure v2 host; and a mount of a subtree (root /ctr), as inside a
   * container without a cgroup namespace. */
  const char *mi =
      "30 23 0:26 /ctr /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 "
      "rw,nsdelegate\n";
  struct cgroup_hierarchies hs;
  cgroup_hierarchies_parse(mi, "0::/ctr/sub\n", &hs);
  ck_assert_uint_eq(hs.len, 1);
  ck_assert_str_eq(hs.items[0].mountpoint, "/sys/fs/cgroup");
  ck_assert_str_eq(hs.items[0].own_path, "/sub");
  cleanup_free char *r = cgroup_hierarchy_dir(&hs.items[0], "x");
  ck_assert_str_eq(r, "/sys/fs/cgroup/sub/x");
  cgroup_hierarchies_free(&hs);
}
END_TEST

START_TEST(detects_v1_on_this_host) {
  ck_assert_int_eq(cgroup_detect_mode(), CGROUP_MODE_V1);
  ck_assert_str_eq(cgroup_manager_for(CGROUP_MODE_V1)->name, "cgroupfs-v1");
  ck_assert_str_eq(cgroup_manager_for(CGROUP_MODE_V2)->name, "cgroupfs-v2");
  ck_assert_str_eq(cgroup_manager_for(CGROUP_MODE_DISABLED)->name,
                   "disabled");
}
END_TEST

/* ---- resources ----------------------------------------------------------- */

START_TEST(apply_refuses_what_it_cannot_do) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_DISABLED);
  struct cgroup *cg = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(m->create(m, "/hull/x", &cg, &err), 0);

  ck_assert_int_eq(m->apply(cg, NULL, &err), 0);
  struct spec_resources res = {0};
  struct spec_linux l = {.resources = &res};
  ck_assert_int_eq(m->apply(cg, &l, &err), 0);
  res.memory.present = true;   /* an empty object sets nothing */
  ck_assert_int_eq(m->apply(cg, &l, &err), 0);

  res.memory.limit = (struct spec_int){.set = true, .v = 1 << 20};
  ck_assert_int_eq(m->apply(cg, &l, &err), -1);
  ck_assert_str_eq(err->msg, "linux.resources.memory.limit: no cgroup "
                             "manager on this host to apply it");
  hull_error_release(&err);

  struct spec_resources cpu = {.cpu = {.present = true, .cpus = "0-1"}};
  ck_assert_str_eq(cgroup_resources_first_set(&cpu),
                   "linux.resources.cpu.cpus");
  struct spec_kv kv = {"memory.high", "1G"};
  struct spec_resources uni = {.unified = {.items = &kv, .len = 1}};
  ck_assert_str_eq(cgroup_resources_first_set(&uni),
                   "linux.resources.unified");

  ck_assert_int_eq(cgroup_dirfd(cg), -1);
  ck_assert_int_eq(m->destroy(cg, &err), 0);
  cgroup_free(cg);
}
END_TEST

START_TEST(refuses_root_and_own_cgroup) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V1);
  struct cgroup *cg = NULL;
  hull_error_t err = NULL;
  const char *bad[] = {"/", "/a/..", ".", "a/.."};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    ck_assert_int_eq(m->load(m, bad[i], NULL, &cg, &err), -1);
    ck_assert_ptr_nonnull(strstr(err->msg, "names a root"));
    hull_error_release(&err);
  }
}
END_TEST

/* ---- the v1 manager on this host ----------------------------------------- */

static char parent[64], path[96];

static void live_setup(void) {
  snprintf(parent, sizeof(parent), "/hull-test-%d", (int)getpid());
  snprintf(path, sizeof(path), "%s/c1", parent);
}

/* Kills and removes whatever the tests left, then the parent itself. */
static void live_teardown(void) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V1);
  struct cgroup *cg = NULL;
  hull_error_t err = NULL;
  if (m->load(m, parent, NULL, &cg, &err) == 0)
    m->destroy(cg, &err);
  cgroup_free(cg);
  hull_error_release(&err);
}

/* Every hierarchy this process is in, as "<controllers>:" prefixes. */
static struct cgroup_hierarchies host_hierarchies(void) {
  struct cgroup_hierarchies hs;
  hull_error_t err = NULL;
  ck_assert_int_eq(cgroup_hierarchies_read(&hs, NULL, &err), 0);
  ck_assert_uint_ge(hs.len, 2);
  return hs;
}

static pid_t spawn_sleeper(void) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    for (;;)
      pause();
  }
  return pid;
}

static bool dir_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every line of /proc/<pid>/cgroup ends in `want`. */
static void assert_in_cgroup(pid_t pid, const char *want, size_t n_lines) {
  cleanup_free char *procfile = xasprintf("/proc/%d/cgroup", (int)pid);
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(procfile, &text, NULL, &err), 0);
  size_t lines = 0;
  char *save = NULL;
  for (char *l = strtok_r(text, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save)) {
    char *p = strchr(strchr(l, ':') + 1, ':') + 1;
    ck_assert_msg(strcmp(p, want) == 0, "%s: want %s", l, want);
    lines++;
  }
  ck_assert_uint_eq(lines, n_lines);
}

START_TEST(v1_lifecycle) {
  const struct cgroup_manager *m = cgroup_manager_for(cgroup_detect_mode());
  struct cgroup_hierarchies hs = host_hierarchies();
  hull_error_t err = NULL;
  struct cgroup *cg = NULL;
  ck_assert_msg(m->create(m, path, &cg, &err) == 0, "%s", err->msg);
  /* On a hybrid host the cgroup2 tree is joined at clone time. */
  bool hybrid = false;
  for (size_t i = 0; i < hs.len; i++)
    hybrid |= hs.items[i].controllers[0] == '\0';
  ck_assert_int_eq(cgroup_dirfd(cg) >= 0, hybrid);
  for (size_t i = 0; i < hs.len; i++) {
    cleanup_free char *d = cgroup_hierarchy_dir(&hs.items[i], path);
    ck_assert_msg(dir_exists(d), "%s missing", d);
  }

  pid_t child = spawn_sleeper();
  ck_assert_msg(m->enter(cg, child, &err) == 0, "%s", err->msg);
  assert_in_cgroup(child, path, hs.len);

  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  ck_assert_int_eq(cgroup_pids(cg, &pids, &n, &err), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(pids[0], child);

  ck_assert_int_eq(m->signal_all(cg, SIGKILL, &err), 0);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  ck_assert_msg(m->destroy(cg, &err) == 0, "%s", err->msg);
  for (size_t i = 0; i < hs.len; i++) {
    cleanup_free char *d = cgroup_hierarchy_dir(&hs.items[i], path);
    ck_assert_msg(!dir_exists(d), "%s left behind", d);
  }
  /* Idempotent: again, and through a fresh load as `delete` would. */
  ck_assert_int_eq(m->destroy(cg, &err), 0);
  cgroup_free(cg);
  ck_assert_int_eq(m->load(m, path, NULL, &cg, &err), 0);
  ck_assert_int_eq(m->destroy(cg, &err), 0);
  cgroup_free(cg);
  cgroup_hierarchies_free(&hs);
}
END_TEST

START_TEST(v1_destroy_kills_and_removes_nested) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V1);
  struct cgroup_hierarchies hs = host_hierarchies();
  hull_error_t err = NULL;
  struct cgroup *cg = NULL, *sub = NULL;
  cleanup_free char *nested = xasprintf("%s/inner", path);
  ck_assert_msg(m->create(m, path, &cg, &err) == 0, "%s", err->msg);
  ck_assert_msg(m->create(m, nested, &sub, &err) == 0, "%s", err->msg);

  pid_t a = spawn_sleeper(), b = spawn_sleeper();
  ck_assert_int_eq(m->enter(cg, a, &err), 0);
  ck_assert_int_eq(m->enter(sub, b, &err), 0);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  ck_assert_int_eq(cgroup_pids(cg, &pids, &n, &err), 0);
  ck_assert_uint_eq(n, 2);

  /* Our children stay unreaped zombies during destroy: they must not count
   * as members. */
  ck_assert_msg(m->destroy(cg, &err) == 0, "%s", err->msg);
  int status;
  ck_assert_int_eq(waitpid(a, &status, 0), a);
  ck_assert(WIFSIGNALED(status));
  ck_assert_int_eq(waitpid(b, &status, 0), b);
  ck_assert(WIFSIGNALED(status));
  for (size_t i = 0; i < hs.len; i++) {
    cleanup_free char *d = cgroup_hierarchy_dir(&hs.items[i], path);
    ck_assert_msg(!dir_exists(d), "%s left behind", d);
  }
  cgroup_free(sub);
  cgroup_free(cg);
  cgroup_hierarchies_free(&hs);
}
END_TEST

START_TEST(v1_cpuset_is_usable) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V1);
  hull_error_t err = NULL;
  struct cgroup *cg = NULL;
  ck_assert_int_eq(m->create(m, path, &cg, &err), 0);
  cleanup_free char *cpus = NULL, *root_cpus = NULL;
  cleanup_free char *knob = xasprintf("/sys/fs/cgroup/cpuset%s/cpuset.cpus",
                                      path);
  ck_assert_int_eq(read_file(knob, &cpus, NULL, &err), 0);
  ck_assert_int_eq(read_file("/sys/fs/cgroup/cpuset/cpuset.cpus", &root_cpus,
                             NULL, &err), 0);
  ck_assert_str_eq(cpus, root_cpus);
  ck_assert_int_eq(m->destroy(cg, &err), 0);
  cgroup_free(cg);
}
END_TEST

/* The v2 manager uses only the cgroup2 hierarchy, which this hybrid host
 * mounts at /sys/fs/cgroup/unified: enough to exercise v2.c's create,
 * dirfd and cgroup.kill destroy here. */
START_TEST(v2_manager_on_hybrid_unified) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V2);
  hull_error_t err = NULL;
  struct cgroup *cg = NULL;
  ck_assert_msg(m->create(m, path, &cg, &err) == 0, "%s", err->msg);
  ck_assert_int_ge(cgroup_dirfd(cg), 0);
  cleanup_free char *dir = xasprintf("/sys/fs/cgroup/unified%s", path);
  ck_assert(dir_exists(dir));

  pid_t child = spawn_sleeper();
  ck_assert_msg(m->enter(cg, child, &err) == 0, "%s", err->msg);
  cleanup_free char *procfile = xasprintf("/proc/%d/cgroup", (int)child);
  cleanup_free char *text = NULL;
  ck_assert_int_eq(read_file(procfile, &text, NULL, &err), 0);
  cleanup_free char *want = xasprintf("0::%s\n", path);
  ck_assert_ptr_nonnull(strstr(text, want));
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  ck_assert_int_eq(cgroup_pids(cg, &pids, &n, &err), 0);
  ck_assert_uint_eq(n, 1);

  ck_assert_msg(m->destroy(cg, &err) == 0, "%s", err->msg);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ck_assert(!dir_exists(dir));
  ck_assert_int_eq(m->destroy(cg, &err), 0);
  cgroup_free(cg);
}
END_TEST

/* ---- systemd driver names ------------------------------------------------- */

static void assert_unit(const char *cgpath, const char *slice, const char *unit) {
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *s = NULL, *u = NULL;
  ck_assert_msg(cgroup_systemd_parse(cgpath, &s, &u, &err) == 0, "%s: %s",
                cgpath, err ? err->msg : "");
  ck_assert_str_eq(s, slice);
  ck_assert_str_eq(u, unit);
}

static void assert_refused(const char *cgpath, const char *why) {
  cleanup_error hull_error_t err = NULL;
  char *s = NULL, *u = NULL;
  ck_assert_int_lt(cgroup_systemd_parse(cgpath, &s, &u, &err), 0);
  ck_assert_msg(strstr(err->msg, why), "%s: %s", cgpath, err->msg);
}

/* A relative path is resolved against the cgroups create saved, not the
 * caller's; other paths need nothing saved. */
START_TEST(relative_path_hangs_off_saved_cgroups) {
  hull_error_t err = NULL;
  char *own = NULL;
  ck_assert_int_eq(cgroup_own_cgroups("/hull/x", &own, &err), 0);
  ck_assert_ptr_null(own);
  ck_assert_int_eq(cgroup_own_cgroups("system.slice:hull:x", &own, &err), 0);
  ck_assert_ptr_null(own);
  ck_assert_int_eq(cgroup_own_cgroups("", &own, &err), 0);
  ck_assert_ptr_null(own);
  ck_assert_int_eq(cgroup_own_cgroups("rel/x", &own, &err), 0);
  ck_assert_ptr_nonnull(own);
  ck_assert(strstr(own, "0::") != NULL);
  free(own);

  struct cgroup_hierarchies hs;
  ck_assert_int_eq(cgroup_hierarchies_read(&hs, "0::/saved/place\n", &err), 0);
  for (size_t i = 0; i < hs.len; i++) {
    ck_assert_str_eq(hs.items[i].controllers, "");
    cleanup_free char *d = cgroup_hierarchy_dir(&hs.items[i], "rel/x");
    ck_assert_msg(strstr(d, "/saved/place/rel/x") != NULL, "%s", d);
  }
  cgroup_hierarchies_free(&hs);
}
END_TEST

START_TEST(systemd_paths_like_runc) {
  assert_unit("system.slice:docker:abc", "system.slice", "docker-abc.scope");
  assert_unit(":hull:abc", "system.slice", "hull-abc.scope");
  assert_unit("machine-x.slice::abc", "machine-x.slice", "abc.scope");
  assert_refused("system.slice:hull", "slice:prefix:name");
  assert_refused("a:b:c:d", "slice:prefix:name");
  assert_refused("system.slice:hull:", "with a name");
  assert_refused("system.slice:hull:a/b", "no `/`");
  assert_refused("system.slice:hull:x.slice", "slice of its own");

  const char *slices[][2] = {{"system.slice", "/system.slice"},
                             {"-.slice", ""},
                             {"a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice"},
                             {"user-1000.slice", "/user.slice/user-1000.slice"}};
  for (size_t i = 0; i < sizeof(slices) / sizeof(*slices); i++) {
    cleanup_free char *dir = cgroup_systemd_slice_dir(slices[i][0]);
    ck_assert_str_eq(dir, slices[i][1]);
  }

  ck_assert(cgroup_path_is_systemd("system.slice:hull:x"));
  ck_assert(cgroup_path_is_systemd(":hull:x"));
  ck_assert(!cgroup_path_is_systemd("/hull/x"));
  ck_assert(!cgroup_path_is_systemd("/a:b:c"));
  ck_assert(!cgroup_path_is_systemd("a:b"));
  ck_assert(!cgroup_path_is_systemd(NULL));
}
END_TEST

START_TEST(systemd_path_for_spec) {
  struct spec_linux l = {0};
  struct spec s = {.linux = &l};
  cleanup_free char *def = cgroup_path_for(&s, "c1", true);
  ck_assert_str_eq(def, "system.slice:hull:c1");
  l.cgroups_path = "user.slice:podman:c1";
  cleanup_free char *given = cgroup_path_for(&s, "c1", true);
  ck_assert_str_eq(given, "user.slice:podman:c1");
  ck_assert_str_eq(cgroup_manager_for_path(given, false)->name, "systemd");
  ck_assert_str_eq(cgroup_manager_for_path("/hull/c1", true)->name, "systemd");
  ck_assert_str_ne(cgroup_manager_for_path("/hull/c1", false)->name, "systemd");
}
END_TEST

static Suite *cgroups_suite(void) {
  Suite *s = suite_create("cgroups");
  TCase *pure = tcase_create("paths");
  tcase_add_test(pure, path_clean_like_runc);
  tcase_add_test(pure, path_for_spec);
  tcase_add_test(pure, hierarchies_hybrid);
  tcase_add_test(pure, hierarchies_unified_and_subtree_mount);
  tcase_add_test(pure, detects_v1_on_this_host);
  tcase_add_test(pure, apply_refuses_what_it_cannot_do);
  tcase_add_test(pure, refuses_root_and_own_cgroup);
  tcase_add_test(pure, relative_path_hangs_off_saved_cgroups);
  tcase_add_test(pure, systemd_paths_like_runc);
  tcase_add_test(pure, systemd_path_for_spec);
  suite_add_tcase(s, pure);

  TCase *live = tcase_create("v1-host");
  /* Unchecked: runs in the runner, so cleanup happens even when a test
   * fails half-way. */
  tcase_add_unchecked_fixture(live, live_setup, live_teardown);
  tcase_set_timeout(live, 20);
  tcase_add_test(live, v1_lifecycle);
  tcase_add_test(live, v1_destroy_kills_and_removes_nested);
  tcase_add_test(live, v1_cpuset_is_usable);
  tcase_add_test(live, v2_manager_on_hybrid_unified);
  suite_add_tcase(s, live);
  return s;
}

HULL_SUITE(cgroups_suite)
