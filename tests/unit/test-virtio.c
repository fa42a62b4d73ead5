/* test-virtio.c — the built-in VMM's virtio devices without /dev/kvm
 * (runtime/vm/vmm/: virtqueue.c, virtio-mmio.c, virtio-console*.c,
 * virtio-blk.c, virtio-net*.c) and its MP table (mptable.c).
 *
 * The test is the guest's driver: it lays out descriptor tables and rings
 * in a fake guest RAM and drives each device only through its MMIO register
 * reads and writes, as Linux's virtio_mmio driver does (magic, version and
 * device id, feature negotiation, queue set-up, QueueNotify, the
 * interrupt's status and ACK), then checks what the device did: console
 * bytes both ways with back-pressure, blk reads and writes on a temporary
 * file, net frames both ways over a datagram socket standing in for a tap,
 * and hostile rings refused. The fake RAM has inaccessible guard
 * pages on both sides, so a device that follows a hostile address outside
 * it crashes the test instead of passing quietly. */
#include "runtime/vm/vmm/vmm.h"
#include "tests/suite.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAM_SIZE (1024 * 1024)
#define PAGE 4096
#define QUEUE_AREA(q) (0x10000 + (uint64_t)(q) * 0x10000)
#define DATA_AREA 0x40000
#define QSIZE 16

/* ---- a fake guest ------------------------------------------------------ */

struct fake_ram {
  uint8_t *map; /* guard page, RAM_SIZE, guard page */
  struct guest_memory mem;
};

static void ram_open(struct fake_ram *r) {
  r->map = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(r->map, MAP_FAILED);
  ck_assert_int_eq(mprotect(r->map + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE),
                   0);
  r->mem = (struct guest_memory){r->map + PAGE, RAM_SIZE};
}

static void ram_close(struct fake_ram *r) {
  munmap(r->map, RAM_SIZE + 2 * PAGE);
}

struct irq_log {
  int level;
  unsigned raises;
};

static int record_irq(void *opaque, unsigned irq, int level) {
  struct irq_log *log = opaque;
  if (level && !log->level)
    log->raises++;
  log->level = level;
  return 0;
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off) {
  uint32_t v;
  virtio_mmio_read(t, off, (uint8_t *)&v, 4);
  return v;
}

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v) {
  virtio_mmio_write(t, off, (uint8_t *)&v, 4);
}

/* The driver's view of one queue. */
struct drv_queue {
  struct fake_ram *ram;
  unsigned index;
  uint16_t size;
  uint64_t desc, avail, used;
  uint16_t avail_idx, next_desc, used_seen;
};

