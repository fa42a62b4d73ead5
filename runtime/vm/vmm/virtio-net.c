/* virtio-net.c — a virtio network card over a tap fd (virtio 1.x, 5.1):
 * one receive and one transmit queue, a MAC in its configuration space,
 * no offloads (so every frame is whole, with a header of zeros).
 *
 * Transmit: on the driver's notify the vCPU thread writes each frame to the
 * tap (after the 12-byte virtio_net_hdr_v1) and gives the buffer back; a
 * tap that does not take a frame drops it, as a full NIC queue does.
 * Receive: the I/O thread (virtio-net-io.c) reads the tap only while the
 * guest has a receive buffer waiting, and puts one frame in each, behind
 * a header of zeros (num_buffers 1); a frame larger than the buffer is
 * dropped and the buffer kept.
 *
 * The device's state is under the transport's lock. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static struct virtio_net *net_of(struct virtio_mmio *t) { return t->opaque; }

static void wake_io(struct virtio_net *n) { io_wake(n->wake_fd); }

static void send_frame(struct virtio_net *n, const struct virtq_chain *c) {
  struct iovec iov[VIRTQ_MAX_SIZE];
  uint64_t len = c->out_len - VIRTIO_NET_HDR_SIZE;
  unsigned k = virtq_slice(c, false, VIRTIO_NET_HDR_SIZE, len, iov);
  ssize_t r = -1;
  if (k > 0 && n->tap_fd >= 0)
    do
      r = writev(n->tap_fd, iov, (int)k);
    while (r < 0 && errno == EINTR);
  if (r < 0)
    n->dropped_out++;
  else
    n->frames_out++;
}

static void transmit(struct virtio_net *n) {
  struct virtio_mmio *t = &n->mmio;
  struct virtqueue *q = &t->queues[VIRTIO_NET_TX];
  struct virtq_chain chain;
  bool used = false;
  for (;;) {
    hull_error_t err = NULL;
    int r = virtq_pop(q, &t->mem, VIRTIO_NET_FRAME_MAX + VIRTIO_NET_HDR_SIZE,
                      &chain, &err);
    if (r > 0 && chain.out_len < VIRTIO_NET_HDR_SIZE)
      r = hull_error(&err, 0, "frame %u is shorter than its header",
                     chain.head);
    if (r < 0)
      virtio_mmio_broken(t, VIRTIO_NET_TX, &err);
    if (r <= 0)
      break;
    send_frame(n, &chain);
    virtq_push(q, chain.head, 0);
    used = true;
  }
  if (used)
    virtio_mmio_used(t, VIRTIO_NET_TX);
}

static void net_notify(struct virtio_mmio *t, unsigned q) {
  struct virtio_net *n = net_of(t);
  if (q == VIRTIO_NET_TX)
    transmit(n);
  else
    wake_io(n); /* new receive buffers: the thread may read the tap again */
}

void virtio_net_init(struct virtio_net *n, const struct guest_memory *mem,
                     uint64_t base, unsigned irq, int tap_fd,
                     const uint8_t mac[6],
                     int (*set_irq)(void *opaque, unsigned irq, int level),
                     void *irq_opaque) {
  *n = (struct virtio_net){.tap_fd = tap_fd, .wake_fd = -1};
  memcpy(n->config, mac, 6);
  const struct virtio_device dev = {
      .name = "virtio-net",
      .id = VIRTIO_ID_NET,
      .features = VIRTIO_NET_F_MAC,
      .nqueues = 2,
      .config = n->config,
      .config_size = sizeof n->config,
      .notify = net_notify,
  };
  virtio_mmio_init(&n->mmio, &dev, n, mem, base, irq, set_irq, irq_opaque);
}

void virtio_net_destroy(struct virtio_net *n) {
  virtio_mmio_destroy(&n->mmio);
}

static bool rx_ready(struct virtio_net *n) {
  return virtio_mmio_running(&n->mmio) &&
         virtq_has_chain(&n->mmio.queues[VIRTIO_NET_RX]);
}

bool virtio_net_can_receive(struct virtio_net *n) {
  pthread_mutex_lock(&n->mmio.lock);
  bool r = rx_ready(n);
  pthread_mutex_unlock(&n->mmio.lock);
  return r;
}

bool virtio_net_receive(struct virtio_net *n, const uint8_t *frame,
                        size_t len) {
  struct virtio_mmio *t = &n->mmio;
  struct virtqueue *q = &t->queues[VIRTIO_NET_RX];
  struct virtq_chain chain;
  bool taken = false;
  pthread_mutex_lock(&t->lock);
  hull_error_t err = NULL;
  int r = rx_ready(n) ? virtq_pop(q, &t->mem, UINT64_MAX, &chain, &err) : 0;
  if (r < 0)
    virtio_mmio_broken(t, VIRTIO_NET_RX, &err);
  if (r > 0 && chain.in_len < VIRTIO_NET_HDR_SIZE + len) {
    q->last_avail--; /* too small for this frame: the buffer stays */
    n->dropped_in++;
    taken = true;    /* the frame is gone */
  } else if (r > 0) {
    uint8_t hdr[VIRTIO_NET_HDR_SIZE] = {0};
    hdr[10] = 1; /* num_buffers */
    virtq_copy_in(&chain, 0, hdr, sizeof hdr);
    virtq_copy_in(&chain, sizeof hdr, frame, len);
    virtq_push(q, chain.head, (uint32_t)(sizeof hdr + len));
    virtio_mmio_used(t, VIRTIO_NET_RX);
    n->frames_in++;
    taken = true;
  }
  pthread_mutex_unlock(&t->lock);
  return taken;
}
