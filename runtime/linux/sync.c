/* sync.c — typed messages between hull and a container's child. */
#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A message is a header packet that carries the data's whole length and
 * its first bytes, then as many packets as the rest takes: a message may
 * be larger than the socket's buffer (a state with many annotations), so
 * no packet is. */
struct sync_header {
  uint32_t type;
  int32_t value;
  uint64_t len;
};

#define SYNC_CHUNK (32 * 1024)
/* Far above any state document; a corrupt length must not abort xmalloc. */
#define SYNC_MAX_DATA ((uint64_t)1 << 30)

static const char wait_what[] = "waiting on the container's setup";

/* The other side closed its end: what it sent before it went (a child's
 * SYNC_ERROR, the real cause) says more than our broken pipe. Its end is
 * closed, so the receive cannot block. */
static int peer_gone(int fd, int send_errno, hull_error_t *err) {
  struct sync_msg msg = {0};
  if (sync_recv(fd, &msg, err) < 0)
    return -1;
  free(msg.data);
  return hull_error(err, send_errno, "send to container setup");
}

static int send_packet(int fd, const struct iovec *iov, size_t n,
                       hull_error_t *err) {
  struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n};
  for (;;) {
    if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno == EPIPE || errno == ECONNRESET)
      return peer_gone(fd, errno, err);
    if (errno != EAGAIN)
      return hull_error(err, errno, "send to container setup");
    if (wait_fd(fd, POLLOUT, -1, wait_what, err) < 0)
      return -1;
  }
}

int sync_send(int fd, enum sync_type type, int value, const char *data,
              hull_error_t *err) {
  size_t len = data ? strlen(data) : 0;
  struct sync_header h = {.type = type, .value = value, .len = len};
  size_t first = len < SYNC_CHUNK - sizeof(h) ? len : SYNC_CHUNK - sizeof(h);
  struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, first}};
  if (send_packet(fd, iov, first ? 2 : 1, err) < 0)
    return -1;
  for (size_t off = first; off < len;) {
    size_t n = len - off < SYNC_CHUNK ? len - off : SYNC_CHUNK;
    struct iovec more = {(void *)(data + off), n};
    if (send_packet(fd, &more, 1, err) < 0)
      return -1;
    off += n;
  }
  return 0;
}

/* One packet into buf (at most len bytes; a longer one is an error): its
 * size, 0 at EOF, -1 on error. */
static ssize_t recv_packet(int fd, void *buf, size_t len, hull_error_t *err) {
  bool reset_seen = false;
  for (;;) {
    ssize_t n = recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0 && (size_t)n > len)
      return hull_error(err, 0, "container setup: message larger than "
                                "announced");
    if (n >= 0)
      return n;
    /* The child exited without reading what we sent last: the kernel
     * reports that once, ahead of what the child sent before it went (its
     * SYNC_ERROR, the real cause). Read on. */
    if (errno == EINTR || (errno == ECONNRESET && !reset_seen)) {
      reset_seen = reset_seen || errno == ECONNRESET;
      continue;
    }
    if (errno != EAGAIN)
      return hull_error(err, errno, "receive from container setup");
    if (wait_fd(fd, POLLIN, -1, wait_what, err) < 0)
      return -1;
  }
}

static int exited_during_setup(hull_error_t *err) {
  return hull_error(err, 0, "container init exited during setup");
}

/* The data after a header that announced len bytes, first of which came
 * with it. */
static int recv_data(int fd, const char *first, size_t n_first, uint64_t len,
                     char **out, hull_error_t *err) {
  if (len > SYNC_MAX_DATA || n_first > len)
    return hull_error(err, 0, "container setup: bad message length %llu",
                      (unsigned long long)len);
  cleanup_free char *data = xmalloc(len + 1);
  memcpy(data, first, n_first);
  for (size_t got = n_first; got < len;) {
    ssize_t n = recv_packet(fd, data + got, len - got, err);
    if (n < 0)
      return -1;
    if (n == 0)
      return exited_during_setup(err);
    got += (size_t)n;
  }
  data[len] = '\0';
  *out = take_ptr(data);
  return 0;
}