static uint8_t *at(struct fake_ram *r, uint64_t addr) {
  ck_assert_uint_lt(addr, RAM_SIZE);
  return r->mem.base + addr;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
/* Ring indexes, which the device reads from another thread: published
 * with release and read with acquire ordering, as a guest's driver does. */
static void publish16(uint8_t *p, uint16_t v) {
  __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}
static uint16_t observe16(const uint8_t *p) {
  return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Reset, ACKNOWLEDGE, DRIVER, features; true when FEATURES_OK stuck. */
static bool negotiate(struct virtio_mmio *t, uint64_t features) {
  wr(t, VIRTIO_MMIO_STATUS, 0);
  wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
  wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  for (uint32_t sel = 0; sel < 2; sel++) {
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> (32 * sel)));
  }
  uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
               VIRTIO_STATUS_FEATURES_OK;
  wr(t, VIRTIO_MMIO_STATUS, s);
  return rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

static uint64_t device_features(struct virtio_mmio *t) {
  uint64_t f = 0;
  for (uint32_t sel = 0; sel < 2; sel++) {
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
    f |= (uint64_t)rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << (32 * sel);
  }
  return f;
}

static void set_queue_addrs(struct virtio_mmio *t, uint64_t desc,
                            uint64_t avail, uint64_t used) {
  wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
  wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
  wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
  wr(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
  wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
  wr(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

/* Sets queue q up at QUEUE_AREA(q); true when QueueReady reads 1. */
static bool setup_queue(struct virtio_mmio *t, struct fake_ram *r,
                        struct drv_queue *dq, unsigned q, uint16_t size) {
  *dq = (struct drv_queue){.ram = r, .index = q, .size = size,
                           .desc = QUEUE_AREA(q),
                           .avail = QUEUE_AREA(q) + 0x1000,
                           .used = QUEUE_AREA(q) + 0x2000};
  memset(at(r, dq->desc), 0, 0x3000);
  wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
  ck_assert_uint_ge(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), size);
  wr(t, VIRTIO_MMIO_QUEUE_NUM, size);
  set_queue_addrs(t, dq->desc, dq->avail, dq->used);
  wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
  return rd(t, VIRTIO_MMIO_QUEUE_READY) == 1;
}

static void driver_ok(struct virtio_mmio *t) {
  wr(t, VIRTIO_MMIO_STATUS, rd(t, VIRTIO_MMIO_STATUS) |
                                VIRTIO_STATUS_DRIVER_OK);
}

struct buf {
  uint64_t addr;
  uint32_t len;
  bool write;
};

static void write_desc(struct drv_queue *dq, uint16_t i, uint64_t addr,
                       uint32_t len, uint16_t flags, uint16_t next) {
  uint8_t *d = at(dq->ram, dq->desc + (uint64_t)i * 16);
  memcpy(d, &addr, 8);
  memcpy(d + 8, &len, 4);
  put16(d + 12, flags);
  put16(d + 14, next);
}

static void make_avail(struct drv_queue *dq, uint16_t head) {
  put16(at(dq->ram, dq->avail + 4 + 2 * (dq->avail_idx % dq->size)), head);
  publish16(at(dq->ram, dq->avail + 2), ++dq->avail_idx);
}

/* Adds a chain of n buffers (descriptors taken in turn); returns its head. */
static uint16_t add_chain(struct drv_queue *dq, const struct buf *b,
                          unsigned n) {
  uint16_t head = dq->next_desc % dq->size;
  for (unsigned i = 0; i < n; i++) {
    uint16_t d = (uint16_t)((dq->next_desc + i) % dq->size);
    uint16_t flags = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                     (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
    write_desc(dq, d, b[i].addr, b[i].len, flags,
               (uint16_t)((d + 1) % dq->size));
  }
  dq->next_desc = (uint16_t)(dq->next_desc + n);
  make_avail(dq, head);
  return head;
}

static uint16_t used_idx(struct drv_queue *dq) {
  return observe16(at(dq->ram, dq->used + 2));
}

/* The next used element: its id and len. */
static void next_used(struct drv_queue *dq, uint32_t *id, uint32_t *len) {
  ck_assert_uint_ne(used_idx(dq), dq->used_seen);
  uint8_t *e = at(dq->ram, dq->used + 4 + 8 * (dq->used_seen % dq->size));
  *id = get32(e);
  *len = get32(e + 4);
  dq->used_seen++;
}

static void notify(struct virtio_mmio *t, unsigned q) {
  wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* ---- a console on a socketpair ---------------------------------------- */

struct console_rig {
  struct fake_ram ram;
  struct virtio_console con;
  struct irq_log irq;
  struct drv_queue rx, tx;
  int host[2]; /* host[0]: the device's fd; host[1]: the test's end */
};

static void console_up(struct console_rig *r) {
  memset(r, 0, sizeof *r);
  ram_open(&r->ram);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                              r->host), 0);
  virtio_console_init(&r->con, &r->ram.mem, VIRTIO_MMIO_BASE, 5, r->host[0],
                      r->host[0], record_irq, &r->irq);
  struct virtio_mmio *t = &r->con.mmio;
  ck_assert(negotiate(t, VIRTIO_F_VERSION_1));
  ck_assert(setup_queue(t, &r->ram, &r->rx, VIRTIO_CONSOLE_RX, QSIZE));
  ck_assert(setup_queue(t, &r->ram, &r->tx, VIRTIO_CONSOLE_TX, QSIZE));
  driver_ok(t);
}

static void console_down(struct console_rig *r) {
  virtio_console_destroy(&r->con);
  close(r->host[0]);
  close(r->host[1]);
  ram_close(&r->ram);
}

/* ---- the transport ------------------------------------------------------ */

START_TEST(transport_identifies_itself) {
  struct console_rig r;
  console_up(&r);
  struct virtio_mmio *t = &r.con.mmio;
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_VERSION_REG), 2);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
  ck_assert_uint_eq(device_features(t), VIRTIO_F_VERSION_1);
  wr(t, VIRTIO_MMIO_QUEUE_SEL, 2); /* a console has two queues */
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
  /* Registers take 32-bit accesses only. */
  uint16_t half = 0xffff;
  virtio_mmio_read(t, VIRTIO_MMIO_MAGIC_VALUE, (uint8_t *)&half, 2);
  ck_assert_uint_eq(half, 0);
  cleanup_free char *line = virtio_mmio_cmdline(t);
  ck_assert_str_eq(line, "virtio_mmio.device=512@0xd0000000:5");
  console_down(&r);
}
END_TEST

START_TEST(features_ok_needs_version_1_and_nothing_unoffered) {
  struct console_rig r;
  console_up(&r);
  struct virtio_mmio *t = &r.con.mmio;
  ck_assert(!negotiate(t, 0));                     /* a legacy driver */
  ck_assert(!negotiate(t, VIRTIO_F_VERSION_1 | 1)); /* SIZE: not offered */
  ck_assert(negotiate(t, VIRTIO_F_VERSION_1));
  console_down(&r);
}
END_TEST

START_TEST(bad_queue_setups_are_not_ready) {
  struct console_rig r;
  console_up(&r);
  struct virtio_mmio *t = &r.con.mmio;
  ck_assert(negotiate(t, VIRTIO_F_VERSION_1));
  struct drv_queue dq;
  const uint32_t sizes[] = {0, 3, 24, 512, 0x10000};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(t, VIRTIO_MMIO_QUEUE_NUM, sizes[i]);
    set_queue_addrs(t, 0x10000, 0x11000, 0x12000);
    wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
    ck_assert_msg(rd(t, VIRTIO_MMIO_QUEUE_READY) == 0, "size %u ready",
                  sizes[i]);
  }
  /* Rings past the end of RAM, wrapping around, or misaligned. */
  const uint64_t bad[][3] = {
      {RAM_SIZE - 16, 0x11000, 0x12000},
      {0x10000, RAM_SIZE - 8, 0x12000},
      {0x10000, 0x11000, RAM_SIZE - 64},
      {UINT64_MAX - 15, 0x11000, 0x12000},
      {0x10008, 0x11000, 0x12000},
      {0x10000, 0x11001, 0x12000},
      {0x10000, 0x11000, 0x12002},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(t, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
    set_queue_addrs(t, bad[i][0], bad[i][1], bad[i][2]);
    wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
    ck_assert_msg(rd(t, VIRTIO_MMIO_QUEUE_READY) == 0, "rings %zu ready", i);
  }
  ck_assert(setup_queue(t, &r.ram, &dq, 0, QSIZE));
  console_down(&r);
}
END_TEST

/* ---- the console ---------------------------------------------------------- */

static ssize_t read_available(int fd, char *buf, size_t len) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, 1000) <= 0)
    return 0;
  return recv(fd, buf, len, MSG_DONTWAIT);
}

