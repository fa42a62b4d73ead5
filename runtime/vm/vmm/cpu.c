/* cpu.c — the state the 64-bit boot protocol enters the kernel in: long
 * mode with paging on and an identity map, flat __BOOT_CS/__BOOT_DS
 * segments from a GDT, interrupts off, RSI pointing at boot_params. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_HUGE 0x80ULL
#define IDENTITY_MAP_GIB 4
#define ENTRIES_PER_TABLE 512

/* GDT descriptors: flat, 4 GiB limit; code is 64-bit (L=1), data 32-bit
 * (its size bits are ignored in long mode), the TSS a busy 64-bit one
 * (KVM insists on a usable TR). */
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA 0x00cf93000000ffffULL
#define GDT_TSS 0x008f8b000000ffffULL

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }

static void write_page_tables(uint8_t *mem) {
  memset(mem + VM_PML4_ADDR, 0, 0x1000);
  memset(mem + VM_PDPT_ADDR, 0, 0x1000);
  put64(mem + VM_PML4_ADDR, VM_PDPT_ADDR | PTE_PRESENT | PTE_WRITE);
  for (uint64_t g = 0; g < IDENTITY_MAP_GIB; g++) {
    uint64_t pd = VM_PD_ADDR + g * 0x1000;
    put64(mem + VM_PDPT_ADDR + g * 8, pd | PTE_PRESENT | PTE_WRITE);
    for (uint64_t i = 0; i < ENTRIES_PER_TABLE; i++) {
      uint64_t phys = (g * ENTRIES_PER_TABLE + i) << 21;
      put64(mem + pd + i * 8, phys | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
    }
  }
}

static void write_gdt(uint8_t *mem) {
  uint64_t gdt[] = {0, 0, GDT_CODE64, GDT_DATA, GDT_TSS};
  memcpy(mem + VM_GDT_ADDR, gdt, sizeof gdt);
  memset(mem + VM_IDT_ADDR, 0, 8);
}

void cpu_write_tables(uint8_t *mem) {
  write_page_tables(mem);
  write_gdt(mem);
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type,
                                       bool code) {
  return (struct kvm_segment){
      .base = 0,
      .limit = 0xffffffff,
      .selector = selector,
      .type = type,
      .present = 1,
      .dpl = 0,
      .db = code ? 0 : 1,
      .s = 1,
      .l = code ? 1 : 0,
      .g = 1,
  };
}

static int set_sregs(int vcpu_fd, hull_error_t *err) {
  struct kvm_sregs s;
  if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
    return hull_error(err, errno, "KVM_GET_SREGS");
  s.gdt.base = VM_GDT_ADDR;
  s.gdt.limit = 5 * 8 - 1;
  s.idt.base = VM_IDT_ADDR;
  s.idt.limit = 7;
  s.cs = flat_segment(VM_BOOT_CS, 0xb, true);
  s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(VM_BOOT_DS, 0x3, false);
  s.tr = (struct kvm_segment){
      .limit = 0xfffff, .selector = VM_BOOT_TSS, .type = 0xb, .present = 1};
  s.cr3 = VM_PML4_ADDR;
  s.cr4 = CR4_PAE;
  s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
  s.efer = EFER_LME | EFER_LMA;
  if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
    return hull_error(err, errno, "KVM_SET_SREGS (long mode)");
  return 0;
}

static int set_regs(int vcpu_fd, uint64_t entry, hull_error_t *err) {
  struct kvm_regs r = {
      .rflags = 0x2, /* bit 1 is reserved and must be set; IF off */
      .rip = entry,
      .rsi = VM_BOOT_PARAMS_ADDR,
      .rsp = VM_STACK_ADDR,
      .rbp = VM_STACK_ADDR,
  };
  if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
    return hull_error(err, errno, "KVM_SET_REGS");
  return 0;
}

int cpu_enter_long_mode(int vcpu_fd, uint64_t entry, hull_error_t *err) {
  if (set_sregs(vcpu_fd, err) < 0 || set_regs(vcpu_fd, entry, err) < 0)
    return -1;
  return 0;
}
