/* test-exec.c — `hull exec`: a second process in a running container joins
 * its namespaces, cgroup and root, gets its security settings (seccomp
 * included) and the caller's flags, and reports its exit code, errors and
 * signals the way runc does. */
#include "tests/integration/harness.h"
#include "tests/integration/console-receiver.h"
#include "runtime/common/common.h"

#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The value of the "Name:\t..." line of /proc/self/status output. */
static char *status_field(const char *out, const char *name) {
  cleanup_free char *key = xasprintf("%s:\t", name);
  const char *p = strstr(out, key);
  ck_assert_msg(p != NULL, "no %s in: %s", name, out);
  p += strlen(key);
  return xstrndup(p, strcspn(p, "\n"));
}

START_TEST(exec_prints_output_and_propagates_exit_code) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "hostname",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "hull-test\n");
  hres_free(&r);
  hrun_expect(7, c, "exec", c->id, "/bin/hull-test-helper", "exit", "7");
  /* Looked up in the process env's PATH, inside the container. */
  hrun_expect(0, c, "exec", c->id, "hull-test-helper", "exit", "0");
  hctx_delete_and_finish(c);
}
END_TEST

/* Every namespace the helper sees is the init's, as the host sees it. */
START_TEST(exec_joins_the_init_namespaces_and_cgroup) {
  struct hctx *c = hctx_new();
  pid_t init = hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "ns", NULL);
  ck_assert_hres(r, 0);
  int compared = 0;
  cleanup_free char *out = xstrdup(r.out);
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char name[64];
    unsigned long ino;
    ck_assert_int_eq(sscanf(line, "%63s %lu", name, &ino), 2);
    cleanup_free char *path = xasprintf("/proc/%d/ns/%s", (int)init, name);
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "stat %s", path);
    ck_assert_msg((unsigned long)st.st_ino == ino,
                  "%s: exec sees %lu, the init is in %lu", name, ino,
                  (unsigned long)st.st_ino);
    compared++;
  }
  ck_assert_int_ge(compared, 6);
  hres_free(&r);

  /* In the container's pid namespace the init is 1; same cgroups. */
  r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "cat", "/proc/1/cgroup",
           NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *init_cgroups = take_ptr(r.out);
  hres_free(&r);
  r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "cat",
           "/proc/self/cgroup", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, init_cgroups);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_flags_set_env_cwd_and_user) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", "-e", "A=1", "--env", "TERM=dumb", "--cwd",
                       "/tmp", "-u", "1000:1000", "-g", "5", "-g", "7", c->id,
                       "/bin/sh", "-c",
                       "echo A=$A TERM=$TERM; pwd; /bin/hull-test-helper id",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "A=1 TERM=dumb\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "/tmp\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "uid=1000\neuid=1000\ngid=1000\negid=1000\n"
                                 "groups=5,7\n"), "%s", r.out);
  hres_free(&r);
  /* Without flags: the config's user (root) and cwd (/). */
  r = hrun(c, "exec", c->id, "/bin/sh", "-c", "pwd; id -u", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "/\n0\n");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_process_file_is_the_whole_process) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  cleanup_free char *file = xasprintf("%s/process.json", c->dir);
  hwrite_file(file,
              "{\"args\": [\"/bin/sh\", \"-c\", \"pwd; echo B=$B; "
              "/bin/hull-test-helper id\"],"
              " \"cwd\": \"/etc\", \"env\": [\"B=2\"],"
              " \"user\": {\"uid\": 1000, \"gid\": 1000}}",
              0644);
  struct hres r = hrun(c, "exec", "--process", file, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "/etc\nB=2\nuid=1000\n"), "%s", r.out);
  hres_free(&r);

  hwrite_file(file, "{\"cwd\": \"/\"}", 0644);
  r = hrun(c, "exec", "-p", file, c->id, NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, ".args: must not be empty") &&
                    hcontains(r.err, file),
                "%s", r.err);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_cap_adds_a_capability) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "status",
                       NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *before = status_field(r.out, "CapEff");
  hres_free(&r);
  /* CAP_AUDIT_WRITE 29, CAP_KILL 5, CAP_NET_BIND_SERVICE 10. */
  ck_assert_str_eq(before, "0000000020000420");
  r = hrun(c, "exec", "--cap", "CAP_SYS_ADMIN", "-c", "CAP_CHOWN", c->id,
           "/bin/hull-test-helper", "status", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *eff = status_field(r.out, "CapEff");
  cleanup_free char *bnd = status_field(r.out, "CapBnd");
  /* + CAP_SYS_ADMIN 21, CAP_CHOWN 0. */
  ck_assert_str_eq(eff, "0000000020200421");
  ck_assert_str_eq(bnd, "0000000020200421");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_no_new_privs) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, &(struct hconfig){
                      .process_extra = "\"noNewPrivileges\": false"});
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "status",
                       NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *off = status_field(r.out, "NoNewPrivs");
  ck_assert_str_eq(off, "0");
  hres_free(&r);
  r = hrun(c, "exec", "--no-new-privs", c->id, "/bin/hull-test-helper",
           "status", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *on = status_field(r.out, "NoNewPrivs");
  ck_assert_str_eq(on, "1");
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_gets_the_container_seccomp_filter) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, &(struct hconfig){
                      .linux_extra =
                          "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
                          " \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],"
                          " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42}]}"});
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "syscall",
                       "mkdirat", "-100", "/made", "0755", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "mkdirat=errno 42 "), "%s", r.out);
  hres_free(&r);
  r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "status", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "Seccomp:\t2\n"), "%s", r.out);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* The pids in the container's cgroup, as the host sees them. */
