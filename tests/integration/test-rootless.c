/* test-rootless.c — hull run by a user other than root, as runc's rootless
 * mode: a test user made for the run (useradd, which also gives it an
 * /etc/subuid and /etc/subgid range; userdel removes all three, in the
 * runner, after the tests, also when they failed), hull run as that user
 * by setpriv in an environment of the test's making ($XDG_RUNTIME_DIR a
 * directory of the test's that the user owns). On this project's host the
 * cgroups are v1 and none is the user's: the containers run without one. */
#include "tests/integration/harness.h"
#include "tests/integration/user-network-test.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* Made by the tcase's unchecked fixture in the runner, before the tests
 * are forked from it: every test sees it. */
static struct {
  char name[32];
  uid_t uid;
  gid_t gid;
  unsigned long sub_start, sub_count;  /* its /etc/subuid (and subgid) */
  bool made;
  char *why_not;                       /* NULL once made */
} user;

static int run_tool_quiet(char *const *argv) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* NAME:START:COUNT of `file` for the user, as useradd allocated it. */
static bool read_sub_range(const char *file, unsigned long *start,
                           unsigned long *count) {
  cleanup_free char *text = hread_file(file);
  cleanup_free char *prefix = xasprintf("%s:", user.name);
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (strncmp(line, prefix, strlen(prefix)) == 0 &&
        sscanf(line + strlen(prefix), "%lu:%lu", start, count) == 2)
      return true;
    line = nl ? nl + 1 : NULL;
  }
  return false;
}

static void make_user(void) {
  user.why_not = NULL;
  if (geteuid() != 0) {
    user.why_not = "root, to make a test user";
    return;
  }
  if (access("/usr/sbin/useradd", X_OK) != 0 ||
      access("/usr/bin/setpriv", X_OK) != 0) {
    user.why_not = "useradd and setpriv";
    return;
  }
  snprintf(user.name, sizeof user.name, "hullrl%d", (int)getpid());
  char *add[] = {"/usr/sbin/useradd", "--no-create-home", "--user-group",
                 "--shell", "/usr/sbin/nologin", user.name, NULL};
  if (run_tool_quiet(add) != 0) {
    user.why_not = "useradd to make a test user";
    return;
  }
  user.made = true;
  struct passwd *pw = getpwnam(user.name);
  unsigned long gid_start = 0, gid_count = 0;
  if (pw == NULL ||
      !read_sub_range("/etc/subuid", &user.sub_start, &user.sub_count) ||
      !read_sub_range("/etc/subgid", &gid_start, &gid_count) ||
      gid_start != user.sub_start || gid_count != user.sub_count) {
    user.why_not = "useradd allocating the same /etc/subuid and /etc/subgid "
                   "range (SUB_UID_COUNT in login.defs)";
    return;
  }
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
}

/* After every test of the tcase, in the runner: also after a failure. */
static void remove_user(void) {
  if (!user.made)
    return;
  char *del[] = {"/usr/sbin/userdel", "--force", user.name, NULL};
  if (run_tool_quiet(del) != 0)
    fprintf(stderr, "warning: userdel %s failed\n", user.name);
  user.made = false;
}

/* ---- running hull as the user ---------------------------------------- */

struct rl {
  struct hctx *c;
  char *xdg;        /* its $XDG_RUNTIME_DIR */
  char *state;      /* $XDG_RUNTIME_DIR/hull, where its state must go */
};

static void chown_tree(const char *path) {
  cleanup_free char *owner = xasprintf("%u:%u", (unsigned)user.uid,
                                       (unsigned)user.gid);
  char *argv[] = {"/bin/chown", "-R", owner, (char *)path, NULL};
  hrun_tool(argv);
}

/* A test's directories, with the bundle (rootfs included) the user's:
 * its root in the container. */
static struct rl rl_new(void) {
  struct rl r = {.c = hctx_new()};
  r.xdg = xasprintf("%s/xdg", r.c->dir);
  r.state = xasprintf("%s/hull", r.xdg);
  ck_assert_int_eq(mkdir(r.xdg, 0700), 0);
  chown_tree(r.xdg);
  chown_tree(r.c->bundle);
  return r;
}

