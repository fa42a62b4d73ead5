/* vm.c — vm_run(): read the kernel, make the VM and its vCPUs, make the
 * devices, lay out guest memory (the kernel, its command line with the
 * virtio devices on it, the MP table), point vCPU 0 at the 64-bit entry,
 * start the devices' I/O threads, then run the vCPUs, handing port I/O and
 * MMIO to the devices until the guest resets, halts, triple-faults or time
 * runs out.
 *
 * vCPU 0 runs on the calling thread; the others each on a thread of their
 * own, where KVM keeps them waiting for the guest's INIT/SIPI. The first
 * vCPU to see the VM stop says why and kicks the rest out of KVM_RUN with
 * KICK_SIGNAL, which every vCPU thread blocks except inside KVM_RUN. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MEMORY_MIB 128
#define MIN_MEMORY_MIB 4
#define MAX_MEMORY_MIB 3072 /* RAM stays below the 32-bit PCI hole */
#define TIMER_TICK_NS 50000000L
#define NS_PER_SEC 1000000000ULL

/* The signal that kicks the vCPU out of KVM_RUN for the timeout. It stays
 * blocked in this thread except inside KVM_RUN, so it is never delivered,
 * only consumed with sigtimedwait. */
#define KICK_SIGNAL (SIGRTMIN + 7)

struct vm_session;

/* A vCPU other than the BSP, on its own thread. */
struct ap_thread {
  struct vm_session *s;
  struct kvm_vcpu *vcpu;
  pthread_t thread;
  bool started;
};

