/* monitor.c — the host side of a running VM: the process that is the
 * container's pid.
 *
 * It enters the container's sandbox (cgroup by vm_spawn, namespaces here,
 * no capabilities, no_new_privs), starts the hypervisor as its child, and
 * then relays between three parties without ever blocking on one of them:
 *   - the agent (the guest's virtio port or ttyS1, a socketpair end):
 *     frames;
 *   - its own stdio (the engine's pipes or a pty): stream 1's STDIN, STDOUT
 *     and STDERR, and its signals, which go into the guest as SIGNAL(1);
 *   - clients of <state dir>/vm.sock (`start`, `kill --all`, `exec`): their
 *     frames pass on, exec streams renumbered to unique guest streams.
 * When the agent reports stream 1's EXIT, the guest powers off; the monitor
 * waits for the hypervisor (and kills it after a grace period) and exits
 * with the process's status, as a namespace init would. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/linux/linux.h"

#define HYPERVISOR_GRACE_MS 5000
#define HIGH_WATER (1u << 20) /* stop reading a source beyond this backlog */
#define MAX_CLIENTS 64
#define TAIL_MAX 4096
/* What the guest may say on the host: its errors are logged this many
 * times at most (each one line, vm_frame_text). */
#define AGENT_ERRORS_LOGGED 10

enum waiter_kind { WAIT_START, WAIT_SIGNAL, WAIT_NOBODY };

/* Who gets the next OK/ERROR of stream 1 (the agent answers in order). */
struct waiter {
  unsigned client_id;
  enum waiter_kind kind;
};

struct client {
  unsigned id;
  int fd;
  struct vm_inq in;
  struct vm_outq out;
  uint32_t stream;       /* an exec's stream as the client numbers it */
  uint32_t guest_stream; /* ... and as the guest does (0: no exec) */
  bool exec_running;     /* the agent said OK to its EXEC */
  bool done;             /* its exec ended: close once flushed */
};

struct monitor {
  struct monitor_config *cfg;
  pid_t hypervisor;
  bool hypervisor_exited;
  int hypervisor_status;
  int hv_err_fd; /* the hypervisor's stderr */
  char hv_err[TAIL_MAX];
  size_t hv_err_len;
  int sig_fd;
  struct vm_inq agent_in;
  struct vm_outq agent_out;
  bool agent_open;
  bool ready, started, stdin_open, init_exited;
  size_t stdin_window; /* stream 1's stdin bytes the guest will take now */
  int init_status;
  struct byte_queue out_q, err_q;
  bool out_broken, err_broken; /* their fd's reader is gone */
  struct client *clients[MAX_CLIENTS];
  size_t n_clients;
  unsigned next_client_id;
  struct waiter *waiters;
  size_t n_waiters;
  uint32_t next_stream;
  unsigned agent_errors; /* stream 0's ERRORs so far */
  uint64_t deadline_ms; /* boot timeout, then the hypervisor's grace */
};