static void rl_finish(struct rl *r) {
  ck_assert_msg(hcount_entries(r->state) == 0,
                "left state behind in %s", r->state);
  hctx_finish(r->c);
  free(r->xdg);
  free(r->state);
}

/* setpriv and env running hull as the user, its environment only what is
 * given here (xdg NULL: no XDG_RUNTIME_DIR). */
struct rl_prefix {
  char *reuid, *regid, *xdg_env, *user_env;
  char *argv[11];
};

static void rl_prefix_init(struct rl_prefix *p, const char *xdg) {
  p->reuid = xasprintf("--reuid=%u", (unsigned)user.uid);
  p->regid = xasprintf("--regid=%u", (unsigned)user.gid);
  p->xdg_env =
      xdg ? xasprintf("XDG_RUNTIME_DIR=%s", xdg) : xstrdup("HULL_NO_XDG=1");
  p->user_env = xasprintf("USER=%s", user.name);
  char *argv[] = {"/usr/bin/setpriv", p->reuid, p->regid, "--init-groups",
                  "/usr/bin/env", "-i",
                  "PATH=/usr/local/bin:/usr/bin:/bin", p->xdg_env,
                  p->user_env, "HOME=/nonexistent", NULL};
  memcpy(p->argv, argv, sizeof(argv));
}

static void rl_prefix_free(struct rl_prefix *p) {
  free(p->reuid);
  free(p->regid);
  free(p->xdg_env);
  free(p->user_env);
}

/* Runs `hull ARGS...` as the user, without --root. */
static struct hres rl_run_env(struct rl *r, const char *xdg,
                              const char *const *args) {
  struct rl_prefix p;
  rl_prefix_init(&p, xdg);
  struct hres res = hrun_wrapped(r->c, p.argv, NULL, (char *const *)args,
                                 10000);
  rl_prefix_free(&p);
  return res;
}

#define rl_run(r, ...)                                                        \
  rl_run_env(r, (r)->xdg, (const char *[]){__VA_ARGS__, NULL})

/* A rootless config: a new user namespace (and network namespace, which
 * it may make) mapping container root to the user; extra linux members
 * after the maps. */
static char *maps_of_user(void) {
  return xasprintf("\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u,"
                   " \"size\": 1}], \"gidMappings\": [{\"containerID\": 0,"
                   " \"hostID\": %u, \"size\": 1}]",
                   (unsigned)user.uid, (unsigned)user.gid);
}

static void write_rootless_config_top(struct rl *r, const char *args,
                                      const char *mounts_extra,
                                      const char *linux_extra,
                                      const char *top_extra) {
  cleanup_free char *maps = maps_of_user();
  cleanup_free char *lx = linux_extra ? xasprintf("%s, %s", maps, linux_extra)
                                      : xstrdup(maps);
  hctx_write_config(r->c, &(struct hconfig){.args = args,
                                            .namespaces = USERNS_NAMESPACES,
                                            .mounts_extra = mounts_extra,
                                            .linux_extra = lx,
                                            .top_extra = top_extra});
  chown_tree(r->c->bundle);
}

static void write_rootless_config(struct rl *r, const char *args,
                                  const char *mounts_extra,
                                  const char *linux_extra) {
  write_rootless_config_top(r, args, mounts_extra, linux_extra, NULL);
}

