/* stream.c — one process whose stdio the agent relays: pipes (or a pty
 * master) on the agent's side, all non-blocking, so a process that does
 * not read its stdin or a host that is slow to take output never stops
 * the agent. */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* What one STDOUT/STDERR frame carries at most per read: a whole pipe
 * buffer, so that a fast writer costs one frame (and one write to the
 * channel) per 64 KiB. */
#define OUTPUT_CHUNK VM_FRAME_MAX_PAYLOAD
/* The stdin pipe's size: a frame fits whole beside what the process has
 * not read yet, so the agent passes it on in one write rather than
 * copying the rest into its queue and coming back for it. */
#define STDIN_PIPE_SIZE (1024 * 1024)

static void set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0)
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

int stream_pipes(struct stream *s, int theirs[3], hull_error_t *err) {
  int in[2], out[2], errp[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe for stdin");
  if (pipe2(out, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return hull_error(err, e, "pipe for stdout");
  }
  if (pipe2(errp, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    return hull_error(err, e, "pipe for stderr");
  }
  s->in = in[1];
  s->out = out[0];
  s->err = errp[0];
  theirs[0] = in[0];
  theirs[1] = out[1];
  theirs[2] = errp[1];
  set_nonblock(s->in);
  set_nonblock(s->out);
  set_nonblock(s->err);
  /* Best effort: the default (64 KiB) works too. */
  fcntl(s->in, F_SETPIPE_SZ, STDIN_PIPE_SIZE);
  return 0;
}

void stream_use_master(struct stream *s, int master) {
  close_fd(&s->in);
  close_fd(&s->out);
  close_fd(&s->err);
  set_nonblock(master);
  s->master = master;
  s->out = master;
  s->in = fcntl(master, F_DUPFD_CLOEXEC, 3);
}

void stream_output_unread(struct stream *s, uint32_t type) {
  if (s->master >= 0) {
    /* The pty's master is stdout and (a dup) stdin: both go. */
    s->master = -1;
    close_fd(&s->out);
    close_fd(&s->in);
    return;
  }
  close_fd(type == VM_FRAME_STDERR ? &s->err : &s->out);
}

void stream_close(struct stream *s) {
  close_fd(&s->in);
  close_fd(&s->out);
  close_fd(&s->err);
  s->master = -1;
  byte_queue_free(&s->stdin_q);
}

bool stream_outputs_open(const struct stream *s) {
  return s->out >= 0 || s->err >= 0;
}

void stream_drop_stdin(struct stream *s) {
  struct byte_queue *q = &s->stdin_q;
  s->stdin_done += q->len - q->off;
  q->off = q->len = 0;
  s->stdin_eof = true;
  close_fd(&s->in);
}

/* Writes what the pipe takes of data now: the bytes written, 0 when it
 * takes none, or -1 when stdin is gone (EPIPE). */
static ssize_t write_some(int fd, const void *data, size_t len) {
  ssize_t n;
  do
    n = write(fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return 0;
  return n;
}

void stream_feed_stdin(struct stream *s, const void *data, size_t len) {
  if (s->in < 0 || s->stdin_eof) {
    s->stdin_done += len;
    return;
  }
  if (len == 0) {
    s->stdin_eof = true;
    stream_write_stdin(s);
    return;
  }
  struct byte_queue *q = &s->stdin_q;
  if (q->off == q->len) {
    /* Nothing waits: straight from the frame into the pipe, no copy in
     * between (under TCG every copy in the guest counts). */
    ssize_t n = write_some(s->in, data, len);
    if (n < 0) {
      s->stdin_done += len;
      close_fd(&s->in);
      return;
    }
    s->stdin_done += (size_t)n;
    data = (const uint8_t *)data + n;
    len -= (size_t)n;
  }
  if (len)
    byte_queue_add(q, data, len);
}

/* A terminal has no half-close: its EOF is the VEOF character (^D), which
 * a canonical-mode reader takes as end of input. */
static void end_terminal_input(struct stream *s) {
  struct termios t;
  char eof = 4;
  if (tcgetattr(s->master, &t) == 0 && t.c_cc[VEOF])
    eof = (char)t.c_cc[VEOF];
  (void)!write(s->in, &eof, 1);
}

void stream_write_stdin(struct stream *s) {
  struct byte_queue *q = &s->stdin_q;
  while (s->in >= 0 && q->off < q->len) {
    ssize_t n = write_some(s->in, q->buf + q->off, q->len - q->off);
    if (n == 0)
      return;
    if (n < 0) {
      /* The reader is gone (EPIPE): what it did not take is dropped. */
      s->stdin_done += q->len - q->off;
      q->off = q->len = 0;
      close_fd(&s->in);
      return;
    }
    q->off += (size_t)n;
    s->stdin_done += (size_t)n;
  }
  s->stdin_done += q->len - q->off; /* stdin closed under them */
  q->off = q->len = 0;
  if (s->stdin_eof && s->in >= 0) {
    if (s->master >= 0)
      end_terminal_input(s);
    close_fd(&s->in);
  }
}

void stream_read_output(struct stream *s, int *fd, uint32_t type,
                        struct vm_outq *q, long long now_ms) {
  /* Read into the frame itself: under TCG every copy in the guest counts. */
  void *buf = vm_outq_frame_begin(q, OUTPUT_CHUNK);
  ssize_t n;
  do
    n = read(*fd, buf, OUTPUT_CHUNK);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n > 0) {
    vm_outq_frame_end(q, type, s->id, (size_t)n);
    s->quiet_since_ms = now_ms;
    return;
  }
  /* EOF, or EIO from a pty master whose slaves are all closed. */
  vm_outq_frame(q, type, s->id, NULL, 0);
  if (*fd == s->master) {
    s->master = -1;
    close_fd(&s->in);
  }
  close_fd(fd);
}
