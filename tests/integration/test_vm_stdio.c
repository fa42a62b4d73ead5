/* test_vm_stdio.c — VM mode's stdio in bulk (qemu, TCG): the agent channel
 * (a virtio-serial port) carries tens of megabytes each way byte-exact and
 * in order, and a host reader that is slow holds the guest's writer back
 * rather than losing bytes. What went in is compared with what came out by
 * sha256: the guest's busybox sha256sum against the host's hasher. The
 * kernel is hull's own when $HULL_GUEST_KERNEL names it, else Debian's:
 * run the suite both ways.
 *
 * No timing is asserted here: bench/vm-bench.sh measures the rate. */
#include "tests/integration/vm-harness.h"
#include "images/images.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define BULK_TIMEOUT_MS 600000 /* boots and transfers on a loaded TCG host */

/* What a piped run gave: its status, how much came out, the sha256 (hex)
 * of it, and its stderr. */
struct piped {
  int status;      /* exit status, 128+N for signal N, -1 on timeout */
  size_t out_len;
  char out_sha[65];
  char *err;
};

struct pipe_opts {
  const uint8_t *in;  /* fed to stdin, then EOF (NULL: /dev/null) */
  size_t in_len;
  size_t read_chunk;  /* bytes per read of stdout (0: 64 KiB) */
  int pause_us;       /* after each read: a slow reader */
};

static void set_nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(char **s, size_t *len, const char *more, size_t n) {
  *s = xrealloc(*s, *len + n + 1);
  memcpy(*s + *len, more, n);
  *len += n;
  (*s)[*len] = '\0';
}

/* Runs `$HULL --root c->root ARGS...` with stdin, stdout and stderr on
 * pipes, hashing stdout as it comes. */
static struct piped run_piped(struct hctx *c, const struct pipe_opts *o,
                              char *const *args) {
  cleanup_error hull_error_t load_err = NULL;
  ck_assert_msg(image_digests_load(&load_err) == 0, "%s",
                load_err ? load_err->msg : "");
  int in[2], out[2], err[2];
  ck_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
            pipe2(err, O_CLOEXEC) == 0);
  size_t n = strv_len(args);
  char **argv = xzalloc((n + 4) * sizeof(*argv));
  argv[0] = getenv("HULL");
  argv[1] = "--root";
  argv[2] = c->root;
  memcpy(argv + 3, args, n * sizeof(*argv));
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);
    if (o->in == NULL) {
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
    } else {
      dup2(in[0], 0);
    }
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    _exit(127);
  }
  free(argv);
  /* A process that does not read all of its stdin may exit while we still
   * write: that is EPIPE here (and the end of the input), not our death. */
  signal(SIGPIPE, SIG_IGN);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  int in_fd = o->in ? in[1] : -1;
  if (in_fd < 0)
    close(in[1]);
  else
    set_nonblock(in_fd);
  set_nonblock(out[0]);
  set_nonblock(err[0]);
  int out_fd = out[0], err_fd = err[0];
  struct piped r = {.err = xstrdup("")};
  size_t err_len = 0, in_off = 0;
  size_t chunk = o->read_chunk ? o->read_chunk : 65536;
  char *buf = xmalloc(chunk);
  struct image_hasher *h = image_hasher_new(IMAGE_SHA256);
  long long deadline = now_ms() + BULK_TIMEOUT_MS;
  while ((out_fd >= 0 || err_fd >= 0) && now_ms() < deadline) {
    struct pollfd p[3] = {{.fd = in_fd, .events = POLLOUT},
                          {.fd = out_fd, .events = POLLIN},
                          {.fd = err_fd, .events = POLLIN}};
    if (poll(p, 3, 1000) < 0 && errno != EINTR)
      break;
    if (in_fd >= 0 && p[0].revents) {
      ssize_t w = write(in_fd, o->in + in_off, o->in_len - in_off);
      if (w > 0)
        in_off += (size_t)w;
      if ((w < 0 && errno != EAGAIN) || in_off == o->in_len) {
        close(in_fd);
        in_fd = -1;
      }
    }
    if (out_fd >= 0 && p[1].revents) {
      ssize_t got = read(out_fd, buf, chunk);
      if (got > 0) {
        image_hasher_update(h, buf, (size_t)got);
        r.out_len += (size_t)got;
        if (o->pause_us)
          usleep((useconds_t)o->pause_us);
      } else if (got == 0 || errno != EAGAIN) {
        close(out_fd);
        out_fd = -1;
      }
    }
    if (err_fd >= 0 && p[2].revents) {
      char ebuf[4096];
      ssize_t got = read(err_fd, ebuf, sizeof(ebuf));
      if (got > 0) {
        append(&r.err, &err_len, ebuf, (size_t)got);
      } else if (got == 0 || errno != EAGAIN) {
        close(err_fd);
        err_fd = -1;
      }
    }
  }
  free(buf);
  struct image_digest d;
  image_hasher_finish(h, &d);
  memcpy(r.out_sha, image_digest_hex(&d), 64);
  r.out_sha[64] = '\0';
  if (out_fd >= 0 || err_fd >= 0)
    kill(-pid, SIGKILL);
  if (in_fd >= 0)
    close(in_fd);
  if (out_fd >= 0)
    close(out_fd);
  if (err_fd >= 0)
    close(err_fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  r.status = (out_fd >= 0 || err_fd >= 0) ? -1
             : WIFEXITED(st)              ? WEXITSTATUS(st)
                                          : 128 + WTERMSIG(st);
  return r;
}

