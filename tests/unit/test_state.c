/* test_state.c — container ids, state.json through state_write/state_read,
 * and the pid start time that guards against pid reuse. */
#include "runtime/state/state.h"
#include "tests/suite.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-state-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(tmpdir, &err);
  hull_error_release(&err);
}

static void assert_id_ok(const char *id) {
  hull_error_t err = NULL;
  ck_assert_msg(state_validate_id(id, &err) == 0, "`%s` rejected: %s", id,
                err ? err->msg : "");
}

/* Rejected with a message that says why (and names the id when short). */
static void assert_id_bad(const char *id, const char *want_in_msg) {
  hull_error_t err = NULL;
  ck_assert_msg(state_validate_id(id, &err) < 0, "`%s` accepted",
                id ? id : "(null)");
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(err->msg, want_in_msg) != NULL,
                "message `%s` lacks `%s`", err->msg, want_in_msg);
  hull_error_release(&err);
}

START_TEST(good_ids) {
  assert_id_ok("a");
  assert_id_ok("my-container_1.2+x");
  assert_id_ok("...");
  assert_id_ok(".hidden");
  char max[STATE_MAX_ID_LEN + 1];
  memset(max, 'x', STATE_MAX_ID_LEN);
  max[STATE_MAX_ID_LEN] = '\0';
  assert_id_ok(max);
}
END_TEST

START_TEST(bad_ids) {
  assert_id_bad("", "empty");
  assert_id_bad(NULL, "empty");
  assert_id_bad(".", "invalid container id: .");
  assert_id_bad("..", "invalid container id: ..");
  assert_id_bad("a/b", "invalid container id: a/b");
  assert_id_bad("../x", "invalid container id");
  assert_id_bad("a b", "invalid container id");
  assert_id_bad("a\nb", "invalid container id");
  assert_id_bad("caf\xc3\xa9", "invalid container id"); /* "café" */
  assert_id_bad("\xe2\x98\x83", "invalid container id"); /* snowman */
  char long_id[STATE_MAX_ID_LEN + 2];
  memset(long_id, 'x', STATE_MAX_ID_LEN + 1);
  long_id[STATE_MAX_ID_LEN + 1] = '\0';
  assert_id_bad(long_id, "longer than");
}
END_TEST

START_TEST(state_round_trip) {
  hull_error_t err = NULL;
  struct state_dir d;
  ck_assert_msg(state_dir_create(tmpdir, "c1", &d, &err) == 0, "%s",
                err ? err->msg : "");
  struct spec_kv items[] = {{.key = "org.example.a", .value = "1"},
                                  {.key = "b", .value = "two \"quoted\"\n"}};
  char *moved[] = {"net0", "eth3", NULL};
  struct container_state st = {
      .id = "c1",
      .bundle = "/srv/bundle with space",
      .rootfs = "/srv/bundle with space/rootfs",
      .created = "2024-01-02T03:04:05.000000006Z",
      .owner = "",
      .cgroup_path = "/hull/c1",
      .cgroup_own = "1:pids:/a\n0::/b\n",
      .handler = "process",
      .pid = 4242,
      .pid_start_time = 123456789012ULL,
      .net_devices_moved = moved,
      .cgroup_shared = true,
      .annotations = {.items = items, .len = 2},
  };
  ck_assert_msg(state_write(&d, &st, &err) == 0, "%s", err ? err->msg : "");

  cleanup_container_state struct container_state *back = NULL;
  ck_assert_msg(state_read(&d, &back, &err) == 0, "%s", err ? err->msg : "");
  ck_assert_str_eq(back->id, st.id);
  ck_assert_str_eq(back->bundle, st.bundle);
  ck_assert_str_eq(back->rootfs, st.rootfs);
  ck_assert_str_eq(back->created, st.created);
  ck_assert_str_eq(back->owner, st.owner);
  ck_assert_str_eq(back->cgroup_path, st.cgroup_path);
  ck_assert_str_eq(back->cgroup_own, st.cgroup_own);
  ck_assert_str_eq(back->handler, st.handler);
  ck_assert_int_eq(back->pid, st.pid);
  ck_assert_uint_eq(back->pid_start_time, st.pid_start_time);
  ck_assert(back->cgroup_shared);
  ck_assert_uint_eq(strv_len(back->net_devices_moved), 2);
  ck_assert_str_eq(back->net_devices_moved[0], "net0");
  ck_assert_str_eq(back->net_devices_moved[1], "eth3");
  ck_assert_uint_eq(back->annotations.len, 2);
  for (size_t i = 0; i < 2; i++) {
    ck_assert_str_eq(back->annotations.items[i].key, items[i].key);
    ck_assert_str_eq(back->annotations.items[i].value, items[i].value);
  }

  /* state.json is private to root: it names the bundle and cgroup. */
  cleanup_free char *path = xasprintf("%s/c1/state.json", tmpdir);
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_uint_eq(sb.st_mode & 0777, 0600);

  /* The OCI document carries what `state` must print. */
  cleanup_free char *oci = state_oci_json(back, STATUS_RUNNING, false);
  ck_assert_ptr_nonnull(strstr(oci, "\"id\":\"c1\""));
  ck_assert_ptr_nonnull(strstr(oci, "\"status\":\"running\""));
  ck_assert_ptr_nonnull(strstr(oci, "\"pid\":4242"));
  ck_assert_ptr_nonnull(strstr(oci, "\"org.example.a\":\"1\""));
  cleanup_free char *stopped = state_oci_json(back, STATUS_STOPPED, false);
  ck_assert_ptr_nonnull(strstr(stopped, "\"pid\":0"));

  ck_assert_int_eq(state_dir_remove(&d, &err), 0);
  state_dir_close(&d);
  ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(state_read_of_a_bare_dir_fails) {
  hull_error_t err = NULL;
  struct state_dir d;
  ck_assert_int_eq(state_dir_create(tmpdir, "bare", &d, &err), 0);
  struct container_state *st = NULL;
  ck_assert_int_lt(state_read(&d, &st, &err), 0);
  ck_assert_ptr_nonnull(err);
  ck_assert_ptr_nonnull(strstr(err->msg, "state.json"));
  hull_error_release(&err);
  state_dir_close(&d);
}
END_TEST

START_TEST(state_dir_create_twice_says_exists) {
  hull_error_t err = NULL;
  struct state_dir d, again;
  ck_assert_int_eq(state_dir_create(tmpdir, "dup", &d, &err), 0);
  ck_assert_int_lt(state_dir_create(tmpdir, "dup", &again, &err), 0);
  ck_assert_str_eq(err->msg, "container with id exists: dup");
  hull_error_release(&err);
  state_dir_close(&d);
  state_dir_close(&again);
}
END_TEST

START_TEST(state_dir_open_of_missing_says_does_not_exist) {
  hull_error_t err = NULL;
  struct state_dir d;
  ck_assert_int_lt(state_dir_open(tmpdir, "nope", &d, &err), 0);
  ck_assert_ptr_nonnull(strstr(err->msg, "does not exist"));
  ck_assert_ptr_nonnull(strstr(err->msg, "nope"));
  hull_error_release(&err);
  state_dir_close(&d);
}
END_TEST

START_TEST(start_time_of_self_and_of_the_dead) {
  ck_assert_uint_ne(process_start_time(getpid()), 0);
  ck_assert(process_is_alive(getpid(), process_start_time(getpid())));
  /* A different start time means the pid was reused. */
  ck_assert(!process_is_alive(getpid(), process_start_time(getpid()) + 1));

  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0)
    _exit(0);
  ck_assert_int_eq(waitpid(child, NULL, 0), child);
  ck_assert_uint_eq(process_start_time(child), 0);
  ck_assert(!process_is_alive(child, 0));
  ck_assert(!process_is_alive(0, 0));
  ck_assert(!process_is_alive(-1, 0));
}
END_TEST

