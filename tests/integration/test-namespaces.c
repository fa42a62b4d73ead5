/* test-namespaces.c — new and joined namespaces, the user namespace with id
 * mappings, hostname/domainname and sysctls inside the new namespaces. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The inode the helper's `ns` output gives for name ("net", "pid", ...). */
static unsigned long ns_inode_in(const char *ns_output, const char *name) {
  cleanup_free char *needle = xasprintf("%s ", name);
  for (const char *l = ns_output; l && *l;) {
    if (strncmp(l, needle, strlen(needle)) == 0)
      return strtoul(l + strlen(needle), NULL, 10);
    l = strchr(l, '\n');
    l = l ? l + 1 : NULL;
  }
  ck_abort_msg("no %s namespace in:\n%s", name, ns_output);
  return 0;
}

static unsigned long ns_inode_of(const char *proc_ns_path) {
  struct stat st;
  ck_assert_msg(stat(proc_ns_path, &st) == 0, "stat %s", proc_ns_path);
  return (unsigned long)st.st_ino;
}

static unsigned long host_ns(const char *name) {
  cleanup_free char *path = xasprintf("/proc/self/ns/%s", name);
  return ns_inode_of(path);
}

START_TEST(new_namespaces_differ_from_the_host) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("ns"),
             .namespaces = "{\"type\": \"pid\"}, {\"type\": \"network\"},"
                           " {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
                           " {\"type\": \"mount\"}, {\"type\": \"cgroup\"}"});
  ck_assert_hres(r, 0);
  const char *fresh[] = {"pid", "net", "ipc", "uts", "mnt", "cgroup"};
  for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++)
    ck_assert_msg(ns_inode_in(r.out, fresh[i]) != host_ns(fresh[i]),
                  "%s namespace is the host's", fresh[i]);
  /* Not asked for: shared with the host. */
  ck_assert_int_eq(ns_inode_in(r.out, "user"), host_ns("user"));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(namespaces_not_listed_are_shared) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("ns"),
                           .hostname = "",
                           .namespaces = "{\"type\": \"mount\"}"});
  ck_assert_hres(r, 0);
  ck_assert_int_ne(ns_inode_in(r.out, "mnt"), host_ns("mnt"));
  const char *shared[] = {"pid", "net", "ipc", "uts", "cgroup", "user"};
  for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
    ck_assert_msg(ns_inode_in(r.out, shared[i]) == host_ns(shared[i]),
                  "%s namespace should be the host's", shared[i]);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Starts a host process in fresh net and uts namespaces and returns its pid
 * once the namespaces exist. */
static pid_t spawn_ns_holder(struct hctx *c) {
  cleanup_free char *helper = xasprintf("%s/bin/hull-test-helper", c->rootfs);
  char *argv[] = {"unshare", "--net", "--uts", helper, "sleep", "30", NULL};
  pid_t pid = hctx_spawn_host(c, argv);
  cleanup_free char *net = xasprintf("/proc/%d/ns/net", (int)pid);
  for (int i = 0; i < 500; i++) {
    struct stat st;
    if (stat(net, &st) == 0 && st.st_ino != host_ns("net"))
      return pid;
    nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
  }
  ck_abort_msg("unshare never made its namespaces");
  return -1;
}

START_TEST(namespace_path_joins_the_target) {
  struct hctx *c = hctx_new();
  pid_t holder = spawn_ns_holder(c);
  cleanup_free char *namespaces = xasprintf(
      "{\"type\": \"pid\"}, {\"type\": \"mount\"},"
      " {\"type\": \"network\", \"path\": \"/proc/%d/ns/net\"},"
      " {\"type\": \"uts\", \"path\": \"/proc/%d/ns/uts\"}",
      (int)holder, (int)holder);
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("ns"),
                                                   .namespaces = namespaces});
  ck_assert_hres(r, 0);
  cleanup_free char *net = xasprintf("/proc/%d/ns/net", (int)holder);
  cleanup_free char *uts = xasprintf("/proc/%d/ns/uts", (int)holder);
  ck_assert_int_eq(ns_inode_in(r.out, "net"), ns_inode_of(net));
  ck_assert_int_eq(ns_inode_in(r.out, "uts"), ns_inode_of(uts));
  ck_assert_int_ne(ns_inode_in(r.out, "net"), host_ns("net"));
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(user_namespace_maps_ids) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper id &&"
                     " /bin/hull-test-helper touch /tmp/owned &&"
                     " /bin/hull-test-helper cat /proc/self/uid_map\"",
             .namespaces = USERNS_NAMESPACES,
             .linux_extra =
                 USERNS_MAPS_100000});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=0\n"), "id inside: %s", r.out);
  ck_assert(hcontains(r.out, "gid=0\n"));
  ck_assert_msg(hcontains(r.out, "100000"), "uid_map: %s", r.out);
  hres_free(&r);

  cleanup_free char *owned = xasprintf("%s/tmp/owned", c->rootfs);
  struct stat st;
  ck_assert_int_eq(stat(owned, &st), 0);
  ck_assert_int_eq(st.st_uid, 100000);
  ck_assert_int_eq(st.st_gid, 100000);
  hctx_finish(c);
}
END_TEST