static void piped_free(struct piped *r) { free(r->err); }

/* Deterministic bytes that no period of a frame or a chunk repeats. */
static uint8_t *pattern(size_t len) {
  uint8_t *p = xmalloc(len);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (uint8_t)x;
  }
  return p;
}

static char *sha256_hex(const void *data, size_t len) {
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, data, len, &d);
  return xstrdup(image_digest_hex(&d));
}

/* The first 64 characters of the line in text that ends with `  -` (what
 * sha256sum prints for its stdin). */
static char *guest_sha(const char *text) {
  const char *p = strstr(text, "  -");
  ck_assert_msg(p != NULL && p - text >= 64, "no sha256sum line in: %s",
                text);
  return xstrndup(p - 64, 64);
}

/* The guest's part: n MiB from /dev/urandom to stdout through tee, whose
 * copy sha256sum hashes (on stderr) by way of a fifo; the end of a `sh -c`
 * script and its closing quote (static: one at a time). */
static const char *guest_output(int mib) {
  static char text[256];
  snprintf(text, sizeof(text),
           "mkfifo /dev/shm/copy; sha256sum </dev/shm/copy >&2 & "
           "dd if=/dev/urandom bs=65536 count=%d 2>/dev/null | "
           "tee /dev/shm/copy; wait\"",
           mib * 16);
  return text;
}

static char *urandom_to_stdout(int mib) {
  return xasprintf("\"/bin/sh\", \"-c\", \"%s", guest_output(mib));
}

/* The VM, with room for the guest's copies. */
static char *vm_config(const char *kernel) {
  return vm_annotations(kernel, "\"run.oci.vm.memory\": \"512\"");
}

static void expect_stdout_whole(const struct piped *r, size_t len) {
  ck_assert_msg(r->status == 0, "status %d, stderr: %s", r->status, r->err);
  ck_assert_uint_eq(r->out_len, len);
  cleanup_free char *want = guest_sha(r->err);
  ck_assert_str_eq(r->out_sha, want);
}

/* 16 MiB into the container's stdin and 64 MiB of its stdout, in one
 * boot: stdin first (its sha256sum on stderr), then the output. */
START_TEST(vm_bulk_stdio_is_byte_exact) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_config(kernel);
  /* stdin: `sha256sum` reads it all; then the output as urandom_to_stdout
   * makes it. */
  cleanup_free char *script = xasprintf(
      "\"/bin/sh\", \"-c\", \"sha256sum >&2; %s", guest_output(64));
  hctx_write_config(c, &(struct hconfig){.args = script, .top_extra = vm});
  size_t in_len = 16 * MIB;
  cleanup_free uint8_t *in = pattern(in_len);
  cleanup_free char *in_sha = sha256_hex(in, in_len);
  struct piped r = run_piped(
      c, &(struct pipe_opts){.in = in, .in_len = in_len},
      (char *const[]){"run", "--bundle", c->bundle, c->id, NULL});
  /* stderr: stdin's sum first, then the output's */
  ck_assert_msg(strncmp(r.err, in_sha, 64) == 0, "stdin's sum: %s\nwant %s",
                r.err, in_sha);
  const char *second = strchr(r.err, '\n');
  ck_assert_msg(second != NULL, "stderr: %s", r.err);
  struct piped tail = r;
  tail.err = (char *)second + 1;
  expect_stdout_whole(&tail, 64 * MIB);
  piped_free(&r);
  hctx_finish(c);
}
END_TEST

/* A process that first takes 1000 bytes of its stdin, then none for a
 * second (its pipe, the agent's queue and the window fill: the host
 * waits), then the rest: every byte arrives, in order, also the tail of a
 * size that is no multiple of any frame, window or acknowledgement. */
START_TEST(vm_stdin_to_a_paused_reader_is_byte_exact) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_config(kernel);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"dd bs=1000 count=1 iflag=fullblock "
              "of=/dev/null 2>/dev/null; sleep 1; sha256sum\"",
      .top_extra = vm});
  size_t in_len = 5 * MIB + 12345;
  cleanup_free uint8_t *in = pattern(in_len);
  cleanup_free char *rest_sha = sha256_hex(in + 1000, in_len - 1000);
  struct piped r = run_piped(
      c, &(struct pipe_opts){.in = in, .in_len = in_len},
      (char *const[]){"run", "--bundle", c->bundle, c->id, NULL});
  ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
  cleanup_free char *line = xasprintf("%s  -\n", rest_sha);
  cleanup_free char *line_sha = sha256_hex(line, strlen(line));
  ck_assert_uint_eq(r.out_len, strlen(line));
  ck_assert_str_eq(r.out_sha, line_sha);
  piped_free(&r);
  hctx_finish(c);
}
END_TEST

