/* harness.c — see harness.h. */
#include "tests/integration/harness.h"
#include "netns/netns.h"
#include "runtime/common/common.h"
#include "runtime/linux/linux.h"
#include "runtime/spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#define DEFAULT_TIMEOUT_MS 10000
#define LEFTOVER_GRACE_MS 2000

/* All tests of this run live under one directory, made by the runner before
 * it forks the tests, so the sweep (which runs in the runner) finds what a
 * failed test left behind. */
static char base_dir[64];

__attribute__((constructor)) static void make_base_dir(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/hull-itest.%d", (int)getpid());
}

static void ensure_base_dir(void) {
  if (mkdir(base_dir, 0755) < 0 && errno != EEXIST)
    ck_abort_msg("mkdir %s: %s", base_dir, strerror(errno));
}

static const char *runtime_path(void) {
  const char *h = getenv("HULL");
  return h && *h ? h : "./hull";
}

static const char *rootfs_source(void) {
  const char *r = getenv("HULL_TEST_ROOTFS");
  return r && *r ? r : "tests/rootfs";
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

bool hcontains(const char *haystack, const char *needle) {
  return haystack && needle && strstr(haystack, needle) != NULL;
}

char *hread_file(const char *path) {
  char *data = NULL;
  hull_error_t err = NULL;
  if (read_file(path, &data, NULL, &err) < 0) {
    hull_error_release(&err);
    return NULL;
  }
  return data;
}

void hwrite_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  ck_assert_msg(write_all(fd, text, strlen(text)) == 0, "write %s: %s", path,
                strerror(errno));
  close(fd);
  chmod(path, mode);
}

/* ---- running programs ------------------------------------------------- */

/* Starts argv in its own process group with stdin from /dev/null and
 * stdout/stderr to files. With gate_fd > 0 the child first waits for a byte
 * (or EOF) on it, so several can be let go at once; with pass_fd > 0 that
 * fd becomes the child's fd 3. */
static pid_t start_program(char *const *argv, const char *out_path,
                           const char *err_path, int gate_fd, int pass_fd) {
  pid_t pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || errfd < 0)
      _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(errfd, 2);
    if (pass_fd > 0 && dup2(pass_fd, 3) < 0)
      _exit(126);
    if (gate_fd > 0) {
      char byte;
      while (read(gate_fd, &byte, 1) < 0 && errno == EINTR)
        ;
    }
    execvp(argv[0], argv);
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

/* Waits for pid; returns its status as a shell would ($?), or -1 when it
 * outlived timeout_ms (then its process group is killed). */
static int wait_program(pid_t pid, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  int delay = 1;
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status))
        return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR)
      ck_abort_msg("waitpid: %s", strerror(errno));
    if (now_ms() > deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return -1;
    }
    sleep_ms(delay);
    if (delay < 20)
      delay *= 2;
  }
}

static int run_program(char *const *argv, const char *out_path,
                       const char *err_path, int timeout_ms) {
  return wait_program(start_program(argv, out_path, err_path, -1, -1),
                      timeout_ms);
}

/* argv for `$HULL [--root root] args...` (free the array only). */
static char **runtime_argv(const char *root, char *const *args) {
  size_t n = strv_len(args);
  char **argv = xzalloc((n + 4) * sizeof *argv);
  size_t i = 0;
  argv[i++] = (char *)runtime_path();
  if (root) {
    argv[i++] = "--root";
    argv[i++] = (char *)root;
  }
  for (size_t j = 0; j < n; j++)
    argv[i++] = args[j];
  return argv;
}

struct hbg hstart(struct hctx *c, char *const *args, int gate_fd,
                  int pass_fd) {
  cleanup_free char **argv = runtime_argv(c->root, args);
  int k = ++c->n_runs;
  struct hbg b = {0};
  b.out_path = xasprintf("%s/out.%d", c->dir, k);
  b.err_path = xasprintf("%s/err.%d", c->dir, k);
  b.pid = start_program(argv, b.out_path, b.err_path, gate_fd, pass_fd);
  return b;
}

