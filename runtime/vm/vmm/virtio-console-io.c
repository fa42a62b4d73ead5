/* virtio-console-io.c — the host side of the virtio console: one thread
 * that moves bytes between its fds and the guest's buffers while the vCPUs
 * sit in KVM_RUN.
 *
 * It polls in_fd only while the guest has a receive buffer waiting and
 * nothing read earlier is still held (so input waits in the socket, not in
 * us), out_fd only while output is buffered, and an eventfd by which the
 * device (new receive buffers, output buffered) and
 * virtio_console_io_stop() wake it. Raising the IRQ from this thread is
 * fine: KVM_IRQ_LINE kicks the vCPU. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define FINAL_FLUSH_MS 2000

static void push_held(struct virtio_console_io *io) {
  size_t n = virtio_console_receive(io->console, io->held + io->held_off,
                                    io->held_len - io->held_off);
  io->held_off += n;
  if (io->held_off == io->held_len)
    io->held_off = io->held_len = 0;
}

static ssize_t read_some(int fd, uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
      n = read(fd, buf, len); /* poll said readable: this does not block */
    if (n >= 0 || errno != EINTR)
      return n;
  }
}

static void receive(struct virtio_console_io *io) {
  ssize_t n = read_some(io->console->in_fd, io->held, sizeof io->held);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0) { /* EOF or error: the other end is gone, stop reading */
    virtio_console_input_closed(io->console);
    return;
  }
  io->held_len = (size_t)n;
  io->held_off = 0;
  push_held(io);
}

static void *io_main(void *arg) {
  struct virtio_console_io *io = arg;
  struct virtio_console *c = io->console;
  while (!atomic_load(&io->stop)) {
    if (io->held_len)
      push_held(io);
    bool want_in = io->held_len == 0 && c->in_fd >= 0 &&
                   virtio_console_can_receive(c);
    struct pollfd fds[3] = {
        {.fd = io->wake_fd, .events = POLLIN},
        {.fd = want_in ? c->in_fd : -1, .events = POLLIN},
        {.fd = virtio_console_tx_pending(c) ? c->out_fd : -1,
         .events = POLLOUT},
    };
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[0].revents) {
      uint64_t count;
      if (read(io->wake_fd, &count, sizeof count) < 0) {
        /* EAGAIN: another wake-up took it; nothing to do */
      }
    }
    if (fds[1].revents)
      receive(io);
    if (fds[2].revents) {
      hull_error_t ignored = NULL; /* the vCPU's next exit reports it */
      virtio_console_flush(c, &ignored);
      hull_error_release(&ignored);
    }
  }
  return NULL;
}

int virtio_console_io_start(struct virtio_console_io *io,
                            struct virtio_console *c, hull_error_t *err) {
  io->running = false;
  atomic_store(&io->stop, false);
  io->console = c;
  io->held_len = io->held_off = 0;
  io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (io->wake_fd < 0)
    return hull_error(err, errno, "eventfd for the virtio-console thread");
  pthread_mutex_lock(&c->mmio.lock);
  c->wake_fd = io->wake_fd;
  pthread_mutex_unlock(&c->mmio.lock);
  /* The thread takes no signals: the vCPU kick and the caller's handlers
   * stay with the threads that expect them. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  errno = pthread_create(&io->thread, NULL, io_main, io);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (errno != 0)
    return hull_error(err, errno, "starting the virtio-console thread");
  io->running = true;
  return 0;
}

/* What the guest wrote before it stopped still goes out (the agent's
 * EXIT), as long as the other end keeps reading. */
static void flush_rest(struct virtio_console *c) {
  int64_t deadline = monotonic_ms() + FINAL_FLUSH_MS;
  while (virtio_console_tx_pending(c)) {
    int64_t now = monotonic_ms();
    if (now >= deadline)
      return;
    struct pollfd p = {.fd = c->out_fd, .events = POLLOUT};
    if (poll(&p, 1, (int)(deadline - now)) <= 0)
      return;
    hull_error_t ignored = NULL;
    int r = virtio_console_flush(c, &ignored);
    hull_error_release(&ignored);
    if (r < 0)
      return;
  }
}

void virtio_console_io_stop(struct virtio_console_io *io) {
  if (io->console == NULL)
    return; /* never started */
  if (io->running) {
    atomic_store(&io->stop, true);
    uint64_t one = 1;
    if (write(io->wake_fd, &one, sizeof one) < 0) {
      /* cannot fail short of a counter overflow, which still wakes it */
    }
    pthread_join(io->thread, NULL);
    io->running = false;
  }
  flush_rest(io->console);
  pthread_mutex_lock(&io->console->mmio.lock);
  io->console->wake_fd = -1;
  pthread_mutex_unlock(&io->console->mmio.lock);
  io->console = NULL;
  if (io->wake_fd >= 0)
    close(io->wake_fd);
  io->wake_fd = -1;
}
