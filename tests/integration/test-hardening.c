/* test-hardening.c — known container escapes, each performed for real and
 * asserted to fail:
 *   CVE-2019-5736   a container overwrites the runtime through /proc/PID/exe
 *                   of hull's init waiting in a shared pid namespace;
 *   CVE-2024-21626  a host fd or cwd leaks into the container;
 *   CVE-2021-30465  a bind mount's destination is swapped for a symlink to
 *                   the host while containers are created;
 *   masked and read-only paths are undone from inside. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- CVE-2019-5736: the runtime binary through /proc/PID/exe ----------- */

/* The whole file, for comparing before and after. */
static char *read_binary(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  char *data = xmalloc((size_t)st.st_size + 1);
  ck_assert_msg(read_all(fd, data, (size_t)st.st_size) == (ssize_t)st.st_size,
                "read %s", path);
  close(fd);
  *len = (size_t)st.st_size;
  return data;
}

/* Points $HULL (for this forked test only) at a copy of the runtime in the
 * test's directory, so a successful attack cannot damage the real one. */
static char *use_runtime_copy(struct hctx *c) {
  const char *real = getenv("HULL");
  ck_assert_msg(real && *real, "HULL is not set");
  size_t len = 0;
  cleanup_free char *data = read_binary(real, &len);
  char *copy = xasprintf("%s/hull-copy", c->dir);
  int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  ck_assert_msg(fd >= 0, "create %s: %s", copy, strerror(errno));
  ck_assert_int_eq(write_all(fd, data, len), 0);
  ck_assert_int_eq(close(fd), 0);
  ck_assert_int_eq(setenv("HULL", copy, 1), 0);
  return copy;
}

static pid_t create_container(struct hctx *c, const char *id,
                              const struct hconfig *cfg, char **out_path) {
  hctx_write_config(c, cfg);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, id, NULL);
  ck_assert_hres(r, 0);
  if (out_path)
    *out_path = take_ptr(r.out_path);
  hres_free(&r);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, id, &pid);
  ck_assert_str_eq(status, "created");
  return pid;
}

