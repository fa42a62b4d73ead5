/* test_vm_agent.c — the VM guest agent, `hull vm-agent`, driven on the host
 * in its test mode over a socketpair (no VM): it creates the container, says
 * READY with the kernel's release, and then speaks the agent protocol
 * (runtime/vm/proto.h) as the monitor would: START, STDIN, SIGNAL, EXEC,
 * WINSIZE in; OK, ERROR, STDOUT, STDERR, EXIT, WINDOW out (next_frame
 * counts the WINDOWs and passes over them). The container is hull's
 * own, so the harness's leftover checks apply unchanged. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"
#include "runtime/vm/proto.h"
#include "runtime/vm/vm.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRAME_TIMEOUT_MS 10000

struct agent {
  struct hbg bg;
  int fd;                    /* our end of the channel */
  struct vm_inq q;
  size_t window[8];          /* stdin bytes WINDOW acknowledged, by stream */
};

/* A received frame, copied out of the queue. */
struct frame {
  uint32_t type, stream;
  char *payload;             /* NUL-terminated copy */
  size_t len;
};

static void frame_free(struct frame *f) {
  free(f->payload);
  f->payload = NULL;
}

/* Writes cfg and starts `hull vm-agent` with the channel as its fd 3
 * (args: extra vm-agent flags, NULL-terminated). */
static struct agent agent_start(struct hctx *c, const struct hconfig *cfg,
                                const char *const *extra) {
  hctx_write_config(c, cfg);
  int sv[2];
  ck_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  char *args[16] = {"vm-agent", "--channel-fd", "3", "--bundle", c->bundle,
                    "--root", c->root};
  size_t n = 7;
  for (size_t i = 0; extra && extra[i]; i++)
    args[n++] = (char *)extra[i];
  args[n] = NULL;
  struct agent a = {.bg = hstart(c, args, -1, sv[1]), .fd = sv[0]};
  close(sv[1]);
  return a;
}

static struct agent agent_start_id(struct hctx *c, const struct hconfig *cfg) {
  const char *extra[] = {"--id", c->id, NULL};
  return agent_start(c, cfg, extra);
}

static struct frame next_frame(struct agent *a) {
  cleanup_error hull_error_t err = NULL;
  struct vm_frame f;
  for (;;) {
    int r = vm_frame_receive(a->fd, &a->q, &f, FRAME_TIMEOUT_MS, &err);
    if (r < 0) {
      struct hres res = hbg_wait(&a->bg, 1000);
      ck_abort_msg("no frame from the agent: %s\nagent stderr: %s", err->msg,
                   res.err);
    }
    if (f.type != VM_FRAME_WINDOW)
      break;
    struct vm_window_msg w;
    ck_assert_uint_eq(f.len, sizeof(w));
    memcpy(&w, f.payload, sizeof(w));
    ck_assert_uint_lt(f.stream, 8);
    a->window[f.stream] += w.bytes;
  }
  /* Binary payloads (EXIT's status) may hold NUL bytes: copy them whole. */
  struct frame out = {.type = f.type, .stream = f.stream, .len = f.len,
                      .payload = xmalloc(f.len + 1)};
  memcpy(out.payload, f.payload, f.len);
  out.payload[f.len] = '\0';
  return out;
}

static void send_frame(struct agent *a, uint32_t type, uint32_t stream,
                       const void *payload, size_t len) {
  cleanup_error hull_error_t err = NULL;
  ck_assert_msg(vm_frame_send(a->fd, type, stream, payload, len, &err) == 0,
                "send: %s", err ? err->msg : "");
}

static void send_text(struct agent *a, uint32_t type, uint32_t stream,
                      const char *text) {
  send_frame(a, type, stream, text, strlen(text));
}

static void send_signal(struct agent *a, uint32_t stream, int sig, bool all) {
  struct vm_signal_msg m = {.signo = sig, .all = all};
  send_frame(a, VM_FRAME_SIGNAL, stream, &m, sizeof(m));
}

/* The next frame must be `type` on `stream`; returns its payload (free). */
static char *expect_frame(struct agent *a, uint32_t type, uint32_t stream) {
  struct frame f = next_frame(a);
  ck_assert_msg(f.type == type && f.stream == stream,
                "got %s on stream %u (`%s`), want %s on stream %u",
                vm_frame_type_name(f.type), f.stream, f.payload,
                vm_frame_type_name(type), stream);
  return f.payload;
}

