/* test-image-run-options.c — the flags of `run --image` and `create --image`
 * as a user sees them inside the container: -e, -t, --hostname,
 * --read-only, --image-volume, --annotation, -p/--network on hull's bridge,
 * `create --image` with start and delete, VM mode from an image (--vm),
 * and bad values refused in one line, leaving nothing. The image and its
 * store: image-fixture.h. */
#include "tests/integration/image-fixture.h"
#include "tests/integration/vm-harness.h"
#include "tests/netns-test.h"
#include "netns/netns.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* Nothing of a container is left: no state, bundle or mount. */
static void assert_no_container(struct hctx *c, const char *store) {
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  ck_assert(!image_mounted_under(store));
}

/* ---- the process ------------------------------------------------------ */

START_TEST(env_hostname_and_image_defaults) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, (char *[]){"--config.env", "FROMIMG=image",
                                  "--config.env", "OVER=image", NULL});
  setenv("HULL_TEST_FROM_HOST", "host-value", 1);
  unsetenv("HULL_TEST_NOT_SET");
  struct hres r = hrun_image(c, store, "--rm", "-e", "A=1", "--env",
                             "OVER=flag", "-e", "HULL_TEST_FROM_HOST", "-e",
                             "HULL_TEST_NOT_SET", "-e", "EQ=a=b",
                             "--hostname", "from-flag", "--",
                             "/bin/sh", "-c", "env; hostname");
  unsetenv("HULL_TEST_FROM_HOST");
  ck_assert_hres(r, 0);
  cleanup_free char *lines = xasprintf("\n%s", r.out);
  const char *want[] = {"\nA=1\n", "\nOVER=flag\n", "\nFROMIMG=image\n",
                        "\nHULL_TEST_FROM_HOST=host-value\n", "\nEQ=a=b\n",
                        "\nfrom-flag\n", NULL};
  for (const char **w = want; *w; w++)
    ck_assert_msg(hcontains(lines, *w), "no %s in: %s", *w, r.out);
  ck_assert_msg(!hcontains(r.out, "HULL_TEST_NOT_SET"), "%s", r.out);
  ck_assert_msg(!hcontains(r.out, "TERM="), "TERM without -t: %s", r.out);
  hres_free(&r);
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

START_TEST(tty_gives_the_process_a_terminal) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres r = hrun_image(c, store, "--rm", "-t", "--", "/bin/sh", "-c",
                             "/bin/hull-test-helper isatty 1; echo T=$TERM");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "yes") && hcontains(r.out, "T=xterm"),
                "with -t: %s", r.out);
  hres_free(&r);
  r = hrun_image(c, store, "--rm", "--", "/bin/hull-test-helper", "isatty",
                 "1");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "no\n");
  hres_free(&r);
  /* Detached, a terminal needs somewhere to go, as runc says. */
  r = hrun_image(c, store, "-d", "-t", "--name", c->id);
  hexpect_one_line_error(r, "cannot allocate tty if hull will detach "
                                 "without setting console socket");
  hres_free(&r);
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

START_TEST(read_only_rootfs_refuses_writes) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres r = hrun_image(c, store, "--rm", "--read-only", "--",
                             "/bin/sh", "-c", "echo x > /etc/new");
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--rm",
              "--", "/bin/sh", "-c", "echo x > /etc/new");
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* The image's Volumes: a tmpfs each (the default), left out (ignore), or
 * binds of directories under DIR that outlive the container. */
