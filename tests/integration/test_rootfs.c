/* test_rootfs.c — the container rootfs (runtime/linux/rootfs.c and friends),
 * as root.
 *
 * Each test builds a small rootfs under /tmp, forks a child that unshares a
 * mount namespace (and pid/net/cgroup ones where needed), runs
 * rootfs_prepare/pivot/finish on a `struct spec` built by hand, and checks
 * the result from inside. A failed check's message comes back over a pipe.
 * Afterwards the host's mountinfo must be what it was and the temporary
 * tree is removed. */
#include "tests/suite.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define ESCAPE_TARGET "/tmp/hull-escape-target"
#define ESCAPE_DOTDOT "/tmp/hull-escape-dotdot"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define MQUEUE_MAGIC 0x19800202
#define DEVPTS_SUPER_MAGIC 0x1cd1
#define TMPFS_MAGIC 0x01021994
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

/* ---- fixture -------------------------------------------------------- */

struct fixture {
  char dir[64];
  char rootfs[96];
  char *mountinfo;
};

static char *host_mountinfo(void) {
  hull_error_t err = NULL;
  char *text = NULL;
  ck_assert_msg(read_file("/proc/self/mountinfo", &text, NULL, &err) == 0,
                "%s", err ? err->msg : "");
  return text;
}

static void put_file(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
  ck_assert_int_eq(write_all(fd, content, strlen(content)), 0);
  close(fd);
}

static void fixture_setup(struct fixture *f) {
  snprintf(f->dir, sizeof(f->dir), "/tmp/hull-rootfs-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(f->dir));
  snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->dir);
  const char *dirs[] = {"", "/proc", "/sys", "/dev", "/tmp", "/etc", "/mnt"};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    char p[160];
    snprintf(p, sizeof(p), "%s%s", f->rootfs, dirs[i]);
    ck_assert_int_eq(mkdir(p, 0755), 0);
  }
  char p[160];
  snprintf(p, sizeof(p), "%s/marker", f->rootfs);
  put_file(p, "rootfs");
  rmdir(ESCAPE_TARGET);
  unlink(ESCAPE_TARGET);
  rmdir(ESCAPE_DOTDOT);
  f->mountinfo = host_mountinfo();
}

static void fixture_teardown(struct fixture *f) {
  cleanup_free char *now = host_mountinfo();
  ck_assert_msg(strcmp(now, f->mountinfo) == 0,
                "mounts leaked into the host:\n%s", now);
  free(f->mountinfo);
  hull_error_t err = NULL;
  ck_assert_msg(remove_tree(f->dir, &err) == 0, "%s", err ? err->msg : "");
  ck_assert_msg(access(ESCAPE_TARGET, F_OK) < 0, ESCAPE_TARGET " created");
  ck_assert_msg(access(ESCAPE_DOTDOT, F_OK) < 0, ESCAPE_DOTDOT " created");
}

/* ---- running a container-ish child --------------------------------- */

struct child {
  struct fixture *f;
  int out;                   /* the pipe failure messages go to */
  char msg[1024];
};

typedef int (*child_fn)(struct child *c, void *arg);

static int child_fail(struct child *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int child_fail(struct child *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
  va_end(ap);
  return 1;
}

#define CHECK(c, cond, ...)                                                  \
  do {                                                                       \
    if (!(cond))                                                             \
      return child_fail(c, __VA_ARGS__);                                           \
  } while (0)

static int wait_status(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 99;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs fn in a child that is pid 1 of the pid namespace unshared before;
 * the grandchild reports its own failure. */
static int in_new_pidns(struct child *c, child_fn fn, void *arg) {
  pid_t pid = fork();
  if (pid < 0)
    return child_fail(c, "fork: %s", strerror(errno));
  if (pid == 0) {
    int r = fn(c, arg);
    if (r)
      write_all(c->out, c->msg, strlen(c->msg));
    _exit(r);
  }
  int status = wait_status(pid);
  c->msg[0] = '\0'; /* already reported */
  return status;
}

static void child_main(struct fixture *f, int flags, child_fn fn, void *arg,
                       int out) {
  struct child c = {.f = f, .out = out};
  int r;
  if (unshare(CLONE_NEWNS | flags) < 0)
    r = child_fail(&c, "unshare: %s", strerror(errno));
  else if (flags & CLONE_NEWPID)
    r = in_new_pidns(&c, fn, arg);
  else
    r = fn(&c, arg);
  if (r)
    write_all(out, c.msg, strlen(c.msg));
  _exit(r);
}

/* Removes the fixture's tree even when a check failed half-way. */
static void fixture_discard(struct fixture *f) {
  hull_error_t err = NULL;
  remove_tree(f->dir, &err);
  hull_error_release(&err);
  free(f->mountinfo);
}

static void run_child(struct fixture *f, int flags, child_fn fn, void *arg) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    child_main(f, flags, fn, arg, p[1]);
  }
  close(p[1]);
  char msg[1024] = {0};
  ssize_t n = read_all(p[0], msg, sizeof(msg) - 1);
  close(p[0]);
  int status = wait_status(pid);
  if (status != 0)
    fixture_discard(f);
  ck_assert_msg(status == 0, "child failed (%d): %s", status,
                n > 0 ? msg : "(no message)");
}

/* ---- building specs -------------------------------------------------- */

#define OPTS(...) ((char *[]){__VA_ARGS__, NULL})

static struct spec_mount mnt(const char *dest, const char *type,
                             const char *src, char **options) {
  return (struct spec_mount){.destination = (char *)dest,
                             .type = (char *)type,
                             .source = (char *)src,
                             .options = options};
}

struct setup {
  struct spec spec;
  struct spec_linux linux;
  struct rootfs_options opts;
  bool no_pivot;
};