struct hres hbg_wait(struct hbg *b, int timeout_ms) {
  struct hres r = {0};
  r.status = wait_program(b->pid, timeout_ms);
  r.out = hread_file(b->out_path);
  r.err = hread_file(b->err_path);
  if (r.out == NULL)
    r.out = xstrdup("");
  if (r.err == NULL)
    r.err = xstrdup("");
  r.out_path = take_ptr(b->out_path);
  free(b->err_path);
  memset(b, 0, sizeof *b);
  return r;
}

struct hres hrun_argv(struct hctx *c, const char *root, char *const *args,
                      int timeout_ms) {
  return hrun_wrapped(c, NULL, root, args, timeout_ms);
}

struct hres hrun_wrapped(struct hctx *c, char *const *prefix, const char *root,
                         char *const *args, int timeout_ms) {
  cleanup_free char **runtime = runtime_argv(root, args);
  size_t n_prefix = prefix ? strv_len(prefix) : 0;
  char **argv = xzalloc((n_prefix + strv_len(runtime) + 1) * sizeof *argv);
  for (size_t i = 0; i < n_prefix; i++)
    argv[i] = prefix[i];
  memcpy(argv + n_prefix, runtime, strv_len(runtime) * sizeof *argv);
  int k = ++c->n_runs;
  struct hres r = {0};
  r.out_path = xasprintf("%s/out.%d", c->dir, k);
  cleanup_free char *err_path = xasprintf("%s/err.%d", c->dir, k);
  r.status = run_program(argv, r.out_path, err_path, timeout_ms);
  r.out = hread_file(r.out_path);
  r.err = hread_file(err_path);
  if (r.out == NULL)
    r.out = xstrdup("");
  if (r.err == NULL)
    r.err = xstrdup("");
  free(argv);
  return r;
}

struct hres hrun(struct hctx *c, ...) {
  char *args[64];
  size_t n = 0;
  va_list ap;
  va_start(ap, c);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL) {
    ck_assert(n < 63);
    args[n++] = (char *)a;
  }
  va_end(ap);
  args[n] = NULL;
  return hrun_argv(c, c->root, args, DEFAULT_TIMEOUT_MS);
}

struct hres hrun_config(struct hctx *c, const struct hconfig *cfg) {
  hctx_write_config(c, cfg);
  return hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
}

pid_t hrun_waiter(struct hctx *c, const struct hconfig *base) {
  struct hconfig cfg = base ? *base : (struct hconfig){0};
  cfg.args = HELPER("signal-wait");
  hctx_write_config(c, &cfg);
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hwait_file(r.out_path, "ready", 5000),
                "the container's init never got ready");
  hres_free(&r);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "running");
  return pid;
}

void hexpect_create_refused(const char *linux_extra, const char *want) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.linux_extra = linux_extra});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_msg(r.status == 1, "status %d\nstderr: %s", r.status, r.err);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s\nwant: %s", r.err, want);
  hres_free(&r);
  hctx_finish(c);
}

void hres_free(struct hres *r) {
  free(r->out);
  free(r->err);
  free(r->out_path);
  memset(r, 0, sizeof *r);
}

