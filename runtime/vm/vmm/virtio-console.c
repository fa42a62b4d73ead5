/* virtio-console.c — a virtio console with one port (no MULTIPORT), the
 * guest's /dev/hvc0, carrying hull's agent channel in place of COM2.
 *
 * Transmit: on the driver's notify the vCPU thread takes the transmit
 * buffers into an output buffer, gives them back, and writes what out_fd
 * takes without blocking; the I/O thread (virtio-console-io.c) writes the
 * rest. Past VIRTIO_CONSOLE_TX_LIMIT buffered bytes the device stops taking
 * buffers: they wait in the ring (Linux's hvc driver then waits for them)
 * until out_fd catches up. Nothing is dropped.
 *
 * Receive: the I/O thread reads in_fd only while the guest has a receive
 * buffer waiting, and fills those buffers with what it read; the rest waits
 * with the thread until the driver adds buffers (its notify wakes it).
 *
 * The device's state is under the transport's lock. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct virtio_console *console_of(struct virtio_mmio *t) {
  return t->opaque;
}

static void wake_io(struct virtio_console *c) { io_wake(c->wake_fd); }

static void write_out(struct virtio_console *c) {
  while (c->tx_len && !c->tx_errno) {
    ssize_t n = io_write_some(c->out_fd, c->tx, c->tx_len);
    if (n < 0)
      c->tx_errno = errno;
    if (n <= 0)
      return;
    memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
    c->tx_len -= (size_t)n;
  }
}

static void append_chain(struct virtio_console *c,
                         const struct virtq_chain *chain) {
  c->bytes_out += chain->out_len;
  if (c->out_fd < 0 || c->tx_errno)
    return;
  size_t need = c->tx_len + chain->out_len;
  if (need > c->tx_cap) {
    c->tx_cap = c->tx_cap ? c->tx_cap : 4096;
    while (c->tx_cap < need)
      c->tx_cap *= 2;
    c->tx = xrealloc(c->tx, c->tx_cap);
  }
  c->tx_len += virtq_copy_out(chain, 0, c->tx + c->tx_len, chain->out_len);
}

/* Takes transmit buffers while there is room for their bytes. */
static void take_output(struct virtio_console *c) {
  struct virtio_mmio *t = &c->mmio;
  struct virtqueue *q = &t->queues[VIRTIO_CONSOLE_TX];
  struct virtq_chain chain;
  bool used = false;
  bool was_pending = c->tx_len > 0;
  while (c->tx_len < VIRTIO_CONSOLE_TX_LIMIT) {
    hull_error_t err = NULL;
    int r = virtq_pop(q, &t->mem, VIRTIO_CONSOLE_CHAIN_MAX, &chain, &err);
    if (r < 0)
      virtio_mmio_broken(t, VIRTIO_CONSOLE_TX, &err);
    if (r <= 0)
      break;
    append_chain(c, &chain);
    virtq_push(q, chain.head, 0);
    used = true;
  }
  if (used)
    virtio_mmio_used(t, VIRTIO_CONSOLE_TX);
  if (!was_pending)
    write_out(c);
  if (c->tx_len && !was_pending)
    wake_io(c); /* the I/O thread now has output to wait for */
}

static void console_notify(struct virtio_mmio *t, unsigned q) {
  struct virtio_console *c = console_of(t);
  if (q == VIRTIO_CONSOLE_TX)
    take_output(c);
  else
    wake_io(c); /* new receive buffers: the thread may read in_fd again */
}

void virtio_console_init(struct virtio_console *c,
                         const struct guest_memory *mem, uint64_t base,
                         unsigned irq, int in_fd, int out_fd,
                         int (*set_irq)(void *opaque, unsigned irq, int level),
                         void *irq_opaque) {
  *c = (struct virtio_console){.in_fd = in_fd, .out_fd = out_fd,
                               .wake_fd = -1};
  const struct virtio_device dev = {
      .name = "virtio-console",
      .id = VIRTIO_ID_CONSOLE,
      .nqueues = 2,
      .config = c->config,
      .config_size = sizeof c->config,
      .notify = console_notify,
      /* No reset of its own: output already taken still goes out. */
  };
  virtio_mmio_init(&c->mmio, &dev, c, mem, base, irq, set_irq, irq_opaque);
}

void virtio_console_destroy(struct virtio_console *c) {
  virtio_mmio_destroy(&c->mmio);
  free(c->tx);
  c->tx = NULL;
  c->tx_len = c->tx_cap = 0;
}

static bool rx_ready(struct virtio_console *c) {
  return virtio_mmio_running(&c->mmio) &&
         virtq_has_chain(&c->mmio.queues[VIRTIO_CONSOLE_RX]);
}

bool virtio_console_can_receive(struct virtio_console *c) {
  pthread_mutex_lock(&c->mmio.lock);
  bool r = !c->in_closed && rx_ready(c);
  pthread_mutex_unlock(&c->mmio.lock);
  return r;
}

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
                              size_t len) {
  struct virtio_mmio *t = &c->mmio;
  struct virtqueue *q = &t->queues[VIRTIO_CONSOLE_RX];
  struct virtq_chain chain;
  size_t taken = 0;
  pthread_mutex_lock(&t->lock);
  while (taken < len && rx_ready(c)) {
    hull_error_t err = NULL;
    int r = virtq_pop(q, &t->mem, VIRTIO_CONSOLE_CHAIN_MAX, &chain, &err);
    if (r < 0)
      virtio_mmio_broken(t, VIRTIO_CONSOLE_RX, &err);
    if (r <= 0)
      break;
    size_t n = virtq_copy_in(&chain, 0, buf + taken, len - taken);
    virtq_push(q, chain.head, (uint32_t)n);
    taken += n;
  }
  if (taken) {
    c->bytes_in += taken;
    virtio_mmio_used(t, VIRTIO_CONSOLE_RX);
  }
  pthread_mutex_unlock(&t->lock);
  return taken;
}

void virtio_console_input_closed(struct virtio_console *c) {
  pthread_mutex_lock(&c->mmio.lock);
  c->in_closed = true;
  pthread_mutex_unlock(&c->mmio.lock);
}

bool virtio_console_tx_pending(struct virtio_console *c) {
  pthread_mutex_lock(&c->mmio.lock);
  bool r = c->tx_len && !c->tx_errno && c->out_fd >= 0;
  pthread_mutex_unlock(&c->mmio.lock);
  return r;
}

static int output_failed(int e, hull_error_t *err) {
  return hull_error(err, e, "virtio-console: writing its output");
}

int virtio_console_flush(struct virtio_console *c, hull_error_t *err) {
  pthread_mutex_lock(&c->mmio.lock);
  write_out(c);
  if (c->tx_len < VIRTIO_CONSOLE_TX_LIMIT && virtio_mmio_running(&c->mmio))
    take_output(c); /* the buffers that waited for room */
  int e = c->tx_errno;
  pthread_mutex_unlock(&c->mmio.lock);
  return e ? output_failed(e, err) : 0;
}

int virtio_console_output_error(struct virtio_console *c, hull_error_t *err) {
  pthread_mutex_lock(&c->mmio.lock);
  int e = c->tx_errno;
  pthread_mutex_unlock(&c->mmio.lock);
  return e ? output_failed(e, err) : 0;
}
