/* qemu.c — the qemu backend (vm.hypervisor.path names a
 * qemu-system-x86_64): a machine with no default devices, the guest's
 * console (ttyS0, where the kernel's boot errors go) in <state
 * dir>/console.log and the agent channel on a virtio-serial port named
 * VM_AGENT_PORT over the socket fd the monitor hands it.
 *
 * The channel was the second UART, whose byte-at-a-time register writes
 * TCG emulates at ~0.2 MB/s; a virtio port moves a whole write (up to 32
 * KiB in the guest's virtio_console) per notification. Every stream's
 * stdio is multiplexed on that one port as the agent's frames rather than
 * given ports of its own: the frames cost 16 bytes per 64 KiB, one port
 * needs one socket through the monitor (which relays every stream anyway:
 * exec's relay talks to it over vm.sock), and an exec needs no port to be
 * free. Back-pressure is the agent protocol's (proto.h).
 *
 * The machine is a `microvm` when the kernel is an ELF with a PVH entry
 * (a vmlinux, or what vm_unpacked_kernel makes of a bzImage): no firmware
 * to speak of, no PCI, no ACPI, no i8042 — under TCG its boot is ~0.4 s
 * shorter than a `pc`'s, whose SeaBIOS, PCI bus and ACPI tables the
 * kernel walks. A kernel without a PVH entry, or hypervisor parameters
 * that name their own machine, get the `pc`.
 *
 * Acceleration is KVM where /dev/kvm runs guest code natively (real
 * hardware, ordinary nested VMX: Linux boots in a fraction of a second),
 * and TCG otherwise — without /dev/kvm, or where it emulates guest code
 * (a nested /dev/kvm like this project's test host's, on which Linux dies
 * at its first cmpxchg16b). vmm_probe_native tells them apart with a tiny
 * guest, once per host boot (qemu_kvm_native caches the answer). An
 * `-accel` in vm.hypervisor.parameters replaces our accel=.
 *
 * The container's network interfaces come as taps (net.c): each a
 * virtio-net card with the interface's MAC over `-netdev tap,fd=N`. The
 * container's rootfs and bind sources come as virtio-9p devices served by
 * qemu itself, or as virtio-fs devices served by a virtiofsd each
 * (push_shares; share.c, virtiofs.c); vm.image is a virtio-blk disk
 * (push_disk). The VM is a pc unless the guest kernel reads virtio-mmio
 * devices from its command line (qemu_needs_pci, vm_boot.pci). */
#include "host.h"
#include "netns/netns.h"
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

static void push(char ***v, size_t *n, char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

static bool params_have(char *const *params, const char *a, const char *b) {
  for (size_t i = 0; params && params[i]; i++) {
    const char *p = params[i];
    /* qemu takes both -opt and --opt */
    if (p[0] == '-' && p[1] == '-')
      p++;
    if (strcmp(p, a) == 0 || (b && strcmp(p, b) == 0))
      return true;
  }
  return false;
}

bool qemu_uses_microvm(const struct vm_settings *s, bool pvh_kernel) {
  return pvh_kernel && !params_have(s->hypervisor_params, "-M", "-machine");
}

bool qemu_needs_pci(const struct vm_settings *s, bool pvh_kernel) {
  if (s->hypervisor == NULL || !qemu_uses_microvm(s, pvh_kernel))
    return false;
  cleanup_free char *release = vm_kernel_release(s->kernel);
  return !vm_kernel_has_mmio_cmdline(s->kernel, release);
}

/* The host's TSC rate in kHz, or 0 when it is not a constant one. Under
 * TCG the guest's TSC is the host's (qemu's rdtsc returns the host's
 * counter), and under KVM it runs at the host's rate too. */
static unsigned long host_tsc_khz(void) {
#if defined(__x86_64__)
  cleanup_free char *cpuinfo = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file("/proc/cpuinfo", &cpuinfo, NULL, &err) < 0 ||
      strstr(cpuinfo, " constant_tsc") == NULL ||
      strstr(cpuinfo, " nonstop_tsc") == NULL)
    return 0;
  /* 10 ms against the raw monotonic clock: within a few ppm here. */
  struct timespec t0, t1, nap = {0, 10 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
  uint64_t c0 = __rdtsc();
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, &nap) == EINTR)
    ;
  uint64_t c1 = __rdtsc();
  clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
  int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
               (t1.tv_nsec - t0.tv_nsec);
  if (ns <= 0 || c1 <= c0)
    return 0;
  unsigned long khz = (unsigned long)((c1 - c0) * 1000000.0 / (double)ns);
  /* A rate no x86 TSC has is a broken measurement. */
  return khz >= 100000 && khz <= 10000000 ? khz : 0;
