/* boot.c — what the agent does as PID 1 of the guest: the mounts a
 * container runtime needs, the agent channel (a virtio-serial port under
 * qemu, the second UART under the built-in VMM), and the way out. PID 1
 * must never exit (the kernel panics): every end, good or bad, is a
 * reset, which the host runs as a stop (reboot=k, or reboot=t on qemu's
 * microvm; qemu -no-reboot, the built-in VMM's VM_STOP_RESET). */
#include "guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* How long the agent's virtio port may take to appear once its driver is
 * loaded (the host announces ports over the device's control queue, which
 * a TCG guest on a busy host may serve late). Past it the console says
 * why, which the host's boot timeout then quotes. */
#define PORT_WAIT_MS 20000

struct guest_mount {
  const char *target, *type, *source, *options;
  unsigned long flags;
};

/* In order: /dev before /dev/pts, /sys before its cgroup2. */
static const struct guest_mount guest_mounts[] = {
    {"/proc", "proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/sys", "sysfs", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/dev", "devtmpfs", "devtmpfs", "mode=0755", MS_NOSUID},
    {"/dev/pts", "devpts", "devpts", "newinstance,ptmxmode=0666,mode=0620",
     MS_NOSUID | MS_NOEXEC},
    {"/dev/shm", "tmpfs", "shm", "mode=1777", MS_NOSUID | MS_NODEV},
    {"/sys/fs/cgroup", "cgroup2", "cgroup2", NULL,
     MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/run", "tmpfs", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV},
    {"/tmp", "tmpfs", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV},
};

/* The kernel opens /dev/console as init's fds 0–2 only when the
 * initramfs has it; without them the channel would land on fd 0 and the
 * container's stdio swap would clobber it. */
static void ensure_std_fds(void) {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0)
      continue;
    int c = open("/dev/console", O_RDWR | O_NOCTTY);
    if (c < 0)
      c = open("/dev/null", O_RDWR);
    if (c >= 0 && c != fd) {
      dup2(c, fd);
      close(c);
    }
  }
}

/* pivot_root refuses a root that is the initramfs itself (the rootfs
 * mount has no parent), and every container init pivots. So / becomes a
 * bind mount of the initramfs moved over it, as switch_root does but
 * without copying anything. */
