/* io-thread.c — what the devices' I/O threads (serial_io.c,
 * virtio-console-io.c, virtio-net-io.c) share: each polls an eventfd by
 * which its device and its stop function wake it, next to the fds it
 * serves, and leaves signals to the vCPU threads. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define FINAL_FLUSH_MS 2000

void io_wake(int wake_fd) {
  uint64_t one = 1;
  if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0) {
    /* EAGAIN: the counter is full, so the thread is awake anyway */
  }
}

int io_thread_spawn(pthread_t *thread, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_create(thread, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

bool io_wait(int wake_fd, struct pollfd *fds, unsigned nfds) {
  if (poll(fds, nfds, -1) < 0) {
    if (errno != EINTR)
      return false;
    for (unsigned i = 0; i < nfds; i++)
      fds[i].revents = 0;
    return true;
  }
  if (fds[0].revents) {
    uint64_t count;
    if (read(wake_fd, &count, sizeof count) < 0) {
      /* EAGAIN: another wake-up took it; nothing to do */
    }
  }
  return true;
}

void io_thread_stop(pthread_t thread, atomic_bool *stop, bool *running,
                    int wake_fd) {
  if (!*running)
    return;
  atomic_store(stop, true);
  io_wake(wake_fd);
  pthread_join(thread, NULL);
  *running = false;
}

ssize_t io_read_some(int fd, uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
      n = read(fd, buf, len); /* poll said readable: this does not block */
    if (n >= 0 || errno != EINTR)
      return n;
  }
}

ssize_t io_write_some(int fd, const uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
      n = write(fd, buf, len);
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    return -1;
  }
}

void io_flush_rest(int out_fd, bool (*pending)(void *dev),
                   int (*flush)(void *dev, hull_error_t *err), void *dev) {
  int64_t deadline = monotonic_ms() + FINAL_FLUSH_MS;
  while (pending(dev)) {
    int64_t now = monotonic_ms();
    if (now >= deadline)
      return;
    struct pollfd p = {.fd = out_fd, .events = POLLOUT};
    if (poll(&p, 1, (int)(deadline - now)) <= 0)
      return;
    hull_error_t ignored = NULL;
    int r = flush(dev, &ignored);
    hull_error_release(&ignored);
    if (r < 0)
      return;
  }
}
