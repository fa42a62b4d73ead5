/* vmm-bench.c — the built-in VMM's own cost, beside qemu's, on the same
 * freestanding guest (tests/vm-guest/guest.elf: long mode, one line on the
 * UART, reset). bench/vmm-bench.sh builds and runs it.
 *
 * hull: each run is a fresh child process calling vm_run() with a 256 MiB
 * guest; vm_exit_info gives the time from vm_run()'s start to the first
 * KVM_RUN (the VMM's setup: /dev/kvm, VM, memory, irqchip, kernel load,
 * page tables, registers, I/O thread), to the first exit back to us and to
 * the first UART byte; and, measured as for qemu, the time from fork() to
 * the parent reading that byte from the pipe that is COM1's serial_fd;
 * wait4() gives the child's peak RSS.
 *
 * qemu: each run forks qemu-system-x86_64 booting the same ELF by its PVH
 * note with its serial port on a pipe, and times fork() to the first byte
 * on that pipe; wait4() gives qemu's peak RSS. Machines -M microvm and -M
 * pc, with accel=kvm when that produces the byte here, else accel=tcg.
 *
 * Prints medians over N runs (argv[2], default 10). */
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUEST_MIB 256
#define QEMU "qemu-system-x86_64"
#define QEMU_WAIT_MS 30000

struct sample {
  double first_run_ms, first_exit_ms, first_byte_ms, total_ms;
  double fork_to_byte_ms; /* fork() until the parent reads the first byte */
  long maxrss_kib;
  bool ok;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- hull ---------------------------------------------------------------- */

/* The first byte on fd within QEMU_WAIT_MS: ms since t0, or -1. */
static double first_byte_ms(int fd, uint64_t t0) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  char byte;
  if (poll(&p, 1, QEMU_WAIT_MS) == 1 && read(fd, &byte, 1) == 1)
    return (now_ns() - t0) / 1e6;
  return -1;
}

static struct sample hull_once(const char *guest) {
  struct sample s = {0};
  int fds[2], serial[2];
  if (pipe(fds) < 0)
    return s;
  if (pipe(serial) < 0) {
    close(fds[0]);
    close(fds[1]);
    return s;
  }
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    close(serial[0]);
    struct vm_config cfg = {.kernel_path = guest, .memory_mib = GUEST_MIB,
                            .timeout_ms = 10000, .agent_fd = -1};
    struct vm_exit_info info;
    hull_error_t err = NULL;
    if (vm_run(&cfg, serial[1], &info, &err) < 0) {
      fprintf(stderr, "vmm-bench: vm_run: %s\n", err->msg);
      _exit(1);
    }
    if (info.reason != VM_STOP_RESET || !info.ns_to_first_serial)
      _exit(1);
    if (write(fds[1], &info, sizeof info) != (ssize_t)sizeof info)
      _exit(1);
    _exit(0);
  }
  close(fds[1]);
  close(serial[1]);
  s.fork_to_byte_ms = first_byte_ms(serial[0], t0);
  struct vm_exit_info info;
  ssize_t n = read(fds[0], &info, sizeof info);
  close(fds[0]);
  close(serial[0]);
  int status;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || status != 0 ||
      n != (ssize_t)sizeof info)
    return s;
  s.first_run_ms = info.ns_to_first_run / 1e6;
  s.first_exit_ms = info.ns_to_first_exit / 1e6;
  s.first_byte_ms = info.ns_to_first_serial / 1e6;
  s.total_ms = info.ns_total / 1e6;
  s.maxrss_kib = ru.ru_maxrss;
  s.ok = true;
  return s;
}

/* ---- qemu ---------------------------------------------------------------- */

static struct sample qemu_once(const char *guest, const char *machine) {
  struct sample s = {0};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return s;
  char mem[16];
  snprintf(mem, sizeof mem, "%d", GUEST_MIB);
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 2);
    execlp(QEMU, QEMU, "-M", machine, "-m", mem, "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-no-reboot", "-kernel",
           guest, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return s;
  }
  s.fork_to_byte_ms = first_byte_ms(fds[0], t0);
  s.ok = s.fork_to_byte_ms >= 0;
  kill(pid, SIGKILL); /* the byte is what we wait for; its reset does not
                         end microvm, which has no i8042 */
  close(fds[0]);
  struct rusage ru;
  int status;
  if (wait4(pid, &status, 0, &ru) < 0)
    s.ok = false;
  s.maxrss_kib = ru.ru_maxrss;
  return s;
}

/* ---- report -------------------------------------------------------------- */

typedef struct sample (*runner)(const char *guest, const char *machine);

static struct sample hull_runner(const char *guest, const char *machine) {
  (void)machine;
  return hull_once(guest);
}

/* Medians of n runs; false when a run fails. */
static bool measure(runner run, const char *guest, const char *machine, int n,
                    struct sample *med) {
  double first_run[n], first_exit[n], first_byte[n], total[n], rss[n];
  double from_fork[n];
  for (int i = 0; i < n; i++) {
    struct sample s = run(guest, machine);
    if (!s.ok)
      return false;
    first_run[i] = s.first_run_ms;
    first_exit[i] = s.first_exit_ms;
    first_byte[i] = s.first_byte_ms;
    total[i] = s.total_ms;
    from_fork[i] = s.fork_to_byte_ms;
    rss[i] = (double)s.maxrss_kib;
  }
  *med = (struct sample){.first_run_ms = median(first_run, n),
                         .first_exit_ms = median(first_exit, n),
                         .first_byte_ms = median(first_byte, n),
                         .total_ms = median(total, n),
                         .fork_to_byte_ms = median(from_fork, n),
                         .maxrss_kib = (long)median(rss, n),
                         .ok = true};
  return true;
}

static void report_qemu(const char *guest, const char *machine, int n) {
  const char *accels[] = {"kvm", "tcg"};
  for (size_t i = 0; i < 2; i++) {
    char m[64];
    snprintf(m, sizeof m, "%s,accel=%s", machine, accels[i]);
    struct sample s;
    /* One try first, so a machine that cannot use kvm here costs one
     * timeout, not n. */
    struct sample probe = qemu_once(guest, m);
    if (!probe.ok || !measure(qemu_once, guest, m, n, &s)) {
      printf("qemu -M %-18s  no UART byte within %d s\n", m,
             QEMU_WAIT_MS / 1000);
      continue;
    }
    printf("qemu -M %-18s  fork to first UART byte %8.2f ms, peak RSS %6ld "
           "KiB\n",
           m, s.fork_to_byte_ms, s.maxrss_kib);
    return;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: vmm-bench GUEST_ELF [RUNS]\n");
    return 2;
  }
  const char *guest = argv[1];
  int n = argc > 2 ? atoi(argv[2]) : 10;
  if (n < 1 || n > 1000)
    n = 10;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("guest %s, %d MiB, medians of %d runs\n", guest, GUEST_MIB, n);
  struct sample s;
  if (!measure(hull_runner, guest, NULL, n, &s)) {
    printf("hull built-in VMM: FAILED (see above)\n");
  } else {
    printf("hull built-in VMM           fork to first UART byte %8.2f ms, peak "
           "RSS %6ld KiB\n"
           "  inside vm_run(): setup to first KVM_RUN %.2f ms, first exit "
           "%.2f ms, first UART byte %.2f ms, reset and teardown at %.2f ms\n",
           s.fork_to_byte_ms, s.maxrss_kib, s.first_run_ms, s.first_exit_ms,
           s.first_byte_ms, s.total_ms);
  }
  report_qemu(guest, "microvm", n);
  report_qemu(guest, "pc", n);
  return 0;
}