static void run_ok(struct hctx *c, const char *verb, const char *flag,
                   const char *id) {
  struct hres r = flag ? hrun(c, verb, flag, id, NULL) : hrun(c, verb, id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
}

/* Container A (the attacker, id c->id) runs proc-attack; the victim V
 * (c->id-v) shares a pid namespace with it: V joins A's when
 * victim_joins_attacker, else A joins V's (needed when V has a user
 * namespace: it could not mount a proc of A's pid namespace). V's init
 * waits in `created` while A scans, then V is started so the init execs
 * while A retries the O_PATH fds it got. Returns A's output. */
static char *attack_waiting_init(struct hctx *c, const char *real_runtime,
                                 bool victim_joins_attacker,
                                 const char *v_namespaces,
                                 const char *v_linux_extra) {
  static const char a_namespaces[] =
      "{\"type\": \"mount\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
      " {\"type\": \"uts\"}";
  cleanup_free char *v_id = xasprintf("%s-v", c->id);
  cleanup_free char *a_out = NULL;
  struct hconfig a = {.args = HELPER("proc-attack", "3")};
  struct hconfig v = {.args = HELPER("sleep", "5"), .linux_extra = v_linux_extra};
  cleanup_free char *a_ns = NULL, *v_ns = NULL;
  pid_t a_pid, v_pid;
  if (victim_joins_attacker) {
    a_pid = create_container(c, c->id, &a, &a_out);
    v.namespaces = v_ns = xasprintf(
        "{\"type\": \"pid\", \"path\": \"/proc/%d/ns/pid\"}, %s", (int)a_pid,
        v_namespaces);
    v_pid = create_container(c, v_id, &v, NULL);
  } else {
    v.namespaces = v_ns = xasprintf("{\"type\": \"pid\"}, %s", v_namespaces);
    v_pid = create_container(c, v_id, &v, NULL);
    a.namespaces = a_ns = xasprintf(
        "{\"type\": \"pid\", \"path\": \"/proc/%d/ns/pid\"}, %s", (int)v_pid,
        a_namespaces);
    a_pid = create_container(c, c->id, &a, &a_out);
  }
  /* The two really share a pid namespace (else the test proves nothing). */
  cleanup_free char *v_ns_link = xasprintf("/proc/%d/ns/pid", (int)v_pid);
  cleanup_free char *a_ns_link = xasprintf("/proc/%d/ns/pid", (int)a_pid);
  char v_target[64] = "", a_target[64] = "";
  ck_assert(readlink(v_ns_link, v_target, sizeof v_target - 1) > 0);
  ck_assert(readlink(a_ns_link, a_target, sizeof a_target - 1) > 0);
  ck_assert_str_eq(v_target, a_target);

  run_ok(c, "start", NULL, c->id);
  ck_assert_msg(hwait_file(a_out, "scanned", 5000), "the attacker never ran");
  run_ok(c, "start", NULL, v_id);
  /* Not `stopped`: in the victim's pid namespace nothing reaps A. */
  ck_assert_msg(hwait_file(a_out, "done\n", 8000),
                "the attacker did not finish");
  char *out = hread_file(a_out);
  /* Clean up with the real runtime: the copy may be damaged now. */
  ck_assert_int_eq(setenv("HULL", real_runtime, 1), 0);
  run_ok(c, "delete", "--force", c->id);
  run_ok(c, "delete", "--force", v_id);
  return out;
}

static void assert_attack_failed(const char *out, const char *copy,
                                 const char *before, size_t before_len) {
  ck_assert_msg(hcontains(out, "done\n"), "attacker output: %s", out);
  if (getenv("HULL_TEST_VERBOSE"))
    fprintf(stderr, "attacker:\n%s", out);
  /* The victim's waiting init (named after the copy) was seen at all, else
   * the test proves nothing. */
  ck_assert_msg(hcontains(out, " hull-copy exe-path="), "no target found: %s",
                out);
  /* The victim's own program may be reached (it is the container's); the
   * runtime's init never. */
  for (const char *l = out; *l;) {
    const char *end = strchrnul(l, '\n');
    cleanup_free char *line = xstrndup(l, (size_t)(end - l));
    ck_assert_msg(!(hcontains(line, " hull-copy ") && hcontains(line, "=ok")),
                  "the attack got through (%s):\n%s", line, out);
    l = *end ? end + 1 : end;
  }
  ck_assert_msg(!hcontains(out, "WROTE"), "the attack wrote:\n%s", out);
  size_t after_len = 0;
  cleanup_free char *after = read_binary(copy, &after_len);
  ck_assert_msg(after_len == before_len && memcmp(before, after, after_len) == 0,
                "the runtime binary changed");
}

/* B in a plain pid-namespace join: its init is root with all capabilities
 * while it waits, more than A has. */
START_TEST(runtime_binary_unreachable_from_shared_pidns) {
  struct hctx *c = hctx_new();
  cleanup_free char *real = xstrdup(getenv("HULL"));
  cleanup_free char *copy = use_runtime_copy(c);
  size_t len = 0;
  cleanup_free char *before = read_binary(copy, &len);
  cleanup_free char *out = attack_waiting_init(
      c, real, true,
      "{\"type\": \"mount\"}, {\"type\": \"network\"},"
      " {\"type\": \"ipc\"}, {\"type\": \"uts\"}",
      NULL);
  assert_attack_failed(out, copy, before, len);
  hctx_finish(c);
}
END_TEST

/* B in a user namespace that maps its root to the host's root: the owner
 * of B's user namespace (host root, which A's process also is) holds every
 * capability in it, so only the init being non-dumpable keeps A out. */
START_TEST(runtime_binary_unreachable_from_userns_with_root_mapped) {
  struct hctx *c = hctx_new();
  cleanup_free char *real = xstrdup(getenv("HULL"));
  cleanup_free char *copy = use_runtime_copy(c);
  size_t len = 0;
  cleanup_free char *before = read_binary(copy, &len);
  cleanup_free char *out = attack_waiting_init(
      c, real, false,
      "{\"type\": \"mount\"}, {\"type\": \"network\"},"
      " {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
      " {\"type\": \"user\"}",
      "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 65536}],"
      " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 65536}]");
  assert_attack_failed(out, copy, before, len);
  hctx_finish(c);
}
END_TEST

/* ---- CVE-2024-21626: leaked fds and cwd -------------------------------- */

/* What a host directory reached through a leaked fd would show: the state
 * dir, the bundle, a cgroup, the host's root. */
static void assert_no_host_listing(struct hctx *c, const char *out) {
  static const char *const host_names[] = {"config.json", "state.json",
                                           "cgroup.procs", "rootfs", "vmlinuz",
                                           "HOST-ONLY", "lost+found"};
  for (size_t i = 0; i < sizeof host_names / sizeof host_names[0]; i++)
    ck_assert_msg(!hcontains(out, host_names[i]), "host dir visible (%s):\n%s",
                  host_names[i], out);
  ck_assert_msg(!hcontains(out, c->id), "host dir visible:\n%s", out);
}

/* Either `run` refuses the cwd, or the cwd is inside the container. */
static void assert_cwd_contained(struct hctx *c, struct hres *r,
                                 const char *cwd) {
  if (getenv("HULL_TEST_VERBOSE"))
    fprintf(stderr, "cwd %s: status %d: %.200s\n", cwd, r->status,
            r->status ? r->err : r->out);
  if (r->status != 0) {
    ck_assert_msg(r->status == 1 || r->status == 127 || r->status == 126,
                  "cwd %s: exit status %d\n%s", cwd, r->status, r->err);
    ck_assert_msg(hcontains(r->err, "cwd") ||
                      hcontains(r->err, "outside of container"),
                  "cwd %s: unclear error: %s", cwd, r->err);
    return;
  }
  ck_assert_msg(r->out[0] == '/' && !hcontains(r->out, "unreachable"),
                "cwd %s gave the container a cwd outside: %s", cwd, r->out);
  assert_no_host_listing(c, r->out);
}

START_TEST(cwd_through_leaked_fds_stays_inside) {
  struct hctx *c = hctx_new();
  for (int n = 3; n <= 15; n++) {
    for (int up = 0; up <= 1; up++) {
      cleanup_free char *cwd =
          xasprintf("/proc/self/fd/%d%s", n, up ? "/.." : "");
      struct hres r = hrun_config(
          c, &(struct hconfig){
                 .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper cwd &&"
                         " /bin/hull-test-helper ls .. &&"
                         " /bin/hull-test-helper fds\"",
                 .cwd = cwd});
      assert_cwd_contained(c, &r, cwd);
      hres_free(&r);
      struct hres d = hrun(c, "delete", "--force", c->id, NULL);
      hres_free(&d);
    }
  }
  hctx_finish(c);
}
END_TEST

/* Runs `$HULL --root R run [--preserve-fds N] --bundle B ID` with host
 * directories open (without close-on-exec) as its fds 3 to 6; returns its
 * output. */
static struct hres run_with_host_fds(struct hctx *c, const char *preserve) {
  cleanup_free char *out_path = xasprintf("%s/fds.out", c->dir);
  cleanup_free char *err_path = xasprintf("%s/fds.err", c->dir);
  const char *dirs[] = {"/", c->dir, c->root, "/sys/fs/cgroup"};
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_RDONLY);
    if (out < 0 || errfd < 0 || null < 0)
      _exit(126);
    dup2(null, 0);
    dup2(out, 1);
    dup2(errfd, 2);
    int high[4];
    for (int i = 0; i < 4; i++) {
      int fd = open(dirs[i], O_RDONLY | O_DIRECTORY);
      high[i] = fcntl(fd, F_DUPFD, 100);
      close(fd);
    }
    close_range(3, 99, 0);
    for (int i = 0; i < 4; i++)
      dup2(high[i], 3 + i); /* dup2 clears close-on-exec */
    char *argv[16];
    int k = 0;
    argv[k++] = getenv("HULL");
    argv[k++] = "--root";
    argv[k++] = c->root;
    argv[k++] = "run";
    if (preserve) {
      argv[k++] = "--preserve-fds";
      argv[k++] = (char *)preserve;
    }
    argv[k++] = "--bundle";
    argv[k++] = c->bundle;
    argv[k++] = c->id;
    argv[k] = NULL;
    close_range(100, ~0U, 0);
    execv(argv[0], argv);
    _exit(127);
  }
  int status = -1;
  for (int waited = 0; waited < 10000; waited += 10) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      break;
    usleep(10000);
  }
  ck_assert_msg(WIFEXITED(status), "run with host fds did not finish");
  struct hres r = {.status = WEXITSTATUS(status)};
  r.out = hread_file(out_path);
  r.err = hread_file(err_path);
  return r;
}

