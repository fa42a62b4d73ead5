/* test_vm_monitor.c — VM mode's host side without a VM (runtime/vm/).
 *
 * qemu's command line and the kernel's; the exit status a monitor or relay
 * passes on; and the monitor itself, forked as vm_spawn forks it, with a
 * fake hypervisor on the other end of the agent channel: this very test
 * binary, exec'd as "qemu" with HULL_FAKE_AGENT set (a constructor takes
 * over before Check's main), which plays the agent's part of proto.h. */
#include "runtime/vm/host.h"
#include "runtime/vm/vmm/vmm.h"
#include "runtime/linux/linux.h"
#include "tests/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the fake agent (runs in the exec'd "hypervisor") ------------------- */

static const char *arg_after(char **argv, const char *prefix) {
  for (size_t i = 0; argv[i]; i++) {
    const char *p = strstr(argv[i], prefix);
    if (p)
      return p + strlen(prefix);
  }
  return NULL;
}

static void fake_send(int fd, uint32_t type, uint32_t stream, const void *p,
                      size_t len) {
  hull_error_t err = NULL;
  if (vm_frame_send(fd, type, stream, p, len, &err) < 0)
    _exit(90);
}

static void fake_exit(int fd, uint32_t stream, int status) {
  struct vm_exit_msg e = {status};
  fake_send(fd, VM_FRAME_EXIT, stream, &e, sizeof(e));
}

/* A guest that turned against the host, after READY: it answers START
 * with OK, then
 *   "start-error": an ERROR with a terminal's escape sequences instead;
 *   "garbage": a frame with a bad magic, and hangs on;
 *   "exit-flood": the process's EXIT, then EXITs forever, reading nothing;
 *   "error-flood": first thousands of ERRORs on stream 0 (with escape
 *     sequences and line breaks), then the OK, and hangs on. */
static void __attribute__((noreturn)) hostile_agent(int fd, const char *how) {
  struct vm_inq q = {0};
  struct vm_frame f;
  hull_error_t err = NULL;
  do
    if (vm_frame_receive(fd, &q, &f, -1, &err) < 0)
      _exit(92);
  while (f.type != VM_FRAME_START);
  if (strcmp(how, "start-error") == 0) {
    const char *msg = "\033]0;owned\007no\nway";
    fake_send(fd, VM_FRAME_ERROR, 1, msg, strlen(msg));
    for (;;)
      pause();
  }
  if (strcmp(how, "error-flood") == 0) {
    const char *msg = "\033[2Jbad\nline";
    for (int i = 0; i < 5000; i++)
      fake_send(fd, VM_FRAME_ERROR, 0, msg, strlen(msg));
  }
  fake_send(fd, VM_FRAME_OK, 1, NULL, 0);
  if (strcmp(how, "garbage") == 0)
    write_all(fd, "not a frame, not at all", 23);
  if (strcmp(how, "exit-flood") == 0)
    for (;;)
      fake_exit(fd, 1, 0);
  for (;;)
    pause();
}

/* "ok": READY, then serve; "slow": the same after half a second; "fail": exit 1 at once with a word on stderr;
 * "silent": never answer; "error": an ERROR instead of READY, then the
 * guest's reset. */
static void fake_agent(const char *mode, char **argv) {
  const char *fd_arg = arg_after(argv, "socket,id=agent,fd=");
  const char *console = arg_after(argv, "file,id=con,path=");
  if (fd_arg == NULL || console == NULL)
    _exit(91);
  int fd = atoi(fd_arg);
  FILE *con = fopen(console, "w");
  fprintf(con, "pid=%d\nLinux version 6.1-fake\nRun /init as init process\n",
          (int)getpid());
  fclose(con);
  if (strcmp(mode, "slow") == 0)
    usleep(500 * 1000);
  if (strcmp(mode, "fail") == 0) {
    fprintf(stderr, "qemu: could not load kernel\n");
    _exit(1);
  }
  if (strcmp(mode, "silent") == 0)
    for (;;)
      pause();
  if (strcmp(mode, "error") == 0) {
    const char *msg = "guest create: config.json: bad";
    fake_send(fd, VM_FRAME_ERROR, 0, msg, strlen(msg));
    _exit(0); /* the agent resets the guest after it */
  }
  /* Line noise before the first frame, as a UART may carry. */
  write_all(fd, "\r\n", 2);
  fake_send(fd, VM_FRAME_READY, 0, "6.1-fake", 8);
  if (strncmp(mode, "hostile-", 8) == 0)
    hostile_agent(fd, mode + 8);
  if (strcmp(mode, "window-lie") == 0) {
    /* acknowledges stdin it never got */
    struct vm_window_msg w = {UINT32_MAX};
    fake_send(fd, VM_FRAME_WINDOW, 1, &w, sizeof(w));
    mode = "window";
  }
  struct vm_inq q = {0};
  struct vm_frame f;
  hull_error_t err = NULL;
  /* "window": stdin is counted, not acknowledged, until a SIGUSR2 asks
   * for the count ("got:N" on stdout), which then acknowledges it. */
  bool window = strcmp(mode, "window") == 0;
  size_t stdin_got = 0, stdin_acked = 0;
  for (;;) {
    if (vm_frame_receive(fd, &q, &f, -1, &err) < 0)
      _exit(92);
    if (window && f.type == VM_FRAME_STDIN) {
      stdin_got += f.len;
      continue;
    }
    if (window && f.type == VM_FRAME_SIGNAL) {
      fake_send(fd, VM_FRAME_OK, f.stream, NULL, 0);
      char out[64];
      int n = snprintf(out, sizeof(out), "got:%zu\n", stdin_got);
      fake_send(fd, VM_FRAME_STDOUT, 1, out, (size_t)n);
      struct vm_window_msg w = {(uint32_t)(stdin_got - stdin_acked)};
      fake_send(fd, VM_FRAME_WINDOW, 1, &w, sizeof(w));
      stdin_acked = stdin_got;
      continue;
    }
    switch (f.type) {
    case VM_FRAME_START:
      fake_send(fd, VM_FRAME_OK, 1, NULL, 0);
      fake_send(fd, VM_FRAME_STDOUT, 1, "hi\n", 3);
      fake_send(fd, VM_FRAME_STDERR, 1, "oops\n", 5);
      break;
    case VM_FRAME_STDIN: /* echo stream 1's stdin as "in:<bytes>" */
      if (f.stream == 1 && f.len) {
        fake_send(fd, VM_FRAME_STDOUT, 1, "in:", 3);
        fake_send(fd, VM_FRAME_STDOUT, 1, f.payload, f.len);
      }
      break;
    case VM_FRAME_EXEC: {
      fake_send(fd, VM_FRAME_OK, f.stream, "42", 2);
      char out[64];
      int n = snprintf(out, sizeof(out), "exec on %u\n", f.stream);
      fake_send(fd, VM_FRAME_STDOUT, f.stream, out, (size_t)n);
      fake_exit(fd, f.stream, 3 << 8);
      break;
    }
    case VM_FRAME_SIGNAL: {
      struct vm_signal_msg s;
      memcpy(&s, f.payload, sizeof(s));
      fake_send(fd, VM_FRAME_OK, f.stream, NULL, 0);
      if (s.signo == SIGUSR1) /* a no-op signal: answers only */
        break;
      if (f.stream == 1) {
        fake_exit(fd, 1, s.signo); /* killed by it */
        _exit(0);                  /* the guest rebooted */
      }
      break;
    }
    }
  }
}

__attribute__((constructor)) static void maybe_fake_agent(int argc,
                                                          char **argv) {
  (void)argc;
  const char *mode = getenv("HULL_FAKE_AGENT");
  if (mode) {
    fake_agent(mode, argv);
    _exit(0);
  }
}

