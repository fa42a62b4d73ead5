/* vmm.h — hull's built-in VMM on /dev/kvm: boots an x86-64 Linux kernel
 * (bzImage or ELF vmlinux, 64-bit boot protocol) on 1..VM_MAX_VCPUS vCPUs
 * (an MP table; the in-kernel irqchip and PIT), a 16550A UART on 0x3f8
 * (COM1, ttyS0) as its console, and hull's agent channel on either a
 * virtio console (hvc0, over virtio-mmio) or a second UART on 0x2f8 (COM2,
 * ttyS1); optionally a virtio-blk disk.
 *
 * One file per concern (kvmtool's layout):
 *   kvm.c    /dev/kvm, the VM, guest memory, CPUID, the vCPUs
 *   boot.c   kernel image parsing, loading, boot_params (zero page), e820
 *   cpu.c    long-mode entry state: page tables, GDT, sregs/regs
 *   mptable.c the Intel MP table: the vCPUs, the IOAPIC, the ISA IRQs
 *   serial.c the 16550A UART's registers, FIFO and output buffer
 *   serial_io.c the thread that moves the UARTs' bytes to and from their fds
 *   ioport.c port I/O dispatch: UARTs, i8042 reset, ports we absorb
 *   mmio.c   MMIO dispatch: the virtio-mmio windows, else nothing
 *   guest-memory.c bounds-checked guest addresses, for devices
 *   virtqueue.c split virtqueues, from the device's side
 *   virtio-mmio.c the virtio-mmio transport's registers
 *   virtio-console.c, virtio-console-io.c the console and its I/O thread
 *   virtio-blk.c a block device over a raw image
 *   virtio-net.c, virtio-net-io.c a network card over a tap, its thread
 *   io-thread.c what the devices' I/O threads share: spawn, wake, poll, stop
 *   vm.c     vm_run(): the pieces in order, and the vCPUs' run loops
 *   probe.c  vmm_probe_native(): does /dev/kvm run guest code natively?
 *
 * Guest physical memory layout (low addresses are fixed, like Firecracker):
 *   0x00500 GDT   0x00520 IDT   0x07000 boot_params   0x08ff0 initial stack
 *   0x09000 PML4  0x0a000 PDPT  0x0b000..0x0efff four page directories
 *   0x20000 command line        0x9fc00 MP table (the EBDA's first KiB)
 *   kernel at its preferred address (>= 1 MiB)
 *   initrd at the top of RAM below the kernel's initrd_addr_max
 *   0xd0000000 + 0x200 n: virtio-mmio device n (the nth free ISA IRQ:
 *   5, 6, 7, 9, ...), above RAM. */
#ifndef HULL_VMM_H
#define HULL_VMM_H

#include "runtime/common/common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

/* A network card: its tap and the MAC the guest sees. */
struct vm_tap {
  int fd;
  uint8_t mac[6];
};

#define VM_MAX_TAPS 4

