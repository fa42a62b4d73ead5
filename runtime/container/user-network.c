/* user-network.c — run.oci.network=pasta|slirp4netns: a user-mode network
 * helper gives the container's new network namespace an `eth0` whose
 * traffic it carries over ordinary sockets of the host's, so that a
 * container of rootless hull (which can make no veth, bridge or nftables
 * rule) reaches out, and ports published on the host reach it.
 *
 * The helper joins the namespaces by fds hull opened at create's step 3
 * (the init's namespaces exist, nothing of the container runs yet), passed
 * as /proc/self/fd/N: pasta run as root drops its capabilities before it
 * opens a namespace by path, and an unprivileged hull's child may not open
 * the init's /proc files later.
 *
 * Neither helper leaves when the container dies (pasta watches only a
 * namespace bound in a directory; slirp4netns only its exit fd), so a
 * keeper -- a fork of hull, no exec -- starts it, reports to create over a
 * pipe, and then waits on the init's pidfd: once the init is gone it kills
 * the helper and exits. state.json names both (pid and start time) before
 * create goes on; delete kills both. A create killed half-way kills its
 * init (PDEATHSIG), and so the keeper stops the helper on its own; a pasta
 * that daemonized while its keeper was being killed is found by delete by
 * its command line, which names the state dir's pasta.pid. */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ANNOTATION "run.oci.network"
#define INNER_NAME "eth0"
#define PASTA_PID_FILE "pasta.pid"
#define SLIRP_API_SOCKET "slirp4netns.sock"
/* podman's: slirp4netns is fastest with its largest frames. */
#define SLIRP_DEFAULT_MTU 65520
/* How long create waits for the helper to set the namespace up. */
#define START_TIMEOUT_MS 30000
/* How long delete waits for both to be gone after SIGKILL. */
#define STOP_TIMEOUT_MS 5000

const char *user_network_helper(enum network_mode mode) {
  return mode == NETWORK_PASTA ? "pasta" : "slirp4netns";
}

static const char *helper_package(enum network_mode mode) {
  return mode == NETWORK_PASTA ? "passt" : "slirp4netns";
}

int user_network_find(enum network_mode mode, char **path,
                      hull_error_t *err) {
  const char *name = user_network_helper(mode);
  const char *env = getenv("PATH");
  cleanup_free char *dirs =
      xstrdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    cleanup_free char *candidate = xasprintf("%s/%s", *d ? d : ".", name);
    struct stat st;
    if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate, X_OK) == 0) {
      *path = take_ptr(candidate);
      return 0;
    }
  }
  return hull_error(err, 0, "annotation " ANNOTATION "=%s: %s not found "
                    "in $PATH (Debian package %s)", name, name,
                    helper_package(mode));
}

/* ---- the keeper (a child of create's hull, never returns) -------------- */

/* Where the keeper's fds are, once moved to 3.. (everything else closed:
 * above all the flock on the state dir, which delete needs). */
enum { FD_REPORT = 3, FD_INIT, FD_NET, FD_USER, FD_FIRST_FREE };

struct keeper {
  const struct network_attachment *at;
  const char *helper_path;
  const char *state_dir;
  bool join_user;          /* the container has a user namespace of its own */
  pid_t helper;
  int helper_pidfd;
  int exit_pipe;           /* slirp4netns's --exit-fd, the write end */
  int stderr_pipe[2];      /* the helper's stderr; [0] non-blocking */
};

static int pidfd_open(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...) {
  /* A create that died is told nothing, and the keeper goes on keeping.
   * Not before: the helpers must not inherit it (pasta fails then). */
  signal(SIGPIPE, SIG_IGN);
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > (int)sizeof(buf) - 1)
    n = (int)sizeof(buf) - 1;
  if (write(FD_REPORT, buf, (size_t)n) < 0) {
    /* create is gone: nothing to tell. */
  }
}

/* Ends the keeper after a failed start: the error goes to create. */
static _Noreturn void keeper_fail(struct keeper *k, const char *msg) {
  report("error %s", msg);
  if (k->helper > 0)
    kill(k->helper, SIGKILL);
  _exit(1);
}