/* ---- command lines ------------------------------------------------------- */

static struct vm_settings settings(char *hypervisor, char **hv_params) {
  static char *params[] = {"loglevel=3", NULL};
  return (struct vm_settings){.kernel = "/boot/vmlinuz-x",
                              .kernel_params = params,
                              .hypervisor = hypervisor,
                              .hypervisor_params = hv_params,
                              .vcpus = 2,
                              .memory_bytes = 256ull << 20,
                              .boot_timeout_ms = 10000};
}

static bool argv_has(char **v, const char *a, const char *b) {
  for (size_t i = 0; v[i]; i++)
    if (strcmp(v[i], a) == 0 && (b == NULL || (v[i + 1] && strcmp(v[i + 1], b) == 0)))
      return true;
  return false;
}

START_TEST(kernel_cmdline_ends_with_the_agent) {
  struct vm_settings s = settings(NULL, NULL);
  cleanup_free char *line = vm_kernel_cmdline(&s, "reboot=k");
  ck_assert_str_eq(line, "console=ttyS0 panic=-1 quiet cryptomgr.notests "
                         "reboot=k loglevel=3 vm-agent");
  cleanup_free char *bare = vm_kernel_cmdline(&s, NULL);
  ck_assert_str_eq(bare, "console=ttyS0 panic=-1 quiet cryptomgr.notests "
                         "loglevel=3 vm-agent");
}
END_TEST

/* A pc resets through its i8042; a microvm has none and triple-faults,
 * which qemu -no-reboot turns into its exit. Either names the agent's
 * virtio port. */
START_TEST(qemu_kernel_params_say_how_the_guest_resets) {
  struct vm_settings s = settings("/q", NULL);
  cleanup_free char *pc = qemu_kernel_params(&s, false, true);
  ck_assert_str_eq(pc, "reboot=k no_timer_check hull.channel=org.hull.agent");
  cleanup_free char *micro = qemu_kernel_params(&s, true, true);
  ck_assert_msg(strncmp(micro, "reboot=t", 8) == 0, "%s", micro);
  /* the TSC's rate comes with the promise that it is reliable */
  ck_assert(strstr(micro, "tsc_early_khz=") == NULL ||
            strstr(micro, " tsc=reliable") != NULL);
  ck_assert(strstr(micro, " hull.channel=org.hull.agent") != NULL);
  char *machine[] = {"-M", "q35", NULL};
  s.hypervisor_params = machine;
  cleanup_free char *named = qemu_kernel_params(&s, true, true);
  ck_assert_str_eq(named,
                   "reboot=k no_timer_check hull.channel=org.hull.agent");
}
END_TEST

/* Under TCG the guest skips the APIC timer's calibration (200 ms of PIT
 * ticks) and the rewriting of its lock prefixes for one vCPU; under KVM,
 * where both cost nothing, it does not. */
START_TEST(qemu_kernel_params_spare_a_tcg_guest_its_slow_boot_work) {
  struct vm_settings s = settings("/q", NULL);
  for (int pvh = 0; pvh <= 1; pvh++) {
    cleanup_free char *tcg = qemu_kernel_params(&s, pvh, false);
    ck_assert_msg(strstr(tcg, " noapictimer noreplace-smp ") != NULL, "%s",
                  tcg);
    cleanup_free char *kvm = qemu_kernel_params(&s, pvh, true);
    ck_assert_msg(strstr(kvm, "noapictimer") == NULL &&
                      strstr(kvm, "noreplace-smp") == NULL,
                  "%s", kvm);
  }
}
END_TEST

/* ttyS0 the console; the agent a virtio-serial port on PCI. */
START_TEST(qemu_argv_is_a_tcg_pc_with_a_uart_and_a_virtio_port) {
  struct vm_settings s = settings("/usr/bin/qemu-system-x86_64", NULL);
  struct vm_boot b = {.settings = &s, .kernel = s.kernel,
                      .initrd = "/st/initrd",
                      .console_log = "/st/console.log", .cmdline = "c",
                      .agent_fd = 7};
  cleanup_strv char **v = qemu_argv(&b);
  ck_assert_str_eq(v[0], "/usr/bin/qemu-system-x86_64");
  ck_assert(argv_has(v, "-M", "pc,accel=tcg"));
  b.kvm = true; /* /dev/kvm runs guest code natively */
  cleanup_strv char **k = qemu_argv(&b);
  ck_assert(argv_has(k, "-M", "pc,accel=kvm"));
  ck_assert(!argv_has(k, "-M", "pc,accel=tcg"));
  ck_assert(argv_has(v, "-m", "256M"));
  ck_assert(argv_has(v, "-smp", "2"));
  ck_assert(argv_has(v, "-kernel", "/boot/vmlinuz-x"));
  ck_assert(argv_has(v, "-initrd", "/st/initrd"));
  ck_assert(argv_has(v, "-append", "c"));
  ck_assert(argv_has(v, "-nodefaults", NULL));
  ck_assert(argv_has(v, "-no-reboot", NULL));
  ck_assert(argv_has(v, "-chardev", "file,id=con,path=/st/console.log"));
  ck_assert(argv_has(v, "-chardev", "socket,id=agent,fd=7"));
  ck_assert(argv_has(v, "-serial", "chardev:con"));
  ck_assert(!argv_has(v, "-serial", "chardev:agent"));
  ck_assert(
      argv_has(v, "-device", "virtio-serial-pci,id=agentbus,max_ports=2"));
  ck_assert(argv_has(v, "-device", "virtserialport,bus=agentbus.0,nr=1,"
                                   "chardev=agent,name=org.hull.agent"));
}
END_TEST

static size_t argv_index(char **v, const char *a) {
  for (size_t i = 0; v[i]; i++)
    if (strcmp(v[i], a) == 0)
      return i;
  return 0;
}

/* A PVH kernel boots on a microvm: one UART of its own (ttyS0, from
 * -serial), and the agent's virtio port on virtio-mmio. */
START_TEST(qemu_argv_is_a_microvm_for_a_pvh_kernel) {
  struct vm_settings s = settings("/usr/bin/qemu-system-x86_64", NULL);
  struct vm_boot b = {.settings = &s, .kernel = "/cache/vmlinux-1",
                      .pvh_kernel = true, .initrd = "/st/initrd",
                      .console_log = "/st/console.log", .cmdline = "c",
                      .agent_fd = 7};
  cleanup_strv char **v = qemu_argv(&b);
  ck_assert(argv_has(v, "-M", "microvm,accel=tcg,acpi=off"));
  b.kvm = true;
  cleanup_strv char **k = qemu_argv(&b);
  ck_assert(argv_has(k, "-M", "microvm,accel=kvm,acpi=off"));
  b.kvm = false;
  ck_assert(argv_has(v, "-kernel", "/cache/vmlinux-1"));
  ck_assert(argv_has(v, "-no-reboot", NULL));
  ck_assert(argv_has(v, "-serial", "chardev:con"));
  ck_assert(argv_has(v, "-chardev", "socket,id=agent,fd=7"));
  ck_assert(argv_has(v, "-device",
                     "virtio-serial-device,id=agentbus,max_ports=2"));
  ck_assert(!argv_has(v, "-serial", "chardev:agent"));
  ck_assert(argv_index(v, "chardev:con") < argv_index(v, "-device"));
  char *accel[] = {"-accel", "kvm", NULL};
  s.hypervisor_params = accel;
  cleanup_strv char **w = qemu_argv(&b);
  ck_assert(argv_has(w, "-M", "microvm,acpi=off"));
  b.kvm = true; /* the user's -accel wins over the probe's answer too */
  cleanup_strv char **wk = qemu_argv(&b);
  ck_assert(argv_has(wk, "-M", "microvm,acpi=off"));
  b.kvm = false;
  /* a machine of the user's: the port on PCI, whatever the kernel */
  char *machine[] = {"--machine", "q35", NULL};
  s.hypervisor_params = machine;
  cleanup_strv char **x = qemu_argv(&b);
  ck_assert(!argv_has(x, "-M", NULL));
  ck_assert(
      argv_has(x, "-device", "virtio-serial-pci,id=agentbus,max_ports=2"));
}
END_TEST