#else
  return 0;
#endif
}

/* no_timer_check: the kernel's check that the PIT's interrupt arrives
 * through the IO-APIC busy-waits some ticks (~20 ms of a TCG boot); qemu
 * wires it to pin 2 as the MP table and ACPI say, on either machine. */
static char *machine_kernel_params(const struct vm_settings *s,
                                   bool pvh_kernel) {
  if (!qemu_uses_microvm(s, pvh_kernel))
    return xstrdup("reboot=k no_timer_check");
  /* No i8042 to reset through: a triple fault resets, and qemu, run with
   * -no-reboot, exits. (reboot=k would fall through to a BIOS restart,
   * which reboots the guest instead.) */
  unsigned long khz = host_tsc_khz();
  if (khz == 0)
    return xstrdup("reboot=t no_timer_check");
  /* A microvm has no HPET or PM timer to calibrate the TSC against (the
   * kernel would mark it unstable and keep time in jiffies): tell it the
   * rate, and that it can be trusted, since the only watchdog it could
   * check it against is the jiffies TCG delivers late. */
  return xasprintf("reboot=t no_timer_check tsc_early_khz=%lu tsc=reliable",
                   khz);
}

/* What spares a TCG guest's boot the kernel's work that emulation makes
 * slow (KVM runs it at native speed, and has the TSC-deadline timer that
 * needs no calibration):
 * noapictimer: no local APIC timer, whose calibration (TCG offers no
 *   TSC-deadline timer) counts 100 ms of PIT ticks and checks it over 100
 *   more. The PIT is the tick then, broadcast to the other vCPUs by IPI.
 * noreplace-smp: with one vCPU the kernel would rewrite each of its ~4000
 *   lock prefixes, one text_poke (a page-table switch and a TLB flush)
 *   each: ~50 ms of TCG. */
static const char tcg_kernel_params[] = "noapictimer noreplace-smp";

/* The agent finds its channel by the port's name (guest/boot.c). */
char *qemu_kernel_params(const struct vm_settings *s, bool pvh_kernel,
                         bool kvm) {
  cleanup_free char *machine = machine_kernel_params(s, pvh_kernel);
  return xasprintf("%s%s%s " VM_CHANNEL_PARAM "=" VM_AGENT_PORT, machine,
                   kvm ? "" : " ", kvm ? "" : tcg_kernel_params);
}

#define KVM_NATIVE_FILE "vm/kvm-native"
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* The cache: "<boot id> <0|1>\n"; -1 when it is missing or from another
 * boot (a new kernel, or /dev/kvm on other hardware, may answer otherwise). */
static int cached_kvm_native(const char *path, const char *boot_id) {
  cleanup_free char *data = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file(path, &data, NULL, &err) < 0)
    return -1;
  size_t n = strlen(boot_id);
  if (strncmp(data, boot_id, n) != 0 || data[n] != ' ' ||
      (data[n + 1] != '0' && data[n + 1] != '1') || data[n + 2] != '\n')
    return -1;
  return data[n + 1] == '1';
}

/* The probe runs a guest: in a child, so that a KVM_RUN that never
 * returns cannot hang `create`. 0 with *native set, -1 when it failed or
 * took longer than PROBE_DEADLINE_MS. */