START_TEST(image_volume_modes) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, (char *[]){"--config.volume", "/srv/data", NULL});
  const char *probe = "grep ' /srv/data ' /proc/self/mountinfo | "
                      "grep -o ' - [a-z]*'; mkdir -p /srv/data; "
                      "echo kept > /srv/data/f";
  struct hres r = hrun_image(c, store, "--rm", "--", "/bin/sh", "-c", probe);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, " - tmpfs\n");
  hres_free(&r);
  r = hrun_image(c, store, "--rm", "--image-volume", "ignore", "--",
                 "/bin/sh", "-c", probe);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, ""); /* no mount there */
  hres_free(&r);
  cleanup_free char *dir = xasprintf("%s/volumes", c->dir);
  cleanup_free char *bind = xasprintf("bind:%s", dir);
  r = hrun_image(c, store, "--rm", "--image-volume", bind, "--", "/bin/sh",
                 "-c", probe);
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *kept_path = xasprintf("%s/srv/data/f", dir);
  cleanup_free char *kept = hread_file(kept_path);
  ck_assert_msg(kept && strcmp(kept, "kept\n") == 0, "%s: %s", kept_path,
                kept ? kept : "(none)");
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

START_TEST(annotations_reach_the_container) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--name",
              c->id, "--annotation", "com.example.k=v=1", "--", "/bin/true");
  struct hres r = hrun(c, "state", c->id, NULL);
  ck_assert_hres(r, 0);
  const char *path[] = {"annotations", "com.example.k", NULL};
  cleanup_free char *value = hjson_string(r.out, path);
  ck_assert_str_eq(value, "v=1");
  hres_free(&r);
  hrun_expect(0, c, "delete", c->id);
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* ---- create --image ------------------------------------------------------ */

START_TEST(create_image_start_delete) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres cr = hrun(c, "create", "--image", REF, "--image-root", store,
                        "--hostname", "made", c->id, "--",
                        "/bin/hull-test-helper", "hostname", NULL);
  ck_assert_hres(cr, 0);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  cleanup_free char *bundle = xasprintf("%s/containers/%s", store, c->id);
  cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
  ck_assert(image_mounted_under(rootfs));
  /* The id is taken: a second create leaves the first bundle alone. */
  struct hres r = hrun(c, "create", "--image", REF, "--image-root", store,
                       c->id, NULL);
  cleanup_free char *taken = xasprintf("container with id exists: %s", c->id);
  hexpect_one_line_error(r, taken);
  hres_free(&r);
  ck_assert(image_mounted_under(rootfs));

  hrun_expect(0, c, "start", c->id);
  ck_assert(hwait_status(c, c->id, "stopped", 5000));
  /* The process wrote to create's stdout, as with a bundle. */
  ck_assert(hwait_file(cr.out_path, "made\n", 5000));
  hres_free(&cr);
  hrun_expect(0, c, "delete", c->id);
  ck_assert(!exists(bundle));
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* A create that fails after the bundle was made takes the bundle along. */
START_TEST(create_image_failure_leaves_nothing) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres r = hrun(c, "create", "--image", REF, "--image-root", store,
                       c->id, "--", "/nonexistent", NULL);
  hexpect_one_line_error(r, "exec: \\\"/nonexistent\\\": stat "
                                 "/nonexistent: No such file or directory");
  hres_free(&r);
  assert_no_container(c, store);
  r = hrun(c, "create", "--image", REF, "--image-root", store, "-t", c->id,
           NULL);
  hexpect_one_line_error(r, "cannot allocate tty if hull will detach "
                                 "without setting console socket");
  hres_free(&r);
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* ---- bad values ------------------------------------------------------------ */

