/* virtio-blk.c — a virtio block device over a raw image file: read, write,
 * flush and get-id (virtio 1.x, 5.2), served in the vCPU thread that
 * notifies, straight between the file and guest memory (preadv/pwritev on
 * the request's checked buffers).
 *
 * A request is a readable header (type, reserved, sector), data, and a
 * writable status byte, however the driver splits them into descriptors.
 * A request outside the disk, or whose data is not whole sectors, gets
 * IOERR; a write to a read-only disk too; unknown types UNSUPP. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 16
#define SEG_MAX (VIRTQ_MAX_SIZE - 2) /* the header and status take two */

struct request {
  uint32_t type;
  uint64_t sector;
  uint64_t data_len;  /* readable bytes after the header (OUT), or writable
                         bytes before the status (IN, GET_ID) */
};

static struct virtio_blk *blk_of(struct virtio_mmio *t) { return t->opaque; }

/* preadv/pwritev until done; false on an error or a short transfer (the
 * file shrank under us). */
static bool transfer(int fd, bool write, struct iovec *iov, unsigned n,
                     uint64_t offset) {
  while (n) {
    ssize_t r = write ? pwritev(fd, iov, (int)n, (off_t)offset)
                      : preadv(fd, iov, (int)n, (off_t)offset);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    offset += (uint64_t)r;
    size_t left = (size_t)r;
    while (n && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      n--;
    }
    if (n) {
      iov->iov_base = (uint8_t *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

static bool in_disk(const struct virtio_blk *b, const struct request *r) {
  uint64_t sectors = r->data_len / VIRTIO_BLK_SECTOR;
  return r->data_len % VIRTIO_BLK_SECTOR == 0 && r->sector <= b->sectors &&
         sectors <= b->sectors - r->sector;
}

/* Serves one request; returns its status, *written the bytes it put into
 * the guest's buffers before the status byte. */
static uint8_t serve(struct virtio_blk *b, const struct virtq_chain *c,
                     const struct request *r, uint32_t *written) {
  struct iovec iov[VIRTQ_MAX_SIZE];
  *written = 0;
  switch (r->type) {
  case VIRTIO_BLK_T_IN:
  case VIRTIO_BLK_T_OUT: {
    bool out = r->type == VIRTIO_BLK_T_OUT;
    if ((out && b->read_only) || !in_disk(b, r))
      return VIRTIO_BLK_S_IOERR;
    unsigned n = virtq_slice(c, !out, out ? HEADER_SIZE : 0, r->data_len,
                             iov);
    if (r->data_len && n == 0)
      return VIRTIO_BLK_S_IOERR;
    if (!transfer(b->fd, out, iov, n, r->sector * VIRTIO_BLK_SECTOR))
      return VIRTIO_BLK_S_IOERR;
    if (!out)
      *written = (uint32_t)r->data_len;
    return VIRTIO_BLK_S_OK;
  }
  case VIRTIO_BLK_T_FLUSH:
    if (!b->read_only && fdatasync(b->fd) < 0)
      return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
  case VIRTIO_BLK_T_GET_ID: {
    size_t n = r->data_len < sizeof b->id ? r->data_len : sizeof b->id;
    *written = (uint32_t)virtq_copy_in(c, 0, b->id, n);
    return VIRTIO_BLK_S_OK;
  }
  default:
    return VIRTIO_BLK_S_UNSUPP;
  }
}

/* A chain too short for a header and a status byte breaks the queue: there
 * is nowhere to say what went wrong. */
static int parse(const struct virtq_chain *c, struct request *r,
                 hull_error_t *err) {
  uint8_t header[HEADER_SIZE];
  if (c->in_len < 1 ||
      virtq_copy_out(c, 0, header, sizeof header) != sizeof header)
    return hull_error(err, 0, "request %u has no room for its header and "
                      "status", c->head);
  memcpy(&r->type, header, 4);
  memcpy(&r->sector, header + 8, 8);
  r->data_len = r->type == VIRTIO_BLK_T_OUT ? c->out_len - HEADER_SIZE
                                            : c->in_len - 1;
  return 0;
}

static void blk_notify(struct virtio_mmio *t, unsigned qi) {
  struct virtio_blk *b = blk_of(t);
  struct virtqueue *q = &t->queues[qi];
  struct virtq_chain chain;
  bool used = false;
  for (;;) {
    hull_error_t err = NULL;
    struct request r = {0};
    int got = virtq_pop(q, &t->mem, VIRTIO_BLK_REQUEST_MAX, &chain, &err);
    if (got > 0 && parse(&chain, &r, &err) < 0)
      got = -1;
    if (got < 0)
      virtio_mmio_broken(t, qi, &err);
    if (got <= 0)
      break;
    uint32_t written;
    uint8_t status = serve(b, &chain, &r, &written);
    virtq_copy_in(&chain, chain.in_len - 1, &status, 1);
    virtq_push(q, chain.head, written + 1);
    used = true;
  }
  if (used)
    virtio_mmio_used(t, qi);
}

static void put_le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_le64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

int virtio_blk_init(struct virtio_blk *b, const struct guest_memory *mem,
                    uint64_t base, unsigned irq, const char *path,
                    bool read_only,
                    int (*set_irq)(void *opaque, unsigned irq, int level),
                    void *irq_opaque, hull_error_t *err) {
  *b = (struct virtio_blk){.fd = -1, .read_only = read_only};
  b->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  struct stat st;
  if (b->fd < 0 || fstat(b->fd, &st) < 0)
    return hull_error(err, errno, "virtio-blk: open `%s`", path);
  if (!S_ISREG(st.st_mode))
    return hull_error(err, 0, "virtio-blk: `%s` is not a regular file", path);
  b->sectors = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR;
  put_le64(b->config, b->sectors);
  put_le32(b->config + 12, SEG_MAX);
  /* The id is the image's name, as much as fits (no NUL when it is 20). */
  cleanup_free char *copy = xstrdup(path);
  const char *name = basename(copy);
  memcpy(b->id, name, strnlen(name, sizeof b->id));
  const struct virtio_device dev = {
      .name = "virtio-blk",
      .id = VIRTIO_ID_BLOCK,
      .features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH |
                  (read_only ? VIRTIO_BLK_F_RO : 0),
      .nqueues = 1,
      .config = b->config,
      .config_size = sizeof b->config,
      .notify = blk_notify,
  };
  virtio_mmio_init(&b->mmio, &dev, b, mem, base, irq, set_irq, irq_opaque);
  return 0;
}

void virtio_blk_destroy(struct virtio_blk *b) {
  if (b->mmio.dev.name) /* NULL: never initialized, or failed before */
    virtio_mmio_destroy(&b->mmio);
  if (b->fd >= 0)
    close(b->fd);
  b->fd = -1;
}
