/* kvm.c — the /dev/kvm side: check the API, create the VM with an
 * in-kernel irqchip and PIT, back guest RAM with anonymous memory, give
 * each vCPU the host's supported CPUID (with its own APIC id) and map its
 * kvm_run page. vCPU 0 is the bootstrap processor; the in-kernel LAPIC
 * keeps the others waiting for the guest's INIT/SIPI. */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Two pages just below 4 GiB that Intel's VMX needs for real-mode
 * emulation (TSS) and unpaged protected mode (identity map); outside RAM. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define CPUID_MAX_ENTRIES 256

static const struct {
  int cap;
  const char *name;
} required_caps[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};

int kvm_open(int *kvm_fd, hull_error_t *err) {
  cleanup_close int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `/dev/kvm`");
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return hull_error(err, 0, "/dev/kvm: API version %d, need %d", version,
                      KVM_API_VERSION);
  for (size_t i = 0; i < sizeof required_caps / sizeof *required_caps; i++)
    if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
      return hull_error(err, 0, "/dev/kvm: %s is not supported",
                        required_caps[i].name);
  *kvm_fd = take_fd(&fd);
  return 0;
}

static int create_devices(struct kvm_vm *vm, hull_error_t *err) {
  if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
    return hull_error(err, errno, "KVM_SET_TSS_ADDR");
  uint64_t identity = KVM_IDENTITY_MAP_ADDR;
  if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
    return hull_error(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
  if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
    return hull_error(err, errno, "KVM_CREATE_IRQCHIP");
  struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
  if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
    return hull_error(err, errno, "KVM_CREATE_PIT2");
  return 0;
}

static int create_memory(struct kvm_vm *vm, uint64_t mem_size,
                         hull_error_t *err) {
  void *mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED)
    return hull_error(err, errno, "mmap %llu MiB of guest memory",
                      (unsigned long long)(mem_size >> 20));
  vm->mem = mem;
  vm->mem_size = mem_size;
  struct kvm_userspace_memory_region region = {
      .slot = 0,
      .guest_phys_addr = 0,
      .memory_size = mem_size,
      .userspace_addr = (uintptr_t)mem,
  };
  if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return hull_error(err, errno, "KVM_SET_USER_MEMORY_REGION");
  return 0;
}

int kvm_create(struct kvm_vm *vm, uint64_t mem_size, hull_error_t *err) {
  *vm = (struct kvm_vm){.kvm_fd = -1, .vm_fd = -1};
  if (kvm_open(&vm->kvm_fd, err) < 0)
    return -1;
  vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
  if (vm->vm_fd < 0)
    return hull_error(err, errno, "KVM_CREATE_VM");
  if (create_devices(vm, err) < 0 || create_memory(vm, mem_size, err) < 0)
    return -1;
  return 0;
}

/* CPUID.1:ECX bits of instructions KVM's emulator cannot execute when a
 * nested /dev/kvm emulates guest memory accesses (cmpxchg16b, xsave...),
 * and of the features that need XSAVE (AVX, FMA, F16C). */
#define CPUID1_ECX_FMA (1u << 12)
#define CPUID1_ECX_PCID (1u << 17)
#define CPUID1_ECX_CX16 (1u << 13)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID1_ECX_F16C (1u << 29)
/* CPUID.7.0:EBX: AVX2 and the AVX-512 family (all XSAVE state), and the
 * instructions the emulator lacks: wrfsbase & co, invpcid, clac/stac. */
#define CPUID7_EBX_FSGSBASE (1u << 0)
#define CPUID7_EBX_AVX2 (1u << 5)
#define CPUID7_EBX_INVPCID (1u << 10)
#define CPUID7_EBX_SMAP (1u << 20)
#define CPUID7_EBX_AVX512 0xdc230000u
#define CPUID7_ECX_RDPID (1u << 22)

/* CPUID leaves that carry the processor's initial APIC id: leaf 1 in
 * EBX[31:24], the x2APIC topology leaves in EDX. KVM_GET_SUPPORTED_CPUID
 * leaves them 0, which would make every vCPU claim to be the BSP's. */
static void set_apic_id(struct kvm_cpuid2 *cpuid, unsigned id) {
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
    if (e->function == 1)
      e->ebx = (e->ebx & 0x00ffffffu) | id << 24;
    else if (e->function == 0xb || e->function == 0x1f)
      e->edx = id;
  }
}