START_TEST(bad_values_name_the_flag) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  struct { const char *flag, *value, *msg; } bad[] = {
      {"-e", "=1", "invalid value \\\"=1\\\" for flag --env: expected "
                   "KEY=VALUE or KEY"},
      {"--hostname", "", "invalid value \\\"\\\" for flag --hostname: a "
                         "hostname has 1 to 64 bytes"},
      {"--image-volume", "bind:", "invalid value \\\"bind:\\\" for flag "
                                  "--image-volume: expected tmpfs, ignore or "
                                  "bind:DIR"},
      {"--network", "a/b", "invalid value \\\"a/b\\\" for flag --network: "
                           "expected bridge, pasta, slirp4netns, none or a "
                           "network's name (1 to 15 bytes, no '/', ':', '%' "
                           "or space)"},
      {"--network", "host", "invalid value \\\"host\\\" for flag --network: "
                            "the host's network namespace is not for image "
                            "containers (bridge, none or a network's name)"},
      {"-p", "80", "invalid value \\\"80\\\" for flag --publish: \\\"80\\\": "
                   "expected host_port:container_port[/tcp|/udp]"},
      {"--publish", "8080:80/sctp",
       "invalid value \\\"8080:80/sctp\\\" for flag --publish: "
       "\\\"8080:80/sctp\\\": protocol \\\"sctp\\\" is not tcp or udp"},
      {"--annotation", "novalue", "invalid value \\\"novalue\\\" for flag "
                                  "--annotation: expected KEY=VALUE"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    struct hres r = hrun_image(c, store, "--rm", bad[i].flag, bad[i].value);
    hexpect_one_line_error(r, bad[i].msg);
    hres_free(&r);
  }
  /* What only the set tells. */
  struct hres r = hrun_image(c, store, "--rm", "-p", "8080:80", "-p",
                             "8080:81");
  hexpect_one_line_error(r, "invalid value \\\"8080:80,8080:81\\\" for "
                                 "flag --publish: \\\"8080:81\\\": host port "
                                 "8080/tcp is published twice");
  hres_free(&r);
  r = hrun_image(c, store, "--rm", "--network", "none", "-p", "8080:80");
  hexpect_one_line_error(r, "--publish needs a network: not with "
                                 "--network none");
  hres_free(&r);
  r = hrun_image(c, store, "--rm", "-P", "-p", "8080:80");
  hexpect_one_line_error(r, "--publish and --publish-all cannot go "
                                 "together (--publish-all publishes the "
                                 "image's ExposedPorts on the same ports)");
  hres_free(&r);
  /* Without --image they mean nothing. */
  r = hrun(c, "run", "-e", "A=1", c->id, NULL);
  hexpect_one_line_error(r, "run: --env is for --image");
  hres_free(&r);
  r = hrun(c, "create", "--bundle", c->bundle, "--vm", c->id, NULL);
  hexpect_one_line_error(r, "create: --vm is for --image");
  hres_free(&r);
  r = hrun(c, "create", "--image", REF, "--image-root", store, "--name", "x",
           c->id, NULL);
  hexpect_one_line_error(r, "flag provided but not defined: --name");
  hres_free(&r);
  r = hrun(c, "create", "--image", REF, "--image-root", store, NULL);
  hexpect_one_line_error(r, "create: --image needs the container's id: "
                                 "hull create --image IMAGE ID [-- COMMAND "
                                 "[ARG...]]");
  hres_free(&r);
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  hctx_finish(c);
}
END_TEST

/* ---- hull's bridge network ------------------------------------------------ */

/* Connects to 127.0.0.1:port, sends text, returns what came back (NULL:
 * no answer within ~3 s, the server may not listen yet). */
static char *loopback_exchange(int port, const char *text) {
  for (int i = 0; i < 30; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[256];
    ssize_t n = -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, text, strlen(text)) == (ssize_t)strlen(text)) {
      shutdown(fd, SHUT_WR);
      n = read(fd, buf, sizeof(buf) - 1);
    }
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      return xstrdup(buf);
    }
    usleep(100 * 1000);
  }
  return NULL;
}

/* No veth or nftables rule of a container is left. */
static void assert_network_clean(void) {
  struct netns_link *links = NULL;
  size_t n = 0;
  NL_OK(netns_link_list(&links, &n, &err_));
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(!netns_endpoint_is_hulls(&links[i]),
                  "link %s (of %s) left behind", links[i].name,
                  links[i].alias);
  free(links);
  cleanup_strv char **owners = NULL, **bridges = NULL;
  NL_OK(netns_nft_owners(&owners, &bridges, &err_));
  ck_assert_msg(owners == NULL || owners[0] == NULL,
                "nftables rules of %s left behind", owners[0]);
}

