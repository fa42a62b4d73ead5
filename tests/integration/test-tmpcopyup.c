/* test-tmpcopyup.c — runc's `tmpcopyup` mount option, which podman adds to
 * `--tmpfs` and `--read-only` tmpfs mounts: the tmpfs starts with a copy of
 * what the rootfs has at the destination (files, directories, symlinks,
 * special files, modes, owners), and the rootfs itself is left alone. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define H "/bin/hull-test-helper "

/* The per-test rootfs's /etc gains a subdirectory, a private file, a file
 * owned by uid 1000 (+ id_base; group 0, so root without
 * CAP_DAC_OVERRIDE reads it), a FIFO, a relative symlink and a symlink
 * to an absolute path that exists on the host (outside), which the copy must
 * recreate as a symlink, never follow. */
static char *populate_etc(struct hctx *c, uid_t id_base) {
  cleanup_free char *sub = xasprintf("%s/etc/sub", c->rootfs);
  ck_assert_int_eq(mkdir(sub, 0750), 0);
  ck_assert_int_eq(chmod(sub, 0750), 0);
  cleanup_free char *conf = xasprintf("%s/conf", sub);
  hwrite_file(conf, "deep\n", 0640);
  ck_assert_int_eq(chmod(conf, 0640), 0);
  ck_assert_int_eq(chown(conf, id_base + 1000, id_base), 0);
  cleanup_free char *secret = xasprintf("%s/etc/secret", c->rootfs);
  hwrite_file(secret, "s3cret\n", 0600);
  cleanup_free char *fifo = xasprintf("%s/etc/fifo", c->rootfs);
  ck_assert_int_eq(mkfifo(fifo, 0620), 0);
  ck_assert_int_eq(chmod(fifo, 0620), 0);
  cleanup_free char *link = xasprintf("%s/etc/link", c->rootfs);
  ck_assert_int_eq(symlink("passwd", link), 0);

  char *outside = xasprintf("%s/outside", c->dir);
  ck_assert_int_eq(mkdir(outside, 0755), 0);
  cleanup_free char *host_file = xasprintf("%s/hostfile", outside);
  hwrite_file(host_file, "host only\n", 0644);
  cleanup_free char *escape = xasprintf("%s/etc/escape", c->rootfs);
  ck_assert_int_eq(symlink(outside, escape), 0);
  return outside;
}

static const char *etc_tmpfs(const char *options) {
  static char buf[512];
  snprintf(buf, sizeof buf,
           "{\"destination\": \"/etc\", \"type\": \"tmpfs\", \"source\":"
           " \"tmpfs\", \"options\": [%s]}",
           options);
  return buf;
}

/* What the container prints about its /etc; exits non-zero at the first
 * command that fails. SHOW_ETC_ leaves the shell command open for more. */
#define SHOW_ETC_                                                             \
  "\"/bin/sh\", \"-c\", \"" H "mounts && " H "cat /etc/passwd && " H         \
  "cat /etc/sub/conf && " H "cat /etc/secret && " H "readlink /etc/link && " \
  H "cat /etc/link && " H "readlink /etc/escape && " H "stat /etc/escape && " \
  H "stat /etc/sub && " H "stat /etc/sub/conf && " H "stat /etc/secret && "  \
  H "stat /etc/fifo && " H "write /etc/new fresh && " H "cat /etc/new && "   \
  H "write /etc/passwd changed && " H "cat /etc/passwd"
#define SHOW_ETC SHOW_ETC_ "\""

static void check_etc_output(const char *out, const char *outside) {
  ck_assert_msg(hcontains(out, " /etc ") && hcontains(out, " - tmpfs "),
                "no tmpfs on /etc: %s", out);
  ck_assert_msg(hcontains(out, "root:x:0:0:root:/root:/bin/sh\n"), "%s", out);
  ck_assert_msg(hcontains(out, "deep\n"), "%s", out);
  ck_assert_msg(hcontains(out, "s3cret\n"), "%s", out);
  ck_assert_msg(hcontains(out, "passwd\n"), "%s", out);
  cleanup_free char *escape_target = xasprintf("%s\n", outside);
  ck_assert_msg(hcontains(out, escape_target), "%s", out);
  ck_assert_msg(hcontains(out, "type=symlink "), "%s", out);
  ck_assert_msg(hcontains(out, "type=dir mode=0750 "), "%s", out);
  ck_assert_msg(hcontains(out, "type=file mode=0640 rdev=0:0 uid=1000 gid=0"),
                "%s", out);
  ck_assert_msg(hcontains(out, "type=file mode=0600 "), "%s", out);
  ck_assert_msg(hcontains(out, "type=fifo mode=0620 "), "%s", out);
  ck_assert_msg(hcontains(out, "fresh"), "%s", out);
  ck_assert_msg(hcontains(out, "changed"), "%s", out);
}

/* The container's writes went to the tmpfs: the rootfs is as it was, and
 * the host directory behind the absolute symlink was not copied or used. */
