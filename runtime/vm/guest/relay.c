/* relay.c — the agent's conversation with the host (proto.h), running
 * hull's own lifecycle on the guest kernel.
 *
 * At boot the container is created with its process's stdio on pipes (or
 * a pty) the agent owns, and READY goes out. From then on one poll loop
 * serves the channel, the processes' stdio and SIGCHLD (a signalfd):
 * frames from the host become lifecycle calls (START, SIGNAL, EXEC) or
 * stdin bytes; output becomes STDOUT/STDERR frames; a reaped process
 * becomes EXIT once its output is drained. Every write is queued and
 * flushed as the fd takes it: the host may be writing to us while we
 * write to it.
 *
 * When the container's process (stream 1) exits, what is left of the
 * container is killed and deleted, the remaining output drained, and
 * EXIT(1) is the last frame. */
#include "guest.h"
#include "runtime/container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a process's output may stay quiet after it exited before the
 * agent stops waiting for more (a background child may hold the pipe). */
#define DRAIN_QUIET_MS 200
/* Output is not read while this much waits for the channel. */
#define OUTQ_HIGH (1024 * 1024)
/* How long the last frames may go without any progress before the agent
 * stops waiting for the host to read them. A deadline on the whole flush
 * would cut off a slow but moving channel: up to OUTQ_HIGH may be queued,
 * and a loaded TCG host moves the UART at well under 100 KB/s. */
#define FINAL_FLUSH_STALL_MS 10000
/* How many reads of the channel one round makes at most while it has
 * more (a virtio port's are a page each): 256 KiB, then the processes'
 * output gets its turn. */
#define CHANNEL_READS 64

struct agent {
  const struct agent_options *o;
  const char *id;
  int channel;
  bool channel_open;         /* false after EOF or an error reading it */
  int sigchld;               /* signalfd */
  struct vm_inq in;
  struct vm_outq out;
  struct stream *streams;    /* streams[0] is stream 1 */
  size_t n_streams;
  bool started;
  bool host_done;            /* the host's EXIT(1): it read all we sent */
};

static struct stream *find_stream(struct agent *a, uint32_t id) {
  for (size_t i = 0; i < a->n_streams; i++)
    if (a->streams[i].id == id)
      return &a->streams[i];
  return NULL;
}

static struct stream *add_stream(struct agent *a, uint32_t id) {
  a->streams = xrealloc(a->streams, (a->n_streams + 1) * sizeof(*a->streams));
  struct stream *s = &a->streams[a->n_streams++];
  *s = (struct stream){.id = id, .in = -1, .out = -1, .err = -1,
                       .master = -1};
  return s;
}

static void remove_stream(struct agent *a, struct stream *s) {
  stream_close(s);
  size_t i = (size_t)(s - a->streams);
  memmove(s, s + 1, (a->n_streams - i - 1) * sizeof(*s));
  a->n_streams--;
}

static void send_frame(struct agent *a, uint32_t type, uint32_t stream,
                       const void *payload, size_t len) {
  if (len > VM_FRAME_MAX_PAYLOAD)
    len = VM_FRAME_MAX_PAYLOAD;
  vm_outq_frame(&a->out, type, stream, payload, len);
}

static void send_text(struct agent *a, uint32_t type, uint32_t stream,
                      const char *text) {
  send_frame(a, type, stream, text, strlen(text));
}

static void send_error(struct agent *a, uint32_t stream, hull_error_t *err) {
  send_text(a, VM_FRAME_ERROR, stream, *err ? (*err)->msg : "unknown error");
  hull_error_release(err);
}

/* ---- the container's id ------------------------------------------------- */

static const char *annotation(const struct spec *spec, const char *key) {
  for (size_t i = 0; i < spec->annotations.len; i++)
    if (strcmp(spec->annotations.items[i].key, key) == 0)
      return spec->annotations.items[i].value;
  return NULL;
}

/* The id (VM_GUEST_ID_ANNOTATION, else GUEST_DEFAULT_ID), and a check
 * that the guest config does not ask for a VM again: the guest runs the
 * container with the process handler. */
static int read_guest_config(const char *bundle, char **id,
                             hull_error_t *err) {
  cleanup_spec struct spec *spec = NULL;
  if (spec_load(bundle, &spec, err) < 0)
    return -1;
  const char *handler = annotation(spec, VM_HANDLER_ANNOTATION);
  if (spec->vm || (handler && strcmp(handler, VM_HANDLER_NAME) == 0))
    return hull_error(err, 0, "%s/config.json: the guest's config asks for "
                              "a VM again (vm or " VM_HANDLER_ANNOTATION ")",
                      bundle);
  const char *given = annotation(spec, VM_GUEST_ID_ANNOTATION);
  *id = xstrdup(given && *given ? given : GUEST_DEFAULT_ID);
  return 0;
}

