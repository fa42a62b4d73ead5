/* vm.h — VM mode ("strong isolation"): the execution handler that runs a
 * container's process in a microVM under a guest kernel of the user's
 * choosing, instead of in namespaces on the host kernel.
 *
 *   config.c   what VM a container asks for: the spec's `vm` object or the
 *              run.oci.handler=vm annotation and its run.oci.vm.* fellows
 *   image.c    the guest's initramfs: a cached base (hull itself as /init,
 *              the guest agent, with the shared objects it runs with) and
 *              the container's part (its config; copies of its rootfs and
 *              bind sources for the built-in VMM, else what to mount)
 *   share.c    under qemu, the rootfs and bind sources shared live with the
 *              guest (virtio-9p or virtio-fs), or the rootfs a disk image
 *   virtiofs.c the virtiofsd processes that serve virtio-fs shares
 *   disk.c     vm.image as a virtio-blk disk
 *   monitor.c  the host side of a running VM: the container's pid, it
 *              starts the hypervisor, relays stdio and signals, serves
 *              <state dir>/vm.sock, and exits with the container's status
 *   net.c      the container's network namespace's interfaces as taps for
 *              virtio-net cards, and what the guest is to configure
 *   modules.c  the guest kernel's virtio modules (the agent channel's
 *              port, network cards), from /lib/modules
 *   qemu.c     the qemu backend (vm.hypervisor.path)
 *   handler.c  the execution handler the lifecycle calls
 *   proto.c    the agent protocol (proto.h)
 *   vmm/       hull's own VMM on /dev/kvm (vmm.h), the default backend
 *   guest/     the guest agent, `hull vm-agent`, PID 1 in the guest */
#ifndef HULL_VM_H
#define HULL_VM_H

#include "runtime/common/common.h"
#include "runtime/spec/spec.h"

#include <stdbool.h>
#include <stdint.h>

/* The annotation that asks for a VM with defaults, as crun's
 * run.oci.handler=krun; run.oci.vm.* annotations override the defaults. */
#define VM_HANDLER_ANNOTATION "run.oci.handler"
#define VM_HANDLER_NAME "vm"
#define VM_ANNOTATION_PREFIX "run.oci.vm."

/* ---- what VM a container asks for (config.c) ---------------------------- */

/* What backs the guest's memory on the host (run.oci.vm.memory_backing). */
enum vm_memory_backing {
  VM_BACKING_DEFAULT, /* the hypervisor's anonymous memory (qemu madvises
                         it for transparent huge pages: THP when the host's
                         policy is madvise or always) */
  VM_BACKING_THP,     /* the same, made explicit, and refused on a host
                         whose transparent huge pages are off */
  VM_BACKING_HUGETLB, /* the host's reserved huge pages (a hugetlb memfd);
                         refused when too few are free */
};

/* How qemu shares the container's files with the guest
 * (run.oci.vm.rootfs). */
enum vm_share_transport {
  VM_SHARE_9P,       /* qemu's own virtio-9p server (share.c) */
  VM_SHARE_VIRTIOFS, /* virtio-fs: a virtiofsd per share (virtiofs.c) */
};

struct vm_settings {
  char *kernel;             /* absolute path of a bzImage or ELF vmlinux */
  char *initrd;             /* the user's initrd (laid under hull's), or NULL */
  char **kernel_params;     /* appended to hull's kernel command line
                               (never NULL; may be empty) */
  char *hypervisor;         /* NULL: the built-in VMM; else qemu-system-* */
  char **hypervisor_params; /* appended to the hypervisor's arguments
                               (never NULL; may be empty) */
  unsigned vcpus;           /* >= 1 */
  uint64_t memory_bytes;    /* a whole number of MiB, >= 64 MiB */
  unsigned boot_timeout_ms; /* how long the agent may take to say READY */
  bool files_copied;        /* the rootfs and bind sources are copied into
                               the initramfs (the built-in VMM, which has
                               no virtio, or run.oci.vm.rootfs=initramfs);
                               else qemu shares them (share) */
  enum vm_share_transport share; /* how, when not copied */
  char *virtiofsd;          /* the virtiofsd that serves VM_SHARE_VIRTIOFS */
  bool virtiofsd_qemus;     /* it is qemu's (vm_virtiofsd_is_qemus) */
  char *image;              /* vm.image.path: a virtio-blk disk holding the
                               container's rootfs (NULL: root.path's files,
                               shared or copied) */
  const char *image_format; /* qemu's name of vm.image.format's driver */
  bool balloon;             /* a virtio-balloon with free page reporting:
                               the guest hands back the pages it frees
                               (qemu only; on unless run.oci.vm.balloon=
                               false) */
  enum vm_memory_backing memory_backing;
};

