/* test-mounts.c — the container's file system: mounts with options, binds,
 * symlinked destinations that must stay inside the rootfs, /dev, custom
 * devices, masked and read-only paths, --no-pivot, rootfsPropagation. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The mountinfo line (from the helper's `mounts`) whose mount point is
 * target, copied; fails the test when there is none. */
static char *mount_line(const char *mountinfo, const char *target) {
  cleanup_free char *needle = xasprintf(" %s ", target);
  for (const char *l = mountinfo; l && *l;) {
    const char *end = strchr(l, '\n');
    size_t len = end ? (size_t)(end - l) : strlen(l);
    cleanup_free char *line = xstrndup(l, len);
    /* Field 5 is the mount point: skip four fields, then compare. */
    const char *p = line;
    for (int i = 0; i < 4 && p; i++) {
      p = strchr(p, ' ');
      p = p ? p + 1 : NULL;
    }
    if (p && strncmp(p, target, strlen(target)) == 0 && p[strlen(target)] == ' ')
      return take_ptr(line);
    l = end ? end + 1 : NULL;
  }
  ck_abort_msg("no mount at %s in:\n%s", target, mountinfo);
  return NULL;
}

START_TEST(tmpfs_with_options) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper mounts &&"
                     " /bin/hull-test-helper stat /mnt/t\"",
             .mounts_extra = "{\"destination\": \"/mnt/t\", \"type\": \"tmpfs\","
                             " \"source\": \"tmpfs\", \"options\": [\"nosuid\","
                             " \"noexec\", \"nodev\", \"size=1m\", \"mode=1750\"]}"});
  ck_assert_hres(r, 0);
  cleanup_free char *line = mount_line(r.out, "/mnt/t");
  ck_assert_msg(hcontains(line, "nosuid"), "%s", line);
  ck_assert_msg(hcontains(line, "noexec"), "%s", line);
  ck_assert_msg(hcontains(line, "nodev"), "%s", line);
  ck_assert_msg(hcontains(line, " - tmpfs "), "%s", line);
  ck_assert_msg(hcontains(line, "size=1024k"), "%s", line);
  ck_assert_msg(hcontains(line, "mode=1750"), "%s", line);
  ck_assert_msg(hcontains(r.out, "type=dir mode=1750 "), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static char *make_host_dir(struct hctx *c, const char *name) {
  char *dir = xasprintf("%s/%s", c->dir, name);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  cleanup_free char *file = xasprintf("%s/hello", dir);
  hwrite_file(file, "from the host\n", 0644);
  return dir;
}

START_TEST(bind_mount_is_read_write) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = make_host_dir(c, "shared");
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/mnt/b\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", src);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper cat"
                     " /mnt/b/hello && /bin/hull-test-helper write /mnt/b/back"
                     " from-container\"",
             .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "from the host\n");
  hres_free(&r);
  cleanup_free char *back_path = xasprintf("%s/back", src);
  cleanup_free char *back = hread_file(back_path);
  ck_assert_ptr_nonnull(back);
  ck_assert_str_eq(back, "from-container");
  hctx_finish(c);
}
END_TEST

START_TEST(ro_bind_mount_refuses_writes) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = make_host_dir(c, "shared");
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/mnt/b\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\", \"ro\"]}", src);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper cat"
                     " /mnt/b/hello && /bin/hull-test-helper write /mnt/b/back x\"",
             .mounts_extra = mounts});
  ck_assert_hres(r, 1);
  ck_assert_str_eq(r.out, "from the host\n");
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  cleanup_free char *back_path = xasprintf("%s/back", src);
  ck_assert_int_ne(access(back_path, F_OK), 0);
  hctx_finish(c);
}
END_TEST

/* /evil in the rootfs is a symlink to an absolute host path. The mount must
 * follow it as if the rootfs were /, landing at rootfs/<that path>, never
 * at the host's own directory. */