pid_t hctx_spawn_host(struct hctx *c, char *const *argv) {
  ck_assert(c->n_extra_pids < (int)(sizeof c->extra_pids / sizeof c->extra_pids[0]));
  pid_t pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    int in = open("/dev/null", O_RDWR);
    dup2(in, 0);
    dup2(in, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  c->extra_pids[c->n_extra_pids++] = pid;
  return pid;
}

/* ---- JSON -------------------------------------------------------------- */

static yajl_val parse_json(const char *json) {
  char errbuf[256];
  return json ? yajl_tree_parse(json, errbuf, sizeof errbuf) : NULL;
}

bool hjson_valid(const char *json) {
  yajl_val v = parse_json(json);
  yajl_tree_free(v);
  return v != NULL;
}

char *hjson_string(const char *json, const char *const *path) {
  yajl_val v = parse_json(json);
  yajl_val s = v ? yajl_tree_get(v, (const char **)path, yajl_t_string) : NULL;
  char *r = s ? xstrdup(YAJL_GET_STRING(s)) : NULL;
  yajl_tree_free(v);
  return r;
}

long long hjson_int(const char *json, const char *const *path, long long dflt) {
  yajl_val v = parse_json(json);
  yajl_val n = v ? yajl_tree_get(v, (const char **)path, yajl_t_number) : NULL;
  long long r = n && YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : dflt;
  yajl_tree_free(v);
  return r;
}

static void remember_state_pid(struct hctx *c, pid_t pid) {
  int max = (int)(sizeof c->state_pids / sizeof c->state_pids[0]);
  if (pid <= 0 || c->n_state_pids == max)
    return;
  for (int i = 0; i < c->n_state_pids; i++)
    if (c->state_pids[i] == pid)
      return;
  c->state_pids[c->n_state_pids++] = pid;
}

char *hstate_status(struct hctx *c, const char *id, pid_t *pid) {
  struct hres r = hrun(c, "state", id, NULL);
  char *status = NULL;
  if (r.status == 0) {
    status = hjson_string(r.out, (const char *[]){"status", NULL});
    pid_t p = (pid_t)hjson_int(r.out, (const char *[]){"pid", NULL}, 0);
    if (pid)
      *pid = p;
    remember_state_pid(c, p);
  }
  hres_free(&r);
  return status ? status : xstrdup("");
}

bool hwait_status(struct hctx *c, const char *id, const char *want,
                  int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  do {
    cleanup_free char *s = hstate_status(c, id, NULL);
    if (strcmp(s, want) == 0)
      return true;
    sleep_ms(10);
  } while (now_ms() < deadline);
  return false;
}

bool hwait_file(const char *path, const char *needle, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  do {
    cleanup_free char *data = hread_file(path);
    if (hcontains(data, needle))
      return true;
    sleep_ms(5);
  } while (now_ms() < deadline);
  return false;
}

/* ---- bundles and configs --------------------------------------------- */

char *hconfig_json(const struct hconfig *cfg) {
  static const char default_namespaces[] =
      "{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
      " {\"type\": \"uts\"}, {\"type\": \"mount\"}";
  static const char masked[] =
      ", \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\","
      " \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\","
      " \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\","
      " \"/proc/scsi\"],"
      " \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\","
      " \"/proc/sys\", \"/proc/sysrq-trigger\"]";
  static const char caps[] =
      "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]";

  const char *hostname = cfg->hostname ? cfg->hostname : "hull-test";
  return xasprintf(
      "{\n"
      "  \"ociVersion\": \"1.0.2\",\n"
      "  \"process\": {\n"
      "    \"terminal\": %s,\n"
      "    \"user\": {%s},\n"
      "    \"args\": [%s],\n"
      "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
      " \"TERM=xterm\"%s%s],\n"
      "    \"cwd\": \"%s\",\n"
      "    \"capabilities\": {\"bounding\": %s, \"effective\": %s,"
      " \"permitted\": %s},\n"
      "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024,"
      " \"soft\": 1024}],\n"
      "    \"noNewPrivileges\": true%s%s\n"
      "  },\n"
      "  \"root\": {\"path\": \"rootfs\", \"readonly\": %s},\n"
      "  %s%s%s"
      "  \"mounts\": [\n"
      "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
      "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
      " \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
      "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
      " \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\","
      " \"mode=0620\"]},\n"
      "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
      " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
      "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
      " \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
      "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
      " \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}%s%s\n"
      "  ],\n"
      "  \"linux\": {\n"
      "    \"namespaces\": [%s]%s%s%s\n"
      "  }%s%s\n"
      "}\n",
      cfg->terminal ? "true" : "false",
      cfg->user ? cfg->user : "\"uid\": 0, \"gid\": 0",
      cfg->args ? cfg->args : HELPER("exit", "0"),
      cfg->env ? ", " : "", cfg->env ? cfg->env : "",
      cfg->cwd ? cfg->cwd : "/",
      caps, caps, caps,
      cfg->process_extra ? ",\n    " : "",
      cfg->process_extra ? cfg->process_extra : "",
      cfg->readonly_root ? "true" : "false",
      hostname[0] ? "\"hostname\": \"" : "", hostname,
      hostname[0] ? "\",\n" : "",
      cfg->mounts_extra ? ",\n    " : "",
      cfg->mounts_extra ? cfg->mounts_extra : "",
      cfg->namespaces ? cfg->namespaces : default_namespaces,
      cfg->no_masked_paths ? "" : masked,
      cfg->linux_extra ? ",\n    " : "",
      cfg->linux_extra ? cfg->linux_extra : "",
      cfg->top_extra ? ",\n  " : "",
      cfg->top_extra ? cfg->top_extra : "");
}

void hctx_write_config_raw(struct hctx *c, const char *json) {
  cleanup_free char *path = xasprintf("%s/config.json", c->bundle);
  hwrite_file(path, json, 0644);
}

void hctx_write_config(struct hctx *c, const struct hconfig *cfg) {
  cleanup_free char *json = hconfig_json(cfg);
  ck_assert_msg(hjson_valid(json), "the test's config is not JSON:\n%s", json);
  hctx_write_config_raw(c, json);
}

static int run_quiet(char *const *argv) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Lines of /proc/self/mountinfo, NULL-terminated. */
static char **mountinfo_lines(void) {
  cleanup_free char *data = hread_file("/proc/self/mountinfo");
  ck_assert_msg(data != NULL, "cannot read /proc/self/mountinfo");
  size_t n = 0, cap = 64;
  char **lines = xmalloc(cap * sizeof *lines);
  for (char *save = NULL, *l = strtok_r(data, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save)) {
    if (n + 1 == cap)
      lines = xrealloc(lines, (cap *= 2) * sizeof *lines);
    lines[n++] = xstrdup(l);
  }
  lines[n] = NULL;
  return lines;
}

struct hctx *hctx_new(void) {
  static int counter;
  ensure_base_dir();
  struct hctx *c = xzalloc(sizeof *c);
  /* The random part keeps ids unique across runs: the leak checks look for
   * cgroups and mounts by id, and a pid-only id reused after pid wrap-around
   * would blame this test for what an earlier, killed run left. */
  unsigned int salt = 0;
  if (getrandom(&salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
    salt = (unsigned int)now_ms();
  c->id = xasprintf("hullt-%d-%d-%06x", (int)getpid(), ++counter,
                    salt & 0xffffff);
  c->dir = xasprintf("%s/%s", base_dir, c->id);
  c->root = xasprintf("%s/state", c->dir);
  c->bundle = xasprintf("%s/bundle", c->dir);
  c->rootfs = xasprintf("%s/rootfs", c->bundle);
  /* 0755 all the way: a container in a user namespace must reach its rootfs
   * as an unprivileged host uid. */
  ck_assert_msg(mkdir(c->dir, 0755) == 0, "mkdir %s: %s", c->dir, strerror(errno));
  ck_assert_msg(mkdir(c->root, 0700) == 0, "mkdir %s: %s", c->root, strerror(errno));
  ck_assert_msg(mkdir(c->bundle, 0755) == 0, "mkdir %s: %s", c->bundle,
                strerror(errno));
  cleanup_free char *src = xasprintf("%s/.", rootfs_source());
  char *cp[] = {"cp", "-a", src, c->rootfs, NULL};
  ck_assert_msg(mkdir(c->rootfs, 0755) == 0, "mkdir %s", c->rootfs);
  ck_assert_msg(run_quiet(cp) == 0, "cp -a %s %s failed (HULL_TEST_ROOTFS?)", src,
                c->rootfs);
  c->mounts_before = mountinfo_lines();
  return c;
}

/* ---- leftovers ---------------------------------------------------------- */

static bool mentions(const char *text, struct hctx *c) {
  return hcontains(text, c->id) || hcontains(text, c->dir);
}

/* A process belongs to the test when its command line, cgroup or root
 * directory names the test's id or directory. Zombies are ignored: they
 * hold nothing but a pid, and init reaps them. */
static char *process_leftover(struct hctx *c, const char *pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  cleanup_free char *proc_stat = hread_file(path);
  const char *paren = proc_stat ? strrchr(proc_stat, ')') : NULL;
  if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X')
    return NULL;

  char root[4096];
  snprintf(path, sizeof path, "/proc/%s/root", pid);
  ssize_t n = readlink(path, root, sizeof root - 1);
  root[n > 0 ? n : 0] = '\0';

  snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
  size_t len = 0;
  char *cmd = NULL;
  hull_error_t err = NULL;
  if (read_file(path, &cmd, &len, &err) < 0)
    hull_error_release(&err);
  for (size_t i = 0; cmd && i + 1 < len; i++)
    if (cmd[i] == '\0')
      cmd[i] = ' ';

  snprintf(path, sizeof path, "/proc/%s/cgroup", pid);
  cleanup_free char *cgroup = hread_file(path);

  /* After pivot_root the root link reads "/", but the container's mount
   * table still names the bundle it came from. */
  cleanup_free char *mountinfo = NULL;
  struct stat own_mnt, mnt;
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
  if (stat("/proc/self/ns/mnt", &own_mnt) == 0 && stat(path, &mnt) == 0 &&
      own_mnt.st_ino != mnt.st_ino) {
    snprintf(path, sizeof path, "/proc/%s/mountinfo", pid);
    mountinfo = hread_file(path);
  }

  char *why = NULL;
  if (mentions(cmd, c) || mentions(cgroup, c) || mentions(root, c) ||
      mentions(mountinfo, c))
    why = xasprintf("pid %s (%s) root %s", pid, cmd ? cmd : "?", root);
  free(cmd);
  return why;
}

/* A pid that `state` once reported and that still lives, not as a zombie,
 * in other namespaces than ours, is the container's (a recycled pid would
 * almost surely be a host process). */
static char *find_living_state_pid(struct hctx *c) {
  for (int i = 0; i < c->n_state_pids; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)c->state_pids[i]);
    cleanup_free char *proc_stat = hread_file(path);
    const char *paren = proc_stat ? strrchr(proc_stat, ')') : NULL;
    if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X')
      continue;
    struct stat own, theirs;
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)c->state_pids[i]);
    if (stat("/proc/self/ns/mnt", &own) == 0 && stat(path, &theirs) == 0 &&
        own.st_ino != theirs.st_ino)
      return xasprintf("pid %d from state still runs", (int)c->state_pids[i]);
  }
  return NULL;
}