/* The virtiofsd to run (virtiofs.c): `virtiofsd` on $PATH, else Debian's
 * virtiofsd package's /usr/libexec/virtiofsd, else qemu's own
 * /usr/lib/qemu/virtiofsd; NULL when none is executable. */
char *vm_virtiofsd_find(void);
#define VM_VIRTIOFSD_PLACES "$PATH, /usr/libexec/virtiofsd, /usr/lib/qemu/virtiofsd"
/* Whether it is qemu's own (C; -o options) rather than the Rust one: its
 * --version says "using FUSE kernel interface". Runs it. */
bool vm_virtiofsd_is_qemus(const char *virtiofsd);

/* True when the spec has a `vm` object or run.oci.handler=vm. */
bool vm_wanted(const struct spec *spec);
/* hull's own guest kernel (runtime/vm/guest-kernel/, `make guest-kernel`):
 * where `make install` puts it (the Makefile passes $(LIBEXECDIR)'s), and
 * the variable that names another instead (the build tree's, for `make
 * check` and `make bench`). */
#ifndef HULL_GUEST_KERNEL_PATH
#define HULL_GUEST_KERNEL_PATH "/usr/local/libexec/hull/vmlinux"
#endif
#define GUEST_KERNEL_ENV "HULL_GUEST_KERNEL"

/* The settings from spec->vm and the annotations, defaults filled in (the
 * kernel: hull's own, else the host's newest /boot/vmlinuz-*; 1 vCPU,
 * 256 MiB or what the container's memory limit leaves for the guest), and
 * checked before
 * anything starts: the kernel is a kernel image, the initrd and the
 * hypervisor exist, /dev/kvm opens for the built-in VMM, and the parts of
 * the `vm` object hull cannot honour are refused by name. */
int vm_settings_from_spec(const struct spec *spec, struct vm_settings *out,
                          hull_error_t *err);
void vm_settings_free(struct vm_settings *s);

/* ---- the guest's initramfs (image.c) ------------------------------------ */

/* The base initramfs, built once per hull binary and kept under
 * <cache_dir>/vm/ (cache_dir: <root>/.cache): hull as /init and the shared
 * objects it is running with. *path (allocated) is its path; *lock holds
 * it in the cache (cache.c: not evicted) until closed. */
int vm_image_base(const char *cache_dir, char **path, int *lock,
                  hull_error_t *err);
/* The guest's config.json: the bundle's config_text with what only the
 * host can honour taken out or rewritten (vm, hooks, namespace paths,
 * the cgroup path, bind sources moved to /bundle/binds/N). spec (may be
 * NULL): the config as hull runs it; the mounts hull added past the
 * config's own (the notify socket's directory, a hull network's
 * /etc/hosts and /etc/resolv.conf) go to the guest too. */
int vm_guest_config(const char *config_text, const struct spec *spec,
                    const char *id, char **out, hull_error_t *err);
/* Writes out_path: the user's initrd (or nothing), the base, and a cpio of
 * /bundle/config.json (guest_config), /bundle/rootfs (a copy of rootfs)
 * and /bundle/binds/N (copies of the bind mounts' sources), in that order:
 * the kernel unpacks them one over the other. The guest holds the copies
 * in RAM: more than half of memory_bytes (the VM's) is refused. */