static bool run_hull_missing(void) {
  return access("/run/hull", F_OK) != 0;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(rootless_run_exec_kill_delete_as_a_user) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  bool run_hull_was_missing = run_hull_missing();
  struct rl r = rl_new();
  write_rootless_config(&r, HELPER("signal-wait"), NULL, NULL);
  struct hres res = rl_run(&r, "run", "-d", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  ck_assert_msg(hwait_file(res.out_path, "ready", 5000),
                "the container's init never got ready: %s", res.err);
  hres_free(&res);
  /* The state is the user's, under $XDG_RUNTIME_DIR/hull, made 0700 and
   * sticky as runc makes its own. */
  cleanup_free char *state_json = xasprintf("%s/%s/state.json", r.state,
                                            r.c->id);
  struct stat st;
  ck_assert_msg(stat(state_json, &st) == 0, "no %s", state_json);
  ck_assert_int_eq(st.st_uid, user.uid);
  ck_assert_int_eq(stat(r.state, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 01700);
  cleanup_free char *in_run = xasprintf("/run/hull/%s", r.c->id);
  ck_assert_msg(access(in_run, F_OK) != 0, "%s exists", in_run);

  res = rl_run(&r, "state", r.c->id);
  ck_assert_hres(res, 0);
  ck_assert_msg(hcontains(res.out, "\"running\""), "%s", res.out);
  hres_free(&res);
  /* The user's own uid is root inside, and the only one mapped. */
  res = rl_run(&r, "exec", r.c->id, "/bin/hull-test-helper", "id");
  ck_assert_hres(res, 0);
  ck_assert_msg(hcontains(res.out, "uid=0\neuid=0\ngid=0\negid=0\n"), "%s",
                res.out);
  hres_free(&res);
  res = rl_run(&r, "exec", r.c->id, "/bin/hull-test-helper", "cat",
               "/proc/self/uid_map");
  ck_assert_hres(res, 0);
  unsigned inside = 1, outside = 0, count = 0;
  ck_assert_int_eq(sscanf(res.out, "%u %u %u", &inside, &outside, &count), 3);
  ck_assert_uint_eq(inside, 0);
  ck_assert_uint_eq(outside, user.uid);
  ck_assert_uint_eq(count, 1);
  hres_free(&res);

  res = rl_run(&r, "kill", r.c->id, "TERM");
  ck_assert_hres(res, 0);
  hres_free(&res);
  bool stopped = false;
  for (int i = 0; i < 500 && !stopped; i++) {
    res = rl_run(&r, "state", r.c->id);
    stopped = hcontains(res.out, "\"stopped\"");
    hres_free(&res);
    if (!stopped)
      usleep(10000);
  }
  ck_assert_msg(stopped, "the container did not stop on SIGTERM");
  res = rl_run(&r, "delete", r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  ck_assert_msg(!run_hull_was_missing || run_hull_missing(),
                "/run/hull was made by a rootless hull");
  rl_finish(&r);
}
END_TEST

/* Its first process is hull until start, kept from the user's other
 * processes: exec waits for start, and says so. */
START_TEST(rootless_exec_before_start_is_refused) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  struct rl r = rl_new();
  write_rootless_config(&r, HELPER("exit", "0"), NULL, NULL);
  struct hres res = rl_run(&r, "create", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  res = rl_run(&r, "exec", r.c->id, "/bin/hull-test-helper", "id");
  ck_assert_int_eq(res.status, 255);
  ck_assert_msg(hcontains(res.err, "msg=\"exec failed: cannot exec in a "
                                   "created container as a user other than "
                                   "root: start it first\""), "%s", res.err);
  hres_free(&res);
  res = rl_run(&r, "delete", "--force", r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  rl_finish(&r);
}
END_TEST

/* Its root is the user: what it writes on a bind mount is the user's. */
START_TEST(rootless_bind_mount_writes_are_the_users) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  struct rl r = rl_new();
  cleanup_free char *share = xasprintf("%s/share", r.c->dir);
  ck_assert_int_eq(mkdir(share, 0700), 0);
  chown_tree(share);
  cleanup_free char *mount = xasprintf(
      "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\", \"rw\"]}", share);
  write_rootless_config(&r, HELPER("write", "/mnt/made-inside", "hello"),
                        mount, NULL);
  struct hres res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  cleanup_free char *made = xasprintf("%s/made-inside", share);
  struct stat st;
  ck_assert_msg(stat(made, &st) == 0, "nothing written at %s", made);
  ck_assert_int_eq(st.st_uid, user.uid);
  ck_assert_int_eq(st.st_gid, user.gid);
  rl_finish(&r);
}
END_TEST

/* podman's rootless mapping: the user is root, its /etc/subuid range the
 * rest, written by newuidmap and newgidmap. */
START_TEST(rootless_maps_its_subordinate_ids_through_newuidmap) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  SKIP_UNLESS(access("/usr/bin/newuidmap", X_OK) == 0 &&
                  access("/usr/bin/newgidmap", X_OK) == 0,
              "newuidmap and newgidmap (package uidmap)");
  struct rl r = rl_new();
  cleanup_free char *maps = xasprintf(
      "\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1},"
      " {\"containerID\": 1, \"hostID\": %lu, \"size\": %lu}],"
      " \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1},"
      " {\"containerID\": 1, \"hostID\": %lu, \"size\": %lu}]",
      (unsigned)user.uid, user.sub_start, user.sub_count, (unsigned)user.gid,
      user.sub_start, user.sub_count);
  hctx_write_config(r.c, &(struct hconfig){
                             .args = HELPER("cat", "/proc/self/uid_map"),
                             .namespaces = USERNS_NAMESPACES,
                             .linux_extra = maps});
  chown_tree(r.c->bundle);
  struct hres res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  unsigned in[2], out[2], n[2];
  ck_assert_int_eq(sscanf(res.out, "%u %u %u %u %u %u", &in[0], &out[0], &n[0],
                          &in[1], &out[1], &n[1]), 6);
  ck_assert_uint_eq(out[0], user.uid);
  ck_assert_uint_eq(in[1], 1);
  ck_assert_uint_eq(out[1], user.sub_start);
  ck_assert_uint_eq(n[1], user.sub_count);
  hres_free(&res);
  rl_finish(&r);
}
END_TEST

/* What a user gets wrong: each one line, naming what, leaving nothing. */
START_TEST(rootless_refusals_are_one_line_and_leave_nothing) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  struct rl r = rl_new();
  /* A user namespace is what lets a user set a container up (runc's
   * words). */
  hctx_write_config(r.c, &(struct hconfig){0});
  chown_tree(r.c->bundle);
  struct hres res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
  hexpect_one_line_error(res, "config.json: .linux.namespaces: rootless "
                              "container requires user namespaces");
  hres_free(&res);

  /* More ids than /etc/subuid gives: newuidmap's refusal. */
  if (access("/usr/bin/newuidmap", X_OK) == 0) {
    cleanup_free char *maps = xasprintf(
        "\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1},"
        " {\"containerID\": 1, \"hostID\": %lu, \"size\": %lu}],"
        " \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}]",
        (unsigned)user.uid, user.sub_start, user.sub_count + 1,
        (unsigned)user.gid);
    hctx_write_config(r.c, &(struct hconfig){.namespaces = USERNS_NAMESPACES,
                                             .linux_extra = maps});
    chown_tree(r.c->bundle);
    res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
    cleanup_free char *want = xasprintf(
        "linux.uidMappings: newuidmap: uid range [1-%lu) -> [%lu-%lu) not "
        "allowed", user.sub_count + 2, user.sub_start,
        user.sub_start + user.sub_count + 1);
    hexpect_one_line_error(res, want);
    hres_free(&res);
  }

  /* A limit that no cgroup of the user's can hold. */
  write_rootless_config(&r, NULL, NULL,
                        "\"resources\": {\"memory\": {\"limit\": 67108864}}");
  res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 1);
  ck_assert_msg(hcontains(res.err, "msg=\"config.json: .linux.resources."
                                   "memory.limit: cannot be applied without "
                                   "a cgroup of the container's own "
                                   "(rootless): create cgroup"),
                "%s", res.err);
  ck_assert_msg(strchr(res.err, '\n') == res.err + strlen(res.err) - 1,
                "more than one line: %s", res.err);
  hres_free(&res);

  /* No $XDG_RUNTIME_DIR: runc would go on to fail on /run/runc's
   * permissions; hull says what is missing. `spec` needs no state. */
  write_rootless_config(&r, NULL, NULL, NULL);
  res = rl_run_env(&r, NULL, (const char *[]){"run", "--bundle", r.c->bundle,
                                              r.c->id, NULL});
  hexpect_one_line_error(res, "XDG_RUNTIME_DIR is not set: hull run by a "
                              "user other than root keeps its state in "
                              "$XDG_RUNTIME_DIR/hull (or give --root)");
  hres_free(&res);
  /* One the user may not write: runc's words, and where. */
  res = rl_run_env(&r, r.c->dir, (const char *[]){"list", NULL});
  cleanup_free char *not_writable = xasprintf(
      "the path in $XDG_RUNTIME_DIR must be writable by the user: mkdir "
      "`%s/hull`: Permission denied", r.c->dir);
  hexpect_one_line_error(res, not_writable);
  hres_free(&res);
  rl_finish(&r);
}
END_TEST

