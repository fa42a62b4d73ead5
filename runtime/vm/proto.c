/* proto.c — framing for the agent protocol (see proto.h). */
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *vm_frame_type_name(uint32_t type) {
  static const char *const names[] = {
      [VM_FRAME_READY] = "READY",   [VM_FRAME_START] = "START",
      [VM_FRAME_OK] = "OK",         [VM_FRAME_ERROR] = "ERROR",
      [VM_FRAME_STDIN] = "STDIN",   [VM_FRAME_STDOUT] = "STDOUT",
      [VM_FRAME_STDERR] = "STDERR", [VM_FRAME_EXIT] = "EXIT",
      [VM_FRAME_SIGNAL] = "SIGNAL", [VM_FRAME_EXEC] = "EXEC",
      [VM_FRAME_WINSIZE] = "WINSIZE", [VM_FRAME_WINDOW] = "WINDOW",
  };
  if (type < sizeof(names) / sizeof(names[0]) && names[type])
    return names[type];
  return "unknown";
}

char *vm_frame_text(const struct vm_frame *f) {
  char *text = xstrndup((const char *)f->payload, f->len < VM_FRAME_TEXT_MAX
                                                      ? f->len
                                                      : VM_FRAME_TEXT_MAX);
  for (char *p = text; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  return text;
}

size_t vm_stdin_window_add(size_t window, const struct vm_frame *f) {
  struct vm_window_msg w = {0};
  memcpy(&w, f->payload, f->len < sizeof(w) ? f->len : sizeof(w));
  return w.bytes > VM_STDIN_WINDOW - window ? VM_STDIN_WINDOW
                                            : window + w.bytes;
}

/* Room for n more bytes. What is pending moves to the front only when
 * the tail has no room: moving it on every frame would copy a backlog of
 * up to a megabyte per 64 KiB added (a cost a TCG guest feels). */
static void reserve(uint8_t **buf, size_t *off, size_t *len, size_t *cap,
                    size_t n) {
  if (*off > 0 && *off == *len)
    *off = *len = 0;
  if (*len + n <= *cap)
    return;
  if (*off > 0) {
    memmove(*buf, *buf + *off, *len - *off);
    *len -= *off;
    *off = 0;
  }
  if (*len + n <= *cap)
    return;
  size_t want = *cap ? *cap : 4096;
  while (want < *len + n)
    want *= 2;
  *buf = xrealloc(*buf, want);
  *cap = want;
}

void *vm_outq_frame_begin(struct vm_outq *q, size_t max_len) {
  reserve(&q->buf, &q->off, &q->len, &q->cap,
          sizeof(struct vm_frame_header) + max_len);
  return q->buf + q->len + sizeof(struct vm_frame_header);
}

void vm_outq_frame_end(struct vm_outq *q, uint32_t type, uint32_t stream,
                       size_t len) {
  struct vm_frame_header h = {VM_FRAME_MAGIC, type, stream, (uint32_t)len};
  memcpy(q->buf + q->len, &h, sizeof(h));
  q->len += sizeof(h) + len;
}

void vm_outq_frame(struct vm_outq *q, uint32_t type, uint32_t stream,
                   const void *payload, size_t len) {
  struct vm_frame_header h = {VM_FRAME_MAGIC, type, stream, (uint32_t)len};
  reserve(&q->buf, &q->off, &q->len, &q->cap, sizeof(h) + len);
  memcpy(q->buf + q->len, &h, sizeof(h));
  if (len)
    memcpy(q->buf + q->len + sizeof(h), payload, len);
  q->len += sizeof(h) + len;
}

int vm_outq_flush(struct vm_outq *q, int fd, hull_error_t *err) {
  while (q->off < q->len) {
    ssize_t n = write(fd, q->buf + q->off, q->len - q->off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n < 0)
      return hull_error(err, errno, "write to the agent channel");
    q->off += (size_t)n;
  }
  q->off = q->len = 0;
  return 0;
}

void byte_queue_add(struct byte_queue *q, const void *data, size_t len) {
  reserve(&q->buf, &q->off, &q->len, &q->cap, len);
  memcpy(q->buf + q->len, data, len);
  q->len += len;
}

size_t byte_queue_pending(const struct byte_queue *q) {
  return q->len - q->off;
}

void byte_queue_free(struct byte_queue *q) {
  free(q->buf);
  *q = (struct byte_queue){0};
}

size_t vm_outq_pending(const struct vm_outq *q) { return q->len - q->off; }

void vm_outq_free(struct vm_outq *q) {
  free(q->buf);
  *q = (struct vm_outq){0};
}

int vm_inq_read(struct vm_inq *q, int fd, hull_error_t *err) {
  reserve(&q->buf, &q->off, &q->len, &q->cap, 2 * VM_FRAME_MAX_PAYLOAD);
  ssize_t n;
  do
    n = read(fd, q->buf + q->len, q->cap - q->len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return 1;
  if (n < 0)
    return hull_error(err, errno, "read from the agent channel");
  q->len += (size_t)n;
  return n > 0;
}

/* Drops bytes up to the first place the magic starts (or could start). */
static void skip_to_magic(struct vm_inq *q) {
  const uint32_t magic = VM_FRAME_MAGIC;
  while (q->len - q->off >= sizeof(magic) &&
         memcmp(q->buf + q->off, &magic, sizeof(magic)) != 0)
    q->off++;
}

int vm_inq_next(struct vm_inq *q, struct vm_frame *f, hull_error_t *err) {
  if (q->skip_noise)
    skip_to_magic(q);
  struct vm_frame_header h;
  if (q->len - q->off < sizeof(h))
    return 0;
  memcpy(&h, q->buf + q->off, sizeof(h));
  if (h.magic != VM_FRAME_MAGIC)
    return hull_error(err, EPROTO, "agent channel: bad frame magic %#x",
                      h.magic);
  if (h.len > VM_FRAME_MAX_PAYLOAD)
    return hull_error(err, EPROTO, "agent channel: %s frame of %u bytes",
                      vm_frame_type_name(h.type), h.len);
  if (q->len - q->off < sizeof(h) + h.len)
    return 0;
  q->skip_noise = false;
  *f = (struct vm_frame){h.type, h.stream, h.len, q->buf + q->off + sizeof(h)};
  q->off += sizeof(h) + h.len;
  return 1;
}

void vm_inq_free(struct vm_inq *q) {
  free(q->buf);
  *q = (struct vm_inq){0};
}

int vm_frame_send(int fd, uint32_t type, uint32_t stream, const void *payload,
                  size_t len, hull_error_t *err) {
  struct vm_frame_header h = {VM_FRAME_MAGIC, type, stream, (uint32_t)len};
  if (len > VM_FRAME_MAX_PAYLOAD)
    return hull_error(err, EMSGSIZE, "agent channel: %s frame of %zu bytes",
                      vm_frame_type_name(type), len);
  if (write_all(fd, &h, sizeof(h)) < 0 ||
      (len && write_all(fd, payload, len) < 0))
    return hull_error(err, errno, "send %s", vm_frame_type_name(type));
  return 0;
}

int vm_frame_receive(int fd, struct vm_inq *q, struct vm_frame *f,
                     int timeout_ms, hull_error_t *err) {
  for (;;) {
    int got = vm_inq_next(q, f, err);
    if (got != 0)
      return got < 0 ? -1 : 0;
    int n = wait_fd(fd, POLLIN, timeout_ms, "waiting for the VM", err);
    if (n < 0)
      return -1;
    if (n == 0)
      return hull_error(err, ETIMEDOUT, "no answer from the VM");
    int r = vm_inq_read(q, fd, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return hull_error(err, ECONNRESET, "the VM closed the connection");
  }
}