/* The container's interfaces: a virtio-net card per tap, with its MAC; on a
 * microvm the mmio flavour, and a pc (vm_boot.pci) for a PVH kernel that
 * cannot find those. */
START_TEST(qemu_argv_has_a_virtio_net_card_per_tap) {
  struct vm_settings s = settings("/usr/bin/qemu-system-x86_64", NULL);
  struct vm_nic nics[] = {{.tap = "hull-tap2", .mac = {2, 0x42, 10, 0, 0, 2},
                           .fd = 9},
                          {.tap = "hull-tap3", .mac = {2, 0x42, 10, 1, 0, 2},
                           .fd = 11}};
  struct vm_boot b = {.settings = &s, .kernel = "/cache/vmlinux-1",
                      .pvh_kernel = true, .initrd = "/st/initrd",
                      .console_log = "/st/console.log", .cmdline = "c",
                      .agent_fd = 7, .nics = nics, .n_nics = 2};
  cleanup_strv char **micro = qemu_argv(&b);
  ck_assert(argv_has(micro, "-M", "microvm,accel=tcg,acpi=off"));
  ck_assert(argv_has(micro, "-netdev", "tap,id=net0,fd=9"));
  ck_assert(argv_has(micro, "-device",
                     "virtio-net-device,netdev=net0,mac=02:42:0a:00:00:02"));
  ck_assert(argv_has(micro, "-netdev", "tap,id=net1,fd=11"));
  ck_assert(argv_has(micro, "-device",
                     "virtio-net-device,netdev=net1,mac=02:42:0a:01:00:02"));
  b.pci = true;
  cleanup_strv char **pc = qemu_argv(&b);
  ck_assert(argv_has(pc, "-M", "pc,accel=tcg"));
  ck_assert(
      argv_has(pc, "-device", "virtio-serial-pci,id=agentbus,max_ports=2"));
  ck_assert(argv_has(pc, "-device",
                     "virtio-net-pci,netdev=net0,mac=02:42:0a:00:00:02"));
  b.n_nics = 0;
  cleanup_strv char **none = qemu_argv(&b);
  ck_assert(!argv_has(none, "-netdev", NULL));
}
END_TEST

/* Shares: an -fsdev local per export (a comma in its path doubled, as
 * qemu's option syntax wants), read-only where asked, and a virtio-9p
 * device on the machine's bus with the share's tag. */
START_TEST(qemu_argv_exports_each_share_over_virtio_9p) {
  struct vm_settings s = settings("/usr/bin/qemu-system-x86_64", NULL);
  struct vm_share v[] = {
      {.tag = "hull-rootfs", .host_path = "/b/root,fs",
       .guest_path = "/bundle/rootfs", .readonly = true},
      {.tag = "hull-bind-3", .host_path = "/data",
       .guest_path = "/bundle/binds/3"},
  };
  struct vm_shares shares = {v, 2, VM_SHARE_9P};
  struct vm_boot b = {.settings = &s, .kernel = s.kernel,
                      .initrd = "/st/initrd",
                      .console_log = "/st/console.log", .cmdline = "c",
                      .agent_fd = 7, .shares = &shares};
  const char *model = geteuid() == 0 ? "passthrough" : "none";
  cleanup_free char *root = xasprintf(
      "local,id=fs0,path=/b/root,,fs,security_model=%s,multidevs=remap,"
      "readonly=on", model);
  cleanup_free char *data = xasprintf(
      "local,id=fs1,path=/data,security_model=%s,multidevs=remap", model);
  cleanup_strv char **pc = qemu_argv(&b);
  ck_assert(argv_has(pc, "-fsdev", root));
  ck_assert(argv_has(pc, "-fsdev", data));
  ck_assert(argv_has(pc, "-device",
                     "virtio-9p-pci,fsdev=fs0,mount_tag=hull-rootfs"));
  ck_assert(argv_has(pc, "-device",
                     "virtio-9p-pci,fsdev=fs1,mount_tag=hull-bind-3"));
  b.kernel = "/cache/vmlinux-1";
  b.pvh_kernel = true;
  cleanup_strv char **micro = qemu_argv(&b);
  ck_assert(argv_has(micro, "-device",
                     "virtio-9p-device,fsdev=fs0,mount_tag=hull-rootfs"));
  b.shares = NULL;
  cleanup_strv char **none = qemu_argv(&b);
  ck_assert(!argv_has(none, "-fsdev", NULL));
}
END_TEST

/* virtio-fs: a vhost-user-fs device per directory share on its
 * virtiofsd's socket (fd=N), the guest's RAM a shared memfd (a hugetlb one
 * for memory_backing=hugetlb), virtio 1.0 on a microvm's virtio-mmio; a
 * vm.image disk is a -drive of the named format, read-only as asked. */
START_TEST(qemu_argv_virtiofs_shares_and_disk) {
  struct vm_settings s = settings("/usr/bin/qemu-system-x86_64", NULL);
  s.image = "/img/root,1.qcow2";
  s.image_format = "qcow2";
  struct vm_share v[] = {
      {.tag = "vda", .host_path = "/img/root,1.qcow2",
       .guest_path = "/bundle/rootfs", .readonly = true, .disk = true},
      {.tag = "hull-bind-3", .host_path = "/data",
       .guest_path = "/bundle/binds/3"},
  };
  struct vm_shares shares = {v, 2, VM_SHARE_VIRTIOFS};
  int fds[] = {-1, 9};
  struct vm_boot b = {.settings = &s, .kernel = s.kernel,
                      .initrd = "/st/initrd",
                      .console_log = "/st/console.log", .cmdline = "c",
                      .agent_fd = 7, .shares = &shares, .virtiofs_fds = fds};
  cleanup_strv char **pc = qemu_argv(&b);
  ck_assert(argv_has(pc, "-chardev", "socket,id=vfs1,fd=9"));
  ck_assert(argv_has(pc, "-device",
                     "vhost-user-fs-pci,chardev=vfs1,tag=hull-bind-3"));
  ck_assert(argv_has(pc, "-object",
                     "memory-backend-memfd,id=ram,size=256M,share=on"));
  ck_assert(argv_has(pc, "-machine", "memory-backend=ram"));
  ck_assert(argv_has(pc, "-drive", "file=/img/root,,1.qcow2,format=qcow2,"
                                   "if=none,id=hull-image,readonly=on"));
  ck_assert(argv_has(pc, "-device", "virtio-blk-pci,drive=hull-image"));
  ck_assert(!argv_has(pc, "-fsdev", NULL));
  ck_assert(!argv_has(pc, "-global", NULL));
  s.memory_backing = VM_BACKING_HUGETLB;
  b.kernel = "/cache/vmlinux-1";
  b.pvh_kernel = true;
  cleanup_strv char **micro = qemu_argv(&b);
  ck_assert(argv_has(micro, "-object", "memory-backend-memfd,id=ram,"
                                       "size=256M,hugetlb=on,share=on"));
  ck_assert(argv_has(micro, "-global", "virtio-mmio.force-legacy=false"));
  ck_assert(argv_has(micro, "-device",
                     "vhost-user-fs-device,chardev=vfs1,tag=hull-bind-3"));
  ck_assert(argv_has(micro, "-device", "virtio-blk-device,drive=hull-image"));
  /* qemu's complaint about the drive, as the spec's field */
  cleanup_free char *msg = qemu_image_error(
      &s, "qemu-system-x86_64: -drive file=/img/root,,1.qcow2,format=qcow2,"
          "if=none,id=hull-image,readonly=on: Image is not in qcow2 format");
  ck_assert_str_eq(msg, "config.json: .vm.image.path: `/img/root,1.qcow2`: "
                        "Image is not in qcow2 format");
  ck_assert_ptr_null(qemu_image_error(&s, "qemu-system-x86_64: -chardev x"));
}
END_TEST