struct vm_config {
  const char *kernel_path;  /* bzImage or ELF vmlinux */
  const char *initrd_path;  /* NULL: none */
  const char *cmdline;      /* NULL: empty */
  unsigned memory_mib;      /* 0: 128 MiB; at most 3072 (below the PCI hole) */
  unsigned vcpus;           /* 0: 1; at most VM_MAX_VCPUS */
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
  /* The agent channel on a virtio console (the guest's /dev/hvc0) instead
   * of COM2: the same fd semantics, at virtio's speed. The guest kernel
   * needs virtio_mmio with command-line devices and virtio_console built
   * in; vm_run announces the device on its command line. */
  bool agent_virtio;
  /* A raw disk image for a virtio-blk device (the guest's /dev/vda), or
   * NULL; read-only to the guest with disk_read_only. */
  const char *disk_path;
  bool disk_read_only;
  /* Network cards, each a virtio-net device over a tap fd (IFF_TAP |
   * IFF_NO_PI) with the MAC the guest sees. */
  const struct vm_tap *taps;
  size_t n_taps;
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
 * times out; COM1's output goes to serial_fd (-1: discarded), COM2 or the
 * virtio console talks over cfg->agent_fd. Output the fds have not taken
 * when the guest stops is flushed for up to 2 s before vm_run returns. A
 * guest that dies in KVM's instruction emulation is an error that names
 * the exit reason, RIP and the instruction's bytes; so does a failed write
 * to serial_fd/agent_fd (`serial COM2: writing its output: Broken pipe`,
 * `virtio-console: writing its output: ...`); one on another vCPU than
 * the first says which (`vCPU 1: KVM_RUN: ...`). With the in-kernel LAPIC,
 * HLT sleeps in the kernel and never reaches us: guests stop by reset
 * (Linux: `reboot=k` and reboot(2), or i8042 0xfe), by triple fault
 * (`reboot=t`), or by the timeout. Runs vCPU 0 on the calling thread and
 * blocks a realtime signal in that thread for the duration (see vm.c). */
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

/* ---- what the device I/O threads share (io-thread.c) ------------------- */

struct pollfd;

/* Wakes the thread polling wake_fd (an eventfd; -1: no thread, a no-op). */
void io_wake(int wake_fd);
/* Starts fn(arg) with every signal blocked, so the vCPU kick and the
 * caller's handlers stay with the threads that expect them. Returns 0 or
 * an errno value. */
int io_thread_spawn(pthread_t *thread, void *(*fn)(void *), void *arg);
/* One wait of an I/O thread's loop: polls fds, fds[0] being wake_fd, and
 * consumes a wake-up. false: poll failed, the thread should end. An
 * interrupted poll is true with no revents, so the loop goes round. */
bool io_wait(int wake_fd, struct pollfd *fds, unsigned nfds);
/* Tells the thread to stop, wakes it and joins it, if *running. */
void io_thread_stop(pthread_t thread, atomic_bool *stop, bool *running,
                    int wake_fd);
/* read/recv without blocking on a socket, retried on EINTR. */
ssize_t io_read_some(int fd, uint8_t *buf, size_t len);
/* What the fd takes without blocking on a socket (MSG_DONTWAIT) and
 * without SIGPIPE; other fds (a log file) are written as they are. Returns
 * the bytes taken (0: would block) or -1 with errno. */
ssize_t io_write_some(int fd, const uint8_t *buf, size_t len);
/* What a device buffered before it stopped still goes out (its last
 * words, the agent's EXIT), for up to 2 s while out_fd keeps taking it. */
void io_flush_rest(int out_fd, bool (*pending)(void *dev),
                   int (*flush)(void *dev, hull_error_t *err), void *dev);

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

#define VM_MAX_VCPUS 32 /* what the MP table holds in the EBDA's KiB */

struct kvm_vcpu {
  unsigned id;            /* also its APIC id; 0 is the BSP */
  int fd;
  struct kvm_run *run;
  size_t run_size;
};

struct kvm_vm {
  int kvm_fd, vm_fd;
  uint8_t *mem;
  uint64_t mem_size;
  struct kvm_vcpu vcpus[VM_MAX_VCPUS];
  unsigned nvcpus;
};

/* Opens /dev/kvm and checks the API version and the extensions we need;
 * the error says what is missing (tests skip on it). */
int kvm_open(int *kvm_fd, hull_error_t *err);
int kvm_create(struct kvm_vm *vm, uint64_t mem_size, hull_error_t *err);
/* Adds the next vCPU (id nvcpus). minimal_cpu: see struct vm_config. */
int kvm_create_vcpu(struct kvm_vm *vm, bool minimal_cpu, hull_error_t *err);
int kvm_set_irq_line(struct kvm_vm *vm, unsigned irq, int level,
                     hull_error_t *err);
void kvm_destroy(struct kvm_vm *vm);
const char *kvm_exit_reason_name(uint32_t reason);

/* ---- port I/O (ioport.c) ----------------------------------------------- */

struct virtio_mmio;
struct virtio_console;

/* The agent's console, a disk, the cards. */
#define VM_MAX_VIRTIO (2 + VM_MAX_TAPS)

struct vm_devices {
  struct serial com1, com2;
  bool have_com2;
  atomic_bool reset_requested; /* any vCPU may ask */
  struct virtio_mmio *virtio[VM_MAX_VIRTIO]; /* in window order */
  size_t n_virtio;
  struct virtio_console *console; /* among them, or NULL */
};

/* Handles one port access of the guest; data is in/out. */
int ioport_access(struct vm_devices *dev, uint16_t port, bool is_write,
                  uint8_t *data, unsigned size, hull_error_t *err);

/* ---- MMIO (mmio.c) ---------------------------------------------------- */

/* Handles one MMIO access of the guest: a virtio device's window, else
 * nothing there (reads all ones, writes vanish). An error only when the
 * console's out_fd failed (`virtio-console: writing its output: ...`). */
int mmio_access(struct vm_devices *dev, uint64_t addr, bool is_write,
                uint8_t *data, unsigned size, hull_error_t *err);

/* ---- guest memory, as devices see it (guest-memory.c) ------------------ */

/* Guest RAM from the devices' side: guest-physical 0 is base[0]. Devices
 * reach guest memory only through guest_memory_at, so a hostile guest's
 * addresses can never make the VMM read or write outside it. */
struct guest_memory {
  uint8_t *base;
  uint64_t size;
};

/* The host address of guest-physical [addr, addr + len), or NULL when any
 * of it lies outside guest RAM (overflow included). */
void *guest_memory_at(const struct guest_memory *m, uint64_t addr,
                      uint64_t len);

/* ---- split virtqueues (virtqueue.c) ------------------------------------- */

#define VIRTQ_MAX_SIZE 256 /* QueueNumMax of every device */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtqueue {
  /* What the driver wrote through the transport. */
  uint16_t size;                        /* QueueNum */
  bool ready;                           /* QueueReady, once the rings check */
  uint64_t desc_addr, avail_addr, used_addr;
  /* Set by virtq_enable: the rings in host memory. */
  uint8_t *desc, *avail, *used;
  uint16_t last_avail;                  /* the next avail entry we take */
  uint16_t used_idx;                    /* what we last wrote to used->idx */
  bool broken;                          /* the driver broke the rules */
};