/* Without a cgroup of its own (none is the user's here), the verbs that
 * need one say so and why; kill --all KILL still ends a container with its
 * own pid namespace; --debug says once that it runs without one. */
START_TEST(rootless_without_a_cgroup_verbs_say_why) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  struct rl r = rl_new();
  /* device rules are no limit: a user namespace cannot make devices */
  write_rootless_config(&r, HELPER("signal-wait"), NULL,
                        "\"resources\": {\"devices\": [{\"allow\": false,"
                        " \"access\": \"rwm\"}]}");
  struct hres res = rl_run(&r, "--debug", "run", "-d", "--bundle",
                           r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  ck_assert_msg(hwait_file(res.out_path, "ready", 5000), "never ready: %s",
                res.err);
  const char *said = "rootless: running without a cgroup of the "
                     "container's own: create cgroup";
  const char *first = strstr(res.err, said);
  ck_assert_msg(first && !strstr(first + 1, said), "not said once: %s",
                res.err);
  hres_free(&res);
  const char *verbs[][3] = {{"ps", NULL}, {"pause", NULL},
                            {"events", "--stats"}, {"update", "--pids-limit"},
                            {"kill", "--all"}};
  for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
    if (strcmp(verbs[i][0], "update") == 0)
      res = rl_run(&r, "update", "--pids-limit", "10", r.c->id);
    else if (verbs[i][1])
      res = rl_run(&r, verbs[i][0], verbs[i][1], r.c->id);
    else
      res = rl_run(&r, verbs[i][0], r.c->id);
    cleanup_free char *want = xasprintf(
        "container %s runs without a cgroup (rootless: none was writable "
        "when it was created): %s%s%s needs one", r.c->id, verbs[i][0],
        strcmp(verbs[i][0], "kill") == 0 ? " " : "",
        strcmp(verbs[i][0], "kill") == 0 ? "--all" : "");
    hexpect_one_line_error(res, want);
    hres_free(&res);
  }
  res = rl_run(&r, "kill", "--all", r.c->id, "KILL");
  ck_assert_hres(res, 0);
  hres_free(&res);
  res = rl_run(&r, "delete", "--force", r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  rl_finish(&r);
}
END_TEST

