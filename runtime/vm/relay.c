/* relay.c — moving a process's stdio and signals over the agent protocol:
 * the pieces the monitor (stream 1) and exec's relay child (its own
 * stream) share, and the relay child's loop. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* A pipe takes a page whenever it polls writable: no write of this size
 * after POLLOUT blocks. */
#define WRITE_CHUNK 4096
/* How many such writes one call makes while the fd stays writable: a pipe
 * drained as fast as the guest fills it takes 64 KiB per poll round
 * rather than 4. */
#define WRITE_ROUNDS 16
/* Output is not taken from the monitor while this much waits for a slow
 * reader: the monitor then stops reading the guest (back-pressure). */
#define RELAY_HIGH_WATER (1u << 20)

static int write_chunk(struct byte_queue *q, int fd) {
  size_t n = byte_queue_pending(q);
  if (n > WRITE_CHUNK)
    n = WRITE_CHUNK;
  ssize_t w;
  do
    w = write(fd, q->buf + q->off, n);
  while (w < 0 && errno == EINTR);
  if (w < 0 && errno == EAGAIN)
    return 0;
  if (w < 0) {
    q->off = q->len = 0;
    return -1;
  }
  q->off += (size_t)w;
  return 0;
}

int byte_queue_write_some(struct byte_queue *q, int fd) {
  for (int i = 0; i < WRITE_ROUNDS && byte_queue_pending(q); i++) {
    if (i > 0) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
        return 0;
    }
    if (write_chunk(q, fd) < 0)
      return -1;
  }
  return 0;
}

void vm_forwarded_signals(sigset_t *set) {
  sigfillset(set);
  static const int not_forwarded[] = {SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE,
                                      SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,
                                      SIGTRAP, SIGSYS,  SIGABRT};
  for (size_t i = 0; i < sizeof(not_forwarded) / sizeof(not_forwarded[0]);
       i++)
    sigdelset(set, not_forwarded[i]);
  /* glibc's own realtime signals (32, 33) are not ours to pass on. */
  for (int s = SIGRTMIN - 1; s > SIGSYS; s--)
    sigdelset(set, s);
}

void vm_exit_like(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    /* No process ends by a stop signal (a guest may claim anything): the
     * monitor or relay must end, not stop forever. */
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
      _exit(128 + sig);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* a signal that does not kill (SIGCHLD, ...) */
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

int vm_tty_raw(int fd, hull_error_t *err) {
  struct termios t;
  if (tcgetattr(fd, &t) < 0)
    return hull_error(err, errno, "tcgetattr");
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) < 0)
    return hull_error(err, errno, "tcsetattr");
  return 0;
}

int vm_socket_open(const char *state_dir, struct sockaddr_un *addr, int *fd,
                   hull_error_t *err) {
  *addr = (struct sockaddr_un){.sun_family = AF_UNIX};
  int n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s",
                   state_dir, VM_SOCKET_NAME);
  if (n < 0 || (size_t)n >= sizeof(addr->sun_path))
    return hull_error(err, ENAMETOOLONG, "`%s/%s`", state_dir,
                      VM_SOCKET_NAME);
  *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0)
    return hull_error(err, errno, "socket");
  return 0;
}