/* One descriptor chain: its readable buffers (the device reads them) in
 * iov[0..n_out), then its writable ones in iov[n_out..n_out + n_in). */
struct virtq_chain {
  uint16_t head;
  unsigned n_out, n_in;
  uint64_t out_len, in_len;
  struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Checks the rings the driver set up (size a power of 2 up to
 * VIRTQ_MAX_SIZE, aligned, inside guest memory) and makes the queue ready;
 * -1 without touching it when they do not check. */
int virtq_enable(struct virtqueue *q, const struct guest_memory *m,
                 hull_error_t *err);
/* Forgets everything (a device reset). */
void virtq_reset(struct virtqueue *q);
/* Whether the driver has made a chain available that we have not taken. */
bool virtq_has_chain(struct virtqueue *q);
/* Takes the next available chain: 1 with *c filled, 0 when there is none,
 * -1 when the driver broke the rules (a head or next out of range, a loop
 * or a chain longer than the queue, a buffer outside guest memory, a
 * readable buffer after a writable one, an indirect descriptor we did not
 * offer, more than max_bytes in all, the avail index running ahead by more
 * than the queue's size): the queue is then broken, and stays so until
 * the device is reset. */
int virtq_pop(struct virtqueue *q, const struct guest_memory *m,
              uint64_t max_bytes, struct virtq_chain *c, hull_error_t *err);
/* Gives the chain back to the driver, len bytes written into it. */
void virtq_push(struct virtqueue *q, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for used buffers now. */
bool virtq_wants_interrupt(struct virtqueue *q);

/* Copies between a chain's buffers and flat memory, from offset bytes into
 * its readable (copy_out) or writable (copy_in) part; returns the bytes
 * copied (fewer when the chain ends first). */
size_t virtq_copy_out(const struct virtq_chain *c, uint64_t offset,
                      void *dst, size_t len);
size_t virtq_copy_in(const struct virtq_chain *c, uint64_t offset,
                     const void *src, size_t len);
/* The iovecs of len bytes at offset into the readable (writable = false)
 * or writable part, for preadv/pwritev; returns how many (0: out of range). */
unsigned virtq_slice(const struct virtq_chain *c, bool writable,
                     uint64_t offset, uint64_t len, struct iovec *out);

/* ---- the virtio-mmio transport (virtio-mmio.c) -------------------------- */

/* Where the devices go (kvmtool's layout: one 0x200 window each above RAM,
 * below the IOAPIC, each with its own free ISA IRQ line: 5, 6, 7, 9...). */
#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_SIZE 0x200ULL
#define VIRTIO_MMIO_MAX_QUEUES 2

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_MMIO_VENDOR 0x6c6c7568 /* "hull" */

enum virtio_mmio_reg {
  VIRTIO_MMIO_MAGIC_VALUE = 0x000,
  VIRTIO_MMIO_VERSION_REG = 0x004,
  VIRTIO_MMIO_DEVICE_ID = 0x008,
  VIRTIO_MMIO_VENDOR_ID = 0x00c,
  VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
  VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
  VIRTIO_MMIO_QUEUE_SEL = 0x030,
  VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
  VIRTIO_MMIO_QUEUE_NUM = 0x038,
  VIRTIO_MMIO_QUEUE_READY = 0x044,
  VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
  VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
  VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
  VIRTIO_MMIO_STATUS = 0x070,
  VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
  VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
  VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,
  VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
  VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,
  VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
  VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,
  VIRTIO_MMIO_CONFIG = 0x100,
};

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128
#define VIRTIO_INT_USED 1
#define VIRTIO_INT_CONFIG 2
#define VIRTIO_F_VERSION_1 (1ULL << 32)

struct virtio_mmio;

/* What a device tells the transport about itself. */
struct virtio_device {
  const char *name;       /* "virtio-blk", in messages */
  uint32_t id;            /* VIRTIO_ID_* */
  uint64_t features;      /* device-specific; VERSION_1 is added */
  unsigned nqueues;
  const uint8_t *config;  /* its configuration space, read-only to the guest */
  size_t config_size;
  /* The driver notified queue q (or a host thread asks the device to look
   * at it again); the transport's lock is held. */
  void (*notify)(struct virtio_mmio *t, unsigned q);
  /* The driver reset the device (status 0); the lock is held. */
  void (*reset)(struct virtio_mmio *t);
};

/* One device's window. The vCPU thread (register accesses) and a device's
 * host-side thread share it under lock; set_irq is called with it held. */
struct virtio_mmio {
  pthread_mutex_t lock;
  struct virtio_device dev;
  void *opaque;           /* the device's own state */
  struct guest_memory mem;
  uint64_t base;
  unsigned irq;
  int (*set_irq)(void *opaque, unsigned irq, int level);
  void *irq_opaque;
  int irq_level;
  uint32_t status, device_features_sel, driver_features_sel, queue_sel;
  uint32_t interrupt_status, config_generation;
  uint64_t driver_features;
  struct virtqueue queues[VIRTIO_MMIO_MAX_QUEUES];
  char *last_error;       /* why the device last needed a reset (or NULL) */
};

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *dev,
                      void *opaque, const struct guest_memory *mem,
                      uint64_t base, unsigned irq,
                      int (*set_irq)(void *opaque, unsigned irq, int level),
                      void *irq_opaque);
void virtio_mmio_destroy(struct virtio_mmio *t);
/* The guest's accesses; offset is from base. Registers take 32-bit
 * accesses only (others read 0 and are ignored); the configuration space
 * takes 1, 2, 4 and 8 bytes. */
void virtio_mmio_read(struct virtio_mmio *t, uint64_t offset, uint8_t *data,
                      unsigned size);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t offset,
                       const uint8_t *data, unsigned size);
