/* host.h — the host side of VM mode (private to runtime/vm): what the
 * execution handler (handler.c), the monitor (monitor.c), the hypervisor
 * backends (qemu.c, builtin.c) and exec's relay (relay.c) share.
 *
 * The processes of a VM container on the host:
 *   hull create ──fork──▶ monitor (the container's pid; its cgroup and
 *                         namespaces; no capabilities)
 *                            └──fork──▶ hypervisor (qemu, or a fork running
 *                                       the built-in VMM); dies with the
 *                                       monitor (PR_SET_PDEATHSIG)
 *   hull exec ──fork──▶ relay (connected to <state dir>/vm.sock) */
#ifndef HULL_VM_HOST_H
#define HULL_VM_HOST_H

#include "vm.h"
#include "proto.h"

#include <net/if.h>
#include <signal.h>
#include <sys/un.h>

#define VM_SOCKET_NAME "vm.sock"
#define VM_CONSOLE_LOG_NAME "console.log"
#define VM_INITRD_NAME "initrd"

/* ---- the hypervisor (qemu.c, builtin.c) -------------------------------- */

/* ---- the container's network (net.c, modules.c) ------------------------ */

/* A card for the guest: a tap joined to an interface of the container's
 * network namespace. */
struct vm_nic {
  char tap[IFNAMSIZ];
  unsigned char mac[6];      /* the interface's: the guest's card gets it */
  int fd;                    /* the tap's queue, for the hypervisor */
};

struct vm_net {
  struct vm_nic *nics;
  size_t n;
  char *guest_config;        /* /vm/network's text (NULL: no cards) */
};

/* In the container's network namespace (the caller is in it, with
 * CAP_NET_ADMIN): a tap joined by tc to each interface that is up with
 * an Ethernet address and global addresses, and what the guest is to
 * configure. A failure names the interface and leaves no tap. */
int vm_net_prepare(struct vm_net *net, hull_error_t *err);
void vm_net_close(struct vm_net *net);

/* The release of a bzImage ("6.1.0-57-amd64"), NULL when it is not one. */
char *vm_kernel_release(const char *kernel);
/* The host paths of the modules names (and what they need, in load
 * order) of that release under /lib/modules; NULL when there are none
 * (not installed, or built in). */
char **vm_kernel_modules(const char *release, const char *const *names);

/* Whether the kernel finds virtio-mmio cards on its command line
 * (virtio_mmio.device=, CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES), as its config
 * says: <kernel>.config beside it (hull's own, `make guest-kernel`, is
 * installed so), else /boot/config-<release> (release may be NULL: an ELF
 * vmlinux carries none we read); false when unknown. */
bool vm_kernel_has_mmio_cmdline(const char *kernel, const char *release);
/* Whether that config has the line `option=y` (built in). */
bool vm_kernel_builds_in(const char *kernel, const char *release,
                         const char *option);

/* ---- the container's files, shared live with the guest (share.c) ------- */

/* One export: qemu's -fsdev local,path=host_path (virtio-9p), a
 * virtiofsd's -o source=host_path (virtio-fs), or vm.image (disk). */
struct vm_share {
  char *tag;          /* the device's mount tag; a disk's guest device */
  char *host_path;    /* the directory exported; a disk's image */
  char *file_source;  /* a bind of a non-directory: what the monitor mounts
                         on host_path/VM_SHARE_ENTRY; NULL for a directory */
  char *guest_path;   /* /bundle/rootfs or /bundle/binds/N */
  bool readonly;      /* refused on the host: qemu's readonly=on, or a
                         read-only bind mount under virtiofsd */
  bool disk;          /* the rootfs is vm.image, a virtio-blk disk */
};

struct vm_shares {
  struct vm_share *v;
  size_t n;
  enum vm_share_transport transport; /* of the directories */
};

/* The rootfs (read-only with root.readonly; s->image's disk when set) and
 * the source of each bind mount the guest gets (vm_mount_source_to_guest;
 * read-only with "ro"), over s->share. A non-directory's share dir,
 * <state_dir>/shares/N, is made here. */
int vm_shares_plan(const struct spec *spec, const struct vm_settings *s,
                   const char *rootfs, const char *state_dir,
                   struct vm_shares *out, hull_error_t *err);
void vm_shares_free(struct vm_shares *s);
/* VM_GUEST_SHARES's text. */
char *vm_shares_guest_text(const struct vm_shares *s);
/* In the monitor's own mount namespace (root, before its capabilities go):
 * each non-directory source bind-mounted on its share's entry. */
int vm_shares_mount_entries(const struct vm_shares *s, hull_error_t *err);

/* ---- virtio-fs's daemons (virtiofs.c) ---------------------------------- */

