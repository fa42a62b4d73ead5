/* test-userns-auto.c — run.oci.userns=auto: tenants in user namespaces of
 * their own with disjoint id ranges from a pool, sharing one rootfs through
 * idmapped mounts (issue 14, item 4). Everything is checked by its effect:
 * the maps each container's processes have, what root in one container
 * may do to another's files and processes, and the records under --root. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SIZE 65536u
/* Pools far above the 100000.. maps other suites use: a pool's records are
 * per --root, so two roots must not share ids (see hull(8)). */
#define POOL_TWO "3000000000:131072"         /* room for exactly two */
#define POOL_ONE "3100000000:65536"          /* room for exactly one */
#define POOL_FIFTY "3200000000:3276800"      /* exactly 50 x 65536 */
#define POOL_WIDE "3500000000:1000000"

#define AUTO_ANNOTATION "\"annotations\": {\"run.oci.userns\": \"%s\"}"

#define hrun_pool(c, pool, ...) \
  hrun(c, "--userns-pool", pool, __VA_ARGS__, NULL)

/* cfg with the annotation run.oci.userns=mode written as c's config. */
/* The tests' rootfs copies live under /tmp: a kernel that cannot idmap
 * its file system (tmpfs before Linux 6.3, as in the cgroup v2 test VM)
 * cannot give a tenant its rootfs. */
#define SKIP_UNLESS_TMP_IDMAPS()                                              \
  SKIP_UNLESS(hcan_idmap("/tmp"), "the kernel cannot idmap a mount of "      \
              "/tmp's file system (tmpfs before Linux 6.3), where the tests' " \
              "rootfs copies are")

static void write_auto_config(struct hctx *c, const char *mode,
                              struct hconfig cfg) {
  cleanup_free char *top = xasprintf(AUTO_ANNOTATION, mode);
  cfg.top_extra = top;
  hctx_write_config(c, &cfg);
}

struct map { uint32_t inside, host, size; };

/* The one line of a uid_map or gid_map text ("0 3000000000 65536"). */
static struct map parse_map_line(const char *line) {
  struct map m = {0};
  ck_assert_msg(sscanf(line, "%" SCNu32 " %" SCNu32 " %" SCNu32, &m.inside,
                       &m.host, &m.size) == 3, "not a map line: `%s`", line);
  return m;
}

/* /proc/<pid>/<file> of a container's process, read on the host. */
static struct map host_view_map(pid_t pid, const char *file) {
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
  cleanup_free char *text = hread_file(path);
  ck_assert_msg(text != NULL, "cannot read %s", path);
  char *nl = strchr(text, '\n');
  ck_assert_msg(nl && nl[1] == '\0', "%s has more than one line: %s", path,
                text);
  return parse_map_line(text);
}

static bool disjoint(struct map a, struct map b) {
  return (uint64_t)a.host + a.size <= b.host ||
         (uint64_t)b.host + b.size <= a.host;
}

/* Records of held ranges under root (the pool's lock file is a dot-file). */
static int held_records(struct hctx *c) {
  cleanup_free char *dir = xasprintf("%s/.userns", c->root);
  return hcount_entries(dir);
}

static pid_t state_pid(struct hctx *c, const char *id) {
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, id, &pid);
  ck_assert_msg(pid > 0, "no pid for %s (status `%s`)", id, status);
  return pid;
}

static void create_ok(struct hctx *c, const char *pool, const char *id) {
  struct hres r = hrun_pool(c, pool, "create", "--bundle", c->bundle, id);
  ck_assert_hres(r, 0);
  hres_free(&r);
}

/* ---- disjoint ranges, a rootfs that is theirs ------------------------ */

/* Two containers sharing one rootfs directory: each one's own processes
 * see a map of 65536 ids that the other's does not touch, and root in
 * each owns the rootfs (/root is 0700 and the host root's on disk) without
 * a chown: a file root makes there is uid 0's on the host. */
