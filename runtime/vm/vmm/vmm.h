/* vmm.h — hull's built-in VMM on /dev/kvm: boots an x86-64 Linux kernel
 * (bzImage or ELF vmlinux, 64-bit boot protocol) with an in-kernel irqchip
 * and PIT, a 16550A UART on 0x3f8 (COM1, ttyS0) as its console, and a second
 * one on 0x2f8 (COM2, ttyS1) as the channel to hull's guest agent.
 *
 * One file per concern (kvmtool's layout):
 *   kvm.c    /dev/kvm, the VM, guest memory, CPUID, the vCPU and KVM_RUN
 *   boot.c   kernel image parsing, loading, boot_params (zero page), e820
 *   cpu.c    long-mode entry state: page tables, GDT, sregs/regs
 *   serial.c the 16550A UART's registers, FIFO and output buffer
 *   serial_io.c the thread that moves the UARTs' bytes to and from their fds
 *   ioport.c port I/O dispatch: UARTs, i8042 reset, ports we absorb
 *   vm.c     vm_run(): the pieces in order, and the run loop
 *   probe.c  vmm_probe_native(): does /dev/kvm run guest code natively?
 *
 * Guest physical memory layout (low addresses are fixed, like Firecracker):
 *   0x00500 GDT   0x00520 IDT   0x07000 boot_params   0x08ff0 initial stack
 *   0x09000 PML4  0x0a000 PDPT  0x0b000..0x0efff four page directories
 *   0x20000 command line        kernel at its preferred address (>= 1 MiB)
 *   initrd at the top of RAM below the kernel's initrd_addr_max. */
#ifndef HULL_VMM_H
#define HULL_VMM_H

#include "runtime/common/common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct vm_config {
  const char *kernel_path;  /* bzImage or ELF vmlinux */
  const char *initrd_path;  /* NULL: none */
  const char *cmdline;      /* NULL: empty */
  unsigned memory_mib;      /* 0: 128 MiB; at most 3072 (below the PCI hole) */
  unsigned vcpus;           /* 0 or 1 for now (SMP needs MP/ACPI tables) */
  unsigned timeout_ms;      /* 0: run until the guest stops */
  /* The agent channel, COM2: what the guest writes to it goes to agent_fd,
   * what agent_fd gives enters its receive FIFO (as fast as the guest reads
   * it; input waits in agent_fd meanwhile). A socket is written with
   * MSG_DONTWAIT (output it does not take is buffered, never dropped);
   * EOF or an error on reading ends the input only. Input that arrives
   * before the guest's driver has set the UART up can be emptied by the
   * driver's own FIFO reset (FCR), as on real hardware: the host speaks
   * after the guest (the agent's READY). -1: no COM2 (its ports
   * read as absent, so Linux registers no ttyS1); 0 is stdin, so callers
   * set it explicitly. */
  int agent_fd;
  /* For a nested /dev/kvm that emulates guest memory accesses (this
   * project's test host): hide from CPUID what KVM's instruction emulator
   * cannot execute (CX16, XSAVE and the AVX family, PCID/INVPCID, FSGSBASE,
   * SMAP, RDPID), and execute the guest's int3 ourselves when the emulator
   * gives up on it. Measured here: Debian's 6.1 kernel then gets from its
   * SLUB cmpxchg16b (~49 s) to a popcnt (~82 s, after the FPU init), with
   * `noxsave clearcpuid=141,145,288,298,308,534` on its command line, as
   * that host does not report every hidden bit. Costs AVX: off unless
   * needed. */
  bool minimal_cpu;
};

enum vm_stop_reason {
  VM_STOP_RESET,     /* the guest wrote 0xfe to the i8042 (port 0x64) */
  VM_STOP_HALT,      /* KVM_EXIT_HLT (only without an in-kernel LAPIC) */
  VM_STOP_SHUTDOWN,  /* triple fault */
  VM_STOP_TIMEOUT,   /* timeout_ms passed */
};

struct vm_exit_info {
  enum vm_stop_reason reason;
  uint64_t ns_to_first_run;    /* vm_run() start until the first KVM_RUN */
  uint64_t ns_to_first_exit;   /* ... until the first exit back to us */
  uint64_t ns_to_first_serial; /* ... until the first UART byte (0: none) */
  uint64_t ns_total;
  uint64_t exits;              /* KVM_RUN returns handled */
  uint64_t rip;                /* the guest's RIP when it stopped */
};

