/* qemu.c — the qemu backend (vm.hypervisor.path names a
 * qemu-system-x86_64): a `pc` machine with no default devices, the guest's
 * console (ttyS0) in <state dir>/console.log and the agent channel on its
 * second UART (ttyS1) over the socket fd the monitor hands it.
 *
 * Acceleration is TCG: /dev/kvm is used by the built-in VMM, and where it
 * can boot Linux a user asks qemu for it with `-accel kvm` in
 * vm.hypervisor.parameters (which then replaces our accel=). */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void push(char ***v, size_t *n, char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

static bool params_have(char *const *params, const char *a, const char *b) {
  for (size_t i = 0; params && params[i]; i++) {
    const char *p = params[i];
    /* qemu takes both -opt and --opt */
    if (p[0] == '-' && p[1] == '-')
      p++;
    if (strcmp(p, a) == 0 || (b && strcmp(p, b) == 0))
      return true;
  }
  return false;
}

char **qemu_argv(const struct vm_boot *b) {
  const struct vm_settings *s = b->settings;
  char **v = NULL;
  size_t n = 0;
  push(&v, &n, xstrdup(s->hypervisor));
  char *const *user = s->hypervisor_params;
  if (!params_have(user, "-M", "-machine")) {
    push(&v, &n, xstrdup("-M"));
    push(&v, &n, xstrdup(params_have(user, "-accel", NULL) ? "pc"
                                                           : "pc,accel=tcg"));
  }
  const char *fixed[] = {"-nodefaults", "-no-user-config", "-display", "none",
                         "-monitor", "none", "-no-reboot"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    push(&v, &n, xstrdup(fixed[i]));
  push(&v, &n, xstrdup("-m"));
  push(&v, &n, xasprintf("%lluM",
                         (unsigned long long)(s->memory_bytes >> 20)));
  push(&v, &n, xstrdup("-smp"));
  push(&v, &n, xasprintf("%u", s->vcpus));
  push(&v, &n, xstrdup("-kernel"));
  push(&v, &n, xstrdup(b->kernel));
  push(&v, &n, xstrdup("-initrd"));
  push(&v, &n, xstrdup(b->initrd));
  push(&v, &n, xstrdup("-append"));
  push(&v, &n, xstrdup(b->cmdline));
  push(&v, &n, xstrdup("-chardev"));
  push(&v, &n, xasprintf("file,id=con,path=%s", b->console_log));
  push(&v, &n, xstrdup("-serial"));
  push(&v, &n, xstrdup("chardev:con"));
  push(&v, &n, xstrdup("-chardev"));
  push(&v, &n, xasprintf("socket,id=agent,fd=%d", b->agent_fd));
  push(&v, &n, xstrdup("-serial"));
  push(&v, &n, xstrdup("chardev:agent"));
  for (size_t i = 0; user && user[i]; i++)
    push(&v, &n, xstrdup(user[i]));
  return v;
}

int vm_backend_child_setup(const struct vm_boot *b, hull_error_t *err) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    return hull_error(err, errno, "PR_SET_PDEATHSIG");
  /* The monitor may have died between fork and prctl. */
  if (getppid() == 1)
    return hull_error(err, 0, "the VM monitor is gone");
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return hull_error(err, errno, "open /dev/null");
  if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(b->stderr_fd, 2) < 0)
    return hull_error(err, errno, "dup2 the hypervisor's stdio");
  int keep[] = {b->agent_fd};
  close_fds_except(3, keep, 1);
  if (set_cloexec(b->agent_fd, false) < 0)
    return hull_error(err, errno, "fcntl agent fd");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  return 0;
}

int qemu_start(const struct vm_boot *b, pid_t *pid, hull_error_t *err) {
  cleanup_strv char **argv = qemu_argv(b);
  pid_t child = fork();
  if (child < 0)
    return hull_error(err, errno, "fork the hypervisor");
  if (child == 0) {
    hull_error_t e = NULL;
    if (vm_backend_child_setup(b, &e) < 0) {
      dprintf(2, "%s\n", e->msg);
      _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    dprintf(2, "exec `%s`: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  *pid = child;
  return 0;
}
