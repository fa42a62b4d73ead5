/* console.c — process.terminal: a pty made inside the container, whose
 * master goes to the engine over --console-socket (SCM_RIGHTS, as runc
 * sends it) and whose slave becomes the process's stdio and /dev/console. */
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int console_connect(const char *socket_path, int *fd, hull_error_t *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return hull_error(err, ENAMETOOLONG, "--console-socket `%s`",
                      socket_path);
  strcpy(addr.sun_path, socket_path);
  *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0)
    return hull_error(err, errno, "socket");
  if (connect(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    return hull_error(err, e, "connect to --console-socket `%s`",
                      socket_path);
  }
  return 0;
}

static int send_fd(int sock, int fd, const char *name, hull_error_t *err) {
  char control[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec iov = {(void *)name, strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control,
                       .msg_controllen = sizeof(control)};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    return hull_error(err, errno, "send pty master to console socket");
  return 0;
}

static int become_controlling_tty(int slave, hull_error_t *err) {
  if (setsid() < 0)
    return hull_error(err, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return hull_error(err, errno, "set controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(slave, fd) < 0)
      return hull_error(err, errno, "dup2 pty to fd %d", fd);
  return 0;
}

/* The process's user and group own its terminal, or a non-root process
 * could not use it (runc's fixStdioPermissions changes only the owner and
 * leaves devpts's tty group; a process's own gid is what its user expects
 * to see). Where an id is not mapped (EINVAL), the pty's owner is not ours
 * (EPERM) or /dev is read-only (EROFS), it is left as it is. */
static int give_tty_to_user(int slave, const struct spec_process *p,
                            const char *name, hull_error_t *err) {
  if (fchown(slave, p->user.uid, p->user.gid) == 0 || errno == EINVAL ||
      errno == EPERM || errno == EROFS)
    return 0;
  return hull_error(err, errno, "process.user: chown `%s` to %u:%u", name,
                    (unsigned)p->user.uid, (unsigned)p->user.gid);
}

/* Makes a pty, sends its master over socket_fd and makes the slave our
 * controlling terminal and stdio; with bind_console also /dev/console. */
static int pty_setup(int socket_fd, const struct spec_process *p,
                     bool bind_console, hull_error_t *err) {
  cleanup_close int master =
      open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return hull_error(err, errno, "open /dev/ptmx");
  char name[64];
  if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
    return hull_error(err, errno, "allocate pty");
  cleanup_close int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return hull_error(err, errno, "open `%s`", name);
  if (p->has_console_size) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_height,
                         .ws_col = (unsigned short)p->console_width};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0)
      return hull_error(err, errno, "set console size");
  }
  if (give_tty_to_user(slave, p, name, err) < 0)
    return -1;
  if (bind_console && rootfs_bind_console(name, err) < 0)
    return -1;
  if (console_send_master(socket_fd, master, err) < 0)
    return -1;
  return become_controlling_tty(slave, err);
}

int console_send_master(int socket_fd, int master, hull_error_t *err) {
  return send_fd(socket_fd, master, "/dev/ptmx", err);
}

int console_setup(int socket_fd, const struct spec_process *p,
                  hull_error_t *err) {
  return pty_setup(socket_fd, p, true, err);
}

int console_setup_exec(int socket_fd, const struct spec_process *p,
                       hull_error_t *err) {
  return pty_setup(socket_fd, p, false, err);
}