/* A kernel with its config beside it (hull's own, installed so) says
 * whether it reads virtio-mmio cards from its command line; one without,
 * and no /boot/config-<release>, is taken not to. */
START_TEST(mmio_cmdline_comes_from_the_config_beside_the_kernel) {
  char dir[] = "/tmp/hull-mmio-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cleanup_free char *kernel = xasprintf("%s/vmlinux", dir);
  cleanup_free char *config = xasprintf("%s/vmlinux.config", dir);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(kernel, "\177ELF", 4, 0644, &err), 0);
  ck_assert(!vm_kernel_has_mmio_cmdline(kernel, NULL));
  const char *no = "CONFIG_VIRTIO_MMIO=y\n"
                   "# CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is not set\n";
  ck_assert_int_eq(write_file_atomic(config, no, strlen(no), 0644, &err), 0);
  ck_assert(!vm_kernel_has_mmio_cmdline(kernel, NULL));
  const char *yes = "CONFIG_VIRTIO_MMIO=y\n"
                    "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n";
  ck_assert_int_eq(write_file_atomic(config, yes, strlen(yes), 0644, &err), 0);
  ck_assert(vm_kernel_has_mmio_cmdline(kernel, NULL));
  /* An ELF has no release to look up modules by: none, no error. */
  ck_assert_ptr_null(vm_kernel_release(kernel));
  ck_assert_int_eq(remove_tree(dir, &err), 0);
}
END_TEST

/* A release with no /lib/modules/<release>/ (hull's own kernel, all built
 * in) has no modules to add. */
START_TEST(a_release_without_modules_adds_none) {
  ck_assert_ptr_null(vm_kernel_modules(
      "0.0.0-hull-none", (const char *const[]){"virtio_net", NULL}));
}
END_TEST

/* The guest kernel's release from its bzImage, and the modules virtio-net
 * needs from the host's /lib/modules/<release>, what they need first. */
START_TEST(kernel_modules_come_after_what_they_need) {
  ck_assert_ptr_null(vm_kernel_release("/etc/hostname"));
  ck_assert_ptr_null(vm_kernel_modules(NULL, (const char *const[]){"x", NULL}));
  glob_t g;
  if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
    SKIP_TEST("no /boot/vmlinuz-*");
  const char *kernel = g.gl_pathv[g.gl_pathc - 1];
  cleanup_free char *release = vm_kernel_release(kernel);
  ck_assert_ptr_nonnull(release);
  ck_assert_str_eq(release, strstr(kernel, "vmlinuz-") + strlen("vmlinuz-"));
  globfree(&g);
  cleanup_strv char **m = vm_kernel_modules(
      release, (const char *const[]){"virtio_pci", "virtio_net", NULL});
  if (m == NULL)
    SKIP_TEST("no virtio modules in /lib/modules/%s", release);
  static const char *const order[] = {"/virtio_ring.ko", "/virtio.ko",
                                      "/virtio_pci.ko", "/failover.ko",
                                      "/net_failover.ko", "/virtio_net.ko"};
  size_t last = 0;
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    size_t at = 0, seen = 0;
    for (size_t j = 0; m[j]; j++)
      if (strstr(m[j], order[i])) {
        at = j + 1;
        seen++;
      }
    ck_assert_msg(seen == 1, "%s listed %zu times", order[i], seen);
    ck_assert_msg(at > last, "%s comes too early", order[i]);
    last = at;
  }
}
END_TEST

/* The balloon, for free page reporting, in the machine's flavour; a
 * backing of memory as a backend object the machine uses. */
START_TEST(qemu_argv_has_the_balloon_and_the_memory_backing) {
  struct vm_settings s = settings("/q", NULL);
  struct vm_boot b = {.settings = &s, .kernel = "k", .initrd = "i",
                      .console_log = "c", .cmdline = "c", .agent_fd = 3};
  cleanup_strv char **plain = qemu_argv(&b);
  ck_assert(!argv_has(plain, "-device", "virtio-balloon-pci,free-page-reporting=on"));
  ck_assert(!argv_has(plain, "-object", NULL));
  s.balloon = true;
  cleanup_strv char **pc = qemu_argv(&b);
  ck_assert(argv_has(pc, "-device", "virtio-balloon-pci,free-page-reporting=on"));
  b.pvh_kernel = true;
  cleanup_strv char **micro = qemu_argv(&b);
  ck_assert(argv_has(micro, "-M", "microvm,accel=tcg,acpi=off"));
  ck_assert(argv_has(micro, "-device",
                     "virtio-balloon-device,free-page-reporting=on"));
  b.pvh_kernel = false;
  s.memory_backing = VM_BACKING_HUGETLB;
  cleanup_strv char **huge = qemu_argv(&b);
  ck_assert(argv_has(huge, "-m", "256M"));
  ck_assert(argv_has(huge, "-object",
                     "memory-backend-memfd,id=ram,size=256M,hugetlb=on"));
  ck_assert(argv_has(huge, "-machine", "memory-backend=ram"));
  s.memory_backing = VM_BACKING_THP;
  cleanup_strv char **thp = qemu_argv(&b);
  ck_assert(argv_has(thp, "-object", "memory-backend-ram,id=ram,size=256M"));
  ck_assert(argv_has(thp, "-machine", "memory-backend=ram"));
}
END_TEST

START_TEST(qemu_argv_leaves_accel_to_the_user) {
  char *accel[] = {"-accel", "kvm", NULL};
  struct vm_settings s = settings("/q", accel);
  struct vm_boot b = {.settings = &s, .kernel = "k", .initrd = "i",
                      .console_log = "c",
                      .cmdline = "c", .agent_fd = 3};
  cleanup_strv char **v = qemu_argv(&b);
  ck_assert(argv_has(v, "-M", "pc"));
  ck_assert(argv_has(v, "-accel", "kvm"));
  char *tcg[] = {"--accel", "tcg", NULL};
  s.hypervisor_params = tcg;
  b.kvm = true; /* native /dev/kvm, but the user asks for TCG */
  cleanup_strv char **t = qemu_argv(&b);
  ck_assert(argv_has(t, "-M", "pc"));
  ck_assert(!argv_has(t, "-M", "pc,accel=kvm"));
  ck_assert(argv_has(t, "--accel", "tcg"));
  b.kvm = false;
  char *machine[] = {"-machine", "microvm", NULL};
  s.hypervisor_params = machine;
  cleanup_strv char **w = qemu_argv(&b);
  ck_assert(!argv_has(w, "-M", NULL));
  ck_assert(argv_has(w, "-machine", "microvm"));
}
END_TEST