START_TEST(symlinked_destination_stays_in_rootfs) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = make_host_dir(c, "source");
  cleanup_free char *victim = xasprintf("%s/victim", c->dir);
  ck_assert_int_eq(mkdir(victim, 0755), 0);
  cleanup_free char *link = xasprintf("%s/evil", c->rootfs);
  ck_assert_int_eq(symlink(victim, link), 0);

  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/evil\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", src);
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("cat", "/evil/hello"),
                           .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "from the host\n");
  hres_free(&r);

  /* The mount point was made inside the rootfs ... */
  cleanup_free char *inside = xasprintf("%s%s", c->rootfs, victim);
  struct stat st;
  ck_assert_msg(stat(inside, &st) == 0 && S_ISDIR(st.st_mode),
                "%s was not created", inside);
  /* ... and the host directory is as it was: empty. */
  DIR *d = opendir(victim);
  ck_assert_ptr_nonnull(d);
  struct dirent *de;
  int entries = 0;
  while ((de = readdir(d)) != NULL)
    entries += de->d_name[0] != '.';
  closedir(d);
  ck_assert_int_eq(entries, 0);
  hctx_finish(c);
}
END_TEST

START_TEST(default_devices) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"for d in null zero full random"
                     " urandom tty; do /bin/hull-test-helper stat /dev/$d; done;"
                     " for l in ptmx fd stdin stdout stderr; do"
                     " /bin/hull-test-helper readlink /dev/$l; done;"
                     " /bin/hull-test-helper stat /dev/pts/ptmx\""});
  ck_assert_hres(r, 0);
  const char *want[] = {
      "type=char mode=0666 rdev=1:3 ",  "type=char mode=0666 rdev=1:5 ",
      "type=char mode=0666 rdev=1:7 ",  "type=char mode=0666 rdev=1:8 ",
      "type=char mode=0666 rdev=1:9 ",  "type=char mode=0666 rdev=5:0 ",
      "\npts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n"
      "/proc/self/fd/2\n",
      "type=char mode=0666 rdev=5:2 "};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_msg(hcontains(r.out, want[i]), "want %s in:\n%s", want[i], r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(linux_devices_are_created) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper stat"
                     " /dev/mynull && /bin/hull-test-helper write /dev/mynull x\"",
             .linux_extra = "\"devices\": [{\"path\": \"/dev/mynull\", \"type\": \"c\","
                            " \"major\": 1, \"minor\": 3, \"fileMode\": 416,"
                            " \"uid\": 0, \"gid\": 0}]"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "type=char mode=0640 rdev=1:3 uid=0 gid=0"),
                "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* A masked file reads as /dev/null and a masked directory is empty. Masked
 * paths that this kernel lacks (often /proc/kcore) must not fail the run. */