static void expect_ready(struct agent *a) {
  cleanup_free char *release = expect_frame(a, VM_FRAME_READY, 0);
  struct utsname u;
  ck_assert(uname(&u) == 0);
  ck_assert_str_eq(release, u.release);
}

static void start(struct agent *a) {
  send_frame(a, VM_FRAME_START, VM_STREAM_INIT, NULL, 0);
  free(expect_frame(a, VM_FRAME_OK, VM_STREAM_INIT));
}

/* An agent whose container is created and started. */
static struct agent agent_started(struct hctx *c, const struct hconfig *cfg) {
  struct agent a = agent_start_id(c, cfg);
  expect_ready(&a);
  start(&a);
  return a;
}

struct outcome {
  char *out, *err;
  int status;                /* wait(2) status */
  bool out_closed, err_closed;
};

static void append(char **s, const char *more, size_t n) {
  size_t have = *s ? strlen(*s) : 0;
  *s = xrealloc(*s, have + n + 1);
  memcpy(*s + have, more, n);
  (*s)[have + n] = '\0';
}

/* Gathers stream's output until its EXIT. Frames of other streams are not
 * expected meanwhile. */
static struct outcome collect(struct agent *a, uint32_t stream) {
  struct outcome o = {.out = xstrdup(""), .err = xstrdup("")};
  for (;;) {
    struct frame f = next_frame(a);
    ck_assert_msg(f.stream == stream, "%s on stream %u (`%s`) while "
                  "collecting stream %u", vm_frame_type_name(f.type),
                  f.stream, f.payload, stream);
    if (f.type == VM_FRAME_STDOUT) {
      ck_assert_msg(!o.out_closed, "stdout after its end");
      if (f.len == 0)
        o.out_closed = true;
      append(&o.out, f.payload, f.len);
    } else if (f.type == VM_FRAME_STDERR) {
      ck_assert_msg(!o.err_closed, "stderr after its end");
      if (f.len == 0)
        o.err_closed = true;
      append(&o.err, f.payload, f.len);
    } else if (f.type == VM_FRAME_EXIT) {
      struct vm_exit_msg m;
      ck_assert_uint_eq(f.len, sizeof(m));
      memcpy(&m, f.payload, sizeof(m));
      o.status = m.status;
      frame_free(&f);
      return o;
    } else {
      ck_abort_msg("unexpected %s on stream %u: %s",
                   vm_frame_type_name(f.type), f.stream, f.payload);
    }
    frame_free(&f);
  }
}

static void outcome_free(struct outcome *o) {
  free(o->out);
  free(o->err);
}

/* Stream's process must end killed by sig. */
static void expect_killed_by(struct agent *a, uint32_t stream, int sig) {
  struct outcome o = collect(a, stream);
  ck_assert_msg(WIFSIGNALED(o.status) && WTERMSIG(o.status) == sig,
                "status %#x, want killed by %d", o.status, sig);
  outcome_free(&o);
}

/* SIGNAL, answered OK. */
static void signal_acked(struct agent *a, uint32_t stream, int sig, bool all) {
  send_signal(a, stream, sig, all);
  free(expect_frame(a, VM_FRAME_OK, stream));
}

/* The agent exits 0 once stream 1's EXIT is out; then nothing is left. */
static void agent_finish(struct hctx *c, struct agent *a) {
  struct hres r = hbg_wait(&a->bg, FRAME_TIMEOUT_MS);
  ck_assert_hres(r, 0);
  hres_free(&r);
  close(a->fd);
  vm_inq_free(&a->q);
  hctx_finish(c);
}

/* No pid namespace: a `sleep` that is its pid namespace's init would
 * ignore SIGTERM (as on the host). */
static const char no_pid_ns[] =
    "{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
    " {\"type\": \"mount\"}";