static char *find_leftover_process(struct hctx *c) {
  char *pid_from_state = find_living_state_pid(c);
  if (pid_from_state)
    return pid_from_state;
  DIR *d = opendir("/proc");
  ck_assert(d != NULL);
  char self[16];
  snprintf(self, sizeof self, "%d", (int)getpid());
  struct dirent *de;
  char *found = NULL;
  while (!found && (de = readdir(d)) != NULL) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9' || strcmp(de->d_name, self) == 0)
      continue;
    found = process_leftover(c, de->d_name);
  }
  closedir(d);
  return found;
}

/* Directories under /sys/fs/cgroup/<hierarchy>/ (a few levels deep) whose
 * name contains the test's id. */
static char *find_cgroup_in(const char *dir, const char *id, int depth) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return NULL;
  struct dirent *de;
  char *found = NULL;
  while (!found && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char *sub = xasprintf("%s/%s", dir, de->d_name);
    if (strstr(de->d_name, id))
      found = take_ptr(sub);
    else if (depth > 0)
      found = find_cgroup_in(sub, id, depth - 1);
    free(sub);
  }
  closedir(d);
  return found;
}

static char *find_leftover_mount(struct hctx *c) {
  char **now = mountinfo_lines();
  char *found = NULL;
  for (char **l = now; *l && !found; l++) {
    bool old = false;
    for (char **b = c->mounts_before; *b && !old; b++)
      old = strcmp(*b, *l) == 0;
    if (!old && (mentions(*l, c) || hcontains(*l, base_dir)))
      found = xstrdup(*l);
  }
  strv_free(now);
  return found;
}