/* runc's values: auto (rootless cgroups for a user), true, and false,
 * which makes a cgroup that cannot be made an error again. */
START_TEST(rootless_flag_decides_whether_a_cgroup_is_required) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  struct rl r = rl_new();
  write_rootless_config(&r, HELPER("exit", "0"), NULL, NULL);
  const char *ok[] = {"auto", "true", "1", ""};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    struct hres res = rl_run(&r, "--rootless", ok[i], "run", "--bundle",
                             r.c->bundle, r.c->id);
    ck_assert_msg(res.status == 0, "--rootless %s: %s", ok[i], res.err);
    hres_free(&res);
  }
  struct hres res = rl_run(&r, "--rootless", "false", "run", "--bundle",
                           r.c->bundle, r.c->id);
  ck_assert_hres(res, 1);
  cleanup_free char *want = xasprintf("create cgroup `/hull/%s`: mkdir ",
                                      r.c->id);
  ck_assert_msg(hcontains(res.err, want) &&
                    hcontains(res.err, "Permission denied"),
                "%s", res.err);
  hres_free(&res);
  res = rl_run(&r, "--rootless", "maybe", "list");
  hexpect_one_line_error(res, "invalid value \\\"maybe\\\" for flag "
                              "--rootless: want true, false or auto");
  hres_free(&res);
  rl_finish(&r);
}
END_TEST