/* Debian's bzImage unpacks to an ELF with a PVH entry, once. */
START_TEST(bzimage_unpacks_once_into_the_cache) {
  glob_t g;
  if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
    SKIP_TEST("no /boot/vmlinuz-* (linux-image-amd64)");
  char dir[] = "/tmp/hull-vmlinux-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cleanup_close int lock = -1, lock_again = -1, no_lock = -1;
  cleanup_free char *elf = vm_unpacked_kernel(g.gl_pathv[0], dir, &lock);
  ck_assert_msg(elf != NULL, "%s did not unpack", g.gl_pathv[0]);
  ck_assert(strncmp(elf, dir, strlen(dir)) == 0);
  char magic[4] = {0};
  cleanup_close int fd = open(elf, O_RDONLY);
  ck_assert_int_eq(read(fd, magic, 4), 4);
  ck_assert(memcmp(magic, "\177ELF", 4) == 0);
  struct stat before, after;
  ck_assert_int_eq(stat(elf, &before), 0);
  cleanup_free char *again =
      vm_unpacked_kernel(g.gl_pathv[0], dir, &lock_again);
  ck_assert_str_eq(again, elf);
  ck_assert_int_eq(stat(again, &after), 0);
  /* the same file (its mtime is when it was last used) */
  ck_assert_int_eq(before.st_ino, after.st_ino);
  ck_assert_int_ge(lock, 0);
  ck_assert_int_ge(lock_again, 0);
  /* not a bzImage: booted as it is; nor is what was unpacked */
  ck_assert_ptr_null(vm_unpacked_kernel("/etc/hostname", dir, &no_lock));
  ck_assert_int_eq(no_lock, -1);
  ck_assert_ptr_null(vm_unpacked_kernel(elf, dir, &no_lock));
  globfree(&g);
  cleanup_free char *cmd = xasprintf("rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The probe answers within its deadline, and qemu_kvm_native() believes
 * it once per boot: the answer is cached under the boot id, and another
 * boot's is probed again. Which answer is right depends on the host (a
 * nested /dev/kvm that emulates guest code says "not native"), so the test
 * checks that the cache agrees with the probe, whatever it says. */
START_TEST(kvm_probe_answers_once_per_boot) {
  SKIP_UNLESS(access("/dev/kvm", R_OK | W_OK) == 0, "no usable /dev/kvm");
  cleanup_error hull_error_t err = NULL;
  bool native = false;
  uint64_t t0 = mono_ms();
  ck_assert_msg(vmm_probe_native(&native, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert_uint_lt(mono_ms() - t0, 3000); /* the probe's 2 s deadline */

  char dir[] = "/tmp/hull-kvmprobe-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cleanup_free char *path = xasprintf("%s/vm/kvm-native", dir);
  cleanup_free char *boot_id = NULL;
  ck_assert_int_eq(read_file("/proc/sys/kernel/random/boot_id", &boot_id,
                             NULL, &err), 0);
  boot_id[strcspn(boot_id, "\n")] = '\0';
  ck_assert(qemu_kvm_native(dir) == native);
  t0 = mono_ms();
  ck_assert(qemu_kvm_native(dir) == native); /* from the cache */
  ck_assert_uint_lt(mono_ms() - t0, 1000);
  cleanup_free char *cached = NULL;
  ck_assert_int_eq(read_file(path, &cached, NULL, &err), 0);
  cleanup_free char *want = xasprintf("%s %d\n", boot_id, native);
  ck_assert_str_eq(cached, want);
  /* the cache is believed for this boot, even when it says the opposite... */
  cleanup_free char *flipped = xasprintf("%s %d\n", boot_id, !native);
  ck_assert_int_eq(
      write_file_atomic(path, flipped, strlen(flipped), 0644, &err), 0);
  ck_assert(qemu_kvm_native(dir) == !native);
  /* ...and not for another's: probed again, and rewritten */
  cleanup_free char *old = xasprintf(
      "00000000-0000-0000-0000-000000000000 %d\n", !native);
  ck_assert_int_eq(write_file_atomic(path, old, strlen(old), 0644, &err), 0);
  ck_assert(qemu_kvm_native(dir) == native);
  cleanup_free char *again = NULL;
  ck_assert_int_eq(read_file(path, &again, NULL, &err), 0);
  ck_assert_str_eq(again, want);
  cleanup_free char *cmd = xasprintf("rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- exit status ------------------------------------------------------- */

static int status_of_child_exiting_like(int status) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    vm_exit_like(status);
  int got = 0;
  ck_assert_int_eq(waitpid(pid, &got, 0), pid);
  return got;
}

START_TEST(exit_like_passes_codes_and_signals_on) {
  int st = status_of_child_exiting_like(7 << 8);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7);
  st = status_of_child_exiting_like(SIGTERM);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  /* no core file for a "core" signal */
  st = status_of_child_exiting_like(SIGQUIT);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT && !WCOREDUMP(st));
}
END_TEST

/* ---- the monitor with a fake agent -------------------------------------- */

struct fixture {
  char dir[64];
  pid_t monitor;
  int sync_fd;
  int stdin_w, stdout_r, stderr_r;
  char *self;
};

static char *self_exe(void) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  return xstrdup(buf);
}

/* Forks a monitor whose hypervisor is the fake agent in `mode`. */
static void start_monitor(struct fixture *fx, const char *mode,
                          unsigned timeout_ms) {
  strcpy(fx->dir, "/tmp/hull-vm-monitor-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(fx->dir));
  fx->self = self_exe();
  setenv("HULL_FAKE_AGENT", mode, 1);
  int agent[2], sync[2], in[2], out[2], errp[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, agent), 0);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync), 0);
  ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(errp, O_CLOEXEC), 0);
  /* what vm_spawn's listen_on does, by hand */
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/vm.sock", fx->dir);
  int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  ck_assert_int_eq(listen(listen_fd, 8), 0);
  static struct vm_settings s;
  s = settings(fx->self, NULL);
  s.boot_timeout_ms = timeout_ms;
  char *initrd = xasprintf("%s/initrd", fx->dir);
  char *console = xasprintf("%s/console.log", fx->dir);
  struct monitor_config mc = {
      .boot = {.settings = &s, .kernel = s.kernel, .initrd = initrd,
               .console_log = console,
               .cmdline = "c", .agent_fd = agent[1], .stderr_fd = -1},
      .state_dir = fx->dir,
      .agent_fd = agent[0],
      .listen_fd = listen_fd,
      .sync_fd = sync[1],
      .in_fd = in[0],
      .out_fd = out[1],
      .err_fd = errp[1],
  };
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    mc.ns_fds[t] = -1;
  fx->monitor = fork();
  ck_assert_int_ge(fx->monitor, 0);
  if (fx->monitor == 0) {
    close(sync[0]);
    cleanup_free char *log = xasprintf("%s/monitor.log", fx->dir);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0 || dup2(log_fd, 2) < 0)
      _exit(93);
    monitor_main(&mc);
  }
  unsetenv("HULL_FAKE_AGENT");
  close(agent[0]);
  close(agent[1]);
  close(sync[1]);
  close(listen_fd);
  close(in[0]);
  close(out[1]);
  close(errp[1]);
  fx->sync_fd = sync[0];
  fx->stdin_w = in[1];
  fx->stdout_r = out[0];
  fx->stderr_r = errp[0];
  free(initrd);
  free(console);
}

static char *sync_next(struct fixture *fx, char *type) {
  struct pollfd p = {fx->sync_fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 10000), 1);
  char buf[4096];
  ssize_t n = recv(fx->sync_fd, buf, sizeof(buf) - 1, 0);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  *type = buf[0];
  return xstrdup(buf + 1);
}

/* The parent's half of create: SANDBOXED → GO → READY/FAILED. */
static char *monitor_boot(struct fixture *fx, char *type) {
  char t;
  free(sync_next(fx, &t));
  ck_assert_int_eq(t, MONITOR_SANDBOXED);
  char go = MONITOR_GO;
  ck_assert_int_eq(send(fx->sync_fd, &go, 1, 0), 1);
  return sync_next(fx, type);
}

