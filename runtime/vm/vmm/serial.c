/* serial.c — a 16550A UART, as much of it as Linux's 8250 driver (its
 * autoconfig probe included) and early console use.
 *
 * Transmit: a byte written to THR goes to out_fd at once when it takes it;
 * what it does not take (a full socket) waits in a buffer that the I/O
 * thread (serial_io.c) flushes. Nothing is dropped: past SERIAL_TX_LIMIT
 * buffered bytes LSR.THRE reads 0 (the transmitter is busy) until the host
 * catches up, so a driver that honours THRE waits. LSR.TEMT is set only
 * when the buffer is empty, so the guest's tcdrain() means "the host has it".
 *
 * Receive: a 16-byte FIFO (1 byte with FCR's FIFO off) that the I/O thread
 * fills from in_fd, never beyond its room; the guest's reads of RBR make
 * room and wake that thread. Data raises "received data" (at the FCR
 * trigger level) or "character timeout" (below it) in IIR.
 *
 * Loopback (MCR bit 4): transmitted bytes come back as received bytes and
 * the modem status inputs mirror the modem control outputs.
 *
 * The vCPU thread (port I/O) and the I/O thread share the state under
 * s->lock; the IRQ callback is called with it held. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  REG_DATA = 0, /* THR/RBR, DLL when LCR.DLAB */
  REG_IER = 1,  /* DLM when LCR.DLAB */
  REG_IIR = 2,  /* FCR on write */
  REG_LCR = 3,
  REG_MCR = 4,
  REG_LSR = 5,
  REG_MSR = 6,
  REG_SCR = 7,
};

#define LCR_DLAB 0x80
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_RX_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void serial_init(struct serial *s, const char *name, unsigned irq, int in_fd,
                 int out_fd, int (*set_irq)(void *, unsigned, int),
                 void *opaque) {
  *s = (struct serial){
      .name = name,
      .irq = irq,
      .in_fd = in_fd,
      .out_fd = out_fd,
      .wake_fd = -1,
      .set_irq = set_irq,
      .irq_opaque = opaque,
      .dll = 12, /* 9600 baud, what firmware leaves behind */
      .mcr = MCR_OUT2,
  };
  pthread_mutex_init(&s->lock, NULL);
}

void serial_destroy(struct serial *s) {
  pthread_mutex_destroy(&s->lock);
  free(s->tx);
  s->tx = NULL;
  s->tx_len = s->tx_cap = 0;
}

/* ---- state helpers (all with s->lock held) ----------------------------- */

static unsigned rx_capacity(const struct serial *s) {
  return (s->fcr & FCR_FIFO_ENABLE) ? SERIAL_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct serial *s) {
  static const unsigned levels[4] = {1, 4, 8, 14};
  return (s->fcr & FCR_FIFO_ENABLE) ? levels[s->fcr >> 6] : 1;
}

static void wake_io(struct serial *s) { io_wake(s->wake_fd); }

/* The I/O thread waits for room in the FIFO: tell it there is some. */
static void rx_made_room(struct serial *s) {
  if (s->want_room && s->rx_count < rx_capacity(s)) {
    s->want_room = false;
    wake_io(s);
  }
}

static void rx_clear(struct serial *s) {
  s->rx_head = s->rx_count = 0;
  rx_made_room(s);
}

static bool rx_push(struct serial *s, uint8_t byte) {
  if (s->rx_count >= rx_capacity(s))
    return false;
  s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
  s->rx_count++;
  return true;
}

static uint8_t rx_pop(struct serial *s) {
  if (s->rx_count == 0)
    return 0;
  uint8_t byte = s->rx[s->rx_head];
  s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
  s->rx_count--;
  rx_made_room(s);
  return byte;
}

/* The interrupt the guest would see in IIR now, by the 16550's priority:
 * line status, received data, THR empty. IIR_NO_INT when none. */
static uint8_t pending_interrupt(const struct serial *s) {
  if ((s->ier & IER_RLSI) && s->lsr_errors)
    return IIR_RLSI;
  if ((s->ier & IER_RDI) && s->rx_count)
    return s->rx_count >= rx_trigger(s) || !(s->fcr & FCR_FIFO_ENABLE)
               ? IIR_RDI
               : IIR_RX_TIMEOUT;
  if ((s->ier & IER_THRI) && s->thri_pending)
    return IIR_THRI;
  return IIR_NO_INT;
}