static int count_cgroup_procs(struct hctx *c) {
  static const char *const roots[] = {"/sys/fs/cgroup/pids",
                                      "/sys/fs/cgroup/unified",
                                      "/sys/fs/cgroup"};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    cleanup_free char *path =
        xasprintf("%s/hull/%s/cgroup.procs", roots[i], c->id);
    cleanup_free char *procs = hread_file(path);
    if (procs == NULL)
      continue;
    int n = 0;
    for (char *p = procs; *p; p++)
      n += *p == '\n';
    return n;
  }
  ck_abort_msg("no cgroup.procs for %s", c->id);
  return -1;
}

START_TEST(exec_of_a_missing_binary_fails_and_leaves_nothing) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  ck_assert_int_eq(count_cgroup_procs(c), 1);
  struct hres r = hrun(c, "exec", c->id, "/bin/nope", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "exec: \\\"/bin/nope\\\": ") ||
                    hcontains(r.err, "exec: \"/bin/nope\": "),
                "%s", r.err);
  hres_free(&r);
  r = hrun(c, "exec", c->id, "nope", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "executable file not found in $PATH"), "%s",
                r.err);
  hres_free(&r);
  ck_assert_int_eq(count_cgroup_procs(c), 1);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_detached_writes_the_pid_file) {
  struct hctx *c = hctx_new();
  pid_t init = hrun_waiter(c, NULL);
  cleanup_free char *pid_file = xasprintf("%s/exec.pid", c->dir);
  hrun_expect(0, c, "exec", "-d", "--pid-file", pid_file, c->id, "/bin/hull-test-helper", "sleep", "30");
  cleanup_free char *text = hread_file(pid_file);
  ck_assert_ptr_nonnull(text);
  pid_t pid = (pid_t)atoi(text);
  ck_assert_int_gt(pid, 0);
  cleanup_free char *mine = xasprintf("/proc/%d/ns/pid", (int)pid);
  cleanup_free char *theirs = xasprintf("/proc/%d/ns/pid", (int)init);
  struct stat a, b;
  ck_assert_int_eq(stat(mine, &a), 0);
  ck_assert_int_eq(stat(theirs, &b), 0);
  ck_assert_int_eq(a.st_ino, b.st_ino);
  ck_assert_int_eq(count_cgroup_procs(c), 2);
  /* delete --force takes the exec'd process with the container. */
  hctx_delete_and_finish(c);
  ck_assert_int_ne(kill(pid, 0), 0);
}
END_TEST

START_TEST(exec_forwards_signals_in_the_foreground) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  char *args[] = {"exec", c->id, "/bin/hull-test-helper", "signal-wait", NULL};
  struct hbg b = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(b.out_path, "ready", 5000), "no ready");
  ck_assert_int_eq(kill(b.pid, SIGTERM), 0);
  struct hres r = hbg_wait(&b, 5000);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "SIGTERM"), "%s", r.out);
  hres_free(&r);
  /* Killed by a signal: 128+N, as a shell reports it. */
  b = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(b.out_path, "ready", 5000), "no ready");
  ck_assert_int_eq(kill(b.pid, SIGHUP), 0);
  r = hbg_wait(&b, 5000);
  ck_assert_hres(r, 128 + SIGHUP);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(exec_into_stopped_or_missing_container_fails) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("exit", "0")});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "exit", "0", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "cannot exec in a stopped container"), "%s",
                r.err);
  hres_free(&r);
  r = hrun(c, "exec", "nosuch", "/bin/true", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "container does not exist"), "%s", r.err);
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(exec_tty_with_console_socket_gets_a_pty) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = hconsole_listen(sock);
  char *args[] = {"exec", "-d", "-t", "--console-socket", sock, c->id,
                  "/bin/hull-test-helper", "isatty", "1", NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = hconsole_receive_fd(listener);
  struct hres r = hbg_wait(&b, 10000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  unsigned int pty_number;
  ck_assert_int_eq(ioctl(master, TIOCGPTN, &pty_number), 0);
  cleanup_free char *seen = hconsole_read_until(master, "yes", 5000);
  ck_assert_msg(hcontains(seen, "yes"), "read: `%s`", seen);

  /* runc's rules: a console socket only with -d and -t (a foreground
   * -t is proxied by hull, see test-tty.c). */
  r = hrun(c, "exec", "-d", "--console-socket", sock, c->id, "/bin/true",
           NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "cannot use console socket"), "%s", r.err);
  hres_free(&r);
  hctx_delete_and_finish(c);
}
END_TEST