/* ---- processes ----------------------------------------------------------- */

static void close_theirs(int theirs[3]) {
  for (int i = 0; i < 3; i++)
    if (theirs[i] >= 0)
      close(theirs[i]);
}

static int create_container(struct agent *a, hull_error_t *err) {
  struct stream *s = add_stream(a, VM_STREAM_INIT);
  int theirs[3] = {-1, -1, -1};
  if (stream_pipes(s, theirs, err) < 0)
    return -1;
  struct create_options co = {.root = a->o->root, .id = a->id,
                              .bundle = a->o->bundle};
  int master = -1;
  int ret = container_create_with_stdio(&co, theirs, &master, &s->pid, err);
  close_theirs(theirs);
  if (ret < 0)
    return hull_error_wrap(err, "create the container in the guest");
  if (master >= 0)
    stream_use_master(s, master);
  return 0;
}

static void on_exec(struct agent *a, const struct vm_frame *f) {
  hull_error_t err = NULL;
  if (f->stream < VM_STREAM_FIRST_EXEC || find_stream(a, f->stream)) {
    hull_error(&err, 0, "exec: stream %u is not free", f->stream);
    send_error(a, f->stream, &err);
    return;
  }
  cleanup_free char *json = xstrndup((const char *)f->payload, f->len);
  struct stream s = {.id = f->stream, .in = -1, .out = -1, .err = -1,
                     .master = -1};
  int theirs[3] = {-1, -1, -1};
  if (stream_pipes(&s, theirs, &err) < 0) {
    send_error(a, f->stream, &err);
    return;
  }
  struct exec_options eo = {.root = a->o->root, .id = a->id};
  int master = -1;
  int ret = container_exec_with_stdio(&eo, json, theirs, &master, &s.pid,
                                      &err);
  close_theirs(theirs);
  if (ret < 0) {
    stream_close(&s);
    send_error(a, f->stream, &err);
    return;
  }
  if (master >= 0)
    stream_use_master(&s, master);
  *add_stream(a, f->stream) = s;
  char pid[32];
  snprintf(pid, sizeof(pid), "%d", (int)s.pid);
  send_text(a, VM_FRAME_OK, f->stream, pid);
}

static void on_start(struct agent *a, const struct vm_frame *f) {
  hull_error_t err = NULL;
  if (f->stream != VM_STREAM_INIT)
    hull_error(&err, 0, "start: only stream %u can be started",
               VM_STREAM_INIT);
  else if (a->started)
    hull_error(&err, 0, "start: the container was started already");
  else if (container_start(a->o->root, a->id, &err) == 0)
    a->started = true;
  if (err)
    send_error(a, f->stream, &err);
  else
    send_frame(a, VM_FRAME_OK, f->stream, NULL, 0);
}

static void on_signal(struct agent *a, const struct vm_frame *f) {
  hull_error_t err = NULL;
  struct vm_signal_msg m;
  struct stream *s = find_stream(a, f->stream);
  if (f->len != sizeof(m)) {
    hull_error(&err, 0, "signal: a payload of %u bytes, want %zu", f->len,
               sizeof(m));
  } else {
    memcpy(&m, f->payload, sizeof(m));
    if (m.signo <= 0 || m.signo >= NSIG)
      hull_error(&err, 0, "signal: invalid signal %d", (int)m.signo);
    else if (f->stream == VM_STREAM_INIT)
      container_kill(a->o->root, a->id, m.signo, m.all != 0, &err);
    else if (s == NULL || s->exited)
      hull_error(&err, 0, "signal: no process on stream %u", f->stream);
    else if (kill(s->pid, m.signo) < 0)
      hull_error(&err, errno, "kill %d", (int)s->pid);
  }
  if (err)
    send_error(a, f->stream, &err);
  else
    send_frame(a, VM_FRAME_OK, f->stream, NULL, 0);
}

static void on_winsize(struct agent *a, const struct vm_frame *f) {
  struct stream *s = find_stream(a, f->stream);
  struct vm_winsize_msg m;
  if (s == NULL || s->master < 0 || f->len != sizeof(m))
    return;
  memcpy(&m, f->payload, sizeof(m));
  struct winsize ws = {.ws_row = m.rows, .ws_col = m.cols};
  ioctl(s->master, TIOCSWINSZ, &ws);
}

