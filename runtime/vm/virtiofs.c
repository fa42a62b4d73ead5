/* virtiofs.c — the daemons behind virtio-fs shares: one virtiofsd per
 * shared directory (the rootfs, each bind source), started by the monitor
 * and served to qemu's vhost-user-fs devices (qemu.c).
 *
 * One per share rather than one per container: a virtiofsd exports one
 * tree (-o source), and a share is what has its own read-only-ness and
 * mount tag, so the guest's side stays the 9p one (a mount per tag). One
 * for the container would need the shares assembled into a tree of bind
 * mounts under the state dir, and one daemon's crash would take every
 * share with it; the price of more is a few MiB of RSS each (they map the
 * guest's RAM, which is shared, not copied).
 *
 * No socket file is left behind: each listening socket is bound in the
 * state dir only long enough for its other end to connect, then unlinked;
 * the virtiofsd accepts that one connection (--fd), and qemu gets the
 * connected end as its chardev (fd=N). A virtiofsd exits when qemu hangs
 * up, and dies with the monitor (PR_SET_PDEATHSIG) when that goes first.
 *
 * Read-only is the host's doing: qemu 7.2's virtiofsd has no read-only
 * option, so a read-only share's directory is bind-mounted, read-only and
 * recursively, in the monitor's private mount namespace (under the state
 * dir), and the virtiofsd (its child, in that namespace) exports the bind:
 * the guest's writes fail there with EROFS, whatever the guest kernel
 * does. A read-only file share's entry mount is made read-only in place.
 *
 * Two virtiofsds are about: qemu's own in C (up to qemu 7.2, as
 * /usr/lib/qemu/virtiofsd: only -o options) and the Rust one that replaced
 * it (Debian's virtiofsd package: long options; its -o compatibility
 * refuses timeout= and log_level=). qemu's says "using FUSE kernel
 * interface" in its --version, which tells them apart (config.c asks
 * before anything starts: a fork of the monitor's would be the first in
 * the container's pid namespace, its init). Only qemu's could be tried
 * here.
 *
 * qemu's options: cache=auto with timeout=0 — no attribute or entry caching in
 * the guest (each lookup and stat asks the host, so a host edit is seen
 * at once, as virtio-9p's cache=mmap does) but a page cache per open
 * (cache=none would use direct I/O, which refuses shared writable mmap);
 * xattr: file capabilities and security xattrs pass, as under 9p's
 * passthrough; --rlimit-nofile=0 leaves the fd limit alone (raising it
 * needs CAP_SYS_RESOURCE, which a container host may not grant); the
 * default sandbox=namespace: each pivots into its tree in namespaces of
 * its own and drops its other capabilities. The Rust one's: --cache=auto
 * (it has no timeout: its attributes are kept a second, so a host edit
 * may take that long to be seen; its --cache=never would use direct
 * I/O), --xattr, --rlimit-nofile=0, --log-level=error. */
#include "host.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const virtiofsd_places[] = {"/usr/libexec/virtiofsd",
                                               "/usr/lib/qemu/virtiofsd"};

char *vm_virtiofsd_find(void) {
  char *found = find_on_path("virtiofsd");
  if (found != NULL)
    return found;
  for (size_t i = 0; i < sizeof(virtiofsd_places) / sizeof(*virtiofsd_places);
       i++)
    if (is_executable_file(virtiofsd_places[i]))
      return xstrdup(virtiofsd_places[i]);
  return NULL;
}

/* ---- read-only, on the host ----------------------------------------------- */

static int make_tree_readonly(const char *path, hull_error_t *err) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
    return 0;
  if (errno != ENOSYS)
    return hull_error(err, errno, "make `%s` read-only", path);
  /* Before Linux 5.12: the top mount only. */
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return hull_error(err, errno, "make `%s` read-only", path);
  return 0;
}

/* The tree virtiofsd exports for share i: its own directory, or for a
 * read-only one <state_dir>/shares/ro-<i>, a read-only bind of it. */
