/* vm-harness.c — see vm-harness.h. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"

#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *vm_host_kernel(void) {
  glob_t g;
  if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
    return NULL;
  char *k = xstrdup(g.gl_pathv[g.gl_pathc - 1]);
  globfree(&g);
  return k;
}

char *vm_own_kernel(void) {
  const char *k = getenv("HULL_GUEST_KERNEL");
  return k && *k && access(k, R_OK) == 0 ? xstrdup(k) : NULL;
}

char *vm_test_kernel(void) {
  const char *pass = getenv("HULL_TEST_KERNEL");
  if (pass && strcmp(pass, "debian") == 0)
    return vm_host_kernel();
  char *k = vm_own_kernel();
  return k ? k : vm_host_kernel();
}

bool vm_in_test_vm(void) {
  cleanup_free char *cmdline = hread_file("/proc/cmdline");
  return cmdline && (strstr(cmdline, "hull_vm") || strstr(cmdline, "vm-agent"));
}

char *vm_annotations(const char *kernel, const char *extra) {
  cleanup_free char *k =
      kernel ? xasprintf(", \"run.oci.vm.kernel\": \"%s\"", kernel)
             : xstrdup("");
  return xasprintf("\"annotations\": {\"run.oci.handler\": \"vm\", "
                   "\"run.oci.vm.hypervisor\": \"%s\"%s%s%s}",
                   QEMU, k, extra ? ", " : "", extra ? extra : "");
}

struct hres vrun(struct hctx *c, int timeout_ms, ...) {
  char *args[32];
  int n = 0;
  va_list ap;
  va_start(ap, timeout_ms);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && n < 31)
    args[n++] = (char *)a;
  va_end(ap);
  args[n] = NULL;
  return hrun_argv(c, c->root, args, timeout_ms);
}