static void setup_init(struct setup *s, struct child *c,
                       struct spec_mount *mounts, size_t n) {
  memset(s, 0, sizeof(*s));
  s->spec.linux = &s->linux;
  s->spec.mounts = mounts;
  s->spec.n_mounts = n;
  s->opts.rootfs = c->f->rootfs;
  s->opts.bundle = c->f->dir;
}

static int setup_run(struct setup *s, struct child *c) {
  hull_error_t err = NULL;
  if (rootfs_prepare(&s->spec, &s->opts, &err) < 0)
    return child_fail(c, "rootfs_prepare: %s", err->msg);
  if (rootfs_pivot(s->opts.rootfs, s->no_pivot, &err) < 0)
    return child_fail(c, "rootfs_pivot: %s", err->msg);
  if (rootfs_finish(&s->spec, &err) < 0)
    return child_fail(c, "rootfs_finish: %s", err->msg);
  return 0;
}

/* The mountinfo line whose mount point is `mp` (the last one), or NULL. */
static char *mount_line(const char *mp) {
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  if (read_file("/proc/self/mountinfo", &text, NULL, &err) < 0) {
    hull_error_release(&err);
    return NULL;
  }
  char *found = NULL, *save = NULL;
  for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char root[512], point[512];
    if (sscanf(l, "%*s %*s %*s %511s %511s", root, point) == 2 &&
        strcmp(point, mp) == 0) {
      free(found);
      found = xstrdup(l);
    }
  }
  return found;
}

static long fs_type(const char *path) {
  struct statfs sf;
  return statfs(path, &sf) < 0 ? -1 : (long)sf.f_type;
}

static int create_errno(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno;
}

static struct spec_mount proc_mount(void) {
  return mnt("/proc", "proc", "proc", NULL);
}

/* ---- mounts ------------------------------------------------------------ */

static int tmpfs_options_child(struct child *c, void *arg) {
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/tmp/t", "tmpfs", "tmpfs",
          OPTS("nosuid", "noexec", "nodev", "size=64k", "mode=750")),
  };
  struct setup s;
  setup_init(&s, c, m, 2);
  if (setup_run(&s, c))
    return 1;
  cleanup_free char *line = mount_line("/tmp/t");
  CHECK(c, line, "no /tmp/t in mountinfo");
  CHECK(c, strstr(line, "nosuid") && strstr(line, "noexec") &&
               strstr(line, "nodev") && strstr(line, "size=64k"),
        "options missing: %s", line);
  struct stat st;
  CHECK(c, stat("/tmp/t", &st) == 0 && (st.st_mode & 07777) == 0750,
        "mode %o", st.st_mode & 07777);
  CHECK(c, fs_type("/tmp/t") == TMPFS_MAGIC, "not a tmpfs");
  return 0;
}

START_TEST(tmpfs_options) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, tmpfs_options_child, NULL);
  fixture_teardown(&f);
}
END_TEST

static int ro_bind_child(struct child *c, void *arg) {
  /* A relative source resolves in the bundle. */
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/mnt/ro", "bind", "src", OPTS("rbind", "ro", "nosuid")),
      mnt("/mnt/file", NULL, "src/hello", OPTS("bind", "ro")),
  };
  struct setup s;
  setup_init(&s, c, m, 3);
  if (setup_run(&s, c))
    return 1;
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  CHECK(c, read_file("/mnt/ro/hello", &text, NULL, &err) == 0 &&
               strcmp(text, "hi") == 0, "cannot read the bound file");
  CHECK(c, create_errno("/mnt/ro/new") == EROFS, "ro bind is writable");
  CHECK(c, create_errno("/mnt/file") == EROFS, "ro file bind is writable");
  cleanup_free char *line = mount_line("/mnt/ro");
  CHECK(c, line && strstr(line, " ro,") && strstr(line, "nosuid"),
        "flags: %s", line ? line : "none");
  return 0;
}

/* Mounts a tmpfs on the fixture's src/sub from the child's own mount
 * namespace. Its copy of a shared host mount (systemd; make check-vm) would
 * pass the mount back to the host, so first the child's mounts become
 * private, as they already are on a host without shared mounts. */
static bool mount_sub(struct child *c, unsigned long flags) {
  char sub[160];
  snprintf(sub, sizeof(sub), "%s/src/sub", c->f->dir);
  return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
         mount("tmpfs", sub, "tmpfs", flags, NULL) == 0;
}

static void make_src(struct fixture *f) {
  char p[160];
  snprintf(p, sizeof(p), "%s/src", f->dir);
  ck_assert_int_eq(mkdir(p, 0755), 0);
  snprintf(p, sizeof(p), "%s/src/hello", f->dir);
  put_file(p, "hi");
  snprintf(p, sizeof(p), "%s/src/sub", f->dir);
  ck_assert_int_eq(mkdir(p, 0755), 0);
}

START_TEST(ro_bind) {
  struct fixture f;
  fixture_setup(&f);
  make_src(&f);
  run_child(&f, 0, ro_bind_child, NULL);
  fixture_teardown(&f);
}
END_TEST

/* A tmpfs under the bind source: rbind carries it along, bind does not. */
static int rbind_child(struct child *c, void *arg) {
  CHECK(c, mount_sub(c, 0), "mount sub: %s", strerror(errno));
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/mnt/r", "bind", "src", OPTS("rbind")),
      mnt("/mnt/b", "bind", "src", OPTS("bind")),
  };
  struct setup s;
  setup_init(&s, c, m, 3);
  if (setup_run(&s, c))
    return 1;
  CHECK(c, fs_type("/mnt/r/sub") == TMPFS_MAGIC, "rbind lost the submount");
  /* Not its type: the fixture itself may live on a tmpfs. */
  cleanup_free char *b_sub = mount_line("/mnt/b/sub");
  CHECK(c, b_sub == NULL, "bind took the submount: %s", b_sub);
  CHECK(c, create_errno("/mnt/r/hello") == 0, "rbind not writable");
  return 0;
}

