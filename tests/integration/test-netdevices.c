/* test-netdevices.c — linux.netDevices: host interfaces moved into the
 * container under a new name with their addresses, and back at delete.
 *
 * The test process (forked by Check) first unshares a network namespace of
 * its own and makes its interfaces there, so hull, its child, moves those
 * and never the host's. The interface is one end of a veth pair (the dummy
 * driver is not in every kernel). */
#include "tests/integration/harness.h"
#include "netns/netns.h"
#include "tests/netns-test.h"
#include "runtime/common/common.h"
#include "runtime/vm/vm.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* name with v4 and v6 (no DAD) addresses, and its peer name-p up. */
static void make_interface(const char *name, const char *v4, const char *v6,
                           bool up) {
  char peer[IFNAMSIZ];
  snprintf(peer, sizeof(peer), "%s-p", name);
  NL_OK(netns_link_add_veth(name, peer, &err_));
  struct netns_addr a4, a6;
  NL_OK(netns_addr_parse(v4, &a4, &err_));
  NL_OK(netns_addr_parse(v6, &a6, &err_));
  a6.flags = IFA_F_NODAD;
  NL_OK(netns_addr_add(name, &a4, &err_));
  NL_OK(netns_addr_add(name, &a6, &err_));
  NL_OK(netns_link_set_up(peer, true, &err_));
  if (up)
    NL_OK(netns_link_set_up(name, true, &err_));
}

static void make_host_interface(const char *name, const char *v4,
                                const char *v6) {
  make_interface(name, v4, v6, true);
}

/* An address with a lifetime: not IFA_F_PERMANENT. */
static int add_temporary_address(const char *link, const struct netns_addr *a,
                                 hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(
      buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)a->prefixlen;
  ifa->ifa_index = (unsigned)netns_link_index(link, err);
  mnl_attr_put(nlh, IFA_LOCAL, 4, a->bytes);
  mnl_attr_put(nlh, IFA_ADDRESS, 4, a->bytes);
  struct ifa_cacheinfo ci = {.ifa_prefered = 300, .ifa_valid = 300};
  mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
  return netns_nl_talk(nlh, NULL, NULL, err, "add temporary address");
}

static bool link_exists(const char *name) {
  cleanup_error hull_error_t err = NULL;
  return netns_link_index(name, &err) > 0;
}

/* name is here, up, with the address text among its addresses. */
static void assert_back_home(const char *name, const char *v4,
                             const char *v6) {
  struct netns_link l;
  NL_OK(netns_link_get(name, &l, &err_));
  ck_assert_msg(l.flags & IFF_UP, "%s is not up again", name);
  struct netns_addr *addrs = NULL;
  size_t n = 0;
  NL_OK(netns_addr_list(name, &addrs, &n, &err_));
  bool has4 = false, has6 = false;
  for (size_t i = 0; i < n; i++) {
    char text[64];
    netns_addr_format(&addrs[i], text, sizeof(text));
    has4 |= strcmp(text, v4) == 0;
    has6 |= strcmp(text, v6) == 0;
  }
  free(addrs);
  ck_assert_msg(has4 && has6, "%s lost %s or %s", name, v4, v6);
}

START_TEST(netdevice_moves_in_renamed_and_back) {
  ENTER_PRIVATE_NETNS();
  /* Down here (IPv6 addresses outlive only a link that was never up), up
   * in the container (runtime-spec: the runtime sets it up); a
   * non-permanent address stays behind. */
  make_interface("hv0", "10.77.0.2/24", "fd77::2/64", false);
  struct netns_addr temporary;
  NL_OK(netns_addr_parse("10.79.0.2/24", &temporary, &err_));
  NL_OK(add_temporary_address("hv0", &temporary, &err_));
  struct hctx *c = hctx_new();
  hrun_waiter(c, &(struct hconfig){
      .linux_extra = "\"netDevices\": {\"hv0\": {\"name\": \"net0\"}}"});
  ck_assert(!link_exists("hv0"));

  struct hres r = hrun(c, "exec", c->id, "/bin/ip", "addr", "show", "dev", "net0", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "inet 10.77.0.2/24"), "ip addr: %s", r.out);
  ck_assert_msg(hcontains(r.out, "inet6 fd77::2/64"), "ip addr: %s", r.out);
  ck_assert_msg(hcontains(r.out, ",UP"), "not up inside: %s", r.out);
  ck_assert_msg(!hcontains(r.out, "10.79.0.2"), "ip addr: %s", r.out);
  hres_free(&r);

  hrun_expect(0, c, "delete", "--force", c->id);
  ck_assert(!link_exists("net0"));
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  hctx_finish(c);
}
END_TEST

