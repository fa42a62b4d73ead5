/* sync.c — typed messages between hull and a container's child. */
#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sync_header {
  uint32_t type;
  int32_t value;
};

/* Large enough for a state document with many annotations. */
#define SYNC_MAX (256 * 1024)

int sync_send(int fd, enum sync_type type, int value, const char *data,
              hull_error_t *err) {
  size_t dlen = data ? strlen(data) : 0;
  if (dlen > SYNC_MAX - sizeof(struct sync_header))
    dlen = SYNC_MAX - sizeof(struct sync_header);
  struct sync_header h = {.type = type, .value = value};
  struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, dlen}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = data ? 2 : 1};
  ssize_t n;
  do
    n = sendmsg(fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error(err, errno, "send to container setup");
  return 0;
}

int sync_recv(int fd, struct sync_msg *msg, hull_error_t *err) {
  cleanup_free char *buf = xmalloc(SYNC_MAX + 1);
  ssize_t n;
  do
    n = recv(fd, buf, SYNC_MAX, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error(err, errno, "receive from container setup");
  if (n == 0)
    return hull_error(err, 0, "container init exited during setup");
  if ((size_t)n < sizeof(struct sync_header))
    return hull_error(err, 0, "short message from container setup");
  struct sync_header h;
  memcpy(&h, buf, sizeof(h));
  buf[n] = '\0';
  msg->type = h.type;
  msg->value = h.value;
  msg->data = (size_t)n > sizeof(h) ? xstrdup(buf + sizeof(h)) : NULL;
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
