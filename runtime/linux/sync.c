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

void sync_fail(int fd, hull_error_t *err) {
  hull_error_t ignored = NULL;
  sync_send(fd, SYNC_ERROR, 0, *err ? (*err)->msg : "unknown error",
            &ignored);
  hull_error_release(&ignored);
  _exit(EXIT_FAILURE);
}
