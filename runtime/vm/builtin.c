/* builtin.c — the built-in VMM as a backend: a forked child of the monitor
 * runs vm_run() (vmm/), with the guest's console (ttyS0) written to
 * <state dir>/console.log and the agent channel (agent_fd) on a virtio
 * console, the guest's hvc0, when its kernel can find one (else on COM2,
 * ttyS1), and hwConfig.vcpus vCPUs, just as qemu gets them. Its errors go
 * to its stderr, which the monitor reads: on this machine that is KVM's
 * instruction-emulation failure. The monitor's taps (b->nics) become
 * virtio-net cards, as under qemu; a kernel without virtio-mmio devices
 * gets none (the container's interfaces stay unused in its network
 * namespace). */
#include "host.h"
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The monitor's taps as the VMM's cards. */
static int taps_of(const struct vm_boot *b, struct vm_tap *taps,
                   hull_error_t *err) {
  if (b->n_nics > VM_MAX_TAPS)
    return hull_error(err, 0, "the built-in VMM gives a guest at most %d "
                      "network cards; the container's network namespace has "
                      "%zu interfaces for it (name a hypervisor)",
                      VM_MAX_TAPS, b->n_nics);
  for (size_t i = 0; i < b->n_nics; i++) {
    taps[i].fd = b->nics[i].fd;
    memcpy(taps[i].mac, b->nics[i].mac, sizeof taps[i].mac);
  }
  return 0;
}

static int run_vmm(const struct vm_boot *b, hull_error_t *err) {
  const struct vm_settings *s = b->settings;
  struct vm_tap taps[VM_MAX_TAPS];
  if (taps_of(b, taps, err) < 0)
    return -1;
  cleanup_close int console =
      open(b->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (console < 0)
    return hull_error(err, errno, "open `%s`", b->console_log);
  struct vm_config cfg = {
      .kernel_path = b->kernel,
      .initrd_path = b->initrd,
      .cmdline = b->cmdline,
      .memory_mib = (unsigned)(s->memory_bytes >> 20),
      .vcpus = s->vcpus,
      .agent_fd = b->agent_fd,
      .agent_virtio = builtin_agent_on_virtio(s),
      .taps = taps,
      .n_taps = b->n_nics,
  };
  struct vm_exit_info info;
  if (vm_run(&cfg, console, &info, err) < 0) {
    /* A /dev/kvm that emulates guest code (a nested one) fails on the
     * first instruction its emulator lacks: say what would work instead. */
    if (strstr((*err)->msg, "emulation failed")) {
      cleanup_free char *msg = xstrdup((*err)->msg);
      return hull_error(err, 0, "%s: this /dev/kvm emulates guest code and "
                        "cannot run the kernel; name a hypervisor "
                        "(run.oci.vm.hypervisor)", msg);
    }
    return -1;
  }
  /* The agent reboots the guest when the container's process has ended. */
  if (info.reason != VM_STOP_RESET)
    return hull_error(err, 0, "the guest stopped: %s at rip %#llx",
                      vm_stop_reason_name(info.reason),
                      (unsigned long long)info.rip);
  return 0;
}

bool builtin_agent_on_virtio(const struct vm_settings *s) {
  cleanup_free char *release = vm_kernel_release(s->kernel);
  return vm_kernel_has_mmio_cmdline(s->kernel, release) &&
         vm_kernel_builds_in(s->kernel, release, "CONFIG_VIRTIO_CONSOLE");
}

/* Resets through the i8042; the agent's channel is the console's only
 * port, hvc0, named by its path. */
char *builtin_kernel_params(const struct vm_settings *s) {
  if (!builtin_agent_on_virtio(s))
    return xstrdup("reboot=k");
  return xstrdup("reboot=k " VM_CHANNEL_PARAM "=" VM_AGENT_HVC);
}

int builtin_start(const struct vm_boot *b, pid_t *pid, hull_error_t *err) {
  pid_t child = fork();
  if (child < 0)
    return hull_error(err, errno, "fork the built-in VMM");
  if (child == 0) {
    hull_error_t e = NULL;
    if (vm_backend_child_setup(b, &e) < 0 || run_vmm(b, &e) < 0) {
      dprintf(2, "%s\n", e->msg);
      _exit(1);
    }
    _exit(0);
  }
  *pid = child;
  return 0;
}