/* As under podman's rootless mode: root, but in a user namespace hull did
 * not make (unshare --map-root-user, the user's id as root). runc's rules
 * make that rootless too: the state under $XDG_RUNTIME_DIR/hull ($USER is
 * not root), no cgroup required, devices bound, not made. */
START_TEST(rootless_as_root_in_a_user_namespace_it_did_not_make) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  SKIP_UNLESS(access("/usr/bin/unshare", X_OK) == 0, "/usr/bin/unshare");
  bool run_hull_was_missing = run_hull_missing();
  struct rl r = rl_new();
  hctx_write_config(r.c, &(struct hconfig){.args = HELPER("id")});
  chown_tree(r.c->bundle);
  struct hres res = rl_run(&r, "run", "--bundle", r.c->bundle, r.c->id);
  /* the same without the namespace: the user is refused (no user
   * namespace in the config) */
  hexpect_one_line_error(res, "config.json: .linux.namespaces: rootless "
                              "container requires user namespaces");
  hres_free(&res);
  cleanup_free char *reuid = xasprintf("--reuid=%u", (unsigned)user.uid);
  cleanup_free char *regid = xasprintf("--regid=%u", (unsigned)user.gid);
  cleanup_free char *xdg_env = xasprintf("XDG_RUNTIME_DIR=%s", r.xdg);
  cleanup_free char *user_env = xasprintf("USER=%s", user.name);
  char *prefix[] = {"/usr/bin/setpriv", reuid, regid, "--init-groups",
                    "/usr/bin/env", "-i",
                    "PATH=/usr/local/bin:/usr/bin:/bin", xdg_env, user_env,
                    "/usr/bin/unshare", "--user", "--map-root-user", NULL};
  res = hrun_wrapped(r.c, prefix, NULL,
                     (char *[]){"run", "--bundle", r.c->bundle, r.c->id,
                                NULL},
                     10000);
  ck_assert_hres(res, 0);
  ck_assert_msg(hcontains(res.out, "uid=0\neuid=0\n"), "%s", res.out);
  hres_free(&res);
  struct stat st;
  ck_assert_msg(stat(r.state, &st) == 0 && st.st_uid == user.uid,
                "no state root %s of the user's", r.state);
  ck_assert_msg(!run_hull_was_missing || run_hull_missing(),
                "/run/hull was made by a rootless hull");
  rl_finish(&r);
}
END_TEST

/* ---- hull spec --rootless against runc's -------------------------------- */

/* What hull's template is known to differ in from runc 1.1's: it follows
 * runc 1.2 (ociVersion 1.2.0, no ambient capabilities, the TPM masked). */
static void drop_known_differences(yajl_val doc) {
  const char *version[] = {"ociVersion", NULL};
  yajl_val v = yajl_tree_get(doc, version, yajl_t_string);
  if (v) {
    free(v->u.string);
    v->u.string = xstrdup("-");
  }
  const char *masked[] = {"linux", "maskedPaths", NULL};
  yajl_val m = yajl_tree_get(doc, masked, yajl_t_array);
  for (size_t i = 0; m && i < m->u.array.len; i++)
    if (YAJL_IS_STRING(m->u.array.values[i]) &&
        strcmp(m->u.array.values[i]->u.string, "/sys/devices/virtual/tpm") ==
            0)
      m->u.array.len = i;
}

/* The document as text, one top-level member a line, for a comparison
 * that shows where they differ; runc 1.1's ambient set is left out. */
