/* test-vm-network.c — a VM container gets its network namespace's
 * interfaces as virtio-net cards (runtime/vm/net.c, guest/network.c).
 *
 * The test makes the network as an engine would: it unshares a network
 * namespace of its own (the host's is never touched), makes a veth pair,
 * keeps one end (10.88.0.1/24, fd88::1/64) and moves the other as eth0
 * (10.88.0.2/24, fd88::2/64, MTU 1400, default routes via 10.88.0.1 and
 * fd88::1) into the namespace of a sleeping
 * child, which the container joins by linux.namespaces[].path. Each boot
 * costs seconds under TCG: one boot checks everything it can. */
#include "tests/integration/vm-harness.h"
#include "netns/netns.h"
#include "tests/netns-test.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOST_ADDR "10.88.0.1"
#define GUEST_ADDR "10.88.0.2"
#define HOST_ADDR6 "fd88::1"
#define GUEST_ADDR6 "fd88::2"
#define HOST_PORT 7777
#define GUEST_PORT 8888

/* A child sitting in a network namespace of its own until hctx_finish
 * kills it; *fd opens that namespace. */
static pid_t spawn_netns_holder(struct hctx *c, int *fd) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1)
      _exit(1);
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
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(*fd, 0);
  return pid;
}

/* vmh0 here with HOST_ADDR, its peer as eth0 in netns_fd's namespace with
 * GUEST_ADDR, MTU 1400 and a default route; *mac gets eth0's MAC. */
static void make_network(int netns_fd, char mac[18]) {
  struct netns_addr host, guest, gateway, host6, guest6, gateway6;
  NL_OK(netns_addr_parse(HOST_ADDR "/24", &host, &err_));
  NL_OK(netns_addr_parse(GUEST_ADDR "/24", &guest, &err_));
  NL_OK(netns_addr_parse(HOST_ADDR, &gateway, &err_));
  NL_OK(netns_addr_parse(HOST_ADDR6 "/64", &host6, &err_));
  NL_OK(netns_addr_parse(GUEST_ADDR6 "/64", &guest6, &err_));
  NL_OK(netns_addr_parse(HOST_ADDR6, &gateway6, &err_));
  host6.flags = guest6.flags = IFA_F_NODAD;
  NL_OK(netns_link_add_veth("vmh0", "vmc0", &err_));
  NL_OK(netns_link_move("vmc0", netns_fd, "eth0", &err_));
  NL_OK(netns_addr_add("vmh0", &host, &err_));
  NL_OK(netns_addr_add("vmh0", &host6, &err_));
  NL_OK(netns_link_set_up("vmh0", true, &err_));
  int home = -1;
  NL_OK(netns_enter(netns_fd, &home, &err_));
  struct netns_link eth0;
  NL_OK(netns_link_set_mtu("eth0", 1400, &err_));
  NL_OK(netns_addr_add("eth0", &guest, &err_));
  NL_OK(netns_addr_add("eth0", &guest6, &err_));
  NL_OK(netns_link_set_up("eth0", true, &err_));
  NL_OK(netns_route_add("eth0", NULL, &gateway, &err_));
  NL_OK(netns_route_add("eth0", NULL, &gateway6, &err_));
  NL_OK(netns_link_get("eth0", &eth0, &err_));
  netns_return(&home);
  netns_mac_format(eth0.mac, mac, 18);
}

static int tcp_listener(const char *address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, address, &a.sin_addr);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(fd, 1), 0);
  return fd;
}

/* The test's side of the two TCP exchanges, in a child: it answers the
 * guest's connection to HOST_PORT ("from-guest" -> "from-host"), then
 * connects to the guest's GUEST_PORT (retrying until it listens) and says
 * "to-guest". Exits 0 when both went through. */
static pid_t spawn_peer(struct hctx *c, int listener) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid > 0) {
    c->extra_pids[c->n_extra_pids++] = pid;
    return pid;
  }
  alarm(BOOT_TIMEOUT_MS / 1000);
  int conn = accept(listener, NULL, NULL);
  char buf[64] = "";
  size_t got = 0;
  while (conn >= 0 && got < sizeof(buf) - 1 && !strchr(buf, '\n')) {
    ssize_t n = read(conn, buf + got, sizeof(buf) - 1 - got);
    if (n <= 0)
      _exit(2);
    got += (size_t)n;
  }
  if (strcmp(buf, "from-guest\n") != 0 || write(conn, "from-host\n", 10) != 10)
    _exit(3);
  close(conn);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(GUEST_PORT)};
  inet_pton(AF_INET, GUEST_ADDR, &a.sin_addr);
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
      _exit(write(fd, "to-guest\n", 9) == 9 ? 0 : 4);
    }
    close(fd);
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
  }
}

