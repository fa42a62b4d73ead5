/* handler.c — the VM execution handler the lifecycle calls: spawn (create:
 * settings, the guest's initramfs, the monitor, up to the agent's READY),
 * release (start), exec (a relay child for a process in the guest) and
 * signal_all (kill --all).
 *
 * Everything that can be refused is checked before anything starts; a
 * failure after the monitor was forked kills its process group (it, and
 * the hypervisor it started), and the lifecycle removes the rest. */
#include "host.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* How long `start`, `exec` and `kill --all` wait for the guest's answer. */
#define ANSWER_TIMEOUT_MS 30000
/* How much longer than the boot timeout create waits for the monitor. */
#define MONITOR_SLACK_MS 10000

char *vm_kernel_cmdline(const struct vm_settings *s,
                        const char *backend_params) {
  /* cryptomgr.notests: the kernel's self-tests of its crypto algorithms
   * take ~0.7 s of a TCG boot (crypto_algapi_init) and only check the
   * implementations against test vectors; a kernel in FIPS mode runs them
   * anyway. */
  char *line = xstrdup("console=ttyS0 panic=-1 quiet cryptomgr.notests");
  if (backend_params && *backend_params) {
    char *longer = xasprintf("%s %s", line, backend_params);
    free(line);
    line = longer;
  }
  for (size_t i = 0; s->kernel_params && s->kernel_params[i]; i++) {
    char *longer = xasprintf("%s %s", line, s->kernel_params[i]);
    free(line);
    line = longer;
  }
  /* vm-agent is init's argument without a `--` before it: a word with no
   * `=` or `.` that the kernel does not know goes to init anyway, and
   * what qemu's microvm appends after it (its cards' virtio_mmio.device=)
   * stays the kernel's, which a built-in virtio_mmio reads. */
  char *full = xasprintf("%s vm-agent", line);
  free(line);
  return full;
}

/* ---- the host's sandbox -------------------------------------------------- */

#define KVM_MAJOR 10
#define KVM_MINOR 232

int vm_prepare_spec(struct spec *spec, hull_error_t *err) {
  (void)err;
  struct spec_linux *l = spec->linux;
  if (l->resources == NULL)
    l->resources = xzalloc(sizeof(*l->resources));
  struct spec_resources *r = l->resources;
  /* Last among the config's rules, so none of them takes it away. */
  r->devices = xrealloc(r->devices, (r->n_devices + 1) * sizeof(*r->devices));
  r->devices[r->n_devices++] = (struct spec_device_rule){
      .allow = true,
      .type = xstrdup("c"),
      .major = {true, KVM_MAJOR},
      .minor = {true, KVM_MINOR},
      .access = xstrdup("rw"),
  };
  return 0;
}

/* ---- the guest's initramfs ---------------------------------------------- */

/* <state root>/.cache: the state dir's parent's, shared by containers. */
static char *cache_dir_of(const char *state_dir) {
  cleanup_free char *copy = xstrdup(state_dir);
  return xasprintf("%s/.cache", dirname(copy));
}

/* shares: NULL when the files are copied into it; else the initramfs
 * says what to mount, with the modules 9p needs. */
static int build_initrd(const struct process_config *cfg,
                        const struct vm_settings *s,
                        const struct vm_shares *shares, char *const *modules,
                        const char *out, hull_error_t *err) {
  cleanup_free char *cache = cache_dir_of(cfg->state_dir);
  cleanup_free char *base = NULL, *text = NULL, *guest_config = NULL;
  cleanup_free char *config = xasprintf("%s/config.json", cfg->state_dir);
  cleanup_close int base_lock = -1;
  if (vm_image_base(cache, &base, &base_lock, err) < 0 ||
      read_file(config, &text, NULL, err) < 0 ||
      vm_guest_config(text, cfg->spec, cfg->id, &guest_config, err) < 0)
    return -1;
  if (shares == NULL)
    return vm_image_container(s->initrd, base, cfg->spec, cfg->rootfs,
                              guest_config, s->memory_bytes, out, err);
  cleanup_free char *shares_text = vm_shares_guest_text(shares);
  return vm_image_container_shared(s->initrd, base, guest_config,
                                   shares_text, modules, out, err);
}

/* The guest kernel's modules for the shares (Debian's has them as
 * modules; vm_kernel_modules adds what each needs): the transport, each
 * file system's, and for a disk the ext4 that mounts the images hull's
 * tests make (crc32c_generic: ext4's metadata checksums ask the crypto
 * API for crc32c, which the guest, having no modprobe, cannot load on
 * demand). */