int sync_recv(int fd, struct sync_msg *msg, hull_error_t *err) {
  cleanup_free char *buf = xmalloc(SYNC_CHUNK);
  ssize_t n = recv_packet(fd, buf, SYNC_CHUNK, err);
  if (n < 0)
    return -1;
  if (n == 0)
    return exited_during_setup(err);
  struct sync_header h;
  if ((size_t)n < sizeof(h))
    return hull_error(err, 0, "short message from container setup");
  memcpy(&h, buf, sizeof(h));
  msg->type = h.type;
  msg->value = h.value;
  msg->data = NULL;
  if (h.len > 0 && recv_data(fd, buf + sizeof(h), (size_t)n - sizeof(h),
                             h.len, &msg->data, err) < 0)
    return -1;
  if (msg->type == SYNC_ERROR) {
    hull_error(err, 0, "%s", msg->data ? msg->data : "unknown error");
    free(msg->data);
    msg->data = NULL;
    return -1;
  }
  return 0;
}

int sync_expect(int fd, enum sync_type type, struct sync_msg *msg,
                hull_error_t *err) {
  if (sync_recv(fd, msg, err) < 0)
    return -1;
  if (msg->type != type) {
    free(msg->data);
    msg->data = NULL;
    return hull_error(err, 0, "container setup: unexpected message %d",
                      (int)msg->type);
  }
  return 0;
}

/* Well below the kernel's SCM_MAX_FD (253) per message. */
#define FDS_PER_MESSAGE 128

int sync_send_fds(int fd, const int *fds, size_t n, hull_error_t *err) {
  for (size_t done = 0; done < n;) {
    size_t k = n - done < FDS_PER_MESSAGE ? n - done : FDS_PER_MESSAGE;
    struct sync_header h = {.type = SYNC_SOURCES, .value = (int32_t)k};
    struct iovec iov = {&h, sizeof(h)};
    char control[CMSG_SPACE(FDS_PER_MESSAGE * sizeof(int))];
    memset(control, 0, sizeof(control));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control,
                        .msg_controllen = CMSG_SPACE(k * sizeof(int))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(k * sizeof(int));
    memcpy(CMSG_DATA(cm), fds + done, k * sizeof(int));
    ssize_t r;
    do
      r = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
      return hull_error(err, errno, "send to container setup");
    done += k;
  }
  return 0;
}

int sync_recv_fds(int fd, int *fds, size_t n, hull_error_t *err) {
  for (size_t done = 0; done < n;) {
    struct sync_header h;
    struct iovec iov = {&h, sizeof(h)};
    char control[CMSG_SPACE(FDS_PER_MESSAGE * sizeof(int))];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control,
                        .msg_controllen = sizeof(control)};
    ssize_t r;
    do
      r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0)
      return hull_error(err, errno, "receive from runtime");
    if (r == 0)
      return hull_error(err, 0, "runtime exited during setup");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    size_t k = h.value > 0 ? (size_t)h.value : 0;
    if ((size_t)r < sizeof(h) || h.type != SYNC_SOURCES || cm == NULL || k == 0 ||
        cm->cmsg_type != SCM_RIGHTS || k > n - done ||
        cm->cmsg_len != CMSG_LEN(k * sizeof(int)))
      return hull_error(err, 0, "container setup: bad bind sources message");
    memcpy(fds + done, CMSG_DATA(cm), k * sizeof(int));
    done += k;
  }
  return 0;
}

void sync_fail(int fd, hull_error_t *err) {
  hull_error_t ignored = NULL;
  sync_send(fd, SYNC_ERROR, 0, *err ? (*err)->msg : "unknown error",
            &ignored);
  hull_error_release(&ignored);
  _exit(EXIT_FAILURE);
}
