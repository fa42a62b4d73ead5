/* test_vm_user.c — VM mode as runc's users meet it: an engine's shim
 * (containerd-shim-runc-v2, conmon) or a person at a terminal. Every check
 * here holds for a namespace container too; VM mode must not differ in
 * what they see: the console socket and `-t`, pid files, `state`, `list`,
 * `ps`, `events`, `pause`, `delete --force`, a killed runtime, exit
 * statuses, stdin's end, a reader that goes away, large output and the
 * read-only root.
 *
 * qemu (TCG) boots in seconds, so each test checks what it can per boot. */
#include "tests/integration/vm-harness.h"
#include "tests/integration/console-receiver.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The container's process runs in the guest without a pid namespace: a
 * shell that is no pid 1 dies of the signals it gets, as the checks of
 * exit statuses want. */
#define NO_PID_NS                                                            \
  "{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, "      \
  "{\"type\": \"mount\"}"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Runs a shell command line; its exit code, or 128+N for a signal. */
static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = NULL;
  ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
  va_end(ap);
  int st = system(cmd);
  free(cmd);
  ck_assert_int_ne(st, -1);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *hull_path(void) { return getenv("HULL"); }

/* /proc/pid/stat's state letter ('?' when the pid is gone). */
static char proc_state(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
  cleanup_free char *stat = hread_file(path);
  const char *p = stat ? strrchr(stat, ')') : NULL;
  return p && p[1] && p[2] ? p[2] : '?';
}

/* Gone, or dead and not yet reaped. */
static bool proc_dead(pid_t pid) {
  char s = proc_state(pid);
  return s == '?' || s == 'Z' || s == 'X';
}

static bool proc_dies_within(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (proc_dead(pid))
      return true;
    sleep_ms(20);
  }
  return proc_dead(pid);
}

static char *proc_comm(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/comm", (int)pid);
  char *comm = hread_file(path);
  if (comm)
    comm[strcspn(comm, "\n")] = '\0';
  return comm ? comm : xstrdup("");
}

/* utime + stime, in clock ticks. */
static long long proc_cpu_ticks(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
  cleanup_free char *stat = hread_file(path);
  ck_assert_msg(stat != NULL, "pid %d is gone", (int)pid);
  const char *p = strrchr(stat, ')') + 2; /* field 3 */
  for (int field = 3; field < 14; field++)
    p = strchr(p, ' ') + 1;
  char *end;
  long long utime = strtoll(p, &end, 10);
  return utime + strtoll(end + 1, NULL, 10);
}

/* The monitor's only child: the hypervisor. */
static pid_t hypervisor_of(pid_t monitor) {
  cleanup_free char *path =
      xasprintf("/proc/%d/task/%d/children", (int)monitor, (int)monitor);
  cleanup_free char *children = hread_file(path);
  ck_assert_msg(children && *children, "the monitor %d has no child",
                (int)monitor);
  return (pid_t)strtol(children, NULL, 10);
}

static pid_t read_pid_file(const char *path) {
  cleanup_free char *text = hread_file(path);
  ck_assert_msg(text != NULL, "no pid file `%s`", path);
  return (pid_t)strtol(text, NULL, 10);
}