/* ISA interrupts are edge-triggered: the line follows "an interrupt is
 * pending", and each new rise is a new interrupt. */
static int update_irq(struct serial *s, hull_error_t *err) {
  int level = pending_interrupt(s) != IIR_NO_INT;
  if (level == s->irq_level || !s->set_irq)
    return 0;
  s->irq_level = level;
  if (s->set_irq(s->irq_opaque, s->irq, level) < 0)
    return hull_error(err, errno, "serial %s: setting IRQ %u", s->name,
                      s->irq);
  return 0;
}

static bool tx_busy(const struct serial *s) {
  return s->tx_len >= SERIAL_TX_LIMIT;
}

static void tx_append(struct serial *s, const uint8_t *buf, size_t len) {
  if (s->tx_len + len > s->tx_cap) {
    s->tx_cap = s->tx_cap ? s->tx_cap * 2 : 4096;
    while (s->tx_cap < s->tx_len + len)
      s->tx_cap *= 2;
    s->tx = xrealloc(s->tx, s->tx_cap);
  }
  memcpy(s->tx + s->tx_len, buf, len);
  s->tx_len += len;
}

static int tx_failed(struct serial *s, hull_error_t *err) {
  return hull_error(err, s->tx_errno, "serial %s: writing its output",
                    s->name);
}

static int transmit(struct serial *s, uint8_t byte, hull_error_t *err) {
  if (s->mcr & MCR_LOOP) {
    /* The byte never leaves the chip: it comes back in, or overruns. */
    if (!rx_push(s, byte))
      s->lsr_errors |= LSR_OE;
    s->thri_pending = true;
    return 0;
  }
  s->bytes_out++;
  if (s->tx_errno)
    return tx_failed(s, err);
  if (s->out_fd >= 0) {
    ssize_t n = s->tx_len ? 0 : io_write_some(s->out_fd, &byte, 1);
    if (n < 0) {
      s->tx_errno = errno;
      return tx_failed(s, err);
    }
    if (n == 0) {
      if (s->tx_len == 0)
        wake_io(s); /* the I/O thread now has output to wait for */
      tx_append(s, &byte, 1);
    }
  }
  s->thri_pending = !tx_busy(s);
  return 0;
}

/* FCR: FIFO enable (switching it empties the FIFOs) and RX FIFO reset. The
 * transmit side has no FIFO to reset: its bytes have left the chip. */
static void write_fcr(struct serial *s, uint8_t value) {
  bool switched = (value ^ s->fcr) & FCR_FIFO_ENABLE;
  s->fcr = value & (FCR_FIFO_ENABLE | 0xc0);
  if (switched || (value & FCR_CLEAR_RX))
    rx_clear(s);
}

int serial_out(struct serial *s, unsigned offset, uint8_t value,
               hull_error_t *err) {
  pthread_mutex_lock(&s->lock);
  bool dlab = s->lcr & LCR_DLAB;
  int r = 0;
  switch (offset) {
  case REG_DATA:
    if (dlab)
      s->dll = value;
    else
      r = transmit(s, value, err);
    break;
  case REG_IER:
    if (dlab) {
      s->dlm = value;
    } else {
      if ((value & IER_THRI) && !(s->ier & IER_THRI) && !tx_busy(s))
        s->thri_pending = true;
      s->ier = value & 0x0f;
    }
    break;
  case REG_IIR:
    write_fcr(s, value);
    break;
  case REG_LCR:
    s->lcr = value;
    break;
  case REG_MCR:
    s->mcr = value & 0x1f;
    break;
  case REG_SCR:
    s->scr = value;
    break;
  default: /* LSR and MSR are read-only */
    break;
  }
  if (r == 0)
    r = update_irq(s, err);
  pthread_mutex_unlock(&s->lock);
  return r;
}