START_TEST(host_fds_of_the_runtime_do_not_reach_the_container) {
  struct hctx *c = hctx_new();
  cleanup_free char *host_only = xasprintf("%s/HOST-ONLY", c->dir);
  hwrite_file(host_only, "host\n", 0644);

  hctx_write_config(c, &(struct hconfig){.args = HELPER("fds")});
  struct hres r = run_with_host_fds(c, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(strcmp(r.out, "") == 0, "host fds reached the container:\n%s",
                r.out);
  hres_free(&r);

  /* The leaked fds as cwd: refused, or resolved inside the container. */
  for (int n = 3; n <= 6; n++) {
    for (int up = 0; up <= 1; up++) {
      cleanup_free char *cwd =
          xasprintf("/proc/self/fd/%d%s", n, up ? "/.." : "");
      hctx_write_config(
          c, &(struct hconfig){
                 .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper cwd &&"
                         " /bin/hull-test-helper ls . &&"
                         " /bin/hull-test-helper ls .. &&"
                         " /bin/hull-test-helper fds\"",
                 .cwd = cwd});
      r = run_with_host_fds(c, NULL);
      assert_cwd_contained(c, &r, cwd);
      hres_free(&r);
      struct hres d = hrun(c, "delete", "--force", c->id, NULL);
      hres_free(&d);
    }
  }

  /* The control: asked for, they do reach it (so the test can see fds). */
  hctx_write_config(c, &(struct hconfig){.args = HELPER("fds")});
  r = run_with_host_fds(c, "4");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "3 /\n") && hcontains(r.out, "\n6 "),
                "preserved fds missing:\n%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* ---- CVE-2021-30465: a bind destination swapped for a symlink ------------ */

struct swapper {
  char *dir_path;  /* rootfs/mnt/race: the destination */
  char *alt_path;  /* rootfs/mnt/race-alt: the other of dir and symlink */
  atomic_bool stop;
  atomic_long swaps;
};

static void *swap_loop(void *arg) {
  struct swapper *s = arg;
  while (!atomic_load(&s->stop)) {
    if (renameat2(AT_FDCWD, s->dir_path, AT_FDCWD, s->alt_path,
                  RENAME_EXCHANGE) == 0)
      atomic_fetch_add(&s->swaps, 1);
  }
  return NULL;
}

/* The names in dir, one per line in readdir order (free it). */
static char *host_listing(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "opendir %s", dir);
  char *names = xstrdup("");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *more = xasprintf("%s%s\n", names, de->d_name);
    free(names);
    names = more;
  }
  closedir(d);
  return names;
}