static char *state_json(struct hctx *c) {
  struct hres r = vrun(c, 10000, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  char *json = take_ptr(r.out);
  hres_free(&r);
  return json;
}

/* Reaps what the test, a subreaper, inherited: monitors, hypervisors,
 * exec relays. */
static void reap_orphans(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
}

/* ---- the terminal --------------------------------------------------------- */

/* process.terminal, as an engine drives it: `create --console-socket` gets
 * a pty master; the process's stdin and stdout are the terminal; typed
 * bytes reach it and its output comes back. Then `run -t` in the
 * foreground, with hull as the console (a person, through `script`). */
START_TEST(vm_terminal_console_socket_and_run_t) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper isatty 0; "
              "/bin/hull-test-helper isatty 1; read x; echo got-$x\"",
      .terminal = true,
      .top_extra = vm});
  cleanup_free char *sock = xasprintf("%s/console.sock", c->dir);
  cleanup_close int listener = hconsole_listen(sock);
  char *args[] = {"create", "--console-socket", sock, "--bundle", c->bundle,
                  c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_close int master = hconsole_receive_fd(listener);
  struct hres r = hbg_wait(&b, BOOT_TIMEOUT_MS);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "no fd arrived on the console socket");
  unsigned pty_number;
  ck_assert_msg(ioctl(master, TIOCGPTN, &pty_number) == 0,
                "what arrived is not a pty master: %s", strerror(errno));
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");

  r = vrun(c, 60000, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  /* The guest's pty turns \n into \r\n (and may hand out "yes" and
   * "\r\n" apart): read up to the whole second line. */
  cleanup_free char *ttys =
      hconsole_read_until(master, "yes\r\nyes\r\n", 60000);
  ck_assert_msg(hcontains(ttys, "yes\r\nyes\r\n"),
                "stdin and stdout are not both the terminal: `%s`", ttys);
  ck_assert_int_eq(write(master, "ping\n", 5), 5);
  cleanup_free char *seen = hconsole_read_until(master, "got-ping", 30000);
  ck_assert_msg(hcontains(seen, "got-ping"),
                "the typed line did not reach the process: `%s`", seen);
  ck_assert(hwait_status(c, c->id, "stopped", 30000));
  r = vrun(c, 30000, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);

  /* `run -t` without a console socket: hull proxies the pty to its own
   * terminal (script's), and exits with the process's status. */
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper isatty 0; "
              "/bin/hull-test-helper isatty 1; exit 5\"",
      .terminal = true,
      .top_extra = vm});
  cleanup_free char *out = xasprintf("%s/script.out", c->dir);
  int code = shell("script -qec '%s --root %s run --bundle %s %s' /dev/null "
                   "</dev/null >%s 2>&1",
                   hull_path(), c->root, c->bundle, c->id, out);
  cleanup_free char *text = hread_file(out);
  ck_assert_msg(code == 5, "run -t exited %d, want 5: %s", code, text);
  ck_assert_msg(hcontains(text, "yes\r\nyes\r\n"),
                "run -t: stdin and stdout are not the terminal: `%s`", text);
  hctx_finish(c);
}
END_TEST

/* ---- a detached container, the way a shim drives it --------------------- */

/* run -d --pid-file; state, list, ps, events --stats; pause and resume
 * (the VM stops and continues); root.readonly; exec | head; exec -t
 * (script), exec -d -t
 * --console-socket --pid-file, exec -d --pid-file; then delete --force
 * leaves no process, no state and no cgroup. One boot. */