static void on_frame(struct agent *a, const struct vm_frame *f) {
  switch (f->type) {
  case VM_FRAME_START: on_start(a, f); break;
  case VM_FRAME_EXEC: on_exec(a, f); break;
  case VM_FRAME_SIGNAL: on_signal(a, f); break;
  case VM_FRAME_WINSIZE: on_winsize(a, f); break;
  case VM_FRAME_STDOUT:
  case VM_FRAME_STDERR: {
    /* Only the empty one comes from the host: its reader is gone. */
    struct stream *s = find_stream(a, f->stream);
    if (s && f->len == 0)
      stream_output_unread(s, f->type);
    break;
  }
  case VM_FRAME_EXIT:
    if (f->stream == VM_STREAM_INIT) {
      a->host_done = true;
      break;
    }
    goto unexpected;
  case VM_FRAME_STDIN: {
    struct stream *s = find_stream(a, f->stream);
    if (s)
      stream_feed_stdin(s, f->payload, f->len);
    break;
  }
  default:
  unexpected: {
    char msg[96];
    snprintf(msg, sizeof(msg), "unexpected %s frame (type %u) from the host",
             vm_frame_type_name(f->type), f->type);
    send_text(a, VM_FRAME_ERROR, f->stream, msg);
  }
  }
}

/* ---- the loop -------------------------------------------------------------- */

/* Handles every whole frame the channel's queue holds. */
static void handle_frames(struct agent *a) {
  hull_error_t err = NULL;
  struct vm_frame f;
  for (;;) {
    int got = vm_inq_next(&a->in, &f, &err);
    if (got == 0)
      return;
    if (got < 0) {
      /* Resynchronise at the next magic rather than give up. */
      send_error(a, VM_STREAM_CONTROL, &err);
      a->in.off++;
      a->in.skip_noise = true;
      continue;
    }
    on_frame(a, &f);
  }
}

/* Reads what the channel has, up to CHANNEL_READS reads. A virtio port
 * gives one of its buffers (a page) per read: going back to poll after
 * each would cost a poll per 4 KiB of stdin. */
static void read_channel(struct agent *a) {
  for (int i = 0; i < CHANNEL_READS && a->channel_open; i++) {
    hull_error_t err = NULL;
    size_t before = a->in.len - a->in.off;
    int r = vm_inq_read(&a->in, a->channel, &err);
    if (r <= 0) {
      if (err)
        log_warning("%s", err->msg);
      hull_error_release(&err);
      a->channel_open = false;
      return;
    }
    if (a->in.len - a->in.off == before)
      return; /* EAGAIN: all read */
    handle_frames(a);
  }
}

static void flush_channel(struct agent *a) {
  hull_error_t err = NULL;
  if (vm_outq_flush(&a->out, a->channel, &err) < 0) {
    log_warning("%s", err->msg);
    hull_error_release(&err);
    /* Nobody will read what is queued. */
    a->out.off = a->out.len = 0;
    a->channel_open = false;
  }
}

static void mark_exited(struct agent *a, pid_t pid, int status) {
  for (size_t i = 0; i < a->n_streams; i++) {
    struct stream *s = &a->streams[i];
    if (s->pid == pid && !s->exited) {
      s->exited = true;
      s->status = status;
      s->quiet_since_ms = monotonic_ms();
      /* Its stdin has no reader any more (on a pty, no ^D either: what
       * is left on the terminal is not to be told the input ended). */
      stream_drop_stdin(s);
    }
  }
}

/* Reaps every child that ended: the streams' processes, and as PID 1 any
 * orphan the kernel gave us. */
static void reap_children(struct agent *a) {
  struct signalfd_siginfo si;
  while (read(a->sigchld, &si, sizeof(si)) == (ssize_t)sizeof(si))
    ;
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR)
      continue;
    if (pid <= 0)
      return;
    mark_exited(a, pid, status);
  }
}

static void send_exit(struct agent *a, struct stream *s) {
  struct vm_exit_msg m = {.status = s->status};
  send_frame(a, VM_FRAME_EXIT, s->id, &m, sizeof(m));
}

/* Tells the host what each stdin took since the last time, once that is
 * VM_STDIN_ACK, so that it sends more (proto.h, WINDOW): every frame to the
 * host is a write to the port, which a TCG guest feels per 64 KiB. Less
 * never stalls the host: while it waits, a whole window is unacknowledged,
 * and what of it is not taken yet waits for the process anyway. */
static void send_windows(struct agent *a) {
  for (size_t i = 0; i < a->n_streams; i++) {
    struct stream *s = &a->streams[i];
    if (s->stdin_done < VM_STDIN_ACK)
      continue;
    struct vm_window_msg m = {.bytes = (uint32_t)s->stdin_done};
    send_frame(a, VM_FRAME_WINDOW, s->id, &m, sizeof(m));
    s->stdin_done = 0;
  }
}

