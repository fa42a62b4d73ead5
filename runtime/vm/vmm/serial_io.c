/* serial_io.c — the host side of the UARTs: one thread that moves bytes
 * between their fds and the UARTs while the vCPU thread sits in KVM_RUN.
 *
 * It polls each UART's in_fd only while its receive FIFO has room (so input
 * waits in the socket, not in us: back-pressure, never a drop), its out_fd
 * only while output is buffered, and an eventfd by which the UARTs (the
 * guest read a byte, output got buffered) and serial_io_stop() wake it.
 * Raising the IRQ from this thread is fine: KVM_IRQ_LINE kicks the vCPU. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

/* Bytes read but not yet taken: the guest shrank its FIFO (FCR) between
 * our look at the room and the read. They go in before anything new. */
static void push_held(struct serial_io_port *p) {
  hull_error_t ignored = NULL;
  size_t taken = serial_receive(p->uart, p->held, p->held_len, &ignored);
  hull_error_release(&ignored);
  memmove(p->held, p->held + taken, p->held_len - taken);
  p->held_len -= taken;
}

static void receive(struct serial_io_port *p, size_t room) {
  uint8_t buf[SERIAL_FIFO_SIZE];
  ssize_t n = io_read_some(p->uart->in_fd, buf,
                           room < sizeof buf ? room : sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0) { /* EOF or error: the other end is gone, stop reading */
    serial_input_closed(p->uart);
    return;
  }
  memcpy(p->held, buf, (size_t)n);
  p->held_len = (size_t)n;
  push_held(p);
}

static void *io_main(void *arg) {
  struct serial_io *io = arg;
  struct pollfd fds[1 + 2 * SERIAL_IO_MAX_PORTS];
  size_t room[SERIAL_IO_MAX_PORTS];
  while (!atomic_load(&io->stop)) {
    fds[0] = (struct pollfd){.fd = io->wake_fd, .events = POLLIN};
    for (size_t i = 0; i < io->nports; i++) {
      struct serial_io_port *p = &io->ports[i];
      if (p->held_len)
        push_held(p);
      room[i] = p->held_len ? 0 : serial_rx_room(p->uart);
      fds[1 + 2 * i] = (struct pollfd){
          .fd = room[i] ? p->uart->in_fd : -1, .events = POLLIN};
      fds[2 + 2 * i] = (struct pollfd){
          .fd = serial_tx_pending(p->uart) ? p->uart->out_fd : -1,
          .events = POLLOUT};
    }
    if (!io_wait(io->wake_fd, fds, 1 + 2 * (unsigned)io->nports))
      break;
    for (size_t i = 0; i < io->nports; i++) {
      struct serial_io_port *p = &io->ports[i];
      if (fds[1 + 2 * i].revents)
        receive(p, room[i]);
      if (fds[2 + 2 * i].revents) {
        hull_error_t ignored = NULL; /* the next THR write reports it */
        serial_flush(p->uart, &ignored);
        hull_error_release(&ignored);
      }
    }
  }
  return NULL;
}

int serial_io_start(struct serial_io *io, struct serial **uarts, size_t n,
                    hull_error_t *err) {
  *io = (struct serial_io){.wake_fd = -1};
  if (n > SERIAL_IO_MAX_PORTS)
    return hull_error(err, 0, "serial I/O: %zu UARTs, at most %d", n,
                      SERIAL_IO_MAX_PORTS);
  io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (io->wake_fd < 0)
    return hull_error(err, errno, "eventfd for the serial I/O thread");
  for (size_t i = 0; i < n; i++) {
    io->ports[i].uart = uarts[i];
    pthread_mutex_lock(&uarts[i]->lock);
    uarts[i]->wake_fd = io->wake_fd;
    pthread_mutex_unlock(&uarts[i]->lock);
  }
  io->nports = n;
  errno = io_thread_spawn(&io->thread, io_main, io);
  if (errno != 0)
    return hull_error(err, errno, "starting the serial I/O thread");
  io->running = true;
  return 0;
}

static bool tx_pending(void *s) { return serial_tx_pending(s); }
static int flush(void *s, hull_error_t *err) { return serial_flush(s, err); }

void serial_io_stop(struct serial_io *io) {
  io_thread_stop(io->thread, &io->stop, &io->running, io->wake_fd);
  for (size_t i = 0; i < io->nports; i++) {
    struct serial *s = io->ports[i].uart;
    io_flush_rest(s->out_fd, tx_pending, flush, s);
    pthread_mutex_lock(&s->lock);
    s->wake_fd = -1;
    pthread_mutex_unlock(&s->lock);
  }
  io->nports = 0;
  if (io->wake_fd >= 0)
    close(io->wake_fd);
  io->wake_fd = -1;
}