START_TEST(rbind) {
  struct fixture f;
  fixture_setup(&f);
  make_src(&f);
  run_child(&f, 0, rbind_child, NULL);
  fixture_teardown(&f);
}
END_TEST

static int propagation_child(struct child *c, void *arg) {
  CHECK(c, mount_sub(c, 0), "mount sub: %s", strerror(errno));
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/mnt/shared", "tmpfs", "tmpfs", OPTS("rshared")),
      mnt("/mnt/private", "tmpfs", "tmpfs", OPTS("shared", "private")),
      mnt("/mnt/unbindable", "tmpfs", "tmpfs", OPTS("unbindable")),
      mnt("/mnt/rec", "bind", "src", OPTS("rbind", "rro", "rnosuid")),
  };
  struct setup s;
  setup_init(&s, c, m, 5);
  /* Not recursive: "rprivate" would undo the mounts' own propagation. */
  s.linux.rootfs_propagation = "private";
  if (setup_run(&s, c))
    return 1;
  cleanup_free char *sh = mount_line("/mnt/shared");
  cleanup_free char *pr = mount_line("/mnt/private");
  cleanup_free char *ub = mount_line("/mnt/unbindable");
  cleanup_free char *root = mount_line("/");
  cleanup_free char *rec = mount_line("/mnt/rec/sub");
  CHECK(c, sh && strstr(sh, "shared:"), "not shared: %s", sh ? sh : "none");
  CHECK(c, pr && !strstr(pr, "shared:"), "not private: %s", pr ? pr : "none");
  CHECK(c, ub && strstr(ub, "unbindable"), "not unbindable: %s",
        ub ? ub : "none");
  CHECK(c, root && !strstr(root, "shared:") && !strstr(root, "master:"),
        "root not private: %s", root ? root : "none");
  /* rro reaches the submount, which a plain ro remount would not. */
  CHECK(c, rec && strstr(rec, " ro,") && strstr(rec, "nosuid"),
        "recursive attributes missing: %s", rec ? rec : "none");
  CHECK(c, create_errno("/mnt/rec/sub/x") == EROFS, "rro submount writable");
  return 0;
}

START_TEST(propagation) {
  struct fixture f;
  fixture_setup(&f);
  make_src(&f);
  run_child(&f, 0, propagation_child, NULL);
  fixture_teardown(&f);
}
END_TEST

static int special_fs_child(struct child *c, void *arg) {
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755",
                                         "size=65536k")),
      mnt("/dev/pts", "devpts", "devpts",
          OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")),
      mnt("/dev/shm", "tmpfs", "shm",
          OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
      mnt("/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev")),
      mnt("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")),
  };
  struct setup s;
  setup_init(&s, c, m, 6);
  if (setup_run(&s, c))
    return 1;
  CHECK(c, getpid() == 1, "not pid 1 in the new pid namespace");
  CHECK(c, fs_type("/proc") == PROC_SUPER_MAGIC, "no proc");
  CHECK(c, access("/proc/1/stat", F_OK) == 0 && access("/proc/2", F_OK) < 0,
        "proc is not the container's pid namespace");
  CHECK(c, fs_type("/sys") == SYSFS_MAGIC, "no sysfs");
  CHECK(c, create_errno("/sys/x") == EROFS, "sysfs writable");
  CHECK(c, fs_type("/dev/mqueue") == MQUEUE_MAGIC, "no mqueue");
  CHECK(c, fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC, "no devpts");
  CHECK(c, fs_type("/dev/shm") == TMPFS_MAGIC, "no /dev/shm");
  int ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY);
  CHECK(c, ptmx >= 0, "open /dev/ptmx: %s", strerror(errno));
  close(ptmx);
  return 0;
}

START_TEST(proc_sysfs_mqueue_devpts) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, CLONE_NEWPID, special_fs_child, NULL);
  fixture_teardown(&f);
}
END_TEST