static void sync_send(struct monitor_config *cfg, char type, const char *text) {
  if (cfg->sync_fd < 0)
    return;
  size_t len = text ? strlen(text) : 0;
  char *msg = xmalloc(len + 1);
  msg[0] = type;
  if (len)
    memcpy(msg + 1, text, len);
  while (send(cfg->sync_fd, msg, len + 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
  free(msg);
}

/* ---- the sandbox --------------------------------------------------------- */

static int enter_namespaces(struct monitor_config *cfg, hull_error_t *err) {
  int ret = ns_join(cfg->ns_fds, err);
  ns_close_paths(cfg->ns_fds);
  if (ret < 0)
    return -1;
  int flags = (cfg->new_ns_flags & ~CLONE_NEWPID) | CLONE_NEWNS;
  if (unshare(flags) < 0)
    return hull_error(err, errno, "unshare the monitor's namespaces");
  /* Nothing the monitor might mount (a file share's bind mount) reaches
   * the host; what the host mounts later (a createRuntime hook's mount in
   * the rootfs) reaches qemu's shares, as rslave does for a namespace
   * container's rootfs. */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return hull_error(err, errno, "make / a slave");
  /* The hypervisor is PID 1 of the container's pid namespace: whatever it
   * forks dies with it. (The monitor stays outside, so that it can die of
   * the container's signal.) */
  if ((cfg->new_ns_flags & CLONE_NEWPID) && unshare(CLONE_NEWPID) < 0)
    return hull_error(err, errno, "unshare the pid namespace");
  return 0;
}

/* What qemu's virtio-9p server needs to act on the shared files as the
 * guest's users would, with security_model=passthrough (qemu.c): give a
 * created file its creator's uid and gid (CHOWN), reach and change files
 * whoever owns them (DAC_*, FOWNER), keep set-group-ID bits (FSETID) and
 * make device nodes (MKNOD). A namespace container's root has these. */
static const cap_value_t share_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
    CAP_MKNOD};
#define N_SHARE_CAPS (sizeof(share_caps) / sizeof(share_caps[0]))

static bool is_share_cap(int c) {
  for (size_t i = 0; i < N_SHARE_CAPS; i++)
    if (share_caps[i] == c)
      return true;
  return false;
}

/* The hypervisor needs no privilege: every capability goes, from the
 * bounding set too, so not even an exec of a setuid file brings one back.
 * But for shares (keep_share_caps): those of share_caps stay in the
 * bounding and permitted sets, which a root qemu's exec then gives it
 * (no_new_privs caps what an exec gains at the permitted set). */
static int drop_privileges(bool keep_share_caps, hull_error_t *err) {
  for (int c = 0; c <= 63; c++)
    if (!(keep_share_caps && is_share_cap(c)) &&
        prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return hull_error(err, errno, "drop capability %d from the bounding set",
                        c);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  cap_t none = cap_init();
  cap_t now = cap_get_proc();
  for (size_t i = 0; keep_share_caps && now && i < N_SHARE_CAPS; i++) {
    cap_flag_value_t have = CAP_CLEAR;
    /* Only what we have: a hull without it (not root) keeps nothing. */
    if (cap_get_flag(now, share_caps[i], CAP_PERMITTED, &have) == 0 &&
        have == CAP_SET)
      cap_set_flag(none, CAP_PERMITTED, 1, &share_caps[i], CAP_SET);
  }
  if (now)
    cap_free(now);
  int ret = cap_set_proc(none);
  int e = errno;
  cap_free(none);
  if (ret < 0)
    return hull_error(err, e, "drop capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hull_error(err, errno, "set no_new_privs");
  return 0;
}

static int wait_for_go(struct monitor_config *cfg, hull_error_t *err) {
  char c = 0;
  ssize_t n;
  do
    n = recv(cfg->sync_fd, &c, 1, 0);
  while (n < 0 && errno == EINTR);
  if (n != 1 || c != MONITOR_GO)
    return hull_error(err, 0, "hull create went away");
  return 0;
}

/* ---- errors that name what the user can look at ------------------------- */

/* The last non-empty line of text[0, len). */
static char *last_line(const char *text, size_t len) {
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                     text[len - 1] == ' '))
    len--;
  size_t start = len;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  char *line = xstrndup(text + start, len - start);
  for (char *p = line; *p; p++)
    if (*p == '\r' || (unsigned char)*p < 0x20)
      *p = ' ';
  return line;
}

static char *console_last_line(const char *path) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return xstrdup("");
  off_t size = lseek(fd, 0, SEEK_END);
  off_t from = size > TAIL_MAX ? size - TAIL_MAX : 0;
  char buf[TAIL_MAX];
  ssize_t n = pread(fd, buf, sizeof(buf), from);
  return last_line(buf, n > 0 ? (size_t)n : 0);
}

static void read_hypervisor_stderr(struct monitor *m) {
  for (;;) {
    char buf[TAIL_MAX];
    ssize_t n = read(m->hv_err_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0 || errno != EAGAIN) {
        close(m->hv_err_fd);
        m->hv_err_fd = -1;
      }
      return;
    }
    /* Keep the tail. */
    size_t keep = m->hv_err_len + (size_t)n > TAIL_MAX
                      ? TAIL_MAX - (size_t)n
                      : m->hv_err_len;
    memmove(m->hv_err, m->hv_err + m->hv_err_len - keep, keep);
    memcpy(m->hv_err + keep, buf, (size_t)n);
    m->hv_err_len = keep + (size_t)n;
  }
}

static void kill_hypervisor(struct monitor *m) {
  if (m->hypervisor <= 0 || m->hypervisor_exited)
    return;
  kill(m->hypervisor, SIGKILL);
  while (waitpid(m->hypervisor, &m->hypervisor_status, 0) < 0 &&
         errno == EINTR)
    ;
  m->hypervisor_exited = true;
}

/* Before READY: vm_spawn reports msg as create's error. After: the log. */
static void __attribute__((noreturn)) monitor_fail(struct monitor *m,
                                                   const char *msg) {
  kill_hypervisor(m);
  if (m->cfg->sync_fd >= 0)
    sync_send(m->cfg, MONITOR_FAILED, msg);
  else
    log_msg(LOG_ERROR, "VM monitor: %s", msg);
  _exit(255);
}

static char *describe_status(int status) {
  if (WIFSIGNALED(status))
    return xasprintf("was killed by signal %d", WTERMSIG(status));
  return xasprintf("exited with status %d", WEXITSTATUS(status));
}