START_TEST(console_transmits_a_split_buffer_and_interrupts) {
  struct console_rig r;
  console_up(&r);
  struct virtio_mmio *t = &r.con.mmio;
  memcpy(at(&r.ram, DATA_AREA), "hello, ", 7);
  memcpy(at(&r.ram, DATA_AREA + 0x100), "host\n", 5);
  struct buf b[] = {{DATA_AREA, 7, false}, {DATA_AREA + 0x100, 5, false}};
  uint16_t head = add_chain(&r.tx, b, 2);
  ck_assert_uint_eq(r.irq.raises, 0);
  notify(t, VIRTIO_CONSOLE_TX);
  char got[64] = {0};
  ck_assert_int_eq(read_available(r.host[1], got, sizeof got), 12);
  ck_assert_str_eq(got, "hello, host\n");
  uint32_t id, len;
  next_used(&r.tx, &id, &len);
  ck_assert_uint_eq(id, head);
  ck_assert_uint_eq(r.irq.raises, 1);
  ck_assert_int_eq(r.irq.level, 1);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED);
  wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  ck_assert_int_eq(r.irq.level, 0);
  /* A driver that asks for no interrupts gets none. */
  put16(at(&r.ram, r.tx.avail), VIRTQ_AVAIL_F_NO_INTERRUPT);
  add_chain(&r.tx, b, 1);
  notify(t, VIRTIO_CONSOLE_TX);
  ck_assert_uint_eq(r.irq.raises, 1);
  ck_assert_uint_eq(used_idx(&r.tx), 2);
  console_down(&r);
}
END_TEST

/* A notify before DRIVER_OK is not acted on; DRIVER_OK takes what waits. */
START_TEST(console_takes_what_waited_for_driver_ok) {
  struct console_rig r;
  memset(&r, 0, sizeof r);
  ram_open(&r.ram);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                              r.host), 0);
  virtio_console_init(&r.con, &r.ram.mem, VIRTIO_MMIO_BASE, 5, r.host[0],
                      r.host[0], record_irq, &r.irq);
  struct virtio_mmio *t = &r.con.mmio;
  ck_assert(negotiate(t, VIRTIO_F_VERSION_1));
  ck_assert(setup_queue(t, &r.ram, &r.rx, VIRTIO_CONSOLE_RX, QSIZE));
  ck_assert(setup_queue(t, &r.ram, &r.tx, VIRTIO_CONSOLE_TX, QSIZE));
  memcpy(at(&r.ram, DATA_AREA), "early", 5);
  add_chain(&r.tx, &(struct buf){DATA_AREA, 5, false}, 1);
  notify(t, VIRTIO_CONSOLE_TX);
  ck_assert_uint_eq(used_idx(&r.tx), 0);
  ck_assert_uint_eq(r.con.bytes_out, 0);
  driver_ok(t);
  char got[8] = {0};
  ck_assert_int_eq(read_available(r.host[1], got, sizeof got), 5);
  ck_assert_str_eq(got, "early");
  ck_assert_uint_eq(used_idx(&r.tx), 1);
  console_down(&r);
}
END_TEST

START_TEST(console_receives_into_the_guests_buffers_only) {
  struct console_rig r;
  console_up(&r);
  const uint8_t text[] = "abcdefghij";
  /* No receive buffers: nothing taken (the bytes wait on the host). */
  ck_assert(!virtio_console_can_receive(&r.con));
  ck_assert_uint_eq(virtio_console_receive(&r.con, text, 10), 0);
  memset(at(&r.ram, DATA_AREA), '.', 0x200);
  add_chain(&r.rx, &(struct buf){DATA_AREA, 4, true}, 1);
  add_chain(&r.rx, &(struct buf){DATA_AREA + 0x100, 4, true}, 1);
  notify(&r.con.mmio, VIRTIO_CONSOLE_RX);
  ck_assert(virtio_console_can_receive(&r.con));
  ck_assert_uint_eq(virtio_console_receive(&r.con, text, 10), 8);
  uint32_t id, len;
  next_used(&r.rx, &id, &len);
  ck_assert_uint_eq(len, 4);
  next_used(&r.rx, &id, &len);
  ck_assert_uint_eq(len, 4);
  ck_assert_mem_eq(at(&r.ram, DATA_AREA), "abcd.", 5);
  ck_assert_mem_eq(at(&r.ram, DATA_AREA + 0x100), "efgh.", 5);
  ck_assert_uint_eq(virtio_console_receive(&r.con, text + 8, 2), 0);
  ck_assert_uint_eq(r.irq.raises, 1);
  console_down(&r);
}
END_TEST

/* out_fd takes nothing: the device buffers up to its limit, then leaves
 * the guest's buffers in the ring; as the host reads, flushes take them,
 * and every byte arrives once, in order. */
