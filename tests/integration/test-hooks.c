/* test-hooks.c — the six OCI hooks: when each runs, what state it reads on
 * stdin, and that a failing or hanging hook fails the container cleanly. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Appends "<kind> <state JSON read from stdin>" to the log as one write, so
 * hooks running at the same moment (startContainer inside the container,
 * poststart in `start`) do not interleave. */
static const char hook_script[] =
    "#!/bin/sh\n"
    "state=$(cat)\n"
    "echo \"$1 $state\" >> \"$2\"\n";

struct hook_setup {
  char *log;       /* host path of the log (inside the rootfs) */
  char *hooks;     /* the "hooks" member for the config */
};

/* Host-side hooks run the script from the test dir and log into the rootfs;
 * startContainer runs in the container after pivot_root, so it uses a copy
 * inside the rootfs that logs to the same file through /hooks.log. */
static struct hook_setup setup_hooks(struct hctx *c) {
  struct hook_setup h;
  cleanup_free char *script = xasprintf("%s/hook.sh", c->dir);
  cleanup_free char *inside = xasprintf("%s/hook.sh", c->rootfs);
  hwrite_file(script, hook_script, 0755);
  hwrite_file(inside, hook_script, 0755);
  h.log = xasprintf("%s/hooks.log", c->rootfs);
#define HOST_HOOK(kind)                                                     \
  "\"" kind "\": [{\"path\": \"%1$s\", \"args\": [\"hook.sh\", \"" kind   \
  "\", \"%2$s\"], \"env\": [\"PATH=/usr/bin:/bin\"]}]"
  h.hooks = xasprintf(
      "\"hooks\": {" HOST_HOOK("prestart") ", " HOST_HOOK("createRuntime") ", "
      HOST_HOOK("createContainer") ", "
      "\"startContainer\": [{\"path\": \"/hook.sh\", \"args\": [\"hook.sh\","
      " \"startContainer\", \"/hooks.log\"], \"env\": [\"PATH=/bin\"]}], "
      HOST_HOOK("poststart") ", " HOST_HOOK("poststop") "}",
      script, h.log);
#undef HOST_HOOK
  return h;
}

static void free_hooks(struct hook_setup *h) {
  free(h->log);
  free(h->hooks);
}

/* The kinds in the log, in order, space separated. */
static char *logged_kinds(const char *log) {
  cleanup_free char *text = hread_file(log);
  char *kinds = xstrdup("");
  for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l;
       l = strtok_r(NULL, "\n", &save)) {
    char *space = strchr(l, ' ');
    if (space)
      *space = '\0';
    char *more = xasprintf("%s%s%s", kinds, *kinds ? " " : "", l);
    free(kinds);
    kinds = more;
  }
  return kinds;
}

/* The status a hook reads: "created" for every hook of create (they run
 * after the lifecycle's step 2; runc 1.1 says "creating") and for
 * startContainer just before the exec, "running" once the process runs,
 * "stopped" at delete. */
static const char *status_seen_by(const char *log_line) {
  static const struct { const char *kind, *status; } seen[] = {
      {"prestart ", "created"},  {"createRuntime ", "created"},
      {"createContainer ", "created"}, {"startContainer ", "created"},
      {"poststart ", "running"},  {"poststop ", "stopped"},
  };
  for (size_t i = 0; i < sizeof(seen) / sizeof(*seen); i++)
    if (strncmp(log_line, seen[i].kind, strlen(seen[i].kind)) == 0)
      return seen[i].status;
  ck_abort_msg("unknown hook in the log: %s", log_line);
  return NULL;
}

static void assert_each_state_names(const char *log, const char *id) {
  cleanup_free char *text = hread_file(log);
  ck_assert_ptr_nonnull(text);
  cleanup_free char *quoted_id = xasprintf("\"%s\"", id);
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save)) {
    ck_assert_msg(hcontains(l, "\"id\"") && hcontains(l, quoted_id),
                  "hook state without id: %s", l);
    /* pid is required while the container is created or running; by
     * poststop it is stopped and the pid may be gone. */
    if (strncmp(l, "poststop ", 9) != 0)
      ck_assert_msg(hcontains(l, "\"pid\":"), "hook state without pid: %s", l);
    cleanup_free char *want =
        xasprintf("\"status\":\"%s\"", status_seen_by(l));
    ck_assert_msg(hcontains(l, want), "want %s: %s", want, l);
    ck_assert_msg(hcontains(l, "\"ociVersion\":"), "hook state: %s", l);
    ck_assert_msg(hcontains(l, "\"bundle\":"), "hook state: %s", l);
  }
}

/* The spec runs poststart after the user process started, i.e. in `start`.
 * runc before 1.2.x ran it at the end of `create` (opencontainers/runc#4347,
 * fixed by #5186), so this test fails against the runc in Debian 12. */