/* For devices, with the lock held: the driver is up (DRIVER_OK, no reset
 * pending); queue q's used buffers are there (interrupts unless the driver
 * said not to); the driver broke queue q's rules (err says how): the
 * device stops it and asks for a reset (NEEDS_RESET, a config
 * interrupt). */
bool virtio_mmio_running(const struct virtio_mmio *t);
void virtio_mmio_used(struct virtio_mmio *t, unsigned q);
void virtio_mmio_broken(struct virtio_mmio *t, unsigned q, hull_error_t *err);
/* `virtio_mmio.device=<size>@<base>:<irq>`, for the kernel's command line. */
char *virtio_mmio_cmdline(const struct virtio_mmio *t);

/* ---- virtio-console (virtio-console.c, virtio-console-io.c) ------------- */

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_RX 0 /* receiveq: host to guest */
#define VIRTIO_CONSOLE_TX 1 /* transmitq: guest to host */
/* Output buffered for out_fd beyond which the device leaves the guest's
 * transmit buffers in the ring until out_fd takes some. */
#define VIRTIO_CONSOLE_TX_LIMIT (256 * 1024)
/* The most one transmit buffer may carry (Linux sends at most 32 KiB). */
#define VIRTIO_CONSOLE_CHAIN_MAX (1024 * 1024)
#define VIRTIO_CONSOLE_CONFIG_SIZE 12