/* The cgroup tests run on v1, hybrid and pure v2 hosts (make check-vm). */
static bool host_is_unified(void) {
  struct statfs sf;
  return statfs("/sys/fs/cgroup", &sf) == 0 &&
         sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* A pure v2 host: the mount is cgroup2 itself, read-only. Without a cgroup
 * namespace it shows the whole hierarchy, so the marker is at its path. */
static int check_cgroup2_mount(struct child *c, const char *path) {
  CHECK(c, fs_type("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC, "no cgroup2");
  CHECK(c, access("/sys/fs/cgroup/cgroup.procs", R_OK) == 0,
        "no cgroup.procs");
  CHECK(c, mkdir("/sys/fs/cgroup/hull-x", 0755) < 0 && errno == EROFS,
        "cgroup2 writable");
  cleanup_free char *line = mount_line("/sys/fs/cgroup");
  CHECK(c, line && strstr(line, " ro,") && strstr(line, "nosuid"),
        "cgroup2: %s", line ? line : "none");
  if (path) {
    char marker[160];
    snprintf(marker, sizeof(marker), "/sys/fs/cgroup%s/hull-marker", path);
    CHECK(c, access(marker, F_OK) == 0, "%s: not visible", marker);
  }
  return 0;
}

/* The v1 hierarchies the host has mounted under /sys/fs/cgroup ("cpu",
 * "memory", "name=systemd"'s "systemd", ...): their mount points' names,
 * read from this process's mountinfo; returns how many (at most max). */
#define MAX_HIERARCHIES 16
static int host_v1_hierarchies(char names[][64], int max) {
  cleanup_free char *info = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file("/proc/self/mountinfo", &info, NULL, &err), 0);
  int n = 0;
  for (char *save = NULL, *l = strtok_r(info, "\n", &save); l && n < max;
       l = strtok_r(NULL, "\n", &save)) {
    char point[256], fstype[32];
    const char *dash = strstr(l, " - ");
    if (!dash || sscanf(l, "%*s %*s %*s %*s %255s", point) != 1 ||
        sscanf(dash + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup") ||
        strncmp(point, "/sys/fs/cgroup/", 15) || strchr(point + 15, '/'))
      continue;
    snprintf(names[n++], 64, "%.63s", point + 15);
  }
  return n;
}

static bool has_name(char names[][64], int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return true;
  return false;
}

#define SKIP_WITHOUT_CGROUPS()                                                \
  do {                                                                        \
    char one_[1][64];                                                         \
    SKIP_UNLESS(host_is_unified() || host_v1_hierarchies(one_, 1) > 0,        \
                "no cgroup2 at /sys/fs/cgroup and no v1 hierarchy under it"); \
  } while (0)

/* arg: NULL, "cgroupns", or the container's cgroup path (made in the first
 * of the host's v1 hierarchies). */
static int cgroup_child(struct child *c, void *arg) {
  /* Read before the container's mounts replace the host's view. */
  char ctrls[MAX_HIERARCHIES][64];
  int n_ctrls = host_v1_hierarchies(ctrls, MAX_HIERARCHIES);
  bool cgroupns = arg && strcmp(arg, "cgroupns") == 0;
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")),
      mnt("/sys/fs/cgroup", "cgroup", "cgroup",
          OPTS("nosuid", "noexec", "nodev", "relatime", "ro")),
  };
  struct setup s;
  setup_init(&s, c, m, 3);
  s.opts.new_cgroup_ns = cgroupns;
  if (arg && !cgroupns)
    s.opts.cgroup_path = arg;
  if (setup_run(&s, c))
    return 1;
  if (host_is_unified())
    return check_cgroup2_mount(c, arg && !cgroupns ? arg : NULL);
  CHECK(c, fs_type("/sys/fs/cgroup") == TMPFS_MAGIC, "no tmpfs at cgroup");
  CHECK(c, n_ctrls > 0, "the host has no v1 hierarchy");
  for (int i = 0; i < n_ctrls; i++) {
    char p[128];
    snprintf(p, sizeof(p), "/sys/fs/cgroup/%.63s", ctrls[i]);
    CHECK(c, fs_type(p) == CGROUP_SUPER_MAGIC, "%s is not a cgroup", p);
    snprintf(p, sizeof(p), "/sys/fs/cgroup/%.63s/hull-x", ctrls[i]);
    CHECK(c, mkdir(p, 0755) < 0 && errno == EROFS, "%s: writable", p);
  }
  CHECK(c, !has_name(ctrls, n_ctrls, "memory") ||
               access("/sys/fs/cgroup/memory/memory.limit_in_bytes", R_OK) == 0,
        "no memory controller files");
  CHECK(c, mkdir("/sys/fs/cgroup/new", 0755) < 0 && errno == EROFS,
        "cgroup tmpfs writable");
  char first[128];
  snprintf(first, sizeof first, "/sys/fs/cgroup/%s", ctrls[0]);
  cleanup_free char *line = mount_line(first);
  CHECK(c, line && strstr(line, " ro,") && strstr(line, "nosuid"),
        "%s: %s", first, line ? line : "none");
  /* With a cgroup path, its directory is what the container sees. */
  if (arg && !cgroupns) {
    char marker[160];
    snprintf(marker, sizeof marker, "%s/hull-marker", first);
    CHECK(c, access(marker, F_OK) == 0, "the container's cgroup is not bound");
  }
  return 0;
}

START_TEST(cgroup_v1) {
  SKIP_WITHOUT_CGROUPS();
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, cgroup_child, NULL);
  fixture_teardown(&f);
}
END_TEST

START_TEST(cgroup_v1_namespace) {
  SKIP_WITHOUT_CGROUPS();
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, CLONE_NEWCGROUP, cgroup_child, "cgroupns");
  fixture_teardown(&f);
}
END_TEST

START_TEST(cgroup_v1_container_path) {
  struct fixture f;
  fixture_setup(&f);
  SKIP_WITHOUT_CGROUPS();
  char ctrls[1][64];
  if (!host_is_unified())
    host_v1_hierarchies(ctrls, 1);
  char name[64], dir[160], marker[192];
  snprintf(name, sizeof(name), "/hull-rootfs-test-%d", (int)getpid());
  snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s%s%s",
           host_is_unified() ? "" : "/", host_is_unified() ? "" : ctrls[0],
           name);
  snprintf(marker, sizeof(marker), "%s/hull-marker", dir);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  ck_assert_int_eq(mkdir(marker, 0755), 0);
  run_child(&f, 0, cgroup_child, name);
  ck_assert_int_eq(rmdir(marker), 0);
  ck_assert_int_eq(rmdir(dir), 0);
  fixture_teardown(&f);
}
END_TEST

/* ---- devices -------------------------------------------------------- */

