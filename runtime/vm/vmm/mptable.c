/* mptable.c — the Intel MultiProcessor Specification 1.4 tables that tell
 * the guest kernel its processors and interrupt wiring (hull's guest
 * kernel has no ACPI): a floating pointer, then the configuration table
 * with one processor entry per vCPU, one ISA bus, the IOAPIC, ISA IRQ n on
 * IOAPIC pin n (KVM's default routing of GSI n), and each LAPIC's LINT0 as
 * ExtINT (the PIC) and LINT1 as NMI — the layout Firecracker and kvmtool
 * write. The kernel then starts the other vCPUs itself with INIT/SIPI,
 * which KVM's in-kernel LAPIC handles. */
#include "runtime/vm/vmm/vmm.h"

#include <string.h>

#define MP_SPEC_REV 4
#define MP_FLOATING_SIZE 16
#define MP_HEADER_SIZE 44
#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4
#define MP_PROCESSOR_SIZE 20
#define MP_SMALL_ENTRY_SIZE 8
#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define LAPIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define CPU_SIGNATURE 0x600     /* family 6 */
#define CPU_FEATURES 0x201      /* FPU, APIC */
#define ALL_LAPICS 0xff

static uint8_t checksum(const uint8_t *p, size_t len) {
  uint8_t sum = 0;
  for (size_t i = 0; i < len; i++)
    sum += p[i];
  return (uint8_t)-sum;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint8_t *processor(uint8_t *p, unsigned id) {
  p[0] = MP_PROCESSOR;
  p[1] = (uint8_t)id;
  p[2] = LAPIC_VERSION;
  p[3] = MP_CPU_ENABLED | (id == 0 ? MP_CPU_BSP : 0);
  put32(p + 4, CPU_SIGNATURE);
  put32(p + 8, CPU_FEATURES);
  return p + MP_PROCESSOR_SIZE;
}

static uint8_t *interrupt(uint8_t *p, uint8_t kind, uint8_t irqtype,
                          uint8_t bus_irq, uint8_t apic, uint8_t pin) {
  p[0] = kind;
  p[1] = irqtype;
  put16(p + 2, 0); /* polarity and trigger: as the bus says (ISA: edge, high) */
  p[4] = 0;        /* bus 0, the ISA bus */
  p[5] = bus_irq;
  p[6] = apic;
  p[7] = pin;
  return p + MP_SMALL_ENTRY_SIZE;
}

static uint8_t *config_entries(uint8_t *p, unsigned vcpus, uint16_t *count) {
  for (unsigned i = 0; i < vcpus; i++)
    p = processor(p, i);
  memcpy(p, (uint8_t[]){MP_BUS, 0, 'I', 'S', 'A', ' ', ' ', ' '}, 8);
  p += MP_SMALL_ENTRY_SIZE;
  uint8_t ioapic = (uint8_t)vcpus;
  memcpy(p, (uint8_t[]){MP_IOAPIC, ioapic, IOAPIC_VERSION, 1}, 4);
  put32(p + 4, MPTABLE_IOAPIC_ADDR);
  p += MP_SMALL_ENTRY_SIZE;
  for (uint8_t irq = 0; irq < MPTABLE_ISA_IRQS; irq++)
    p = interrupt(p, MP_INTSRC, MP_INT, irq, ioapic, irq);
  p = interrupt(p, MP_LINTSRC, MP_EXTINT, 0, ALL_LAPICS, 0);
  p = interrupt(p, MP_LINTSRC, MP_NMI, 0, ALL_LAPICS, 1);
  *count = (uint16_t)(vcpus + 2 + MPTABLE_ISA_IRQS + 2);
  return p;
}

size_t mptable_write(uint8_t *out, unsigned vcpus) {
  if (vcpus == 0 || vcpus > VM_MAX_VCPUS)
    return 0;
  uint8_t *fp = out, *table = out + MP_FLOATING_SIZE;
  memset(out, 0, MPTABLE_MAX_SIZE);
  uint16_t count;
  uint8_t *end = config_entries(table + MP_HEADER_SIZE, vcpus, &count);
  uint16_t length = (uint16_t)(end - table);
  memcpy(table, "PCMP", 4);
  put16(table + 4, length);
  table[6] = MP_SPEC_REV;
  memcpy(table + 8, "HULL    ", 8);      /* OEM id */
  memcpy(table + 16, "HULL VMM    ", 12); /* product id */
  put16(table + 34, count);
  put32(table + 36, MPTABLE_LAPIC_ADDR);
  table[7] = checksum(table, length);
  memcpy(fp, "_MP_", 4);
  put32(fp + 4, (uint32_t)(MPTABLE_ADDR + MP_FLOATING_SIZE));
  fp[8] = 1; /* length in 16-byte units */
  fp[9] = MP_SPEC_REV;
  fp[10] = checksum(fp, MP_FLOATING_SIZE);
  return (size_t)(end - out);
}
