/* virtio-mmio.c — the virtio-mmio transport, version 2 (virtio 1.x, 4.2):
 * one device's register window, as Linux's virtio_mmio driver uses it.
 *
 * Feature negotiation: the driver's FEATURES_OK sticks only when it
 * accepted VERSION_1 and nothing we did not offer. A queue becomes ready
 * only when its rings check (virtq_enable); a queue the driver breaks later
 * stops, and the device asks for a reset (NEEDS_RESET and a configuration
 * interrupt, as the spec says a device that hits an error does).
 *
 * The interrupt line is high while InterruptStatus is not 0. After an ACK
 * that leaves bits set it drops and rises again, so that an edge-triggered
 * input (the PIC, an ISA IOAPIC pin) sees the interrupt that came between
 * the driver's read of the status and its ACK. */
#include "runtime/vm/vmm/vmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
                      void *opaque, const struct guest_memory *mem,
                      uint64_t base, unsigned irq,
                      int (*set_irq)(void *opaque, unsigned irq, int level),
                      void *irq_opaque) {
  *t = (struct virtio_mmio){
      .dev = *dev,
      .opaque = opaque,
      .mem = *mem,
      .base = base,
      .irq = irq,
      .set_irq = set_irq,
      .irq_opaque = irq_opaque,
  };
  pthread_mutex_init(&t->lock, NULL);
}

void virtio_mmio_destroy(struct virtio_mmio *t) {
  pthread_mutex_destroy(&t->lock);
  free(t->last_error);
  t->last_error = NULL;
}

static void set_line(struct virtio_mmio *t, int level) {
  t->irq_level = level;
  if (t->set_irq)
    t->set_irq(t->irq_opaque, t->irq, level);
}

static void raise_interrupt(struct virtio_mmio *t, uint32_t why) {
  bool was_clear = t->interrupt_status == 0;
  t->interrupt_status |= why;
  if (was_clear)
    set_line(t, 1);
}

static void ack_interrupt(struct virtio_mmio *t, uint32_t bits) {
  t->interrupt_status &= ~bits;
  if (t->irq_level)
    set_line(t, 0);
  if (t->interrupt_status)
    set_line(t, 1);
}