/* A single-port console (no MULTIPORT): the guest's /dev/hvc0. What the
 * guest transmits goes to out_fd (buffered when out_fd does not take it,
 * never dropped); what in_fd gives fills the guest's receive buffers, only
 * as many bytes as they hold (input waits in in_fd meanwhile). */
struct virtio_console {
  struct virtio_mmio mmio;
  uint8_t config[VIRTIO_CONSOLE_CONFIG_SIZE];
  int in_fd, out_fd;  /* -1: none */
  int wake_fd;        /* the I/O thread's eventfd, -1 without one */
  bool in_closed;     /* EOF or error on in_fd: no more input */
  uint8_t *tx;        /* output out_fd has not taken yet */
  size_t tx_len, tx_cap;
  int tx_errno;       /* out_fd failed: output is dropped from now on */
  uint64_t bytes_in, bytes_out;
};

void virtio_console_init(struct virtio_console *c,
                         const struct guest_memory *mem, uint64_t base,
                         unsigned irq, int in_fd, int out_fd,
                         int (*set_irq)(void *opaque, unsigned irq, int level),
                         void *irq_opaque);
void virtio_console_destroy(struct virtio_console *c);
/* The host side (the I/O thread): whether the guest has a receive buffer
 * waiting; receive fills them from buf and returns how many bytes they
 * took (0 when there are none); input_closed marks in_fd's EOF; flush
 * writes buffered output, then takes the transmit buffers that waited for
 * room. */
bool virtio_console_can_receive(struct virtio_console *c);
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
                              size_t len);
void virtio_console_input_closed(struct virtio_console *c);
bool virtio_console_tx_pending(struct virtio_console *c);
int virtio_console_flush(struct virtio_console *c, hull_error_t *err);
/* -1 with `virtio-console: writing its output: <errno>` once out_fd has
 * failed. */
int virtio_console_output_error(struct virtio_console *c, hull_error_t *err);

/* The thread that moves a console's bytes between its fds and the guest. */
struct virtio_console_io {
  pthread_t thread;
  bool running;
  atomic_bool stop;
  int wake_fd;
  struct virtio_console *console;
  uint8_t held[64 * 1024];  /* read from in_fd, not yet taken by the guest */
  size_t held_len, held_off;
};

int virtio_console_io_start(struct virtio_console_io *io,
                            struct virtio_console *c, hull_error_t *err);
/* Joins the thread, then flushes what output is left (up to 2 s). */
void virtio_console_io_stop(struct virtio_console_io *io);

/* ---- virtio-blk (virtio-blk.c) ------------------------------------------ */

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX (1ULL << 2)
#define VIRTIO_BLK_F_RO (1ULL << 5)
#define VIRTIO_BLK_F_FLUSH (1ULL << 9)
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_CONFIG_SIZE 24
/* The most one request may move (no allocation: it goes straight between
 * the file and guest memory, but a request is served in one exit). */