static int export_path(const struct vm_share *sh, size_t i,
                       const char *state_dir, char **out, hull_error_t *err) {
  if (!sh->readonly) {
    *out = xstrdup(sh->host_path);
    return 0;
  }
  if (sh->file_source != NULL) {
    /* The entry vm_shares_mount_entries bind-mounted. */
    cleanup_free char *entry = xasprintf("%s/" VM_SHARE_ENTRY, sh->host_path);
    if (make_tree_readonly(entry, err) < 0)
      return -1;
    *out = xstrdup(sh->host_path);
    return 0;
  }
  cleanup_free char *dir = xasprintf("%s/shares/ro-%zu", state_dir, i);
  if (mkdir_p(dir, 0700, err) < 0)
    return -1;
  if (mount(sh->host_path, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error(err, errno, "bind-mount `%s` on `%s`", sh->host_path,
                      dir);
  if (make_tree_readonly(dir, err) < 0)
    return -1;
  *out = xstrdup(dir);
  return 0;
}

/* ---- the sockets ----------------------------------------------------------- */

/* *listen_fd listening (for virtiofsd) and *qemu_fd connected to it. */
static int socket_pair_listening(const char *state_dir, size_t i,
                                 int *listen_fd, int *qemu_fd,
                                 hull_error_t *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/virtiofs-%zu.sock",
                   state_dir, i);
  if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
    return hull_error(err, ENAMETOOLONG, "virtiofs socket in `%s`", state_dir);
  cleanup_close int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cleanup_close int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || c < 0)
    return hull_error(err, errno, "socket");
  unlink(addr.sun_path);
  int ret = 0;
  if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l, 1) < 0 ||
      connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    ret = hull_error(err, errno, "virtiofs socket `%s`", addr.sun_path);
  unlink(addr.sun_path);
  if (ret < 0)
    return -1;
  *listen_fd = take_fd(&l);
  *qemu_fd = take_fd(&c);
  return 0;
}

/* ---- the daemon ------------------------------------------------------------ */

bool vm_virtiofsd_is_qemus(const char *virtiofsd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return false;
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0 ||
        dup2(null, 2) < 0)
      _exit(127);
    execl(virtiofsd, virtiofsd, "--version", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  size_t len = 0;
  ssize_t n;
  while (pid > 0 && len < sizeof(buf) - 1 &&
         ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
          (n < 0 && errno == EINTR)))
    len += n > 0 ? (size_t)n : 0;
  buf[len] = '\0';
  close(fds[0]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  return strstr(buf, "using FUSE kernel interface") != NULL;
}

static void __attribute__((noreturn))
exec_virtiofsd(const char *virtiofsd, bool qemus, const char *source,
               int listen_fd, int stderr_fd) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
    _exit(127);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
      dup2(stderr_fd, 2) < 0)
    _exit(127);
  close_fds_except(3, &listen_fd, 1);
  if (set_cloexec(listen_fd, false) < 0)
    _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  cleanup_free char *fd_arg = xasprintf("--fd=%d", listen_fd);
  cleanup_free char *source_arg = xasprintf("source=%s", source);
  cleanup_free char *shared_dir = xasprintf("--shared-dir=%s", source);
  char *qemu_argv[] = {(char *)virtiofsd, fd_arg, "-o", source_arg,
                       "-o", "cache=auto", "-o", "timeout=0", "-o", "xattr",
                       "-o", "log_level=err", "--rlimit-nofile=0", NULL};
  char *rust_argv[] = {(char *)virtiofsd, fd_arg, shared_dir,
                       "--cache=auto", "--xattr", "--log-level=error",
                       "--rlimit-nofile=0", NULL};
  execv(virtiofsd, qemus ? qemu_argv : rust_argv);
  dprintf(2, "exec `%s`: %s\n", virtiofsd, strerror(errno));
  _exit(127);
}

static int start_one(const char *virtiofsd, bool qemus, const char *source,
                     int listen_fd, int stderr_fd, hull_error_t *err) {
  pid_t pid = fork();
  if (pid < 0)
    return hull_error(err, errno, "fork virtiofsd");
  if (pid == 0)
    exec_virtiofsd(virtiofsd, qemus, source, listen_fd, stderr_fd);
  /* The monitor reaps it with the hypervisor (waitpid(-1)). */
  return 0;
}

void vm_virtiofs_close(int *fds, size_t n) {
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);
}

int vm_virtiofs_start(const struct vm_shares *s, const char *virtiofsd,
                      bool qemus, const char *state_dir, int stderr_fd,
                      int **fds, hull_error_t *err) {
  *fds = NULL;
  if (s == NULL || s->transport != VM_SHARE_VIRTIOFS)
    return 0;
  int *out = xmalloc(s->n * sizeof(int));
  for (size_t i = 0; i < s->n; i++)
    out[i] = -1;
  for (size_t i = 0; i < s->n; i++) {
    const struct vm_share *sh = &s->v[i];
    if (sh->disk)
      continue;
    cleanup_free char *source = NULL;
    cleanup_close int listen_fd = -1;
    if (export_path(sh, i, state_dir, &source, err) < 0 ||
        socket_pair_listening(state_dir, i, &listen_fd, &out[i], err) < 0 ||
        start_one(virtiofsd, qemus, source, listen_fd, stderr_fd, err) < 0) {
      vm_virtiofs_close(out, s->n);
      return hull_error_wrap(err, "virtio-fs share of `%s`", sh->host_path);
    }
  }
  *fds = out;
  return 0;
}