int vm_socket_connect(const char *state_dir, int *fd, hull_error_t *err) {
  struct sockaddr_un addr;
  if (vm_socket_open(state_dir, &addr, fd, err) < 0)
    return -1;
  if (connect(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    return hull_error(err, e, "connect to the VM monitor `%s`",
                      addr.sun_path);
  }
  return 0;
}

/* ---- exec's relay child ------------------------------------------------- */

struct relay {
  int sock;
  struct vm_inq *in;
  struct vm_outq out;
  uint32_t stream;
  int in_fd, out_fd, err_fd;
  bool terminal, stdin_open, sock_open;
  size_t stdin_window; /* stdin bytes the guest will take now (WINDOW) */
  struct byte_queue stdout_q, stderr_q;
  bool stdout_broken, stderr_broken; /* their fd's reader is gone */
  int sig_fd;
  bool exited;
  int status;
};

static void relay_winsize(struct relay *r) {
  struct winsize ws;
  if (!r->terminal || ioctl(r->in_fd, TIOCGWINSZ, &ws) < 0)
    return;
  struct vm_winsize_msg m = {ws.ws_row, ws.ws_col};
  vm_outq_frame(&r->out, VM_FRAME_WINSIZE, r->stream, &m, sizeof(m));
}

static void relay_signal(struct relay *r) {
  struct signalfd_siginfo si;
  while (read(r->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if (si.ssi_signo == SIGWINCH && r->terminal) {
      relay_winsize(r);
      continue;
    }
    struct vm_signal_msg m = {(int32_t)si.ssi_signo, 0};
    vm_outq_frame(&r->out, VM_FRAME_SIGNAL, r->stream, &m, sizeof(m));
  }
}

static void relay_frames(struct relay *r) {
  struct vm_frame f;
  cleanup_error hull_error_t err = NULL;
  while (vm_inq_next(r->in, &f, &err) == 1) {
    if (f.stream != r->stream)
      continue;
    switch (f.type) {
    case VM_FRAME_STDOUT:
      if (!r->stdout_broken)
        byte_queue_add(&r->stdout_q, f.payload, f.len);
      break;
    case VM_FRAME_STDERR:
      if (r->terminal ? !r->stdout_broken : !r->stderr_broken)
        byte_queue_add(r->terminal ? &r->stdout_q : &r->stderr_q, f.payload,
                       f.len);
      break;
    case VM_FRAME_WINDOW:
      r->stdin_window = vm_stdin_window_add(r->stdin_window, &f);
      break;
    case VM_FRAME_EXIT: {
      struct vm_exit_msg m = {0};
      memcpy(&m, f.payload, f.len < sizeof(m) ? f.len : sizeof(m));
      r->exited = true;
      r->status = m.status;
      break;
    }
    default: /* OK and ERROR of our SIGNALs */
      break;
    }
  }
}

/* As the monitor's: the exec'd process finds its output broken too. */
static void relay_output_broken(struct relay *r, uint32_t type) {
  bool *broken =
      type == VM_FRAME_STDOUT ? &r->stdout_broken : &r->stderr_broken;
  byte_queue_free(type == VM_FRAME_STDOUT ? &r->stdout_q : &r->stderr_q);
  if (*broken)
    return;
  *broken = true;
  if (!r->exited)
    vm_outq_frame(&r->out, type, r->stream, NULL, 0);
}

void vm_relay_main(int sock, struct vm_inq *q, uint32_t stream, int in_fd,
                   int out_fd, int err_fd, bool terminal) {
  prctl(PR_SET_NAME, VM_RELAY_NAME, 0, 0, 0);
  struct relay r = {.sock = sock, .in = q, .stream = stream, .in_fd = in_fd,
                    .out_fd = out_fd, .err_fd = err_fd, .terminal = terminal,
                    .stdin_open = true, .sock_open = true,
                    .stdin_window = VM_STDIN_WINDOW};
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  vm_forwarded_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  r.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
  relay_winsize(&r);
  relay_frames(&r);
  cleanup_error hull_error_t err = NULL;
  for (;;) {
    bool output_pending = byte_queue_pending(&r.stdout_q) ||
                          byte_queue_pending(&r.stderr_q);
    if ((r.exited || !r.sock_open) && !output_pending)
      break;
    bool output_busy = byte_queue_pending(&r.stdout_q) > RELAY_HIGH_WATER ||
                       byte_queue_pending(&r.stderr_q) > RELAY_HIGH_WATER;
    struct pollfd p[5] = {
        {.fd = r.sig_fd, .events = POLLIN},
        {.fd = r.sock_open ? sock : -1,
         .events = (short)((output_busy ? 0 : POLLIN) |
                           (vm_outq_pending(&r.out) ? POLLOUT : 0))},
        {.fd = r.stdin_open && !r.exited && r.stdin_window > 0 ? in_fd : -1,
         .events = POLLIN},
        {.fd = byte_queue_pending(&r.stdout_q) ? out_fd : -1,
         .events = POLLOUT},
        {.fd = byte_queue_pending(&r.stderr_q) ? err_fd : -1,
         .events = POLLOUT},
    };
    if (poll(p, 5, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[0].revents)
      relay_signal(&r);
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      int got = vm_inq_read(q, sock, &err);
      if (got <= 0)
        r.sock_open = false;
      relay_frames(&r);
    }
    if (p[2].revents) {
      char buf[VM_FRAME_MAX_PAYLOAD];
      ssize_t n = read(in_fd, buf, r.stdin_window < sizeof(buf)
                                       ? r.stdin_window
                                       : sizeof(buf));
      if (n > 0) {
        r.stdin_window -= (size_t)n;
        vm_outq_frame(&r.out, VM_FRAME_STDIN, stream, buf, (size_t)n);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        /* EOF, or EIO: the terminal's other side closed */
        vm_outq_frame(&r.out, VM_FRAME_STDIN, stream, NULL, 0);
        r.stdin_open = false;
      }
    }
    if (p[3].revents && byte_queue_write_some(&r.stdout_q, out_fd) < 0)
      relay_output_broken(&r, VM_FRAME_STDOUT);
    if (p[4].revents && byte_queue_write_some(&r.stderr_q, err_fd) < 0)
      relay_output_broken(&r, VM_FRAME_STDERR);
    if (r.sock_open && vm_outq_flush(&r.out, sock, &err) < 0)
      r.sock_open = false;
  }
  if (!r.exited)
    _exit(255); /* the VM went away under us */
  vm_exit_like(r.status);
}