START_TEST(masked_paths_read_as_empty) {
  const char *candidates[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list"};
  const char *file = NULL;
  for (size_t i = 0; i < 3 && !file; i++)
    if (access(candidates[i], F_OK) == 0)
      file = candidates[i];
  ck_assert_msg(file != NULL, "no maskable /proc file on this host");

  struct hctx *c = hctx_new();
  cleanup_free char *args = xasprintf(
      "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper stat %s"
      " && /bin/hull-test-helper cat %s && echo end &&"
      " /bin/hull-test-helper ls /sys/firmware && echo end2\"", file, file);
  struct hres r = hrun_config(c, &(struct hconfig){.args = args});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "type=char mode=0666 rdev=1:3 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "\nend\nend2\n"), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(readonly_paths_refuse_writes) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("write", "/proc/sys/kernel/hostname", "nope")});
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Writes cfg with every `from` in its JSON text replaced by `to`. */
static void write_config_replacing(struct hctx *c, const struct hconfig *cfg,
                                   const char *from, const char *to) {
  char *json = hconfig_json(cfg);
  ck_assert_msg(strstr(json, from) != NULL, "`%s` not in config:\n%s", from,
                json);
  /* `to` may contain `from`: search on after each replacement. */
  for (size_t off = 0; strstr(json + off, from) != NULL;) {
    size_t at = (size_t)(strstr(json + off, from) - json);
    char *edited = xasprintf("%.*s%s%s", (int)at, json, to,
                             json + at + strlen(from));
    free(json);
    json = edited;
    off = at + strlen(to);
  }
  hctx_write_config_raw(c, json);
  free(json);
}

/* --no-pivot leaves the old root in the mount namespace under the rootfs;
 * its whole /proc would let a process that gains CAP_SYS_ADMIN in a new user
 * namespace mount an unmasked procfs. As with runc the mount is refused.
 * (CAP_SETFCAP, docker's default, lets the helper map its own ids.) */
START_TEST(no_pivot_refuses_a_fresh_proc) {
  struct hctx *c = hctx_new();
  write_config_replacing(
      c, &(struct hconfig){.args = HELPER("userns-mount", "proc", "/tmp")},
      "\"CAP_KILL\"", "\"CAP_KILL\", \"CAP_SETFCAP\"");
  struct hres r = hrun(c, "run", "--no-pivot", "--bundle", c->bundle, c->id,
                       NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "userns-mount /tmp: Operation not permitted"),
                "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(no_pivot_still_changes_root) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.args = HELPER("ls", "/")});
  struct hres r = hrun(c, "run", "--no-pivot", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "bin\n") && hcontains(r.out, "etc\n"), "%s", r.out);
  ck_assert_msg(!hcontains(r.out, "work\n") && !hcontains(r.out, "usr\n"), "%s",
                r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static char *root_mount_line(struct hctx *c, const char *propagation) {
  cleanup_free char *extra = xasprintf("\"rootfsPropagation\": \"%s\"", propagation);
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("mounts"), .linux_extra = extra});
  ck_assert_hres(r, 0);
  char *line = mount_line(r.out, "/");
  hres_free(&r);
  return line;
}

START_TEST(rootfs_propagation_private) {
  struct hctx *c = hctx_new();
  cleanup_free char *line = root_mount_line(c, "private");
  ck_assert_msg(!hcontains(line, "shared:") && !hcontains(line, "master:"), "%s",
                line);
  hctx_finish(c);
}
END_TEST

/* runc applies the flag to the old root before pivot_root and makes the
 * rootfs's parent private, so the new root carries no "shared:" tag here;
 * what matters is that it runs and nothing propagates back to the host
 * (hctx_finish checks the host's mount table). */
START_TEST(rootfs_propagation_shared) {
  struct hctx *c = hctx_new();
  cleanup_free char *line = root_mount_line(c, "shared");
  ck_assert_ptr_nonnull(line);
  hctx_finish(c);
}
END_TEST

START_TEST(rootfs_propagation_slave) {
  struct hctx *c = hctx_new();
  cleanup_free char *line = root_mount_line(c, "slave");
  ck_assert_msg(!hcontains(line, "shared:"), "%s", line);
  hctx_finish(c);
}
END_TEST


/* runc 1.1 refuses "unbindable" (the rootfs cannot be bound onto itself
 * once / is unbindable); the spec allows it, so the flag goes onto the
 * container's / after the bind. */
START_TEST(rootfs_propagation_unbindable) {
  struct hctx *c = hctx_new();
  cleanup_free char *line = root_mount_line(c, "unbindable");
  ck_assert_msg(hcontains(line, " unbindable "), "%s", line);
  hctx_finish(c);
}
END_TEST


/* A proc or sysfs mount onto a symlink could be pointed anywhere: refused
 * with runc's words, and the symlink's target is not created. */
static void check_special_fs_on_symlink(const char *dir, const char *type) {
  struct hctx *c = hctx_new();
  cleanup_free char *real = xasprintf("%s/%s", c->rootfs, dir);
  cleanup_free char *moved = xasprintf("%s/%s.real", c->rootfs, dir);
  ck_assert_int_eq(rename(real, moved), 0);
  ck_assert_int_eq(symlink("/x", real), 0);
  hctx_write_config(c, &(struct hconfig){0});
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 1);
  /* The log's text format escapes the quotes. */
  cleanup_free char *want = xasprintf(
      "destination `/%s`: filesystem \\\"%s\\\" must be mounted on "
      "ordinary directory", dir, type);
  ck_assert_msg(hcontains(r.err, want), "want %s in: %s", want, r.err);
  hres_free(&r);
  cleanup_free char *x = xasprintf("%s/x", c->rootfs);
  ck_assert_msg(access(x, F_OK) != 0, "%s was created", x);
  hctx_finish(c);
}

START_TEST(proc_on_a_symlink_is_refused) { check_special_fs_on_symlink("proc", "proc"); }
END_TEST

START_TEST(sysfs_on_a_symlink_is_refused) { check_special_fs_on_symlink("sys", "sysfs"); }
END_TEST

/* /dev mounted "ro": the devices are made first, then /dev turns
 * read-only. */