/* The helper's last line on stderr that says something (pasta also
 * complains that there is no syslog). */
static void last_line(int fd, char *out, size_t size) {
  char buf[8192];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  *out = '\0';
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *save = NULL;
  for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
    if (strncmp(l, "Failed to send", 14) != 0 && *l)
      snprintf(out, size, "%s", l);
}

static _Noreturn void helper_exited(struct keeper *k, int status) {
  char line[512], msg[768];
  last_line(k->stderr_pipe[0], line, sizeof(line));
  k->helper = 0;
  if (*line)
    snprintf(msg, sizeof(msg), "%s: %s", user_network_helper(k->at->mode),
             line);
  else if (WIFSIGNALED(status))
    snprintf(msg, sizeof(msg), "%s: killed by signal %d",
             user_network_helper(k->at->mode), WTERMSIG(status));
  else
    snprintf(msg, sizeof(msg), "%s: exited with status %d",
             user_network_helper(k->at->mode), WEXITSTATUS(status));
  keeper_fail(k, msg);
}

/* fork + exec argv with stdin and stdout on /dev/null, stderr the pipe's;
 * it dies with the keeper until it daemonizes (pasta's first process). */
static pid_t spawn_helper(struct keeper *k, char **argv) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
  }
  dup2(k->stderr_pipe[1], 2);
  execv(k->helper_path, argv);
  dprintf(2, "exec `%s`: %s\n", k->helper_path, strerror(errno));
  _exit(127);
}