static char **share_modules(const struct vm_settings *s, bool microvm) {
  const char *names[8];
  size_t n = 0;
  names[n++] = microvm ? "virtio_mmio" : "virtio_pci";
  if (s->share == VM_SHARE_VIRTIOFS) {
    names[n++] = "virtiofs";
  } else {
    names[n++] = "9pnet_virtio";
    names[n++] = "9p";
  }
  if (s->image != NULL) {
    names[n++] = "virtio_blk";
    names[n++] = "crc32c_generic";
    names[n++] = "ext4";
  }
  names[n] = NULL;
  cleanup_free char *release = vm_kernel_release(s->kernel);
  return vm_kernel_modules(release, names);
}

/* The rootfs and bind sources as shares (share.c), and the guest kernel's
 * modules for them: on the machine's transport (a microvm's virtio-mmio
 * or a pc's PCI, as qemu_needs_pci chose). */
static int plan_shares(const struct process_config *cfg,
                       const struct vm_settings *s, bool microvm,
                       struct vm_shares *shares, char ***modules,
                       hull_error_t *err) {
  if (vm_shares_plan(cfg->spec, s, cfg->rootfs, cfg->state_dir, shares,
                     err) < 0)
    return -1;
  *modules = share_modules(s, microvm);
  return 0;
}

/* ---- talking to the monitor during create -------------------------------- */

/* One message from the monitor: its type and text (NUL-terminated). */
static int sync_receive(int fd, char *type, char **text, int timeout_ms,
                        hull_error_t *err) {
  int n = wait_fd(fd, POLLIN, timeout_ms, "waiting for the VM monitor", err);
  if (n < 0)
    return -1;
  if (n == 0)
    return hull_error(err, ETIMEDOUT, "the VM monitor did not answer");
  char buf[8192];
  ssize_t got;
  do
    got = recv(fd, buf, sizeof(buf) - 1, 0);
  while (got < 0 && errno == EINTR);
  if (got <= 0)
    return hull_error(err, 0, "the VM monitor exited during setup");
  buf[got] = '\0';
  *type = buf[0];
  *text = xstrdup(buf + 1);
  if (*type == MONITOR_FAILED) {
    hull_error(err, 0, "%s", *text);
    free(take_ptr(*text));
    return -1;
  }
  return 0;
}

static int expect(int fd, char want, char **text, int timeout_ms,
                  hull_error_t *err) {
  char type = 0;
  if (sync_receive(fd, &type, text, timeout_ms, err) < 0)
    return -1;
  if (type != want) {
    free(take_ptr(*text));
    return hull_error(err, 0, "the VM monitor sent `%c`, not `%c`", type,
                      want);
  }
  return 0;
}

/* The parent's half of create once the monitor runs: place it, run the
 * hooks, let it boot, wait for the agent. */
static int converse(const struct process_config *cfg,
                    const struct vm_settings *s, int fd, pid_t monitor,
                    hull_error_t *err) {
  cleanup_free char *none = NULL, *state = NULL, *release = NULL;
  if (expect(fd, MONITOR_SANDBOXED, &none, MONITOR_SLACK_MS, err) < 0)
    return -1;
  if (cfg->on_ns_ready && cfg->on_ns_ready(cfg->ctx, monitor, &state, err) < 0)
    return -1;
  if (cfg->on_rootfs_ready && cfg->on_rootfs_ready(cfg->ctx, err) < 0)
    return -1;
  char go = MONITOR_GO;
  if (send(fd, &go, 1, MSG_NOSIGNAL) != 1)
    return hull_error(err, 0, "the VM monitor exited during setup");
  if (expect(fd, MONITOR_READY, &release, (int)s->boot_timeout_ms +
                                              MONITOR_SLACK_MS, err) < 0)
    return -1;
  log_debug("VM ready: guest kernel %s", release);
  return 0;
}

/* ---- the monitor's sockets, terminal and namespaces ---------------------- */