static int monitor_wait(struct fixture *fx) {
  int status = 0;
  ck_assert_int_eq(waitpid(fx->monitor, &status, 0), fx->monitor);
  return status;
}

static void fixture_end(struct fixture *fx) {
  close(fx->sync_fd);
  close(fx->stdin_w);
  close(fx->stdout_r);
  close(fx->stderr_r);
  cleanup_free char *cmd = xasprintf("rm -rf %s", fx->dir);
  ck_assert_int_eq(system(cmd), 0);
  free(fx->self);
}

/* Reads fd until it holds want (or 10 s pass). */
static void expect_output(int fd, const char *want) {
  char buf[4096];
  size_t len = 0;
  while (len < sizeof(buf) - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    ck_assert_msg(poll(&p, 1, 10000) == 1, "no `%s` in `%.*s`", want,
                  (int)len, buf);
    ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
    ck_assert_int_gt(n, 0);
    len += (size_t)n;
    buf[len] = '\0';
    if (strstr(buf, want))
      return;
  }
  ck_abort_msg("no `%s` in `%s`", want, buf);
}

static int client(struct fixture *fx) {
  int fd = -1;
  hull_error_t err = NULL;
  ck_assert_msg(vm_socket_connect(fx->dir, &fd, &err) == 0, "%s",
                err ? err->msg : "");
  return fd;
}

static struct vm_frame expect_frame(int fd, struct vm_inq *q, uint32_t type,
                                    uint32_t stream) {
  struct vm_frame f;
  hull_error_t err = NULL;
  ck_assert_msg(vm_frame_receive(fd, q, &f, 10000, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert_msg(f.type == type && f.stream == stream,
                "got %s on %u, want %s on %u", vm_frame_type_name(f.type),
                f.stream, vm_frame_type_name(type), stream);
  return f;
}

START_TEST(monitor_relays_start_stdio_exec_and_signals) {
  struct fixture fx;
  start_monitor(&fx, "ok", 10000);
  char type;
  cleanup_free char *release = monitor_boot(&fx, &type);
  ck_assert_int_eq(type, MONITOR_READY);
  ck_assert_str_eq(release, "6.1-fake");
  hull_error_t err = NULL;

  /* start: START(1) → OK, then the process's output on the monitor's */
  int c = client(&fx);
  struct vm_inq q = {0};
  ck_assert_int_eq(vm_frame_send(c, VM_FRAME_START, 1, NULL, 0, &err), 0);
  expect_frame(c, &q, VM_FRAME_OK, 1);
  close(c);
  vm_inq_free(&q);
  expect_output(fx.stdout_r, "hi\n");
  expect_output(fx.stderr_r, "oops\n");

  /* its stdin reaches the guest once started */
  ck_assert_int_eq(write_all(fx.stdin_w, "abc", 3), 0);
  expect_output(fx.stdout_r, "in:abc");

  /* two execs: each keeps its own stream number, the guest sees others */
  for (int i = 0; i < 2; i++) {
    int e = client(&fx);
    ck_assert_int_eq(vm_frame_send(e, VM_FRAME_EXEC, 2, "{}", 2, &err), 0);
    struct vm_frame f = expect_frame(e, &q, VM_FRAME_OK, 2);
    ck_assert_int_eq(f.len, 2);
    f = expect_frame(e, &q, VM_FRAME_STDOUT, 2);
    cleanup_free char *text = xstrndup((const char *)f.payload, f.len);
    cleanup_free char *want = xasprintf("exec on %d\n", 2 + i);
    ck_assert_str_eq(text, want);
    f = expect_frame(e, &q, VM_FRAME_EXIT, 2);
    struct vm_exit_msg x;
    memcpy(&x, f.payload, sizeof(x));
    ck_assert_int_eq(x.status, 3 << 8);
    close(e);
    vm_inq_free(&q);
  }

  /* kill --all's SIGNAL{all} is answered to its client */
  int k = client(&fx);
  struct vm_signal_msg s = {SIGUSR1, 1};
  ck_assert_int_eq(vm_frame_send(k, VM_FRAME_SIGNAL, 1, &s, sizeof(s), &err), 0);
  expect_frame(k, &q, VM_FRAME_OK, 1);
  close(k);
  vm_inq_free(&q);

  /* a signal to the monitor is the container process's: it dies of it, and
   * so does the monitor */
  kill(fx.monitor, SIGTERM);
  int st = monitor_wait(&fx);
  ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
  fixture_end(&fx);
}
END_TEST

/* A monitor on the fake agent in mode, booted to READY, whose process
 * (stream 1) a client has started. */
static void start_process_on_monitor(struct fixture *fx, const char *mode) {
  start_monitor(fx, mode, 10000);
  char type;
  free(monitor_boot(fx, &type));
  ck_assert_int_eq(type, MONITOR_READY);
  hull_error_t err = NULL;
  int c = client(fx);
  struct vm_inq q = {0};
  ck_assert_int_eq(vm_frame_send(c, VM_FRAME_START, 1, NULL, 0, &err), 0);
  expect_frame(c, &q, VM_FRAME_OK, 1);
  close(c);
  vm_inq_free(&q);
}

/* The monitor sends at most VM_STDIN_WINDOW bytes of stdin the guest has
 * not acknowledged, then waits for its WINDOW: a process that does not
 * read its stdin holds a window of it, not the channel. */
START_TEST(monitor_keeps_stdin_within_the_window) {
  struct fixture fx;
  start_process_on_monitor(&fx, "window");
  /* a window and a half, from a writer of its own (the pipe stalls) */
  size_t total = VM_STDIN_WINDOW + VM_STDIN_WINDOW / 2;
  pid_t writer = fork();
  ck_assert_int_ge(writer, 0);
  if (writer == 0) {
    static char chunk[65536];
    for (size_t sent = 0; sent < total; sent += sizeof(chunk))
      if (write_all(fx.stdin_w, chunk, sizeof(chunk)) < 0)
        _exit(1);
    _exit(0);
  }
  usleep(500 * 1000);
  cleanup_free char *first = xasprintf("got:%u\n", VM_STDIN_WINDOW);
  kill(fx.monitor, SIGUSR2);
  expect_output(fx.stdout_r, first);
  /* acknowledged: the rest comes */
  int st = 0;
  ck_assert_int_eq(waitpid(writer, &st, 0), writer);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  usleep(200 * 1000);
  cleanup_free char *all = xasprintf("got:%zu\n", total);
  kill(fx.monitor, SIGUSR2);
  expect_output(fx.stdout_r, all);
  kill(fx.monitor, SIGKILL);
  monitor_wait(&fx);
  fixture_end(&fx);
}
END_TEST

/* The fake hypervisor's pid, from the console log it wrote. */
static pid_t fake_pid(struct fixture *fx) {
  cleanup_free char *path = xasprintf("%s/console.log", fx->dir);
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(path, &text, NULL, &err), 0);
  ck_assert(strncmp(text, "pid=", 4) == 0);
  return (pid_t)atoi(text + 4);
}

START_TEST(monitor_survives_a_resize_while_booting_and_takes_the_vm_along) {
  struct fixture fx;
  start_monitor(&fx, "slow", 10000);
  char t;
  free(sync_next(&fx, &t));
  ck_assert_int_eq(t, MONITOR_SANDBOXED);
  char go = MONITOR_GO;
  ck_assert_int_eq(send(fx.sync_fd, &go, 1, 0), 1);
  usleep(200 * 1000);
  kill(fx.monitor, SIGWINCH); /* a terminal resized during the boot */
  cleanup_free char *release = sync_next(&fx, &t);
  ck_assert_int_eq(t, MONITOR_READY);
  /* SIGKILL of the monitor: the hypervisor dies with it */
  pid_t hv = fake_pid(&fx);
  ck_assert_int_eq(kill(hv, 0), 0);
  kill(fx.monitor, SIGKILL);
  monitor_wait(&fx);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; i++) {
    cleanup_free char *stat = NULL;
    cleanup_free char *path = xasprintf("/proc/%d/stat", (int)hv);
    hull_error_t err = NULL;
    /* gone, or a zombie waiting for init */
    gone = read_file(path, &stat, NULL, &err) < 0 ||
           strstr(stat, ") Z ") != NULL;
    hull_error_release(&err);
    if (!gone)
      usleep(10 * 1000);
  }
  ck_assert_msg(gone, "the hypervisor %d outlived its monitor", (int)hv);
  fixture_end(&fx);
}
END_TEST

