/* serial.c — an 8250/16550 UART, as much of it as Linux's 8250 driver and
 * early console use: every byte written to THR goes to an fd at once, so
 * the transmitter is always empty (LSR THRE|TEMT) and the "THR empty"
 * interrupt (IRQ 4) is raised whenever the guest enables it or writes.
 * Input comes later. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>

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
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_FIFO_ON 0xc0
#define FCR_FIFO_ENABLE 0x01
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void serial_init(struct serial *s, int out_fd,
                 int (*set_irq)(void *opaque, int level), void *opaque) {
  *s = (struct serial){
      .out_fd = out_fd,
      .set_irq = set_irq,
      .irq_opaque = opaque,
      .dll = 12, /* 9600 baud, what firmware leaves behind */
      .mcr = MCR_OUT2,
  };
}

static bool irq_wanted(const struct serial *s) {
  return (s->ier & IER_THRI) && s->thri_pending;
}

static int update_irq(struct serial *s, hull_error_t *err) {
  int level = irq_wanted(s);
  if (level == s->irq_level || !s->set_irq)
    return 0;
  s->irq_level = level;
  if (s->set_irq(s->irq_opaque, level) < 0)
    return hull_error(err, errno, "serial: raising IRQ %d", SERIAL_COM1_IRQ);
  return 0;
}

static int transmit(struct serial *s, uint8_t byte, hull_error_t *err) {
  s->thri_pending = true;
  if (s->mcr & MCR_LOOP)
    return 0; /* loopback: the byte never leaves the chip */
  s->bytes_out++;
  if (s->out_fd >= 0 && write_all(s->out_fd, &byte, 1) < 0)
    return hull_error(err, errno, "serial: writing the console output");
  return 0;
}

int serial_out(struct serial *s, unsigned offset, uint8_t value,
               hull_error_t *err) {
  bool dlab = s->lcr & LCR_DLAB;
  switch (offset) {
  case REG_DATA:
    if (dlab)
      s->dll = value;
    else if (transmit(s, value, err) < 0)
      return -1;
    break;
  case REG_IER:
    if (dlab) {
      s->dlm = value;
    } else {
      if ((value & IER_THRI) && !(s->ier & IER_THRI))
        s->thri_pending = true;
      s->ier = value & 0x0f;
    }
    break;
  case REG_IIR:
    s->fcr = value;
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
  return update_irq(s, err);
}

static uint8_t read_iir(struct serial *s) {
  uint8_t fifo = (s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ON : 0;
  if (irq_wanted(s)) {
    s->thri_pending = false; /* reading IIR acknowledges "THR empty" */
    return fifo | IIR_THRI;
  }
  return fifo | IIR_NO_INT;
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
  bool dlab = s->lcr & LCR_DLAB;
  uint8_t v = 0;
  switch (offset) {
  case REG_DATA: v = dlab ? s->dll : 0; break;
  case REG_IER: v = dlab ? s->dlm : s->ier; break;
  case REG_IIR: v = read_iir(s); break;
  case REG_LCR: v = s->lcr; break;
  case REG_MCR: v = s->mcr; break;
  case REG_LSR: v = LSR_THRE | LSR_TEMT; break;
  case REG_MSR: v = read_msr(s); break;
  case REG_SCR: v = s->scr; break;
  }
  hull_error_t ignored = NULL;
  update_irq(s, &ignored); /* an IIR read may lower the line */
  hull_error_release(&ignored);
  return v;
}