/* hull's networks (.networks) outlive their containers, as a bridge
 * does; an address still held in one is a leftover. */
static char *find_leftover_address(struct hctx *c) {
  cleanup_strv char **networks = NULL;
  hull_error_t err = NULL;
  if (netns_network_list(c->root, &networks, &err) < 0) {
    char *found = xasprintf("networks: %s", err->msg);
    hull_error_release(&err);
    return found;
  }
  for (char **net = networks; net && *net; net++) {
    cleanup_strv char **ids = NULL;
    if (netns_ipam_owners(c->root, *net, &ids, &err) < 0) {
      char *found = xasprintf("network %s: %s", *net, err->msg);
      hull_error_release(&err);
      return found;
    }
    if (ids && ids[0])
      return xasprintf("network %s: an address of %s", *net, ids[0]);
  }
  return NULL;
}

static char *find_leftover_state(struct hctx *c) {
  char *address = find_leftover_address(c);
  if (address)
    return address;
  DIR *d = opendir(c->root);
  if (d == NULL)
    return NULL; /* a runtime may remove an empty root: nothing is left */
  struct dirent *de;
  char *found = NULL;
  /* .cache holds what containers share (compiled seccomp filters): it
   * outlives each of them by design and goes with the test's directory.
   * .userns (run.oci.userns=auto's pool) too, with its lock, but a record
   * in it is a range still held. */
  while (!found && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".userns") == 0) {
      cleanup_free char *pool = xasprintf("%s/.userns", c->root);
      if (hcount_entries(pool) > 0)
        found = xasprintf("%s (%d ranges held)", pool, hcount_entries(pool));
    } else if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
               strcmp(de->d_name, ".cache") != 0 &&
               strcmp(de->d_name, ".networks") != 0) {
      found = xasprintf("%s/%s", c->root, de->d_name);
    }
  }
  closedir(d);
  return found;
}