/* An exec stream ends once its process exited and its output drained (or
 * stayed quiet for DRAIN_QUIET_MS). */
static void finish_exec_streams(struct agent *a, long long now) {
  for (size_t i = 0; i < a->n_streams;) {
    struct stream *s = &a->streams[i];
    bool drained = !stream_outputs_open(s) ||
                   now - s->quiet_since_ms >= DRAIN_QUIET_MS;
    if (s->id != VM_STREAM_INIT && s->exited && drained) {
      send_exit(a, s);
      remove_stream(a, s);
      continue;
    }
    i++;
  }
}

/* The fds of one round; owner[i] is the stream fds[i] belongs to (NULL for
 * the signalfd and the channel, which come first). */
struct pollset {
  struct pollfd *fds;
  struct stream **owner;
  nfds_t n;
};

static void pollset_init(struct pollset *p, size_t n_streams) {
  size_t cap = 2 + 3 * n_streams;
  p->fds = xmalloc(cap * sizeof(*p->fds));
  p->owner = xmalloc(cap * sizeof(*p->owner));
  p->n = 0;
}

static void pollset_free(struct pollset *p) {
  free(p->fds);
  free(p->owner);
}

static void pollset_add(struct pollset *p, int fd, short events,
                        struct stream *owner) {
  if (fd < 0 || events == 0)
    return;
  p->fds[p->n] = (struct pollfd){.fd = fd, .events = events};
  p->owner[p->n++] = owner;
}

static bool draining(const struct agent *a) {
  for (size_t i = 0; i < a->n_streams; i++)
    if (a->streams[i].exited)
      return true;
  return false;
}

/* One round: poll everything, then act on what is ready. */
static void agent_step(struct agent *a, int timeout_ms) {
  struct pollset p;
  pollset_init(&p, a->n_streams);
  pollset_add(&p, a->sigchld, POLLIN, NULL);
  if (a->channel_open)
    pollset_add(&p, a->channel,
                POLLIN | (vm_outq_pending(&a->out) ? POLLOUT : 0), NULL);
  bool room = vm_outq_pending(&a->out) < OUTQ_HIGH;
  for (size_t i = 0; i < a->n_streams; i++) {
    struct stream *s = &a->streams[i];
    if (room) {
      pollset_add(&p, s->out, POLLIN, s);
      pollset_add(&p, s->err, POLLIN, s);
    }
    if (s->stdin_q.len > s->stdin_q.off)
      pollset_add(&p, s->in, POLLOUT, s);
  }
  if (draining(a) && (timeout_ms < 0 || timeout_ms > DRAIN_QUIET_MS))
    timeout_ms = DRAIN_QUIET_MS;
  int ready = poll(p.fds, p.n, timeout_ms);
  if (ready < 0) {
    pollset_free(&p);
    return;
  }
  long long now = monotonic_ms();
  /* Streams may be added (EXEC) while frames are handled: act on the
   * processes' fds first, while the owner pointers hold. */
  for (nfds_t i = 0; i < p.n; i++) {
    struct stream *s = p.owner[i];
    short rev = p.fds[i].revents;
    if (s == NULL || rev == 0)
      continue;
    if (p.fds[i].fd == s->in && (rev & (POLLOUT | POLLERR | POLLHUP)))
      stream_write_stdin(s);
    else if (p.fds[i].fd == s->out)
      stream_read_output(s, &s->out, VM_FRAME_STDOUT, &a->out, now);
    else if (p.fds[i].fd == s->err)
      stream_read_output(s, &s->err, VM_FRAME_STDERR, &a->out, now);
  }
  if (p.fds[0].revents)
    reap_children(a);
  short channel_rev = p.n > 1 && p.owner[1] == NULL ? p.fds[1].revents : 0;
  pollset_free(&p);
  if (a->channel_open && (channel_rev & POLLOUT))
    flush_channel(a);
  if (a->channel_open && (channel_rev & (POLLIN | POLLHUP | POLLERR)))
    read_channel(a);
  send_windows(a);
  finish_exec_streams(a, now);
  if (a->channel_open && vm_outq_pending(&a->out))
    flush_channel(a);
}

/* ---- the end ------------------------------------------------------------------ */

static bool all_outputs_closed(const struct agent *a) {
  for (size_t i = 0; i < a->n_streams; i++)
    if (stream_outputs_open(&a->streams[i]))
      return false;
  return true;
}