START_TEST(vm_detached_container_as_a_shim_drives_it) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  /* The monitor, qemu and the relays outlive the commands that started
   * them: reparented here, where their ends can be watched. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, "\"org.example.test\": "
                                                 "\"value\"");
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo started; exec sleep 1000\"",
      .namespaces = NO_PID_NS,
      .readonly_root = true,
      .top_extra = vm});
  cleanup_free char *out = xasprintf("%s/out", c->dir);
  cleanup_free char *pid_file = xasprintf("%s/init.pid", c->dir);
  ck_assert_int_eq(shell("exec %s --root %s run -d --pid-file %s --bundle %s "
                         "%s >%s 2>&1 </dev/null",
                         hull_path(), c->root, pid_file, c->bundle, c->id,
                         out),
                   0);
  ck_assert(hwait_file(out, "started", 30000));

  /* The pid file and state name the monitor, which is the container. */
  pid_t monitor = read_pid_file(pid_file);
  cleanup_free char *comm = proc_comm(monitor);
  ck_assert_str_eq(comm, "hull-vm-monitor");
  cleanup_free char *json = state_json(c);
  ck_assert_int_eq(hjson_int(json, (const char *[]){"pid", NULL}, 0),
                   monitor);
  cleanup_free char *status =
      hjson_string(json, (const char *[]){"status", NULL});
  ck_assert_str_eq(status, "running");
  cleanup_free char *bundle =
      hjson_string(json, (const char *[]){"bundle", NULL});
  ck_assert_str_eq(bundle, c->bundle);
  cleanup_free char *annotation = hjson_string(
      json, (const char *[]){"annotations", "org.example.test", NULL});
  ck_assert_str_eq(annotation, "value");
  pid_t qemu = hypervisor_of(monitor);

  struct hres r = vrun(c, 10000, "list", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, c->id) && hcontains(r.out, "running"),
                "list: %s", r.out);
  hres_free(&r);
  r = vrun(c, 10000, "ps", "--format", "json", c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *monitor_in_ps = xasprintf("%d", (int)monitor);
  ck_assert_msg(hcontains(r.out, monitor_in_ps), "ps: %s", r.out);
  hres_free(&r);
  r = vrun(c, 30000, "events", "--stats", c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
                "events --stats: not one event: %s", r.out);
  cleanup_free char *type = hjson_string(r.out, (const char *[]){"type", NULL});
  ck_assert_str_eq(type, "stats");
  hres_free(&r);

  /* pause: the freezer stops the VM (qemu runs no more); resume: it
   * continues and answers. */
  r = vrun(c, 10000, "pause", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  free(take_ptr(status));
  status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "paused");
  sleep_ms(200);
  long long before = proc_cpu_ticks(qemu);
  sleep_ms(1000);
  long long paused_ticks = proc_cpu_ticks(qemu) - before;
  ck_assert_msg(paused_ticks == 0, "a paused VM ran %lld ticks", paused_ticks);
  r = vrun(c, 10000, "exec", c->id, "true", NULL);
  ck_assert_msg(r.status != 0 && hcontains(r.err, "paused"),
                "exec while paused: %d %s", r.status, r.err);
  hres_free(&r);
  r = vrun(c, 10000, "resume", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  free(take_ptr(status));
  status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "running");

  /* root.readonly holds in the guest. */
  r = vrun(c, 60000, "exec", c->id, "/bin/sh", "-c",
           "echo x >/written && echo wrote", NULL);
  ck_assert_msg(r.status != 0 && hcontains(r.err, "Read-only file system"),
                "writing to a read-only root: %d `%s` `%s`", r.status, r.out,
                r.err);
  hres_free(&r);

  /* `exec ... yes | head`: when the reader of exec's stdout goes, the
   * process in the guest finds its stdout broken and dies of SIGPIPE, as
   * it would writing to the pipe itself. */
  cleanup_free char *status_file = xasprintf("%s/exec.status", c->dir);
  shell("{ timeout 30 %s --root %s exec %s yes; echo $? >%s; } | head -c 2 "
        ">/dev/null",
        hull_path(), c->root, c->id, status_file);
  cleanup_free char *exec_status = hread_file(status_file);
  ck_assert_msg(exec_status && atoi(exec_status) == 128 + SIGPIPE,
                "exec yes | head: exec exited %s, want 141 (SIGPIPE)",
                exec_status ? exec_status : "(nothing)");

  /* exec -t in the foreground (script's terminal) */
  cleanup_free char *script_out = xasprintf("%s/script.out", c->dir);
  int code = shell("script -qec '%s --root %s exec -t %s /bin/sh -c "
                   "\"/bin/hull-test-helper isatty 1; exit 4\"' /dev/null "
                   "</dev/null >%s 2>&1",
                   hull_path(), c->root, c->id, script_out);
  cleanup_free char *text = hread_file(script_out);
  ck_assert_msg(code == 4, "exec -t exited %d, want 4: %s", code, text);
  ck_assert_msg(hcontains(text, "yes\r\n"), "exec -t: no terminal: `%s`",
                text);

  /* exec -d -t --console-socket --pid-file, as a shim execs a terminal */
  cleanup_free char *sock = xasprintf("%s/exec-console.sock", c->dir);
  cleanup_close int listener = hconsole_listen(sock);
  cleanup_free char *exec_pid_file = xasprintf("%s/exec.pid", c->dir);
  char *exec_args[] = {"exec", "-d", "-t", "--console-socket", sock,
                       "--pid-file", exec_pid_file, c->id, "/bin/sh", "-c",
                       "/bin/hull-test-helper isatty 0; read x; echo got-$x",
                       NULL};
  struct hbg b = hstart(c, exec_args, -1, -1);
  cleanup_close int master = hconsole_receive_fd(listener);
  r = hbg_wait(&b, 60000);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(master >= 0, "exec: no fd arrived on the console socket");
  pid_t tty_exec = read_pid_file(exec_pid_file);
  free(take_ptr(comm));
  comm = proc_comm(tty_exec);
  ck_assert_str_eq(comm, "hull-vm-exec");
  cleanup_free char *yes = hconsole_read_until(master, "yes", 30000);
  ck_assert_msg(hcontains(yes, "yes"), "exec -t: stdin no tty: `%s`", yes);
  ck_assert_int_eq(write(master, "ping\n", 5), 5);
  cleanup_free char *seen = hconsole_read_until(master, "got-ping", 30000);
  ck_assert_msg(hcontains(seen, "got-ping"), "exec -t: read `%s`", seen);
  int st = 0;
  ck_assert_int_eq(waitpid(tty_exec, &st, 0), tty_exec);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec status %#x", st);

  /* exec -d --pid-file: the pid is the exec's relay, alive meanwhile */
  r = vrun(c, 60000, "exec", "-d", "--pid-file", exec_pid_file, c->id,
           "sleep", "600", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  pid_t relay = read_pid_file(exec_pid_file);
  free(take_ptr(comm));
  comm = proc_comm(relay);
  ck_assert_str_eq(comm, "hull-vm-exec");

  /* delete --force: nothing of it is left when it returns */
  r = vrun(c, 30000, "delete", "--force", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(proc_dead(monitor), "the monitor %d outlived delete --force "
                "(%c)", (int)monitor, proc_state(monitor));
  ck_assert_msg(proc_dead(qemu), "qemu %d outlived delete --force (%c)",
                (int)qemu, proc_state(qemu));
  ck_assert_msg(proc_dead(relay), "the exec relay %d outlived delete --force "
                "(%c)", (int)relay, proc_state(relay));
  cleanup_free char *state_dir = xasprintf("%s/%s", c->root, c->id);
  ck_assert_msg(access(state_dir, F_OK) < 0, "%s is left", state_dir);
  r = vrun(c, 10000, "state", c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  hres_free(&r);
  reap_orphans();
  hctx_finish(c);
}
END_TEST

/* kill -9 of the container's pid (the monitor), as an OOM killer or an
 * impatient person does: qemu goes with it, state says stopped, exec says
 * why it cannot, and a plain delete cleans up. */
START_TEST(vm_killed_monitor_is_stopped_and_deletable) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo started; exec sleep 1000\"",
      .top_extra = vm});
  cleanup_free char *out = xasprintf("%s/out", c->dir);
  ck_assert_int_eq(shell("exec %s --root %s run -d --bundle %s %s >%s 2>&1 "
                         "</dev/null",
                         hull_path(), c->root, c->bundle, c->id, out),
                   0);
  ck_assert(hwait_file(out, "started", 30000));
  pid_t monitor = 0;
  cleanup_free char *status = hstate_status(c, c->id, &monitor);
  ck_assert_str_eq(status, "running");
  pid_t qemu = hypervisor_of(monitor);

  ck_assert_int_eq(kill(monitor, SIGKILL), 0);
  ck_assert(hwait_status(c, c->id, "stopped", 10000));
  ck_assert_msg(proc_dies_within(qemu, 5000), "qemu %d outlived its monitor",
                (int)qemu);
  struct hres r = vrun(c, 30000, "exec", c->id, "true", NULL);
  ck_assert_msg(r.status != 0 && hcontains(r.err, "stopped"),
                "exec after the end: %d `%s`", r.status, r.err);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "exec after the end: more than one line: %s", r.err);
  hres_free(&r);
  r = vrun(c, 30000, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *state_dir = xasprintf("%s/%s", c->root, c->id);
  ck_assert_msg(access(state_dir, F_OK) < 0, "%s is left", state_dir);
  reap_orphans();
  hctx_finish(c);
}
END_TEST