START_TEST(hostname_is_set) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("hostname"), .hostname = "box-one"});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "box-one\n");
  hres_free(&r);

  char host[256];
  gethostname(host, sizeof host);
  ck_assert_str_ne(host, "box-one");
  hctx_finish(c);
}
END_TEST

/* runc learned "domainname" in 1.2; older ones ignore it. */
START_TEST(domainname_is_set) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("domainname"),
                           .top_extra = "\"domainname\": \"example.test\""});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "example.test\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(sysctl_is_set_in_the_new_namespace) {
  struct hctx *c = hctx_new();
  cleanup_free char *before = hread_file("/proc/sys/net/ipv4/ip_forward");
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("cat", "/proc/sys/net/ipv4/ip_forward"),
             .linux_extra = "\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}"});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "1\n");
  hres_free(&r);
  cleanup_free char *after = hread_file("/proc/sys/net/ipv4/ip_forward");
  ck_assert_str_eq(before, after);
  hctx_finish(c);
}
END_TEST


static const char no_mount_ns[] =
    "{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
    " {\"type\": \"uts\"}";

/* No "mount" in linux.namespaces: the container shares the runtime's mount
 * namespace (as runc allows) yet sees only its rootfs (runc chroots), with
 * its mounts and devices; `run` deletes it, and hctx_finish checks that
 * none of its mounts stayed in the host's table. */
START_TEST(without_mount_namespace_shares_the_runtimes) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper ns &&"
                     " /bin/hull-test-helper ls / && /bin/hull-test-helper"
                     " stat /dev/null && /bin/hull-test-helper cat"
                     " /proc/self/mountinfo\"",
             .namespaces = no_mount_ns,
             .no_masked_paths = true});
  ck_assert_hres(r, 0);
  ck_assert_int_eq(ns_inode_in(r.out, "mnt"), host_ns("mnt"));
  ck_assert_msg(hcontains(r.out, "\nbin\n") && !hcontains(r.out, "\nwork\n"),
                "%s", r.out);
  ck_assert_msg(hcontains(r.out, "type=char mode=0666 rdev=1:3 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, " /proc ") && hcontains(r.out, " /dev/pts "),
                "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* While it exists its mounts are in the host's table (that is what sharing
 * means); delete takes them out. */
START_TEST(without_mount_namespace_delete_unmounts) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .namespaces = no_mount_ns,
                                         .no_masked_paths = true});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  cleanup_free char *mountinfo = hread_file("/proc/self/mountinfo");
  cleanup_free char *proc = xasprintf(" %s/proc ", c->rootfs);
  ck_assert_msg(hcontains(mountinfo, proc), "no %s in:\n%s", proc, mountinfo);
  /* exec enters the same root. */
  hrun_expect(0, c, "start", c->id);
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "ls", "/",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "bin\n") && !hcontains(r.out, "work\n"),
                "%s", r.out);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

START_TEST(without_mount_namespace_masked_paths_are_refused) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.namespaces = no_mount_ns});
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, ".linux.maskedPaths: unable to restrict sys "
                                 "entries without a private MNT namespace"),
                "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST


/* `create` killed while its createRuntime hook runs, the rootfs's mounts in
 * the host's table: `delete` still finds and removes them (state.json
 * recorded the mount the rootfs was on before create mounted anything). */