static void agent_read(struct monitor *m);

/* The hypervisor is gone: what it wrote before it went (an ERROR, the
 * process's EXIT) is still to be read, up to the end it left. */
static void drain_agent(struct monitor *m) {
  for (int i = 0; i < 1024 && m->agent_open; i++)
    agent_read(m);
}

static void __attribute__((noreturn)) fail_hypervisor_gone(struct monitor *m) {
  /* The agent's ERROR (a guest that could not boot resets after it) may
   * still wait in the channel: it says more than the hypervisor's end. */
  drain_agent(m);
  if (m->hv_err_fd >= 0)
    read_hypervisor_stderr(m);
  const char *path = m->cfg->boot.settings->hypervisor;
  cleanup_free char *how = describe_status(m->hypervisor_status);
  cleanup_free char *line = last_line(m->hv_err, m->hv_err_len);
  /* A bad vm.image is the spec's fault, not the hypervisor's. */
  cleanup_free char *image = path ? qemu_image_error(m->cfg->boot.settings,
                                                     line)
                                  : NULL;
  if (image != NULL)
    monitor_fail(m, image);
  cleanup_free char *console = console_last_line(m->cfg->boot.console_log);
  cleanup_free char *name = path ? xasprintf("hypervisor `%s`", path)
                                 : xstrdup("the built-in VMM");
  cleanup_free char *msg =
      *line ? xasprintf("%s %s before the VM was ready: %s", name, how, line)
      : *console
          ? xasprintf("%s %s before the VM was ready (last console line: %s)",
                      name, how, console)
          : xasprintf("%s %s before the VM was ready", name, how);
  monitor_fail(m, msg);
}

/* ---- clients of vm.sock -------------------------------------------------- */

static struct client *client_by_id(struct monitor *m, unsigned id) {
  for (size_t i = 0; i < m->n_clients; i++)
    if (m->clients[i]->id == id)
      return m->clients[i];
  return NULL;
}

static struct client *client_by_guest_stream(struct monitor *m, uint32_t s) {
  for (size_t i = 0; i < m->n_clients; i++)
    if (m->clients[i]->guest_stream == s)
      return m->clients[i];
  return NULL;
}

static void client_drop(struct monitor *m, size_t i) {
  struct client *c = m->clients[i];
  /* An exec whose `hull exec` went away loses its stdin, as a process
   * whose terminal closed; it runs on. */
  if (c->guest_stream && !c->done && m->agent_open)
    vm_outq_frame(&m->agent_out, VM_FRAME_STDIN, c->guest_stream, NULL, 0);
  close(c->fd);
  vm_inq_free(&c->in);
  vm_outq_free(&c->out);
  free(c);
  m->clients[i] = m->clients[--m->n_clients];
}

static void client_error(struct client *c, uint32_t stream, const char *msg) {
  vm_outq_frame(&c->out, VM_FRAME_ERROR, stream, msg, strlen(msg));
}

static void push_waiter(struct monitor *m, unsigned id, enum waiter_kind k) {
  m->waiters = xrealloc(m->waiters, (m->n_waiters + 1) * sizeof(*m->waiters));
  m->waiters[m->n_waiters++] = (struct waiter){id, k};
}

static void to_agent(struct monitor *m, uint32_t type, uint32_t stream,
                     const void *payload, size_t len) {
  vm_outq_frame(&m->agent_out, type, stream, payload, len);
}

static void client_frame(struct monitor *m, struct client *c,
                         const struct vm_frame *f) {
  if (m->init_exited) {
    /* The words `exec` uses for a stopped container on the host. */
    client_error(c, f->stream, f->type == VM_FRAME_EXEC
                                   ? "cannot exec in a stopped container"
                                   : "the container's process has exited");
    return;
  }
  bool own = c->guest_stream && f->stream == c->stream;
  uint32_t to = 0; /* the guest stream it goes to; 0: refused */
  switch (f->type) {
  case VM_FRAME_START:
    if (f->stream == VM_STREAM_INIT) {
      push_waiter(m, c->id, WAIT_START);
      to = VM_STREAM_INIT;
    }
    break;
  case VM_FRAME_SIGNAL:
    if (f->stream == VM_STREAM_INIT) {
      push_waiter(m, c->id, WAIT_SIGNAL);
      to = VM_STREAM_INIT;
    } else if (own) {
      to = c->guest_stream;
    }
    break;
  case VM_FRAME_EXEC:
    if (c->guest_stream == 0 && f->stream >= VM_STREAM_FIRST_EXEC) {
      c->stream = f->stream;
      c->guest_stream = m->next_stream++;
      to = c->guest_stream;
    }
    break;
  case VM_FRAME_STDIN:
  case VM_FRAME_STDOUT: /* empty: the relay's reader is gone */
  case VM_FRAME_STDERR:
  case VM_FRAME_WINSIZE:
    if (own)
      to = c->guest_stream;
    break;
  }
  if (to) {
    to_agent(m, f->type, to, f->payload, f->len);
    return;
  }
  cleanup_free char *msg = xasprintf("unexpected %s frame on stream %u",
                                     vm_frame_type_name(f->type), f->stream);
  client_error(c, f->stream, msg);
}

