/* virtqueue.c — split virtqueues (virtio 1.x, 2.7) from the device's side:
 * the driver's descriptor table and available ring, our used ring.
 *
 * The guest owns this memory and may change it under us at any moment, so
 * each field is read once into a local before it is checked and used, every
 * buffer is checked against guest RAM, and a chain may not be longer than
 * the queue (which also ends a loop). We offer neither indirect descriptors
 * nor event indexes. Indexes are read with acquire and the used index
 * written with release ordering, as the spec's memory barriers ask. */
#include "runtime/vm/vmm/vmm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DESC_SIZE 16
#define AVAIL_RING 4 /* flags, idx, then ring[size], used_event */
#define USED_RING 4  /* flags, idx, then {id, len}[size], avail_event */
#define USED_ELEM_SIZE 8

struct desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};

static uint16_t load16(const uint8_t *p) {
  return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v) {
  __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static bool is_power_of_2(uint32_t n) { return n && !(n & (n - 1)); }

/* A ring area: aligned, and inside guest memory. */
static uint8_t *ring_at(const struct guest_memory *m, uint64_t addr,
                        uint64_t len, uint64_t align, const char *what,
                        hull_error_t *err) {
  uint8_t *p = addr % align ? NULL : guest_memory_at(m, addr, len);
  if (p == NULL)
    hull_error(err, 0, "%s at %#llx (%llu bytes) is %s", what,
               (unsigned long long)addr, (unsigned long long)len,
               addr % align ? "misaligned" : "outside guest memory");
  return p;
}

int virtq_enable(struct virtqueue *q, const struct guest_memory *m,
                 hull_error_t *err) {
  if (!is_power_of_2(q->size) || q->size > VIRTQ_MAX_SIZE)
    return hull_error(err, 0, "queue size %u is not a power of 2 up to %d",
                      q->size, VIRTQ_MAX_SIZE);
  uint64_t n = q->size;
  uint8_t *desc = ring_at(m, q->desc_addr, n * DESC_SIZE, 16,
                          "descriptor table", err);
  uint8_t *avail = desc ? ring_at(m, q->avail_addr, AVAIL_RING + 2 * n + 2,
                                  2, "available ring", err)
                        : NULL;
  uint8_t *used = avail ? ring_at(m, q->used_addr,
                                  USED_RING + USED_ELEM_SIZE * n + 2, 4,
                                  "used ring", err)
                        : NULL;
  if (used == NULL)
    return -1;
  q->desc = desc;
  q->avail = avail;
  q->used = used;
  q->last_avail = 0;
  q->used_idx = 0;
  q->broken = false;
  q->ready = true;
  return 0;
}

void virtq_reset(struct virtqueue *q) { *q = (struct virtqueue){0}; }

static uint16_t avail_idx(const struct virtqueue *q) {
  return load16(q->avail + 2);
}

bool virtq_has_chain(struct virtqueue *q) {
  return q->ready && !q->broken && avail_idx(q) != q->last_avail;
}

static struct desc read_desc(const struct virtqueue *q, uint16_t i) {
  struct desc d;
  memcpy(&d, q->desc + (size_t)i * DESC_SIZE, sizeof d);
  return d;
}

static int chain_error(struct virtqueue *q, hull_error_t *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int chain_error(struct virtqueue *q, hull_error_t *err,
                       const char *fmt, ...) {
  q->broken = true;
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return hull_error(err, 0, "%s", msg);
}

/* Walks the chain from head into c, checking each descriptor. */
static int walk_chain(struct virtqueue *q, const struct guest_memory *m,
                      uint16_t head, uint64_t max_bytes,
                      struct virtq_chain *c, hull_error_t *err) {
  *c = (struct virtq_chain){.head = head};
  uint16_t i = head;
  for (unsigned count = 0;; count++) {
    if (i >= q->size)
      return chain_error(q, err, "descriptor %u is outside a queue of %u", i,
                         q->size);
    if (count >= q->size)
      return chain_error(q, err, "chain from descriptor %u is longer than "
                         "the queue (%u): a loop?", head, q->size);
    struct desc d = read_desc(q, i);
    if (d.flags & VIRTQ_DESC_F_INDIRECT)
      return chain_error(q, err, "descriptor %u is indirect, which was not "
                         "offered", i);
    void *buf = guest_memory_at(m, d.addr, d.len);
    if (buf == NULL)
      return chain_error(q, err, "descriptor %u's buffer at %#llx is "
                         "outside guest memory", i,
                         (unsigned long long)d.addr);
    bool writable = d.flags & VIRTQ_DESC_F_WRITE;
    if (!writable && c->n_in)
      return chain_error(q, err, "descriptor %u is readable after a "
                         "writable one", i);
    if (d.len > max_bytes - (c->out_len + c->in_len))
      return chain_error(q, err, "chain from descriptor %u holds more than "
                         "%llu bytes", head, (unsigned long long)max_bytes);
    c->iov[c->n_out + c->n_in] = (struct iovec){buf, d.len};
    if (writable) {
      c->n_in++;
      c->in_len += d.len;
    } else {
      c->n_out++;
      c->out_len += d.len;
    }
    if (!(d.flags & VIRTQ_DESC_F_NEXT))
      return 1;
    i = d.next;
  }
}

int virtq_pop(struct virtqueue *q, const struct guest_memory *m,
              uint64_t max_bytes, struct virtq_chain *c, hull_error_t *err) {
  if (!q->ready || q->broken)
    return 0;
  uint16_t idx = avail_idx(q);
  if (idx == q->last_avail)
    return 0;
  if ((uint16_t)(idx - q->last_avail) > q->size)
    return chain_error(q, err, "available index %u runs more than the "
                       "queue's %u ahead of %u", idx, q->size,
                       q->last_avail);
  uint16_t slot = q->last_avail % q->size;
  uint16_t head = load16(q->avail + AVAIL_RING + 2 * slot);
  if (walk_chain(q, m, head, max_bytes, c, err) < 0)
    return -1;
  q->last_avail++;
  return 1;
}

void virtq_push(struct virtqueue *q, uint16_t head, uint32_t len) {
  uint8_t *elem = q->used + USED_RING +
                  (size_t)(q->used_idx % q->size) * USED_ELEM_SIZE;
  uint32_t id = head;
  memcpy(elem, &id, 4);
  memcpy(elem + 4, &len, 4);
  store16(q->used + 2, ++q->used_idx);
}

bool virtq_wants_interrupt(struct virtqueue *q) {
  return !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between the chain's part [first, first + n) and flat memory. */
static size_t copy_part(const struct iovec *iov, unsigned n, uint64_t offset,
                        uint8_t *flat, size_t len, bool to_chain) {
  size_t done = 0;
  for (unsigned i = 0; i < n && done < len; i++) {
    if (offset >= iov[i].iov_len) {
      offset -= iov[i].iov_len;
      continue;
    }
    size_t chunk = iov[i].iov_len - offset;
    if (chunk > len - done)
      chunk = len - done;
    uint8_t *p = (uint8_t *)iov[i].iov_base + offset;
    if (to_chain)
      memcpy(p, flat + done, chunk);
    else
      memcpy(flat + done, p, chunk);
    done += chunk;
    offset = 0;
  }
  return done;
}

size_t virtq_copy_out(const struct virtq_chain *c, uint64_t offset,
                      void *dst, size_t len) {
  return copy_part(c->iov, c->n_out, offset, dst, len, false);
}

size_t virtq_copy_in(const struct virtq_chain *c, uint64_t offset,
                     const void *src, size_t len) {
  return copy_part(c->iov + c->n_out, c->n_in, offset, (uint8_t *)src, len,
                   true);
}

unsigned virtq_slice(const struct virtq_chain *c, bool writable,
                     uint64_t offset, uint64_t len, struct iovec *out) {
  const struct iovec *iov = writable ? c->iov + c->n_out : c->iov;
  unsigned n = writable ? c->n_in : c->n_out, used = 0;
  uint64_t total = writable ? c->in_len : c->out_len;
  if (offset > total || len > total - offset)
    return 0;
  for (unsigned i = 0; i < n && len; i++) {
    if (offset >= iov[i].iov_len) {
      offset -= iov[i].iov_len;
      continue;
    }
    uint64_t chunk = iov[i].iov_len - offset;
    if (chunk > len)
      chunk = len;
    out[used++] = (struct iovec){(uint8_t *)iov[i].iov_base + offset, chunk};
    len -= chunk;
    offset = 0;
  }
  return used;
}