static void stop_host_helpers(struct hctx *c) {
  for (int i = 0; i < c->n_extra_pids; i++) {
    kill(c->extra_pids[i], SIGKILL);
    waitpid(c->extra_pids[i], NULL, 0);
  }
  c->n_extra_pids = 0;
}

void hctx_finish(struct hctx *c) {
  stop_host_helpers(c);
  /* A container's last process may take a moment to be reaped by init. */
  cleanup_free char *proc = NULL;
  long long deadline = now_ms() + LEFTOVER_GRACE_MS;
  while ((proc = find_leftover_process(c)) != NULL && now_ms() < deadline) {
    free(take_ptr(proc));
    sleep_ms(10);
  }
  ck_assert_msg(proc == NULL, "left a process behind: %s", proc);

  cleanup_free char *mount = find_leftover_mount(c);
  ck_assert_msg(mount == NULL, "left a mount behind: %s", mount);

  cleanup_free char *cgroup = find_cgroup_in("/sys/fs/cgroup", c->id, 4);
  ck_assert_msg(cgroup == NULL, "left a cgroup behind: %s", cgroup);

  cleanup_free char *state = find_leftover_state(c);
  ck_assert_msg(state == NULL, "left state behind in --root: %s", state);

  hull_error_t err = NULL;
  if (remove_tree(c->dir, &err) < 0) {
    fprintf(stderr, "warning: %s\n", err->msg);
    hull_error_release(&err);
  }
  strv_free(c->mounts_before);
  free(c->id);
  free(c->dir);
  free(c->root);
  free(c->bundle);
  free(c->rootfs);
  free(c);
}

/* ---- the sweep -------------------------------------------------------- */

/* Kills every process whose root or cgroup lies in dir's test: containers
 * that a failed test left running. */
static void kill_processes_of(struct hctx *c) {
  char *why;
  for (int round = 0; round < 50 && (why = find_leftover_process(c)); round++) {
    int pid = atoi(strstr(why, "pid ") + 4);
    fprintf(stderr, "sweep: killing %s\n", why);
    free(why);
    kill(pid, SIGKILL);
    sleep_ms(20);
  }
}