/* "eth%d": the kernel picks a free name inside (runtime-spec allows the
 * template), and delete finds the device under it. */
START_TEST(netdevice_name_template_is_resolved) {
  ENTER_PRIVATE_NETNS();
  make_host_interface("hv0", "10.77.0.2/24", "fd77::2/64");
  struct hctx *c = hctx_new();
  hrun_waiter(c, &(struct hconfig){
      .linux_extra = "\"netDevices\": {\"hv0\": {\"name\": \"eth%d\"}}"});
  struct hres r = hrun(c, "exec", c->id, "/bin/ip", "addr", "show", "dev", "eth0", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "inet 10.77.0.2/24"), "ip addr: %s", r.out);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", c->id);
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  hctx_finish(c);
}
END_TEST

/* A name taken inside ("lo") fails the second device: the first, moved
 * already, comes back; nothing is left. */
START_TEST(netdevice_failure_moves_back_what_moved) {
  ENTER_PRIVATE_NETNS();
  make_host_interface("hv0", "10.77.0.2/24", "fd77::2/64");
  make_host_interface("hv1", "10.78.0.2/24", "fd78::2/64");
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
      .linux_extra = "\"netDevices\": {\"hv0\": {\"name\": \"net0\"}, "
                     "\"hv1\": {\"name\": \"lo\"}}"});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "linux.netDevices[\\\"hv1\\\"]: netns: move "
                                 "link \\\"hv1\\\" into netns as \\\"lo\\\": "
                                 "File exists"),
                "stderr: %s", r.err);
  hres_free(&r);
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  assert_back_home("hv1", "10.78.0.2/24", "fd78::2/64");
  hctx_finish(c);
}
END_TEST

/* A child holding a network namespace of its own with a link `name` in it,
 * killed by hctx_finish. */
static pid_t spawn_netns_with_link(struct hctx *c, const char *name) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    hull_error_t err = NULL;
    char ok = unshare(CLONE_NEWNET) == 0 &&
                      netns_link_add_veth(name, "peer0", &err) == 0
                  ? 'y'
                  : 'n';
    if (write(p[1], &ok, 1) != 1)
      _exit(1);
    /* Only hctx_finish's SIGKILL ends it: a stray signal must not take the
     * namespace away while hull joins it by path. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (;;)
      pause();
  }
  close(p[1]);
  char ok = 0;
  ck_assert_int_eq(read(p[0], &ok, 1), 1);
  close(p[0]);
  ck_assert_int_eq(ok, 'y');
  c->extra_pids[c->n_extra_pids++] = pid;
  return pid;
}

/* In a joined namespace that has the name already, the move fails, and
 * cleanup must not take the namespace's own interface out. */
START_TEST(netdevice_clash_in_joined_netns_leaves_both) {
  ENTER_PRIVATE_NETNS();
  make_host_interface("hv0", "10.77.0.2/24", "fd77::2/64");
  struct hctx *c = hctx_new();
  pid_t holder = spawn_netns_with_link(c, "net0");
  cleanup_free char *namespaces = xasprintf(
      "{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"}, "
      "{\"type\": \"uts\"}, "
      "{\"type\": \"network\", \"path\": \"/proc/%d/ns/net\"}",
      (int)holder);
  hctx_write_config(c, &(struct hconfig){
      .namespaces = namespaces,
      .linux_extra = "\"netDevices\": {\"hv0\": {\"name\": \"net0\"}}"});
  int holder_status = 0;
  ck_assert_msg(waitpid(holder, &holder_status, WNOHANG) == 0,
                "the netns holder died: status %#x", holder_status);
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "linux.netDevices[\\\"hv0\\\"]: netns: move "
                                 "link \\\"hv0\\\" into netns as \\\"net0\\\": "
                                 "File exists"),
                "stderr: %s", r.err);
  hres_free(&r);
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  ck_assert(!link_exists("net0"));

  /* Nothing moved: the cleanup must not take net0 out as hv9. */
  hctx_write_config(c, &(struct hconfig){
      .namespaces = namespaces,
      .linux_extra = "\"netDevices\": {\"hv9\": {\"name\": \"net0\"}}"});
  r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "no such interface"), "stderr: %s", r.err);
  hres_free(&r);
  ck_assert(!link_exists("hv9"));

  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)holder);
  int there = open(path, O_RDONLY | O_CLOEXEC), home = -1;
  ck_assert_int_ge(there, 0);
  NL_OK(netns_enter(there, &home, &err_));
  bool still_there = link_exists("net0");
  netns_return(&home);
  close(there);
  ck_assert_msg(still_there, "the joined netns lost its net0");
  hctx_finish(c);
}
END_TEST