static int listen_on(const char *state_dir, int *fd, hull_error_t *err) {
  struct sockaddr_un addr;
  if (vm_socket_open(state_dir, &addr, fd, err) < 0)
    return -1;
  unlink(addr.sun_path);
  if (bind(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(*fd, 16) < 0)
    return hull_error(err, errno, "listen on `%s`", addr.sun_path);
  return 0;
}

/* process.terminal: a host pty whose master goes to the engine; the
 * monitor relays the slave (raw: the guest's own pty does the line
 * discipline) as stream 1. */
static int make_pty(int console_fd, const struct spec_process *p, int *slave,
                    hull_error_t *err) {
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return hull_error(err, errno, "open /dev/ptmx");
  char name[64];
  if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
    return hull_error(err, errno, "allocate pty");
  *slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0)
    return hull_error(err, errno, "open `%s`", name);
  if (p->has_console_size) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_height,
                         .ws_col = (unsigned short)p->console_width};
    ioctl(master, TIOCSWINSZ, &ws);
  }
  return console_send_master(console_fd, master, err);
}

/* The namespaces the monitor joins (path) or makes: the network, IPC, UTS
 * and pid ones. The rest belong to the guest. */
static int sandbox_namespaces(const struct spec *spec, int fds[SPEC_NS_COUNT],
                              int *new_flags, hull_error_t *err) {
  if (ns_open_paths(spec, fds, err) < 0)
    return -1;
  for (int t = 0; t < SPEC_NS_COUNT; t++) {
    if (t == SPEC_NS_NETWORK || t == SPEC_NS_IPC || t == SPEC_NS_UTS ||
        t == SPEC_NS_PID || fds[t] < 0)
      continue;
    close(fds[t]);
    fds[t] = -1;
  }
  *new_flags =
      ns_new_flags(spec) & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                            CLONE_NEWPID);
  return 0;
}

/* fork() into the cgroup cgroup_fd (-1: ours); plain fork without
 * clone3, and the lifecycle's on_ns_ready moves the child. */
static pid_t fork_into_cgroup(int cgroup_fd) {
  struct clone_args args = {.exit_signal = SIGCHLD};
  if (cgroup_fd >= 0) {
    args.flags = CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0 && (errno == ENOSYS || errno == EINVAL || errno == EBADF ||
                  errno == EOPNOTSUPP))
    pid = fork();
  return pid;
}

