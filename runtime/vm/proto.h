/* proto.h — the agent protocol: the frames hull's VM monitor on the host
 * and hull's agent in the guest exchange over the agent channel (qemu: a
 * virtio-serial port named VM_AGENT_PORT; the built-in VMM: the guest's
 * second UART, ttyS1), and that hull's commands (`start`, `kill`, `exec`)
 * exchange with the monitor over <state dir>/vm.sock.
 *
 * A frame is a 16-byte header (magic, type, stream, payload length; host
 * byte order: both ends are the same machine or its guest) and a payload
 * of at most VM_FRAME_MAX_PAYLOAD bytes. Streams name processes: 0 is the
 * connection itself, 1 the container's process, 2 and up `exec`s.
 *
 * The conversation (host → guest unless marked):
 *   ← READY  (0)  the agent has the guest container created and waits;
 *                 payload: the guest kernel's release (`uname -r`)
 *   START    (1)  run the container's process    ← OK | ERROR
 *   STDIN    (s)  bytes for s's stdin; an empty payload closes it. At
 *                 most VM_STDIN_WINDOW bytes may be on their way (sent, not
 *                 yet acknowledged by a WINDOW)
 *   ← WINDOW (s)  uint32: s's process took (or, its stdin gone, the agent
 *                 dropped) that many more stdin bytes; the host may send as
 *                 many again. Sent once that is VM_STDIN_ACK or more (a
 *                 frame per write to the port costs a TCG guest): a host
 *                 that waits has a whole window unacknowledged
 *   ← STDOUT, STDERR (s)  s's output; an empty payload: that pipe closed
 *   STDOUT, STDERR (s)  empty: nobody on the host reads that output any
 *                 more; the guest closes it (the writer gets EPIPE)
 *   SIGNAL   (s)  struct vm_signal_msg: deliver a signal to s (all: to every
 *                 process of the container)      ← OK | ERROR
 *   EXEC     (s)  a config.md process object (JSON) to run as s
 *                 ← OK (payload: its guest pid, decimal) | ERROR
 *   WINSIZE  (s)  struct vm_winsize_msg for s's terminal
 *   ← EXIT   (s)  struct vm_exit_msg: s ended (a wait(2) status)
 *   EXIT     (1)  the host read everything up to stream 1's EXIT: the
 *                 guest powers off (a virtio port's last bytes may still
 *                 wait in the hypervisor until then)
 * The monitor passes a command's frames on with the stream renumbered, so
 * a client sees the same conversation for its own stream.
 *
 * Back-pressure: output is lossless and in order because every queue on
 * its way stops taking more at a high-water mark (the agent stops reading
 * the process's pipe, the channel's reader stops reading the channel, and
 * virtio-serial or the UART then holds the guest's writes). Stdin has its
 * window instead: a process that does not read its stdin must not stop the
 * channel, whose SIGNAL frames may be what is to end it. */
#ifndef HULL_VM_PROTO_H
#define HULL_VM_PROTO_H

#include "runtime/common/common.h"

#include <stddef.h>
#include <stdint.h>

#define VM_FRAME_MAGIC 0x6c6c7568u /* "hull" */
#define VM_FRAME_MAX_PAYLOAD (64u * 1024)
#define VM_STREAM_CONTROL 0u
#define VM_STREAM_INIT 1u
#define VM_STREAM_FIRST_EXEC 2u
/* The stdin bytes a stream may have in flight (see WINDOW). */
#define VM_STDIN_WINDOW (1024u * 1024)
/* What the agent acknowledges at least per WINDOW: it owes the host less
 * than this of what the process took. */
#define VM_STDIN_ACK (VM_STDIN_WINDOW / 4)
/* The name of qemu's virtio-serial port for the agent channel; the guest
 * finds it in /sys/class/virtio-ports/<port>/name. */
#define VM_AGENT_PORT "org.hull.agent"
/* The kernel parameter that names that port to the agent (without it the
 * agent channel is ttyS1); the kernel ignores a dotted parameter it does
 * not know and leaves it in /proc/cmdline. */
#define VM_CHANNEL_PARAM "hull.channel"
/* The built-in VMM's agent channel: its virtio console's only port, which
 * has no name; the parameter names its device instead (a value that
 * starts with '/'). */
#define VM_AGENT_HVC "/dev/hvc0"

