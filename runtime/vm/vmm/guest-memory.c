/* guest-memory.c — guest RAM as the devices see it: every guest-physical
 * address a device follows (a ring, a descriptor's buffer) is checked here
 * against RAM's size, written so that no sum can wrap. */
#include "runtime/vm/vmm/vmm.h"

void *guest_memory_at(const struct guest_memory *m, uint64_t addr,
                      uint64_t len) {
  if (len > m->size || addr > m->size - len)
    return NULL;
  return m->base + addr;
}