/* In the monitor's own mount namespace, as root, before its capabilities
 * go: a virtiofsd (s is VM_SHARE_VIRTIOFS) for each directory share, a
 * read-only one over a read-only bind mount made here under state_dir,
 * with qemu's options or the Rust one's (qemus: vm_virtiofsd_is_qemus),
 * each listening on a socket whose other end, connected, is (*fds)[i]
 * (-1 for a disk): qemu's vhost-user chardev. They write errors to
 * stderr_fd, die with the monitor and exit when qemu hangs up. */
int vm_virtiofs_start(const struct vm_shares *s, const char *virtiofsd,
                      bool qemus, const char *state_dir, int stderr_fd,
                      int **fds, hull_error_t *err);
void vm_virtiofs_close(int *fds, size_t n);

/* What a backend needs to boot the guest. */
struct vm_boot {
  const struct vm_settings *settings;
  const char *kernel;      /* what to boot: settings->kernel, or the ELF
                              vm_unpacked_kernel made of it */
  bool pvh_kernel;         /* kernel is that ELF (it has a PVH entry) */
  bool kvm;                /* qemu: accel=kvm, else tcg (qemu_kvm_native) */
  const char *initrd;      /* <state dir>/initrd */
  const char *console_log; /* <state dir>/console.log: the guest's ttyS0 */
  const char *cmdline;     /* the guest kernel's command line */
  int agent_fd;            /* the hypervisor's end of the agent channel */
  int stderr_fd;           /* the hypervisor's stderr (the monitor reads it) */
  bool pci;                /* qemu: a pc even for a PVH kernel (its virtio
                              devices are on PCI: qemu_needs_pci) */
  const struct vm_nic *nics; /* virtio-net cards */
  size_t n_nics;
  const struct vm_shares *shares; /* the shared files (qemu only; NULL:
                                     the files are in the initramfs) */
  const int *virtiofs_fds;  /* per share, its virtiofsd's socket (-1:
                               none), for qemu (vm_virtiofs_start) */
};

/* The ELF vmlinux inside the bzImage kernel, unpacked once into
 * <cache_dir>/vm/ (vmlinux.c); NULL when kernel is to be booted as it is.
 * *lock (-1 with NULL) holds the entry in the cache until closed: not
 * evicted while qemu is to read it. */
char *vm_unpacked_kernel(const char *kernel, const char *cache_dir,
                         int *lock);
/* Whether kernel is itself an ELF with a PVH entry (a vmlinux). */
bool vm_kernel_is_pvh_elf(const char *kernel);

/* `console=ttyS0 panic=-1 quiet cryptomgr.notests <backend_params>
 * <kernel_params> vm-agent`: backend_params (or NULL) are what the
 * hypervisor's machine needs (qemu_kernel_params; the built-in VMM's
 * `reboot=k`), before the user's, which may override them. */
char *vm_kernel_cmdline(const struct vm_settings *s,
                        const char *backend_params);

/* Whether qemu runs s's guest as a `microvm` (else a `pc`): for a kernel
 * with a PVH entry, unless the hypervisor parameters name a machine. */
bool qemu_uses_microvm(const struct vm_settings *s, bool pvh_kernel);
/* Whether qemu runs a `pc` where it would run a microvm: the guest's
 * virtio devices (the agent channel's port, network cards) are on a
 * microvm's virtio-mmio, announced on the kernel's command line only (it
 * runs without ACPI), which a kernel without
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) does not read; a pc's
 * virtio-pci every kernel finds. */
bool qemu_needs_pci(const struct vm_settings *s, bool pvh_kernel);
/* What the qemu machine needs on the kernel's command line: how the guest
 * resets (ending qemu), on a microvm the host's TSC rate, without kvm
 * (TCG) what spares the guest's boot slow emulated work, and the agent
 * channel's port (VM_CHANNEL_PARAM). */
char *qemu_kernel_params(const struct vm_settings *s, bool pvh_kernel,
                         bool kvm);

/* Whether qemu gets accel=kvm: /dev/kvm runs guest code natively
 * (vmm_probe_native), probed once per host boot and cached in
 * <cache_dir>/vm/kvm-native under /proc/sys/kernel/random/boot_id. false
 * without a usable /dev/kvm. */
bool qemu_kvm_native(const char *cache_dir);

/* A line of qemu's stderr about vm.image (its -drive), as one line naming
 * config.json's vm.image.path; NULL when line is about something else. */
char *qemu_image_error(const struct vm_settings *s, const char *line);

/* qemu's argv for b (free with strv_free); agent_fd is passed as fd=N; the
 * machine's accel= is b->kvm's unless the user's parameters have -accel. */
