/* guest.h — the guest agent's parts (private to runtime/vm/guest/).
 *
 *   agent.c   `hull vm-agent`: its flags, PID 1 mode or test mode
 *   boot.c    what PID 1 of the guest does around the agent: the guest's
 *             mounts, the channel on ttyS1, reporting a fatal error and
 *             powering off
 *   relay.c   the conversation (proto.h): the container's lifecycle in the
 *             guest, its processes' stdio, signals, execs, exits
 *   stream.c  one process the agent relays (stream 1 or an exec)
 *   network.c the guest's network: lo, and the cards the host gave it
 *   share.c   the container's files, shared by the host over virtio-9p */
#ifndef HULL_VM_GUEST_H
#define HULL_VM_GUEST_H

#include "runtime/vm/proto.h"
#include "runtime/vm/vm.h"

#include <stdbool.h>
#include <sys/types.h>

/* The guest's state root and bundle in PID 1 mode. */
#define GUEST_BUNDLE "/bundle"
#define GUEST_ROOT "/run/hull"
#define GUEST_CHANNEL "/dev/ttyS1"
/* The container's id when the guest config names none (VM_GUEST_ID_ANNOTATION). */
#define GUEST_DEFAULT_ID "container"

/* ---- boot.c (PID 1 only) ------------------------------------------------ */

/* Makes / a mount with a parent (containers pivot_root away from it),
 * mounts /proc, /sys, /dev, /dev/pts, /dev/shm, /sys/fs/cgroup, /run, /tmp
 * and makes sure fds 0–2 are open (on /dev/console). */
int guest_mount_all(hull_error_t *err);
/* Opens ttyS1 raw (no echo, no flow control, no line discipline),
 * non-blocking. */
int guest_open_channel(const char *path, int *fd, hull_error_t *err);
/* Opens the agent channel, non-blocking: what the kernel's command line
 * names (VM_CHANNEL_PARAM): a device path (the built-in VMM's
 * VM_AGENT_HVC), else a virtio port's name (its driver loaded from
 * VM_GUEST_MODULES first); without one GUEST_CHANNEL. */
int guest_open_agent_channel(int *fd, hull_error_t *err);
/* Writes msg to /dev/console (and stderr when that is another file). */
void guest_console_message(const char *msg);
/* Sends ERROR(0, msg) over the channel (fd < 0: not open) without waiting
 * long, writes msg to the console, syncs and resets the VM. */
__attribute__((noreturn)) void guest_fatal(int channel, const char *msg);
/* Waits until the channel's bytes left the UART, syncs, resets the VM. */
__attribute__((noreturn)) void guest_power_off(int channel);

/* ---- network.c (PID 1 only) --------------------------------------------- */

/* `lo` up; with VM_GUEST_NETWORK, its modules loaded and its cards
 * configured as the container's interfaces on the host were. */
int guest_network_up(hull_error_t *err);
/* Loads dir's kernel modules (NN-<name>.ko[.xz]) in the order of their
 * names, with their parameters from the kernel's command line; a missing
 * dir is no modules, a module already loaded no error. */
int guest_load_modules(const char *dir, hull_error_t *err);

/* ---- share.c (PID 1 only) ----------------------------------------------- */

/* With VM_GUEST_SHARES: its modules loaded, and each virtio-9p share the
 * host gave mounted where the guest's config looks for it. */
int guest_mount_shares(hull_error_t *err);

/* ---- stream.c ------------------------------------------------------------ */

/* One process whose stdio the agent relays. With a terminal, out is the
 * pty master and in a dup of it; err is -1. */
struct stream {
  uint32_t id;
  pid_t pid;
  int in, out, err;          /* agent's ends, -1 once closed */
  int master;                /* the pty master (== out), or -1 */
  struct byte_queue stdin_q; /* bytes waiting for its stdin */
  bool stdin_eof;            /* close stdin once stdin_q is written */
  size_t stdin_done;         /* stdin bytes written or dropped that the
                                host has not been told of (WINDOW) */
  bool exited;
  int status;                /* wait(2) status, once exited */
  long long quiet_since_ms;  /* last output or the exit, for the drain */
};

/* The agent's ends of fresh pipes for a process's stdio; theirs[] are the
 * process's ends (close them once it runs). */
int stream_pipes(struct stream *s, int theirs[3], hull_error_t *err);
/* Takes the pty master instead of the pipes (closing those). */
void stream_use_master(struct stream *s, int master);
void stream_close(struct stream *s);
/* Drops what waits for stdin and closes it (its reader is gone). */
void stream_drop_stdin(struct stream *s);
/* Writes what stdin takes now; closes it after an EOF once empty. What
 * it wrote or dropped is added to stdin_done. */
void stream_write_stdin(struct stream *s);
/* Bytes for stdin (len 0: EOF): written at once as far as the pipe takes
 * them, the rest queued behind what waits already; bytes for a closed
 * stdin are dropped (and counted done). */
void stream_feed_stdin(struct stream *s, const void *data, size_t len);
/* Reads what fd (s->out or s->err) has into a STDOUT/STDERR frame;
 * closes it (and sends the empty frame) at EOF. */
void stream_read_output(struct stream *s, int *fd, uint32_t type,
                        struct vm_outq *q, long long now_ms);
bool stream_outputs_open(const struct stream *s);
/* Nobody reads the output of type (STDOUT/STDERR) on the host any more:
 * closes the agent's end, so that the process's next write fails with
 * SIGPIPE or EPIPE, as when the reader of its pipe is gone; a terminal
 * hangs up. */
void stream_output_unread(struct stream *s, uint32_t type);

/* ---- relay.c ------------------------------------------------------------ */

struct agent_options {
  int channel;               /* the agent channel, non-blocking */
  const char *bundle;
  const char *root;
  const char *id;            /* NULL: from the config, else GUEST_DEFAULT_ID */
  bool await_host;           /* after the last EXIT, wait for the host's
                                (PID 1: the VM is reset next) */
};

/* Creates the container, says READY and serves the host until the
 * container's process has exited and EXIT(1) has been written. An error
 * before READY is returned (*err); later ones go to the host as ERROR
 * frames. */
int agent_run(const struct agent_options *o, hull_error_t *err);

#endif
