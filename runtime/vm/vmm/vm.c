/* vm.c — vm_run(): read the kernel, make the VM, lay out guest memory,
 * point the vCPU at the 64-bit entry, start the UARTs' I/O thread, then run
 * the vCPU, handing port I/O to the devices until the guest resets, halts,
 * triple-faults or time runs out. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
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

struct vm_session {
  struct kvm_vm kvm;
  struct vm_devices dev;
  struct serial_io io;
  uint64_t start_ns, deadline_ns;
  struct vm_exit_info *info;
  bool minimal_cpu;
  timer_t timer;
  bool have_timer, mask_saved;
  sigset_t old_mask;
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
  if (cfg->vcpus > 1)
    return hull_error(err, 0, "vm: %u vCPUs requested, only 1 is supported",
                      cfg->vcpus);
  unsigned mib = cfg->memory_mib ? cfg->memory_mib : DEFAULT_MEMORY_MIB;
  if (mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB)
    return hull_error(err, 0, "vm: memory %u MiB is outside %u..%u MiB", mib,
                      MIN_MEMORY_MIB, MAX_MEMORY_MIB);
  return 0;
}

static int irq_from_serial(void *opaque, unsigned irq, int level) {
  cleanup_error hull_error_t err = NULL;
  return kvm_set_irq_line(opaque, irq, level, &err);
}

/* COM1: console output only. COM2: the agent channel, both ways. */
static int start_uarts(struct vm_session *s, const struct vm_config *cfg,
                       int serial_fd, hull_error_t *err) {
  struct vm_devices *d = &s->dev;
  serial_init(&d->com1, "COM1", SERIAL_COM1_IRQ, -1, serial_fd,
              irq_from_serial, &s->kvm);
  serial_init(&d->com2, "COM2", SERIAL_COM2_IRQ, cfg->agent_fd, cfg->agent_fd,
              irq_from_serial, &s->kvm);
  d->have_com2 = cfg->agent_fd >= 0;
  struct serial *uarts[] = {&d->com1, &d->com2};
  return serial_io_start(&s->io, uarts, d->have_com2 ? 2 : 1, err);
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
  if (boot_load_kernel(s->kvm.mem, s->kvm.mem_size, data, kernel_len, &img,
                       err) < 0)
    return hull_error_wrap(err, "kernel `%s`", cfg->kernel_path);
  if (load_cmdline(&s->kvm, &img, cfg->cmdline ? cfg->cmdline : "",
                   &layout.cmdline_len, err) < 0 ||
      load_initrd(&s->kvm, &img, cfg->initrd_path, &layout, err) < 0)
    return -1;
  boot_build_params(s->kvm.mem + VM_BOOT_PARAMS_ADDR, data, kernel_len, &img,
                    &layout);
  return cpu_enter_long_mode(s->kvm.vcpu_fd, img.entry, err);
}

/* ---- the timeout ---------------------------------------------------------- */