static int check_char(struct child *c, const char *path, unsigned maj,
                      unsigned min, mode_t mode, uid_t uid, gid_t gid) {
  struct stat st;
  CHECK(c, lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
  CHECK(c, S_ISCHR(st.st_mode), "%s: not a char device", path);
  CHECK(c, major(st.st_rdev) == maj && minor(st.st_rdev) == min,
        "%s: %u:%u", path, major(st.st_rdev), minor(st.st_rdev));
  CHECK(c, (st.st_mode & 07777) == mode, "%s: mode %o", path,
        st.st_mode & 07777);
  CHECK(c, st.st_uid == uid && st.st_gid == gid, "%s: owner %u:%u", path,
        st.st_uid, st.st_gid);
  return 0;
}

static int check_link(struct child *c, const char *path, const char *target) {
  char buf[256];
  ssize_t n = readlink(path, buf, sizeof(buf) - 1);
  CHECK(c, n > 0, "%s: %s", path, strerror(errno));
  buf[n] = '\0';
  CHECK(c, strcmp(buf, target) == 0, "%s -> %s", path, buf);
  return 0;
}

static int devices_child(struct child *c, void *arg) {
  bool bind = arg != NULL;
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755")),
      mnt("/dev/pts", "devpts", "devpts", OPTS("nosuid", "noexec")),
  };
  struct spec_device dev = {
      .type = "c", .path = "/dev/hull/mydev",
      .major = {true, 1}, .minor = {true, 3},
      .file_mode = {true, 0620}, .uid = {true, 1000}, .gid = {true, 1001},
  };
  struct setup s;
  setup_init(&s, c, m, 3);
  s.opts.in_user_ns = bind;
  if (!bind) {
    s.linux.devices = &dev;
    s.linux.n_devices = 1;
  }
  if (setup_run(&s, c))
    return 1;
  static const struct {
    const char *path;
    unsigned maj, min;
  } defaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},
                  {"/dev/full", 1, 7},   {"/dev/random", 1, 8},
                  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
    if (check_char(c, defaults[i].path, defaults[i].maj, defaults[i].min,
                   0666, 0, 0))
      return 1;
  if (!bind && check_char(c, "/dev/hull/mydev", 1, 3, 0620, 1000, 1001))
    return 1;
  if (check_link(c, "/dev/fd", "/proc/self/fd") ||
      check_link(c, "/dev/stdin", "/proc/self/fd/0") ||
      check_link(c, "/dev/stdout", "/proc/self/fd/1") ||
      check_link(c, "/dev/stderr", "/proc/self/fd/2") ||
      check_link(c, "/dev/ptmx", "pts/ptmx"))
    return 1;
  CHECK(c, access("/dev/console", F_OK) < 0, "/dev/console without terminal");
  /* runc adds /dev/core only when the host has /proc/kcore. */
  CHECK(c, (access("/dev/core", F_OK) == 0) == (access("/proc/kcore", F_OK) == 0),
        "/dev/core and /proc/kcore disagree");
  int fd = open("/dev/null", O_WRONLY);
  CHECK(c, fd >= 0 && write(fd, "x", 1) == 1, "/dev/null unusable");
  close(fd);
  return 0;
}

START_TEST(devices_mknod) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, devices_child, NULL);
  fixture_teardown(&f);
}
END_TEST

START_TEST(devices_bind) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, devices_child, (void *)1);
  fixture_teardown(&f);
}
END_TEST

/* ---- in a user namespace --------------------------------------------- */

static int write_id_maps(struct child *c) {
  hull_error_t err = NULL;
  /* A process may map just its own ids into the namespace it made. */
  if (write_file("/proc/self/setgroups", "deny", 4, &err) < 0 ||
      write_file("/proc/self/uid_map", "0 0 1", 5, &err) < 0 ||
      write_file("/proc/self/gid_map", "0 0 1", 5, &err) < 0) {
    child_fail(c, "%s", err->msg);
    hull_error_release(&err);
    return 1;
  }
  return 0;
}

static int userns_inner(struct child *c, void *arg) {
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")),
      mnt("/mnt/locked", "bind", "src/sub", OPTS("bind", "ro")),
      mnt("/tmp", "tmpfs", "tmpfs", OPTS("nosuid", "size=1m")),
  };
  struct spec_namespace ns[] = {
      {SPEC_NS_USER, NULL}, {SPEC_NS_PID, NULL}, {SPEC_NS_MOUNT, NULL}};
  struct setup s;
  setup_init(&s, c, m, 4);
  s.linux.namespaces = ns;
  s.linux.n_namespaces = 3;
  s.opts.in_user_ns = true;
  s.spec.root.readonly = true;
  s.linux.readonly_paths = OPTS("/etc");
  if (setup_run(&s, c))
    return 1;
  /* No network namespace of its own: the host's /sys is bound instead. */
  CHECK(c, fs_type("/sys") == SYSFS_MAGIC, "no sysfs");
  CHECK(c, create_errno("/sys/x") == EROFS, "sysfs writable");
  if (check_char(c, "/dev/null", 1, 3, 0666, 0, 0) ||
      check_char(c, "/dev/tty", 5, 0, 0666, 0, 0))
    return 1;
  /* The source's nosuid is locked: the ro remount had to keep it. */
  cleanup_free char *line = mount_line("/mnt/locked");
  CHECK(c, line && strstr(line, " ro,") && strstr(line, "nosuid"),
        "locked flags: %s", line ? line : "none");
  CHECK(c, create_errno("/mnt/locked/x") == EROFS, "ro bind writable");
  CHECK(c, create_errno("/newfile") == EROFS, "/ writable");
  CHECK(c, create_errno("/etc/x") == EROFS, "/etc writable");
  CHECK(c, create_errno("/tmp/ok") == 0, "/tmp not writable");
  return 0;
}

static int userns_child(struct child *c, void *arg) {
  CHECK(c, mount_sub(c, MS_NOSUID), "mount sub: %s", strerror(errno));
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0)
    return child_fail(c, "unshare: %s", strerror(errno));
  if (write_id_maps(c))
    return 1;
  return in_new_pidns(c, userns_inner, arg);
}