static void unmount_under(const char *dir) {
  for (int round = 0; round < 100; round++) {
    char **lines = mountinfo_lines();
    char *target = NULL;
    for (char **l = lines; *l && !target; l++) {
      char mnt[4096];
      if (sscanf(*l, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
          strncmp(mnt, dir, strlen(dir)) == 0)
        target = xstrdup(mnt);
    }
    strv_free(lines);
    if (target == NULL)
      return;
    fprintf(stderr, "sweep: unmounting %s\n", target);
    umount2(target, MNT_DETACH);
    free(target);
  }
}

/* Runs in the runner after each tcase: force-deletes the containers of
 * tests that failed before hctx_finish() and removes their files. */
static void harness_sweep(void) {
  DIR *d = opendir(base_dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    struct hctx c = {0};
    c.id = de->d_name;
    c.dir = xasprintf("%s/%s", base_dir, de->d_name);
    c.root = xasprintf("%s/state", c.dir);
    DIR *s = opendir(c.root);
    struct dirent *se;
    while (s && (se = readdir(s)) != NULL) {
      if (se->d_name[0] == '.')
        continue;
      char *args[] = {"delete", "--force", se->d_name, NULL};
      struct hres r = hrun_argv(&c, c.root, args, DEFAULT_TIMEOUT_MS);
      hres_free(&r);
    }
    if (s)
      closedir(s);
    kill_processes_of(&c);
    unmount_under(c.dir);
    hull_error_t err = NULL;
    if (remove_tree(c.dir, &err) < 0) {
      fprintf(stderr, "sweep: %s\n", err->msg);
      hull_error_release(&err);
    }
    free(c.dir);
    free(c.root);
  }
  closedir(d);
  rmdir(base_dir);
}

TCase *harness_tcase(const char *name, double timeout_seconds) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, timeout_seconds);
  tcase_add_unchecked_fixture(tc, NULL, harness_sweep);
  return tc;
}

void hctx_delete_and_finish(struct hctx *c) {
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}

/* ---- cgroup layout ---------------------------------------------------- */

static bool fs_is(const char *path, long magic) {
  struct statfs s;
  return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

enum layout host_layout(void) {
  if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
    return LAYOUT_V2;
  if (fs_is("/sys/fs/cgroup", TMPFS_MAGIC) &&
      fs_is("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC))
    return LAYOUT_V1;
  return LAYOUT_OTHER;
}

bool has_controller(enum layout l, const char *name) {
  if (l == LAYOUT_V1) {
    cleanup_free char *p = xasprintf("/sys/fs/cgroup/%s", name);
    return fs_is(p, CGROUP_SUPER_MAGIC);
  }
  if (strcmp(name, "freezer") == 0) {
    /* cgroup.freeze (Linux 5.2+) is in every cgroup but the root: ask a
     * child of our own. */
    cleanup_free char *probe =
        xasprintf("/sys/fs/cgroup/hull-freezer-probe-%d", (int)getpid());
    if (mkdir(probe, 0755) < 0 && errno != EEXIST)
      return false;
    cleanup_free char *knob = xasprintf("%s/cgroup.freeze", probe);
    bool has = access(knob, F_OK) == 0;
    rmdir(probe);
    return has;
  }
  cleanup_free char *offered = hread_file("/sys/fs/cgroup/cgroup.controllers");
  if (offered == NULL)
    return false;
  size_t n = strlen(name);
  for (const char *p = offered; (p = strstr(p, name)); p += n)
    if ((p == offered || p[-1] == ' ') &&
        (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
      return true;
  return false;
}

void hexpect_one_line_error(struct hres r, const char *msg) {
  ck_assert_hres(r, 1);
  cleanup_free char *quoted = xasprintf("msg=\"%s\"", msg);
  ck_assert_msg(hcontains(r.err, quoted), "stderr: %s\nwant: %s", r.err,
                quoted);
  char *nl = strchr(r.err, '\n');
  ck_assert_msg(nl && nl[1] == '\0', "more than one line: %s", r.err);
}

void hrun_tool(char *const *argv) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "%s %s failed", argv[0], argv[1]);
}

int hcount_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

bool hcan_idmap(const char *dir) {
  struct spec_id_mapping map = {0, 100000, 65536};
  int userns = -1;
  hull_error_t err = NULL;
  if (ns_new_user_fd(&map, 1, &map, 1, &userns, &err) < 0) {
    hull_error_release(&err);
    return false;
  }
  int tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                            .userns_fd = (uint64_t)userns};
  bool ok = tree >= 0 &&
            mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0;
  if (tree >= 0)
    close(tree);
  close(userns);
  return ok;
}