static int kvm_unblock_kick_in_run(int vcpu_fd, const sigset_t *mask,
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

static int start_timer(struct vm_session *s, unsigned timeout_ms,
                       hull_error_t *err) {
  if (timeout_ms == 0)
    return 0;
  s->deadline_ns = s->start_ns + (uint64_t)timeout_ms * 1000000ULL;
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, KICK_SIGNAL);
  if ((errno = pthread_sigmask(SIG_BLOCK, &kick, &s->old_mask)) != 0)
    return hull_error(err, errno, "blocking the vCPU kick signal");
  s->mask_saved = true;
  if (kvm_unblock_kick_in_run(s->kvm.vcpu_fd, &s->old_mask, err) < 0)
    return -1;
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

static void stop_timer(struct vm_session *s) {
  if (s->have_timer)
    timer_delete(s->timer);
  if (!s->mask_saved)
    return;
  consume_kick();
  pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* ---- the run loop --------------------------------------------------------- */

static int handle_io(struct vm_session *s, hull_error_t *err) {
  struct kvm_run *run = s->kvm.run;
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

/* Reads as all ones, writes vanish: MMIO to devices we do not have. */
static void handle_mmio(struct kvm_run *run) {
  if (!run->mmio.is_write)
    memset(run->mmio.data, 0xff, sizeof run->mmio.data);
}

static const char *internal_error_name(uint32_t suberror) {
  switch (suberror) {
  case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
  case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
  case KVM_INTERNAL_ERROR_DELIVERY_EV: return "cannot deliver an event";
  default: return "unexpected exit";
  }
}

static uint64_t guest_rip(struct vm_session *s) {
  struct kvm_regs r;
  return ioctl(s->kvm.vcpu_fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

/* The bytes at the guest's RIP, as hex ("0f c7 0e ..."), so an emulation
 * failure names the instruction; "?" when RIP is not mapped to RAM. */
static void instruction_bytes(struct vm_session *s, uint64_t rip,
                              char *out, size_t size) {
  struct kvm_translation t = {.linear_address = rip};
  snprintf(out, size, "?");
  if (ioctl(s->kvm.vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
      t.physical_address >= s->kvm.mem_size)
    return;
  size_t n = s->kvm.mem_size - t.physical_address;
  n = n < 15 ? n : 15; /* the longest x86 instruction */
  size_t used = 0;
  for (size_t i = 0; i < n && used + 4 <= size; i++)
    used += (size_t)snprintf(out + used, size - used, i ? " %02x" : "%02x",
                             s->kvm.mem[t.physical_address + i]);
}

static int guest_died(struct vm_session *s, hull_error_t *err) {
  struct kvm_run *run = s->kvm.run;
  uint64_t rip = guest_rip(s);
  char insn[64];
  instruction_bytes(s, rip, insn, sizeof insn);
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
static int emulate_int3(struct vm_session *s, hull_error_t *err) {
  struct kvm_regs regs;
  if (ioctl(s->kvm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
    return hull_error(err, errno, "KVM_GET_REGS");
  regs.rip++;
  if (ioctl(s->kvm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
    return hull_error(err, errno, "KVM_SET_REGS");
  struct kvm_vcpu_events ev;
  if (ioctl(s->kvm.vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
    return hull_error(err, errno, "KVM_GET_VCPU_EVENTS");
  ev.exception.injected = 1;
  ev.exception.nr = BP_VECTOR;
  ev.exception.has_error_code = 0;
  ev.flags = 0;
  if (ioctl(s->kvm.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
    return hull_error(err, errno, "KVM_SET_VCPU_EVENTS (#BP)");
  return 0;
}

static bool is_int3_emulation_failure(struct vm_session *s) {
  struct kvm_run *run = s->kvm.run;
  if (run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
      run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
    return false;
  struct kvm_translation t = {.linear_address = guest_rip(s)};
  return ioctl(s->kvm.vcpu_fd, KVM_TRANSLATE, &t) == 0 && t.valid &&
         t.physical_address < s->kvm.mem_size &&
         s->kvm.mem[t.physical_address] == 0xcc;
}

/* One exit: 1 when the VM has stopped (info->reason set), 0 to go on. */
static int handle_exit(struct vm_session *s, hull_error_t *err) {
  struct kvm_run *run = s->kvm.run;
  switch (run->exit_reason) {
  case KVM_EXIT_IO:
    if (handle_io(s, err) < 0)
      return -1;
    if (!s->dev.reset_requested)
      return 0;
    s->info->reason = VM_STOP_RESET;
    return 1;
  case KVM_EXIT_MMIO:
    handle_mmio(run);
    return 0;
  case KVM_EXIT_INTR:
    return 0;
  case KVM_EXIT_HLT:
    s->info->reason = VM_STOP_HALT;
    return 1;
  case KVM_EXIT_SHUTDOWN:
    s->info->reason = VM_STOP_SHUTDOWN;
    return 1;
  case KVM_EXIT_SYSTEM_EVENT:
    s->info->reason = run->system_event.type == KVM_SYSTEM_EVENT_RESET
                          ? VM_STOP_RESET
                          : VM_STOP_SHUTDOWN;
    return 1;
  default:
    if (s->minimal_cpu && is_int3_emulation_failure(s))
      return emulate_int3(s, err);
    return guest_died(s, err);
  }
}

static int run_vcpu(struct vm_session *s, hull_error_t *err) {
  s->info->ns_to_first_run = now_ns() - s->start_ns;
  for (;;) {
    if (ioctl(s->kvm.vcpu_fd, KVM_RUN, 0) < 0) {
      if (errno != EINTR && errno != EAGAIN)
        return hull_error(err, errno, "KVM_RUN");
      consume_kick();
      if (s->deadline_ns && now_ns() >= s->deadline_ns) {
        s->info->reason = VM_STOP_TIMEOUT;
        return 0;
      }
      continue;
    }
    s->info->exits++;
    if (!s->info->ns_to_first_exit)
      s->info->ns_to_first_exit = now_ns() - s->start_ns;
    int r = handle_exit(s, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
}

int vm_run(const struct vm_config *cfg, int serial_fd,
           struct vm_exit_info *info, hull_error_t *err) {
  struct vm_session s = {.start_ns = now_ns(), .info = info,
                         .minimal_cpu = cfg->minimal_cpu,
                         .io = {.wake_fd = -1}};
  memset(info, 0, sizeof *info);
  if (check_config(cfg, err) < 0)
    return -1;
  uint64_t mib = cfg->memory_mib ? cfg->memory_mib : DEFAULT_MEMORY_MIB;
  int r = -1;
  if (kvm_create(&s.kvm, mib << 20, err) < 0 ||
      kvm_create_vcpu(&s.kvm, cfg->minimal_cpu, err) < 0)
    goto out;
  if (load_guest(&s, cfg, err) < 0 ||
      start_uarts(&s, cfg, serial_fd, err) < 0 ||
      start_timer(&s, cfg->timeout_ms, err) < 0)
    goto out;
  r = run_vcpu(&s, err);
  info->rip = guest_rip(&s);
out:
  stop_timer(&s);
  serial_io_stop(&s.io);
  if (s.dev.com1.name) {
    serial_destroy(&s.dev.com1);
    serial_destroy(&s.dev.com2);
  }
  kvm_destroy(&s.kvm);
  info->ns_total = now_ns() - s.start_ns;
  return r;
}