/* CAP_NET_RAW for busybox's ping, as engines give by default. */
static void allow_ping(struct hctx *c) {
  cleanup_free char *path = xasprintf("%s/config.json", c->bundle);
  cleanup_free char *text = hread_file(path);
  ck_assert_ptr_nonnull(text);
  static const char cap[] = "\"CAP_NET_BIND_SERVICE\"";
  size_t n = 0;
  for (const char *p = text; (p = strstr(p, cap)); p += sizeof(cap) - 1)
    n++;
  char *out = xmalloc(strlen(text) + n * 16 + 1), *o = out;
  for (const char *p = text, *q; *p; p = q + sizeof(cap) - 1) {
    q = strstr(p, cap);
    if (q == NULL) {
      strcpy(o, p);
      break;
    }
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    o += sprintf(o, "%s, \"CAP_NET_RAW\"", cap);
  }
  hwrite_file(path, out, 0644);
  free(out);
}

static char *namespaces_joining(pid_t holder) {
  return xasprintf("{\"type\": \"pid\"}, {\"type\": \"mount\"}, "
                   "{\"type\": \"ipc\"}, {\"type\": \"uts\"}, "
                   "{\"type\": \"network\", \"path\": \"/proc/%d/ns/net\"}",
                   (int)holder);
}

/* eth0 in the guest is the netns's eth0: its MAC, MTU, address and default
 * route; the guest pings the other end, and TCP goes both ways. The tap
 * goes with the VM, and the next container there gets eth0 again. */
START_TEST(vm_gets_the_network_namespace_interfaces) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/dev/net/tun", R_OK | W_OK) == 0, "no /dev/net/tun");
  ENTER_PRIVATE_NETNS();
  struct hctx *c = hctx_new();
  int netns_fd = -1;
  pid_t holder = spawn_netns_holder(c, &netns_fd);
  char mac[18];
  make_network(netns_fd, mac);
  int listener = tcp_listener(HOST_ADDR, HOST_PORT);
  pid_t peer = spawn_peer(c, listener);
  close(listener);

  cleanup_free char *namespaces = namespaces_joining(holder);
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \""
              "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu "
              "/proc/sys/net/ipv4/ping_group_range; "
              "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; "
              "ip route | grep default; "
              "ip -6 addr show eth0 scope global | grep -o 'inet6 [0-9a-f:/]*'; "
              "ip -6 route | grep -o 'default via [0-9a-f:]*'; "
              "ping -c 1 -W 10 " HOST_ADDR " >/dev/null && echo ping-ok; "
              "ping -6 -c 1 -W 10 " HOST_ADDR6 " >/dev/null && echo ping6-ok; "
              "(echo from-guest; sleep 2) | nc " HOST_ADDR " 7777; "
              "nc -l -p 8888\"",
      .namespaces = namespaces,
      /* net.* sysctls apply to the guest's network */
      .linux_extra = "\"sysctl\": {\"net.ipv4.ping_group_range\": "
                     "\"0 2147483647\"}",
      .top_extra = vm});
  allow_ping(c);
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf(
      "%s\n1400\n0\t2147483647\ninet " GUEST_ADDR "/24\ndefault via " HOST_ADDR
      " dev eth0 \ninet6 " GUEST_ADDR6 "/64\ndefault via " HOST_ADDR6
      "\nping-ok\nping6-ok\nfrom-host\nto-guest\n", mac);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);
  int status = -1;
  ck_assert_int_eq(waitpid(peer, &status, 0), peer);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the test's TCP peer: status %#x", status);
  c->n_extra_pids--; /* reaped: not hctx_finish's to kill */
  /* The tap went with qemu. */
  int home = -1;
  NL_OK(netns_enter(netns_fd, &home, &err_));
  struct netns_link *links = NULL;
  size_t n = 0;
  NL_OK(netns_link_list(&links, &n, &err_));
  netns_return(&home);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(strncmp(links[i].name, "hull-tap", 8) != 0,
                  "%s is left in the netns", links[i].name);
  free(links);
  /* The next container in the namespace (an engine's restart) gets eth0
   * too: the redirect left on it to the tap that went is taken over. */
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/cat\", \"/sys/class/net/eth0/address\"",
      .namespaces = namespaces,
      .top_extra = vm});
  r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *mac_line = xasprintf("%s\n", mac);
  ck_assert_str_eq(r.out, mac_line);
  hres_free(&r);
  close(netns_fd);
  hctx_finish(c);
}
END_TEST

/* A VM container and a namespace container on one hull network
 * (run.oci.network=bridge): the VM's eth0 has the address the allocator
 * gave, and TCP goes between the two. */
