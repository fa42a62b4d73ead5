/* interrupt.c — waits that the caller's SIGINT or SIGTERM ends.
 *
 * A command that must undo what it made holds the interrupt signals
 * blocked (interrupt_hold): one that arrives stays pending instead of
 * killing hull half-way. Every wait polls a signalfd beside what it waits
 * for, so the pending signal ends the wait with an error; the command's
 * error path cleans up as for any failure, and main() lets the signal take
 * its default action after the message (interrupt_deliver). No handler and
 * no flag: the pending set is the state. */
#include "common.h"

#include <errno.h>
#include <sys/file.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static const int interrupts[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void interrupt_signals(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof(interrupts) / sizeof(interrupts[0]); i++)
    sigaddset(set, interrupts[i]);
}

void interrupt_hold(void) {
  sigset_t set;
  interrupt_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

/* The interrupt signals this process holds blocked right now. */
static void held(sigset_t *set) {
  sigset_t mask;
  sigprocmask(SIG_SETMASK, NULL, &mask);
  sigemptyset(set);
  for (size_t i = 0; i < sizeof(interrupts) / sizeof(interrupts[0]); i++)
    if (sigismember(&mask, interrupts[i]))
      sigaddset(set, interrupts[i]);
}

bool interrupt_held(void) {
  sigset_t h;
  held(&h);
  return !sigisemptyset(&h);
}

int interrupt_pending(void) {
  sigset_t h, pending;
  held(&h);
  if (sigpending(&pending) < 0)
    return 0;
  for (size_t i = 0; i < sizeof(interrupts) / sizeof(interrupts[0]); i++)
    if (sigismember(&h, interrupts[i]) && sigismember(&pending, interrupts[i]))
      return interrupts[i];
  return 0;
}

void interrupt_deliver(void) {
  if (interrupt_pending() == 0)
    return;
  sigset_t set;
  interrupt_signals(&set);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int interrupt_error(const char *what, hull_error_t *err) {
  int sig = interrupt_pending();
  const char *abbrev = sig ? sigabbrev_np(sig) : NULL;
  hull_error(err, 0, "%s: interrupted by SIG%s", what, abbrev ? abbrev : "?");
  (*err)->errno_value = EINTR;
  return -1;
}

int interrupt_fd(void) {
  sigset_t h;
  held(&h);
  if (sigisemptyset(&h))
    return -1;
  return signalfd(-1, &h, SFD_CLOEXEC | SFD_NONBLOCK);
}

int wait_fd(int fd, short events, int timeout_ms, const char *what,
            hull_error_t *err) {
  cleanup_close int sfd = interrupt_fd();
  if (sfd < 0 && interrupt_held())
    return hull_error(err, errno, "%s: signalfd", what);
  int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
  for (;;) {
    int left = -1;
    if (deadline >= 0) {
      int64_t ms = deadline - monotonic_ms();
      left = ms < 0 ? 0 : (int)ms;
    }
    struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
                          {.fd = fd, .events = events}};
    int n = poll(p, 2, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return hull_error(err, errno, "%s: poll", what);
    /* An interrupt wins: it is checked before anything else is done. */
    if (p[0].revents)
      return interrupt_error(what, err);
    if (p[1].revents)
      return 1;
    if (n == 0 && left == 0)
      return 0;
  }
}

int wait_ms(int ms, const char *what, hull_error_t *err) {
  return wait_fd(-1, 0, ms, what, err) < 0 ? -1 : 0;
}

int flock_wait(int fd, int how, int max_nap_ms, const char *what,
               hull_error_t *err) {
  bool interruptible = interrupt_held();
  for (int nap = 1;; nap = nap < max_nap_ms ? nap * 2 : max_nap_ms) {
    if (flock(fd, how | (interruptible ? LOCK_NB : 0)) == 0)
      return 0;
    if (errno != EINTR && errno != EWOULDBLOCK)
      return hull_error(err, errno, "%s", what);
    if (errno == EWOULDBLOCK && wait_ms(nap, what, err) < 0)
      return -1;
  }
}
