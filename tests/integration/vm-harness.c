/* vm-harness.c — see vm-harness.h. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
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

void vm_make_sparse(const char *path, off_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, size), 0);
  close(fd);
}

void vm_expect_one_line(const char *err, const char *part) {
  ck_assert_msg(err && hcontains(err, part), "%s", err);
  ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1,
                "more than one line: %s", err);
}

void vm_readonly_root_refuses_writes(const char *kernel,
                                     const char *share_annotation,
                                     const char *probe,
                                     const char *probe_out) {
  struct hctx *c = hctx_new();
  cleanup_free char *data = xasprintf("%s/data", c->dir);
  ck_assert_int_eq(mkdir(data, 0755), 0);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/new/dir\", \"type\": \"bind\", \"source\": "
      "\"%s\", \"options\": [\"rbind\"]}", data);
  cleanup_free char *vm = vm_annotations(kernel, share_annotation);
  cleanup_free char *args = xasprintf(
      "\"/bin/sh\", \"-c\", \"%secho x >/data-here; "
      "touch /new/dir/ok && echo made\"", probe);
  hctx_write_config(c, &(struct hconfig){.args = args,
                                         .readonly_root = true,
                                         .mounts_extra = mounts,
                                         .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("%smade\n", probe_out);
  ck_assert_str_eq(r.out, want);
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  cleanup_free char *refused = xasprintf("%s/data-here", c->rootfs);
  ck_assert_int_ne(access(refused, F_OK), 0);
  cleanup_free char *ok = xasprintf("%s/ok", data);
  ck_assert_int_eq(access(ok, F_OK), 0);
  hctx_finish(c);
}

struct hres vexec(struct hctx *c, const char *user, const char *script) {
  if (user)
    return vrun(c, 60000, "exec", "--user", user, c->id, "/bin/sh", "-c",
                script, NULL);
  return vrun(c, 60000, "exec", c->id, "/bin/sh", "-c", script, NULL);
}