/* -p puts the container on hull0 with the port published on the host's
 * loopback; --network NAME on a network of its own; -P publishes the
 * image's ExposedPorts. Each test is in a network namespace of its own. */
START_TEST(published_port_reaches_the_container) {
  SKIP_WITHOUT_UMOCI();
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_loopback_up(&err_));
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, (char *[]){"--config.exposedports", "81/tcp", NULL});
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "-d",
              "--name", a, "-p", "8080:80", "--", "nc", "-ll", "-p", "80",
              "-e", "/bin/cat");
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "-d",
              "--name", b, "--network", "tenant7", "-P", "--", "nc", "-ll",
              "-p", "81", "-e", "/bin/cat");
  cleanup_free char *got = loopback_exchange(8080, "published\n");
  ck_assert_msg(got && hcontains(got, "published"),
                "127.0.0.1:8080 did not reach the container (%s)",
                got ? got : "no answer");
  cleanup_free char *got_b = loopback_exchange(81, "exposed\n");
  ck_assert_msg(got_b && hcontains(got_b, "exposed"),
                "127.0.0.1:81 did not reach the container (%s)",
                got_b ? got_b : "no answer");
  struct hres r = hrun(c, "exec", b, "/bin/sh", "-c", "ip -4 addr show eth0",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "10.89.1."), "tenant7's subnet: %s", r.out);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", a);
  hrun_expect(0, c, "delete", "--force", b);
  assert_network_clean();
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* --network pasta|slirp4netns: the user-mode helper publishes -p's port
 * (pasta copies the test host's default route, made here). */
START_TEST(user_mode_network_publishes_a_port) {
  SKIP_WITHOUT_UMOCI();
  SKIP_UNLESS(access("/usr/bin/pasta", X_OK) == 0 &&
                  access("/usr/bin/slirp4netns", X_OK) == 0,
              "pasta (Debian package passt) and slirp4netns");
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_loopback_up(&err_));
  NL_OK(netns_link_add_veth("uplink0", "uplink0-p", &err_));
  struct netns_addr up, gw;
  NL_OK(netns_addr_parse("192.168.79.1/24", &up, &err_));
  NL_OK(netns_addr_add("uplink0", &up, &err_));
  NL_OK(netns_link_set_up("uplink0", true, &err_));
  NL_OK(netns_link_set_up("uplink0-p", true, &err_));
  NL_OK(netns_addr_parse("192.168.79.254", &gw, &err_));
  NL_OK(netns_route_add("uplink0", NULL, &gw, &err_));
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  const char *modes[] = {"pasta", "slirp4netns", NULL};
  /* pasta gives the host's address; slirp4netns its own. */
  const char *addresses[] = {"192.168.79.1/24", "10.0.2.100/24"};
  for (int i = 0; modes[i]; i++) {
    cleanup_free char *name = xasprintf("%s-%d", c->id, i);
    hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "-d",
                "--name", name, "--network", modes[i], "-p", "8082:80", "--",
                "nc", "-ll", "-p", "80", "-e", "/bin/cat");
    cleanup_free char *got = loopback_exchange(8082, "user-mode\n");
    ck_assert_msg(got && hcontains(got, "user-mode"),
                  "%s: 127.0.0.1:8082 did not reach the container (%s)",
                  modes[i], got ? got : "no answer");
    struct hres r = hrun(c, "exec", name, "/bin/sh", "-c",
                         "ip -4 addr show eth0", NULL);
    ck_assert_hres(r, 0);
    ck_assert_msg(hcontains(r.out, addresses[i]), "%s: eth0 %s", modes[i],
                  r.out);
    hres_free(&r);
    hrun_expect(0, c, "delete", "--force", name);
  }
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

/* ---- VM mode ------------------------------------------------------------- */

/* run --image --vm: the image's process in a qemu (TCG) microVM, with the
 * image's Env, WorkingDir and User and the flags' env; then create, start
 * and delete --force, leaving nothing but the VM cache. */