START_TEST(monitor_reports_a_hypervisor_that_exits_at_once) {
  struct fixture fx;
  start_monitor(&fx, "fail", 10000);
  char type;
  cleanup_free char *msg = monitor_boot(&fx, &type);
  ck_assert_int_eq(type, MONITOR_FAILED);
  ck_assert_msg(strstr(msg, "exited with status 1 before the VM was ready: "
                            "qemu: could not load kernel"), "%s", msg);
  int st = monitor_wait(&fx);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 255);
  fixture_end(&fx);
}
END_TEST

START_TEST(monitor_times_out_with_the_last_console_line) {
  struct fixture fx;
  start_monitor(&fx, "silent", 500);
  char type;
  cleanup_free char *msg = monitor_boot(&fx, &type);
  ck_assert_int_eq(type, MONITOR_FAILED);
  ck_assert_str_eq(msg, "the VM did not answer within 1 s (last console "
                        "line: Run /init as init process)");
  monitor_wait(&fx);
  fixture_end(&fx);
}
END_TEST

START_TEST(monitor_reports_the_agents_error) {
  struct fixture fx;
  start_monitor(&fx, "error", 10000);
  char type;
  cleanup_free char *msg = monitor_boot(&fx, &type);
  ck_assert_int_eq(type, MONITOR_FAILED);
  ck_assert_str_eq(msg, "guest create: config.json: bad");
  monitor_wait(&fx);
  fixture_end(&fx);
}
END_TEST

/* ---- a hostile guest ------------------------------------------------------- */

/* Boots a monitor with the hostile agent `mode` and starts the process. */
static void start_hostile(struct fixture *fx, const char *mode) {
  start_monitor(fx, mode, 10000);
  char type;
  free(monitor_boot(fx, &type));
  ck_assert_int_eq(type, MONITOR_READY);
  hull_error_t err = NULL;
  int c = client(fx);
  struct vm_inq q = {0};
  ck_assert_int_eq(vm_frame_send(c, VM_FRAME_START, 1, NULL, 0, &err), 0);
  expect_frame(c, &q, VM_FRAME_OK, 1);
  close(c);
  vm_inq_free(&q);
}

/* The monitor's status, once it ended within timeout_ms (else fails). */
static int monitor_wait_within(struct fixture *fx, unsigned timeout_ms) {
  for (unsigned waited = 0;; waited += 10) {
    int status = 0;
    pid_t r = waitpid(fx->monitor, &status, WNOHANG);
    ck_assert_int_ge(r, 0);
    if (r == fx->monitor)
      return status;
    if (waited >= timeout_ms) {
      kill(fx->monitor, SIGKILL);
      monitor_wait(fx);
      ck_abort_msg("the monitor still ran after %u ms", timeout_ms);
    }
    usleep(10 * 1000);
  }
}

static bool process_gone(pid_t pid) {
  for (int i = 0; i < 200; i++) {
    cleanup_free char *stat = NULL;
    cleanup_free char *path = xasprintf("/proc/%d/stat", (int)pid);
    hull_error_t err = NULL;
    /* gone, or a zombie waiting for init */
    bool gone = read_file(path, &stat, NULL, &err) < 0 ||
                strstr(stat, ") Z ") != NULL;
    hull_error_release(&err);
    if (gone)
      return true;
    usleep(10 * 1000);
  }
  return false;
}

static char *monitor_log(struct fixture *fx) {
  cleanup_free char *path = xasprintf("%s/monitor.log", fx->dir);
  char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(path, &text, NULL, &err), 0);
  return text;
}

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

/* A frame that is no frame: the guest is beyond trust, so the VM stops
 * (rather than running on unreachable) with one line naming why, and the
 * container's process counts as failed. */
START_TEST(monitor_stops_a_vm_whose_agent_sends_garbage) {
  struct fixture fx;
  start_hostile(&fx, "hostile-garbage");
  pid_t hv = fake_pid(&fx);
  int st = monitor_wait_within(&fx, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 255, "status %#x", st);
  ck_assert_msg(process_gone(hv), "the hypervisor %d outlived its monitor",
                (int)hv);
  cleanup_free char *log = monitor_log(&fx);
  ck_assert_msg(count_lines(log) == 1 &&
                    strstr(log, "VM monitor: stopping the VM: agent channel: "
                                "bad frame magic 0x20746f6e"),
                "log: %s", log);
  fixture_end(&fx);
}
END_TEST

/* The process exited; a guest that says so again and again (and reads
 * nothing) neither holds the VM beyond its grace nor grows the queue of
 * what is to be sent to it. */
START_TEST(monitor_takes_one_exit_and_stops_a_vm_that_repeats_it) {
  struct fixture fx;
  start_hostile(&fx, "hostile-exit-flood");
  pid_t hv = fake_pid(&fx);
  usleep(2000 * 1000);
  cleanup_free char *path = xasprintf("/proc/%d/status", (int)fx.monitor);
  cleanup_free char *status = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(path, &status, NULL, &err), 0);
  const char *rss = strstr(status, "VmRSS:");
  ck_assert_ptr_nonnull(rss);
  ck_assert_msg(atol(rss + 6) < 64 * 1024, "the monitor grew to %ld kB",
                atol(rss + 6));
  int st = monitor_wait_within(&fx, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
  ck_assert(process_gone(hv));
  fixture_end(&fx);
}
END_TEST

/* What the guest says on the host (its errors in the log) is bounded:
 * a few lines, each one line of printable text. */
START_TEST(monitor_logs_a_flood_of_agent_errors_in_a_few_lines) {
  struct fixture fx;
  start_hostile(&fx, "hostile-error-flood");
  kill(fx.monitor, SIGKILL);
  monitor_wait(&fx);
  cleanup_free char *log = monitor_log(&fx);
  ck_assert_msg(count_lines(log) <= 20, "%zu lines", count_lines(log));
  ck_assert_ptr_null(strchr(log, '\033'));
  ck_assert_msg(strstr(log, "VM agent:  [2Jbad line\""), "log: %.300s", log);
  fixture_end(&fx);
}
END_TEST

/* The guest's answer is shown to the user of `hull start` as one line
 * without a terminal's escape sequences. */
START_TEST(start_shows_the_guests_error_as_plain_text) {
  struct fixture fx;
  start_monitor(&fx, "hostile-start-error", 10000);
  char type;
  free(monitor_boot(&fx, &type));
  ck_assert_int_eq(type, MONITOR_READY);
  hull_error_t err = NULL;
  ck_assert_int_eq(vm_release(fx.dir, 0, 0, NULL, NULL, &err), -1);
  ck_assert_str_eq(err->msg, " ]0;owned no way");
  hull_error_release(&err);
  kill(fx.monitor, SIGKILL);
  monitor_wait(&fx);
  fixture_end(&fx);
}
END_TEST