#define PROBE_DEADLINE_MS 2000
static int probe_with_deadline(bool *native) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    cleanup_error hull_error_t err = NULL;
    bool yes = false;
    if (vmm_probe_native(&yes, &err) < 0) {
      log_debug("KVM probe: %s", err->msg);
      _exit(2);
    }
    _exit(yes ? 1 : 0);
  }
  int status = 0;
  for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 5) {
    if (waited >= PROBE_DEADLINE_MS) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      log_debug("KVM probe: no answer within %d ms", PROBE_DEADLINE_MS);
      return -1;
    }
    nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
    return -1;
  *native = WEXITSTATUS(status) == 1;
  return 0;
}

bool qemu_kvm_native(const char *cache_dir) {
  cleanup_free char *boot_id = NULL;
  cleanup_error hull_error_t err = NULL;
  if (access("/dev/kvm", F_OK) < 0)
    return false;
  if (read_file(BOOT_ID_PATH, &boot_id, NULL, &err) < 0)
    return false;
  boot_id[strcspn(boot_id, "\n")] = '\0';
  cleanup_free char *path = xasprintf("%s/" KVM_NATIVE_FILE, cache_dir);
  int cached = cached_kvm_native(path, boot_id);
  if (cached >= 0)
    return cached;
  bool native = false;
  /* An unusable /dev/kvm (permissions, missing extensions) or a probe that
   * hangs is TCG, and not cached: it may be fixed without a reboot. */
  if (probe_with_deadline(&native) < 0)
    return false;
  cleanup_free char *dir = xasprintf("%s/vm", cache_dir);
  cleanup_free char *line = xasprintf("%s %d\n", boot_id, native);
  /* A cache we cannot write costs only the next probe (err is freed). */
  if (mkdir_p(dir, 0700, &err) == 0)
    write_file_atomic(path, line, strlen(line), 0644, &err);
  return native;
}

/* A path as a value in qemu's option syntax: a comma doubled. */
static char *qemu_option_value(const char *path) {
  size_t commas = 0;
  for (const char *p = path; *p; p++)
    commas += *p == ',';
  char *out = xmalloc(strlen(path) + commas + 1), *o = out;
  for (const char *p = path; *p; p++) {
    *o++ = *p;
    if (*p == ',')
      *o++ = ',';
  }
  *o = '\0';
  return out;
}

/* The shared files (share.c): a virtio-9p device per export, with qemu's
 * own 9p server (-fsdev local: no daemon beside qemu).
 *
 * security_model=passthrough: files are created and changed with the
 * guest's uids, gids and modes, on the host as they are, which is what a
 * namespace container's writes would leave (mapped-xattr would keep them
 * in user.virtfs.* xattrs and leave every file qemu's on the host, and
 * the host's own tools would read the wrong owner). It needs qemu to run
 * as root with the file capabilities the monitor keeps for it; a hull that
 * is not root gets `none`, passthrough that ignores a chown it may not
 * make: files are the user's, as a rootless container's are.
 * multidevs=remap: a share may span file systems (mounts below the
 * rootfs, a file share's bind mount); the guest is to see distinct inode
 * numbers, not two files with one. readonly=on: root.readonly and "ro"
 * binds are enforced by qemu, whatever the guest kernel does. */
static void push_9p_share(char ***v, size_t *n, const struct vm_share *sh,
                          size_t i, bool microvm) {
  const char *model = geteuid() == 0 ? "passthrough" : "none";
  cleanup_free char *path = qemu_option_value(sh->host_path);
  push(v, n, xstrdup("-fsdev"));
  push(v, n, xasprintf("local,id=fs%zu,path=%s,security_model=%s,"
                       "multidevs=remap%s", i, path, model,
                       sh->readonly ? ",readonly=on" : ""));
  push(v, n, xstrdup("-device"));
  push(v, n, xasprintf("%s,fsdev=fs%zu,mount_tag=%s",
                       microvm ? "virtio-9p-device" : "virtio-9p-pci", i,
                       sh->tag));
}

/* virtio-fs: a vhost-user-fs device on the socket its virtiofsd listens
 * on (virtiofs.c; read-only is enforced there). The guest's RAM is shared
 * with the daemon (push_cpus_and_memory). */