START_TEST(user_namespace) {
  struct fixture f;
  fixture_setup(&f);
  make_src(&f);
  run_child(&f, 0, userns_child, NULL);
  fixture_teardown(&f);
}
END_TEST

/* ---- masked and read-only paths, sysctl, read-only root --------------- */

static int masked_child(struct child *c, void *arg) {
  struct spec_mount m[] = {proc_mount()};
  struct setup s;
  setup_init(&s, c, m, 1);
  s.linux.masked_paths = OPTS("/etc/secret", "/etc/secretdir", "/nonexistent",
                              "/proc/kcore");
  s.linux.readonly_paths = OPTS("/etc/rodir", "/proc/sys", "/missing/too");
  if (setup_run(&s, c))
    return 1;
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  CHECK(c, read_file("/etc/secret", &text, NULL, &err) == 0 && text[0] == '\0',
        "masked file readable");
  CHECK(c, access("/etc/secretdir/inside", F_OK) < 0, "masked dir visible");
  CHECK(c, create_errno("/etc/secretdir/new") == EROFS, "masked dir writable");
  CHECK(c, access("/etc/rodir/inside", F_OK) == 0, "readonly dir hidden");
  CHECK(c, create_errno("/etc/rodir/new") == EROFS, "readonly dir writable");
  CHECK(c, create_errno("/etc/writable") == 0, "rest of /etc read-only");
  CHECK(c, create_errno("/proc/sys/kernel/hostname") == EROFS,
        "/proc/sys writable");
  return 0;
}

START_TEST(masked_and_readonly_paths) {
  struct fixture f;
  fixture_setup(&f);
  char p[160];
  snprintf(p, sizeof(p), "%s/etc/secret", f.rootfs);
  put_file(p, "password");
  const char *dirs[] = {"secretdir", "rodir"};
  for (int i = 0; i < 2; i++) {
    snprintf(p, sizeof(p), "%s/etc/%s", f.rootfs, dirs[i]);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/etc/%s/inside", f.rootfs, dirs[i]);
    put_file(p, "x");
  }
  run_child(&f, 0, masked_child, NULL);
  fixture_teardown(&f);
}
END_TEST

static int sysctl_child(struct child *c, void *arg) {
  struct spec_mount m[] = {proc_mount()};
  struct spec_namespace ns[] = {{SPEC_NS_NETWORK, NULL}, {SPEC_NS_MOUNT, NULL}};
  struct spec_kv kv[] = {{"net.ipv4.ip_forward", "1"},
                         {"net/ipv4/conf/lo/forwarding", "1"}};
  struct setup s;
  setup_init(&s, c, m, 1);
  s.linux.namespaces = ns;
  s.linux.n_namespaces = 2;
  s.linux.sysctl = (struct spec_map){kv, 2};
  if (setup_run(&s, c))
    return 1;
  cleanup_free char *v = NULL;
  hull_error_t err = NULL;
  CHECK(c, read_file("/proc/sys/net/ipv4/ip_forward", &v, NULL, &err) == 0 &&
               v[0] == '1', "ip_forward not set");
  return 0;
}

START_TEST(sysctl_in_netns) {
  struct fixture f;
  fixture_setup(&f);
  cleanup_free char *before = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file("/proc/sys/net/ipv4/ip_forward", &before, NULL,
                             &err), 0);
  run_child(&f, CLONE_NEWNET, sysctl_child, NULL);
  cleanup_free char *after = NULL;
  ck_assert_int_eq(read_file("/proc/sys/net/ipv4/ip_forward", &after, NULL,
                             &err), 0);
  ck_assert_str_eq(before, after);
  fixture_teardown(&f);
}
END_TEST

static const char *sysctl_error(const char *key, enum spec_ns_type *ns,
                                size_t n_ns) {
  static char msg[512];
  struct spec_kv kv = {(char *)key, "1"};
  struct spec_namespace nss[4];
  for (size_t i = 0; i < n_ns; i++)
    nss[i] = (struct spec_namespace){ns[i], NULL};
  struct spec_linux l = {.namespaces = nss, .n_namespaces = n_ns,
                         .sysctl = {&kv, 1}};
  struct spec s = {.linux = &l};
  hull_error_t err = NULL;
  if (rootfs_validate_sysctl(&s, &err) == 0)
    return NULL;
  snprintf(msg, sizeof(msg), "%s", err->msg);
  hull_error_release(&err);
  return msg;
}

START_TEST(sysctl_rejected) {
  enum spec_ns_type net = SPEC_NS_NETWORK, ipc = SPEC_NS_IPC, uts = SPEC_NS_UTS;
  const char *m = sysctl_error("net.ipv4.ip_forward", NULL, 0);
  ck_assert_ptr_nonnull(m);
  ck_assert_msg(strstr(m, "\"net.ipv4.ip_forward\"") &&
                strstr(m, "hosts network namespace"), "%s", m);
  ck_assert_ptr_null(sysctl_error("net.ipv4.ip_forward", &net, 1));
  m = sysctl_error("kernel.shmmax", &net, 1);
  ck_assert_msg(m && strstr(m, "\"kernel.shmmax\"") &&
                strstr(m, "ipc namespace"), "%s", m ? m : "accepted");
  ck_assert_ptr_null(sysctl_error("kernel.shmmax", &ipc, 1));
  ck_assert_ptr_null(sysctl_error("fs.mqueue.queues_max", &ipc, 1));
  ck_assert_ptr_nonnull(sysctl_error("kernel.pid_max", &ipc, 1));
  ck_assert_ptr_null(sysctl_error("kernel.domainname", &uts, 1));
  m = sysctl_error("kernel.hostname", &uts, 1);
  ck_assert_msg(m && strstr(m, "hostname"), "%s", m ? m : "accepted");
  ck_assert_ptr_nonnull(sysctl_error("net/../../kernel/x", &net, 1));
}
END_TEST