START_TEST(console_back_pressure_keeps_every_byte_in_order) {
  struct console_rig r;
  console_up(&r);
  int small = 4096;
  setsockopt(r.host[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const uint32_t chunk = 32 * 1024;
  const unsigned chunks = 64; /* 2 MiB, eight times the device's limit */
  uint8_t *data = at(&r.ram, DATA_AREA);
  unsigned sent = 0;
  uint64_t total = (uint64_t)chunk * chunks, got = 0;
  uint8_t *buf = xmalloc(chunk);
  hull_error_t err = NULL;
  while (got < total) {
    /* Keep the ring full: one chain per free slot, each its own bytes. */
    while (sent < chunks && (uint16_t)(r.tx.avail_idx - used_idx(&r.tx)) <
                                 QSIZE / 2) {
      uint64_t addr = DATA_AREA + (uint64_t)(sent % (QSIZE / 2)) * chunk;
      for (uint32_t i = 0; i < chunk; i++)
        data[addr - DATA_AREA + i] = (uint8_t)((sent * chunk + i) % 251);
      add_chain(&r.tx, &(struct buf){addr, chunk, false}, 1);
      notify(&r.con.mmio, VIRTIO_CONSOLE_TX);
      sent++;
    }
    ck_assert_uint_le(r.con.tx_len, VIRTIO_CONSOLE_TX_LIMIT + chunk);
    ssize_t n = read_available(r.host[1], (char *)buf, chunk);
    ck_assert_int_gt(n, 0);
    for (ssize_t i = 0; i < n; i++)
      ck_assert_uint_eq(buf[i], (uint8_t)((got + (uint64_t)i) % 251));
    got += (uint64_t)n;
    ck_assert_int_eq(virtio_console_flush(&r.con, &err), 0);
  }
  ck_assert_uint_eq(sent, chunks);
  ck_assert_uint_eq(used_idx(&r.tx), chunks);
  free(buf);
  console_down(&r);
}
END_TEST

START_TEST(console_tx_stops_at_its_limit) {
  struct console_rig r;
  console_up(&r);
  int small = 4096;
  setsockopt(r.host[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const uint32_t chunk = 64 * 1024;
  for (unsigned i = 0; i < 8; i++)
    add_chain(&r.tx, &(struct buf){DATA_AREA + (uint64_t)i * chunk, chunk,
                                   false}, 1);
  notify(&r.con.mmio, VIRTIO_CONSOLE_TX);
  /* Taken while under the limit; the rest wait in the ring. */
  ck_assert_uint_lt(used_idx(&r.tx), 8);
  ck_assert_uint_ge(used_idx(&r.tx), VIRTIO_CONSOLE_TX_LIMIT / chunk);
  ck_assert(virtio_console_tx_pending(&r.con));
  console_down(&r);
}
END_TEST

/* ---- the console's I/O thread --------------------------------------------- */

#define STREAM_BYTES (1024 * 1024)

static void *write_stream(void *arg) {
  int fd = *(int *)arg;
  uint8_t buf[8192];
  for (size_t off = 0; off < STREAM_BYTES; off += sizeof buf) {
    for (size_t i = 0; i < sizeof buf; i++)
      buf[i] = (uint8_t)((off + i) % 253);
    if (write_all(fd, buf, sizeof buf) < 0)
      break;
  }
  return NULL;
}

/* The host writes 1 MiB into the socket; the guest (this thread) offers
 * 4 KiB receive buffers a few at a time. The thread fills them as they
 * come and never more: the bytes arrive whole and in order. */
START_TEST(console_io_thread_feeds_the_guest_with_back_pressure) {
  struct console_rig r;
  console_up(&r);
  struct virtio_console_io io = {.wake_fd = -1};
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(virtio_console_io_start(&io, &r.con, &err), 0);
  pthread_t writer;
  ck_assert_int_eq(pthread_create(&writer, NULL, write_stream, &r.host[1]),
                   0);
  const uint32_t bsize = 4096;
  size_t got = 0;
  int64_t deadline = monotonic_ms() + 30000;
  while (got < STREAM_BYTES) {
    ck_assert_msg(monotonic_ms() < deadline, "stuck after %zu bytes", got);
    while ((uint16_t)(r.rx.avail_idx - r.rx.used_seen) < 4) {
      uint64_t addr = DATA_AREA + (uint64_t)(r.rx.avail_idx % QSIZE) * bsize;
      add_chain(&r.rx, &(struct buf){addr, bsize, true}, 1);
      notify(&r.con.mmio, VIRTIO_CONSOLE_RX);
    }
    if (used_idx(&r.rx) == r.rx.used_seen) {
      sched_yield();
      continue;
    }
    uint32_t id, len;
    next_used(&r.rx, &id, &len);
    ck_assert_uint_le(len, bsize);
    uint8_t *p = at(&r.ram, DATA_AREA + (uint64_t)(id % QSIZE) * bsize);
    for (uint32_t i = 0; i < len; i++)
      ck_assert_uint_eq(p[i], (uint8_t)((got + i) % 253));
    got += len;
  }
  pthread_join(writer, NULL);
  virtio_console_io_stop(&io);
  ck_assert_uint_eq(r.con.bytes_in, STREAM_BYTES);
  console_down(&r);
}
END_TEST

/* ---- hostile rings ---------------------------------------------------------- */

/* The queue stops, the device asks for a reset, nothing reaches the host,
 * and (the guard pages) nothing outside RAM was touched. */
static void expect_broken(struct console_rig *r, const char *why) {
  struct virtio_mmio *t = &r->con.mmio;
  notify(t, VIRTIO_CONSOLE_TX);
  ck_assert_uint_eq(used_idx(&r->tx), 0);
  ck_assert_msg(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
                "%s: no NEEDS_RESET", why);
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG,
                    VIRTIO_INT_CONFIG);
  ck_assert_ptr_nonnull(t->last_error);
  ck_assert_msg(strstr(t->last_error, why) != NULL, "%s: got `%s`", why,
                t->last_error);
  char c;
  ck_assert_int_lt(recv(r->host[1], &c, 1, MSG_DONTWAIT), 0);
  ck_assert_uint_eq(r->con.bytes_out, 0);
  /* A reset brings it back. */
  ck_assert(negotiate(t, VIRTIO_F_VERSION_1));
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
  ck_assert(setup_queue(t, &r->ram, &r->tx, VIRTIO_CONSOLE_TX, QSIZE));
}

START_TEST(hostile_buffer_outside_ram) {
  struct console_rig r;
  console_up(&r);
  add_chain(&r.tx, &(struct buf){RAM_SIZE - 4, 8, false}, 1);
  expect_broken(&r, "outside guest memory");
  add_chain(&r.tx, &(struct buf){UINT64_MAX - 3, 8, false}, 1);
  driver_ok(&r.con.mmio);
  expect_broken(&r, "outside guest memory");
  console_down(&r);
}
END_TEST

START_TEST(hostile_descriptor_loop) {
  struct console_rig r;
  console_up(&r);
  write_desc(&r.tx, 0, DATA_AREA, 1, VIRTQ_DESC_F_NEXT, 1);
  write_desc(&r.tx, 1, DATA_AREA, 1, VIRTQ_DESC_F_NEXT, 0);
  make_avail(&r.tx, 0);
  expect_broken(&r, "a loop?");
  console_down(&r);
}
END_TEST

START_TEST(hostile_chain_longer_than_allowed) {
  struct console_rig r;
  console_up(&r);
  /* Descriptors past the queue's end, and more bytes than a console
   * buffer may carry (each descriptor in RAM, their sum not). */
  write_desc(&r.tx, 0, DATA_AREA, 1, VIRTQ_DESC_F_NEXT, QSIZE);
  make_avail(&r.tx, 0);
  expect_broken(&r, "outside a queue of 16");
  for (uint16_t i = 0; i < 4; i++)
    write_desc(&r.tx, i, 0, RAM_SIZE / 2, i < 3 ? VIRTQ_DESC_F_NEXT : 0,
               i + 1);
  make_avail(&r.tx, 0);
  driver_ok(&r.con.mmio);
  expect_broken(&r, "holds more than");
  console_down(&r);
}
END_TEST

START_TEST(hostile_ring_indexes) {
  struct console_rig r;
  console_up(&r);
  /* A head out of range. */
  make_avail(&r.tx, 200);
  expect_broken(&r, "descriptor 200 is outside");
  /* The available index running ahead of the ring. */
  r.tx.avail_idx = 0;
  put16(at(&r.ram, r.tx.avail + 2), QSIZE + 1);
  driver_ok(&r.con.mmio);
  expect_broken(&r, "runs more than");
  console_down(&r);
}
END_TEST

START_TEST(hostile_descriptor_flags) {
  struct console_rig r;
  console_up(&r);
  write_desc(&r.tx, 0, DATA_AREA, 16, VIRTQ_DESC_F_INDIRECT, 0);
  make_avail(&r.tx, 0);
  expect_broken(&r, "indirect");
  struct buf b[] = {{DATA_AREA, 1, true}, {DATA_AREA + 1, 1, false}};
  add_chain(&r.tx, b, 2);
  driver_ok(&r.con.mmio);
  expect_broken(&r, "readable after a writable");
  console_down(&r);
}
END_TEST

/* ---- virtio-blk ------------------------------------------------------------- */

struct blk_rig {
  struct fake_ram ram;
  struct virtio_blk blk;
  struct irq_log irq;
  struct drv_queue q;
  char path[64];
};

#define DISK_SECTORS 64

static void blk_up(struct blk_rig *r, bool read_only) {
  memset(r, 0, sizeof *r);
  ram_open(&r->ram);
  snprintf(r->path, sizeof r->path, "/tmp/hull-test-disk-XXXXXX");
  int fd = mkstemp(r->path);
  ck_assert_int_ge(fd, 0);
  uint8_t sector[VIRTIO_BLK_SECTOR];
  for (unsigned s = 0; s < DISK_SECTORS; s++) {
    memset(sector, 'A' + s % 26, sizeof sector);
    ck_assert_int_eq(write_all(fd, sector, sizeof sector), 0);
  }
  ck_assert_int_eq(write_all(fd, "tail", 4), 0); /* not a whole sector */
  close(fd);
  cleanup_error hull_error_t err = NULL;
  ck_assert_msg(virtio_blk_init(&r->blk, &r->ram.mem, VIRTIO_MMIO_BASE, 6,
                                r->path, read_only, record_irq, &r->irq,
                                &err) == 0, "%s", err ? err->msg : "");
  struct virtio_mmio *t = &r->blk.mmio;
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
  ck_assert(negotiate(t, device_features(t)));
  ck_assert(setup_queue(t, &r->ram, &r->q, 0, QSIZE));
  driver_ok(t);
}

static void blk_down(struct blk_rig *r) {
  virtio_blk_destroy(&r->blk);
  unlink(r->path);
  ram_close(&r->ram);
}

#define HDR 0x30000
#define STATUS 0x30100

/* One request: header at HDR, data at DATA_AREA, status at STATUS;
 * returns the status byte, *used_len what the device said it wrote. */
static uint8_t blk_request(struct blk_rig *r, uint32_t type, uint64_t sector,
                           uint32_t data_len, uint32_t *used_len) {
  uint8_t *h = at(&r->ram, HDR);
  memset(h, 0, 16);
  memcpy(h, &type, 4);
  memcpy(h + 8, &sector, 8);
  *at(&r->ram, STATUS) = 0xee;
  bool device_writes = type != VIRTIO_BLK_T_OUT;
  struct buf b[3] = {{HDR, 16, false}, {DATA_AREA, data_len, device_writes},
                     {STATUS, 1, true}};
  if (data_len)
    add_chain(&r->q, b, 3);
  else
    add_chain(&r->q, (struct buf[]){b[0], b[2]}, 2);
  notify(&r->blk.mmio, 0);
  uint32_t id;
  next_used(&r->q, &id, used_len);
  return *at(&r->ram, STATUS);
}

START_TEST(blk_reads_writes_flushes_and_names_itself) {
  struct blk_rig r;
  blk_up(&r, false);
  struct virtio_mmio *t = &r.blk.mmio;
  uint64_t capacity;
  virtio_mmio_read(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&capacity, 8);
  ck_assert_uint_eq(capacity, DISK_SECTORS);
  ck_assert_uint_eq(device_features(t) & (VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO),
                    VIRTIO_BLK_F_FLUSH);
  uint32_t len;
  /* Read sectors 2 and 3. */
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_IN, 2, 1024, &len),
                    VIRTIO_BLK_S_OK);
  ck_assert_uint_eq(len, 1025);
  ck_assert_uint_eq(*at(&r.ram, DATA_AREA), 'C');
  ck_assert_uint_eq(*at(&r.ram, DATA_AREA + 1023), 'D');
  /* Write sector 5, then read it back through the file. */
  memset(at(&r.ram, DATA_AREA), 'z', 512);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_OUT, 5, 512, &len),
                    VIRTIO_BLK_S_OK);
  ck_assert_uint_eq(len, 1);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_FLUSH, 0, 0, &len),
                    VIRTIO_BLK_S_OK);
  int fd = open(r.path, O_RDONLY | O_CLOEXEC);
  char got[3] = {0};
  ck_assert_int_eq(pread(fd, got, 3, 5 * 512 - 1), 3);
  close(fd);
  ck_assert_mem_eq(got, "Ezz", 3);
  /* The id is the file's name, its first 20 bytes (no NUL at 20). */
  memset(at(&r.ram, DATA_AREA), 0, 32);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_GET_ID, 0, 20, &len),
                    VIRTIO_BLK_S_OK);
  ck_assert_uint_eq(len, 21);
  ck_assert_int_eq(strncmp((char *)at(&r.ram, DATA_AREA),
                           strrchr(r.path, '/') + 1, 20), 0);
  ck_assert_uint_eq(*at(&r.ram, DATA_AREA + 20), 0);
  ck_assert_uint_ge(r.irq.raises, 1);
  blk_down(&r);
}
END_TEST

