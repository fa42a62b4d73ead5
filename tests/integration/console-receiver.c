/* console-receiver.c — see console-receiver.h. */
#include "tests/integration/console-receiver.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int hconsole_listen(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(path), sizeof addr.sun_path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_msg(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0,
                "bind %s: %s", path, strerror(errno));
  ck_assert_int_eq(listen(fd, 4), 0);
  return fd;
}

static bool readable_within(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;
  while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
    ;
  return n > 0;
}

int hconsole_receive_fd(int listener) {
  if (!readable_within(listener, 5000))
    return -1;
  cleanup_close int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0 || !readable_within(conn, 5000))
    return -1;
  char name[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control,
                       .msg_controllen = sizeof control};
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
      cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

char *hconsole_read_until(int master, const char *needle, int timeout_ms) {
  size_t len = 0, cap = 256;
  char *buf = xmalloc(cap);
  buf[0] = '\0';
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                   (now.tv_nsec - start.tv_nsec) / 1000000;
    if (strstr(buf, needle) || elapsed > timeout_ms ||
        !readable_within(master, (int)(timeout_ms - elapsed)))
      return buf;
    if (len + 128 > cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(master, buf + len, cap - len - 1);
    if (n <= 0)
      return buf;
    len += (size_t)n;
    buf[len] = '\0';
  }
}