/* rootfs_prepare rejects the sysctl before it mounts anything. */
static int sysctl_prepare_child(struct child *c, void *arg) {
  struct spec_kv kv = {"net.ipv4.ip_forward", "1"};
  struct setup s;
  setup_init(&s, c, NULL, 0);
  s.linux.sysctl = (struct spec_map){&kv, 1};
  hull_error_t err = NULL;
  CHECK(c, rootfs_prepare(&s.spec, &s.opts, &err) < 0, "accepted");
  CHECK(c, strstr(err->msg, "net.ipv4.ip_forward"), "message: %s", err->msg);
  return 0;
}

START_TEST(sysctl_rejected_by_prepare) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, sysctl_prepare_child, NULL);
  fixture_teardown(&f);
}
END_TEST

static int readonly_root_child(struct child *c, void *arg) {
  struct spec_mount m[] = {proc_mount(), mnt("/tmp", "tmpfs", "tmpfs", NULL)};
  struct setup s;
  setup_init(&s, c, m, 2);
  s.spec.root.readonly = true;
  s.no_pivot = arg != NULL;
  if (setup_run(&s, c))
    return 1;
  CHECK(c, access("/marker", F_OK) == 0, "not in the rootfs");
  CHECK(c, create_errno("/newfile") == EROFS, "/ writable");
  CHECK(c, create_errno("/tmp/ok") == 0, "/tmp not writable");
  char cwd[64];
  CHECK(c, getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0, "cwd %s", cwd);
  return 0;
}

START_TEST(readonly_root) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, readonly_root_child, NULL);
  fixture_teardown(&f);
}
END_TEST

START_TEST(no_pivot) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, readonly_root_child, (void *)1);
  fixture_teardown(&f);
}
END_TEST

/* ---- symlinks in the rootfs never lead a mount out of it -------------- */

static int escape_child(struct child *c, void *arg) {
  struct spec_mount m[] = {
      proc_mount(),
      mnt("/evil", "tmpfs", "tmpfs", NULL),
      mnt("/../../.." ESCAPE_DOTDOT, "tmpfs", "tmpfs", NULL),
      mnt("/rel/x", "tmpfs", "tmpfs", NULL),
      mnt("/evilfile", "bind", "src/hello", OPTS("bind")),
  };
  struct setup s;
  setup_init(&s, c, m, 5);
  if (setup_run(&s, c))
    return 1;
  CHECK(c, fs_type(ESCAPE_TARGET) == TMPFS_MAGIC,
        "the symlink's target inside the rootfs is not the mount");
  CHECK(c, fs_type(ESCAPE_DOTDOT) == TMPFS_MAGIC, "\"..\" mount missing");
  CHECK(c, fs_type("/tmp/hull-escape-rel/x") == TMPFS_MAGIC,
        "relative symlink mount missing");
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  CHECK(c, read_file("/etc/hull-file", &text, NULL, &err) == 0 &&
               strcmp(text, "hi") == 0, "file bind through symlink missing");
  return 0;
}

START_TEST(symlink_escape) {
  struct fixture f;
  fixture_setup(&f);
  make_src(&f);
  char p[160];
  snprintf(p, sizeof(p), "%s/evil", f.rootfs);
  ck_assert_int_eq(symlink(ESCAPE_TARGET, p), 0);
  snprintf(p, sizeof(p), "%s/rel", f.rootfs);
  ck_assert_int_eq(symlink("../../../../../tmp/hull-escape-rel", p), 0);
  snprintf(p, sizeof(p), "%s/evilfile", f.rootfs);
  ck_assert_int_eq(symlink("/etc/hull-file", p), 0);
  run_child(&f, 0, escape_child, NULL);
  ck_assert_msg(access("/tmp/hull-escape-rel", F_OK) < 0,
                "/tmp/hull-escape-rel created on the host");
  ck_assert_msg(access("/etc/hull-file", F_OK) < 0,
                "/etc/hull-file created on the host");
  snprintf(p, sizeof(p), "%s/tmp/hull-escape-target", f.rootfs);
  ck_assert_msg(access(p, F_OK) == 0, "target not created in the rootfs");
  fixture_teardown(&f);
}
END_TEST

/* ---- error messages name the mount -------------------------------------- */

static int error_child(struct child *c, void *arg) {
  struct spec_mount bad_type[] = {mnt("/x", "nosuchfs", "none", NULL)};
  struct spec_mount bad_dest[] = {proc_mount(),
                                  mnt("/marker/sub", "tmpfs", "tmpfs", NULL)};
  struct setup s;
  hull_error_t err = NULL;
  setup_init(&s, c, bad_type, 1);
  CHECK(c, rootfs_prepare(&s.spec, &s.opts, &err) < 0, "bad type accepted");
  CHECK(c, strcmp(err->msg, "mount `none` to `/x`: No such device") == 0,
        "message: %s", err->msg);
  setup_init(&s, c, bad_dest, 2);
  CHECK(c, rootfs_prepare(&s.spec, &s.opts, &err) < 0, "bad dest accepted");
  CHECK(c, strncmp(err->msg, "mounts[1]: destination `/marker/sub`: ", 38) == 0,
        "message: %s", err->msg);
  return 0;
}

START_TEST(error_messages) {
  struct fixture f;
  fixture_setup(&f);
  run_child(&f, 0, error_child, NULL);
  fixture_teardown(&f);
}
END_TEST

/* ---- open_in_root ----------------------------------------------------- */

typedef int (*open_fn)(int, const char *, int, hull_error_t *);

struct tree {
  char dir[64];
  int root;
};