START_TEST(bind_destination_swapped_for_a_symlink_stays_inside) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker_dir = xasprintf("%s/marker", c->dir);
  ck_assert_int_eq(mkdir(marker_dir, 0755), 0);
  cleanup_free char *marker = xasprintf("%s/HOST-MARKER-5736", marker_dir);
  hwrite_file(marker, "host secret\n", 0644);
  cleanup_free char *src = xasprintf("%s/src", c->dir);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  cleanup_free char *src_file = xasprintf("%s/from-src", src);
  hwrite_file(src_file, "bind source\n", 0644);
  cleanup_free char *listing_before = host_listing(marker_dir);

  cleanup_free char *mnt = xasprintf("%s/mnt", c->rootfs);
  mkdir(mnt, 0755);
  struct swapper s = {.dir_path = xasprintf("%s/race", mnt),
                      .alt_path = xasprintf("%s/race-alt", mnt)};
  ck_assert_int_eq(mkdir(s.dir_path, 0755), 0);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/mnt/race\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", src);
  /* Inside: the bind is in the container's mount table (a mount that
   * landed outside the new root would have left with the old root at
   * pivot_root), and the marker shows nowhere. Where it is varies: the
   * swapper keeps renaming the mount point in the host's view. */
  hctx_write_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper mounts;"
                     " find / -path /proc -prune -o -path /sys -prune -o"
                     " -name 'HOST-MARKER-*' -print 2>/dev/null; true\"",
             .mounts_extra = mounts});
  /* mountinfo shows the source relative to its file system's root, which
   * is not "/" where /tmp is a tmpfs of its own (the v2 test VM). */
  cleanup_free char *src_root =
      xasprintf("/%s/src ", strrchr(c->dir, '/') + 1);

  /* Without the swapper the bind lands at its destination: the race below
   * tests the real setup, not one that always fails. */
  struct hres calm = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(calm, 0);
  cleanup_free char *at_dest = xasprintf("%s/mnt/race ", src_root);
  ck_assert_msg(hcontains(calm.out, at_dest), "the bind is not at /mnt/race:\n%s",
                calm.out);
  hres_free(&calm);
  hrun_expect(0, c, "delete", "--force", c->id);

  /* At least 30 runs, and on until one wins the race (a few percent to a
   * third of them do, depending on the machine's timing). */
  int ok_runs = 0, runs = 0;
  for (int i = 0; i < 30 || (ok_runs == 0 && i < 300); i++, runs++) {
    /* Alternate the symlink between the host's root and the marker dir. */
    unlink(s.alt_path);
    ck_assert_int_eq(symlink(i % 2 ? marker_dir : "/", s.alt_path), 0);
    atomic_store(&s.stop, false);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, swap_loop, &s), 0);
    struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
    atomic_store(&s.stop, true);
    pthread_join(t, NULL);
    ck_assert_msg(!hcontains(r.out, "HOST-MARKER"),
                  "run %d: the host marker is visible inside:\n%s", i, r.out);
    if (r.status == 0) {
      const char *line = strstr(r.out, src_root);
      ck_assert_msg(line != NULL, "run %d: the bind is not in the container:\n%s",
                    i, r.out);
      if (getenv("HULL_TEST_VERBOSE"))
        fprintf(stderr, "run %d: bind at %.40s\n", i, line + strlen(src_root));
      ok_runs++;
    } else {
      /* A lost race is the setup refusing the moved destination, in one
       * line that names it. */
      ck_assert_msg(r.status == 1 && hcontains(r.err, "`/mnt/race`") &&
                        strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                    "run %d: status %d: %s", i, r.status, r.err);
      if (getenv("HULL_TEST_VERBOSE"))
        fprintf(stderr, "run %d: status %d: %s", i, r.status, r.err);
    }
    hres_free(&r);
    struct hres d = hrun(c, "delete", "--force", c->id, NULL);
    hres_free(&d);
    /* Put the directory back at the destination for the next run. */
    struct stat st;
    if (lstat(s.dir_path, &st) == 0 && S_ISLNK(st.st_mode))
      renameat2(AT_FDCWD, s.dir_path, AT_FDCWD, s.alt_path, RENAME_EXCHANGE);
  }
  ck_assert_msg(atomic_load(&s.swaps) > 1000, "the swapper hardly ran: %ld",
                atomic_load(&s.swaps));
  /* None would mean hull refuses every bind whose destination moves, not
   * that it is safe. */
  ck_assert_msg(ok_runs > 0, "none of %d runs succeeded under the swapper",
                runs);
  if (getenv("HULL_TEST_VERBOSE"))
    fprintf(stderr, "race: %d of %d runs succeeded, %ld swaps\n", ok_runs,
            runs, atomic_load(&s.swaps));

  /* Outside: the marker dir is as it was (hctx_finish checks that no host
   * mount appeared). */
  cleanup_free char *listing_after = host_listing(marker_dir);
  ck_assert_str_eq(listing_before, listing_after);
  cleanup_free char *secret = hread_file(marker);
  ck_assert_str_eq(secret, "host secret\n");
  free(s.dir_path);
  free(s.alt_path);
  hctx_finish(c);
}
END_TEST