struct vm_session {
  struct kvm_vm kvm;
  struct guest_memory mem;
  struct vm_devices dev;
  struct serial_io io;
  struct virtio_console console;
  struct virtio_console_io console_io;
  struct virtio_blk blk;
  struct virtio_net nets[VM_MAX_TAPS];
  struct virtio_net_io net_io[VM_MAX_TAPS];
  size_t n_nets;
  uint64_t start_ns, deadline_ns;
  struct vm_exit_info *info;
  bool minimal_cpu;
  timer_t timer;
  bool have_timer, mask_saved;
  sigset_t old_mask;
  pthread_t bsp;
  struct ap_thread aps[VM_MAX_VCPUS];
  /* Set once, by the first vCPU that sees the VM stop. */
  pthread_mutex_t stop_lock;
  atomic_bool stopping;
  enum vm_stop_reason reason;
  char *ap_error;          /* a vCPU thread's error, "vCPU n: ..." */
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

const char *vm_stop_reason_name(enum vm_stop_reason r) {
  switch (r) {
  case VM_STOP_RESET: return "reset";
  case VM_STOP_HALT: return "halt";
  case VM_STOP_SHUTDOWN: return "shutdown (triple fault)";
  case VM_STOP_TIMEOUT: return "timeout";
  }
  return "unknown";
}

static int check_config(const struct vm_config *cfg, hull_error_t *err) {
  if (cfg->vcpus > VM_MAX_VCPUS)
    return hull_error(err, 0, "vm: %u vCPUs requested, at most %d",
                      cfg->vcpus, VM_MAX_VCPUS);
  if (cfg->n_taps > VM_MAX_TAPS)
    return hull_error(err, 0, "vm: %zu network cards, at most %d",
                      cfg->n_taps, VM_MAX_TAPS);
  unsigned mib = cfg->memory_mib ? cfg->memory_mib : DEFAULT_MEMORY_MIB;
  if (mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB)
    return hull_error(err, 0, "vm: memory %u MiB is outside %u..%u MiB", mib,
                      MIN_MEMORY_MIB, MAX_MEMORY_MIB);
  return 0;
}

static int irq_from_device(void *opaque, unsigned irq, int level) {
  cleanup_error hull_error_t err = NULL;
  return kvm_set_irq_line(opaque, irq, level, &err);
}

/* The free ISA IRQ lines the virtio devices take in turn (0-4 and 8 are
 * the PIT, keyboard, cascade, UARTs and RTC; 13 the FPU). */
static const unsigned virtio_irqs[] = {5, 6, 7, 9, 10, 11, 12, 14, 15};
_Static_assert(VM_MAX_VIRTIO <= sizeof virtio_irqs / sizeof *virtio_irqs,
               "an IRQ line for each virtio device");

/* The next device's window and IRQ line. */
static void place_virtio(struct vm_devices *d, uint64_t *base,
                         unsigned *irq) {
  *base = VIRTIO_MMIO_BASE + d->n_virtio * VIRTIO_MMIO_SIZE;
  *irq = virtio_irqs[d->n_virtio];
}

/* COM1: console output only. The agent channel: COM2, or the virtio
 * console. A disk: virtio-blk. Cards: virtio-net. The virtio devices take
 * the windows from VIRTIO_MMIO_BASE up, in that order. */
static int create_devices(struct vm_session *s, const struct vm_config *cfg,
                          int serial_fd, hull_error_t *err) {
  struct vm_devices *d = &s->dev;
  bool virtio_agent = cfg->agent_virtio && cfg->agent_fd >= 0;
  serial_init(&d->com1, "COM1", SERIAL_COM1_IRQ, -1, serial_fd,
              irq_from_device, &s->kvm);
  int com2_fd = virtio_agent ? -1 : cfg->agent_fd;
  serial_init(&d->com2, "COM2", SERIAL_COM2_IRQ, com2_fd, com2_fd,
              irq_from_device, &s->kvm);
  d->have_com2 = com2_fd >= 0;
  uint64_t base;
  unsigned irq;
  if (virtio_agent) {
    place_virtio(d, &base, &irq);
    virtio_console_init(&s->console, &s->mem, base, irq, cfg->agent_fd,
                        cfg->agent_fd, irq_from_device, &s->kvm);
    d->console = &s->console;
    d->virtio[d->n_virtio++] = &s->console.mmio;
  }
  if (cfg->disk_path) {
    place_virtio(d, &base, &irq);
    if (virtio_blk_init(&s->blk, &s->mem, base, irq, cfg->disk_path,
                        cfg->disk_read_only, irq_from_device, &s->kvm,
                        err) < 0)
      return -1;
    d->virtio[d->n_virtio++] = &s->blk.mmio;
  }
  for (size_t i = 0; i < cfg->n_taps; i++) {
    place_virtio(d, &base, &irq);
    virtio_net_init(&s->nets[i], &s->mem, base, irq, cfg->taps[i].fd,
                    cfg->taps[i].mac, irq_from_device, &s->kvm);
    d->virtio[d->n_virtio++] = &s->nets[i].mmio;
    s->n_nets++;
  }
  return 0;
}

static int start_device_io(struct vm_session *s, hull_error_t *err) {
  struct serial *uarts[] = {&s->dev.com1, &s->dev.com2};
  if (serial_io_start(&s->io, uarts, s->dev.have_com2 ? 2 : 1, err) < 0)
    return -1;
  if (s->dev.console &&
      virtio_console_io_start(&s->console_io, s->dev.console, err) < 0)
    return -1;
  for (size_t i = 0; i < s->n_nets; i++)
    if (virtio_net_io_start(&s->net_io[i], &s->nets[i], err) < 0)
      return -1;
  return 0;
}

static void destroy_devices(struct vm_session *s) {
  for (size_t i = 0; i < s->n_nets; i++) {
    virtio_net_io_stop(&s->net_io[i]);
    virtio_net_destroy(&s->nets[i]);
  }
  virtio_console_io_stop(&s->console_io);
  serial_io_stop(&s->io);
  if (s->dev.com1.name) {
    serial_destroy(&s->dev.com1);
    serial_destroy(&s->dev.com2);
  }
  if (s->dev.console)
    virtio_console_destroy(s->dev.console);
  virtio_blk_destroy(&s->blk); /* also one opened, then failed */
}

/* The caller's command line, then each virtio device's announcement. */
static char *full_cmdline(const struct vm_session *s, const char *cmdline) {
  char *line = xstrdup(cmdline ? cmdline : "");
  for (size_t i = 0; i < s->dev.n_virtio; i++) {
    cleanup_free char *device = virtio_mmio_cmdline(s->dev.virtio[i]);
    char *longer = xasprintf("%s%s%s", line, *line ? " " : "", device);
    free(line);
    line = longer;
  }
  return line;
}

static int load_cmdline(struct kvm_vm *vm, const struct kernel_image *img,
                        const char *cmdline, size_t *len, hull_error_t *err) {
  *len = strlen(cmdline);
  size_t max = img->cmdline_size ? img->cmdline_size : VM_CMDLINE_MAX - 1;
  if (max > VM_CMDLINE_MAX - 1)
    max = VM_CMDLINE_MAX - 1;
  if (*len > max)
    return hull_error(err, 0, "kernel command line of %zu bytes: the kernel "
                      "takes at most %zu", *len, max);
  memcpy(vm->mem + VM_CMDLINE_ADDR, cmdline, *len + 1);
  return 0;
}

static int load_initrd(struct kvm_vm *vm, const struct kernel_image *img,
                       const char *path, struct boot_layout *l,
                       hull_error_t *err) {
  if (!path)
    return 0;
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_file(path, &data, &len, err) < 0)
    return hull_error_wrap(err, "initrd");
  if (boot_place_initrd(img, vm->mem_size, len, &l->initrd_addr, err) < 0)
    return hull_error_wrap(err, "initrd `%s`", path);
  memcpy(vm->mem + l->initrd_addr, data, len);
  l->initrd_size = len;
  return 0;
}