/* ---- stdio and the exit status -------------------------------------------- */

/* `printf data | hull run ... ` with a process that reads stdin to its
 * end, writes 1 MiB, writes to its (writable) root and dies of SIGTERM:
 * everything arrives, in order, and run exits 143 as with runc; the write
 * is in the bundle's rootfs on the host, shared over virtio-9p, as a
 * namespace container's would be. */
START_TEST(vm_run_stdin_eof_large_output_and_signal_status) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"cat; "
              "head -c 1048576 /dev/zero | tr '\\\\000' a; "
              "echo x >/written && echo wrote >&2; kill -TERM $$\"",
      .namespaces = NO_PID_NS,
      .top_extra = vm});
  cleanup_free char *out = xasprintf("%s/out", c->dir);
  cleanup_free char *errs = xasprintf("%s/err", c->dir);
  int code = shell("printf data | %s --root %s run --bundle %s %s >%s 2>%s",
                   hull_path(), c->root, c->bundle, c->id, out, errs);
  cleanup_free char *err_text = hread_file(errs);
  ck_assert_msg(code == 143, "run exited %d, want 143 (SIGTERM); stderr: %s",
                code, err_text);
  ck_assert_msg(hcontains(err_text, "wrote"), "the root is not writable: %s",
                err_text);
  cleanup_free char *text = hread_file(out);
  ck_assert(text != NULL);
  size_t len = strlen(text);
  ck_assert_msg(len == 4 + 1048576, "stdout has %zu bytes, want %d", len,
                4 + 1048576);
  ck_assert(strncmp(text, "data", 4) == 0);
  size_t a = strspn(text + 4, "a");
  ck_assert_msg(a == 1048576, "byte %zu of the MiB is %#x", a,
                (unsigned char)text[4 + a]);
  cleanup_free char *written = xasprintf("%s/written", c->rootfs);
  cleanup_free char *content = hread_file(written);
  ck_assert_msg(content && strcmp(content, "x\n") == 0,
                "the guest's write is not in the bundle: %s", written);
  hctx_finish(c);
}
END_TEST

static Suite *vm_user_suite(void) {
  Suite *s = suite_create("integration-vm-user");
  TCase *tc = harness_tcase("vm-user", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_terminal_console_socket_and_run_t);
  tcase_add_test(tc, vm_detached_container_as_a_shim_drives_it);
  tcase_add_test(tc, vm_killed_monitor_is_stopped_and_deletable);
  tcase_add_test(tc, vm_run_stdin_eof_large_output_and_signal_status);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_user_suite)