START_TEST(agent_runs_the_process_and_reports_its_output_and_exit) {
  struct hctx *c = hctx_new();
  struct agent a = agent_start_id(
      c, &(struct hconfig){.args = "\"sh\", \"-c\", \"echo hello; echo "
                                   "oops >&2\""});
  expect_ready(&a);
  start(&a);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert_str_eq(o.out, "hello\n");
  ck_assert_str_eq(o.err, "oops\n");
  ck_assert(o.out_closed && o.err_closed);
  ck_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

START_TEST(agent_reports_the_exit_code) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(
      c, &(struct hconfig){.args = "\"sh\", \"-c\", \"exit 3\""});
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert_msg(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 3,
                "status %#x", o.status);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

START_TEST(agent_passes_stdin_and_its_end) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){.args = "\"cat\""});
  send_text(&a, VM_FRAME_STDIN, VM_STREAM_INIT, "ping\n");
  send_text(&a, VM_FRAME_STDIN, VM_STREAM_INIT, "pong\n");
  send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, NULL, 0);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert_str_eq(o.out, "ping\npong\n");
  ck_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

/* The host may send VM_STDIN_WINDOW bytes ahead: the agent gives back
 * what the process took, VM_STDIN_ACK or more at a time, so that of a
 * window the process took it owes less than that (and a host that sent a
 * whole window always hears of room again). */
START_TEST(agent_acknowledges_the_stdin_the_process_took) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){.args = "\"wc\", \"-c\""});
  size_t sent = 0;
  char chunk[VM_FRAME_MAX_PAYLOAD];
  memset(chunk, 'x', sizeof(chunk));
  for (; sent < VM_STDIN_WINDOW; sent += sizeof(chunk))
    send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, chunk, sizeof(chunk));
  send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, NULL, 0);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert_uint_eq(strtoul(o.out, NULL, 10), sent);
  ck_assert_uint_le(a.window[VM_STREAM_INIT], sent);
  ck_assert_uint_gt(a.window[VM_STREAM_INIT] + VM_STDIN_ACK, sent);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

/* A process that never reads its stdin holds at most a window of it (its
 * pipe, then the agent's queue), and the channel stays open to its SIGNAL
 * (the stdin waits in the agent, not in the channel). */
START_TEST(agent_takes_a_signal_past_unread_stdin) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){
      .args = "\"sleep\", \"100\"", .namespaces = no_pid_ns});
  char chunk[VM_FRAME_MAX_PAYLOAD];
  memset(chunk, 'y', sizeof(chunk));
  for (size_t sent = 0; sent < VM_STDIN_WINDOW; sent += sizeof(chunk))
    send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, chunk, sizeof(chunk));
  signal_acked(&a, VM_STREAM_INIT, SIGKILL, false);
  ck_assert_uint_le(a.window[VM_STREAM_INIT], VM_STDIN_WINDOW);
  expect_killed_by(&a, VM_STREAM_INIT, SIGKILL);
  agent_finish(c, &a);
}
END_TEST

START_TEST(agent_delivers_a_signal_to_the_process) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(
      c, &(struct hconfig){.args = "\"sleep\", \"100\"",
                           .namespaces = no_pid_ns});
  signal_acked(&a, VM_STREAM_INIT, SIGTERM, false);
  expect_killed_by(&a, VM_STREAM_INIT, SIGTERM);
  agent_finish(c, &a);
}
END_TEST

/* The host's reader of stdout went away (an empty STDOUT frame): the
 * process finds its stdout broken, as with a pipe, and dies of SIGPIPE
 * instead of writing into nowhere forever. */
START_TEST(agent_closes_an_output_nobody_reads) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(
      c, &(struct hconfig){.args = "\"yes\"", .namespaces = no_pid_ns});
  send_frame(&a, VM_FRAME_STDOUT, VM_STREAM_INIT, NULL, 0);
  expect_killed_by(&a, VM_STREAM_INIT, SIGPIPE);
  agent_finish(c, &a);
}
END_TEST

/* A signal before START: the waiting init dies, and that is the end. */
START_TEST(agent_kill_all_before_start_ends_the_container) {
  struct hctx *c = hctx_new();
  struct agent a = agent_start_id(c, &(struct hconfig){.args = "\"cat\""});
  expect_ready(&a);
  signal_acked(&a, VM_STREAM_INIT, SIGKILL, true);
  expect_killed_by(&a, VM_STREAM_INIT, SIGKILL);
  agent_finish(c, &a);
}
END_TEST

