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
#include <sys/eventfd.h>
#include <unistd.h>

static void push_held(struct virtio_console_io *io) {
  size_t n = virtio_console_receive(io->console, io->held + io->held_off,
                                    io->held_len - io->held_off);
  io->held_off += n;
  if (io->held_off == io->held_len)
    io->held_off = io->held_len = 0;
}

static void receive(struct virtio_console_io *io) {
  ssize_t n = io_read_some(io->console->in_fd, io->held, sizeof io->held);
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
    if (!io_wait(io->wake_fd, fds, 3))
      break;
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
  errno = io_thread_spawn(&io->thread, io_main, io);
  if (errno != 0)
    return hull_error(err, errno, "starting the virtio-console thread");
  io->running = true;
  return 0;
}

static bool tx_pending(void *c) { return virtio_console_tx_pending(c); }
static int flush(void *c, hull_error_t *err) {
  return virtio_console_flush(c, err);
}

void virtio_console_io_stop(struct virtio_console_io *io) {
  if (io->console == NULL)
    return; /* never started */
  io_thread_stop(io->thread, &io->stop, &io->running, io->wake_fd);
  io_flush_rest(io->console->out_fd, tx_pending, flush, io->console);
  pthread_mutex_lock(&io->console->mmio.lock);
  io->console->wake_fd = -1;
  pthread_mutex_unlock(&io->console->mmio.lock);
  io->console = NULL;
  if (io->wake_fd >= 0)
    close(io->wake_fd);
  io->wake_fd = -1;
}
