/* harness.h — what the integration tests share: a private bundle and state
 * root per test, a config builder, running the runtime with a timeout, and a
 * check that a test left nothing behind.
 *
 * The runtime is $HULL (the Makefile passes the freshly built ./hull; point
 * it at /usr/sbin/runc to see what hull must match) and the rootfs is
 * $HULL_TEST_ROOTFS (tests/rootfs, see tests/make-rootfs.sh).
 *
 * A test looks like:
 *   struct hctx *c = hctx_new();
 *   hctx_write_config(c, &(struct hconfig){.args = HELPER("hostname")});
 *   struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
 *   ck_assert_int_eq(r.status, 0);
 *   hres_free(&r);
 *   hctx_finish(c);      // asserts no leftovers, removes the test's files
 *
 * A failing assertion ends the forked test process at once, so the files
 * and containers of failed or timed-out tests are swept by the tcase's
 * unchecked teardown (see harness_tcase()). */
#ifndef HULL_TEST_HARNESS_H
#define HULL_TEST_HARNESS_H

#include "tests/suite.h"

#include <stdbool.h>
#include <sys/types.h>

/* JSON array members for process.args running the in-container helper. */
#define HELPER(...) "\"/bin/hull-test-helper\", " HELPER_ARGS_(__VA_ARGS__)
#define HELPER_ARGS_(...) HELPER_Q_(__VA_ARGS__)
#define HELPER_Q_(...) #__VA_ARGS__
/* e.g. HELPER("cat", "/etc/hostname") expands to the JSON text
 * "/bin/hull-test-helper", "cat", "/etc/hostname" */

struct hctx {
  char *dir;      /* private temp dir holding everything below */
  char *root;     /* --root state directory */
  char *bundle;   /* bundle dir: config.json + rootfs (a copy) */
  char *rootfs;   /* bundle/rootfs */
  char *id;       /* unique container id; other ids of this test start with it */
  int n_runs;     /* numbers the output files */
  char **mounts_before; /* mountinfo lines when the test began */
  pid_t extra_pids[8]; /* host helpers this test started (killed at finish) */
  int n_extra_pids;
  pid_t state_pids[32]; /* container pids `state` reported (must be gone) */
  int n_state_pids;
};

/* A new user namespace with every other usual one (hconfig.namespaces), and
 * container root mapped to host uid/gid 100000, 65536 ids (linux_extra). */
#define USERNS_NAMESPACES                                                     \
  "{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"        \
  " {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}"
#define USERNS_MAPS_100000                                                    \
  "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000,"                \
  " \"size\": 65536}],"                                                       \
  " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000,"               \
  " \"size\": 65536}]"

/* Every member is optional; NULL (or false) gives the default, which is
 * close to `runc spec` made non-interactive, without the cgroup mount. */
struct hconfig {
  const char *args;          /* JSON array members; default HELPER("exit", "0") */
  const char *user;          /* members of process.user; default uid 0 gid 0 */
  const char *cwd;           /* default "/" */
  const char *env;           /* extra members of process.env */
  const char *process_extra; /* extra members of process */
  bool terminal;
  bool readonly_root;
  const char *hostname;      /* default "hull-test"; "" leaves it out */
  const char *mounts_extra;  /* extra members of mounts */
  const char *namespaces;    /* members of linux.namespaces; default
                                pid, network, ipc, uts, mount */
  const char *linux_extra;   /* extra members of linux */
  const char *top_extra;     /* extra top-level members (hooks, ...) */
  bool no_masked_paths;      /* leave out maskedPaths and readonlyPaths */
};

struct hres {
  int status;      /* exit status; 128+N when killed by signal N; -1 timeout */
  char *out;       /* stdout and stderr, whole */
  char *err;
  char *out_path;  /* where stdout went: detached containers keep writing */
};

/* Creates a test's private directory, state root and bundle (rootfs copied
 * from $HULL_TEST_ROOTFS). Fails the test on error. */
struct hctx *hctx_new(void);
/* Asserts the test left nothing behind (mounts, cgroups, processes, state),
 * then removes its directory and frees c. */
void hctx_finish(struct hctx *c);

/* The JSON text of a config built from cfg (free it). */
char *hconfig_json(const struct hconfig *cfg);
void hctx_write_config(struct hctx *c, const struct hconfig *cfg);
void hctx_write_config_raw(struct hctx *c, const char *json);

/* Runs `$HULL --root c->root ARGS...` (NULL-terminated) with stdin from
 * /dev/null and a 10 s timeout. */
struct hres hrun(struct hctx *c, ...) __attribute__((sentinel));
/* The same with an explicit timeout, and without --root when root is NULL. */
struct hres hrun_argv(struct hctx *c, const char *root, char *const *args,
                      int timeout_ms);
/* The same run through a wrapper: `PREFIX... $HULL [--root root] ARGS...`
 * (prefix NULL-terminated, e.g. setpriv and env running hull as another
 * user in an environment of the test's making). */