START_TEST(agent_runs_an_exec_beside_the_process) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){.args = "\"cat\""});
  send_text(&a, VM_FRAME_EXEC, 2,
            "{\"args\": [\"sh\", \"-c\", \"hostname; echo e >&2; exit 4\"],"
            " \"cwd\": \"/\", \"env\": [\"PATH=/bin\"]}");
  cleanup_free char *pid = expect_frame(&a, VM_FRAME_OK, 2);
  ck_assert_int_gt(atoi(pid), 0);
  struct outcome e = collect(&a, 2);
  ck_assert_str_eq(e.out, "hull-test\n");
  ck_assert_str_eq(e.err, "e\n");
  ck_assert_msg(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 4,
                "status %#x", e.status);
  outcome_free(&e);
  /* Its own stdin, and a signal to it alone. */
  send_text(&a, VM_FRAME_EXEC, 3,
            "{\"args\": [\"cat\"], \"cwd\": \"/\"}");
  free(expect_frame(&a, VM_FRAME_OK, 3));
  send_text(&a, VM_FRAME_STDIN, 3, "to-exec\n");
  send_frame(&a, VM_FRAME_STDIN, 3, NULL, 0);
  struct outcome e3 = collect(&a, 3);
  ck_assert_str_eq(e3.out, "to-exec\n");
  outcome_free(&e3);
  send_text(&a, VM_FRAME_EXEC, 4,
            "{\"args\": [\"sleep\", \"100\"], \"cwd\": \"/\"}");
  free(expect_frame(&a, VM_FRAME_OK, 4));
  send_signal(&a, 4, SIGKILL, false);
  free(expect_frame(&a, VM_FRAME_OK, 4));
  struct outcome e4 = collect(&a, 4);
  ck_assert(WIFSIGNALED(e4.status) && WTERMSIG(e4.status) == SIGKILL);
  outcome_free(&e4);
  send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, NULL, 0);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

START_TEST(agent_answers_a_bad_exec_with_error) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){.args = "\"cat\""});
  send_text(&a, VM_FRAME_EXEC, 2, "{not json");
  cleanup_free char *e1 = expect_frame(&a, VM_FRAME_ERROR, 2);
  ck_assert_msg(*e1, "an empty error");
  send_text(&a, VM_FRAME_EXEC, 2, "{\"args\": 5, \"cwd\": \"/\"}");
  cleanup_free char *e2 = expect_frame(&a, VM_FRAME_ERROR, 2);
  ck_assert_msg(hcontains(e2, ".args"), "error: %s", e2);
  send_text(&a, VM_FRAME_EXEC, 2,
            "{\"args\": [\"/no/such/program\"], \"cwd\": \"/\"}");
  cleanup_free char *e3 = expect_frame(&a, VM_FRAME_ERROR, 2);
  ck_assert_msg(hcontains(e3, "/no/such/program"), "error: %s", e3);
  /* Stream 1 is not an exec's; a second START is refused. */
  send_text(&a, VM_FRAME_EXEC, VM_STREAM_INIT,
            "{\"args\": [\"true\"], \"cwd\": \"/\"}");
  free(expect_frame(&a, VM_FRAME_ERROR, VM_STREAM_INIT));
  send_frame(&a, VM_FRAME_START, VM_STREAM_INIT, NULL, 0);
  free(expect_frame(&a, VM_FRAME_ERROR, VM_STREAM_INIT));
  signal_acked(&a, VM_STREAM_INIT, SIGKILL, false);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

/* The id comes from the guest config's annotation when --id is not
 * given; the container's state lives under it in --root meanwhile. */