START_TEST(two_tenants_get_disjoint_ranges) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){.args = HELPER("sleep", "100")});
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  const char *ids[] = {a, b};
  struct map uid[2], gid[2];
  for (int i = 0; i < 2; i++) {
    create_ok(c, POOL_TWO, ids[i]);
    cleanup_free char *script = xasprintf(
        "echo mine > /root/owned-%d && cat /proc/self/uid_map "
        "/proc/self/gid_map", i);
    struct hres r = hrun(c, "exec", ids[i], "/bin/sh", "-c", script, NULL);
    ck_assert_hres(r, 0);
    char *second = strchr(r.out, '\n');
    ck_assert_ptr_nonnull(second);
    uid[i] = parse_map_line(r.out);
    gid[i] = parse_map_line(second + 1);
    hres_free(&r);
    ck_assert_uint_eq(uid[i].inside, 0);
    ck_assert_uint_eq(uid[i].size, SIZE);
    ck_assert_uint_eq(gid[i].size, SIZE);
    ck_assert_uint_ge(uid[i].host, 3000000000u);
    ck_assert_uint_eq(uid[i].host, gid[i].host);
    cleanup_free char *file = xasprintf("%s/root/owned-%d", c->rootfs, i);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_uint_eq(st.st_uid, 0);
    ck_assert_uint_eq(st.st_gid, 0);
  }
  ck_assert_msg(disjoint(uid[0], uid[1]), "uid maps overlap: %" PRIu32
                " and %" PRIu32, uid[0].host, uid[1].host);
  ck_assert_msg(disjoint(gid[0], gid[1]), "gid maps overlap");
  ck_assert_int_eq(held_records(c), 2);
  for (int i = 0; i < 2; i++)
    hrun_expect(0, c, "delete", "--force", ids[i]);
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

/* ---- a shared bind: root of one tenant is nobody to another ---------- */