/* Everything the guest finds in memory at its first instruction. */
static int load_guest(struct vm_session *s, const struct vm_config *cfg,
                      hull_error_t *err) {
  cleanup_free char *kernel = NULL;
  size_t kernel_len = 0;
  struct kernel_image img;
  if (read_file(cfg->kernel_path, &kernel, &kernel_len, err) < 0)
    return hull_error_wrap(err, "kernel");
  const uint8_t *data = (const uint8_t *)kernel;
  if (boot_parse_kernel(data, kernel_len, cfg->kernel_path, &img, err) < 0)
    return -1;
  struct boot_layout layout = {.mem_size = s->kvm.mem_size,
                               .cmdline_addr = VM_CMDLINE_ADDR};
  cpu_write_tables(s->kvm.mem);
  mptable_write(s->kvm.mem + MPTABLE_ADDR, s->kvm.nvcpus);
  cleanup_free char *cmdline = full_cmdline(s, cfg->cmdline);
  if (boot_load_kernel(s->kvm.mem, s->kvm.mem_size, data, kernel_len, &img,
                       err) < 0)
    return hull_error_wrap(err, "kernel `%s`", cfg->kernel_path);
  if (load_cmdline(&s->kvm, &img, cmdline, &layout.cmdline_len, err) < 0 ||
      load_initrd(&s->kvm, &img, cfg->initrd_path, &layout, err) < 0)
    return -1;
  boot_build_params(s->kvm.mem + VM_BOOT_PARAMS_ADDR, data, kernel_len, &img,
                    &layout);
  return cpu_enter_long_mode(s->kvm.vcpus[0].fd, img.entry, err);
}

/* ---- kicking vCPUs out of KVM_RUN ------------------------------------------ */

/* KVM_RUN runs with mask (KICK_SIGNAL taken out of it): a kick sent while
 * the vCPU runs guest code ends KVM_RUN with EINTR; one sent while its
 * thread is out of KVM_RUN stays pending until it enters again. */
static int unblock_kick_in_run(int vcpu_fd, const sigset_t *mask,
                               hull_error_t *err) {
  uint8_t buf[sizeof(struct kvm_signal_mask) + sizeof(sigset_t)];
  struct kvm_signal_mask *m = (struct kvm_signal_mask *)buf;
  sigset_t in_run = *mask;
  sigdelset(&in_run, KICK_SIGNAL);
  m->len = 8; /* the kernel's sigset_t, not glibc's */
  memcpy(m->sigset, &in_run, sizeof in_run);
  if (ioctl(vcpu_fd, KVM_SET_SIGNAL_MASK, m) < 0)
    return hull_error(err, errno, "KVM_SET_SIGNAL_MASK");
  return 0;
}

/* The BSP's thread (the caller's) blocks the kick outside KVM_RUN. */
static int arm_kick(struct vm_session *s, hull_error_t *err) {
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, KICK_SIGNAL);
  if ((errno = pthread_sigmask(SIG_BLOCK, &kick, &s->old_mask)) != 0)
    return hull_error(err, errno, "blocking the vCPU kick signal");
  s->mask_saved = true;
  s->bsp = pthread_self();
  return unblock_kick_in_run(s->kvm.vcpus[0].fd, &s->old_mask, err);
}

static int start_timer(struct vm_session *s, unsigned timeout_ms,
                       hull_error_t *err) {
  if (timeout_ms == 0)
    return 0;
  s->deadline_ns = s->start_ns + (uint64_t)timeout_ms * 1000000ULL;
  struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID,
                        .sigev_signo = KICK_SIGNAL};
  ev._sigev_un._tid = gettid();
  if (timer_create(CLOCK_MONOTONIC, &ev, &s->timer) < 0)
    return hull_error(err, errno, "timer_create for the VM's timeout");
  s->have_timer = true;
  struct itimerspec tick = {.it_interval = {0, TIMER_TICK_NS},
                            .it_value = {0, TIMER_TICK_NS}};
  if (timer_settime(s->timer, 0, &tick, NULL) < 0)
    return hull_error(err, errno, "timer_settime");
  return 0;
}