/* `..` in a destination resolves at the rootfs' root, like in the kernel's
 * RESOLVE_IN_ROOT; a symlinked source is a host path and is followed. */
START_TEST(bind_destination_dotdot_cannot_climb_out) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker_dir = xasprintf("%s/marker", c->dir);
  ck_assert_int_eq(mkdir(marker_dir, 0755), 0);
  cleanup_free char *marker = xasprintf("%s/HOST-MARKER-5736", marker_dir);
  hwrite_file(marker, "host secret\n", 0644);
  cleanup_free char *src = xasprintf("%s/src", c->dir);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  cleanup_free char *src_file = xasprintf("%s/from-src", src);
  hwrite_file(src_file, "bind source\n", 0644);
  cleanup_free char *src_link = xasprintf("%s/src-link", c->bundle);
  ck_assert_int_eq(symlink(src, src_link), 0);
  cleanup_free char *listing_before = host_listing(marker_dir);

  /* The rootfs lies a few levels below /: enough .. to reach the host's
   * marker dir from the rootfs, were .. allowed to leave it. */
  cleanup_free char *dest =
      xasprintf("/../../../../../../../..%s", marker_dir);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"%s\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]},"
      " {\"destination\": \"/mnt/linked\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", dest, src, src_link);
  cleanup_free char *script = xasprintf(
      "\"/bin/sh\", \"-c\", \"cat %s/from-src && cat /mnt/linked/from-src &&"
      " find / -path /proc -prune -o -path /sys -prune -o"
      " -name 'HOST-MARKER-*' -print\"", marker_dir);
  struct hres r = hrun_config(c, &(struct hconfig){.args = script,
                                                   .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "bind source\nbind source\n");
  hres_free(&r);

  cleanup_free char *listing_after = host_listing(marker_dir);
  ck_assert_str_eq(listing_before, listing_after);
  /* The mount point was made inside the rootfs. */
  cleanup_free char *inside = xasprintf("%s%s", c->rootfs, marker_dir);
  struct stat st;
  ck_assert_msg(stat(inside, &st) == 0 && S_ISDIR(st.st_mode),
                "no mount point at %s", inside);
  hctx_finish(c);
}
END_TEST