START_TEST(vm_and_namespace_container_share_a_hull_network) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/dev/net/tun", R_OK | W_OK) == 0, "no /dev/net/tun");
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_loopback_up(&err_));
  struct hctx *c = hctx_new();
  cleanup_free char *server = xasprintf("%s-ns", c->id);
  hctx_write_config(c, &(struct hconfig){
      .args = HELPER("signal-wait"),
      .top_extra = "\"annotations\": {\"run.oci.network\": \"bridge\"}"});
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, server, NULL);
  ck_assert_hres(r, 0);
  ck_assert(hwait_file(r.out_path, "ready", 5000));
  hres_free(&r);
  r = hrun(c, "exec", "-d", server, "/bin/sh", "-c",
           "nc -ll -p 7000 -e /bin/cat", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);

  cleanup_free char *vm =
      vm_annotations(kernel, "\"run.oci.network\": \"bridge\"");
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"ip -4 addr show eth0; cat /etc/hosts; "
              "for i in $(seq 20); do out=$(echo hi-from-vm | nc -w 3 "
              "10.89.0.2 7000) && [ -n \\\"$out\\\" ] && echo got:$out && "
              "exit 0; sleep 0.5; done; exit 1\"",
      .top_extra = vm});
  r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_msg(r.status == 0, "status %d: %s %s", r.status, r.out, r.err);
  ck_assert_msg(hcontains(r.out, "inet 10.89.0.3/24"), "out: %s", r.out);
  ck_assert_msg(hcontains(r.out, "got:hi-from-vm"), "out: %s", r.out);
  /* hull's /etc/hosts reached the guest. */
  ck_assert_msg(hcontains(r.out, "10.89.0.3\thull-test"), "out: %s", r.out);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", server);
  hctx_finish(c);
}
END_TEST

/* A network namespace with no interface but lo: no card; lo is up. */
START_TEST(vm_without_interfaces_has_lo_only) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"ls /sys/class/net; "
              "cat /sys/class/net/lo/flags\"",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  /* IFF_UP | IFF_LOOPBACK */
  ck_assert_str_eq(r.out, "lo\n0x9\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* A container without a network namespace of its own: the monitor is in
 * the namespace hull runs in (here the test's, which stands for the
 * host's), whose interfaces are never the VM's: no card, and no tc on them. */
START_TEST(vm_without_a_network_namespace_leaves_the_hosts_alone) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  ENTER_PRIVATE_NETNS();
  struct hctx *c = hctx_new();
  struct netns_addr host;
  NL_OK(netns_addr_parse(HOST_ADDR "/24", &host, &err_));
  NL_OK(netns_link_add_veth("vmh0", "vmc0", &err_));
  NL_OK(netns_addr_add("vmh0", &host, &err_));
  NL_OK(netns_link_set_up("vmc0", true, &err_));
  NL_OK(netns_link_set_up("vmh0", true, &err_));
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"ls /sys/class/net\"",
      .namespaces = "{\"type\": \"pid\"}, {\"type\": \"mount\"}, "
                    "{\"type\": \"ipc\"}, {\"type\": \"uts\"}",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "lo\n");
  hres_free(&r);
  /* No ingress qdisc was added to vmh0: one can be now. */
  NL_OK(netns_tc_redirect_both("vmh0", "vmc0", &err_));
  hctx_finish(c);
}
END_TEST

/* An interface that cannot be joined to a tap (it has an ingress qdisc of
 * someone else's): create fails in one line naming it, and no tap is left. */
START_TEST(vm_interface_that_cannot_be_given_is_named) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/dev/net/tun", R_OK | W_OK) == 0, "no /dev/net/tun");
  ENTER_PRIVATE_NETNS();
  struct hctx *c = hctx_new();
  int netns_fd = -1;
  pid_t holder = spawn_netns_holder(c, &netns_fd);
  char mac[18];
  make_network(netns_fd, mac);
  int home = -1;
  NL_OK(netns_enter(netns_fd, &home, &err_));
  NL_OK(netns_link_set_up("lo", true, &err_));
  NL_OK(netns_tc_redirect_both("eth0", "lo", &err_));
  netns_return(&home);
  cleanup_free char *namespaces = namespaces_joining(holder);
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  hctx_write_config(c, &(struct hconfig){.namespaces = namespaces,
                                         .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_msg(r.status != 0, "run succeeded: %s", r.out);
  /* (in the log's quoting) */
  ck_assert_msg(strstr(r.err, "VM network: interface \\\"eth0\\\": netns: "
                              "add ingress qdisc on \\\"eth0\\\": File "
                              "exists"),
                "stderr: %s", r.err);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "more than one line: %s", r.err);
  hres_free(&r);
  NL_OK(netns_enter(netns_fd, &home, &err_));
  struct netns_link *links = NULL;
  size_t n = 0;
  NL_OK(netns_link_list(&links, &n, &err_));
  netns_return(&home);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(strncmp(links[i].name, "hull-tap", 8) != 0,
                  "%s is left in the netns", links[i].name);
  free(links);
  close(netns_fd);
  hctx_finish(c);
}
END_TEST

static Suite *vm_network_suite(void) {
  Suite *s = suite_create("integration-vm-network");
  TCase *tc = harness_tcase("vm-network", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_gets_the_network_namespace_interfaces);
  tcase_add_test(tc, vm_without_interfaces_has_lo_only);
  tcase_add_test(tc, vm_and_namespace_container_share_a_hull_network);
  tcase_add_test(tc, vm_without_a_network_namespace_leaves_the_hosts_alone);
  tcase_add_test(tc, vm_interface_that_cannot_be_given_is_named);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_network_suite)