static void canonical(yajl_val v, char **out) {
  char *s = *out;
  if (YAJL_IS_OBJECT(v)) {
    *out = xasprintf("%s{", s);
    free(s);
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (strcmp(v->u.object.keys[i], "ambient") == 0)
        continue;
      s = *out;
      *out = xasprintf("%s\"%s\":", s, v->u.object.keys[i]);
      free(s);
      canonical(v->u.object.values[i], out);
      s = *out;
      *out = xasprintf("%s,", s);
      free(s);
    }
    s = *out;
    *out = xasprintf("%s}\n", s);
  } else if (YAJL_IS_ARRAY(v)) {
    *out = xasprintf("%s[", s);
    free(s);
    for (size_t i = 0; i < v->u.array.len; i++) {
      canonical(v->u.array.values[i], out);
      s = *out;
      *out = xasprintf("%s,", s);
      free(s);
    }
    s = *out;
    *out = xasprintf("%s]", s);
  } else if (YAJL_IS_STRING(v)) {
    *out = xasprintf("%s\"%s\"", s, v->u.string);
  } else if (YAJL_IS_NUMBER(v)) {
    *out = xasprintf("%s%s", s, v->u.number.r);
  } else {
    *out = xasprintf("%s%s", s, YAJL_IS_TRUE(v) ? "true" : "false");
  }
  free(s);
}

static char *canonical_config(const char *path) {
  cleanup_free char *text = hread_file(path);
  ck_assert_msg(text != NULL, "no %s", path);
  char errbuf[256];
  yajl_val doc = yajl_tree_parse(text, errbuf, sizeof errbuf);
  ck_assert_msg(doc != NULL, "%s: %s", path, errbuf);
  drop_known_differences(doc);
  char *out = xstrdup("");
  canonical(doc, &out);
  yajl_tree_free(doc);
  return out;
}

START_TEST(rootless_spec_is_runcs_rootless_template) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  SKIP_UNLESS(access("/usr/sbin/runc", X_OK) == 0, "runc at /usr/sbin/runc");
  struct rl r = rl_new();
  cleanup_free char *ours = xasprintf("%s/ours", r.c->dir);
  cleanup_free char *theirs = xasprintf("%s/theirs", r.c->dir);
  ck_assert_int_eq(mkdir(ours, 0755), 0);
  ck_assert_int_eq(mkdir(theirs, 0755), 0);
  chown_tree(ours);
  chown_tree(theirs);
  /* hull spec needs no state root, not even $XDG_RUNTIME_DIR. */
  struct hres res = rl_run_env(&r, NULL, (const char *[]){"spec", "--rootless",
                                                          "--bundle", ours,
                                                          NULL});
  ck_assert_hres(res, 0);
  hres_free(&res);
  cleanup_free char *reuid = xasprintf("--reuid=%u", (unsigned)user.uid);
  cleanup_free char *regid = xasprintf("--regid=%u", (unsigned)user.gid);
  char *runc[] = {"/usr/bin/setpriv", reuid, regid, "--init-groups",
                  "/usr/sbin/runc", "spec", "--rootless", "--bundle", theirs,
                  NULL};
  hrun_tool(runc);
  cleanup_free char *ours_json = xasprintf("%s/config.json", ours);
  cleanup_free char *theirs_json = xasprintf("%s/config.json", theirs);
  cleanup_free char *a = canonical_config(ours_json);
  cleanup_free char *b = canonical_config(theirs_json);
  ck_assert_msg(strcmp(a, b) == 0, "hull spec --rootless:\n%s\n"
                "runc spec --rootless:\n%s", a, b);
  /* The user's own ids, as runc writes them. */
  cleanup_free char *id = xasprintf("\"hostID\":%u,", (unsigned)user.uid);
  ck_assert_msg(hcontains(a, id), "%s", a);
  rl_finish(&r);
}
END_TEST

/* run.oci.network=pasta|slirp4netns as the user (user-network-test.h): the
 * container reaches the host's loopback at gateway and a published port
 * reaches it; delete stops the helper. In a network namespace of the
 * test's own, with an uplink and a default route (pasta copies them). */