static bool wait_for_path(const char *path, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (access(path, F_OK) == 0)
      return true;
    struct timespec ms = {0, 10 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  return false;
}

START_TEST(tenant_root_cannot_write_another_tenants_file) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  cleanup_free char *shared = xasprintf("%s/shared", c->dir);
  ck_assert_int_eq(mkdir(shared, 0777), 0);
  ck_assert_int_eq(chmod(shared, 0777), 0);
  cleanup_free char *mount = xasprintf(
      "{\"destination\": \"/shared\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", shared);
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  write_auto_config(c, "auto", (struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo a > /shared/f && chmod 644 "
              "/shared/f && exec sleep 100\"",
      .mounts_extra = mount});
  create_ok(c, POOL_WIDE, a);
  hrun_expect(0, c, "start", a);
  cleanup_free char *f = xasprintf("%s/f", shared);
  ck_assert_msg(wait_for_path(f, 5000), "container A never wrote %s", f);
  struct map a_root = host_view_map(state_pid(c, a), "uid_map");
  struct stat st;
  ck_assert_int_eq(stat(f, &st), 0);
  ck_assert_uint_eq(st.st_uid, a_root.host);
  ck_assert_uint_eq(st.st_mode & 0777, 0644);

  /* Root in B: its CAP_DAC_OVERRIDE is its own namespace's, and A's ids
   * are not mapped there. A root of the host would write the file. */
  write_auto_config(c, "auto", (struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"cat /proc/self/uid_map; "
              "echo b >> /shared/f\"",
      .mounts_extra = mount});
  struct hres r = hrun_pool(c, POOL_WIDE, "run", "--bundle", c->bundle, b);
  ck_assert_msg(r.status != 0, "root in B wrote A's file: %s", r.out);
  ck_assert_msg(hcontains(r.err, "Permission denied"), "stderr: %s", r.err);
  struct map b_root = parse_map_line(r.out);
  ck_assert(disjoint(a_root, b_root));
  hres_free(&r);
  /* The file is writable: by its owner, root in A. */
  hrun_expect(0, c, "exec", a, "/bin/sh", "-c", "echo a2 >> /shared/f");
  cleanup_free char *text = hread_file(f);
  ck_assert_str_eq(text, "a\na2\n");
  hrun_expect(0, c, "delete", "--force", a);
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

/* ---- kill across tenants --------------------------------------------- */

/* c's config for a container in the host's pid namespace (so that one
 * tenant can name the other's process at all), with the host's /proc
 * bound (procfs of the host's pid namespace is not a user namespace's to
 * mount); mode NULL: no annotation. */
static void write_host_pid_config(struct hctx *c, const char *mode,
                                  const char *args) {
  cleanup_free char *top = mode ? xasprintf(AUTO_ANNOTATION, mode) : NULL;
  cleanup_free char *json = hconfig_json(&(struct hconfig){
      .args = args,
      .namespaces = "{\"type\": \"network\"}, {\"type\": \"ipc\"},"
                    " {\"type\": \"uts\"}, {\"type\": \"mount\"}",
      .no_masked_paths = true,
      .top_extra = top});
  static const char proc[] =
      "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": "
      "\"proc\"},\n    ";
  static const char bind[] =
      "{\"destination\": \"/proc\", \"type\": \"bind\", \"source\": "
      "\"/proc\", \"options\": [\"rbind\"]},\n    ";
  char *at = strstr(json, proc);
  ck_assert_ptr_nonnull(at);
  cleanup_free char *edited = xasprintf("%.*s%s%s", (int)(at - json), json,
                                        bind, at + strlen(proc));
  hctx_write_config_raw(c, edited);
}

START_TEST(tenant_cannot_signal_another_tenant) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  cleanup_free char *host = xasprintf("%s-host", c->id);
  write_host_pid_config(c, "auto", "\"/bin/sleep\", \"100\"");
  create_ok(c, POOL_WIDE, b);
  hrun_expect(0, c, "start", b);
  pid_t victim = state_pid(c, b);

  /* Root in A: it may signal its own processes, and B's pid is one it can
   * name, but B's ids are not its namespace's. */
  cleanup_free char *script = xasprintf(
      "\"/bin/sh\", \"-c\", \"kill -0 $$ && echo self-ok; kill -0 %d\"",
      (int)victim);
  write_host_pid_config(c, "auto", script);
  struct hres r = hrun_pool(c, POOL_WIDE, "run", "--bundle", c->bundle, a);
  ck_assert_msg(r.status != 0, "A signalled B's process: %s", r.err);
  ck_assert_msg(hcontains(r.out, "self-ok"), "stdout: %s", r.out);
  ck_assert_msg(hcontains(r.err, "Operation not permitted"), "stderr: %s",
                r.err);
  hres_free(&r);

  /* The same from a container without a range of its own (host root):
   * the pid is B's and signalling it is possible at all. */
  cleanup_free char *control = xasprintf(
      "\"/bin/sh\", \"-c\", \"kill -0 %d && echo other-ok\"", (int)victim);
  write_host_pid_config(c, NULL, control);
  r = hrun(c, "run", "--bundle", c->bundle, host, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "other-ok"), "stdout: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(kill(victim, 0), 0); /* kill -0 left it alone */
  hrun_expect(0, c, "delete", "--force", b);
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

/* ---- 50 creates at once ---------------------------------------------- */

#define N_CONCURRENT 50

START_TEST(fifty_concurrent_creates_never_share_an_id) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){.args = HELPER("sleep", "100")});
  int gate[2];
  /* Close-on-exec: the runtimes do not keep the gate. */
  ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
  char *ids[N_CONCURRENT];
  struct hbg bg[N_CONCURRENT];
  for (int i = 0; i < N_CONCURRENT; i++) {
    ids[i] = xasprintf("%s-%d", c->id, i);
    char *args[] = {"--userns-pool", POOL_FIFTY, "create", "--bundle",
                    c->bundle, ids[i], NULL};
    bg[i] = hstart(c, args, gate[0], -1);
  }
  char go[N_CONCURRENT];
  memset(go, 'g', sizeof(go));
  ck_assert_int_eq(write(gate[1], go, sizeof(go)), N_CONCURRENT); /* all go */
  close(gate[0]);
  close(gate[1]);
  for (int i = 0; i < N_CONCURRENT; i++) {
    struct hres r = hbg_wait(&bg[i], 60000);
    ck_assert_msg(r.status == 0, "create %s: status %d: %s", ids[i], r.status,
                  r.err);
    hres_free(&r);
  }
  struct map uid[N_CONCURRENT], gid[N_CONCURRENT];
  for (int i = 0; i < N_CONCURRENT; i++) {
    pid_t pid = state_pid(c, ids[i]);
    uid[i] = host_view_map(pid, "uid_map");
    gid[i] = host_view_map(pid, "gid_map");
    ck_assert_uint_eq(uid[i].size, SIZE);
    ck_assert_uint_ge(uid[i].host, 3200000000u);
    ck_assert_uint_le((uint64_t)uid[i].host + SIZE, 3200000000ull + 3276800);
  }
  for (int i = 0; i < N_CONCURRENT; i++)
    for (int j = i + 1; j < N_CONCURRENT; j++) {
      ck_assert_msg(disjoint(uid[i], uid[j]), "%s and %s share uids", ids[i],
                    ids[j]);
      ck_assert_msg(disjoint(gid[i], gid[j]), "%s and %s share gids", ids[i],
                    ids[j]);
    }
  ck_assert_int_eq(held_records(c), N_CONCURRENT);
  /* The pool is full now: the 51st is refused by name. */
  cleanup_free char *extra = xasprintf("%s-extra", c->id);
  struct hres r = hrun_pool(c, POOL_FIFTY, "create", "--bundle", c->bundle,
                            extra);
  hexpect_one_line_error(r, "annotation run.oci.userns=auto: no free range "
                            "of 65536 ids left in the pool (--userns-pool "
                            POOL_FIFTY "; 50 ranges held)");
  hres_free(&r);
  for (int i = 0; i < N_CONCURRENT; i++) {
    hrun_expect(0, c, "delete", "--force", ids[i]);
    free(ids[i]);
  }
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