START_TEST(agent_takes_the_id_from_the_annotation) {
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(
      "\"annotations\": {\"" VM_GUEST_ID_ANNOTATION "\": \"%s\"}", c->id);
  struct agent a = agent_start(
      c, &(struct hconfig){.args = "\"cat\"", .top_extra = top}, NULL);
  expect_ready(&a);
  cleanup_free char *state = xasprintf("%s/%s/state.json", c->root, c->id);
  struct stat st;
  ck_assert_msg(stat(state, &st) == 0, "no %s", state);
  start(&a);
  send_frame(&a, VM_FRAME_STDIN, VM_STREAM_INIT, NULL, 0);
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

/* process.terminal: the process's stdio is a pty whose output comes as
 * STDOUT, and WINSIZE sizes it. */
START_TEST(agent_relays_a_terminal) {
  struct hctx *c = hctx_new();
  struct agent a = agent_start_id(
      c, &(struct hconfig){.args = "\"sh\", \"-c\", \"read x; tty; stty "
                                   "size; echo got $x\"",
                           .terminal = true});
  expect_ready(&a);
  struct vm_winsize_msg ws = {.rows = 33, .cols = 77};
  send_frame(&a, VM_FRAME_WINSIZE, VM_STREAM_INIT, &ws, sizeof(ws));
  start(&a);
  /* An exec with a terminal of its own, sized by its own WINSIZE. */
  send_text(&a, VM_FRAME_EXEC, 2,
            "{\"terminal\": true, \"args\": [\"sh\", \"-c\", \"read x; "
            "stty size\"], \"cwd\": \"/\"}");
  free(expect_frame(&a, VM_FRAME_OK, 2));
  struct vm_winsize_msg ws2 = {.rows = 12, .cols = 34};
  send_frame(&a, VM_FRAME_WINSIZE, 2, &ws2, sizeof(ws2));
  send_text(&a, VM_FRAME_STDIN, 2, "go\n");
  struct outcome e = collect(&a, 2);
  ck_assert_msg(hcontains(e.out, "12 34"), "exec out: %s", e.out);
  ck_assert(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0);
  outcome_free(&e);
  send_text(&a, VM_FRAME_STDIN, VM_STREAM_INIT, "zz\n");
  struct outcome o = collect(&a, VM_STREAM_INIT);
  ck_assert_msg(hcontains(o.out, "/dev/pts/"), "out: %s", o.out);
  ck_assert_msg(hcontains(o.out, "33 77"), "out: %s", o.out);
  ck_assert_msg(hcontains(o.out, "got zz"), "out: %s", o.out);
  ck_assert_str_eq(o.err, "");
  ck_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  outcome_free(&o);
  agent_finish(c, &a);
}
END_TEST

/* The host going away ends the container too: nothing is left behind. */
START_TEST(agent_cleans_up_when_the_host_hangs_up) {
  struct hctx *c = hctx_new();
  struct agent a = agent_started(c, &(struct hconfig){.args = "\"cat\""});
  send_text(&a, VM_FRAME_EXEC, 2,
            "{\"args\": [\"sleep\", \"100\"], \"cwd\": \"/\"}");
  free(expect_frame(&a, VM_FRAME_OK, 2));
  close(a.fd);
  struct hres r = hbg_wait(&a.bg, FRAME_TIMEOUT_MS);
  ck_assert_hres(r, 0);
  hres_free(&r);
  vm_inq_free(&a.q);
  hctx_finish(c);
}
END_TEST

START_TEST(agent_refuses_a_config_that_asks_for_a_vm_again) {
  struct hctx *c = hctx_new();
  struct agent a = agent_start(
      c, &(struct hconfig){.top_extra = "\"annotations\": {\"" 
                                        VM_HANDLER_ANNOTATION "\": \""
                                        VM_HANDLER_NAME "\"}"},
      NULL);
  struct hres r = hbg_wait(&a.bg, FRAME_TIMEOUT_MS);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "asks for a VM again"), "stderr: %s", r.err);
  hres_free(&r);
  close(a.fd);
  hctx_finish(c);
}
END_TEST

static Suite *vm_agent_suite(void) {
  Suite *s = suite_create("integration-vm-agent");
  TCase *tc = harness_tcase("agent", 60);
  tcase_add_test(tc, agent_runs_the_process_and_reports_its_output_and_exit);
  tcase_add_test(tc, agent_reports_the_exit_code);
  tcase_add_test(tc, agent_passes_stdin_and_its_end);
  tcase_add_test(tc, agent_acknowledges_the_stdin_the_process_took);
  tcase_add_test(tc, agent_takes_a_signal_past_unread_stdin);
  tcase_add_test(tc, agent_delivers_a_signal_to_the_process);
  tcase_add_test(tc, agent_closes_an_output_nobody_reads);
  tcase_add_test(tc, agent_kill_all_before_start_ends_the_container);
  tcase_add_test(tc, agent_runs_an_exec_beside_the_process);
  tcase_add_test(tc, agent_answers_a_bad_exec_with_error);
  tcase_add_test(tc, agent_takes_the_id_from_the_annotation);
  tcase_add_test(tc, agent_relays_a_terminal);
  tcase_add_test(tc, agent_cleans_up_when_the_host_hangs_up);
  tcase_add_test(tc, agent_refuses_a_config_that_asks_for_a_vm_again);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_agent_suite)
