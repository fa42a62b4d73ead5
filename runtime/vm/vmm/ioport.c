/* ioport.c — where the guest's port I/O goes. The PIC, PIT and LAPIC live
 * in the kernel (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2), so what reaches us is
 * the UARTs, the keyboard controller's reset line, and probes of hardware we
 * do not have, which read as all ones (an empty ISA bus) and ignore writes.
 * COM2 is absent too when the VM has no agent channel. */
#include "runtime/vm/vmm/vmm.h"

#include <string.h>

#define I8042_DATA 0x60
#define I8042_COMMAND 0x64
#define I8042_CMD_RESET 0xfe
#define I8042_STATUS_SYS 0x04 /* "system flag": self-test passed */

static bool in_range(uint16_t port, uint16_t base, uint16_t count) {
  return port >= base && port < base + count;
}

static int serial_access(struct serial *s, unsigned offset, bool is_write,
                         uint8_t *data, hull_error_t *err) {
  if (is_write)
    return serial_out(s, offset, data[0], err);
  data[0] = serial_in(s, offset);
  return 0;
}

/* Just enough keyboard controller for Linux's reboot: writing 0xfe to the
 * command port pulses the CPU's reset line. Reads say "no data, no input
 * pending", so the kernel's i8042 probe gives up quickly. */
static void i8042_access(struct vm_devices *dev, uint16_t port, bool is_write,
                         uint8_t *data) {
  if (is_write) {
    if (port == I8042_COMMAND && data[0] == I8042_CMD_RESET)
      dev->reset_requested = true;
    return;
  }
  data[0] = port == I8042_COMMAND ? I8042_STATUS_SYS : 0;
}

int ioport_access(struct vm_devices *dev, uint16_t port, bool is_write,
                  uint8_t *data, unsigned size, hull_error_t *err) {
  if (in_range(port, SERIAL_COM1_BASE, 8) && size == 1)
    return serial_access(&dev->com1, port - SERIAL_COM1_BASE, is_write, data,
                         err);
  if (dev->have_com2 && in_range(port, SERIAL_COM2_BASE, 8) && size == 1)
    return serial_access(&dev->com2, port - SERIAL_COM2_BASE, is_write, data,
                         err);
  if (port == I8042_DATA || port == I8042_COMMAND) {
    i8042_access(dev, port, is_write, data);
    return 0;
  }
  /* 0x80 (POST codes), COM3/COM4, VGA, PCI config, ...: absent. */
  if (!is_write)
    memset(data, 0xff, size);
  return 0;
}