/* A WINDOW for stdin the guest never got does not open the window wider
 * than VM_STDIN_WINDOW. */
START_TEST(monitor_keeps_stdin_within_the_window_of_a_lying_guest) {
  struct fixture fx;
  start_process_on_monitor(&fx, "window-lie");
  size_t total = 2 * VM_STDIN_WINDOW;
  pid_t writer = fork();
  ck_assert_int_ge(writer, 0);
  if (writer == 0) {
    static char chunk[65536];
    for (size_t sent = 0; sent < total; sent += sizeof(chunk))
      if (write_all(fx.stdin_w, chunk, sizeof(chunk)) < 0)
        _exit(1);
    _exit(0);
  }
  usleep(500 * 1000);
  cleanup_free char *first = xasprintf("got:%u\n", VM_STDIN_WINDOW);
  kill(fx.monitor, SIGUSR2);
  expect_output(fx.stdout_r, first);
  kill(writer, SIGKILL);
  waitpid(writer, NULL, 0);
  kill(fx.monitor, SIGKILL);
  monitor_wait(&fx);
  fixture_end(&fx);
}
END_TEST

/* A guest that claims its process was stopped (not a way to end): the
 * monitor and exec's relay end all the same, rather than stop forever. */
START_TEST(exit_like_ends_for_a_stop_signal) {
  int stops[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
  for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
      vm_exit_like(stops[i]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, WUNTRACED), pid);
    if (WIFSTOPPED(st)) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + stops[i],
                  "signal %d: status %#x", stops[i], st);
  }
}
END_TEST

/* ---- exec's relay --------------------------------------------------------- */

START_TEST(relay_forwards_output_signals_and_exit_status) {
  int sv[2], out[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ck_assert_int_eq(pipe(out), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(sv[0]);
    close(out[0]);
    int null = open("/dev/null", O_RDONLY);
    struct vm_inq q = {0};
    vm_relay_main(sv[1], &q, 2, null, out[1], out[1], false);
  }
  close(sv[1]);
  close(out[1]);
  hull_error_t err = NULL;
  struct vm_inq q = {0};
  /* stdin at EOF: an empty STDIN closes it in the guest */
  struct vm_frame f = expect_frame(sv[0], &q, VM_FRAME_STDIN, 2);
  ck_assert_int_eq(f.len, 0);
  kill(pid, SIGUSR2);
  f = expect_frame(sv[0], &q, VM_FRAME_SIGNAL, 2);
  struct vm_signal_msg s;
  memcpy(&s, f.payload, sizeof(s));
  ck_assert_int_eq(s.signo, SIGUSR2);
  ck_assert_int_eq(s.all, 0);
  ck_assert_int_eq(vm_frame_send(sv[0], VM_FRAME_STDOUT, 2, "out", 3, &err), 0);
  struct vm_exit_msg x = {5 << 8};
  ck_assert_int_eq(vm_frame_send(sv[0], VM_FRAME_EXIT, 2, &x, sizeof(x), &err), 0);
  expect_output(out[0], "out");
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 5);
  vm_inq_free(&q);
  close(sv[0]);
  close(out[0]);
}
END_TEST

/* ---- hull's waits on the VM: bounded, and ended by a held SIGTERM -------- */

/* A monitor (or agent) that never answers: the wait ends at its timeout,
 * and at once when the command's SIGTERM is pending (interrupt_hold). */
START_TEST(vm_waits_end_at_their_timeout_or_on_sigterm) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  struct vm_inq q = {0};
  struct vm_frame f;
  hull_error_t err = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ck_assert_int_eq(vm_frame_receive(sv[0], &q, &f, 200, &err), -1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ck_assert_int_eq(err->errno_value, ETIMEDOUT);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  ck_assert_msg(ms >= 190 && ms < 2000, "timed out after %ld ms", ms);
  hull_error_release(&err);

  interrupt_hold();
  ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ck_assert_int_eq(vm_frame_receive(sv[0], &q, &f, -1, &err), -1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ck_assert_str_eq(err->msg, "waiting for the VM: interrupted by SIGTERM");
  ck_assert_int_eq(err->errno_value, EINTR);
  ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  ck_assert_msg(ms < 1000, "interrupted after %ld ms", ms);
  hull_error_release(&err);
  /* Still pending for main() to act on; take it back here. */
  ck_assert_int_eq(interrupt_pending(), SIGTERM);
  sigset_t set;
  interrupt_signals(&set);
  ck_assert_int_eq(sigtimedwait(&set, NULL, &(struct timespec){0, 0}),
                   SIGTERM);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  vm_inq_free(&q);
  close(sv[0]);
  close(sv[1]);
}
END_TEST

static Suite *vm_monitor_suite(void) {
  Suite *s = suite_create("vm-monitor");
  TCase *lines = tcase_create("command-lines");
  tcase_set_timeout(lines, 30);
  tcase_add_test(lines, kernel_cmdline_ends_with_the_agent);
  tcase_add_test(lines, qemu_argv_is_a_tcg_pc_with_a_uart_and_a_virtio_port);
  tcase_add_test(lines, qemu_argv_leaves_accel_to_the_user);
  tcase_add_test(lines, qemu_argv_has_the_balloon_and_the_memory_backing);
  tcase_add_test(lines, qemu_argv_is_a_microvm_for_a_pvh_kernel);
  tcase_add_test(lines, qemu_argv_has_a_virtio_net_card_per_tap);
  tcase_add_test(lines, qemu_argv_exports_each_share_over_virtio_9p);
  tcase_add_test(lines, qemu_argv_virtiofs_shares_and_disk);
  tcase_add_test(lines, kernel_modules_come_after_what_they_need);
  tcase_add_test(lines, mmio_cmdline_comes_from_the_config_beside_the_kernel);
  tcase_add_test(lines, a_release_without_modules_adds_none);
  tcase_add_test(lines, qemu_kernel_params_say_how_the_guest_resets);
  tcase_add_test(lines, qemu_kernel_params_spare_a_tcg_guest_its_slow_boot_work);
  tcase_add_test(lines, exit_like_passes_codes_and_signals_on);
  tcase_add_test(lines, exit_like_ends_for_a_stop_signal);
  tcase_add_test(lines, bzimage_unpacks_once_into_the_cache);
  tcase_add_test(lines, kvm_probe_answers_once_per_boot);
  suite_add_tcase(s, lines);
  TCase *mon = tcase_create("monitor");
  tcase_set_timeout(mon, 30);
  tcase_add_test(mon, monitor_relays_start_stdio_exec_and_signals);
  tcase_add_test(mon, monitor_keeps_stdin_within_the_window);
  tcase_add_test(mon, monitor_survives_a_resize_while_booting_and_takes_the_vm_along);
  tcase_add_test(mon, monitor_reports_a_hypervisor_that_exits_at_once);
  tcase_add_test(mon, monitor_times_out_with_the_last_console_line);
  tcase_add_test(mon, monitor_reports_the_agents_error);
  tcase_add_test(mon, relay_forwards_output_signals_and_exit_status);
  tcase_add_test(mon, vm_waits_end_at_their_timeout_or_on_sigterm);
  tcase_add_test(mon, monitor_stops_a_vm_whose_agent_sends_garbage);
  tcase_add_test(mon, monitor_takes_one_exit_and_stops_a_vm_that_repeats_it);
  tcase_add_test(mon, monitor_logs_a_flood_of_agent_errors_in_a_few_lines);
  tcase_add_test(mon, monitor_keeps_stdin_within_the_window_of_a_lying_guest);
  tcase_add_test(mon, start_shows_the_guests_error_as_plain_text);
  suite_add_tcase(s, mon);
  return s;
}

HULL_SUITE(vm_monitor_suite)