static void check_rootfs_unchanged(struct hctx *c, const char *outside) {
  cleanup_free char *passwd_path = xasprintf("%s/etc/passwd", c->rootfs);
  cleanup_free char *passwd = hread_file(passwd_path);
  ck_assert_ptr_nonnull(passwd);
  ck_assert_msg(hcontains(passwd, "root:x:0:0:"), "%s", passwd);
  cleanup_free char *new_path = xasprintf("%s/etc/new", c->rootfs);
  ck_assert_int_ne(access(new_path, F_OK), 0);
  cleanup_free char *host_file = xasprintf("%s/hostfile", outside);
  cleanup_free char *host = hread_file(host_file);
  ck_assert_ptr_nonnull(host);
  ck_assert_str_eq(host, "host only\n");
}

START_TEST(tmpcopyup_copies_the_rootfs_content) {
  struct hctx *c = hctx_new();
  cleanup_free char *outside = populate_etc(c, 0);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = SHOW_ETC,
             .mounts_extra = etc_tmpfs("\"nosuid\", \"nodev\", \"mode=755\","
                                       " \"tmpcopyup\"")});
  ck_assert_hres(r, 0);
  check_etc_output(r.out, outside);
  hres_free(&r);
  check_rootfs_unchanged(c, outside);
  hctx_finish(c);
}
END_TEST

START_TEST(tmpfs_without_tmpcopyup_is_empty) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = "\"/bin/sh\", \"-c\", \"" H "ls /etc && "
                                   H "cat /etc/passwd\"",
                           .mounts_extra = etc_tmpfs("\"nosuid\"")});
  ck_assert_hres(r, 1);
  ck_assert_str_eq(r.out, "");
  ck_assert_msg(hcontains(r.err, "No such file or directory"), "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(tmpcopyup_onto_a_missing_destination) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"" H "stat /opt/new/dir && " H
                     "ls /opt/new/dir && " H "write /opt/new/dir/f x\"",
             .mounts_extra =
                 "{\"destination\": \"/opt/new/dir\", \"type\": \"tmpfs\","
                 " \"source\": \"tmpfs\", \"options\": [\"mode=700\","
                 " \"tmpcopyup\"]}"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "type=dir mode=0700 "), "%s", r.out);
  /* Only the stat line: `ls` found nothing. */
  ck_assert_msg(strchr(r.out, '\n') && strchr(r.out, '\n')[1] == '\0',
                "not empty: %s", r.out);
  hres_free(&r);
  /* The mount point was created in the rootfs, empty. */
  cleanup_free char *dir = xasprintf("%s/opt/new/dir", c->rootfs);
  struct stat st;
  ck_assert_int_eq(stat(dir, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  cleanup_free char *f = xasprintf("%s/f", dir);
  ck_assert_int_ne(access(f, F_OK), 0);
  hctx_finish(c);
}
END_TEST

/* /evil in the rootfs is a symlink to a host directory with content. The
 * destination resolves inside the rootfs, so the copy starts from
 * rootfs/<that path> (created empty), never from the host's directory. */
START_TEST(tmpcopyup_symlinked_destination_copies_nothing_from_the_host) {
  struct hctx *c = hctx_new();
  cleanup_free char *outside = xasprintf("%s/outside", c->dir);
  ck_assert_int_eq(mkdir(outside, 0755), 0);
  cleanup_free char *host_file = xasprintf("%s/hostfile", outside);
  hwrite_file(host_file, "host only\n", 0644);
  cleanup_free char *link = xasprintf("%s/evil", c->rootfs);
  ck_assert_int_eq(symlink(outside, link), 0);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"" H "ls /evil && " H
                     "write /evil/new x\"",
             .mounts_extra =
                 "{\"destination\": \"/evil\", \"type\": \"tmpfs\","
                 " \"source\": \"tmpfs\", \"options\": [\"tmpcopyup\"]}"});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "");
  hres_free(&r);
  cleanup_free char *host_new = xasprintf("%s/new", outside);
  ck_assert_int_ne(access(host_new, F_OK), 0);
  cleanup_free char *host = hread_file(host_file);
  ck_assert_str_eq(host, "host only\n");
  hctx_finish(c);
}
END_TEST

/* podman's `--tmpfs /etc:ro` is a read-only tmpfs with tmpcopyup followed
 * by binds onto /etc/hostname and friends, which the image may not have:
 * the tmpfs turns read-only only after the copy and the later mounts. */