/* Reads what client i sent; false when it is gone. */
static bool client_read(struct monitor *m, struct client *c) {
  cleanup_error hull_error_t err = NULL;
  int got = vm_inq_read(&c->in, c->fd, &err);
  struct vm_frame f;
  int r;
  while ((r = vm_inq_next(&c->in, &f, &err)) == 1)
    client_frame(m, c, &f);
  return got > 0 && r == 0;
}

static void accept_client(struct monitor *m) {
  int fd = accept4(m->cfg->listen_fd, NULL, NULL,
                   SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (m->n_clients == MAX_CLIENTS) {
    close(fd);
    return;
  }
  struct client *c = xzalloc(sizeof(*c));
  c->id = ++m->next_client_id;
  c->fd = fd;
  m->clients[m->n_clients++] = c;
}

/* ---- the agent ----------------------------------------------------------- */

static void answer_waiter(struct monitor *m, const struct vm_frame *f) {
  if (m->n_waiters == 0)
    return;
  struct waiter w = m->waiters[0];
  memmove(m->waiters, m->waiters + 1, --m->n_waiters * sizeof(*m->waiters));
  if (w.kind == WAIT_START && f->type == VM_FRAME_OK)
    m->started = true;
  struct client *c = client_by_id(m, w.client_id);
  if (c)
    vm_outq_frame(&c->out, f->type, VM_STREAM_INIT, f->payload, f->len);
}

static void init_frame(struct monitor *m, const struct vm_frame *f) {
  switch (f->type) {
  case VM_FRAME_OK:
  case VM_FRAME_ERROR:
    answer_waiter(m, f);
    return;
  case VM_FRAME_WINDOW:
    m->stdin_window = vm_stdin_window_add(m->stdin_window, f);
    return;
  case VM_FRAME_STDOUT:
    if (!m->out_broken)
      byte_queue_add(&m->out_q, f->payload, f->len);
    return;
  case VM_FRAME_STDERR:
    if (m->cfg->terminal ? !m->out_broken : !m->err_broken)
      byte_queue_add(m->cfg->terminal ? &m->out_q : &m->err_q, f->payload,
                     f->len);
    return;
  case VM_FRAME_EXIT: {
    /* Once: a guest that says it again must not hold the VM past its
     * grace (the deadline) nor queue an answer per claim. */
    if (m->init_exited)
      return;
    struct vm_exit_msg e = {0};
    memcpy(&e, f->payload, f->len < sizeof(e) ? f->len : sizeof(e));
    m->init_exited = true;
    m->init_status = e.status;
    m->deadline_ms = monotonic_ms() + HYPERVISOR_GRACE_MS;
    /* We have all it sent: it may power off (proto.h). */
    to_agent(m, VM_FRAME_EXIT, VM_STREAM_INIT, NULL, 0);
    /* The requests still waiting will not be answered now. */
    for (size_t i = 0; i < m->n_waiters; i++) {
      struct client *c = client_by_id(m, m->waiters[i].client_id);
      if (c)
        client_error(c, VM_STREAM_INIT, "the container's process has exited");
    }
    m->n_waiters = 0;
    return;
  }
  }
}

static void forward_winsize(struct monitor *m);

/* The guest's own errors go to the log, but a guest that floods them
 * does not fill the host's disk. */
static void log_agent_error(struct monitor *m, const struct vm_frame *f) {
  if (m->agent_errors >= AGENT_ERRORS_LOGGED)
    return;
  cleanup_free char *text = vm_frame_text(f);
  log_msg(LOG_ERROR, "VM agent: %s", text);
  if (++m->agent_errors == AGENT_ERRORS_LOGGED)
    log_msg(LOG_ERROR, "VM agent: further errors are not logged");
}

static void agent_frame(struct monitor *m, const struct vm_frame *f) {
  if (!m->ready) {
    if (f->type == VM_FRAME_READY) {
      m->ready = true;
      m->deadline_ms = 0;
      cleanup_free char *release = vm_frame_text(f);
      sync_send(m->cfg, MONITOR_READY, release);
      close(m->cfg->sync_fd);
      m->cfg->sync_fd = -1;
      /* The engine may have sized the terminal while the guest booted. */
      if (m->cfg->terminal)
        forward_winsize(m);
    } else if (f->type == VM_FRAME_ERROR) {
      cleanup_free char *msg = vm_frame_text(f);
      monitor_fail(m, msg);
    }
    return;
  }
  if (f->stream == VM_STREAM_INIT) {
    init_frame(m, f);
    return;
  }
  if (f->stream == VM_STREAM_CONTROL) {
    if (f->type == VM_FRAME_ERROR)
      log_agent_error(m, f);
    return;
  }
  struct client *c = client_by_guest_stream(m, f->stream);
  if (c == NULL)
    return;
  vm_outq_frame(&c->out, f->type, c->stream, f->payload, f->len);
  /* It ends with its EXIT, or with the ERROR that refused the EXEC. */
  if (f->type == VM_FRAME_OK)
    c->exec_running = true;
  if (f->type == VM_FRAME_EXIT ||
      (f->type == VM_FRAME_ERROR && !c->exec_running))
    c->done = true;
}

/* The guest broke the protocol: nothing it says can be trusted any more
 * (nor its channel read on: where the next frame starts is unknown), so
 * the VM stops, and the container's process counts as failed, rather than
 * running on with nobody able to reach it. */
static void agent_broke_protocol(struct monitor *m, const char *what) {
  log_msg(LOG_ERROR, "VM monitor: stopping the VM: %s", what);
  m->agent_open = false;
  kill_hypervisor(m);
  if (!m->init_exited) {
    m->init_exited = true;
    m->init_status = 255 << 8;
  }
  /* What the host's readers still have to take gets its grace. */
  m->deadline_ms = monotonic_ms() + HYPERVISOR_GRACE_MS;
}

static void agent_read(struct monitor *m) {
  cleanup_error hull_error_t err = NULL;
  int got = vm_inq_read(&m->agent_in, m->cfg->agent_fd, &err);
  struct vm_frame f;
  int r;
  while ((r = vm_inq_next(&m->agent_in, &f, &err)) == 1)
    agent_frame(m, &f);
  if (r < 0) {
    if (!m->ready)
      monitor_fail(m, err->msg);
    agent_broke_protocol(m, err->msg);
  }
  if (got <= 0)
    m->agent_open = false;
}

/* ---- signals and its own stdio ------------------------------------------- */

static void forward_winsize(struct monitor *m) {
  struct winsize ws;
  if (ioctl(m->cfg->in_fd, TIOCGWINSZ, &ws) < 0)
    return;
  struct vm_winsize_msg w = {ws.ws_row, ws.ws_col};
  to_agent(m, VM_FRAME_WINSIZE, VM_STREAM_INIT, &w, sizeof(w));
}

static void reap_hypervisor(struct monitor *m) {
  int status;
  pid_t r;
  while ((r = waitpid(-1, &status, WNOHANG)) > 0)
    if (r == m->hypervisor) {
      m->hypervisor_exited = true;
      m->hypervisor_status = status;
    }
}

/* A resize is asked for again once the guest is up. */
static bool ignored_by_default(int sig) {
  return sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
         sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_signals(struct monitor *m) {
  struct signalfd_siginfo si;
  while (read(m->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD) {
      reap_hypervisor(m);
    } else if (!m->ready) {
      /* Signalled while booting: nothing to pass it to yet, so act as a
       * process with default dispositions would: ignore or die of it (a
       * wait status whose low bits are the signal). */
      if (ignored_by_default(sig))
        continue;
      kill_hypervisor(m);
      vm_exit_like(sig);
    } else if (sig == SIGWINCH && m->cfg->terminal) {
      forward_winsize(m);
    } else if (!m->init_exited) {
      struct vm_signal_msg s = {sig, 0};
      push_waiter(m, 0, WAIT_NOBODY);
      to_agent(m, VM_FRAME_SIGNAL, VM_STREAM_INIT, &s, sizeof(s));
    }
  }
}

static void read_stdin(struct monitor *m) {
  char buf[VM_FRAME_MAX_PAYLOAD];
  size_t want = m->stdin_window < sizeof(buf) ? m->stdin_window : sizeof(buf);
  ssize_t n = read(m->cfg->in_fd, buf, want);
  if (n > 0) {
    m->stdin_window -= (size_t)n;
    to_agent(m, VM_FRAME_STDIN, VM_STREAM_INIT, buf, (size_t)n);
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    to_agent(m, VM_FRAME_STDIN, VM_STREAM_INIT, NULL, 0);
    m->stdin_open = false;
  }
}

/* Our stdout or stderr failed (EPIPE: the engine's reader is gone): the
 * process is to find its output broken too, as it would writing to that
 * pipe itself, rather than write on into nowhere forever. */
static void output_broken(struct monitor *m, uint32_t type) {
  bool *broken = type == VM_FRAME_STDOUT ? &m->out_broken : &m->err_broken;
  byte_queue_free(type == VM_FRAME_STDOUT ? &m->out_q : &m->err_q);
  if (*broken)
    return;
  *broken = true;
  if (m->agent_open && !m->init_exited)
    to_agent(m, type, VM_STREAM_INIT, NULL, 0);
}

/* ---- the loop ------------------------------------------------------------- */

enum { P_SIG, P_AGENT, P_LISTEN, P_STDIN, P_STDOUT, P_STDERR, P_HV_ERR,
       P_CLIENTS };

static bool finished(struct monitor *m) {
  bool output = byte_queue_pending(&m->out_q) || byte_queue_pending(&m->err_q);
  for (size_t i = 0; i < m->n_clients; i++)
    output = output || vm_outq_pending(&m->clients[i]->out);
  return m->hypervisor_exited && (!output || m->deadline_ms == 0);
}

static int poll_timeout(struct monitor *m) {
  if (m->deadline_ms == 0)
    return -1;
  uint64_t now = monotonic_ms();
  return m->deadline_ms > now ? (int)(m->deadline_ms - now) : 0;
}

static void on_deadline(struct monitor *m) {
  if (!m->ready) {
    cleanup_free char *line = console_last_line(m->cfg->boot.console_log);
    /* Silence from the built-in VMM is mostly a /dev/kvm that emulates
     * (nested): Linux crawls there. */
    bool builtin = m->cfg->boot.settings->hypervisor == NULL;
    cleanup_free char *msg = xasprintf(
        "the VM did not answer within %u s (last console line: %s)%s",
        (m->cfg->boot.settings->boot_timeout_ms + 999) / 1000,
        *line ? line : "none",
        builtin && !*line ? "; the built-in VMM's guest printed nothing: "
                            "is /dev/kvm fast enough to boot Linux here? "
                            "vm.hypervisor.path can name a qemu instead"
                          : "");
    monitor_fail(m, msg);
  }
  /* After EXIT: the hypervisor had its grace; then the output its. */
  if (!m->hypervisor_exited) {
    kill_hypervisor(m);
    m->deadline_ms = monotonic_ms() + HYPERVISOR_GRACE_MS;
  } else {
    m->deadline_ms = 0;
  }
}

/* Whether some reader on the host is behind: the agent channel is not
 * read until it caught up, which holds the guest's writers (the channel
 * keeps every stream's bytes in order, so it stops for all of them). */
static bool output_busy(const struct monitor *m) {
  if (byte_queue_pending(&m->out_q) > HIGH_WATER ||
      byte_queue_pending(&m->err_q) > HIGH_WATER)
    return true;
  for (size_t i = 0; i < m->n_clients; i++)
    if (vm_outq_pending(&m->clients[i]->out) > HIGH_WATER)
      return true;
  return false;
}

static void serve(struct monitor *m) {
  struct monitor_config *cfg = m->cfg;
  cleanup_error hull_error_t err = NULL;
  while (!finished(m)) {
    bool agent_busy = vm_outq_pending(&m->agent_out) > HIGH_WATER;
    bool out_busy = output_busy(m);
    struct pollfd p[P_CLIENTS + MAX_CLIENTS];
    for (size_t i = 0; i < P_CLIENTS + MAX_CLIENTS; i++)
      p[i] = (struct pollfd){.fd = -1};
    p[P_SIG] = (struct pollfd){m->sig_fd, POLLIN, 0};
    if (m->agent_open)
      p[P_AGENT] = (struct pollfd){
          cfg->agent_fd,
          (short)((out_busy ? 0 : POLLIN) |
                  (vm_outq_pending(&m->agent_out) ? POLLOUT : 0)),
          0};
    /* Also once the process exited: a command that comes while the VM
     * powers off is told so at once (client_frame), rather than waiting
     * in the backlog until we exit and then reading a reset. */
    if (m->ready && m->n_clients < MAX_CLIENTS)
      p[P_LISTEN] = (struct pollfd){cfg->listen_fd, POLLIN, 0};
    if (m->started && m->stdin_open && !agent_busy && !m->init_exited &&
        m->stdin_window > 0)
      p[P_STDIN] = (struct pollfd){cfg->in_fd, POLLIN, 0};
    if (byte_queue_pending(&m->out_q))
      p[P_STDOUT] = (struct pollfd){cfg->out_fd, POLLOUT, 0};
    if (byte_queue_pending(&m->err_q))
      p[P_STDERR] = (struct pollfd){cfg->err_fd, POLLOUT, 0};
    if (m->hv_err_fd >= 0)
      p[P_HV_ERR] = (struct pollfd){m->hv_err_fd, POLLIN, 0};
    for (size_t i = 0; i < m->n_clients; i++) {
      struct client *c = m->clients[i];
      p[P_CLIENTS + i] = (struct pollfd){
          c->fd,
          (short)((agent_busy ? 0 : POLLIN) |
                  (vm_outq_pending(&c->out) ? POLLOUT : 0)),
          0};
    }
    size_t n_clients = m->n_clients;
    int n = poll(p, P_CLIENTS + n_clients, poll_timeout(m));
    if (n < 0 && errno != EINTR)
      monitor_fail(m, "poll failed");
    if (n == 0) {
      on_deadline(m);
      continue;
    }
    if (p[P_SIG].revents)
      on_signals(m);
    if (p[P_HV_ERR].revents)
      read_hypervisor_stderr(m);
    if (p[P_AGENT].revents & (POLLIN | POLLHUP | POLLERR))
      agent_read(m);
    if (p[P_LISTEN].revents)
      accept_client(m);
    if (p[P_STDIN].revents)
      read_stdin(m);
    if (p[P_STDOUT].revents &&
        byte_queue_write_some(&m->out_q, cfg->out_fd) < 0)
      output_broken(m, VM_FRAME_STDOUT);
    if (p[P_STDERR].revents &&
        byte_queue_write_some(&m->err_q, cfg->err_fd) < 0)
      output_broken(m, VM_FRAME_STDERR);
    /* Back to front: client_drop moves the last client into the hole. */
    for (size_t i = n_clients; i-- > 0;) {
      struct client *c = m->clients[i];
      bool alive = true;
      if (p[P_CLIENTS + i].revents & (POLLIN | POLLHUP | POLLERR))
        alive = client_read(m, c);
      if (alive && vm_outq_flush(&c->out, c->fd, &err) < 0)
        alive = false;
      if (alive && c->done && vm_outq_pending(&c->out) == 0)
        alive = false;
      if (!alive)
        client_drop(m, i);
    }
    if (m->agent_open && vm_outq_flush(&m->agent_out, cfg->agent_fd, &err) < 0)
      m->agent_open = false;
    if (m->hypervisor_exited && !m->ready)
      fail_hypervisor_gone(m);
    if (m->hypervisor_exited && !m->init_exited)
      drain_agent(m);
    if (m->hypervisor_exited && !m->init_exited) {
      /* The guest stopped without reporting the process's end. */
      cleanup_free char *line = console_last_line(cfg->boot.console_log);
      log_msg(LOG_ERROR, "VM monitor: the VM stopped before the container's "
              "process exited (last console line: %s)", line);
      m->init_exited = true;
      m->init_status = 255 << 8;
      m->deadline_ms = monotonic_ms() + HYPERVISOR_GRACE_MS;
    }
  }
}

/* ---- the guest's devices ------------------------------------------------ */

/* The guest kernel's modules for its virtio devices: the transport, then
 * each device's driver (vm_kernel_modules adds what they need first). */
static char **virtio_modules(const char *release, bool microvm, bool cards,
                             bool balloon) {
  const char *names[5];
  size_t n = 0;
  names[n++] = microvm ? "virtio_mmio" : "virtio_pci";
  names[n++] = "virtio_console";
  if (cards)
    names[n++] = "virtio_net";
  if (balloon)
    names[n++] = "virtio_balloon";
  names[n] = NULL;
  return vm_kernel_modules(release, names);
}

/* After GO, when whoever sets up the network (an engine before create,
 * hull's bridge network in on_ns_ready) has done so, and before the
 * capabilities go: the taps, what the guest is to configure, and the
 * virtio modules of the agent channel's port, the cards and the balloon
 * (Debian's kernel has them as modules), added to its initramfs. The
 * built-in VMM's cards, like its console, are virtio-mmio devices on the
 * kernel's command line: a kernel that cannot find those
 * (builtin_agent_on_virtio) gets no card there, and talks over ttyS1.
 *
 * The machine (a pc when the kernel cannot find a microvm's virtio-mmio
 * devices, vm_spawn) decides the transport's module. */
static int prepare_guest_devices(struct monitor_config *cfg,
                                 struct vm_net *net, hull_error_t *err) {
  *net = (struct vm_net){0};
  const struct vm_settings *s = cfg->boot.settings;
  bool builtin = s->hypervisor == NULL;
  if (builtin && !builtin_agent_on_virtio(s))
    return 0;
  if (cfg->network && vm_net_prepare(net, err) < 0)
    return -1;
  bool microvm = builtin || (qemu_uses_microvm(s, cfg->boot.pvh_kernel) &&
                             !cfg->boot.pci);
  cleanup_free char *release = vm_kernel_release(s->kernel);
  cleanup_strv char **modules =
      virtio_modules(release, microvm, net->n > 0, s->balloon);
  if (vm_image_append_network(cfg->boot.initrd, net->guest_config, modules,
                              err) < 0) {
    vm_net_close(net);
    return -1;
  }
  cfg->boot.nics = net->nics;
  cfg->boot.n_nics = net->n;
  return 0;
}

/* The pipe the hypervisor's stderr (and its virtiofsds') goes to. */
static int open_hypervisor_stderr(struct monitor *m, hull_error_t *err) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  m->cfg->boot.stderr_fd = pipe_fds[1];
  m->hv_err_fd = pipe_fds[0];
  fcntl(m->hv_err_fd, F_SETFL, O_NONBLOCK);
  return 0;
}

/* virtio-fs shares' daemons (virtiofs.c): root's work, before the
 * capabilities go; qemu gets their sockets. */
static int start_virtiofs(struct monitor_config *cfg, int **fds,
                          hull_error_t *err) {
  const struct vm_settings *s = cfg->boot.settings;
  if (vm_virtiofs_start(cfg->boot.shares, s->virtiofsd, s->virtiofsd_qemus,
                        cfg->state_dir, cfg->boot.stderr_fd, fds, err) < 0)
    return -1;
  cfg->boot.virtiofs_fds = *fds;
  return 0;
}

static int start_hypervisor(struct monitor *m, hull_error_t *err) {
  struct monitor_config *cfg = m->cfg;
  int ret = cfg->boot.settings->hypervisor
                ? qemu_start(&cfg->boot, &m->hypervisor, err)
                : builtin_start(&cfg->boot, &m->hypervisor, err);
  close(cfg->boot.stderr_fd);
  cfg->boot.stderr_fd = -1;
  close(cfg->boot.agent_fd);
  cfg->boot.agent_fd = -1;
  return ret;
}

/* qemu uses the shared files as root (9p's passthrough) only over
 * virtio-9p; over virtio-fs the virtiofsds do. */
static bool hypervisor_shares_files(const struct monitor_config *cfg) {
  const struct vm_shares *s = cfg->boot.shares;
  return s != NULL && s->transport == VM_SHARE_9P;
}

void monitor_main(struct monitor_config *cfg) {
  struct monitor m = {.cfg = cfg, .hv_err_fd = -1, .agent_open = true,
                      .stdin_open = true, .stdin_window = VM_STDIN_WINDOW,
                      .next_stream = VM_STREAM_FIRST_EXEC};
  /* What `ps` and `hull ps` show for the container's pid. */
  prctl(PR_SET_NAME, "hull-vm-monitor", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  vm_forwarded_signals(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  cleanup_error hull_error_t err = NULL;
  /* Its own session and process group: vm_spawn kills the group when
   * create fails, and a terminal's signals reach it only through hull. */
  setsid();
  if (cfg->terminal) {
    ioctl(cfg->in_fd, TIOCSCTTY, 0);
    if (vm_tty_raw(cfg->in_fd, &err) < 0)
      monitor_fail(&m, err->msg);
  }
  if (enter_namespaces(cfg, &err) < 0)
    monitor_fail(&m, err->msg);
  sync_send(cfg, MONITOR_SANDBOXED, NULL);
  if (wait_for_go(cfg, &err) < 0)
    _exit(255);
  struct vm_net net;
  int *virtiofs_fds = NULL;
  if (prepare_guest_devices(cfg, &net, &err) < 0 ||
      vm_shares_mount_entries(cfg->boot.shares, &err) < 0 ||
      open_hypervisor_stderr(&m, &err) < 0 ||
      start_virtiofs(cfg, &virtiofs_fds, &err) < 0 ||
      drop_privileges(hypervisor_shares_files(cfg), &err) < 0 ||
      start_hypervisor(&m, &err) < 0)
    monitor_fail(&m, err->msg);
  /* The sockets are qemu's now. */
  vm_virtiofs_close(virtiofs_fds, cfg->boot.shares ? cfg->boot.shares->n : 0);
  cfg->boot.virtiofs_fds = NULL;
  /* The taps are the hypervisor's now: they go when it exits. */
  vm_net_close(&net);
  cfg->boot.nics = NULL;
  cfg->boot.n_nics = 0;
  m.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m.sig_fd < 0)
    monitor_fail(&m, "signalfd failed");
  fcntl(cfg->agent_fd, F_SETFL, O_NONBLOCK);
  fcntl(cfg->listen_fd, F_SETFL, O_NONBLOCK);
  m.agent_in.skip_noise = true;
  m.deadline_ms = monotonic_ms() + cfg->boot.settings->boot_timeout_ms;
  serve(&m);
  vm_exit_like(m.init_status);
}