#define VIRTIO_BLK_REQUEST_MAX (64ULL * 1024 * 1024)

/* A raw image file as a disk of its size rounded down to 512 bytes;
 * requests are served in the vCPU thread that notifies. */
struct virtio_blk {
  struct virtio_mmio mmio;
  uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
  int fd;
  uint64_t sectors;
  bool read_only;
  char id[VIRTIO_BLK_ID_BYTES]; /* the image's name, for GET_ID */
};

/* Opens path (read-only when read_only, which the guest is told); the
 * error names the path. */
int virtio_blk_init(struct virtio_blk *b, const struct guest_memory *mem,
                    uint64_t base, unsigned irq, const char *path,
                    bool read_only,
                    int (*set_irq)(void *opaque, unsigned irq, int level),
                    void *irq_opaque, hull_error_t *err);
void virtio_blk_destroy(struct virtio_blk *b);

/* ---- virtio-net (virtio-net.c, virtio-net-io.c) ------------------------ */

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC (1ULL << 5)
#define VIRTIO_NET_RX 0
#define VIRTIO_NET_TX 1
#define VIRTIO_NET_HDR_SIZE 12 /* struct virtio_net_hdr_v1 */
#define VIRTIO_NET_FRAME_MAX 65536

/* A card whose frames come from and go to a tap (IFF_TAP | IFF_NO_PI: a
 * write never waits, a full queue drops), with the MAC the guest reads
 * from its configuration. */
struct virtio_net {
  struct virtio_mmio mmio;
  uint8_t config[6];  /* the MAC */
  int tap_fd;
  int wake_fd;        /* the I/O thread's eventfd, -1 without one */
  uint64_t frames_in, frames_out, dropped_in, dropped_out;
};

void virtio_net_init(struct virtio_net *n, const struct guest_memory *mem,
                     uint64_t base, unsigned irq, int tap_fd,
                     const uint8_t mac[6],
                     int (*set_irq)(void *opaque, unsigned irq, int level),
                     void *irq_opaque);
void virtio_net_destroy(struct virtio_net *n);
/* The host side (the I/O thread): whether the guest has a receive buffer
 * waiting; receive puts one frame in the next one: true when the frame is
 * done with (delivered, or dropped as larger than the buffer), false when
 * there was no buffer (keep it for later). */
bool virtio_net_can_receive(struct virtio_net *n);
bool virtio_net_receive(struct virtio_net *n, const uint8_t *frame,
                        size_t len);

struct virtio_net_io {
  pthread_t thread;
  bool running;
  atomic_bool stop;
  int wake_fd;
  struct virtio_net *net;
  uint8_t held[VIRTIO_NET_FRAME_MAX]; /* a frame read, not yet delivered */
  size_t held_len;
};

int virtio_net_io_start(struct virtio_net_io *io, struct virtio_net *n,
                        hull_error_t *err);
void virtio_net_io_stop(struct virtio_net_io *io);

/* ---- the MP table (mptable.c) ------------------------------------------- */

#define MPTABLE_ADDR VM_EBDA_START /* where Linux looks: 639 KiB */
#define MPTABLE_MAX_SIZE 1024      /* the EBDA's first KiB */
#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_LAPIC_ADDR 0xfee00000u
#define MPTABLE_ISA_IRQS 16

/* Writes the Intel MP floating pointer and configuration table for vcpus
 * processors (LAPIC ids 0..vcpus-1, the first the BSP), one ISA bus, the
 * IOAPIC (id vcpus) with ISA IRQ n on its pin n, and the LAPICs' LINT0
 * (ExtINT) and LINT1 (NMI) at out, which is guest-physical MPTABLE_ADDR;
 * returns the bytes written (at most MPTABLE_MAX_SIZE), 0 when vcpus is
 * 0 or over VM_MAX_VCPUS. */
size_t mptable_write(uint8_t *out, unsigned vcpus);

#endif