static void consume_kick(void) {
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, KICK_SIGNAL);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&kick, NULL, &zero) == KICK_SIGNAL)
    ;
}

static void disarm_kick(struct vm_session *s) {
  if (s->have_timer)
    timer_delete(s->timer);
  if (!s->mask_saved)
    return;
  consume_kick();
  pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* The VM stops: the first caller says why (and, from a vCPU thread, with
 * what error); every other vCPU leaves KVM_RUN. */
static void stop_vm(struct vm_session *s, enum vm_stop_reason reason,
                    const struct kvm_vcpu *vcpu, hull_error_t *err) {
  pthread_mutex_lock(&s->stop_lock);
  if (!atomic_load(&s->stopping)) {
    s->reason = reason;
    if (err && *err)
      s->ap_error = xasprintf("vCPU %u: %s", vcpu->id, (*err)->msg);
    atomic_store(&s->stopping, true);
  }
  pthread_mutex_unlock(&s->stop_lock);
  pthread_t self = pthread_self();
  for (unsigned i = 1; i < s->kvm.nvcpus; i++)
    if (s->aps[i].started && !pthread_equal(s->aps[i].thread, self))
      pthread_kill(s->aps[i].thread, KICK_SIGNAL);
  if (s->kvm.nvcpus > 1 && s->mask_saved && !pthread_equal(s->bsp, self))
    pthread_kill(s->bsp, KICK_SIGNAL);
}

/* ---- the run loop --------------------------------------------------------- */

static int handle_io(struct vm_session *s, struct kvm_run *run,
                     hull_error_t *err) {
  uint8_t *data = (uint8_t *)run + run->io.data_offset;
  bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
  for (uint32_t i = 0; i < run->io.count; i++)
    if (ioport_access(&s->dev, run->io.port, is_write,
                      data + i * run->io.size, run->io.size, err) < 0)
      return -1;
  if (!s->info->ns_to_first_serial && s->dev.com1.bytes_out)
    s->info->ns_to_first_serial = now_ns() - s->start_ns;
  return 0;
}

static int handle_mmio(struct vm_session *s, struct kvm_run *run,
                       hull_error_t *err) {
  unsigned len = run->mmio.len <= sizeof run->mmio.data
                     ? run->mmio.len
                     : (unsigned)sizeof run->mmio.data;
  return mmio_access(&s->dev, run->mmio.phys_addr, run->mmio.is_write,
                     run->mmio.data, len, err);
}

static const char *internal_error_name(uint32_t suberror) {
  switch (suberror) {
  case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
  case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
  case KVM_INTERNAL_ERROR_DELIVERY_EV: return "cannot deliver an event";
  default: return "unexpected exit";
  }
}

static uint64_t guest_rip(const struct kvm_vcpu *vcpu) {
  struct kvm_regs r;
  return ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

/* The bytes at the guest's RIP, as hex ("0f c7 0e ..."), so an emulation
 * failure names the instruction; "?" when RIP is not mapped to RAM. */
static void instruction_bytes(struct vm_session *s,
                              const struct kvm_vcpu *vcpu, uint64_t rip,
                              char *out, size_t size) {
  struct kvm_translation t = {.linear_address = rip};
  snprintf(out, size, "?");
  if (ioctl(vcpu->fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
      t.physical_address >= s->kvm.mem_size)
    return;
  size_t n = s->kvm.mem_size - t.physical_address;
  n = n < 15 ? n : 15; /* the longest x86 instruction */
  size_t used = 0;
  for (size_t i = 0; i < n && used + 4 <= size; i++)
    used += (size_t)snprintf(out + used, size - used, i ? " %02x" : "%02x",
                             s->kvm.mem[t.physical_address + i]);
}

static int guest_died(struct vm_session *s, const struct kvm_vcpu *vcpu,
                      hull_error_t *err) {
  struct kvm_run *run = vcpu->run;
  uint64_t rip = guest_rip(vcpu);
  char insn[64];
  instruction_bytes(s, vcpu, rip, insn, sizeof insn);
  if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
    return hull_error(err, 0,
                      "KVM_RUN: %s at RIP %#llx (exit reason "
                      "KVM_EXIT_INTERNAL_ERROR, suberror %u; bytes at RIP: %s)",
                      internal_error_name(run->internal.suberror),
                      (unsigned long long)rip, run->internal.suberror, insn);
  if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
    return hull_error(err, 0,
                      "KVM_RUN: VM entry failed at RIP %#llx (exit reason "
                      "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx)",
                      (unsigned long long)rip,
                      (unsigned long long)
                          run->fail_entry.hardware_entry_failure_reason);
  return hull_error(err, 0,
                    "KVM_RUN: unexpected exit at RIP %#llx (exit reason %s, "
                    "%u; bytes at RIP: %s)",
                    (unsigned long long)rip,
                    kvm_exit_reason_name(run->exit_reason), run->exit_reason,
                    insn);
}

#define BP_VECTOR 3

/* An emulating /dev/kvm cannot execute the guest's int3 (KVM's emulator
 * has no INT3 outside real mode; Linux uses it in its alternatives
 * self-test and text_poke_bp): with minimal_cpu we do it, stepping over
 * the 0xcc and injecting #BP, a trap that reports the next RIP. */
static int emulate_int3(const struct kvm_vcpu *vcpu, hull_error_t *err) {
  struct kvm_regs regs;
  if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
    return hull_error(err, errno, "KVM_GET_REGS");
  regs.rip++;
  if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
    return hull_error(err, errno, "KVM_SET_REGS");
  struct kvm_vcpu_events ev;
  if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
    return hull_error(err, errno, "KVM_GET_VCPU_EVENTS");
  ev.exception.injected = 1;
  ev.exception.nr = BP_VECTOR;
  ev.exception.has_error_code = 0;
  ev.flags = 0;
  if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
    return hull_error(err, errno, "KVM_SET_VCPU_EVENTS (#BP)");
  return 0;
}

static bool is_int3_emulation_failure(struct vm_session *s,
                                      const struct kvm_vcpu *vcpu) {
  struct kvm_run *run = vcpu->run;
  if (run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
      run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
    return false;
  struct kvm_translation t = {.linear_address = guest_rip(vcpu)};
  return ioctl(vcpu->fd, KVM_TRANSLATE, &t) == 0 && t.valid &&
         t.physical_address < s->kvm.mem_size &&
         s->kvm.mem[t.physical_address] == 0xcc;
}

/* One exit: 1 when the VM has stopped (stop_vm called), 0 to go on. */
static int handle_exit(struct vm_session *s, const struct kvm_vcpu *vcpu,
                       hull_error_t *err) {
  struct kvm_run *run = vcpu->run;
  enum vm_stop_reason reason;
  switch (run->exit_reason) {
  case KVM_EXIT_IO:
    if (handle_io(s, run, err) < 0)
      return -1;
    if (!atomic_load(&s->dev.reset_requested))
      return 0;
    reason = VM_STOP_RESET;
    break;
  case KVM_EXIT_MMIO:
    return handle_mmio(s, run, err);
  case KVM_EXIT_INTR:
    return 0;
  case KVM_EXIT_HLT:
    reason = VM_STOP_HALT;
    break;
  case KVM_EXIT_SHUTDOWN:
    reason = VM_STOP_SHUTDOWN;
    break;
  case KVM_EXIT_SYSTEM_EVENT:
    reason = run->system_event.type == KVM_SYSTEM_EVENT_RESET
                 ? VM_STOP_RESET
                 : VM_STOP_SHUTDOWN;
    break;
  default:
    if (s->minimal_cpu && is_int3_emulation_failure(s, vcpu))
      return emulate_int3(vcpu, err);
    return guest_died(s, vcpu, err);
  }
  stop_vm(s, reason, vcpu, NULL);
  return 1;
}

/* Runs one vCPU until the VM stops (0) or this vCPU fails (-1). Only the
 * BSP keeps the time: the timer's kick goes to its thread. */
static int run_vcpu(struct vm_session *s, const struct kvm_vcpu *vcpu,
                    hull_error_t *err) {
  bool bsp = vcpu->id == 0;
  if (bsp)
    s->info->ns_to_first_run = now_ns() - s->start_ns;
  while (!atomic_load(&s->stopping)) {
    if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
      if (errno != EINTR && errno != EAGAIN)
        return hull_error(err, errno, "KVM_RUN");
      consume_kick();
      if (bsp && s->deadline_ns && now_ns() >= s->deadline_ns)
        stop_vm(s, VM_STOP_TIMEOUT, vcpu, NULL);
      continue;
    }
    __atomic_fetch_add(&s->info->exits, 1, __ATOMIC_RELAXED);
    if (bsp && !s->info->ns_to_first_exit)
      s->info->ns_to_first_exit = now_ns() - s->start_ns;
    int r = handle_exit(s, vcpu, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
  return 0;
}

/* ---- the other vCPUs ------------------------------------------------------ */

static void *ap_main(void *arg) {
  struct ap_thread *ap = arg;
  hull_error_t err = NULL;
  sigset_t all; /* the thread starts with every signal blocked */
  sigfillset(&all);
  if (unblock_kick_in_run(ap->vcpu->fd, &all, &err) < 0 ||
      run_vcpu(ap->s, ap->vcpu, &err) < 0)
    stop_vm(ap->s, VM_STOP_SHUTDOWN, ap->vcpu, &err);
  hull_error_release(&err);
  return NULL;
}

static int start_aps(struct vm_session *s, hull_error_t *err) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = 0;
  for (unsigned i = 1; i < s->kvm.nvcpus && r == 0; i++) {
    struct ap_thread *ap = &s->aps[i];
    *ap = (struct ap_thread){.s = s, .vcpu = &s->kvm.vcpus[i]};
    if ((errno = pthread_create(&ap->thread, NULL, ap_main, ap)) != 0)
      r = hull_error(err, errno, "starting the thread of vCPU %u", i);
    else
      ap->started = true;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return r;
}

static void join_aps(struct vm_session *s) {
  stop_vm(s, VM_STOP_SHUTDOWN, NULL, NULL); /* a no-op if stopped already */
  for (unsigned i = 1; i < s->kvm.nvcpus; i++)
    if (s->aps[i].started) {
      pthread_join(s->aps[i].thread, NULL);
      s->aps[i].started = false;
    }
}

static int create_vcpus(struct vm_session *s, const struct vm_config *cfg,
                        hull_error_t *err) {
  unsigned n = cfg->vcpus ? cfg->vcpus : 1;
  for (unsigned i = 0; i < n; i++)
    if (kvm_create_vcpu(&s->kvm, cfg->minimal_cpu, err) < 0)
      return -1;
  return 0;
}

int vm_run(const struct vm_config *cfg, int serial_fd,
           struct vm_exit_info *info, hull_error_t *err) {
  struct vm_session *s = xzalloc(sizeof *s);
  *s = (struct vm_session){.kvm = {.kvm_fd = -1, .vm_fd = -1},
                           .start_ns = now_ns(), .info = info,
                           .minimal_cpu = cfg->minimal_cpu,
                           .io = {.wake_fd = -1},
                           .console_io = {.wake_fd = -1},
                           .blk = {.fd = -1}};
  for (size_t i = 0; i < VM_MAX_TAPS; i++)
    s->net_io[i].wake_fd = -1;
  pthread_mutex_init(&s->stop_lock, NULL);
  memset(info, 0, sizeof *info);
  int r = -1;
  if (check_config(cfg, err) < 0)
    goto out;
  uint64_t mib = cfg->memory_mib ? cfg->memory_mib : DEFAULT_MEMORY_MIB;
  if (kvm_create(&s->kvm, mib << 20, err) < 0 ||
      create_vcpus(s, cfg, err) < 0)
    goto out;
  s->mem = (struct guest_memory){s->kvm.mem, s->kvm.mem_size};
  if (create_devices(s, cfg, serial_fd, err) < 0 ||
      load_guest(s, cfg, err) < 0 || start_device_io(s, err) < 0 ||
      arm_kick(s, err) < 0 || start_timer(s, cfg->timeout_ms, err) < 0 ||
      start_aps(s, err) < 0)
    goto out;
  r = run_vcpu(s, &s->kvm.vcpus[0], err);
  if (r == 0 && s->ap_error)
    r = hull_error(err, 0, "%s", s->ap_error);
  info->reason = s->reason;
  info->rip = guest_rip(&s->kvm.vcpus[0]);
out:
  join_aps(s);
  disarm_kick(s);
  destroy_devices(s);
  kvm_destroy(&s->kvm);
  pthread_mutex_destroy(&s->stop_lock);
  info->ns_total = now_ns() - s->start_ns;
  free(s->ap_error);
  free(s);
  return r;
}