static void rootless_user_network(const char *mode, const char *gateway) {
  SKIP_UNLESS(user.why_not == NULL, user.why_not);
  SKIP_UNLESS(unet_helper_installed(mode), unet_helper_missing(mode));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int host_port = 0;
  pid_t server = unet_host_server(&host_port);
  int published = unet_free_port();
  struct rl r = rl_new();
  cleanup_free char *top = xasprintf(ANNOTATE(
      "\"run.oci.network\": \"%s\", "
      "\"run.oci.network.allow_host_loopback\": \"true\", "
      "\"run.oci.network.ports\": \"%d:80/tcp\""), mode, published);
  write_rootless_config_top(&r, HELPER("signal-wait"), NULL, NULL, top);
  struct rl_prefix p;
  rl_prefix_init(&p, r.xdg);
  struct unet_runner as_user = {.prefix = p.argv, .root = NULL};
  struct hres res = rl_run(&r, "run", "-d", "--bundle", r.c->bundle, r.c->id);
  ck_assert_hres(res, 0);
  ck_assert_msg(hwait_file(res.out_path, "ready", 5000),
                "the container's init never got ready: %s", res.err);
  hres_free(&res);
  pid_t helper = unet_state_pid(r.state, r.c->id, "netHelperPid");
  ck_assert_msg(helper > 0, "state.json names no network helper");
  cleanup_free char *status = xasprintf("/proc/%d/status", (int)helper);
  cleanup_free char *helper_status = hread_file(status);
  cleanup_free char *uid_line = xasprintf("Uid:\t%u\t", (unsigned)user.uid);
  ck_assert_msg(hcontains(helper_status, uid_line),
                "%s runs as someone else than the user: %s", mode,
                helper_status);

  unet_assert_reaches_host(r.c, &as_user, r.c->id, gateway, host_port);
  unet_assert_published(r.c, &as_user, r.c->id, published);

  res = rl_run(&r, "delete", "--force", r.c->id);
  ck_assert_hres(res, 0);
  hres_free(&res);
  ck_assert_msg(unet_gone(helper, 0), "%s %d outlived delete", mode,
                (int)helper);
  ck_assert_msg(!unet_port_answers(published),
                "127.0.0.1:%d still answers after delete", published);
  rl_prefix_free(&p);
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  rl_finish(&r);
}

START_TEST(rootless_pasta_network_reaches_out_and_publishes) {
  rootless_user_network("pasta", UNET_GATEWAY);
}
END_TEST

START_TEST(rootless_slirp4netns_network_reaches_out_and_publishes) {
  rootless_user_network("slirp4netns", "10.0.2.2");
}
END_TEST

static Suite *rootless_suite(void) {
  Suite *s = suite_create("integration-rootless");
  TCase *tc = harness_tcase("rootless", 60);
  /* Added after the harness's sweep: the user goes once its containers
   * have. */
  tcase_add_unchecked_fixture(tc, make_user, remove_user);
  tcase_add_test(tc, rootless_run_exec_kill_delete_as_a_user);
  tcase_add_test(tc, rootless_exec_before_start_is_refused);
  tcase_add_test(tc, rootless_bind_mount_writes_are_the_users);
  tcase_add_test(tc, rootless_maps_its_subordinate_ids_through_newuidmap);
  tcase_add_test(tc, rootless_refusals_are_one_line_and_leave_nothing);
  tcase_add_test(tc, rootless_without_a_cgroup_verbs_say_why);
  tcase_add_test(tc, rootless_flag_decides_whether_a_cgroup_is_required);
  tcase_add_test(tc, rootless_as_root_in_a_user_namespace_it_did_not_make);
  tcase_add_test(tc, rootless_spec_is_runcs_rootless_template);
  tcase_add_test(tc, rootless_pasta_network_reaches_out_and_publishes);
  tcase_add_test(tc, rootless_slirp4netns_network_reaches_out_and_publishes);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(rootless_suite)