/* ---- a create killed half-way ---------------------------------------- */

/* After `create id` was killed: the pool (room for one range) gives the
 * next container a range unless the dead create's first process lives (it
 * got as far as `created`), which keeps its range until delete. */
static void next_create_gets_the_range(struct hctx *c, const char *dead,
                                       const char *next) {
  struct hres r = hrun_pool(c, POOL_ONE, "create", "--bundle", c->bundle,
                            next);
  /* Read after the create: the dead create's init may still be dying of
   * hull's death when the create looks, and then holds the range. */
  cleanup_free char *status = hstate_status(c, dead, NULL);
  if (r.status != 0) {
    hexpect_one_line_error(r, "annotation run.oci.userns=auto: no free "
                              "range of 65536 ids left in the pool "
                              "(--userns-pool " POOL_ONE "; 1 ranges held)");
    hres_free(&r);
    hrun_expect(0, c, "delete", "--force", dead);
    r = hrun_pool(c, POOL_ONE, "create", "--bundle", c->bundle, next);
  } else {
    /* Both would hold the one range. */
    ck_assert_msg(strcmp(status, "created") != 0,
                  "the range was given again while `%s` is created", dead);
  }
  ck_assert_msg(r.status == 0, "create after a killed create (status `%s`): "
                "%s", status, r.err);
  hres_free(&r);
  ck_assert_int_eq(held_records(c), 1);
  hrun(c, "delete", "--force", dead, NULL);
  hrun_expect(0, c, "delete", "--force", next);
  ck_assert_int_eq(held_records(c), 0);
}

/* A stop point: hull killed while a createRuntime hook of the container
 * runs, when the range is taken and the init is in its namespaces. */