static void push_virtiofs_share(char ***v, size_t *n, const struct vm_boot *b,
                                size_t i, bool microvm) {
  push(v, n, xstrdup("-chardev"));
  push(v, n, xasprintf("socket,id=vfs%zu,fd=%d", i, b->virtiofs_fds[i]));
  push(v, n, xstrdup("-device"));
  push(v, n, xasprintf("%s,chardev=vfs%zu,tag=%s",
                       microvm ? "vhost-user-fs-device" : "vhost-user-fs-pci",
                       i, b->shares->v[i].tag));
}

/* vm.image: a virtio-blk disk in the format the spec names (qemu is never
 * left to probe it: a raw image could then pass itself off as a qcow2
 * naming a host file as its backing), read-only for root.readonly. Its id
 * lets qemu_image_error recognise qemu's complaints about it. */
#define IMAGE_DRIVE_ID "hull-image"
static void push_disk(char ***v, size_t *n, const struct vm_boot *b,
                      const struct vm_share *sh, bool microvm) {
  cleanup_free char *path = qemu_option_value(sh->host_path);
  push(v, n, xstrdup("-drive"));
  push(v, n, xasprintf("file=%s,format=%s,if=none,id=" IMAGE_DRIVE_ID
                       ",readonly=%s", path, b->settings->image_format,
                       sh->readonly ? "on" : "off"));
  push(v, n, xstrdup("-device"));
  push(v, n, xasprintf("%s,drive=" IMAGE_DRIVE_ID,
                       microvm ? "virtio-blk-device" : "virtio-blk-pci"));
}

static bool shares_memory(const struct vm_boot *b);

static void push_shares(char ***v, size_t *n, const struct vm_boot *b,
                        bool microvm) {
  /* A microvm's virtio-mmio devices are legacy (virtio 0.9) by default,
   * which vhost-user's library refuses ("virtio legacy devices aren't
   * supported by libvhost-user"): virtio 1.0 for all of them, which every
   * kernel with virtio-mmio drives as well. */
  if (microvm && shares_memory(b)) {
    push(v, n, xstrdup("-global"));
    push(v, n, xstrdup("virtio-mmio.force-legacy=false"));
  }
  for (size_t i = 0; b->shares && i < b->shares->n; i++) {
    const struct vm_share *sh = &b->shares->v[i];
    if (sh->disk)
      push_disk(v, n, b, sh, microvm);
    else if (b->shares->transport == VM_SHARE_VIRTIOFS)
      push_virtiofs_share(v, n, b, i, microvm);
    else
      push_9p_share(v, n, sh, i, microvm);
  }
}

char *qemu_image_error(const struct vm_settings *s, const char *line) {
  if (s->image == NULL || strstr(line, "id=" IMAGE_DRIVE_ID) == NULL)
    return NULL;
  /* "qemu-system-x86_64: -drive file=...,id=hull-image,...: WHAT" */
  const char *what = strstr(line, "id=" IMAGE_DRIVE_ID);
  const char *colon = strstr(what, ": ");
  return xasprintf("config.json: .vm.image.path: `%s`: %s", s->image,
                   colon ? colon + 2 : line);
}

/* Whether the guest's RAM is shared with a virtiofsd. */
static bool shares_memory(const struct vm_boot *b) {
  if (b->shares == NULL || b->shares->transport != VM_SHARE_VIRTIOFS)
    return false;
  for (size_t i = 0; i < b->shares->n; i++)
    if (!b->shares->v[i].disk)
      return true;
  return false;
}

/* -smp and -m, and what backs the memory. Under TCG, qemu 7.2 runs each
 * vCPU of an x86 guest on an x86 host in a thread of its own (MTTCG, its
 * default there: threads "CPU n/TCG"), so -smp 2 uses two host cores. The
 * memory is all there at boot (no hotplug: the guest touches only what it
 * uses, and the balloon returns what it frees). A backend object is given
 * only for a backing asked for: qemu's own RAM is anonymous memory it
 * already madvises for transparent huge pages. */