/* What the guest does not see with minimal_cpu: leaf 1's CX16 and the
 * XSAVE family, leaf 7's AVX2/AVX-512, and leaf 0xd (XSAVE state) empty. */
static void hide_emulator_gaps(struct kvm_cpuid2 *cpuid) {
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
    if (e->function == 1)
      e->ecx &= ~(CPUID1_ECX_FMA | CPUID1_ECX_PCID | CPUID1_ECX_CX16 |
                  CPUID1_ECX_XSAVE | CPUID1_ECX_OSXSAVE | CPUID1_ECX_AVX |
                  CPUID1_ECX_F16C);
    else if (e->function == 7 && e->index == 0) {
      e->ebx &= ~(CPUID7_EBX_FSGSBASE | CPUID7_EBX_AVX2 | CPUID7_EBX_INVPCID |
                  CPUID7_EBX_SMAP | CPUID7_EBX_AVX512);
      e->ecx &= ~CPUID7_ECX_RDPID;
    }
    else if (e->function == 0xd)
      e->eax = e->ebx = e->ecx = e->edx = 0;
  }
}

/* The guest sees what the host CPU and KVM can offer, as Firecracker and
 * kvmtool do; KVM fills in the hypervisor leaves itself. */
static int set_cpuid(struct kvm_vm *vm, struct kvm_vcpu *vcpu,
                     bool minimal_cpu, hull_error_t *err) {
  size_t size = sizeof(struct kvm_cpuid2) +
                CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
  cleanup_free struct kvm_cpuid2 *cpuid = xzalloc(size);
  cpuid->nent = CPUID_MAX_ENTRIES;
  if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
    return hull_error(err, errno, "KVM_GET_SUPPORTED_CPUID");
  if (minimal_cpu)
    hide_emulator_gaps(cpuid);
  set_apic_id(cpuid, vcpu->id);
  if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0)
    return hull_error(err, errno, "KVM_SET_CPUID2");
  return 0;
}

int kvm_create_vcpu(struct kvm_vm *vm, bool minimal_cpu, hull_error_t *err) {
  if (vm->nvcpus >= VM_MAX_VCPUS)
    return hull_error(err, 0, "KVM_CREATE_VCPU: at most %d vCPUs",
                      VM_MAX_VCPUS);
  struct kvm_vcpu *vcpu = &vm->vcpus[vm->nvcpus];
  *vcpu = (struct kvm_vcpu){.id = vm->nvcpus};
  vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->id);
  if (vcpu->fd < 0)
    return hull_error(err, errno, "KVM_CREATE_VCPU %u", vcpu->id);
  vm->nvcpus++;
  int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < (int)sizeof(struct kvm_run))
    return hull_error(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
  void *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED, vcpu->fd, 0);
  if (run == MAP_FAILED)
    return hull_error(err, errno, "mmap the vCPU's kvm_run");
  vcpu->run = run;
  vcpu->run_size = (size_t)run_size;
  return set_cpuid(vm, vcpu, minimal_cpu, err);
}

int kvm_set_irq_line(struct kvm_vm *vm, unsigned irq, int level,
                     hull_error_t *err) {
  struct kvm_irq_level line = {.irq = irq, .level = (uint32_t)level};
  if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
    return hull_error(err, errno, "KVM_IRQ_LINE %u", irq);
  return 0;
}

void kvm_destroy(struct kvm_vm *vm) {
  for (unsigned i = 0; i < vm->nvcpus; i++) {
    if (vm->vcpus[i].run)
      munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
    close(vm->vcpus[i].fd);
  }
  if (vm->mem)
    munmap(vm->mem, vm->mem_size);
  if (vm->vm_fd >= 0)
    close(vm->vm_fd);
  if (vm->kvm_fd >= 0)
    close(vm->kvm_fd);
  *vm = (struct kvm_vm){.kvm_fd = -1, .vm_fd = -1};
}

const char *kvm_exit_reason_name(uint32_t reason) {
  switch (reason) {
  case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
  case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
  case KVM_EXIT_IO: return "KVM_EXIT_IO";
  case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
  case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
  case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
  case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
  case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
  case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
  case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
  case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
  case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
  case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
  default: return "unknown KVM exit";
  }
}