static uint8_t read_iir(struct serial *s) {
  uint8_t fifo = (s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ON : 0;
  uint8_t id = pending_interrupt(s);
  if (id == IIR_THRI)
    s->thri_pending = false; /* reading IIR acknowledges "THR empty" */
  return fifo | id;
}

static uint8_t read_lsr(struct serial *s) {
  uint8_t v = s->lsr_errors;
  s->lsr_errors = 0; /* reading LSR clears the error bits */
  if (s->rx_count)
    v |= LSR_DR;
  if (!tx_busy(s))
    v |= LSR_THRE;
  if (s->tx_len == 0)
    v |= LSR_TEMT;
  return v;
}

/* In loopback the modem inputs follow the modem outputs; otherwise the
 * line looks connected: carrier, DSR and CTS up. */
static uint8_t read_msr(const struct serial *s) {
  if (!(s->mcr & MCR_LOOP))
    return MSR_DCD | MSR_DSR | MSR_CTS;
  uint8_t msr = 0;
  if (s->mcr & MCR_DTR)
    msr |= MSR_DSR;
  if (s->mcr & MCR_RTS)
    msr |= MSR_CTS;
  if (s->mcr & MCR_OUT1)
    msr |= MSR_RI;
  if (s->mcr & MCR_OUT2)
    msr |= MSR_DCD;
  return msr;
}

uint8_t serial_in(struct serial *s, unsigned offset) {
  pthread_mutex_lock(&s->lock);
  bool dlab = s->lcr & LCR_DLAB;
  uint8_t v = 0;
  switch (offset) {
  case REG_DATA: v = dlab ? s->dll : rx_pop(s); break;
  case REG_IER: v = dlab ? s->dlm : s->ier; break;
  case REG_IIR: v = read_iir(s); break;
  case REG_LCR: v = s->lcr; break;
  case REG_MCR: v = s->mcr; break;
  case REG_LSR: v = read_lsr(s); break;
  case REG_MSR: v = read_msr(s); break;
  case REG_SCR: v = s->scr; break;
  }
  hull_error_t ignored = NULL;
  update_irq(s, &ignored); /* a read may lower the line; nobody to tell */
  hull_error_release(&ignored);
  pthread_mutex_unlock(&s->lock);
  return v;
}

/* ---- the host side (the I/O thread) ------------------------------------ */

size_t serial_rx_room(struct serial *s) {
  pthread_mutex_lock(&s->lock);
  size_t room = 0;
  if (s->in_fd >= 0 && !s->in_closed) {
    room = rx_capacity(s) - s->rx_count;
    s->want_room = room == 0;
  }
  pthread_mutex_unlock(&s->lock);
  return room;
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len,
                      hull_error_t *err) {
  pthread_mutex_lock(&s->lock);
  size_t taken = 0;
  while (taken < len && rx_push(s, buf[taken]))
    taken++;
  s->bytes_in += taken;
  if (taken < len)
    s->want_room = true; /* the FIFO shrank under the I/O thread */
  update_irq(s, err);
  pthread_mutex_unlock(&s->lock);
  return taken;
}

void serial_input_closed(struct serial *s) {
  pthread_mutex_lock(&s->lock);
  s->in_closed = true;
  pthread_mutex_unlock(&s->lock);
}

bool serial_tx_pending(struct serial *s) {
  pthread_mutex_lock(&s->lock);
  bool pending = s->tx_len > 0 && !s->tx_errno && s->out_fd >= 0;
  pthread_mutex_unlock(&s->lock);
  return pending;
}

int serial_flush(struct serial *s, hull_error_t *err) {
  pthread_mutex_lock(&s->lock);
  int r = 0;
  bool was_busy = tx_busy(s);
  if (s->tx_len && !s->tx_errno && s->out_fd >= 0) {
    ssize_t n = io_write_some(s->out_fd, s->tx, s->tx_len);
    if (n < 0) {
      s->tx_errno = errno;
      r = tx_failed(s, err);
    } else {
      memmove(s->tx, s->tx + n, s->tx_len - (size_t)n);
      s->tx_len -= (size_t)n;
    }
  }
  if (was_busy && !tx_busy(s)) {
    s->thri_pending = true; /* the transmitter takes bytes again */
    if (r == 0)
      r = update_irq(s, err);
  }
  pthread_mutex_unlock(&s->lock);
  return r;
}