static void tree_setup(struct tree *t) {
  snprintf(t->dir, sizeof(t->dir), "/tmp/hull-resolve-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(t->dir));
  t->root = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(t->root, 0);
  ck_assert_int_eq(mkdirat(t->root, "a", 0755), 0);
  ck_assert_int_eq(mkdirat(t->root, "a/b", 0755), 0);
  ck_assert_int_eq(symlinkat("/a", t->root, "abs"), 0);
  ck_assert_int_eq(symlinkat("../../../..", t->root, "up"), 0);
  ck_assert_int_eq(symlinkat("loop2", t->root, "loop1"), 0);
  ck_assert_int_eq(symlinkat("loop1", t->root, "loop2"), 0);
  ck_assert_int_eq(symlinkat("/etc/passwd", t->root, "a/passwd"), 0);
  ck_assert_int_eq(symlinkat("/tmp/hull-resolve-dangling/d", t->root, "dangle"),
                   0);
}

static void tree_teardown(struct tree *t) {
  close(t->root);
  hull_error_t err = NULL;
  ck_assert_int_eq(remove_tree(t->dir, &err), 0);
  ck_assert_msg(access("/tmp/hull-resolve-dangling", F_OK) < 0,
                "created outside the root");
}

static void same_file(int root, open_fn fn, const char *path,
                      const char *expect) {
  hull_error_t err = NULL;
  int fd = fn(root, path, O_PATH, &err);
  ck_assert_msg(fd >= 0, "%s: %s", path, err ? err->msg : "");
  struct stat a, b;
  ck_assert_int_eq(fstat(fd, &a), 0);
  ck_assert_int_eq(fstatat(root, expect, &b, AT_EMPTY_PATH), 0);
  ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev,
                "%s did not resolve to %s", path, expect);
  close(fd);
}

static void open_fails(int root, open_fn fn, const char *path, int want) {
  hull_error_t err = NULL;
  int fd = fn(root, path, O_RDONLY, &err);
  ck_assert_msg(fd < 0, "%s opened", path);
  ck_assert_msg(err->errno_value == want, "%s: %s", path, err->msg);
  ck_assert_ptr_nonnull(strstr(err->msg, path));
  hull_error_release(&err);
}

static void resolve_cases(open_fn fn) {
  struct tree t;
  tree_setup(&t);
  same_file(t.root, fn, "abs/b", "a/b");
  same_file(t.root, fn, "/abs/b", "a/b");
  same_file(t.root, fn, "up/a/b", "a/b");
  same_file(t.root, fn, "../../../a/../a/b/..", "a");
  same_file(t.root, fn, "a/b/../../up/up/abs", "a");
  same_file(t.root, fn, "/", "");
  same_file(t.root, fn, "..", "");
  open_fails(t.root, fn, "loop1", ELOOP);
  open_fails(t.root, fn, "a/passwd", ENOENT);
  open_fails(t.root, fn, "a/missing", ENOENT);
  tree_teardown(&t);
}

START_TEST(open_in_root_openat2) { resolve_cases(open_in_root); }
END_TEST

START_TEST(open_in_root_fallback_walk) { resolve_cases(open_in_root_walk); }
END_TEST

START_TEST(create_in_root_stays_inside) {
  struct tree t;
  tree_setup(&t);
  hull_error_t err = NULL;
  ck_assert_msg(create_in_root(t.root, "abs/new/dir", CREATE_DIR, 0755, &err)
                == 0, "%s", err ? err->msg : "");
  struct stat st;
  ck_assert_int_eq(fstatat(t.root, "a/new/dir", &st, 0), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_msg(create_in_root(t.root, "dangle", CREATE_FILE, 0644, &err) == 0,
                "%s", err ? err->msg : "");
  ck_assert_int_eq(fstatat(t.root, "tmp/hull-resolve-dangling/d", &st, 0), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_msg(create_in_root(t.root, "up/up/x/../y", CREATE_DIR, 0755, &err)
                == 0, "%s", err ? err->msg : "");
  ck_assert_int_eq(fstatat(t.root, "y", &st, 0), 0);
  ck_assert_int_eq(fstatat(t.root, "x", &st, 0), 0);
  ck_assert_int_lt(create_in_root(t.root, "loop1/x", CREATE_DIR, 0755, &err), 0);
  ck_assert_int_eq(err->errno_value, ELOOP);
  hull_error_release(&err);
  tree_teardown(&t);
}
END_TEST

static Suite *rootfs_suite(void) {
  Suite *s = suite_create("rootfs");
  TCase *tc = tcase_create("rootfs");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, tmpfs_options);
  tcase_add_test(tc, ro_bind);
  tcase_add_test(tc, rbind);
  tcase_add_test(tc, propagation);
  tcase_add_test(tc, proc_sysfs_mqueue_devpts);
  tcase_add_test(tc, cgroup_v1);
  tcase_add_test(tc, cgroup_v1_namespace);
  tcase_add_test(tc, cgroup_v1_container_path);
  tcase_add_test(tc, devices_mknod);
  tcase_add_test(tc, devices_bind);
  tcase_add_test(tc, user_namespace);
  tcase_add_test(tc, masked_and_readonly_paths);
  tcase_add_test(tc, sysctl_in_netns);
  tcase_add_test(tc, sysctl_rejected);
  tcase_add_test(tc, sysctl_rejected_by_prepare);
  tcase_add_test(tc, readonly_root);
  tcase_add_test(tc, no_pivot);
  tcase_add_test(tc, symlink_escape);
  tcase_add_test(tc, error_messages);
  tcase_add_test(tc, open_in_root_openat2);
  tcase_add_test(tc, open_in_root_fallback_walk);
  tcase_add_test(tc, create_in_root_stays_inside);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(rootfs_suite)