static int leave_initramfs(hull_error_t *err) {
  static const char dir[] = "/.hull-root";
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return hull_error(err, errno, "mkdir `%s`", dir);
  if (mount("/", dir, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error(err, errno, "bind-mount / on `%s`", dir);
  if (chdir(dir) < 0)
    return hull_error(err, errno, "chdir `%s`", dir);
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
    return hull_error(err, errno, "move `%s` to /", dir);
  if (chroot(".") < 0 || chdir("/") < 0)
    return hull_error(err, errno, "chroot into the moved root");
  return 0;
}

int guest_mount_all(hull_error_t *err) {
  if (leave_initramfs(err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof(guest_mounts) / sizeof(guest_mounts[0]);
       i++) {
    const struct guest_mount *m = &guest_mounts[i];
    if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
      return hull_error(err, errno, "mkdir `%s`", m->target);
    if (mount(m->source, m->target, m->type, m->flags, m->options) < 0 &&
        errno != EBUSY)
      return hull_error(err, errno, "mount %s on `%s`", m->type, m->target);
    if (strcmp(m->target, "/dev") == 0)
      ensure_std_fds();
  }
  /* /dev/ptmx of devtmpfs finds the devpts instance at /dev/pts; make it
   * point there explicitly in case the node is missing. */
  if (access("/dev/ptmx", F_OK) < 0)
    (void)!symlink("pts/ptmx", "/dev/ptmx");
  return 0;
}

int guest_open_channel(const char *path, int *fd, hull_error_t *err) {
  *fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0)
    return hull_error(err, errno, "open the agent channel `%s`", path);
  struct termios t;
  if (tcgetattr(*fd, &t) < 0)
    return hull_error(err, errno, "tcgetattr `%s`", path);
  cfmakeraw(&t);
  t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
  t.c_cflag &= ~(tcflag_t)CRTSCTS;
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  if (tcsetattr(*fd, TCSANOW, &t) < 0)
    return hull_error(err, errno, "tcsetattr `%s`", path);
  /* What arrived before the agent ran is not a frame. */
  tcflush(*fd, TCIFLUSH);
  return 0;
}

/* VM_CHANNEL_PARAM's value in /proc/cmdline, or NULL. */
static char *channel_param(void) {
  cleanup_free char *cmdline = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file("/proc/cmdline", &cmdline, NULL, &err) < 0)
    return NULL;
  static const char key[] = VM_CHANNEL_PARAM "=";
  char *save = NULL;
  for (char *t = strtok_r(cmdline, " \n", &save); t;
       t = strtok_r(NULL, " \n", &save)) {
    if (strcmp(t, "--") == 0)
      break; /* init's arguments */
    if (strncmp(t, key, sizeof(key) - 1) == 0)
      return xstrdup(t + sizeof(key) - 1);
  }
  return NULL;
}

/* The /dev node of the virtio port called name ("vport1p1"), or NULL. */
static char *port_named(const char *name) {
  DIR *d = opendir("/sys/class/virtio-ports");
  if (d == NULL)
    return NULL;
  char *found = NULL;
  struct dirent *e;
  while (found == NULL && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    cleanup_free char *path =
        xasprintf("/sys/class/virtio-ports/%s/name", e->d_name);
    cleanup_free char *text = NULL;
    cleanup_error hull_error_t err = NULL;
    if (read_file(path, &text, NULL, &err) < 0)
      continue;
    text[strcspn(text, "\n")] = '\0';
    if (strcmp(text, name) == 0)
      found = xasprintf("/dev/%s", e->d_name);
  }
  closedir(d);
  return found;
}

static int open_port(const char *name, int *fd, hull_error_t *err) {
  if (guest_load_modules(VM_GUEST_MODULES, err) < 0)
    return hull_error_wrap(err, "the agent channel's driver");
  int64_t until = monotonic_ms() + PORT_WAIT_MS;
  cleanup_free char *dev = NULL;
  while ((dev = port_named(name)) == NULL) {
    if (monotonic_ms() >= until)
      return hull_error(err, ENODEV, "no virtio port named `%s` for the "
                        "agent channel (does the guest kernel have "
                        "virtio_console?)", name);
    nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
  }
  /* devtmpfs makes the node as the port is added: it may lag its sysfs
   * directory by a moment. */
  while ((*fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
    if (errno != ENOENT || monotonic_ms() >= until)
      return hull_error(err, errno, "open the agent channel `%s`", dev);
    nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
  }
  return 0;
}

/* A channel named by its device (the built-in VMM's /dev/hvc0): a tty
 * like ttyS1, whose node devtmpfs may add a moment after init starts. */
static int open_device(const char *path, int *fd, hull_error_t *err) {
  int64_t until = monotonic_ms() + PORT_WAIT_MS;
  while (access(path, F_OK) < 0 && monotonic_ms() < until)
    nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
  return guest_open_channel(path, fd, err);
}

int guest_open_agent_channel(int *fd, hull_error_t *err) {
  cleanup_free char *port = channel_param();
  if (port && port[0] == '/')
    return open_device(port, fd, err);
  if (port)
    return open_port(port, fd, err);
  return guest_open_channel(GUEST_CHANNEL, fd, err);
}

void guest_console_message(const char *msg) {
  int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    fd = dup(STDERR_FILENO);
  if (fd < 0)
    return;
  if (write_all(fd, "hull vm-agent: ", 15) == 0 &&
      write_all(fd, msg, strlen(msg)) == 0)
    (void)!write(fd, "\n", 1);
  close(fd);
}

static void flush_for(int channel, struct vm_outq *q, int ms) {
  hull_error_t err = NULL;
  for (int waited = 0; vm_outq_pending(q) && waited < ms; waited += 50) {
    if (vm_outq_flush(q, channel, &err) < 0)
      break;
    struct pollfd p = {.fd = channel, .events = POLLOUT};
    poll(&p, 1, 50);
  }
  hull_error_release(&err);
}

__attribute__((noreturn)) void guest_power_off(int channel) {
  /* A UART's last bytes; a virtio port's are the host's once it said so
   * (agent_options.await_host). */
  if (channel >= 0 && isatty(channel))
    tcdrain(channel);
  sync();
  reboot(RB_AUTOBOOT);
  /* Only a kernel without a way to reset gets here: wait for the host. */
  for (;;)
    pause();
}

__attribute__((noreturn)) void guest_fatal(int channel, const char *msg) {
  if (channel >= 0) {
    struct vm_outq q = {0};
    size_t len = strlen(msg);
    vm_outq_frame(&q, VM_FRAME_ERROR, VM_STREAM_CONTROL, msg,
                  len > VM_FRAME_MAX_PAYLOAD ? VM_FRAME_MAX_PAYLOAD : len);
    flush_for(channel, &q, 2000);
    vm_outq_free(&q);
  }
  guest_console_message(msg);
  guest_power_off(channel);
}