START_TEST(readonly_dev_has_devices) {
  struct hctx *c = hctx_new();
  write_config_replacing(
      c,
      &(struct hconfig){
          .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper stat /dev/null"
                  " && /bin/hull-test-helper cat /dev/null && echo read &&"
                  " /bin/hull-test-helper stat /dev/zero &&"
                  " /bin/hull-test-helper touch /dev/new\""},
      "\"mode=755\", \"size=65536k\"]", "\"mode=755\", \"size=65536k\", \"ro\"]");
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.out, "type=char mode=0666 rdev=1:3 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "\nread\ntype=char mode=0666 rdev=1:5 "), "%s",
                r.out);
  ck_assert_msg(hcontains(r.err, "touch /dev/new: Read-only file system"), "%s",
                r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST


/* ---- idmapped mounts ---------------------------------------------------- */

static bool write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  close(fd);
  return ok;
}

/* Whether the file system under dir takes an idmapping: a detached copy of
 * it is given one with a user namespace mapping 0 to 1, as hull would. */
static bool fs_supports_idmap(const char *dir) {
  int gate[2], ready[2];
  ck_assert_int_eq(pipe(gate), 0);
  ck_assert_int_eq(pipe(ready), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    char byte;
    close(gate[1]);
    close(ready[0]);
    if (unshare(CLONE_NEWUSER) < 0)
      _exit(1);
    close(ready[1]);
    (void)!read(gate[0], &byte, 1); /* until the parent is done */
    _exit(0);
  }
  close(gate[0]);
  close(ready[1]);
  char byte;
  (void)!read(ready[0], &byte, 1); /* EOF once the child unshared */
  close(ready[0]);
  cleanup_free char *uid_map = xasprintf("/proc/%d/uid_map", (int)child);
  cleanup_free char *gid_map = xasprintf("/proc/%d/gid_map", (int)child);
  cleanup_free char *ns = xasprintf("/proc/%d/ns/user", (int)child);
  bool mapped = write_text(uid_map, "0 1 1\n") && write_text(gid_map, "0 1 1\n");
  int userns = mapped ? open(ns, O_RDONLY | O_CLOEXEC) : -1;
  int tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                            .userns_fd = (uint64_t)userns};
  bool ok = userns >= 0 && tree >= 0 &&
            mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0;
  close(gate[1]);
  waitpid(child, NULL, 0);
  if (tree >= 0)
    close(tree);
  if (userns >= 0)
    close(userns);
  return ok;
}

#define NO_IDMAP_HERE                                                         \
  "the test dir's file system takes no idmapped mounts (tmpfs has them from " \
  "Linux 6.3)"

/* A directory with a file owned by host uid/gid 1000. */
static char *make_owned_dir(struct hctx *c) {
  char *dir = xasprintf("%s/owned", c->dir);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  cleanup_free char *file = xasprintf("%s/file", dir);
  hwrite_file(file, "x", 0644);
  ck_assert_int_eq(chown(file, 1000, 1000), 0);
  return dir;
}

/* A file owned by 1000 on disk shows as the mapping's hostID. */
START_TEST(idmapped_mount_maps_owners) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = make_owned_dir(c);
  SKIP_UNLESS(fs_supports_idmap(src), NO_IDMAP_HERE);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/mnt/owned\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\", \"idmap\"],"
      " \"uidMappings\": [{\"containerID\": 1000, \"hostID\": 2000, \"size\": 1}],"
      " \"gidMappings\": [{\"containerID\": 1000, \"hostID\": 3000, \"size\": 1}]}",
      src);
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("stat", "/mnt/owned/file"),
                           .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=2000 gid=3000 "), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* "idmap" alone takes the container's user namespace's maps, so a host
 * file shows with its own ids inside instead of as nobody. */
START_TEST(idmap_takes_the_container_maps) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = make_owned_dir(c);
  SKIP_UNLESS(fs_supports_idmap(src), NO_IDMAP_HERE);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/tmp/owned\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\", \"idmap\"]}", src);
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("stat", "/tmp/owned/file"),
             .namespaces = USERNS_NAMESPACES,
             .linux_extra =
                 USERNS_MAPS_100000,
             .mounts_extra = mounts});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=1000 gid=1000 "), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST


/* features-linux.md: linux.mountExtensions.idmap.enabled, and the options. */
START_TEST(features_report_idmap) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "features", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "\"mountExtensions\": {\n      \"idmap\": {\n"
                                 "        \"enabled\": true"),
                "%s", r.out);
  ck_assert_msg(hcontains(r.out, "\"idmap\",\n") &&
                    hcontains(r.out, "\"ridmap\"\n"), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static void check_idmap_refused(const char *mount, const char *want) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.mounts_extra = mount});
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, want), "want %s in: %s", want, r.err);
  hres_free(&r);
  hctx_finish(c);
}