static void push_cpus_and_memory(char ***v, size_t *n,
                                 const struct vm_settings *s, bool shared) {
  unsigned long long mib = s->memory_bytes >> 20;
  push(v, n, xstrdup("-m"));
  push(v, n, xasprintf("%lluM", mib));
  push(v, n, xstrdup("-smp"));
  push(v, n, xasprintf("%u", s->vcpus));
  if (s->memory_backing == VM_BACKING_DEFAULT && !shared)
    return;
  push(v, n, xstrdup("-object"));
  /* virtio-fs (shared): virtiofsd reads and writes the guest's buffers in
   * place, so the RAM is a memfd mapped shared (share=on) that qemu
   * passes it. Its huge pages are then hugetlb's, or shmem's THP (which
   * config.c checks the host allows); the balloon's free page reporting
   * punches holes in the memfd, which frees the pages for both. */
  if (s->memory_backing == VM_BACKING_HUGETLB)
    push(v, n, xasprintf("memory-backend-memfd,id=ram,size=%lluM,hugetlb=on%s",
                         mib, shared ? ",share=on" : ""));
  else if (shared)
    push(v, n, xasprintf("memory-backend-memfd,id=ram,size=%lluM,share=on",
                         mib));
  else
    push(v, n, xasprintf("memory-backend-ram,id=ram,size=%lluM", mib));
  /* qemu merges -machine options: this joins ours or the user's -M. */
  push(v, n, xstrdup("-machine"));
  push(v, n, xstrdup("memory-backend=ram"));
}

/* The balloon is never inflated: it is there for free page reporting, by
 * which the guest kernel tells qemu of the free pages it has gathered
 * (2 MiB blocks, a couple of seconds after they were freed) and qemu
 * drops them from its memory, so that an idle guest's RSS falls back. */
static void push_balloon(char ***v, size_t *n, const struct vm_boot *b,
                         bool microvm) {
  if (!b->settings->balloon)
    return;
  push(v, n, xstrdup("-device"));
  push(v, n, xasprintf("%s,free-page-reporting=on",
                       microvm ? "virtio-balloon-device" : "virtio-balloon-pci"));
}

/* The agent channel: a virtio-serial bus (on a microvm's virtio-mmio,
 * else PCI) with one port, VM_AGENT_PORT, on the monitor's socket. Port 0
 * is a virtconsole's by convention: ours is 1. */
static void push_agent_channel(char ***v, size_t *n, const struct vm_boot *b,
                               bool microvm) {
  push(v, n, xstrdup("-chardev"));
  push(v, n, xasprintf("socket,id=agent,fd=%d", b->agent_fd));
  push(v, n, xstrdup("-device"));
  push(v, n, xasprintf("%s,id=agentbus,max_ports=2",
                       microvm ? "virtio-serial-device" : "virtio-serial-pci"));
  push(v, n, xstrdup("-device"));
  push(v, n, xstrdup("virtserialport,bus=agentbus.0,nr=1,chardev=agent,"
                     "name=" VM_AGENT_PORT));
}