static const char *proto_name(int proto) {
  return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* pasta's -t/-u spec for proto: "8080:80,8443:443", or "none". */
static char *pasta_ports(const struct network_attachment *at, int proto) {
  char *spec = xstrdup("");
  for (size_t i = 0; i < at->n_ports; i++) {
    if (at->ports[i].proto != proto)
      continue;
    char *longer = xasprintf("%s%s%u:%u", spec, *spec ? "," : "",
                             at->ports[i].host_port,
                             at->ports[i].container_port);
    free(spec);
    spec = longer;
  }
  if (*spec == '\0') {
    free(spec);
    spec = xstrdup("none");
  }
  return spec;
}

static void start_pasta(struct keeper *k) {
  const struct network_attachment *at = k->at;
  cleanup_strv char **argv = NULL;
  cleanup_free char *tcp = pasta_ports(at, IPPROTO_TCP);
  cleanup_free char *udp = pasta_ports(at, IPPROTO_UDP);
  cleanup_free char *netns = xasprintf("/proc/self/fd/%d", FD_NET);
  cleanup_free char *userns = xasprintf("/proc/self/fd/%d", FD_USER);
  cleanup_free char *ids = xasprintf("%u:%u", geteuid(), getegid());
  cleanup_free char *mtu = xasprintf("%u", at->mtu);
  /* Absolute: pasta opens it early, but from a sandbox of its own. */
  cleanup_free char *pid_file = xasprintf("%s/" PASTA_PID_FILE, k->state_dir);
  const char *fixed[] = {
      "pasta", "--config-net", "--quiet", "--ns-ifname", INNER_NAME,
      /* Only what is published, never the namespace's own ports (auto)
       * nor the host's ports into the namespace's loopback. */
      "--tcp-ports", tcp, "--udp-ports", udp, "--tcp-ns", "none",
      "--udp-ns", "none", "--pid", pid_file, "--netns", netns, NULL};
  for (const char **a = fixed; *a; a++)
    strv_append(&argv, *a);
  if (k->join_user) {
    strv_append(&argv, "--userns");
    strv_append(&argv, userns);
  } else {
    strv_append(&argv, "--netns-only");
  }
  if (!at->host_loopback)
    strv_append(&argv, "--no-map-gw");
  if (at->mtu) {
    strv_append(&argv, "--mtu");
    strv_append(&argv, mtu);
  }
  /* As root pasta would become nobody first, who may not enter the
   * namespaces: it stays hull's user (and keeps only what it needs). */
  if (geteuid() == 0) {
    strv_append(&argv, "--runas");
    strv_append(&argv, ids);
  }
  pid_t first = spawn_helper(k, argv);
  if (first < 0)
    keeper_fail(k, "fork: cannot start pasta");
  k->helper = first;
  /* pasta forks into the background once the namespace is set up; the
   * first process's status says whether it was. */
  int status;
  while (waitpid(first, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    helper_exited(k, status);
  k->helper = 0;
  char text[32] = "";
  int fd = open(PASTA_PID_FILE, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
  if (fd >= 0)
    close(fd);
  /* The file stays for delete, should the keeper die before create
   * recorded the pid (pasta_of_pid_file). */
  if (n > 0)
    text[n] = '\0';
  k->helper = n > 0 ? (pid_t)atoi(text) : 0;
  if (k->helper <= 0)
    keeper_fail(k, "pasta: started, but wrote no pid file");
}

/* One add_hostfwd request over slirp4netns's API socket. */
static int slirp_publish(const struct netns_port *p, char *why, size_t size) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", SLIRP_API_SOCKET);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    snprintf(why, size, "slirp4netns: connect to its API socket: %s",
             strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  char req[256], resp[1024];
  int len = snprintf(req, sizeof(req),
                     "{\"execute\": \"add_hostfwd\", \"arguments\": "
                     "{\"proto\": \"%s\", \"host_addr\": \"0.0.0.0\", "
                     "\"host_port\": %u, \"guest_port\": %u}}",
                     proto_name(p->proto), p->host_port, p->container_port);
  ssize_t n = -1;
  if (write(fd, req, (size_t)len) == len) {
    shutdown(fd, SHUT_WR);
    n = read(fd, resp, sizeof(resp) - 1);
  }
  close(fd);
  if (n <= 0) {
    snprintf(why, size, "slirp4netns: publishing %u/%s: no answer",
             p->host_port, proto_name(p->proto));
    return -1;
  }
  resp[n] = '\0';
  if (strstr(resp, "\"error\"") == NULL)
    return 0;
  /* {"error": {"desc": "bad request: ..."}}: the desc's text. */
  const char *desc = strstr(resp, "\"desc\"");
  const char *open = desc ? strchr(desc + 6, '"') : NULL;
  const char *close_quote = open ? strchr(open + 1, '"') : NULL;
  if (close_quote)
    snprintf(why, size, "slirp4netns: publishing %u/%s: %.*s", p->host_port,
             proto_name(p->proto), (int)(close_quote - open - 1), open + 1);
  else
    snprintf(why, size, "slirp4netns: publishing %u/%s: %.200s",
             p->host_port, proto_name(p->proto), resp);
  return -1;
}

static void start_slirp4netns(struct keeper *k) {
  const struct network_attachment *at = k->at;
  int ready[2], quit[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(quit, O_CLOEXEC) < 0)
    keeper_fail(k, "slirp4netns: pipe failed");
  /* The child's ends must survive exec. */
  set_cloexec(ready[1], false);
  set_cloexec(quit[0], false);
  k->exit_pipe = quit[1];
  cleanup_strv char **argv = NULL;
  cleanup_free char *mtu =
      xasprintf("--mtu=%u", at->mtu ? at->mtu : SLIRP_DEFAULT_MTU);
  cleanup_free char *ready_arg = xasprintf("--ready-fd=%d", ready[1]);
  cleanup_free char *exit_arg = xasprintf("--exit-fd=%d", quit[0]);
  cleanup_free char *userns = xasprintf("--userns-path=/proc/self/fd/%d",
                                        FD_USER);
  cleanup_free char *netns = xasprintf("/proc/self/fd/%d", FD_NET);
  const char *fixed[] = {"slirp4netns", "--configure", mtu, ready_arg,
                         exit_arg, "--netns-type=path", "--enable-seccomp",
                         NULL};
  for (const char **a = fixed; *a; a++)
    strv_append(&argv, *a);
  /* As root, its sandbox: a mount namespace of its own and every
   * capability dropped but CAP_NET_BIND_SERVICE (as podman runs it). A
   * user's slirp4netns, in the host's user namespace, may not make one. */
  if (geteuid() == 0)
    strv_append(&argv, "--enable-sandbox");
  if (!at->host_loopback)
    strv_append(&argv, "--disable-host-loopback");
  if (at->n_ports)
    strv_append(&argv, "--api-socket=" SLIRP_API_SOCKET);
  if (k->join_user)
    strv_append(&argv, userns);
  strv_append(&argv, netns);
  strv_append(&argv, INNER_NAME);
  k->helper = spawn_helper(k, argv);
  if (k->helper < 0)
    keeper_fail(k, "fork: cannot start slirp4netns");
  close(ready[1]);
  close(quit[0]);
  /* Ready: "1" on the ready fd; else the helper's exit says why. */
  char byte = 0;
  struct pollfd p = {.fd = ready[0], .events = POLLIN};
  int n = poll(&p, 1, START_TIMEOUT_MS);
  if (n <= 0 || read(ready[0], &byte, 1) != 1 || byte != '1') {
    int status = 0;
    if (waitpid(k->helper, &status, n <= 0 ? WNOHANG : 0) == k->helper)
      helper_exited(k, status);
    keeper_fail(k, "slirp4netns: did not set the namespace up");
  }
  close(ready[0]);
  char why[512];
  for (size_t i = 0; i < at->n_ports; i++)
    if (slirp_publish(&at->ports[i], why, sizeof(why)) < 0) {
      unlink(SLIRP_API_SOCKET);
      keeper_fail(k, why);
    }
  /* Nothing is published later: the socket need not stay reachable. */
  if (at->n_ports)
    unlink(SLIRP_API_SOCKET);
}

/* Waits until the init or the helper is gone; the helper goes with the
 * init. */
static _Noreturn void keep(struct keeper *k) {
  struct pollfd p[2] = {{.fd = FD_INIT, .events = POLLIN},
                        {.fd = k->helper_pidfd, .events = POLLIN}};
  for (;;) {
    if (poll(p, 2, -1) < 0 && errno == EINTR)
      continue;
    if (p[0].revents || p[1].revents)
      break;
  }
  syscall(SYS_pidfd_send_signal, k->helper_pidfd, SIGKILL, NULL, 0);
  /* slirp4netns is ours to reap; pasta, daemonized, is not. */
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
    ;
  _exit(0);
}

/* Moves fds to FD_REPORT.. in that order and closes every other fd above
 * stderr. */
static void keep_only(const int *fds, int n) {
  int high[8];
  for (int i = 0; i < n; i++)
    high[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 1000);
  syscall(SYS_close_range, 3U, 999U, 0U);
  for (int i = 0; i < n; i++)
    if (high[i] >= 0)
      dup3(high[i], FD_REPORT + i, O_CLOEXEC);
  syscall(SYS_close_range, (unsigned)FD_FIRST_FREE, ~0U, 0U);
}

static _Noreturn void keeper_main(const struct network_attachment *at,
                                  const char *helper_path,
                                  const char *state_dir, int report_fd,
                                  int init_pidfd, int net_fd, int user_fd) {
  /* Out of hull's session: the caller's ^C is the container's business,
   * and the keeper must outlive create. */
  setsid();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int fds[] = {report_fd, init_pidfd, net_fd, user_fd};
  keep_only(fds, 4);
  /* The helper's ends of its namespaces must survive exec. */
  set_cloexec(FD_NET, false);
  if (user_fd >= 0)
    set_cloexec(FD_USER, false);
  struct keeper k = {.at = at, .helper_path = helper_path,
                     .state_dir = state_dir,
                     .join_user = user_fd >= 0, .exit_pipe = -1};
  /* Relative names for pasta's pid file and slirp4netns's socket: a
   * state dir may be longer than a socket address takes. */
  if (chdir(state_dir) < 0)
    keeper_fail(&k, "cannot enter the state directory");
  if (pipe2(k.stderr_pipe, O_CLOEXEC) < 0)
    keeper_fail(&k, "pipe failed");
  fcntl(k.stderr_pipe[0], F_SETFL, O_NONBLOCK);
  if (at->mode == NETWORK_PASTA)
    start_pasta(&k);
  else
    start_slirp4netns(&k);
  close(k.stderr_pipe[0]);
  close(k.stderr_pipe[1]);
  k.helper_pidfd = pidfd_open(k.helper);
  if (k.helper_pidfd < 0)
    keeper_fail(&k, "pidfd_open of the helper failed");
  close(FD_NET);
  if (user_fd >= 0)
    close(FD_USER);
  report("ok %d %llu", (int)k.helper,
         (unsigned long long)process_start_time(k.helper));
  close(FD_REPORT);
  keep(&k);
}

/* ---- create's side ------------------------------------------------------- */

/* The init's user namespace, when it is not hull's: the helper joins it
 * (it owns the network namespace). -1 otherwise. */
static int open_user_ns(pid_t pid, hull_error_t *err) {
  cleanup_free char *path = xasprintf("/proc/%d/ns/user", (int)pid);
  struct stat theirs, ours;
  if (stat(path, &theirs) < 0 || stat("/proc/self/ns/user", &ours) < 0)
    return hull_error(err, errno, "stat `%s`", path);
  if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
    return -2;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  return fd;
}

/* Reads the keeper's one report: "ok PID START" or "error MESSAGE". */
static int read_report(struct lifecycle *lc, enum network_mode mode, int fd,
                       hull_error_t *err) {
  char buf[1100];
  size_t len = 0;
  int64_t deadline = monotonic_ms() + START_TIMEOUT_MS + 5000;
  for (;;) {
    int left = (int)(deadline - monotonic_ms());
    int r = wait_fd(fd, POLLIN, left > 0 ? left : 0,
                    "annotation " ANNOTATION, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return hull_error(err, ETIMEDOUT, "annotation " ANNOTATION "=%s: "
                        "timed out", user_network_helper(mode));
    ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || len + (size_t)n >= sizeof(buf) - 1) {
      if (n > 0)
        len += (size_t)n;
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  int pid;
  unsigned long long start;
  if (sscanf(buf, "ok %d %llu", &pid, &start) == 2) {
    lc->state->net_helper_pid = pid;
    lc->state->net_helper_start_time = start;
    return 0;
  }
  if (strncmp(buf, "error ", 6) == 0)
    return hull_error(err, 0, "annotation " ANNOTATION "=%s: %s",
                      user_network_helper(mode), buf + 6);
  return hull_error(err, 0, "annotation " ANNOTATION "=%s: the keeper "
                    "exited without a word", user_network_helper(mode));
}

int user_network_start(struct lifecycle *lc,
                       const struct network_attachment *at, pid_t pid,
                       hull_error_t *err) {
  cleanup_free char *helper = NULL;
  char dir[PATH_MAX];
  if (user_network_find(at->mode, &helper, err) < 0)
    return -1;
  if (realpath(lc->dir.path, dir) == NULL)
    return hull_error(err, errno, "resolve `%s`", lc->dir.path);
  cleanup_free char *net_path = xasprintf("/proc/%d/ns/net", (int)pid);
  cleanup_close int net = open(net_path, O_RDONLY | O_CLOEXEC);
  if (net < 0)
    return hull_error(err, errno, "open `%s`", net_path);
  cleanup_close int user = open_user_ns(pid, err);
  if (user == -1)
    return -1;
  cleanup_close int init = pidfd_open(pid);
  if (init < 0)
    return hull_error(err, errno, "pidfd_open %d", (int)pid);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  cleanup_close int ours = pipe_fds[0];
  pid_t keeper = fork();
  if (keeper < 0) {
    close(pipe_fds[1]);
    return hull_error(err, errno, "fork");
  }
  if (keeper == 0)
    keeper_main(at, helper, dir, pipe_fds[1], init, net,
                user >= 0 ? user : -1);
  close(pipe_fds[1]);
  /* Recorded first: delete finds the keeper even if create dies now. */
  lc->state->net_keeper_pid = keeper;
  lc->state->net_keeper_start_time = process_start_time(keeper);
  if (state_write(&lc->dir, lc->state, err) < 0 ||
      read_report(lc, at->mode, ours, err) < 0)
    return -1;
  log_debug("network %s: pid %d, keeper %d", user_network_helper(at->mode),
            (int)lc->state->net_helper_pid, (int)keeper);
  return state_write(&lc->dir, lc->state, err);
}

/* ---- delete's side ------------------------------------------------------- */

static void kill_recorded(pid_t pid, uint64_t start_time) {
  if (process_is_alive(pid, start_time))
    kill(pid, SIGKILL);
}

/* Whether pid's command line has the argument `arg`. */
static bool has_argument(pid_t pid, const char *arg) {
  cleanup_free char *path = xasprintf("/proc/%d/cmdline", (int)pid);
  cleanup_free char *cmdline = NULL;
  size_t len = 0;
  cleanup_error hull_error_t ignored = NULL;
  if (read_file(path, &cmdline, &len, &ignored) < 0)
    return false;
  for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1)
    if (strcmp(cmdline + i, arg) == 0)
      return true;
  return false;
}

/* Kills every pasta of this container that state.json may not name: one
 * that daemonized while create (or its keeper) was being killed. Each is
 * known by its command line's pid file, <state dir>/pasta.pid, which no
 * other process names. Returns how many were still there. */
static int kill_unrecorded_pastas(struct lifecycle *lc) {
  char dir[PATH_MAX];
  if (realpath(lc->dir.path, dir) == NULL)
    return 0;
  cleanup_free char *pid_file = xasprintf("%s/" PASTA_PID_FILE, dir);
  DIR *proc = opendir("/proc");
  if (proc == NULL)
    return 0;
  int found = 0;
  struct dirent *de;
  while ((de = readdir(proc)) != NULL) {
    pid_t pid = (pid_t)atoi(de->d_name);
    if (pid <= 0 || process_start_time(pid) == 0 ||
        !has_argument(pid, pid_file))
      continue;
    kill(pid, SIGKILL);
    found++;
  }
  closedir(proc);
  return found;
}

static bool is_pasta(const struct container_state *st) {
  const char *mode = spec_map_get(&st->annotations, ANNOTATION);
  return mode && strcmp(mode, "pasta") == 0;
}

int user_network_stop(struct lifecycle *lc, hull_error_t *err) {
  struct container_state *st = lc->state;
  bool pasta = is_pasta(st);
  if (st->net_keeper_pid <= 0 && st->net_helper_pid <= 0 && !pasta)
    return 0;
  /* The keeper first: its pasta, not yet daemonized, dies with it. */
  kill_recorded(st->net_keeper_pid, st->net_keeper_start_time);
  kill_recorded(st->net_helper_pid, st->net_helper_start_time);
  int64_t deadline = monotonic_ms() + STOP_TIMEOUT_MS;
  for (;;) {
    /* `run` made the keeper: it is this process's child to reap. */
    if (st->net_keeper_pid > 0)
      waitpid(st->net_keeper_pid, NULL, WNOHANG);
    bool alive = process_is_alive(st->net_keeper_pid,
                                  st->net_keeper_start_time) ||
                 process_is_alive(st->net_helper_pid,
                                  st->net_helper_start_time);
    /* Once the keeper is gone no pasta of ours can start any more. */
    if (!alive && pasta)
      alive = kill_unrecorded_pastas(lc) > 0;
    if (!alive)
      break;
    if (monotonic_ms() > deadline)
      return hull_error(err, 0, "network helper %d of container %s did "
                        "not exit after SIGKILL", (int)st->net_helper_pid,
                        st->id);
    if (wait_ms(5, "stopping the network helper", err) < 0)
      return -1;
  }
  unlinkat(lc->dir.fd, PASTA_PID_FILE, 0);
  st->net_keeper_pid = st->net_helper_pid = 0;
  return 0;
}
