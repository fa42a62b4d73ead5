/* tty-proxy.c — a foreground `run` or `exec -t` without --console-socket:
 * hull is its own console socket. The container side is unchanged (it makes
 * the pty and sends the master over a socket); hull receives the master
 * over a socketpair and copies the caller's stdin to it and its output to
 * the caller's stdout until the process exits and the pty drains, as runc
 * does. The caller's terminal, when stdin is one, is raw meanwhile (the
 * pty's own line discipline does the work) and follows its size. */
#include "lifecycle.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* How long the pty may stay quiet after the process exited before hull
 * stops waiting for more output (a background process may hold it). */
#define DRAIN_QUIET_MS 200

int tty_proxy_socketpair(int *ours, int *theirs, hull_error_t *err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return hull_error(err, errno, "socketpair for the terminal");
  *ours = sv[0];
  *theirs = sv[1];
  return 0;
}

int tty_proxy_receive_master(int sock, int *master, hull_error_t *err) {
  char name[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control,
                       .msg_controllen = sizeof(control)};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error(err, errno, "receive the pty master");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
      cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
    return hull_error(err, 0, "receive the pty master: no fd arrived");
  memcpy(master, CMSG_DATA(cm), sizeof(int));
  return 0;
}

/* ---- the caller's terminal ---------------------------------------------- */

struct caller_tty {
  bool raw;                  /* saved holds the mode to restore */
  struct termios saved;
};

static void caller_tty_make_raw(struct caller_tty *t) {
  t->raw = false;
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
    return;
  struct termios raw = t->saved;
  cfmakeraw(&raw);
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
    t->raw = true;
}

static void caller_tty_restore(struct caller_tty *t) {
  if (t->raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
  t->raw = false;
}

/* The caller's window size onto the pty; nothing when stdin is no tty
 * (then process.consoleSize, applied when the pty was made, stays). */
static void copy_window_size(int master) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* ---- the copy loop -------------------------------------------------------- */

struct proxy {
  int master;                /* non-blocking */
  bool master_open;          /* false once drained or hung up */
  int in;                    /* stdin, -1 after EOF */
  int signals;               /* signalfd of the forwarded set */
  pid_t pid;
  bool exited;
  int status;
  /* Input read but not yet taken by the pty: stdin is read only when it
   * is empty, so a process that does not read its input never blocks
   * hull's copying of its output. */
  char pending[4096];
  size_t pending_len, pending_off;
};

static bool would_block(ssize_t n) {
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

/* The master's output to stdout; false once every slave is closed (EIO).
 * A failing stdout drops the data: the process must not block on it. */
static bool copy_output(struct proxy *p) {
  char buf[4096];
  ssize_t n = read(p->master, buf, sizeof(buf));
  if (would_block(n))
    return true;
  if (n <= 0)
    return false;
  (void)write_all(STDOUT_FILENO, buf, (size_t)n);
  return true;
}

static void read_input(struct proxy *p) {
  ssize_t n = read(p->in, p->pending, sizeof(p->pending));
  if (would_block(n))
    return;
  if (n <= 0) {
    p->in = -1;
    return;
  }
  p->pending_len = (size_t)n;
  p->pending_off = 0;
}

static void write_input(struct proxy *p) {
  ssize_t n = write(p->master, p->pending + p->pending_off,
                    p->pending_len - p->pending_off);
  if (n > 0)
    p->pending_off += (size_t)n;
  else if (!would_block(n))
    p->pending_off = p->pending_len; /* the pty is gone: drop it */
  if (p->pending_off == p->pending_len)
    p->pending_len = p->pending_off = 0;
}

static void reap_if_exited(struct proxy *p) {
  if (p->exited)
    return;
  pid_t r;
  do
    r = waitpid(p->pid, &p->status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == p->pid || (r < 0 && errno == ECHILD))
    p->exited = true;
}

static void handle_signals(struct proxy *p) {
  struct signalfd_siginfo si;
  while (read(p->signals, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    int sig = (int)si.ssi_signo;
    if (sig == SIGWINCH)
      copy_window_size(p->master);
    else if (sig != SIGCHLD && !p->exited)
      kill(p->pid, sig);
  }
  reap_if_exited(p);
}

/* One round of poll over the signals, the master and stdin. After the exit
 * the master is read until every slave is closed (EIO) or it stays quiet
 * for DRAIN_QUIET_MS. */
static void proxy_step(struct proxy *p) {
  struct pollfd fds[3] = {{.fd = p->signals, .events = POLLIN}};
  nfds_t n = 1;
  int master_at = -1, in_at = -1;
  if (p->master_open) {
    master_at = (int)n;
    fds[n++] = (struct pollfd){
        .fd = p->master,
        .events = POLLIN | (p->pending_len ? POLLOUT : 0)};
  }
  if (p->in >= 0 && p->master_open && p->pending_len == 0) {
    in_at = (int)n;
    fds[n++] = (struct pollfd){.fd = p->in, .events = POLLIN};
  }
  int ready = poll(fds, n, p->exited ? DRAIN_QUIET_MS : -1);
  if (ready < 0)
    return;
  if (ready == 0) {
    p->master_open = false;
    return;
  }
  if (fds[0].revents)
    handle_signals(p);
  if (in_at >= 0 && fds[in_at].revents)
    read_input(p);
  if (master_at < 0)
    return;
  short rev = fds[master_at].revents;
  if ((rev & POLLOUT) && p->pending_len)
    write_input(p);
  if ((rev & (POLLIN | POLLHUP | POLLERR)) && !copy_output(p))
    p->master_open = false;
}

static int exit_code_of(int status) {
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int tty_proxy_run(int master, pid_t pid) {
  sigset_t set, old;
  lifecycle_forwarded_set(&set);
  sigprocmask(SIG_BLOCK, &set, &old);
  struct proxy p = {.master = master, .master_open = true,
                    .in = STDIN_FILENO, .pid = pid,
                    .signals = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)};
  if (p.signals < 0) /* no proxy then, but still the exit status */
    return lifecycle_wait_forwarding(pid);
  int flags = fcntl(master, F_GETFL);
  if (flags >= 0)
    fcntl(master, F_SETFL, flags | O_NONBLOCK);
  struct caller_tty tty;
  caller_tty_make_raw(&tty);
  copy_window_size(master);
  reap_if_exited(&p);
  while (!p.exited || p.master_open)
    proxy_step(&p);
  caller_tty_restore(&tty);
  close(p.signals);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return exit_code_of(p.status);
}

int tty_check_console_flags(bool detach, bool terminal,
                            const char *console_socket, hull_error_t *err) {
  if (detach && terminal && console_socket == NULL)
    return hull_error(err, 0, "cannot allocate tty if hull will detach "
                              "without setting console socket");
  if ((!detach || !terminal) && console_socket)
    return hull_error(err, 0, "cannot use console socket if hull will not "
                              "detach or allocate tty");
  return 0;
}

int tty_connect_console(bool detach, bool terminal, const char *console_socket,
                        int *console_fd, int *ours, hull_error_t *err) {
  if (console_socket)
    return console_connect(console_socket, console_fd, err);
  if (terminal && !detach)
    return tty_proxy_socketpair(ours, console_fd, err);
  return 0;
}