/* runc 1.2's refusals (mounts[6]: the harness has six mounts before). */
START_TEST(idmap_refuses_what_runc_refuses) {
  check_idmap_refused(
      "{\"destination\": \"/mnt/t\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
      " \"options\": [\"idmap\"],"
      " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}],"
      " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}",
      ".mounts[6]: id-mapped mounts are only supported for bind-mounts");
  check_idmap_refused(
      "{\"destination\": \"/mnt/b\", \"type\": \"bind\", \"source\": \"/tmp\","
      " \"options\": [\"rbind\"],"
      " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}",
      ".mounts[6]: id-mapped mounts must have both uid and gid mappings "
      "specified");
  check_idmap_refused(
      "{\"destination\": \"/mnt/b\", \"type\": \"bind\", \"source\": \"/tmp\","
      " \"options\": [\"rbind\", \"ridmap\"]}",
      ".mounts[6]: id-mapped mounts must have both uid and gid mappings "
      "specified");
}
END_TEST


/* With a user namespace the runtime opens bind sources for the init (see
 * test-namespaces.c); the mounts under an rbind must stay locked as they
 * are in the namespace's copy of the host's mounts, so that the container's
 * root cannot unmount one to see what the host covered. */
START_TEST(user_namespace_rbind_keeps_submounts_locked) {
  struct hctx *c = hctx_new();
  cleanup_free char *src = xasprintf("%s/src", c->dir);
  cleanup_free char *sub = xasprintf("%s/sub", src);
  cleanup_free char *secret = xasprintf("%s/secret", sub);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  hwrite_file(secret, "covered\n", 0644);
  ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=64k"), 0);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/tmp/src\", \"type\": \"bind\", \"source\": \"%s\","
      " \"options\": [\"rbind\"]}", src);
  write_config_replacing(
      c,
      &(struct hconfig){
          .args = "\"/bin/sh\", \"-c\", \"umount /tmp/src/sub;"
                  " /bin/hull-test-helper ls /tmp/src/sub\"",
          .namespaces = USERNS_NAMESPACES,
          .linux_extra =
              USERNS_MAPS_100000,
          .mounts_extra = mounts},
      "\"CAP_KILL\"", "\"CAP_KILL\", \"CAP_SYS_ADMIN\"");
  struct hres r = hrun(c, "run", "--bundle", c->bundle, c->id, NULL);
  umount2(sub, MNT_DETACH);
  ck_assert_hres(r, 0);
  ck_assert_msg(!hcontains(r.out, "secret"), "%s", r.out);
  ck_assert_msg(hcontains(r.err, "Invalid argument"), "%s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *mounts_suite(void) {
  Suite *s = suite_create("integration-mounts");
  TCase *tc = harness_tcase("mounts", 30);
  tcase_add_test(tc, tmpfs_with_options);
  tcase_add_test(tc, bind_mount_is_read_write);
  tcase_add_test(tc, ro_bind_mount_refuses_writes);
  tcase_add_test(tc, symlinked_destination_stays_in_rootfs);
  tcase_add_test(tc, default_devices);
  tcase_add_test(tc, linux_devices_are_created);
  tcase_add_test(tc, masked_paths_read_as_empty);
  tcase_add_test(tc, readonly_paths_refuse_writes);
  tcase_add_test(tc, no_pivot_still_changes_root);
  tcase_add_test(tc, no_pivot_refuses_a_fresh_proc);
  tcase_add_test(tc, rootfs_propagation_private);
  tcase_add_test(tc, rootfs_propagation_shared);
  tcase_add_test(tc, rootfs_propagation_slave);
  tcase_add_test(tc, rootfs_propagation_unbindable);
  tcase_add_test(tc, proc_on_a_symlink_is_refused);
  tcase_add_test(tc, sysfs_on_a_symlink_is_refused);
  tcase_add_test(tc, readonly_dev_has_devices);
  tcase_add_test(tc, idmapped_mount_maps_owners);
  tcase_add_test(tc, idmap_takes_the_container_maps);
  tcase_add_test(tc, idmap_refuses_what_runc_refuses);
  tcase_add_test(tc, features_report_idmap);
  tcase_add_test(tc, user_namespace_rbind_keeps_submounts_locked);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(mounts_suite)