/* Boots cfg's kernel and runs it until it resets, halts, triple-faults or
 * times out; COM1's output goes to serial_fd (-1: discarded), COM2 talks
 * over cfg->agent_fd. Output the fds have not taken when the guest stops is
 * flushed for up to 2 s before vm_run returns. A guest that dies in KVM's
 * instruction emulation is an error that names the exit reason, RIP and
 * the instruction's bytes; so does a failed write to serial_fd/agent_fd
 * (`serial COM2: writing its output: Broken pipe`). With the in-kernel LAPIC, HLT sleeps in the kernel and
 * never reaches us: guests stop by reset (Linux: `reboot=k` and reboot(2),
 * or i8042 0xfe), by triple fault (`reboot=t`), or by the timeout.
 * Runs the vCPU on the calling thread; with a timeout it blocks a realtime
 * signal in that thread for the duration (see vm.c). */
int vm_run(const struct vm_config *cfg, int serial_fd,
           struct vm_exit_info *info, hull_error_t *err);
/* (info->reason means something only when vm_run returned 0; the times
 * and info->rip are filled either way.) */
const char *vm_stop_reason_name(enum vm_stop_reason r);

/* Whether /dev/kvm runs guest code natively (probe.c): a tiny long-mode
 * guest executes lock cmpxchg16b and popcnt, which KVM's instruction
 * emulator lacks, then resets through the i8042. true when it resets,
 * false when KVM_RUN stops on an emulation failure (a nested /dev/kvm that
 * emulates guest code, where Linux cannot boot); an error without a usable
 * /dev/kvm. ~22 ms on this project's test host, nearly all of it making
 * and tearing down the VM (the guest makes one or two exits). */
int vmm_probe_native(bool *native, hull_error_t *err);

/* ---- boot protocol (boot.c) -------------------------------------------- */

#define VM_BOOT_PARAMS_ADDR 0x7000ULL
#define VM_CMDLINE_ADDR 0x20000ULL
#define VM_CMDLINE_MAX 0x10000ULL
#define VM_STACK_ADDR 0x8ff0ULL
#define VM_HIGH_RAM 0x100000ULL  /* 1 MiB */
#define VM_EBDA_START 0x9fc00ULL
#define VM_E820_RAM 1
#define VM_E820_RESERVED 2

enum kernel_kind { KERNEL_BZIMAGE, KERNEL_ELF };

struct kernel_segment {
  uint64_t file_offset, paddr, file_size, mem_size;
};

#define KERNEL_MAX_SEGMENTS 8

struct kernel_image {
  enum kernel_kind kind;
  uint64_t entry;              /* guest-physical 64-bit entry point */
  uint64_t load_addr;          /* bzImage: where the protected-mode part goes */
  size_t nsegments;
  struct kernel_segment segments[KERNEL_MAX_SEGMENTS];
  /* bzImage setup header fields (0 for ELF) */
  uint16_t version;
  uint8_t setup_sects;
  uint16_t xloadflags;
  uint32_t cmdline_size;       /* longest command line the kernel takes */
  uint32_t initrd_addr_max;
  uint64_t pref_address;
  uint32_t init_size;
  /* Where the compressed vmlinux sits in the file (absolute offset), so a
   * host can unpack it and boot the ELF instead, skipping the guest-side
   * decompression (minutes on an emulating /dev/kvm). */
  uint64_t payload_offset;
  uint32_t payload_length;
};

/* Parses an image in memory; path only names it in errors. */
int boot_parse_kernel(const uint8_t *data, size_t len, const char *path,
                      struct kernel_image *out, hull_error_t *err);

struct boot_layout {
  uint64_t mem_size;
  uint64_t cmdline_addr;
  size_t cmdline_len;           /* without the NUL */
  uint64_t initrd_addr, initrd_size;
};

/* Fills the 4 KiB zero page: the kernel's setup header (bzImage), loader
 * fields, the command line pointer, the initrd and the e820 map. */
void boot_build_params(uint8_t *zero_page, const uint8_t *kernel_data,
                       size_t kernel_len, const struct kernel_image *img,
                       const struct boot_layout *layout);
/* Where an initrd of size bytes goes: page-aligned, top of RAM, below the
 * kernel's limit; error when it does not fit above the kernel. */
int boot_place_initrd(const struct kernel_image *img, uint64_t mem_size,
                      uint64_t size, uint64_t *addr, hull_error_t *err);
/* Copies the kernel's segments into guest memory (mem, mem_size bytes). */
int boot_load_kernel(uint8_t *mem, uint64_t mem_size, const uint8_t *data,
                     size_t len, const struct kernel_image *img,
                     hull_error_t *err);

/* The zero page fields we fill, at their offsets in struct boot_params. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_PAYLOAD_OFFSET 0x248
#define BP_PAYLOAD_LENGTH 0x24c
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_ENTRY_SIZE 20

/* ---- CPU entry state (cpu.c) ------------------------------------------- */

#define VM_GDT_ADDR 0x500ULL
#define VM_IDT_ADDR 0x520ULL
#define VM_PML4_ADDR 0x9000ULL
#define VM_PDPT_ADDR 0xa000ULL
#define VM_PD_ADDR 0xb000ULL
#define VM_BOOT_CS 0x10
#define VM_BOOT_DS 0x18
#define VM_BOOT_TSS 0x20