START_TEST(tmpcopyup_read_only_tmpfs_with_mounts_inside) {
  struct hctx *c = hctx_new();
  cleanup_free char *hostname = xasprintf("%s/hostname", c->dir);
  hwrite_file(hostname, "from-the-host\n", 0644);
  cleanup_free char *mounts = xasprintf(
      "%s, {\"destination\": \"/etc/hostname\", \"type\": \"bind\","
      " \"source\": \"%s\", \"options\": [\"rbind\", \"ro\"]}",
      etc_tmpfs("\"ro\", \"nosuid\", \"tmpcopyup\""), hostname);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"" H "mounts && " H
                     "cat /etc/group && " H "cat /etc/hostname && " H
                     "write /etc/new x\"",
             .mounts_extra = mounts});
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.out, "root:x:0:\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "from-the-host\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, " /etc ro,nosuid"), "%s", r.out);
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  /* The mount point went into the tmpfs, not the rootfs. */
  cleanup_free char *in_rootfs = xasprintf("%s/etc/hostname", c->rootfs);
  ck_assert_int_ne(access(in_rootfs, F_OK), 0);
  hctx_finish(c);
}
END_TEST

/* In a user namespace the copies are owned as the container sees the
 * originals: host 101000 is the container's 1000. */
START_TEST(tmpcopyup_in_a_user_namespace) {
  struct hctx *c = hctx_new();
  const uid_t base = 100000;
  cleanup_free char *outside = populate_etc(c, base);
  cleanup_free char *chown_cmd =
      xasprintf("chown -hR %u:%u %s/etc/passwd %s/etc/group %s/etc/secret "
                "%s/etc/sub %s/etc/fifo %s/etc/link %s/etc/escape && "
                "chown %u:%u %s/etc/sub/conf",
                base, base, c->rootfs, c->rootfs, c->rootfs, c->rootfs,
                c->rootfs, c->rootfs, c->rootfs, base + 1000, base,
                c->rootfs);
  ck_assert_int_eq(system(chown_cmd), 0);
  /* Owned by the host's root, which the namespace does not map: copied, and
   * owned by the container's root (an unmapped owner cannot be set). */
  cleanup_free char *unmapped = xasprintf("%s/etc/unmapped", c->rootfs);
  hwrite_file(unmapped, "nobody's\n", 0644);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = SHOW_ETC_ " && " H "cat /etc/unmapped\"",
             .mounts_extra = etc_tmpfs("\"nosuid\", \"nodev\", \"tmpcopyup\""),
             .namespaces = USERNS_NAMESPACES,
             .linux_extra =
                 USERNS_MAPS_100000});
  ck_assert_hres(r, 0);
  check_etc_output(r.out, outside);
  ck_assert_msg(hcontains(r.out, "type=file mode=0600 rdev=0:0 uid=0 gid=0"),
                "%s", r.out);
  ck_assert_msg(hcontains(r.out, "nobody's\n"), "%s", r.out);
  hres_free(&r);
  check_rootfs_unchanged(c, outside);
  hctx_finish(c);
}
END_TEST

/* Extended attributes come along (runc 1.1 drops them). trusted.*, which
 * every tmpfs takes; the helper cannot read xattrs, so the test looks at
 * the created container's /etc from the host, through /proc/PID/root. */
START_TEST(tmpcopyup_copies_xattrs) {
  struct hctx *c = hctx_new();
  cleanup_free char *passwd = xasprintf("%s/etc/passwd", c->rootfs);
  SKIP_UNLESS(setxattr(passwd, "trusted.hull-test", "kept", 4, 0) == 0,
              "the rootfs takes no trusted.* xattrs");
  hctx_write_config(c, &(struct hconfig){
                           .args = HELPER("exit", "0"),
                           .mounts_extra = etc_tmpfs("\"tmpcopyup\"")});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "created");
  cleanup_free char *inside = xasprintf("/proc/%d/root/etc/passwd", (int)pid);
  char value[16] = {0};
  ssize_t n = getxattr(inside, "trusted.hull-test", value, sizeof(value) - 1);
  ck_assert_msg(n == 4, "getxattr `%s`: %s", inside, strerror(errno));
  ck_assert_str_eq(value, "kept");
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

/* podman and containerd may look the option up before using it. */
START_TEST(features_lists_tmpcopyup) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "features", NULL);
  ck_assert_hres(r, 0);
  const char *opts = strstr(r.out, "\"mountOptions\"");
  ck_assert_ptr_nonnull(opts);
  const char *end = strchr(opts, ']');
  const char *found = strstr(opts, "\"tmpcopyup\"");
  ck_assert_msg(found && end && found < end, "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *tmpcopyup_suite(void) {
  Suite *s = suite_create("integration-tmpcopyup");
  TCase *tc = harness_tcase("tmpcopyup", 60);
  tcase_add_test(tc, tmpcopyup_copies_the_rootfs_content);
  tcase_add_test(tc, tmpfs_without_tmpcopyup_is_empty);
  tcase_add_test(tc, tmpcopyup_onto_a_missing_destination);
  tcase_add_test(tc, tmpcopyup_symlinked_destination_copies_nothing_from_the_host);
  tcase_add_test(tc, tmpcopyup_read_only_tmpfs_with_mounts_inside);
  tcase_add_test(tc, tmpcopyup_in_a_user_namespace);
  tcase_add_test(tc, tmpcopyup_copies_xattrs);
  tcase_add_test(tc, features_lists_tmpcopyup);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(tmpcopyup_suite)