struct hres hrun_wrapped(struct hctx *c, char *const *prefix, const char *root,
                         char *const *args, int timeout_ms);
void hres_free(struct hres *r);

/* A runtime started in the background (own process group). */
struct hbg {
  pid_t pid;
  char *out_path;
  char *err_path;
};
/* Starts `$HULL --root c->root ARGS...` (NULL-terminated) without waiting.
 * gate_fd > 0: it first waits for a byte or EOF there, so several start at
 * the same moment. pass_fd > 0: that fd becomes its fd 3. */
struct hbg hstart(struct hctx *c, char *const *args, int gate_fd,
                  int pass_fd);
/* Reaps it (killing its process group after timeout_ms, status -1) and
 * reads its output. */
struct hres hbg_wait(struct hbg *b, int timeout_ms);
/* Writes cfg as config.json and runs `run --bundle B ID` in the foreground. */
struct hres hrun_config(struct hctx *c, const struct hconfig *cfg);
/* `run -d` of c->id whose init (the helper's signal-wait) waits until
 * signalled, with base's other members (NULL: the defaults); returns its
 * pid once it is ready and running. */
pid_t hrun_waiter(struct hctx *c, const struct hconfig *base);
/* In a test context of its own: `create` with linux_extra as the extra
 * members of linux must fail with status 1 and stderr containing want, and
 * leave nothing behind. */
void hexpect_create_refused(const char *linux_extra, const char *want);

/* `state ID`: the status string ("" when state fails; free it) and pid. */
char *hstate_status(struct hctx *c, const char *id, pid_t *pid);
/* Polls `state` until status is want; false after timeout_ms. */
bool hwait_status(struct hctx *c, const char *id, const char *want,
                  int timeout_ms);
/* Polls a file until it contains needle; false after timeout_ms. */
bool hwait_file(const char *path, const char *needle, int timeout_ms);

/* Starts `argv` on the host (for namespace targets, ...) and remembers it, so
 * hctx_finish kills it. Returns its pid. */
pid_t hctx_spawn_host(struct hctx *c, char *const *argv);

/* Small utilities. */
char *hread_file(const char *path); /* NULL when it cannot be read */
void hwrite_file(const char *path, const char *text, mode_t mode);
bool hcontains(const char *haystack, const char *needle);
/* r failed with status 1 and one line of stderr holding msg="<msg>" (a
 * logfmt value: each quote in msg written as \"). */
/* Whether the kernel idmaps a mount of dir's file system (tmpfs only
 * since Linux 6.3): what idmapped rootfs and image lowers need. */
bool hcan_idmap(const char *dir);
void hexpect_one_line_error(struct hres r, const char *msg);
/* Minimal JSON lookups (yajl tree) for state/features/list output. */
char *hjson_string(const char *json, const char *const *path);
long long hjson_int(const char *json, const char *const *path, long long dflt);
bool hjson_valid(const char *json);

/* `hull --root c->root image --image-root store ARGS...` */
#define himage(c, store, ...)                                                 \
  hrun(c, "image", "--image-root", store, __VA_ARGS__, NULL)
/* Runs a tool (argv[0] a path) with stdin and stdout on /dev/null and
 * asserts it exits 0. */
void hrun_tool(char *const *argv);
/* The entries of dir whose names do not start with '.'; 0 when dir is
 * missing. */
int hcount_entries(const char *dir);

/* A TCase with a timeout and the sweep that cleans up after failed tests. */
TCase *harness_tcase(const char *name, double timeout_seconds);

/* Runs `$HULL --root c->root ARGS...` and asserts its exit status (a macro,
 * so a failure names the test's line). */
#define hrun_expect(want, c, ...)                                            \
  do {                                                                       \
    struct hres r_ = hrun(c, __VA_ARGS__, NULL);                             \
    ck_assert_hres(r_, want);                                                \
    hres_free(&r_);                                                          \
  } while (0)

/* `delete --force` of the test's container, which must work, then
 * hctx_finish(). */
void hctx_delete_and_finish(struct hctx *c);

/* The host's cgroup layout, for tests that read the container's knobs:
 * v1 (or hybrid) hierarchies under /sys/fs/cgroup/<controller>, or a pure
 * cgroup2 tree at /sys/fs/cgroup (the VM harness). */
enum layout { LAYOUT_OTHER, LAYOUT_V1, LAYOUT_V2 };
enum layout host_layout(void);
/* v1: the controller's hierarchy is mounted; v2: the root offers it
 * ("freezer" is in every cgroup2 cgroup). */
bool has_controller(enum layout l, const char *name);

/* Asserts r ran with the given exit status, printing its output if not. */
#define ck_assert_hres(r, want)                                               \
  ck_assert_msg((r).status == (want),                                         \
                "exit status %d, want %d\nstdout: %s\nstderr: %s", (r).status, \
                (want), (r).out, (r).err)

#endif