bool virtio_mmio_running(const struct virtio_mmio *t) {
  return (t->status & VIRTIO_STATUS_DRIVER_OK) &&
         !(t->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void virtio_mmio_used(struct virtio_mmio *t, unsigned q) {
  if (virtq_wants_interrupt(&t->queues[q]))
    raise_interrupt(t, VIRTIO_INT_USED);
}

void virtio_mmio_broken(struct virtio_mmio *t, unsigned q, hull_error_t *err) {
  free(t->last_error);
  t->last_error = xasprintf("%s queue %u: %s", t->dev.name, q,
                            *err ? (*err)->msg : "broken");
  hull_error_release(err);
  t->queues[q].ready = false;
  if (t->status & VIRTIO_STATUS_DRIVER_OK) {
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    raise_interrupt(t, VIRTIO_INT_CONFIG);
  }
}

static void reset(struct virtio_mmio *t) {
  if (t->dev.reset)
    t->dev.reset(t);
  for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
    virtq_reset(&t->queues[i]);
  t->status = t->device_features_sel = t->driver_features_sel = 0;
  t->queue_sel = 0;
  t->driver_features = 0;
  ack_interrupt(t, ~0u);
}

static uint64_t offered(const struct virtio_mmio *t) {
  return t->dev.features | VIRTIO_F_VERSION_1;
}

/* Buffers the driver made available before DRIVER_OK (its notifies were
 * not acted on then) are looked at now. */
static void driver_came_up(struct virtio_mmio *t) {
  for (unsigned q = 0; q < t->dev.nqueues; q++)
    if (t->queues[q].ready && virtio_mmio_running(t) && t->dev.notify)
      t->dev.notify(t, q);
}

static void write_status(struct virtio_mmio *t, uint32_t value) {
  if (value == 0) {
    reset(t);
    return;
  }
  bool was_running = virtio_mmio_running(t);
  bool features_ok = (value & VIRTIO_STATUS_FEATURES_OK) &&
                     !(t->status & VIRTIO_STATUS_FEATURES_OK);
  if (features_ok &&
      ((t->driver_features & ~offered(t)) ||
       !(t->driver_features & VIRTIO_F_VERSION_1)))
    value &= ~VIRTIO_STATUS_FEATURES_OK; /* the driver reads it back */
  /* The driver only adds bits; NEEDS_RESET is ours to set. */
  t->status = (value & ~VIRTIO_STATUS_NEEDS_RESET) |
              (t->status & VIRTIO_STATUS_NEEDS_RESET);
  if (!was_running && virtio_mmio_running(t))
    driver_came_up(t);
}

static struct virtqueue *selected(struct virtio_mmio *t) {
  return t->queue_sel < t->dev.nqueues ? &t->queues[t->queue_sel] : NULL;
}

static void set_half(uint64_t *field, bool high, uint32_t value) {
  if (high)
    *field = (*field & 0xffffffffULL) | (uint64_t)value << 32;
  else
    *field = (*field & ~0xffffffffULL) | value;
}

/* Writes to a queue's set-up while it is ready are ignored (the spec
 * forbids them). */
static void write_queue(struct virtio_mmio *t, uint64_t offset,
                        uint32_t value) {
  struct virtqueue *q = selected(t);
  if (q == NULL)
    return;
  if (offset == VIRTIO_MMIO_QUEUE_READY) {
    if (!value) {
      q->ready = false;
      return;
    }
    if (q->ready)
      return;
    hull_error_t err = NULL;
    if (virtq_enable(q, &t->mem, &err) < 0)
      virtio_mmio_broken(t, t->queue_sel, &err);
    return;
  }
  if (q->ready)
    return;
  switch (offset) {
  case VIRTIO_MMIO_QUEUE_NUM: q->size = (uint16_t)(value > 0xffff ? 0 : value); break;
  case VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(&q->desc_addr, false, value); break;
  case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(&q->desc_addr, true, value); break;
  case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_half(&q->avail_addr, false, value); break;
  case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_half(&q->avail_addr, true, value); break;
  case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_half(&q->used_addr, false, value); break;
  case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: set_half(&q->used_addr, true, value); break;
  }
}

static void notify(struct virtio_mmio *t, uint32_t q) {
  if (q < t->dev.nqueues && t->queues[q].ready && virtio_mmio_running(t) &&
      t->dev.notify)
    t->dev.notify(t, q);
}

static void write_register(struct virtio_mmio *t, uint64_t offset,
                           uint32_t value) {
  switch (offset) {
  case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->device_features_sel = value; break;
  case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->driver_features_sel = value; break;
  case VIRTIO_MMIO_DRIVER_FEATURES:
    if (t->driver_features_sel < 2 &&
        !(t->status & VIRTIO_STATUS_FEATURES_OK))
      set_half(&t->driver_features, t->driver_features_sel == 1, value);
    break;
  case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = value; break;
  case VIRTIO_MMIO_QUEUE_NOTIFY: notify(t, value); break;
  case VIRTIO_MMIO_INTERRUPT_ACK: ack_interrupt(t, value); break;
  case VIRTIO_MMIO_STATUS: write_status(t, value); break;
  default: write_queue(t, offset, value); break;
  }
}

static uint32_t read_register(struct virtio_mmio *t, uint64_t offset) {
  struct virtqueue *q = selected(t);
  switch (offset) {
  case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
  case VIRTIO_MMIO_VERSION_REG: return VIRTIO_MMIO_VERSION;
  case VIRTIO_MMIO_DEVICE_ID: return t->dev.id;
  case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
  case VIRTIO_MMIO_DEVICE_FEATURES:
    return t->device_features_sel < 2
               ? (uint32_t)(offered(t) >> (32 * t->device_features_sel))
               : 0;
  case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? VIRTQ_MAX_SIZE : 0;
  case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
  case VIRTIO_MMIO_INTERRUPT_STATUS: return t->interrupt_status;
  case VIRTIO_MMIO_STATUS: return t->status;
  case VIRTIO_MMIO_CONFIG_GENERATION: return t->config_generation;
  default: return 0;
  }
}

static bool config_range(const struct virtio_mmio *t, uint64_t offset,
                         unsigned size) {
  return offset >= VIRTIO_MMIO_CONFIG &&
         offset - VIRTIO_MMIO_CONFIG <= t->dev.config_size &&
         size <= t->dev.config_size - (offset - VIRTIO_MMIO_CONFIG);
}

void virtio_mmio_read(struct virtio_mmio *t, uint64_t offset, uint8_t *data,
                      unsigned size) {
  memset(data, 0, size);
  pthread_mutex_lock(&t->lock);
  if (offset >= VIRTIO_MMIO_CONFIG) {
    if (config_range(t, offset, size))
      memcpy(data, t->dev.config + (offset - VIRTIO_MMIO_CONFIG), size);
  } else if (size == 4 && offset % 4 == 0) {
    uint32_t v = read_register(t, offset);
    memcpy(data, &v, 4);
  }
  pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t offset,
                       const uint8_t *data, unsigned size) {
  if (offset >= VIRTIO_MMIO_CONFIG || size != 4 || offset % 4)
    return; /* our devices' configuration is read-only */
  uint32_t v;
  memcpy(&v, data, 4);
  pthread_mutex_lock(&t->lock);
  write_register(t, offset, v);
  pthread_mutex_unlock(&t->lock);
}

char *virtio_mmio_cmdline(const struct virtio_mmio *t) {
  return xasprintf("virtio_mmio.device=%llu@%#llx:%u",
                   (unsigned long long)VIRTIO_MMIO_SIZE,
                   (unsigned long long)t->base, t->irq);
}