START_TEST(vm_mode_from_an_image) {
  SKIP_WITHOUT_UMOCI();
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, (char *[]){"--config.env", "FROMIMG=image",
                                  "--config.workingdir", "/etc",
                                  "--config.user", "1000:1000", NULL});
  cleanup_free char *hv = xasprintf("run.oci.vm.hypervisor=%s", QEMU);
  cleanup_free char *k = xasprintf("run.oci.vm.kernel=%s", kernel);
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--image", REF,
                       "--image-root", store, "--rm", "--vm", "--annotation",
                       hv, "--annotation", k, "-e", "A=flag", "--hostname",
                       "vmhost", "--", "/bin/sh", "-c",
                       "echo $A $FROMIMG; pwd; id -u; id -g; hostname; "
                       "cat /proc/cmdline", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "flag image\n/etc\n1000\n1000\nvmhost\n"),
                "in the guest: %s", r.out);
  ck_assert_msg(hcontains(r.out, "vm-agent"), "not in the VM: %s", r.out);
  hres_free(&r);
  assert_no_container(c, store);

  r = vrun(c, BOOT_TIMEOUT_MS, "create", "--image", REF, "--image-root",
           store, "--vm", "--annotation", hv, "--annotation", k, c->id, "--",
           "/bin/sleep", "60", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "created");
  hrun_expect(0, c, "start", c->id);
  ck_assert(hwait_status(c, c->id, "running", 5000));
  hrun_expect(0, c, "delete", "--force", c->id);
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  ck_assert(!image_mounted_under(store));
  hctx_finish(c);
}
END_TEST

/* -p with --vm: the guest's server answers on the host's loopback (the
 * container's veth redirected to the VM's card). */
START_TEST(vm_mode_from_an_image_publishes_a_port) {
  SKIP_WITHOUT_UMOCI();
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_loopback_up(&err_));
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  cleanup_free char *hv = xasprintf("run.oci.vm.hypervisor=%s", QEMU);
  cleanup_free char *k = xasprintf("run.oci.vm.kernel=%s", kernel);
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--image", REF,
                       "--image-root", store, "-d", "--name", c->id, "--vm",
                       "--annotation", hv, "--annotation", k, "-p",
                       "8080:8000", "--", "nc", "-ll", "-p", "8000", "-e",
                       "/bin/cat", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  char *got = NULL;
  for (int i = 0; i < 10 && got == NULL; i++) /* the guest may still boot */
    got = loopback_exchange(8080, "to-the-guest\n");
  ck_assert_msg(got && hcontains(got, "to-the-guest"),
                "127.0.0.1:8080 did not reach the guest (%s)",
                got ? got : "no answer");
  free(got);
  hrun_expect(0, c, "delete", "--force", c->id);
  assert_network_clean();
  assert_no_container(c, store);
  hctx_finish(c);
}
END_TEST

static Suite *image_run_options_suite(void) {
  Suite *s = suite_create("integration-image-run-options");
  TCase *tc = harness_tcase("image-run-options", 90);
  tcase_add_test(tc, env_hostname_and_image_defaults);
  tcase_add_test(tc, tty_gives_the_process_a_terminal);
  tcase_add_test(tc, read_only_rootfs_refuses_writes);
  tcase_add_test(tc, image_volume_modes);
  tcase_add_test(tc, annotations_reach_the_container);
  tcase_add_test(tc, create_image_start_delete);
  tcase_add_test(tc, create_image_failure_leaves_nothing);
  tcase_add_test(tc, bad_values_name_the_flag);
  tcase_add_test(tc, published_port_reaches_the_container);
  tcase_add_test(tc, user_mode_network_publishes_a_port);
  suite_add_tcase(s, tc);
  TCase *vm = harness_tcase("image-run-options-vm", 300);
  tcase_add_test(vm, vm_mode_from_an_image);
  tcase_add_test(vm, vm_mode_from_an_image_publishes_a_port);
  suite_add_tcase(s, vm);
  return s;
}

HULL_SUITE(image_run_options_suite)
