/* sync.h — the parent/child conversation while a container is set up
 * (private to runtime/linux). Messages travel over a SOCK_SEQPACKET
 * socketpair: a header packet that gives the data's length, then the rest
 * of the data in packets no larger than the socket buffer takes, so a
 * message of any size gets through and no framing can get out of step.
 * A child's error travels back as SYNC_ERROR with its message, and the
 * parent raises it as its own. Every wait for the other side ends on a
 * held interrupt signal (interrupt_hold). */
#ifndef HULL_LINUX_SYNC_H
#define HULL_LINUX_SYNC_H

#include "runtime/common/common.h"

enum sync_type {
  SYNC_USERMAP_REQ = 1,  /* child: write my uid/gid maps (value = pid) */
  SYNC_USERMAP_ACK,      /* parent: done */
  SYNC_INIT_PID,         /* intermediate: the init is value */
  SYNC_NS_READY,         /* child: namespaces exist */
  SYNC_NS_READY_ACK,     /* parent: in the cgroup; data = state(s) */
  SYNC_ROOTFS_READY,     /* child: rootfs mounted, before pivot_root */
  SYNC_ROOTFS_READY_ACK, /* parent: runtime hooks done */
  SYNC_READY,            /* child: set up, waiting on exec.fifo */
  SYNC_ERROR,            /* child: data = message */
  SYNC_SOURCES_REQ,      /* child: open my bind sources in my mount ns */
  SYNC_SOURCES,          /* parent: value = count, the fds as SCM_RIGHTS */
};

struct sync_msg {
  enum sync_type type;
  int value;
  char *data;            /* NUL-terminated, may be NULL */
};

int sync_send(int fd, enum sync_type type, int value, const char *data,
              hull_error_t *err);
/* Receives one message; SYNC_ERROR comes back as an error with the child's
 * message, EOF as "container init exited during setup". */
int sync_recv(int fd, struct sync_msg *msg, hull_error_t *err);
/* Receives one message and insists on its type. */
int sync_expect(int fd, enum sync_type type, struct sync_msg *msg,
                hull_error_t *err);
/* n fds (any number) as one or more SYNC_SOURCES messages. */
int sync_send_fds(int fd, const int *fds, size_t n, hull_error_t *err);
/* Receives exactly n fds sent by sync_send_fds (close-on-exec). */
int sync_recv_fds(int fd, int *fds, size_t n, hull_error_t *err);
/* Child side: reports err to the parent and exits. */
__attribute__((noreturn)) void sync_fail(int fd, hull_error_t *err);

#endif