/* Writes identity-mapped page tables (2 MiB pages, the first 4 GiB), a GDT
 * with flat 64-bit code and data, and an empty IDT into guest memory. */
void cpu_write_tables(uint8_t *mem);
/* Puts the vCPU in long mode at entry with RSI = boot_params. */
int cpu_enter_long_mode(int vcpu_fd, uint64_t entry, hull_error_t *err);

/* ---- the UARTs (serial.c, serial_io.c) --------------------------------- */

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_COM2_BASE 0x2f8
#define SERIAL_COM2_IRQ 3
#define SERIAL_FIFO_SIZE 16
/* Buffered output beyond which LSR.THRE reads 0 until the fd takes some. */
#define SERIAL_TX_LIMIT (64 * 1024)

struct serial {
  pthread_mutex_t lock; /* the vCPU thread and the I/O thread share it */
  const char *name;     /* "COM1", in errors */
  unsigned irq;
  int in_fd, out_fd;    /* -1: none */
  int wake_fd;          /* the I/O thread's eventfd, -1 without one */
  uint8_t ier, lcr, mcr, scr, dll, dlm, fcr, lsr_errors;
  bool thri_pending;
  uint8_t rx[SERIAL_FIFO_SIZE];
  unsigned rx_head, rx_count;
  bool want_room;       /* the I/O thread waits for room in rx */
  bool in_closed;       /* EOF or error on in_fd: no more input */
  uint8_t *tx;          /* output out_fd has not taken yet */
  size_t tx_len, tx_cap;
  int tx_errno;         /* out_fd failed: THR writes fail from now on */
  uint64_t bytes_out, bytes_in;
  int (*set_irq)(void *opaque, unsigned irq, int level);
  void *irq_opaque;
  int irq_level;
};

void serial_init(struct serial *s, const char *name, unsigned irq, int in_fd,
                 int out_fd, int (*set_irq)(void *opaque, unsigned irq,
                                            int level),
                 void *opaque);
void serial_destroy(struct serial *s);
/* The guest's port accesses; offset is port - base (0..7). */
int serial_out(struct serial *s, unsigned offset, uint8_t value,
               hull_error_t *err);
uint8_t serial_in(struct serial *s, unsigned offset);
/* The host side: how many bytes the receive FIFO takes now (0 when full,
 * with no in_fd, or after EOF); receive puts bytes in and returns how many
 * it took; input_closed marks EOF; flush writes buffered output. */
size_t serial_rx_room(struct serial *s);
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len,
                      hull_error_t *err);
void serial_input_closed(struct serial *s);
bool serial_tx_pending(struct serial *s);
int serial_flush(struct serial *s, hull_error_t *err);

#define SERIAL_IO_MAX_PORTS 2

struct serial_io_port {
  struct serial *uart;
  uint8_t held[SERIAL_FIFO_SIZE]; /* read, not yet taken by the FIFO */
  size_t held_len;
};

struct serial_io {
  pthread_t thread;
  bool running;
  atomic_bool stop;
  int wake_fd;
  struct serial_io_port ports[SERIAL_IO_MAX_PORTS];
  size_t nports;
};

/* Starts the thread that serves the UARTs' fds; stop joins it, then
 * flushes what output is left (up to 2 s while the fds take it). */
int serial_io_start(struct serial_io *io, struct serial **uarts, size_t n,
                    hull_error_t *err);
void serial_io_stop(struct serial_io *io);

/* ---- KVM (kvm.c) ------------------------------------------------------- */

struct kvm_vm {
  int kvm_fd, vm_fd, vcpu_fd;
  uint8_t *mem;
  uint64_t mem_size;
  struct kvm_run *run;
  size_t run_size;
};

/* Opens /dev/kvm and checks the API version and the extensions we need;
 * the error says what is missing (tests skip on it). */
int kvm_open(int *kvm_fd, hull_error_t *err);
int kvm_create(struct kvm_vm *vm, uint64_t mem_size, hull_error_t *err);
/* minimal_cpu: see struct vm_config. */
int kvm_create_vcpu(struct kvm_vm *vm, bool minimal_cpu, hull_error_t *err);
int kvm_set_irq_line(struct kvm_vm *vm, unsigned irq, int level,
                     hull_error_t *err);
void kvm_destroy(struct kvm_vm *vm);
const char *kvm_exit_reason_name(uint32_t reason);

/* ---- port I/O (ioport.c) ----------------------------------------------- */

struct vm_devices {
  struct serial com1, com2;
  bool have_com2;
  bool reset_requested;
};

/* Handles one port access of the guest; data is in/out. */
int ioport_access(struct vm_devices *dev, uint16_t port, bool is_write,
                  uint8_t *data, unsigned size, hull_error_t *err);

#endif
