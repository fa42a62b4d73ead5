/* probe.c — does /dev/kvm run guest code natively? A few instructions in
 * long mode that any x86-64 CPU executes but KVM's instruction emulator
 * does not (lock cmpxchg16b, popcnt): where /dev/kvm runs the guest on the
 * CPU (real hardware, ordinary nested VMX) they run and the guest resets
 * the VM through the i8042; where it emulates guest code (this project's
 * nested test host) KVM_RUN stops with an emulation failure on the first. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#define PROBE_MEMORY (4ULL << 20) /* the page tables, code and data */
#define PROBE_CODE_ADDR VM_HIGH_RAM
#define PROBE_DATA_ADDR (VM_HIGH_RAM + 0x1000) /* 16-byte aligned */
#define PROBE_MAX_EXITS 64 /* the guest makes two */

/* The guest. It uses no stack and no interrupts: anything unexpected (an
 * exception, with the empty IDT) is a triple fault. */
static const uint8_t probe_code[] = {
    0xbf, 0x00, 0x10, 0x10, 0x00,   /* mov edi, 0x101000 (PROBE_DATA_ADDR) */
    0x31, 0xc0,                     /* xor eax, eax   } rdx:rax = 0, the */
    0x31, 0xd2,                     /* xor edx, edx   } 16 bytes at rdi  */
    0xbb, 0x01, 0x00, 0x00, 0x00,   /* mov ebx, 1     } rcx:rbx = 1, */
    0x31, 0xc9,                     /* xor ecx, ecx   } what goes there */
    0xf0, 0x48, 0x0f, 0xc7, 0x0f,   /* lock cmpxchg16b [rdi] */
    0xf3, 0x48, 0x0f, 0xb8, 0xc3,   /* popcnt rax, rbx */
    0x66, 0xba, 0xf8, 0x03,         /* mov dx, 0x3f8 (COM1) */
    0xb0, 'K',                      /* mov al, 'K' */
    0xee,                           /* out dx, al */
    0xb0, 0xfe,                     /* mov al, 0xfe (pulse reset) */
    0xe6, 0x64,                     /* out 0x64, al (i8042) */
    0xf4,                           /* hlt */
    0xeb, 0xfd,                     /* jmp hlt */
};

static uint64_t guest_rip(struct kvm_vm *vm) {
  struct kvm_regs r;
  return ioctl(vm->vcpus[0].fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

/* Runs the loaded guest: *native when it reaches the reset, not when KVM's
 * emulator gives up on it; anything else is an error naming the exit. */
static int run_probe(struct kvm_vm *vm, bool *native, hull_error_t *err) {
  for (int i = 0; i < PROBE_MAX_EXITS; i++) {
    if (ioctl(vm->vcpus[0].fd, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      return hull_error(err, errno, "probe: KVM_RUN");
    }
    struct kvm_run *run = vm->vcpus[0].run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
      if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x64 &&
          data[0] == 0xfe) {
        *native = true;
        return 0;
      }
      continue; /* the UART byte: it only shows the guest got that far */
    }
    case KVM_EXIT_INTERNAL_ERROR:
      if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
        break;
      log_debug("probe: KVM's emulator stopped at RIP %#llx (code at %#llx)",
                (unsigned long long)guest_rip(vm),
                (unsigned long long)PROBE_CODE_ADDR);
      *native = false;
      return 0;
    default:
      break;
    }
    return hull_error(err, 0, "probe: unexpected exit %s (%u)",
                      kvm_exit_reason_name(run->exit_reason),
                      run->exit_reason);
  }
  return hull_error(err, 0, "probe: the guest did not stop after %d exits",
                    PROBE_MAX_EXITS);
}

int vmm_probe_native(bool *native, hull_error_t *err) {
  struct kvm_vm vm;
  int ret = -1;
  if (kvm_create(&vm, PROBE_MEMORY, err) < 0 ||
      kvm_create_vcpu(&vm, false, err) < 0)
    goto out;
  cpu_write_tables(vm.mem);
  memcpy(vm.mem + PROBE_CODE_ADDR, probe_code, sizeof probe_code);
  memset(vm.mem + PROBE_DATA_ADDR, 0, 16);
  if (cpu_enter_long_mode(vm.vcpus[0].fd, PROBE_CODE_ADDR, err) < 0)
    goto out;
  ret = run_probe(&vm, native, err);
out:
  kvm_destroy(&vm);
  return ret;
}