/* ---- masked and read-only paths ---------------------------------------- */

START_TEST(masked_and_readonly_paths_cannot_be_undone) {
  struct hctx *c = hctx_new();
  /* Each attempt prints ESCAPED-... only if it worked. */
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \""
                     "umount /proc/timer_list && echo ESCAPED-umount-timer_list;"
                     " umount -l /proc/keys && echo ESCAPED-umount-keys;"
                     " umount /proc/acpi && echo ESCAPED-umount-acpi;"
                     " mount -o remount,rw /proc/sys && echo ESCAPED-remount-sys;"
                     " mount -o remount,rw,bind /proc/sys && echo ESCAPED-remount-bind-sys;"
                     " umount /proc/sys && echo ESCAPED-umount-sys;"
                     " umount -l /proc/sys && echo ESCAPED-umount-l-sys;"
                     " mount -t proc proc /mnt && echo ESCAPED-new-proc;"
                     " echo evil > /proc/sys/kernel/hostname && echo ESCAPED-hostname;"
                     " echo h > /proc/sysrq-trigger && echo ESCAPED-sysrq;"
                     " echo timer_list=$(wc -c < /proc/timer_list);"
                     " echo keys=$(wc -c < /proc/keys);"
                     " echo acpi=$(ls /proc/acpi | wc -l);"
                     " /bin/hull-test-helper hostname;"
                     " /bin/hull-test-helper mounts\""});
  ck_assert_msg(!hcontains(r.out, "ESCAPED"), "undone from inside:\n%s", r.out);
  ck_assert_msg(hcontains(r.out, "timer_list=0\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "keys=0\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "acpi=0\n") || !hcontains(r.out, " /proc/acpi "),
                "%s", r.out);
  ck_assert_msg(hcontains(r.out, "hull-test\n"), "%s", r.out);
  /* /proc/sys is mounted read-only. */
  const char *line = strstr(r.out, " /proc/sys ");
  ck_assert_msg(line != NULL, "no /proc/sys mount:\n%s", r.out);
  ck_assert_msg(strncmp(line, " /proc/sys ro,", 12) == 0,
                "/proc/sys not read-only:\n%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *hardening_suite(void) {
  Suite *s = suite_create("integration-hardening");
  TCase *tc = harness_tcase("hardening", 120);
  tcase_add_test(tc, runtime_binary_unreachable_from_shared_pidns);
  tcase_add_test(tc, runtime_binary_unreachable_from_userns_with_root_mapped);
  tcase_add_test(tc, cwd_through_leaked_fds_stays_inside);
  tcase_add_test(tc, host_fds_of_the_runtime_do_not_reach_the_container);
  tcase_add_test(tc, bind_destination_swapped_for_a_symlink_stays_inside);
  tcase_add_test(tc, bind_destination_dotdot_cannot_climb_out);
  tcase_add_test(tc, masked_and_readonly_paths_cannot_be_undone);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(hardening_suite)
