/* mmio.c — where the guest's MMIO exits go. The LAPIC and IOAPIC are in
 * the kernel (KVM_CREATE_IRQCHIP), so what reaches us is the virtio-mmio
 * windows, and stray accesses to addresses with nothing behind them, which
 * read as all ones and ignore writes, like an empty bus. */
#include "runtime/vm/vmm/vmm.h"

#include <string.h>

static bool in_window(const struct virtio_mmio *t, uint64_t addr,
                      unsigned size) {
  return addr >= t->base && addr - t->base < VIRTIO_MMIO_SIZE &&
         size <= VIRTIO_MMIO_SIZE - (addr - t->base);
}

static struct virtio_mmio *device_at(struct vm_devices *dev, uint64_t addr,
                                     unsigned size) {
  for (size_t i = 0; i < dev->n_virtio; i++)
    if (in_window(dev->virtio[i], addr, size))
      return dev->virtio[i];
  return NULL;
}

int mmio_access(struct vm_devices *dev, uint64_t addr, bool is_write,
                uint8_t *data, unsigned size, hull_error_t *err) {
  struct virtio_mmio *t = device_at(dev, addr, size);
  if (t == NULL) {
    if (!is_write)
      memset(data, 0xff, size);
    return 0;
  }
  if (!is_write) {
    virtio_mmio_read(t, addr - t->base, data, size);
    return 0;
  }
  virtio_mmio_write(t, addr - t->base, data, size);
  /* A notify may have written the console's output: its fd's failure is
   * the VM's, as COM2's is. */
  if (dev->console && t == &dev->console->mmio)
    return virtio_console_output_error(dev->console, err);
  return 0;
}