static void kill_monitor(pid_t pid) {
  /* Its process group holds the hypervisor too (it called setsid). */
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

struct spawn_fds {
  int listen, agent[2], sync[2], slave;
  int ns[SPEC_NS_COUNT];
};

static void spawn_fds_close(struct spawn_fds *f) {
  int *all[] = {&f->listen, &f->agent[0], &f->agent[1], &f->sync[0],
                &f->sync[1], &f->slave};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    if (*all[i] >= 0) {
      close(*all[i]);
      *all[i] = -1;
    }
  ns_close_paths(f->ns);
}

static void __attribute__((noreturn))
run_monitor(struct monitor_config *mc, struct spawn_fds *f) {
  int keep[8 + SPEC_NS_COUNT];
  size_t n = 0;
  keep[n++] = f->listen;
  keep[n++] = f->agent[0];
  keep[n++] = f->agent[1];
  keep[n++] = f->sync[1];
  keep[n++] = f->slave;
  keep[n++] = log_fd();
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    keep[n++] = f->ns[t];
  close_fds_except(3, keep, n);
  close(f->sync[0]);
  monitor_main(mc);
}

/* What the agent channel's socket holds in flight each way. The default
 * (~200 KiB) fills in well under a millisecond at the rate a virtio port
 * moves, and every time it is full qemu parks the port until its main
 * loop sees room again; a few megabytes keep it streaming. Only root may
 * go past net.core.wmem_max (FORCE); the default is fine otherwise. */
#define CHANNEL_SOCKET_BUFFER (4 << 20)
static void widen_channel(const int fds[2]) {
  int size = CHANNEL_SOCKET_BUFFER;
  for (int i = 0; i < 2; i++)
    if (setsockopt(fds[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) <
        0)
      setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int vm_spawn(const struct process_config *cfg, pid_t *pid,
             hull_error_t *err) {
  struct vm_settings s = {0};
  if (vm_settings_from_spec(cfg->spec, &s, err) < 0)
    return -1;
  cleanup_free char *initrd =
      xasprintf("%s/%s", cfg->state_dir, VM_INITRD_NAME);
  cleanup_free char *console_log =
      xasprintf("%s/%s", cfg->state_dir, VM_CONSOLE_LOG_NAME);
  cleanup_free char *cache = cache_dir_of(cfg->state_dir);
  /* Held until the monitor has booted the VM (vm_spawn returns). */
  cleanup_close int kernel_lock = -1;
  cleanup_free char *unpacked = vm_unpacked_kernel(s.kernel, cache, &kernel_lock);
  bool pvh = unpacked != NULL || vm_kernel_is_pvh_elf(s.kernel);
  bool pci = qemu_needs_pci(&s, pvh);
  bool microvm = s.hypervisor && qemu_uses_microvm(&s, pvh) && !pci;
  struct vm_shares shares = {0};
  cleanup_strv char **share_modules = NULL;
  if (!s.files_copied && plan_shares(cfg, &s, microvm, &shares,
                                     &share_modules, err) < 0) {
    vm_settings_free(&s);
    return -1;
  }
  bool kvm = s.hypervisor && qemu_kvm_native(cache);
  cleanup_free char *backend_params =
      s.hypervisor ? qemu_kernel_params(&s, pvh && !pci, kvm)
                   : builtin_kernel_params(&s);
  cleanup_free char *cmdline = vm_kernel_cmdline(&s, backend_params);
  struct spawn_fds f = {.listen = -1, .agent = {-1, -1}, .sync = {-1, -1},
                        .slave = -1};
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    f.ns[t] = -1;
  int new_flags = 0;
  int ret = -1;
  if (build_initrd(cfg, &s, s.files_copied ? NULL : &shares, share_modules,
                   initrd, err) < 0 ||
      sandbox_namespaces(cfg->spec, f.ns, &new_flags, err) < 0 ||
      listen_on(cfg->state_dir, &f.listen, err) < 0)
    goto out;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f.agent) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f.sync) < 0) {
    hull_error(err, errno, "socketpair");
    goto out;
  }
  widen_channel(f.agent);
  bool terminal = cfg->spec->process->terminal && cfg->console_fd >= 0;
  if (terminal && make_pty(cfg->console_fd, cfg->spec->process, &f.slave,
                           err) < 0)
    goto out;
  struct monitor_config mc = {
      .boot = {.settings = &s, .kernel = unpacked ? unpacked : s.kernel,
               .pvh_kernel = pvh,
               .kvm = kvm,
               .initrd = initrd, .console_log = console_log,
               .cmdline = cmdline, .agent_fd = f.agent[1], .stderr_fd = -1,
               .pci = pci, .shares = s.files_copied ? NULL : &shares},
      .state_dir = cfg->state_dir,
      .agent_fd = f.agent[0],
      .listen_fd = f.listen,
      .sync_fd = f.sync[1],
      .in_fd = terminal ? f.slave : 0,
      .out_fd = terminal ? f.slave : 1,
      .err_fd = terminal ? f.slave : 2,
      .terminal = terminal,
      .new_ns_flags = new_flags,
      .network = f.ns[SPEC_NS_NETWORK] >= 0 || (new_flags & CLONE_NEWNET),
  };
  memcpy(mc.ns_fds, f.ns, sizeof(f.ns));
  pid_t monitor = fork_into_cgroup(cfg->cgroup_fd);
  if (monitor < 0) {
    hull_error(err, errno, "fork the VM monitor");
    goto out;
  }
  if (monitor == 0)
    run_monitor(&mc, &f);
  close(f.sync[1]);
  f.sync[1] = -1;
  int fd = f.sync[0];
  f.sync[0] = -1;
  spawn_fds_close(&f);
  ret = converse(cfg, &s, fd, monitor, err);
  close(fd);
  if (ret < 0) {
    kill_monitor(monitor);
    goto out;
  }
  *pid = monitor;
out:
  spawn_fds_close(&f);
  vm_shares_free(&shares);
  vm_settings_free(&s);
  return ret;
}

/* ---- start, kill --all: one request on stream 1 --------------------------- */

static int request(const char *state_dir, uint32_t type, uint32_t stream,
                   const void *payload, size_t len, int *sock_out,
                   struct vm_inq *q, hull_error_t *err) {
  cleanup_close int sock = -1;
  if (vm_socket_connect(state_dir, &sock, err) < 0 ||
      vm_frame_send(sock, type, stream, payload, len, err) < 0)
    return -1;
  for (;;) {
    struct vm_frame f;
    if (vm_frame_receive(sock, q, &f, ANSWER_TIMEOUT_MS, err) < 0)
      return hull_error_wrap(err, "%s", vm_frame_type_name(type));
    if (f.stream != stream)
      continue;
    if (f.type == VM_FRAME_ERROR) {
      /* The guest's words, on the user's terminal. */
      cleanup_free char *text = vm_frame_text(&f);
      return hull_error(err, 0, "%s", text);
    }
    if (f.type == VM_FRAME_OK)
      break;
  }
  if (sock_out)
    *sock_out = take_fd(&sock);
  return 0;
}