START_TEST(start_time_of_a_zombie_is_zero) {
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0)
    _exit(0);
  /* Not reaped yet: wait until it is a zombie, then it counts as gone. */
  siginfo_t info;
  ck_assert_int_eq(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
  ck_assert_uint_eq(process_start_time(child), 0);
  waitpid(child, NULL, 0);
}
END_TEST

/* runc's rule for the default root: the real root keeps /run/hull even
 * when $XDG_RUNTIME_DIR names /run/user/0; root in a user namespace whose
 * $USER is not root, and any other user, take $XDG_RUNTIME_DIR/hull. */
START_TEST(default_root_follows_runcs_rule) {
  setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  setenv("USER", "someone", 1);
  cleanup_free char *host = state_root_default_name(false);
  cleanup_free char *userns = state_root_default_name(true);
  bool root = geteuid() == 0;
  ck_assert_str_eq(host, root ? "/run/hull" : "/run/user/4242/hull");
  ck_assert_str_eq(userns, "/run/user/4242/hull");
  setenv("USER", "root", 1);
  cleanup_free char *root_in_userns = state_root_default_name(true);
  ck_assert_str_eq(root_in_userns, root ? "/run/hull" : "/run/user/4242/hull");
  unsetenv("XDG_RUNTIME_DIR");
  cleanup_free char *no_xdg = state_root_default_name(true);
  ck_assert_str_eq(no_xdg, "/run/hull");
}
END_TEST

static Suite *state_suite(void) {
  Suite *s = suite_create("state");
  TCase *ids = tcase_create("ids");
  tcase_add_test(ids, good_ids);
  tcase_add_test(ids, bad_ids);
  tcase_add_test(ids, default_root_follows_runcs_rule);
  suite_add_tcase(s, ids);
  TCase *files = tcase_create("files");
  tcase_add_checked_fixture(files, setup, teardown);
  tcase_add_test(files, state_round_trip);
  tcase_add_test(files, state_read_of_a_bare_dir_fails);
  tcase_add_test(files, state_dir_create_twice_says_exists);
  tcase_add_test(files, state_dir_open_of_missing_says_does_not_exist);
  suite_add_tcase(s, files);
  TCase *procs = tcase_create("processes");
  tcase_add_test(procs, start_time_of_self_and_of_the_dead);
  tcase_add_test(procs, start_time_of_a_zombie_is_zero);
  suite_add_tcase(s, procs);
  return s;
}
HULL_SUITE(state_suite)