/* Stream 1 exited: nothing of the container may outlive it. Kill the rest
 * and delete the container (cgroup, state), then drain every pipe. */
static void end_container(struct agent *a) {
  hull_error_t err = NULL;
  if (container_delete(a->o->root, a->id, true, &err) < 0) {
    log_warning("delete the guest container: %s", err->msg);
    hull_error_release(&err);
  }
  reap_children(a);
  /* The writers are dead, so the pipes hold a bounded amount; while the
   * channel moves, what waits behind a full queue is still on its way. */
  long long deadline = monotonic_ms() + 2000;
  while (!all_outputs_closed(a) && monotonic_ms() < deadline) {
    size_t pending = vm_outq_pending(&a->out);
    agent_step(a, DRAIN_QUIET_MS);
    reap_children(a);
    if (vm_outq_pending(&a->out) < pending)
      deadline = monotonic_ms() + 2000;
  }
  /* The exec streams end with the container: their EXITs come first. */
  for (size_t i = 0; i < a->n_streams;) {
    struct stream *s = &a->streams[i];
    if (s->id == VM_STREAM_INIT) {
      i++;
      continue;
    }
    if (!s->exited) {
      s->exited = true;
      s->status = SIGKILL; /* as wait(2) reports a SIGKILL death */
    }
    send_exit(a, s);
    remove_stream(a, s);
  }
  send_exit(a, &a->streams[0]);
}

static void flush_all(struct agent *a) {
  long long stall_deadline = monotonic_ms() + FINAL_FLUSH_STALL_MS;
  while (a->channel_open && vm_outq_pending(&a->out) &&
         monotonic_ms() < stall_deadline) {
    size_t pending = vm_outq_pending(&a->out);
    struct pollfd p = {.fd = a->channel, .events = POLLOUT};
    if (poll(&p, 1, 100) > 0)
      flush_channel(a);
    if (vm_outq_pending(&a->out) < pending)
      stall_deadline = monotonic_ms() + FINAL_FLUSH_STALL_MS;
  }
}

/* Until the host said it has read everything (its EXIT(1)), or hung up:
 * the guest's last bytes may still wait in the hypervisor (a virtio
 * port's buffers are taken when the host's socket has room), and a reset
 * would lose them. No deadline: a host whose reader is slow holds the
 * guest as a pipe holds its writer. */
static void await_host(struct agent *a) {
  while (a->channel_open && !a->host_done) {
    struct pollfd p = {.fd = a->channel, .events = POLLIN};
    if (poll(&p, 1, -1) < 0 && errno != EINTR)
      break;
    read_channel(a);
    /* What read_channel answered (an ERROR) is not waited for. */
    if (vm_outq_pending(&a->out))
      flush_channel(a);
  }
}

static void agent_free(struct agent *a) {
  for (size_t i = 0; i < a->n_streams; i++)
    stream_close(&a->streams[i]);
  free(a->streams);
  vm_inq_free(&a->in);
  vm_outq_free(&a->out);
  if (a->sigchld >= 0)
    close(a->sigchld);
}

static int open_sigchld(hull_error_t *err) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return hull_error(err, errno, "signalfd");
  return fd;
}

static void send_ready(struct agent *a) {
  struct utsname u;
  if (uname(&u) < 0)
    strcpy(u.release, "unknown");
  send_text(a, VM_FRAME_READY, VM_STREAM_CONTROL, u.release);
}

int agent_run(const struct agent_options *o, hull_error_t *err) {
  /* A UART may carry bytes from before the host's side was ready. */
  struct agent a = {.o = o, .channel = o->channel, .channel_open = true,
                    .sigchld = -1, .in = {.skip_noise = true}};
  cleanup_free char *id = NULL;
  if (o->id)
    id = xstrdup(o->id);
  else if (read_guest_config(o->bundle, &id, err) < 0)
    return -1;
  a.id = id;
  a.sigchld = open_sigchld(err);
  if (a.sigchld < 0 || create_container(&a, err) < 0) {
    agent_free(&a);
    return -1;
  }
  /* A process that died while the mask was open (during create) sent a
   * SIGCHLD nobody saw. */
  reap_children(&a);
  send_ready(&a);
  while (!a.streams[0].exited) {
    if (!a.channel_open) {
      /* The host is gone: nobody is left to serve. */
      cleanup_error hull_error_t kill_err = NULL;
      container_kill(o->root, a.id, SIGKILL, true, &kill_err);
    }
    agent_step(&a, -1);
    reap_children(&a);
  }
  end_container(&a);
  flush_all(&a);
  if (o->await_host)
    await_host(&a);
  agent_free(&a);
  return 0;
}