int vm_release(const char *state_dir, pid_t pid, uint64_t start_time,
               void (*released)(void *ctx), void *ctx, hull_error_t *err) {
  (void)pid;
  (void)start_time;
  struct vm_inq q = {0};
  int ret = request(state_dir, VM_FRAME_START, VM_STREAM_INIT, NULL, 0, NULL,
                    &q, err);
  vm_inq_free(&q);
  if (ret < 0)
    return -1;
  /* state.c derives `created` from the fifo's existence. */
  cleanup_free char *fifo = xasprintf("%s/exec.fifo", state_dir);
  if (unlink(fifo) < 0 && errno != ENOENT)
    return hull_error(err, errno, "unlink `%s`", fifo);
  if (released)
    released(ctx);
  return 0;
}

int vm_signal_all(const char *state_dir, int sig, hull_error_t *err) {
  struct vm_signal_msg m = {sig, 1};
  struct vm_inq q = {0};
  int ret = request(state_dir, VM_FRAME_SIGNAL, VM_STREAM_INIT, &m, sizeof(m),
                    NULL, &q, err);
  vm_inq_free(&q);
  return ret;
}

/* ---- exec: a relay child -------------------------------------------------- */

int vm_exec(const struct exec_config *cfg, pid_t *pid, hull_error_t *err) {
  cleanup_free char *json = spec_process_to_json(cfg->spec->process);
  struct vm_inq q = {0};
  cleanup_close int sock = -1;
  cleanup_close int slave = -1;
  bool terminal = cfg->spec->process->terminal && cfg->console_fd >= 0;
  int ret = request(cfg->state_dir, VM_FRAME_EXEC, VM_STREAM_FIRST_EXEC, json,
                    strlen(json), &sock, &q, err);
  if (ret == 0 && terminal)
    ret = make_pty(cfg->console_fd, cfg->spec->process, &slave, err);
  if (ret == 0 && terminal)
    ret = vm_tty_raw(slave, err);
  /* The relay is named before `exec` returns its pid (a shim may look at
   * it at once): it closes its end of this pipe once named. */
  int named[2] = {-1, -1};
  if (ret == 0 && pipe2(named, O_CLOEXEC) < 0)
    ret = hull_error(err, errno, "pipe");
  /* In the container's cgroup, as an exec'd process would be: `ps` lists
   * it, `delete` ends it. */
  pid_t child = ret == 0 ? fork_into_cgroup(cfg->cgroup_fd) : 0;
  if (child != 0 && named[1] >= 0) {
    close(named[1]);
    named[1] = -1;
  }
  if (ret == 0 && child < 0)
    ret = hull_error(err, errno, "fork the exec relay");
  if (ret == 0 && child > 0 && cfg->enter_cgroup &&
      cfg->enter_cgroup(cfg->ctx, child, err) < 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
      ;
    ret = -1;
  }
  if (ret < 0) {
    vm_inq_free(&q);
    if (named[0] >= 0)
      close(named[0]);
    if (named[1] >= 0)
      close(named[1]);
    if (sock >= 0) {
      /* Started, but nobody will relay for it: end it. */
      struct vm_signal_msg m = {SIGKILL, 0};
      cleanup_error hull_error_t ignored = NULL;
      vm_frame_send(sock, VM_FRAME_SIGNAL, VM_STREAM_FIRST_EXEC, &m,
                    sizeof(m), &ignored);
    }
    return -1;
  }
  if (child == 0) {
    prctl(PR_SET_NAME, VM_RELAY_NAME, 0, 0, 0);
    /* Nothing of `hull exec`'s but its stdio: the state dir's fd carries
     * the container's lock, which must go when `hull exec` returns (and
     * `named`, which then tells it we are named). */
    int keep[] = {sock, slave, log_fd()};
    close_fds_except(3, keep, sizeof(keep) / sizeof(keep[0]));
    if (terminal) {
      /* Its controlling terminal: resizes arrive as SIGWINCH. */
      setsid();
      ioctl(slave, TIOCSCTTY, 0);
    }
    int in = terminal ? slave : 0, out = terminal ? slave : 1,
        errfd = terminal ? slave : 2;
    vm_relay_main(sock, &q, VM_STREAM_FIRST_EXEC, in, out, errfd, terminal);
  }
  char c;
  while (read(named[0], &c, 1) < 0 && errno == EINTR)
    ;
  close(named[0]);
  vm_inq_free(&q);
  *pid = child;
  return 0;
}