START_TEST(blk_refuses_what_it_cannot_do) {
  struct blk_rig r;
  blk_up(&r, false);
  uint32_t len;
  /* Past the end (the file's last 4 bytes are not a sector), wrapping,
   * not whole sectors, an unknown type. */
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, &len),
                    VIRTIO_BLK_S_IOERR);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024,
                                &len), VIRTIO_BLK_S_IOERR);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, &len),
                    VIRTIO_BLK_S_IOERR);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_IN, 0, 100, &len),
                    VIRTIO_BLK_S_IOERR);
  ck_assert_uint_eq(blk_request(&r, 99, 0, 512, &len), VIRTIO_BLK_S_UNSUPP);
  blk_down(&r);

  blk_up(&r, true);
  ck_assert_uint_eq(device_features(&r.blk.mmio) & VIRTIO_BLK_F_RO,
                    VIRTIO_BLK_F_RO);
  memset(at(&r.ram, DATA_AREA), 'z', 512);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_OUT, 0, 512, &len),
                    VIRTIO_BLK_S_IOERR);
  ck_assert_uint_eq(blk_request(&r, VIRTIO_BLK_T_IN, 0, 512, &len),
                    VIRTIO_BLK_S_OK);
  ck_assert_uint_eq(*at(&r.ram, DATA_AREA), 'A');
  blk_down(&r);
}
END_TEST