enum vm_frame_type {
  VM_FRAME_READY = 1,
  VM_FRAME_START,
  VM_FRAME_OK,
  VM_FRAME_ERROR,
  VM_FRAME_STDIN,
  VM_FRAME_STDOUT,
  VM_FRAME_STDERR,
  VM_FRAME_EXIT,
  VM_FRAME_SIGNAL,
  VM_FRAME_EXEC,
  VM_FRAME_WINSIZE,
  VM_FRAME_WINDOW,
};

struct vm_frame_header {
  uint32_t magic, type, stream, len;
};

struct vm_signal_msg {
  int32_t signo;
  uint32_t all; /* 1: every process of the container (`kill --all`) */
};

struct vm_exit_msg {
  int32_t status; /* as wait(2) reports it */
};

struct vm_window_msg {
  uint32_t bytes;
};

struct vm_winsize_msg {
  uint16_t rows, cols;
};

/* One received frame; payload points into the queue it came from and is
 * valid until that queue is read or advanced again. */
struct vm_frame {
  uint32_t type, stream, len;
  const uint8_t *payload;
};

const char *vm_frame_type_name(uint32_t type);
/* A frame's text (an ERROR's, READY's) as the guest may put it before a
 * user on the host: one line of at most VM_FRAME_TEXT_MAX bytes, control
 * characters (a terminal's escape sequences, line breaks) made spaces. */
#define VM_FRAME_TEXT_MAX 1024
char *vm_frame_text(const struct vm_frame *f);
/* The stdin window after the WINDOW frame f: never more than
 * VM_STDIN_WINDOW, whatever the guest claims its process took. */
size_t vm_stdin_window_add(size_t window, const struct vm_frame *f);

/* ---- a growable byte queue: buf[off, len) of cap ------------------------ */

/* The host's relay (stdio for slow readers) and the guest agent (stdin for
 * a process) queue bytes in one; proto.c's queues share its growth. */
struct byte_queue {
  uint8_t *buf;
  size_t off, len, cap;
};
/* Appends, moving what waits to the front only when the tail has no room. */
void byte_queue_add(struct byte_queue *q, const void *data, size_t len);
size_t byte_queue_pending(const struct byte_queue *q);
void byte_queue_free(struct byte_queue *q);

/* ---- outgoing: a byte queue drained without blocking ------------------- */

struct vm_outq {
  uint8_t *buf;
  size_t off, len, cap; /* pending bytes are buf[off, len) */
};

void vm_outq_frame(struct vm_outq *q, uint32_t type, uint32_t stream,
                   const void *payload, size_t len);
/* A frame whose payload is read straight into the queue (no copy): begin
 * returns room for up to max_len payload bytes, end queues the frame with
 * the first len of them; a begin without an end queues nothing. */
void *vm_outq_frame_begin(struct vm_outq *q, size_t max_len);
void vm_outq_frame_end(struct vm_outq *q, uint32_t type, uint32_t stream,
                       size_t len);
/* Writes what fd takes now; 0 also when it would block. */
int vm_outq_flush(struct vm_outq *q, int fd, hull_error_t *err);
size_t vm_outq_pending(const struct vm_outq *q);
void vm_outq_free(struct vm_outq *q);

/* ---- incoming: bytes gathered until a frame is whole -------------------- */

struct vm_inq {
  uint8_t *buf;
  size_t off, len, cap; /* unparsed bytes are buf[off, len) */
  bool skip_noise;      /* drop bytes until the first magic (a UART may
                           carry line noise from before the agent ran) */
};

/* Reads what fd has: 1 read something, 0 end of file, -1 error (EAGAIN is
 * 1 with nothing added). */
int vm_inq_read(struct vm_inq *q, int fd, hull_error_t *err);
/* The next whole frame: 1 and *f filled, 0 none yet, -1 a malformed one. */
int vm_inq_next(struct vm_inq *q, struct vm_frame *f, hull_error_t *err);
void vm_inq_free(struct vm_inq *q);

/* ---- blocking helpers for short conversations (hull's commands) -------- */

int vm_frame_send(int fd, uint32_t type, uint32_t stream, const void *payload,
                  size_t len, hull_error_t *err);
/* Waits for one frame (timeout_ms < 0: forever; a held interrupt,
 * interrupt_hold, ends the wait too); EOF is an error. */
int vm_frame_receive(int fd, struct vm_inq *q, struct vm_frame *f,
                     int timeout_ms, hull_error_t *err);

#endif