START_TEST(hooks_run_at_create_start_and_delete) {
  struct hctx *c = hctx_new();
  struct hook_setup h = setup_hooks(c);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0"),
                                         .top_extra = h.hooks});

  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  cleanup_free char *after_create = logged_kinds(h.log);
  ck_assert_str_eq(after_create, "prestart createRuntime createContainer");

  hrun_expect(0, c, "start", c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  ck_assert(hwait_file(h.log, "startContainer", 5000));
  cleanup_free char *after_start = logged_kinds(h.log);
  /* startContainer (in the container) and poststart (in `start`) race. */
  ck_assert_msg(
      strcmp(after_start, "prestart createRuntime createContainer "
                          "startContainer poststart") == 0 ||
          strcmp(after_start, "prestart createRuntime createContainer "
                              "poststart startContainer") == 0,
      "hooks ran as: %s", after_start);

  hrun_expect(0, c, "delete", c->id);
  cleanup_free char *after_delete = logged_kinds(h.log);
  ck_assert_msg(strncmp(after_delete, after_start, strlen(after_start)) == 0 &&
                    strcmp(after_delete + strlen(after_start), " poststop") == 0,
                "hooks ran as: %s", after_delete);
  assert_each_state_names(h.log, c->id);
  free_hooks(&h);
  hctx_finish(c);
}
END_TEST

START_TEST(run_runs_every_hook_in_order_with_state) {
  struct hctx *c = hctx_new();
  struct hook_setup h = setup_hooks(c);
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("exit", "0"),
                                                   .top_extra = h.hooks});
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *kinds = logged_kinds(h.log);
  /* startContainer (in the container) and poststart (in the runtime) race. */
  ck_assert_msg(strcmp(kinds, "prestart createRuntime createContainer "
                              "startContainer poststart poststop") == 0 ||
                    strcmp(kinds, "prestart createRuntime createContainer "
                                  "poststart startContainer poststop") == 0,
                "hooks ran as: %s", kinds);
  assert_each_state_names(h.log, c->id);
  free_hooks(&h);
  hctx_finish(c);
}
END_TEST

START_TEST(failing_create_runtime_hook_fails_create) {
  struct hctx *c = hctx_new();
  hctx_write_config(
      c, &(struct hconfig){
             .top_extra = "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\","
                          " \"args\": [\"sh\", \"-c\", \"exit 7\"]}]}"});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_int_gt(r.status, 0);
  ck_assert_msg(r.err[0] != '\0', "no error message");
  ck_assert_msg(hcontains(r.err, "hook") || hcontains(r.err, "createRuntime"),
                "stderr: %s", r.err);
  hres_free(&r);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(hook_timeout_fails_create) {
  struct hctx *c = hctx_new();
  hctx_write_config(
      c, &(struct hconfig){
             .top_extra = "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\","
                          " \"args\": [\"sh\", \"-c\", \"exec sleep 10\"],"
                          " \"timeout\": 1}]}"});
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ck_assert_int_gt(r.status, 0);
  ck_assert_msg(r.err[0] != '\0', "no error message");
  ck_assert_msg(t1.tv_sec - t0.tv_sec < 5, "create took %ld s",
                (long)(t1.tv_sec - t0.tv_sec));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* As runc 1.1: startContainer hooks run in the container after its
 * seccomp filter is loaded, just before the exec, so a hook the profile
 * kills fails `start` with runc's words and the signal. */
START_TEST(start_container_hook_runs_under_the_seccomp_filter) {
  struct hctx *c = hctx_new();
  hctx_write_config(
      c, &(struct hconfig){
             .linux_extra =
                 "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                 " \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],"
                 " \"action\": \"SCMP_ACT_KILL\"}]}",
             .top_extra = "\"hooks\": {\"startContainer\": [{\"path\":"
                          " \"/bin/mkdir\", \"args\": [\"mkdir\","
                          " \"/made-by-hook\"]}]}"});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  struct hres r = hrun(c, "start", c->id, NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "error running hook #0: ") &&
                    hcontains(r.err, "startContainer hook `/bin/mkdir`: "
                                     "signal: bad system call"),
                "stderr: %s", r.err);
  hres_free(&r);
  cleanup_free char *made = xasprintf("%s/made-by-hook", c->rootfs);
  ck_assert_msg(access(made, F_OK) != 0, "the hook ran unfiltered");
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* As runc: createContainer hooks run with the rootfs as their working
 * directory, so a relative path lands in the container's root. */
START_TEST(create_container_hook_runs_in_the_rootfs) {
  struct hctx *c = hctx_new();
  cleanup_free char *lib = xasprintf("%s/lib", c->rootfs);
  ck_assert_int_eq(mkdir(lib, 0755), 0);
  hctx_write_config(
      c, &(struct hconfig){
             .top_extra = "\"hooks\": {\"createContainer\": [{\"path\":"
                          " \"/bin/sh\", \"args\": [\"sh\", \"-c\","
                          " \"echo from-hook > ./lib/x\"]}]}"});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  cleanup_free char *x = xasprintf("%s/lib/x", c->rootfs);
  cleanup_free char *text = hread_file(x);
  ck_assert_msg(text && strcmp(text, "from-hook\n") == 0, "%s: %s", x,
                text ? text : "(missing)");
  hctx_delete_and_finish(c);
}
END_TEST

static Suite *hooks_suite(void) {
  Suite *s = suite_create("integration-hooks");
  TCase *tc = harness_tcase("hooks", 30);
  tcase_add_test(tc, hooks_run_at_create_start_and_delete);
  tcase_add_test(tc, run_runs_every_hook_in_order_with_state);
  tcase_add_test(tc, failing_create_runtime_hook_fails_create);
  tcase_add_test(tc, hook_timeout_fails_create);
  tcase_add_test(tc, start_container_hook_runs_under_the_seccomp_filter);
  tcase_add_test(tc, create_container_hook_runs_in_the_rootfs);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(hooks_suite)