int vm_image_container(const char *user_initrd, const char *base_path,
                       const struct spec *spec, const char *rootfs,
                       const char *guest_config, uint64_t memory_bytes,
                       const char *out_path, hull_error_t *err);

/* Where the guest finds the container's network: the cards to configure
 * (lines "link NAME MAC MTU", "addr NAME ADDR/PREFIX", "route NAME
 * DST/PREFIX [via GATEWAY]"), and the kernel modules to load first, in
 * the order of their names. */
#define VM_GUEST_NETWORK "/vm/network"
/* The container's network namespace in the guest: the guest's own. */
#define VM_GUEST_NETNS "/proc/1/ns/net"
#define VM_GUEST_MODULES "/vm/modules"

/* Where the guest finds the files the host shares (the qemu backend,
 * share.c): one line per share, "TAG GUEST_PATH ro|rw dir|entry|disk
 * 9p|virtiofs|virtio-blk" (dir: the share is mounted on GUEST_PATH;
 * entry: the share is a directory whose one entry, VM_SHARE_ENTRY, is
 * bind-mounted onto GUEST_PATH; disk: TAG is the guest's block device,
 * whose file system, or its first partition's, is mounted there), and the
 * kernel modules they need (NN-<name>, loaded in the order of their
 * names). */
#define VM_GUEST_SHARES "/vm/shares"
#define VM_GUEST_SHARE_MODULES "/vm/share-modules"
#define VM_SHARE_ENTRY "entry"

/* Whether the guest gets the source of mount m (a bind of an absolute
 * host path outside /dev, /proc and /sys) at /bundle/binds/<its index>. */
bool vm_mount_source_to_guest(const struct spec_mount *m);

/* Writes out_path for a guest whose files are shared (share.c): the
 * user's initrd (or nothing), the base, and a cpio of /bundle/config.json
 * (guest_config), /vm/shares (shares_text) and
 * /vm/share-modules/NN-<name> (copies of modules, in that order; may be
 * NULL). Nothing of the container's files (the agent makes the mount
 * points): no size limit. */
int vm_image_container_shared(const char *user_initrd, const char *base_path,
                              const char *guest_config,
                              const char *shares_text, char *const *modules,
                              const char *out_path, hull_error_t *err);

/* Appends to the initramfs at path an archive of VM_GUEST_NETWORK
 * (network_config; NULL: none) and VM_GUEST_MODULES/NN-<name> (copies of
 * modules, in that order; may be NULL); nothing when both are missing. */
int vm_image_append_network(const char *path, const char *network_config,
                            char *const *modules, hull_error_t *err);

/* ---- the execution handler (handler.c) --------------------------------- */

struct process_config;
struct exec_config;

int vm_spawn(const struct process_config *cfg, pid_t *pid, hull_error_t *err);
int vm_release(const char *state_dir, pid_t pid, uint64_t start_time,
               void (*released)(void *ctx), void *ctx, hull_error_t *err);
int vm_exec(const struct exec_config *cfg, pid_t *pid, hull_error_t *err);
/* Before the cgroup is made: lets its device rules open /dev/kvm for the
 * hypervisor (the only host processes in it are the monitor and the
 * hypervisor; the container's devices are the guest's business). */
int vm_prepare_spec(struct spec *spec, hull_error_t *err);
/* `kill --all`: sig to every process of the container, in the guest. */
int vm_signal_all(const char *state_dir, int sig, hull_error_t *err);

/* ---- the guest agent (guest/agent.c) ----------------------------------- */

/* The guest config's annotation naming the container inside the guest
 * (vm_guest_config sets it to the host's id); without it the agent uses
 * "container". The guest's state root is /run/hull, its bundle /bundle. */
#define VM_GUEST_ID_ANNOTATION "io.hull.vm.id"

/* `hull vm-agent`: PID 1 of the guest (argv after the kernel's `--`), or a
 * test run on the host with --channel-fd. */
int vm_agent_main(int argc, char **argv);

#endif