char **qemu_argv(const struct vm_boot *b);

/* Start the hypervisor as a child that dies with the caller
 * (PR_SET_PDEATHSIG), with stdin and stdout on /dev/null, stderr on
 * b->stderr_fd and no other fd but b->agent_fd. */
int qemu_start(const struct vm_boot *b, pid_t *pid, hull_error_t *err);
/* The child's side of either: its stdio, fds and death with the parent. */
int vm_backend_child_setup(const struct vm_boot *b, hull_error_t *err);
int builtin_start(const struct vm_boot *b, pid_t *pid, hull_error_t *err);
/* Whether the built-in VMM gives s's guest its agent channel on a virtio
 * console (hvc0) rather than COM2 (ttyS1): when the kernel has virtio-mmio
 * command-line devices and virtio_console built in, as hull's own has. */
bool builtin_agent_on_virtio(const struct vm_settings *s);
/* The built-in VMM's kernel parameters: how the guest resets, and where
 * the agent finds its channel (VM_CHANNEL_PARAM) when it is not ttyS1. */
char *builtin_kernel_params(const struct vm_settings *s);

/* ---- the monitor (monitor.c) ------------------------------------------- */

/* The monitor's conversation with vm_spawn over a SOCK_SEQPACKET pair. */
enum monitor_sync {
  MONITOR_SANDBOXED = 'N', /* → namespaces entered: place me, run hooks */
  MONITOR_GO = 'G',        /* ← start the hypervisor */
  MONITOR_READY = 'R',     /* → the agent said READY (+ guest release) */
  MONITOR_FAILED = 'E',    /* → setup failed (+ the message) */
};

struct monitor_config {
  struct vm_boot boot;    /* boot.agent_fd: the hypervisor's end */
  const char *state_dir;
  int agent_fd;           /* our end of the agent channel */
  int listen_fd;          /* <state dir>/vm.sock, listening */
  int sync_fd;            /* to vm_spawn */
  int in_fd, out_fd, err_fd; /* stream 1's stdio: 0, 1, 2 or a pty slave */
  bool terminal;          /* in_fd is a pty slave: SIGWINCH → WINSIZE */
  int ns_fds[SPEC_NS_COUNT]; /* namespaces to join (-1: none) */
  int new_ns_flags;       /* CLONE_NEW{NET,IPC,UTS,PID} to create */
  bool network;           /* the container has a network namespace (made
                             or joined): its interfaces become the VM's
                             cards. Without one the monitor is in the
                             host's, whose interfaces are never touched. */
};

/* The monitor's process, after the fork: enters the sandbox, waits for
 * MONITOR_GO, starts the hypervisor, serves the guest and vm.sock, and
 * exits with the container's process's status. */
void monitor_main(struct monitor_config *cfg) __attribute__((noreturn));

/* ---- streams: shared by the monitor and the exec relay ------------------ */

/* A byte_queue (proto.h) for a blocking fd (a pipe, a file, a tty) is
 * written only after POLLOUT, at most a pipe buffer's page at a time, so it
 * never blocks for long; fds the engine shares stay in blocking mode.
 * Writes some of it; -1 when fd is broken (the rest is dropped). */
int byte_queue_write_some(struct byte_queue *q, int fd);

/* The signals hull passes into the guest: every catchable one but SIGCHLD,
 * SIGPIPE and the synchronous faults. */
void vm_forwarded_signals(sigset_t *set);

/* Exits the way status (a wait(2) status) says: exit(code), or the same
 * signal with core dumps off. */
void vm_exit_like(int status) __attribute__((noreturn));

/* Makes fd a raw terminal (the guest's pty does the line discipline). */
int vm_tty_raw(int fd, hull_error_t *err);

/* ---- exec's relay (relay.c) --------------------------------------------- */

/* What `ps` shows for exec's relay. */
#define VM_RELAY_NAME "hull-vm-exec"

/* Relays stdio and signals for stream between sock (vm.sock, its EXEC
 * answered) and in/out/err until the stream's EXIT; in's leftover bytes
 * are in q. Exits like the exec'd process. */
void vm_relay_main(int sock, struct vm_inq *q, uint32_t stream, int in_fd,
                   int out_fd, int err_fd, bool terminal)
    __attribute__((noreturn));

/* A stream socket (*fd) and the address of <state_dir>/vm.sock, for the
 * monitor to listen on and the commands to connect to. */
int vm_socket_open(const char *state_dir, struct sockaddr_un *addr, int *fd,
                   hull_error_t *err);
/* Connects <state_dir>/vm.sock. */
int vm_socket_connect(const char *state_dir, int *fd, hull_error_t *err);

#endif