/* Makes <container cgroup>/sub in every hierarchy (cpuset needs its cpus
 * and mems before it takes a task). */
static void make_sub_cgroups(struct hctx *c) {
  const char *const roots[] = {"/sys/fs/cgroup/*/hull", "/sys/fs/cgroup/hull"};
  int made = 0;
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *pat = xasprintf("%s/%s", roots[i], c->id);
    glob_t gl;
    if (glob(pat, 0, NULL, &gl) != 0)
      continue;
    for (size_t j = 0; j < gl.gl_pathc; j++) {
      cleanup_free char *sub = xasprintf("%s/sub", gl.gl_pathv[j]);
      ck_assert_msg(mkdir(sub, 0755) == 0, "mkdir %s", sub);
      made++;
      for (int k = 0; k < 2; k++) {
        const char *knob = k ? "cpuset.mems" : "cpuset.cpus";
        cleanup_free char *from = xasprintf("%s/%s", gl.gl_pathv[j], knob);
        cleanup_free char *value = hread_file(from);
        if (value == NULL || !hcontains(gl.gl_pathv[j], "cpuset"))
          continue;
        cleanup_free char *to = xasprintf("%s/%s", sub, knob);
        hwrite_file(to, value, 0644);
      }
    }
    globfree(&gl);
  }
  ck_assert_int_gt(made, 0);
}

START_TEST(exec_cgroup_runs_in_a_sub_cgroup) {
  struct hctx *c = hctx_new();
  hrun_waiter(c, NULL);
  struct hres r = hrun(c, "exec", "--cgroup", "sub", c->id, "/bin/true",
                       NULL);
  ck_assert_hres(r, 255); /* it must exist */
  hres_free(&r);
  r = hrun(c, "exec", "--cgroup", "../escape", c->id, "/bin/true", NULL);
  ck_assert_hres(r, 255);
  ck_assert_msg(hcontains(r.err, "../escape is not a sub cgroup path"), "%s",
                r.err);
  hres_free(&r);
  make_sub_cgroups(c);
  r = hrun(c, "exec", "--cgroup", "sub", c->id, "/bin/hull-test-helper",
           "cat", "/proc/self/cgroup", NULL);
  ck_assert_hres(r, 0);
  /* Every hierarchy's line ends in the sub-cgroup. */
  cleanup_free char *out = xstrdup(r.out);
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    size_t n = strlen(line);
    ck_assert_msg(n > 4 && strcmp(line + n - 4, "/sub") == 0, "%s", r.out);
  }
  hres_free(&r);
  hctx_delete_and_finish(c); /* delete removes the sub-cgroups too */
}
END_TEST

static Suite *exec_suite(void) {
  Suite *s = suite_create("integration-exec");
  TCase *tc = harness_tcase("exec", 60);
  tcase_add_test(tc, exec_prints_output_and_propagates_exit_code);
  tcase_add_test(tc, exec_joins_the_init_namespaces_and_cgroup);
  tcase_add_test(tc, exec_flags_set_env_cwd_and_user);
  tcase_add_test(tc, exec_process_file_is_the_whole_process);
  tcase_add_test(tc, exec_cap_adds_a_capability);
  tcase_add_test(tc, exec_no_new_privs);
  tcase_add_test(tc, exec_gets_the_container_seccomp_filter);
  tcase_add_test(tc, exec_of_a_missing_binary_fails_and_leaves_nothing);
  tcase_add_test(tc, exec_detached_writes_the_pid_file);
  tcase_add_test(tc, exec_forwards_signals_in_the_foreground);
  tcase_add_test(tc, exec_into_stopped_or_missing_container_fails);
  tcase_add_test(tc, exec_tty_with_console_socket_gets_a_pty);
  tcase_add_test(tc, exec_cgroup_runs_in_a_sub_cgroup);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(exec_suite)
