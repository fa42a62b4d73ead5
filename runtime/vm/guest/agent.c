/* agent.c — `hull vm-agent`, the guest agent.
 *
 * As PID 1 of a VM guest (the kernel runs /init, which is hull, with
 * `vm-agent` from after the `--` of its command line) it mounts what the
 * guest needs, opens the agent channel (a virtio port, or ttyS1) and
 * serves the host with the container at /bundle, state under /run/hull;
 * then it powers the VM off. It never exits: a fatal error goes to the
 * host as ERROR(0) and to the console, and the VM resets.
 *
 * Not as PID 1 it is a test run on the host, driven over a socket:
 *   hull vm-agent --channel-fd N --bundle DIR --root DIR [--id ID]
 * with no guest mounts and no reset; it exits when the container's process
 * has ended and EXIT(1) is written. */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

struct agent_flags {
  int channel_fd;            /* -1: PID 1 mode opens the agent channel */
  const char *bundle, *root, *id;
};

/* "module.name=value" */
static bool is_module_parameter(const char *arg) {
  size_t module = strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-");
  if (module == 0 || arg[module] != '.')
    return false;
  const char *name = arg + module + 1;
  size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");
  return len > 0 && name[len] == '=';
}

static int parse_flags(int argc, char **argv, struct agent_flags *f,
                       hull_error_t *err) {
  enum { OPT_CHANNEL = 256, OPT_BUNDLE, OPT_ROOT, OPT_ID };
  static const struct option opts[] = {
      {"channel-fd", required_argument, NULL, OPT_CHANNEL},
      {"bundle", required_argument, NULL, OPT_BUNDLE},
      {"root", required_argument, NULL, OPT_ROOT},
      {"id", required_argument, NULL, OPT_ID},
      {NULL, 0, NULL, 0},
  };
  *f = (struct agent_flags){.channel_fd = -1, .bundle = GUEST_BUNDLE,
                            .root = GUEST_ROOT};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
    switch (c) {
    case OPT_CHANNEL: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end || v < 0 || v > 1 << 20)
        return hull_error(err, 0, "--channel-fd `%s`: expected an fd",
                          optarg);
      f->channel_fd = (int)v;
      break;
    }
    case OPT_BUNDLE: f->bundle = optarg; break;
    case OPT_ROOT: f->root = optarg; break;
    case OPT_ID: f->id = optarg; break;
    case ':':
      return hull_error(err, 0, "flag needs an argument: %s",
                        argv[optind - 1]);
    default:
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  /* qemu's microvm appends a virtio_mmio.device= for each virtio card to
   * the command line, after our `--`: a module's parameter, which the
   * kernel then hands to init. guest/network.c reads it in /proc/cmdline
   * when it loads the module. */
  while (optind < argc && is_module_parameter(argv[optind]))
    optind++;
  if (optind < argc)
    return hull_error(err, 0, "vm-agent: unexpected argument `%s`",
                      argv[optind]);
  return 0;
}

static void on_sigpipe(int sig) { (void)sig; }

/* A write to a pipe whose reader is gone must fail with EPIPE, not kill
 * the agent. A handler rather than SIG_IGN: an ignored disposition would
 * be inherited by the container's processes across exec. */
static void catch_sigpipe(void) {
  struct sigaction sa = {.sa_handler = on_sigpipe};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, NULL);
}

static int channel_from_fd(int fd, hull_error_t *err) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0)
    return hull_error(err, errno, "--channel-fd %d", fd);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  set_cloexec(fd, true);
  return 0;
}

static int run_test_mode(const struct agent_flags *f, hull_error_t *err) {
  if (f->channel_fd < 0)
    return hull_error(err, 0, "vm-agent: --channel-fd is required when not "
                              "running as the guest's PID 1");
  if (channel_from_fd(f->channel_fd, err) < 0 ||
      mkdir_p(f->root, 0700, err) < 0)
    return -1;
  /* As PID 1 would be: orphans of the container come back to us. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct agent_options o = {.channel = f->channel_fd, .bundle = f->bundle,
                            .root = f->root, .id = f->id};
  return agent_run(&o, err);
}

__attribute__((noreturn)) static void run_pid1(const struct agent_flags *f) {
  hull_error_t err = NULL;
  int channel = f->channel_fd;
  if (guest_mount_all(&err) < 0)
    guest_fatal(channel, err->msg);
  if (channel < 0 && guest_open_agent_channel(&channel, &err) < 0)
    guest_fatal(-1, err->msg);
  if (guest_mount_shares(&err) < 0 || guest_network_up(&err) < 0)
    guest_fatal(channel, err->msg);
  if (mkdir_p(f->root, 0700, &err) < 0)
    guest_fatal(channel, err->msg);
  struct agent_options o = {.channel = channel, .bundle = f->bundle,
                            .root = f->root, .id = f->id, .await_host = true};
  if (agent_run(&o, &err) < 0)
    guest_fatal(channel, err->msg);
  guest_power_off(channel);
}

int vm_agent_main(int argc, char **argv) {
  hull_error_t err = NULL;
  struct agent_flags f;
  bool pid1 = getpid() == 1;
  catch_sigpipe();
  if (parse_flags(argc, argv, &f, &err) < 0) {
    if (pid1)
      guest_fatal(-1, err->msg);
    log_error_final(err->msg);
    hull_error_release(&err);
    return EXIT_FAILURE;
  }
  if (pid1)
    run_pid1(&f);
  if (run_test_mode(&f, &err) < 0) {
    log_error_final(err->msg);
    hull_error_release(&err);
    return EXIT_FAILURE;
  }
  return 0;
}
