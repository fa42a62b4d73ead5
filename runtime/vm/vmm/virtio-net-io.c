/* virtio-net-io.c — the host side of the virtio network card: one thread
 * that reads frames from the tap into the guest's receive buffers while
 * the vCPUs sit in KVM_RUN. It polls the tap only while the guest has a
 * buffer waiting and no frame read earlier is still held (frames wait in
 * the tap's queue, where the host kernel drops them when it overflows, as
 * a wire would), and an eventfd by which the device (new receive buffers)
 * and virtio_net_io_stop() wake it. Transmit needs no thread: the vCPU's
 * notify writes the frames. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void *io_main(void *arg) {
  struct virtio_net_io *io = arg;
  struct virtio_net *n = io->net;
  while (!atomic_load(&io->stop)) {
    if (io->held_len && virtio_net_receive(n, io->held, io->held_len))
      io->held_len = 0;
    bool want = io->held_len == 0 && n->tap_fd >= 0 &&
                virtio_net_can_receive(n);
    struct pollfd fds[2] = {
        {.fd = io->wake_fd, .events = POLLIN},
        {.fd = want ? n->tap_fd : -1, .events = POLLIN},
    };
    if (!io_wait(io->wake_fd, fds, 2))
      break;
    if (!(fds[1].revents & POLLIN))
      continue;
    ssize_t len = read(n->tap_fd, io->held, sizeof io->held);
    if (len > 0 && !virtio_net_receive(n, io->held, (size_t)len))
      io->held_len = (size_t)len; /* the buffer went meanwhile */
  }
  return NULL;
}

int virtio_net_io_start(struct virtio_net_io *io, struct virtio_net *n,
                        hull_error_t *err) {
  io->running = false;
  atomic_store(&io->stop, false);
  io->net = n;
  io->held_len = 0;
  io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (io->wake_fd < 0)
    return hull_error(err, errno, "eventfd for the virtio-net thread");
  pthread_mutex_lock(&n->mmio.lock);
  n->wake_fd = io->wake_fd;
  pthread_mutex_unlock(&n->mmio.lock);
  errno = io_thread_spawn(&io->thread, io_main, io);
  if (errno != 0)
    return hull_error(err, errno, "starting the virtio-net thread");
  io->running = true;
  return 0;
}

void virtio_net_io_stop(struct virtio_net_io *io) {
  if (io->net == NULL)
    return; /* never started */
  io_thread_stop(io->thread, &io->stop, &io->running, io->wake_fd);
  pthread_mutex_lock(&io->net->mmio.lock);
  io->net->wake_fd = -1;
  pthread_mutex_unlock(&io->net->mmio.lock);
  io->net = NULL;
  if (io->wake_fd >= 0)
    close(io->wake_fd);
  io->wake_fd = -1;
}