/* A process that never reads its stdin, while the host has 8 MiB for it:
 * its output still comes whole and its exit status as soon as it exits
 * (stdin's window holds the host's bytes, not the channel). */
START_TEST(vm_unread_stdin_holds_neither_output_nor_exit) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_config(kernel);
  /* guest_output's script without its closing quote, then the status */
  const char *out = guest_output(8);
  cleanup_free char *args = xasprintf("\"/bin/sh\", \"-c\", \"%.*s; exit 3\"",
                                      (int)strlen(out) - 1, out);
  hctx_write_config(c, &(struct hconfig){.args = args, .top_extra = vm});
  size_t in_len = 8 * MIB;
  cleanup_free uint8_t *in = pattern(in_len);
  struct piped r = run_piped(
      c, &(struct pipe_opts){.in = in, .in_len = in_len},
      (char *const[]){"run", "--bundle", c->bundle, c->id, NULL});
  ck_assert_msg(r.status == 3, "status %d, stderr: %s", r.status, r.err);
  r.status = 0;
  expect_stdout_whole(&r, 8 * MIB);
  piped_free(&r);
  hctx_finish(c);
}
END_TEST

/* A reader that takes 4 KiB at a time with a pause after each (~5 MB/s):
 * more than every queue on the way holds (the agent's, the channel
 * socket's, the monitor's), so the guest's writer waits for it, and every
 * byte arrives, in order. */
START_TEST(vm_slow_reader_gets_every_byte) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_config(kernel);
  cleanup_free char *args = urandom_to_stdout(16);
  hctx_write_config(c, &(struct hconfig){.args = args, .top_extra = vm});
  struct piped r = run_piped(
      c, &(struct pipe_opts){.read_chunk = 4096, .pause_us = 500},
      (char *const[]){"run", "--bundle", c->bundle, c->id, NULL});
  expect_stdout_whole(&r, 16 * MIB);
  piped_free(&r);
  hctx_finish(c);
}
END_TEST

/* exec's stdio goes through the monitor to its relay: 16 MiB in, and
 * 32 MiB out to a reader that pauses after every 8 KiB, beside the
 * container's process. */
START_TEST(vm_exec_bulk_stdio_is_byte_exact) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_config(kernel);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"sleep\", \"1000\"",
      .namespaces = "{\"type\": \"network\"}, {\"type\": \"ipc\"}, "
                    "{\"type\": \"uts\"}, {\"type\": \"mount\"}",
      .top_extra = vm});
  struct hres h = vrun(c, BOOT_TIMEOUT_MS, "run", "-d", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(h, 0);
  hres_free(&h);

  size_t in_len = 16 * MIB;
  cleanup_free uint8_t *in = pattern(in_len);
  cleanup_free char *in_sha = sha256_hex(in, in_len);
  struct piped r = run_piped(
      c, &(struct pipe_opts){.in = in, .in_len = in_len},
      (char *const[]){"exec", c->id, "sha256sum", NULL});
  ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
  /* Its output is the sum: what it printed hashes as the line we expect. */
  cleanup_free char *line = xasprintf("%s  -\n", in_sha);
  cleanup_free char *line_sha = sha256_hex(line, strlen(line));
  ck_assert_uint_eq(r.out_len, strlen(line));
  ck_assert_str_eq(r.out_sha, line_sha);
  piped_free(&r);

  /* guest_output's script without its closing quote, as exec's argv */
  const char *script = guest_output(32);
  cleanup_free char *body = xstrndup(script, strlen(script) - 1);
  r = run_piped(c, &(struct pipe_opts){.read_chunk = 8192, .pause_us = 100},
                (char *const[]){"exec", c->id, "/bin/sh", "-c", body, NULL});
  expect_stdout_whole(&r, 32 * MIB);
  piped_free(&r);

  h = vrun(c, 60000, "delete", "--force", c->id, NULL);
  ck_assert_hres(h, 0);
  hres_free(&h);
  hctx_finish(c);
}
END_TEST

static Suite *vm_stdio_suite(void) {
  Suite *s = suite_create("integration-vm-stdio");
  TCase *tc = harness_tcase("vm-stdio", 900);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_bulk_stdio_is_byte_exact);
  tcase_add_test(tc, vm_slow_reader_gets_every_byte);
  tcase_add_test(tc, vm_stdin_to_a_paused_reader_is_byte_exact);
  tcase_add_test(tc, vm_unread_stdin_holds_neither_output_nor_exit);
  tcase_add_test(tc, vm_exec_bulk_stdio_is_byte_exact);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_stdio_suite)