START_TEST(without_mount_namespace_killed_create_is_cleaned) {
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook-ran", c->dir);
  cleanup_free char *hooks = xasprintf(
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\":"
      " [\"sh\", \"-c\", \"echo $$ > %1$s.tmp && mv %1$s.tmp %1$s;"
      " exec sleep 30\"]}]}", marker);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .namespaces = no_mount_ns,
                                         .no_masked_paths = true,
                                         .top_extra = hooks});
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  bool ran = hwait_file(marker, "\n", 5000);
  kill(b.pid, SIGKILL);
  struct hres r = hbg_wait(&b, 5000);
  ck_assert_msg(ran, "the hook did not run; create said: %s", r.err);
  hres_free(&r);
  cleanup_free char *hook_pid = hread_file(marker);
  ck_assert_int_gt(atoi(hook_pid), 1);
  kill((pid_t)atoi(hook_pid), SIGKILL);
  cleanup_free char *mountinfo = hread_file("/proc/self/mountinfo");
  cleanup_free char *proc = xasprintf(" %s/proc ", c->rootfs);
  ck_assert_msg(hcontains(mountinfo, proc), "no %s in:\n%s", proc, mountinfo);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}
END_TEST

/* A mount namespace joined by path: set up there (runc pivots inside it
 * too, so the holder's root becomes the container's). */
START_TEST(mount_namespace_path_is_joined) {
  struct hctx *c = hctx_new();
  cleanup_free char *helper = xasprintf("%s/bin/hull-test-helper", c->rootfs);
  char *argv[] = {"unshare", "--mount", "--propagation", "private", helper,
                  "sleep", "30", NULL};
  pid_t holder = hctx_spawn_host(c, argv);
  cleanup_free char *mnt = xasprintf("/proc/%d/ns/mnt", (int)holder);
  for (int i = 0; i < 500 && ns_inode_of(mnt) == host_ns("mnt"); i++)
    nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
  ck_assert_int_ne(ns_inode_of(mnt), host_ns("mnt"));
  cleanup_free char *namespaces = xasprintf(
      "{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
      " {\"type\": \"uts\"}, {\"type\": \"mount\", \"path\": \"%s\"}", mnt);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper ns &&"
                     " /bin/hull-test-helper ls /\"",
             .namespaces = namespaces});
  ck_assert_hres(r, 0);
  ck_assert_int_eq(ns_inode_in(r.out, "mnt"), ns_inode_of(mnt));
  ck_assert_msg(hcontains(r.out, "\nbin\n") && !hcontains(r.out, "\nwork\n"),
                "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST


/* A bind source behind a directory only the host's root may enter: the
 * container's root (host uid 100000) could not reach it, so hull opens it
 * before the user namespace, as runc does. */
START_TEST(user_namespace_binds_a_source_it_cannot_reach) {
  struct hctx *c = hctx_new();
  cleanup_free char *private = xasprintf("%s/private", c->dir);
  cleanup_free char *shared = xasprintf("%s/shared", private);
  cleanup_free char *hello = xasprintf("%s/hello", shared);
  ck_assert_int_eq(mkdir(private, 0700), 0);
  ck_assert_int_eq(mkdir(shared, 0755), 0);
  hwrite_file(hello, "from the host\n", 0644);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/tmp/shared\", \"type\": \"bind\", \"source\":"
      " \"%s\", \"options\": [\"rbind\", \"ro\"]}", shared);
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("cat", "/tmp/shared/hello"),
                           .namespaces = USERNS_NAMESPACES,
                           .linux_extra = USERNS_MAPS_100000,
                           .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "from the host\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *namespaces_suite(void) {
  Suite *s = suite_create("integration-namespaces");
  TCase *tc = harness_tcase("namespaces", 30);
  tcase_add_test(tc, new_namespaces_differ_from_the_host);
  tcase_add_test(tc, namespaces_not_listed_are_shared);
  tcase_add_test(tc, namespace_path_joins_the_target);
  tcase_add_test(tc, user_namespace_maps_ids);
  tcase_add_test(tc, hostname_is_set);
  tcase_add_test(tc, domainname_is_set);
  tcase_add_test(tc, sysctl_is_set_in_the_new_namespace);
  tcase_add_test(tc, without_mount_namespace_shares_the_runtimes);
  tcase_add_test(tc, without_mount_namespace_delete_unmounts);
  tcase_add_test(tc, without_mount_namespace_masked_paths_are_refused);
  tcase_add_test(tc, without_mount_namespace_killed_create_is_cleaned);
  tcase_add_test(tc, mount_namespace_path_is_joined);
  tcase_add_test(tc, user_namespace_binds_a_source_it_cannot_reach);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(namespaces_suite)