START_TEST(netdevice_names_given_twice_are_refused) {
  ENTER_PRIVATE_NETNS();
  hexpect_create_refused(
      "\"netDevices\": {\"hv0\": {\"name\": \"net0\"}, "
      "\"hv1\": {\"name\": \"net0\"}}",
      ".linux.netDevices[\\\"hv1\\\"].name: \\\"net0\\\" is given twice");
}
END_TEST

START_TEST(netdevice_in_a_vm_is_refused) {
  ENTER_PRIVATE_NETNS();
  make_host_interface("hv0", "10.77.0.2/24", "fd77::2/64");
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
      .linux_extra = "\"netDevices\": {\"hv0\": {}}",
      .top_extra = "\"annotations\": {\"" VM_HANDLER_ANNOTATION "\": \"vm\"}"});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, ".linux.netDevices: not supported in a VM"),
                "stderr: %s", r.err);
  hres_free(&r);
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  hctx_finish(c);
}
END_TEST

START_TEST(netdevice_missing_interface_is_refused) {
  ENTER_PRIVATE_NETNS();
  hexpect_create_refused("\"netDevices\": {\"eth9\": {}}",
                         "linux.netDevices[\\\"eth9\\\"]: no such interface");
}
END_TEST

START_TEST(netdevice_needs_a_network_namespace) {
  ENTER_PRIVATE_NETNS();
  make_host_interface("hv0", "10.77.0.2/24", "fd77::2/64");
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
      .namespaces = "{\"type\": \"pid\"}, {\"type\": \"mount\"}, "
                    "{\"type\": \"uts\"}, {\"type\": \"ipc\"}",
      .linux_extra = "\"netDevices\": {\"hv0\": {}}"});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, ".linux.netDevices: needs a network "
                                 "namespace of the container's own"),
                "stderr: %s", r.err);
  hres_free(&r);
  assert_back_home("hv0", "10.77.0.2/24", "fd77::2/64");
  hctx_finish(c);
}
END_TEST

START_TEST(netdevice_bad_name_is_refused) {
  ENTER_PRIVATE_NETNS();
  hexpect_create_refused(
      "\"netDevices\": {\"hv0\": {\"name\": \"a/b\"}}",
      ".linux.netDevices[\\\"hv0\\\"].name: \\\"a/b\\\" is not a valid "
      "interface name");
}
END_TEST

static Suite *netdevices_suite(void) {
  Suite *s = suite_create("integration-netdevices");
  TCase *tc = harness_tcase("netdevices", 30);
  tcase_add_test(tc, netdevice_moves_in_renamed_and_back);
  tcase_add_test(tc, netdevice_name_template_is_resolved);
  tcase_add_test(tc, netdevice_failure_moves_back_what_moved);
  tcase_add_test(tc, netdevice_clash_in_joined_netns_leaves_both);
  tcase_add_test(tc, netdevice_names_given_twice_are_refused);
  tcase_add_test(tc, netdevice_in_a_vm_is_refused);
  tcase_add_test(tc, netdevice_missing_interface_is_refused);
  tcase_add_test(tc, netdevice_needs_a_network_namespace);
  tcase_add_test(tc, netdevice_bad_name_is_refused);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(netdevices_suite)