START_TEST(create_killed_in_hook_leaks_no_range) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook-ran", c->dir);
  cleanup_free char *annotation = xasprintf(AUTO_ANNOTATION, "auto");
  cleanup_free char *hooks = xasprintf(
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\":"
      " [\"sh\", \"-c\", \"echo $$ > %1$s.tmp && mv %1$s.tmp %1$s;"
      " exec sleep 30\"]}]}, %2$s", marker, annotation);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .top_extra = hooks});
  cleanup_free char *dead = xasprintf("%s-dead", c->id);
  char *args[] = {"--userns-pool", POOL_ONE, "create", "--bundle", c->bundle,
                  dead, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  bool ran = hwait_file(marker, "\n", 10000);
  kill(b.pid, SIGKILL);
  struct hres r = hbg_wait(&b, 5000);
  ck_assert_msg(ran, "the hook never ran: %s", r.err);
  hres_free(&r);
  cleanup_free char *hook_pid = hread_file(marker);
  kill((pid_t)atoi(hook_pid), SIGKILL);
  ck_assert_int_eq(held_records(c), 1); /* the dead create's, pending */
  /* Its pending record is the next create's to take; a new config
   * without the hanging hook. */
  write_auto_config(c, "auto", (struct hconfig){.args = HELPER("sleep", "30")});
  cleanup_free char *next = xasprintf("%s-next", c->id);
  next_create_gets_the_range(c, dead, next);
  hctx_finish(c);
}
END_TEST

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A timing sweep: hull killed after 0 ms up to about one create's time. */
START_TEST(create_killed_at_any_point_leaks_no_range) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){.args = HELPER("sleep", "30")});
  cleanup_free char *probe = xasprintf("%s-probe", c->id);
  int64_t t0 = now_ms();
  create_ok(c, POOL_ONE, probe);
  int64_t took = now_ms() - t0;
  hrun_expect(0, c, "delete", "--force", probe);
  int steps = 16;
  for (int i = 0; i <= steps; i++) {
    int64_t delay_us = took * 1000 * i / steps;
    cleanup_free char *dead = xasprintf("%s-dead%d", c->id, i);
    cleanup_free char *next = xasprintf("%s-next%d", c->id, i);
    char *args[] = {"--userns-pool", POOL_ONE, "create", "--bundle",
                    c->bundle, dead, NULL};
    struct hbg b = hstart(c, args, -1, -1);
    struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    kill(b.pid, SIGKILL);
    struct hres r = hbg_wait(&b, 5000);
    hres_free(&r);
    next_create_gets_the_range(c, dead, next);
  }
  hctx_finish(c);
}
END_TEST

/* ---- bad input: one line, status 1, nothing left --------------------- */

static void expect_refused(struct hctx *c, const char *want,
                           const char *pool) {
  struct hres r = pool ? hrun_pool(c, pool, "create", "--bundle", c->bundle,
                                   c->id)
                       : hrun(c, "create", "--bundle", c->bundle, c->id,
                              NULL);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  ck_assert_int_eq(held_records(c), 0);
}

START_TEST(pool_too_small_is_refused) {
  SKIP_UNLESS_TMP_IDMAPS();
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){0});
  expect_refused(c, "annotation run.oci.userns=auto: more ids than the "
                    "pool's largest range holds (1000: --userns-pool "
                    "3600000000:1000)", "3600000000:1000");
  write_auto_config(c, "auto:size=2000", (struct hconfig){0});
  expect_refused(c, "annotation run.oci.userns=auto:size=2000: more ids "
                    "than the pool's largest range holds (1000: "
                    "--userns-pool 3600000000:1000)", "3600000000:1000");
  /* The same pool fits a smaller size. */
  write_auto_config(c, "auto:size=1000",
                    (struct hconfig){.args = "\"/bin/cat\", "
                                             "\"/proc/self/uid_map\""});
  struct hres r = hrun_pool(c, "3600000000:1000", "run", "--bundle",
                            c->bundle, c->id);
  ck_assert_hres(r, 0);
  struct map m = parse_map_line(r.out);
  ck_assert_uint_eq(m.host, 3600000000u);
  ck_assert_uint_eq(m.size, 1000);
  hres_free(&r);
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(bad_sizes_and_modes_are_refused) {
  struct hctx *c = hctx_new();
  static const char *const bad_sizes[] = {"auto:size=0", "auto:size=abc",
                                          "auto:size=", "auto:size=-1",
                                          "auto:size=4294967296"};
  for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(*bad_sizes); i++) {
    write_auto_config(c, bad_sizes[i], (struct hconfig){0});
    cleanup_free char *want = xasprintf(
        "annotation run.oci.userns: \\\"%s\\\": size must be a number from "
        "1 to 4294967295", bad_sizes[i]);
    expect_refused(c, want, POOL_WIDE);
  }
  write_auto_config(c, "keep-id", (struct hconfig){0});
  expect_refused(c, "annotation run.oci.userns: \\\"keep-id\\\" is not a "
                    "mode hull has (auto or auto:size=N)", POOL_WIDE);
  hctx_finish(c);
}
END_TEST