/* A request with no status byte, and one whose data runs off RAM's end:
 * the queue breaks, the file is untouched. */
START_TEST(blk_hostile_requests_break_the_queue) {
  struct blk_rig r;
  blk_up(&r, false);
  struct virtio_mmio *t = &r.blk.mmio;
  add_chain(&r.q, &(struct buf){HDR, 16, false}, 1);
  notify(t, 0);
  ck_assert_uint_eq(used_idx(&r.q), 0);
  ck_assert(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
  ck_assert(negotiate(t, device_features(t)));
  ck_assert(setup_queue(t, &r.ram, &r.q, 0, QSIZE));
  driver_ok(t);
  uint32_t type = VIRTIO_BLK_T_IN;
  memcpy(at(&r.ram, HDR), &type, 4);
  memset(at(&r.ram, HDR + 8), 0, 8);
  struct buf b[] = {{HDR, 16, false}, {RAM_SIZE - 512, 1024, true},
                    {STATUS, 1, true}};
  add_chain(&r.q, b, 3);
  notify(t, 0);
  ck_assert_uint_eq(used_idx(&r.q), 0);
  ck_assert(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
  blk_down(&r);
}
END_TEST

START_TEST(blk_missing_image_is_named) {
  struct fake_ram ram;
  ram_open(&ram);
  struct virtio_blk b;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_lt(virtio_blk_init(&b, &ram.mem, VIRTIO_MMIO_BASE, 6,
                                   "/nonexistent/disk.img", false, NULL, NULL,
                                   &err), 0);
  ck_assert_str_eq(err->msg, "virtio-blk: open `/nonexistent/disk.img`: No "
                   "such file or directory");
  virtio_blk_destroy(&b);
  ram_close(&ram);
}
END_TEST

/* ---- virtio-net ------------------------------------------------------------- */

/* A datagram socketpair stands in for the tap: one frame per read. */
struct net_rig {
  struct fake_ram ram;
  struct virtio_net net;
  struct irq_log irq;
  struct drv_queue rx, tx;
  int tap[2]; /* tap[0]: the device's; tap[1]: the wire's other end */
};

static const uint8_t test_mac[6] = {0x02, 0x68, 0x75, 0x6c, 0x6c, 0x01};

static void net_up(struct net_rig *r) {
  memset(r, 0, sizeof *r);
  ram_open(&r->ram);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
                              SOCK_NONBLOCK, 0, r->tap), 0);
  virtio_net_init(&r->net, &r->ram.mem, VIRTIO_MMIO_BASE, 7, r->tap[0],
                  test_mac, record_irq, &r->irq);
  struct virtio_mmio *t = &r->net.mmio;
  ck_assert_uint_eq(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
  ck_assert(negotiate(t, device_features(t)));
  ck_assert(setup_queue(t, &r->ram, &r->rx, VIRTIO_NET_RX, QSIZE));
  ck_assert(setup_queue(t, &r->ram, &r->tx, VIRTIO_NET_TX, QSIZE));
  driver_ok(t);
}

static void net_down(struct net_rig *r) {
  virtio_net_destroy(&r->net);
  close(r->tap[0]);
  close(r->tap[1]);
  ram_close(&r->ram);
}

START_TEST(net_has_its_mac_and_transmits_frames) {
  struct net_rig r;
  net_up(&r);
  struct virtio_mmio *t = &r.net.mmio;
  ck_assert_uint_eq(device_features(t),
                    VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC);
  uint8_t mac[6];
  for (unsigned i = 0; i < 6; i++)
    virtio_mmio_read(t, VIRTIO_MMIO_CONFIG + i, mac + i, 1);
  ck_assert_mem_eq(mac, test_mac, 6);
  /* The header, then a frame in two pieces. */
  memset(at(&r.ram, DATA_AREA), 0, VIRTIO_NET_HDR_SIZE);
  memcpy(at(&r.ram, DATA_AREA + 0x100), "ethernet ", 9);
  memcpy(at(&r.ram, DATA_AREA + 0x200), "frame", 5);
  struct buf b[] = {{DATA_AREA, VIRTIO_NET_HDR_SIZE, false},
                    {DATA_AREA + 0x100, 9, false},
                    {DATA_AREA + 0x200, 5, false}};
  add_chain(&r.tx, b, 3);
  notify(t, VIRTIO_NET_TX);
  char got[64] = {0};
  ck_assert_int_eq(recv(r.tap[1], got, sizeof got, MSG_DONTWAIT), 14);
  ck_assert_str_eq(got, "ethernet frame");
  ck_assert_uint_eq(used_idx(&r.tx), 1);
  ck_assert_uint_eq(r.irq.raises, 1);
  /* A header and no frame: nothing to send. Shorter than its header: the
   * queue breaks, nothing is sent. */
  add_chain(&r.tx, b, 1);
  b[0].len = 4;
  add_chain(&r.tx, b, 1);
  notify(t, VIRTIO_NET_TX);
  ck_assert_int_lt(recv(r.tap[1], got, sizeof got, MSG_DONTWAIT), 0);
  ck_assert_uint_eq(used_idx(&r.tx), 2);
  ck_assert(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
  net_down(&r);
}
END_TEST

START_TEST(net_receives_one_frame_per_buffer) {
  struct net_rig r;
  net_up(&r);
  uint8_t frame[2000];
  for (size_t i = 0; i < sizeof frame; i++)
    frame[i] = (uint8_t)i;
  ck_assert(!virtio_net_can_receive(&r.net));
  ck_assert(!virtio_net_receive(&r.net, frame, 60));
  const uint32_t bsize = VIRTIO_NET_HDR_SIZE + 1518;
  add_chain(&r.rx, &(struct buf){DATA_AREA, bsize, true}, 1);
  add_chain(&r.rx, &(struct buf){DATA_AREA + 0x1000, bsize, true}, 1);
  notify(&r.net.mmio, VIRTIO_NET_RX);
  ck_assert(virtio_net_can_receive(&r.net));
  ck_assert(virtio_net_receive(&r.net, frame, 60));
  uint32_t id, len;
  next_used(&r.rx, &id, &len);
  ck_assert_uint_eq(len, VIRTIO_NET_HDR_SIZE + 60);
  uint8_t *p = at(&r.ram, DATA_AREA);
  ck_assert_uint_eq(p[0], 0);   /* flags */
  ck_assert_uint_eq(p[1], 0);   /* gso_type: none */
  ck_assert_uint_eq(p[10], 1);  /* num_buffers */
  ck_assert_mem_eq(p + VIRTIO_NET_HDR_SIZE, frame, 60);
  /* Too big for the buffer: dropped, the buffer kept for the next. */
  ck_assert(virtio_net_receive(&r.net, frame, sizeof frame));
  ck_assert_uint_eq(used_idx(&r.rx), 1);
  ck_assert_uint_eq(r.net.dropped_in, 1);
  ck_assert(virtio_net_receive(&r.net, frame, 1514));
  next_used(&r.rx, &id, &len);
  ck_assert_uint_eq(len, VIRTIO_NET_HDR_SIZE + 1514);
  ck_assert(!virtio_net_receive(&r.net, frame, 60));
  net_down(&r);
}
END_TEST

/* Frames that came before the guest had buffers wait on the wire; the
 * thread delivers them, one per buffer, as the buffers come. */
START_TEST(net_io_thread_delivers_frames_as_buffers_come) {
  struct net_rig r;
  net_up(&r);
  struct virtio_net_io *io = xzalloc(sizeof *io);
  io->wake_fd = -1;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(virtio_net_io_start(io, &r.net, &err), 0);
  char frame[32];
  for (int i = 0; i < 3; i++) {
    snprintf(frame, sizeof frame, "frame %d", i);
    ck_assert_int_eq(send(r.tap[1], frame, strlen(frame), 0),
                     (ssize_t)strlen(frame));
  }
  for (int i = 0; i < 3; i++) {
    add_chain(&r.rx, &(struct buf){DATA_AREA + (uint64_t)i * 0x1000, 1530,
                                   true}, 1);
    notify(&r.net.mmio, VIRTIO_NET_RX);
  }
  int64_t deadline = monotonic_ms() + 10000;
  while (used_idx(&r.rx) < 3 && monotonic_ms() < deadline)
    sched_yield();
  virtio_net_io_stop(io);
  free(io);
  ck_assert_uint_eq(used_idx(&r.rx), 3);
  for (int i = 0; i < 3; i++) {
    uint32_t id, len;
    next_used(&r.rx, &id, &len);
    snprintf(frame, sizeof frame, "frame %d", i);
    ck_assert_uint_eq(len, VIRTIO_NET_HDR_SIZE + strlen(frame));
    ck_assert_mem_eq(at(&r.ram, DATA_AREA + (uint64_t)id * 0x1000 +
                                    VIRTIO_NET_HDR_SIZE),
                     frame, strlen(frame));
  }
  net_down(&r);
}
END_TEST

/* ---- the MP table ------------------------------------------------------------ */

static uint8_t sum(const uint8_t *p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++)
    s += p[i];
  return s;
}

static void check_mptable(unsigned vcpus) {
  uint8_t out[MPTABLE_MAX_SIZE + 16];
  memset(out, 0xaa, sizeof out);
  size_t n = mptable_write(out, vcpus);
  ck_assert_uint_gt(n, 0);
  ck_assert_uint_le(n, MPTABLE_MAX_SIZE);
  ck_assert_uint_eq(out[MPTABLE_MAX_SIZE], 0xaa); /* nothing past the KiB */
  /* The floating pointer: "_MP_", the table's address, 1 paragraph, rev 4,
   * bytes summing to 0, feature byte 1 = 0 (a table follows). */
  ck_assert_mem_eq(out, "_MP_", 4);
  ck_assert_uint_eq(get32(out + 4), MPTABLE_ADDR + 16);
  ck_assert_uint_eq(out[8], 1);
  ck_assert_uint_eq(out[9], 4);
  ck_assert_uint_eq(sum(out, 16), 0);
  ck_assert_uint_eq(out[11], 0);
  const uint8_t *t = out + 16;
  uint16_t length = get16(t + 4), count = get16(t + 34);
  ck_assert_mem_eq(t, "PCMP", 4);
  ck_assert_uint_eq(16 + length, n);
  ck_assert_uint_eq(sum(t, length), 0);
  ck_assert_uint_eq(get32(t + 36), MPTABLE_LAPIC_ADDR);
  /* Entries: the processors (the first the BSP), the bus, the IOAPIC, 16
   * ISA interrupts onto its pins, LINT0 and LINT1. */
  ck_assert_uint_eq(count, vcpus + 1 + 1 + 16 + 2);
  const uint8_t *e = t + 44;
  unsigned cpus = 0, buses = 0, ioapics = 0, ints = 0, lints = 0;
  for (unsigned i = 0; i < count; i++) {
    switch (e[0]) {
    case 0:
      ck_assert_uint_eq(e[1], cpus);
      ck_assert_uint_eq(e[3], cpus == 0 ? 3 : 1);
      cpus++;
      e += 20;
      break;
    case 1:
      ck_assert_mem_eq(e + 2, "ISA   ", 6);
      buses++;
      e += 8;
      break;
    case 2:
      ck_assert_uint_eq(e[1], vcpus);
      ck_assert_uint_eq(get32(e + 4), MPTABLE_IOAPIC_ADDR);
      ioapics++;
      e += 8;
      break;
    case 3:
      ck_assert_uint_eq(e[5], ints);
      ck_assert_uint_eq(e[6], vcpus);
      ck_assert_uint_eq(e[7], ints);
      ints++;
      e += 8;
      break;
    case 4:
      ck_assert_uint_eq(e[7], lints);
      lints++;
      e += 8;
      break;
    default:
      ck_abort_msg("entry %u has type %u", i, e[0]);
    }
  }
  ck_assert_uint_eq(e - t, length);
  ck_assert_uint_eq(cpus, vcpus);
  ck_assert_uint_eq(buses, 1);
  ck_assert_uint_eq(ioapics, 1);
  ck_assert_uint_eq(ints, 16);
  ck_assert_uint_eq(lints, 2);
}

START_TEST(mptable_lists_each_vcpu) {
  check_mptable(1);
  check_mptable(2);
  check_mptable(VM_MAX_VCPUS);
  uint8_t out[MPTABLE_MAX_SIZE];
  ck_assert_uint_eq(mptable_write(out, 0), 0);
  ck_assert_uint_eq(mptable_write(out, VM_MAX_VCPUS + 1), 0);
}
END_TEST

static Suite *virtio_suite(void) {
  Suite *s = suite_create("virtio");
  TCase *transport = tcase_create("transport");
  tcase_add_test(transport, transport_identifies_itself);
  tcase_add_test(transport, features_ok_needs_version_1_and_nothing_unoffered);
  tcase_add_test(transport, bad_queue_setups_are_not_ready);
  suite_add_tcase(s, transport);
  TCase *console = tcase_create("console");
  tcase_set_timeout(console, 45);
  tcase_add_test(console, console_transmits_a_split_buffer_and_interrupts);
  tcase_add_test(console, console_receives_into_the_guests_buffers_only);
  tcase_add_test(console, console_takes_what_waited_for_driver_ok);
  tcase_add_test(console, console_back_pressure_keeps_every_byte_in_order);
  tcase_add_test(console, console_tx_stops_at_its_limit);
  tcase_add_test(console, console_io_thread_feeds_the_guest_with_back_pressure);
  suite_add_tcase(s, console);
  TCase *hostile = tcase_create("hostile");
  tcase_add_test(hostile, hostile_buffer_outside_ram);
  tcase_add_test(hostile, hostile_descriptor_loop);
  tcase_add_test(hostile, hostile_chain_longer_than_allowed);
  tcase_add_test(hostile, hostile_ring_indexes);
  tcase_add_test(hostile, hostile_descriptor_flags);
  suite_add_tcase(s, hostile);
  TCase *blk = tcase_create("blk");
  tcase_add_test(blk, blk_reads_writes_flushes_and_names_itself);
  tcase_add_test(blk, blk_refuses_what_it_cannot_do);
  tcase_add_test(blk, blk_hostile_requests_break_the_queue);
  tcase_add_test(blk, blk_missing_image_is_named);
  suite_add_tcase(s, blk);
  TCase *net = tcase_create("net");
  tcase_add_test(net, net_has_its_mac_and_transmits_frames);
  tcase_add_test(net, net_receives_one_frame_per_buffer);
  tcase_add_test(net, net_io_thread_delivers_frames_as_buffers_come);
  suite_add_tcase(s, net);
  TCase *mp = tcase_create("mptable");
  tcase_add_test(mp, mptable_lists_each_vcpu);
  suite_add_tcase(s, mp);
  return s;
}

HULL_SUITE(virtio_suite)