char **qemu_argv(const struct vm_boot *b) {
  const struct vm_settings *s = b->settings;
  char **v = NULL;
  size_t n = 0;
  push(&v, &n, xstrdup(s->hypervisor));
  char *const *user = s->hypervisor_params;
  bool microvm = qemu_uses_microvm(s, b->pvh_kernel) && !b->pci;
  bool user_accel = params_have(user, "-accel", NULL);
  const char *accel = b->kvm ? "kvm" : "tcg";
  if (microvm) {
    /* acpi=off: the kernel then finds both UARTs by legacy probing, and
     * its timer through the MP table (with ACPI it waits forever for the
     * PIT's first tick when it cannot calibrate the TSC). */
    push(&v, &n, xstrdup("-M"));
    push(&v, &n, user_accel ? xstrdup("microvm,acpi=off")
                            : xasprintf("microvm,accel=%s,acpi=off", accel));
  } else if (!params_have(user, "-M", "-machine")) {
    push(&v, &n, xstrdup("-M"));
    push(&v, &n, user_accel ? xstrdup("pc") : xasprintf("pc,accel=%s", accel));
  }
  const char *fixed[] = {"-nodefaults", "-no-user-config", "-display", "none",
                         "-monitor", "none", "-no-reboot"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    push(&v, &n, xstrdup(fixed[i]));
  push_cpus_and_memory(&v, &n, s, shares_memory(b));
  push(&v, &n, xstrdup("-kernel"));
  push(&v, &n, xstrdup(b->kernel));
  push(&v, &n, xstrdup("-initrd"));
  push(&v, &n, xstrdup(b->initrd));
  push(&v, &n, xstrdup("-append"));
  push(&v, &n, xstrdup(b->cmdline));
  push(&v, &n, xstrdup("-chardev"));
  push(&v, &n, xasprintf("file,id=con,path=%s", b->console_log));
  push(&v, &n, xstrdup("-serial"));
  push(&v, &n, xstrdup("chardev:con"));
  push_agent_channel(&v, &n, b, microvm);
  /* The container's network: a virtio-net card per tap, with the MAC of
   * the interface it stands for (the guest finds it by that). */
  for (size_t i = 0; i < b->n_nics; i++) {
    char mac[18];
    push(&v, &n, xstrdup("-netdev"));
    push(&v, &n, xasprintf("tap,id=net%zu,fd=%d", i, b->nics[i].fd));
    push(&v, &n, xstrdup("-device"));
    push(&v, &n, xasprintf("%s,netdev=net%zu,mac=%s",
                           microvm ? "virtio-net-device" : "virtio-net-pci", i,
                           netns_mac_format(b->nics[i].mac, mac, sizeof(mac))));
  }
  push_shares(&v, &n, b, microvm);
  push_balloon(&v, &n, b, microvm);
  for (size_t i = 0; user && user[i]; i++)
    push(&v, &n, xstrdup(user[i]));
  return v;
}

int vm_backend_child_setup(const struct vm_boot *b, hull_error_t *err) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    return hull_error(err, errno, "PR_SET_PDEATHSIG");
  /* The monitor may have died between fork and prctl. */
  if (getppid() == 1)
    return hull_error(err, 0, "the VM monitor is gone");
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return hull_error(err, errno, "open /dev/null");
  if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(b->stderr_fd, 2) < 0)
    return hull_error(err, errno, "dup2 the hypervisor's stdio");
  size_t n_vfs = b->virtiofs_fds && b->shares ? b->shares->n : 0;
  int *keep = xmalloc((1 + b->n_nics + n_vfs) * sizeof(int));
  size_t n_keep = 0;
  keep[n_keep++] = b->agent_fd;
  for (size_t i = 0; i < b->n_nics; i++)
    keep[n_keep++] = b->nics[i].fd;
  for (size_t i = 0; i < n_vfs; i++)
    if (b->virtiofs_fds[i] >= 0)
      keep[n_keep++] = b->virtiofs_fds[i];
  close_fds_except(3, keep, n_keep);
  free(keep);
  for (size_t i = 0; i < b->n_nics; i++)
    if (set_cloexec(b->nics[i].fd, false) < 0)
      return hull_error(err, errno, "fcntl tap fd");
  for (size_t i = 0; i < n_vfs; i++)
    if (b->virtiofs_fds[i] >= 0 && set_cloexec(b->virtiofs_fds[i], false) < 0)
      return hull_error(err, errno, "fcntl virtiofs fd");
  if (set_cloexec(b->agent_fd, false) < 0)
    return hull_error(err, errno, "fcntl agent fd");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  return 0;
}

int qemu_start(const struct vm_boot *b, pid_t *pid, hull_error_t *err) {
  cleanup_strv char **argv = qemu_argv(b);
  pid_t child = fork();
  if (child < 0)
    return hull_error(err, errno, "fork the hypervisor");
  if (child == 0) {
    hull_error_t e = NULL;
    if (vm_backend_child_setup(b, &e) < 0) {
      dprintf(2, "%s\n", e->msg);
      _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    dprintf(2, "exec `%s`: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  *pid = child;
  return 0;
}