START_TEST(explicit_mappings_with_auto_are_refused) {
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(AUTO_ANNOTATION, "auto");
  hctx_write_config(c, &(struct hconfig){.namespaces = USERNS_NAMESPACES,
                                         .linux_extra = USERNS_MAPS_100000,
                                         .top_extra = top});
  expect_refused(c, "config.json: .linux.uidMappings: cannot be given with "
                    "annotation run.oci.userns=auto, which picks the "
                    "mapping", POOL_WIDE);
  hctx_write_config(c, &(struct hconfig){
      .namespaces = "{\"type\": \"pid\"}, {\"type\": \"network\"},"
                    " {\"type\": \"ipc\"}, {\"type\": \"uts\"}",
      .top_extra = top});
  expect_refused(c, "annotation run.oci.userns=auto: needs a new mount "
                    "namespace (linux.namespaces), where the idmapped rootfs "
                    "is mounted", POOL_WIDE);
  hctx_finish(c);
}
END_TEST

START_TEST(bad_pool_option_is_refused) {
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){0});
  expect_refused(c, "invalid value \\\"3000000000\\\" for flag "
                    "--userns-pool: want START:SIZE", "3000000000");
  expect_refused(c, "--userns-pool 0:65536: the pool may not hold id 0 (the "
                    "host's root)", "0:65536");
  expect_refused(c, "--userns-pool 4294901760:65536: the pool goes past id "
                    "4294967294", "4294901760:65536");
  hctx_finish(c);
}
END_TEST

/* hull run with /etc/subuid and /etc/subgid replaced by files of the
 * test's (in a mount namespace of its own, so the host's stay as they
 * are), without --userns-pool. */
static struct hres run_with_subid(struct hctx *c, const char *subuid_text,
                                  const char *verb) {
  cleanup_free char *subuid = xasprintf("%s/subuid", c->dir);
  cleanup_free char *subgid = xasprintf("%s/subgid", c->dir);
  hwrite_file(subuid, subuid_text, 0644);
  hwrite_file(subgid, subuid_text, 0644);
  cleanup_free char *script = xasprintf(
      "mount --bind %s /etc/subuid && mount --bind %s /etc/subgid && "
      "exec \"$@\"", subuid, subgid);
  char *prefix[] = {"/usr/bin/unshare", "--mount", "--propagation", "private",
                    "/bin/sh", "-c", script, "sh", NULL};
  char *args[] = {(char *)verb, "--bundle", c->bundle, c->id, NULL};
  return hrun_wrapped(c, prefix, c->root, args, 10000);
}

START_TEST(pool_from_subuid_entry_of_user_hull) {
  SKIP_UNLESS(access("/usr/bin/unshare", X_OK) == 0 &&
                  access("/etc/subuid", F_OK) == 0 &&
                  access("/etc/subgid", F_OK) == 0,
              "no unshare(1), /etc/subuid or /etc/subgid to bind over");
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){
      .args = "\"/bin/cat\", \"/proc/self/uid_map\", \"/proc/self/gid_map\""});
  struct hres r = run_with_subid(c, "someone:100000:65536\n", "create");
  hexpect_one_line_error(r, "annotation run.oci.userns=auto: no id pool: "
                            "/etc/subuid has no entry for user \\\"hull\\\" "
                            "(add hull:START:SIZE to /etc/subuid and "
                            "/etc/subgid, or give --userns-pool "
                            "START:SIZE)");
  hres_free(&r);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  ck_assert_int_eq(held_records(c), 0);

  r = run_with_subid(c, "someone:100000:65536\nhull:3700000000:65536\n",
                     "run");
  ck_assert_hres(r, 0);
  struct map m = parse_map_line(r.out);
  ck_assert_uint_eq(m.host, 3700000000u);
  ck_assert_uint_eq(m.size, SIZE);
  hres_free(&r);
  ck_assert_int_eq(held_records(c), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(user_other_than_root_is_refused) {
  SKIP_UNLESS(access("/usr/bin/setpriv", X_OK) == 0, "no setpriv(1)");
  struct hctx *c = hctx_new();
  write_auto_config(c, "auto", (struct hconfig){0});
  char *prefix[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", NULL};
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hres r = hrun_wrapped(c, prefix, c->root, args, 10000);
  hexpect_one_line_error(r, "annotation run.oci.userns=auto: needs hull run "
                            "by root (not in a user namespace): a user's "
                            "containers map its /etc/subuid ids through "
                            "linux.uidMappings");
  hres_free(&r);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  hctx_finish(c);
}
END_TEST

/* A rootfs on a file system the kernel cannot idmap (ramfs): one line
 * naming it and the way out, nothing left. */
START_TEST(rootfs_without_idmap_support_is_one_line_error) {
  struct hctx *c = hctx_new();
  cleanup_free char *ram = xasprintf("%s/ram", c->dir);
  ck_assert_int_eq(mkdir(ram, 0755), 0);
  if (mount("ramfs", ram, "ramfs", 0, "mode=0755") < 0) {
    hctx_finish(c);
    SKIP_TEST("no ramfs: %s", strerror(errno));
  }
  cleanup_free char *rootfs = xasprintf("%s/rootfs", ram);
  cleanup_free char *src = xasprintf("%s/.", c->rootfs);
  ck_assert_int_eq(mkdir(rootfs, 0755), 0);
  char *cp[] = {"/bin/cp", "-a", src, rootfs, NULL};
  hrun_tool(cp);
  cleanup_free char *top = xasprintf(AUTO_ANNOTATION, "auto");
  cleanup_free char *json = hconfig_json(&(struct hconfig){.top_extra = top});
  cleanup_free char *root_path = xasprintf("\"path\": \"%s\"", rootfs);
  char *at = strstr(json, "\"path\": \"rootfs\"");
  ck_assert_ptr_nonnull(at);
  cleanup_free char *edited = xasprintf(
      "%.*s%s%s", (int)(at - json), json, root_path,
      at + strlen("\"path\": \"rootfs\""));
  hctx_write_config_raw(c, edited);
  cleanup_free char *want = xasprintf(
      "annotation run.oci.userns=auto: the kernel cannot idmap rootfs `%s` "
      "(ramfs; give the container linux.uidMappings and gidMappings of its "
      "own and a rootfs chowned to them instead): Invalid argument", rootfs);
  expect_refused(c, want, POOL_WIDE);
  ck_assert_int_eq(umount2(ram, MNT_DETACH), 0);
  hctx_finish(c);
}
END_TEST

static Suite *userns_auto_suite(void) {
  Suite *s = suite_create("integration-userns-auto");
  TCase *tc = harness_tcase("tenants", 60);
  tcase_add_test(tc, two_tenants_get_disjoint_ranges);
  tcase_add_test(tc, tenant_root_cannot_write_another_tenants_file);
  tcase_add_test(tc, tenant_cannot_signal_another_tenant);
  tcase_add_test(tc, create_killed_in_hook_leaks_no_range);
  tcase_add_test(tc, pool_too_small_is_refused);
  tcase_add_test(tc, bad_sizes_and_modes_are_refused);
  tcase_add_test(tc, explicit_mappings_with_auto_are_refused);
  tcase_add_test(tc, bad_pool_option_is_refused);
  tcase_add_test(tc, pool_from_subuid_entry_of_user_hull);
  tcase_add_test(tc, user_other_than_root_is_refused);
  tcase_add_test(tc, rootfs_without_idmap_support_is_one_line_error);
  suite_add_tcase(s, tc);
  TCase *slow = harness_tcase("tenants-many", 300);
  tcase_add_test(slow, fifty_concurrent_creates_never_share_an_id);
  tcase_add_test(slow, create_killed_at_any_point_leaks_no_range);
  suite_add_tcase(s, slow);
  return s;
}

HULL_SUITE(userns_auto_suite)
