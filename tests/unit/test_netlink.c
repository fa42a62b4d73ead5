/* test_netlink.c — the netlink layer (netns/nl.c, link.c, addr.c,
 * route.c, neigh.c, tc.c), each test in a network namespace of its own: the
 * test process
 * (forked by Check) unshares one, so the host's interfaces are never
 * touched. */
#include "netns/netns.h"
#include "tests/netns-test.h"
#include "tests/suite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct netns_link get_link(const char *name) {
  struct netns_link l;
  NL_OK(netns_link_get(name, &l, &err_));
  return l;
}

static struct netns_addr addr(const char *text) {
  struct netns_addr a;
  NL_OK(netns_addr_parse(text, &a, &err_));
  return a;
}

START_TEST(veth_and_bridge_ports) {
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_link_add("br-t", "bridge", &err_));
  NL_OK(netns_link_add_veth("h-3f2a", "eth0", &err_));
  NL_OK(netns_link_set_master("h-3f2a", "br-t", &err_));
  NL_OK(netns_link_set_mtu("h-3f2a", 1400, &err_));
  NL_OK(netns_link_set_up("br-t", true, &err_));
  NL_OK(netns_link_set_up("h-3f2a", true, &err_));

  struct netns_link br = get_link("br-t"), h = get_link("h-3f2a");
  ck_assert_str_eq(br.kind, "bridge");
  ck_assert_str_eq(h.kind, "veth");
  ck_assert_int_eq(h.master, br.index);
  ck_assert_uint_eq(h.mtu, 1400);
  ck_assert(h.flags & IFF_UP);
  ck_assert_str_eq(get_link("eth0").kind, "veth");
  ck_assert(!(get_link("eth0").flags & IFF_UP));

  NL_OK(netns_link_set_master("h-3f2a", NULL, &err_));
  ck_assert_int_eq(get_link("h-3f2a").master, 0);
  NL_OK(netns_link_set_up("h-3f2a", false, &err_));
  ck_assert(!(get_link("h-3f2a").flags & IFF_UP));
  NL_OK(netns_link_rename("eth0", "eth7", &err_));
  ck_assert_int_eq(get_link("eth7").index, netns_link_index("eth7", NULL));

  /* Deleting one end of a veth pair deletes both. */
  NL_OK(netns_link_del("h-3f2a", &err_));
  NL_FAILS_WITH(netns_link_index("eth7", &err_),
             "netns: look up link \"eth7\": No such device");
  NL_OK(netns_link_del("br-t", &err_));
}
END_TEST

START_TEST(dummy_and_tap) {
  ENTER_PRIVATE_NETNS();
  hull_error_t err = NULL;
  if (netns_link_add("d0", "dummy", &err) == 0) {
    ck_assert_str_eq(get_link("d0").kind, "dummy");
    NL_OK(netns_link_del("d0", &err_));
  } else {
    ck_assert_int_eq(err->errno_value, EOPNOTSUPP);  /* no dummy driver */
    hull_error_release(&err);
  }
  if (access("/dev/net/tun", R_OK | W_OK) != 0)
    SKIP_TEST("no /dev/net/tun");
  NL_OK(netns_link_add_tap("tap-t", &err_));
  ck_assert_str_eq(get_link("tap-t").kind, "tun");
  NL_FAILS_WITH(netns_link_add_tap("tap-t", &err_),
             "netns: add tap \"tap-t\": File exists");
  NL_OK(netns_link_del("tap-t", &err_));
}
END_TEST

/* A link with a carrier (so routes through it are usable): a veth pair,
 * both ends up. The dummy driver may be missing from the kernel. */
static void add_live_link(const char *name) {
  char peer[IFNAMSIZ];
  snprintf(peer, sizeof(peer), "%s-p", name);
  NL_OK(netns_link_add_veth(name, peer, &err_));
  NL_OK(netns_link_set_up(peer, true, &err_));
  NL_OK(netns_link_set_up(name, true, &err_));
}

static bool has_addr(const struct netns_addr *v, size_t n, const char *text) {
  struct netns_addr want = addr(text);
  for (size_t i = 0; i < n; i++)
    if (v[i].family == want.family && v[i].prefixlen == want.prefixlen &&
        memcmp(v[i].bytes, want.bytes, want.family == AF_INET ? 4 : 16) == 0)
      return true;
  return false;
}

START_TEST(addresses_v4_and_v6) {
  ENTER_PRIVATE_NETNS();
  add_live_link("d0");
  struct netns_addr v4 = addr("10.200.3.4/24"), v6 = addr("fd00:3::4/64");
  v6.flags = IFA_F_NODAD;
  NL_OK(netns_addr_add("d0", &v4, &err_));
  NL_OK(netns_addr_add("d0", &v6, &err_));

  struct netns_addr *list = NULL;
  size_t n = 0;
  NL_OK(netns_addr_list("d0", &list, &n, &err_));
  ck_assert(has_addr(list, n, "10.200.3.4/24"));
  ck_assert(has_addr(list, n, "fd00:3::4/64"));
  free(list);

  NL_FAILS_WITH(netns_addr_add("d0", &v4, &err_),
             "netns: add address 10.200.3.4/24 to \"d0\": File exists "
             "(kernel: ipv4: Address already assigned)");
  NL_OK(netns_addr_del("d0", &v4, &err_));
  NL_OK(netns_addr_list("d0", &list, &n, &err_));
  ck_assert(!has_addr(list, n, "10.200.3.4/24"));
  ck_assert(has_addr(list, n, "fd00:3::4/64"));
  free(list);

  char buf[64];
  ck_assert_str_eq(netns_addr_format(&v6, buf, sizeof(buf)), "fd00:3::4/64");
  ck_assert_uint_eq(addr("10.0.0.1").prefixlen, 32);
  NL_FAILS_WITH(netns_addr_parse("10.0.0.1/33", &v4, &err_),
             "netns: address \"10.0.0.1/33\": bad prefix length");
  NL_FAILS_WITH(netns_addr_parse("10.0.0/8", &v4, &err_),
             "netns: address \"10.0.0/8\": not an IP address");
}
END_TEST

START_TEST(default_routes) {
  ENTER_PRIVATE_NETNS();
  add_live_link("d0");
  struct netns_addr v4 = addr("10.200.3.4/24"), v6 = addr("fd00:3::4/64");
  v6.flags = IFA_F_NODAD;
  NL_OK(netns_addr_add("d0", &v4, &err_));
  NL_OK(netns_addr_add("d0", &v6, &err_));
  struct netns_addr gw4 = addr("10.200.3.1"), gw6 = addr("fd00:3::1");
  NL_OK(netns_route_add("d0", NULL, &gw4, &err_));
  NL_OK(netns_route_add(NULL, NULL, &gw6, &err_));

  int index = netns_link_index("d0", NULL);
  struct netns_route *routes;
  size_t n;
  bool found = false;
  NL_OK(netns_route_list(AF_INET, &routes, &n, &err_));
  for (size_t i = 0; i < n; i++)
    if (routes[i].dst_len == 0 && routes[i].has_gateway &&
        memcmp(routes[i].gateway, gw4.bytes, 4) == 0 && routes[i].oif == index)
      found = true;
  free(routes);
  ck_assert_msg(found, "no IPv4 default route via 10.200.3.1 on d0");

  found = false;
  NL_OK(netns_route_list(AF_INET6, &routes, &n, &err_));
  for (size_t i = 0; i < n; i++)
    if (routes[i].dst_len == 0 && routes[i].has_gateway &&
        memcmp(routes[i].gateway, gw6.bytes, 16) == 0)
      found = true;
  free(routes);
  ck_assert_msg(found, "no IPv6 default route via fd00:3::1");

  NL_FAILS_WITH(netns_route_add("d0", NULL, &gw4, &err_),
             "netns: add route default via 10.200.3.1 dev \"d0\": File exists");
}
END_TEST

/* A child sitting in a network namespace of its own until killed. */
static pid_t spawn_netns_holder(void) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1)
      _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  char ok = 0;
  ck_assert_int_eq(read(p[0], &ok, 1), 1);
  close(p[0]);
  ck_assert_int_eq(ok, 'y');
  return pid;
}

START_TEST(move_into_another_netns) {
  ENTER_PRIVATE_NETNS();
  pid_t holder = spawn_netns_holder();
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)holder);
  int there = open(path, O_RDONLY | O_CLOEXEC);
  int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(there, 0);
  ck_assert_int_ge(here, 0);

  NL_OK(netns_link_add_veth("h-3f2a", "eth0", &err_));
  NL_OK(netns_link_move("eth0", there, "eth1", &err_));
  NL_FAILS_WITH(netns_link_index("eth0", &err_),
             "netns: look up link \"eth0\": No such device");
  NL_OK(netns_link_add_veth("d9", "d9-p", &err_));
  NL_OK(netns_link_move("d9", there, NULL, &err_));
  /* A bridge stays where it was made. */
  NL_OK(netns_link_add("br-t", "bridge", &err_));
  NL_FAILS_WITH(netns_link_move("br-t", there, NULL, &err_),
             "netns: move link \"br-t\" into netns: Invalid argument "
             "(kernel: The interface netns is immutable)");

  ck_assert_int_eq(setns(there, CLONE_NEWNET), 0);
  struct netns_link eth1 = get_link("eth1");
  ck_assert_str_eq(eth1.kind, "veth");
  ck_assert_str_eq(get_link("d9").kind, "veth");
  /* And back again, under its first name. */
  NL_OK(netns_link_move("eth1", here, "eth0", &err_));
  ck_assert_int_eq(setns(here, CLONE_NEWNET), 0);
  ck_assert_str_eq(get_link("eth0").kind, "veth");

  /* A clash in the target namespace leaves the link where it was. */
  NL_OK(netns_link_add_veth("d9", "d9-q", &err_));
  NL_FAILS_STARTING_WITH(netns_link_move("d9", there, NULL, &err_),
             "netns: move link \"d9\" into netns: File exists");
  ck_assert_int_eq(get_link("d9-q").index, netns_link_index("d9-q", NULL));

  /* A name taken there: the kernel moves, then fails the rename; the link
   * is back here under its name. */
  NL_FAILS_STARTING_WITH(netns_link_move("d9", there, "lo", &err_),
                      "netns: move link \"d9\" into netns as \"lo\": File "
                      "exists");
  ck_assert_str_eq(get_link("d9").kind, "veth");

  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  close(there);
  close(here);
}
END_TEST

START_TEST(errors_name_what_was_asked) {
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_link_add_veth("h-3f2a", "eth0", &err_));
  NL_FAILS_WITH(netns_link_add_veth("h-3f2a", "eth0", &err_),
             "netns: add veth \"h-3f2a\" peer \"eth0\": File exists");
  NL_FAILS_WITH(netns_link_add("eth0", "dummy", &err_),
             "netns: add link \"eth0\" kind \"dummy\": File exists");
  NL_FAILS_WITH(netns_link_set_up("nope", true, &err_),
             "netns: set link \"nope\" up: No such device");
  NL_FAILS_WITH(netns_link_del("nope", &err_),
             "netns: delete link \"nope\": No such device");
  NL_FAILS_WITH(netns_link_rename("nope", "x", &err_),
             "rename: netns: look up link \"nope\": No such device");
  NL_FAILS_WITH(netns_link_set_master("eth0", "nope", &err_),
             "set master of \"eth0\": netns: look up link \"nope\": "
             "No such device");
  NL_FAILS_WITH(netns_link_add("x0", "no-such-kind", &err_),
             "netns: add link \"x0\" kind \"no-such-kind\": Operation not "
             "supported (kernel: Unknown device type)");
  NL_FAILS_WITH(netns_link_set_mtu("eth0", 10, &err_),
             "netns: set link \"eth0\" mtu 10: Invalid argument (kernel: "
             "mtu less than device minimum)");
}
END_TEST

static struct netns_neigh neigh(const char *ip, const char *mac) {
  struct netns_neigh n = {0};
  struct netns_addr a = addr(ip);
  n.family = a.family;
  memcpy(n.ip, a.bytes, sizeof(n.ip));
  NL_OK(netns_mac_parse(mac, n.mac, &err_));
  return n;
}

/* The entry of list for ip, NULL when there is none. */
static const struct netns_neigh *find_neigh(const struct netns_neigh *v,
                                            size_t n, const char *ip) {
  struct netns_addr want = addr(ip);
  for (size_t i = 0; i < n; i++)
    if (v[i].family == want.family &&
        memcmp(v[i].ip, want.bytes, want.family == AF_INET ? 4 : 16) == 0)
      return &v[i];
  return NULL;
}

static const char *mac_text(const unsigned char mac[6]) {
  static char buf[18];
  return netns_mac_format(mac, buf, sizeof(buf));
}

START_TEST(neighbours) {
  ENTER_PRIVATE_NETNS();
  add_live_link("d0");
  add_live_link("d1");
  struct netns_neigh n4 = neigh("10.200.3.9", "02:aa:bb:cc:dd:ee");
  struct netns_neigh n6 = neigh("fd00:3::9", "02:AA:BB:CC:DD:0F");
  NL_OK(netns_neigh_set("d0", &n4, &err_));
  NL_OK(netns_neigh_set("d0", &n6, &err_));
  NL_OK(netns_neigh_set("d1", &n4, &err_));

  struct netns_neigh *list = NULL;
  size_t n = 0;
  NL_OK(netns_neigh_list("d0", AF_INET, &list, &n, &err_));
  const struct netns_neigh *e = find_neigh(list, n, "10.200.3.9");
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(mac_text(e->mac), "02:aa:bb:cc:dd:ee");
  ck_assert_uint_eq(e->state, NUD_PERMANENT);
  ck_assert_ptr_null(find_neigh(list, n, "fd00:3::9"));
  free(list);
  NL_OK(netns_neigh_list("d0", AF_INET6, &list, &n, &err_));
  e = find_neigh(list, n, "fd00:3::9");
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(mac_text(e->mac), "02:aa:bb:cc:dd:0f");
  ck_assert_ptr_null(find_neigh(list, n, "10.200.3.9"));
  free(list);
  NL_OK(netns_neigh_list("d0", AF_UNSPEC, &list, &n, &err_));
  ck_assert_ptr_nonnull(find_neigh(list, n, "10.200.3.9"));
  ck_assert_ptr_nonnull(find_neigh(list, n, "fd00:3::9"));
  free(list);

  /* Setting again replaces the entry, it does not add a second. */
  struct netns_neigh moved = neigh("10.200.3.9", "02:00:00:00:00:01");
  NL_OK(netns_neigh_set("d0", &moved, &err_));
  NL_OK(netns_neigh_list("d0", AF_INET, &list, &n, &err_));
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += list[i].ip[3] == 9;
  ck_assert_uint_eq(count, 1);
  ck_assert_str_eq(mac_text(find_neigh(list, n, "10.200.3.9")->mac),
                   "02:00:00:00:00:01");
  free(list);

  /* Deleting on d0 leaves d1's entry for the same address. */
  NL_OK(netns_neigh_del("d0", &n4, &err_));
  NL_OK(netns_neigh_list("d0", AF_INET, &list, &n, &err_));
  ck_assert_ptr_null(find_neigh(list, n, "10.200.3.9"));
  free(list);
  NL_OK(netns_neigh_list("d1", AF_INET, &list, &n, &err_));
  ck_assert_ptr_nonnull(find_neigh(list, n, "10.200.3.9"));
  free(list);

  NL_FAILS_WITH(netns_neigh_del("d0", &n4, &err_),
             "netns: delete neighbour 10.200.3.9 on \"d0\": No such file or "
             "directory");
  NL_FAILS_WITH(netns_neigh_set("nope", &n4, &err_),
             "netns: add neighbour 10.200.3.9 lladdr 02:aa:bb:cc:dd:ee on "
             "\"nope\": No such device");
  NL_FAILS_WITH(netns_neigh_list("nope", AF_INET, &list, &n, &err_),
             "netns: list neighbours of \"nope\": No such device");
}
END_TEST

START_TEST(set_mac_address) {
  ENTER_PRIVATE_NETNS();
  NL_OK(netns_link_add_veth("d0", "d0-p", &err_));
  unsigned char mac[6];
  NL_OK(netns_mac_parse("02:42:AC:11:00:02", mac, &err_));
  NL_OK(netns_link_set_mac("d0", mac, &err_));
  ck_assert_str_eq(mac_text(get_link("d0").mac), "02:42:ac:11:00:02");
  /* Its peer kept its own. */
  ck_assert_str_ne(mac_text(get_link("d0-p").mac), "02:42:ac:11:00:02");
  ck_assert_str_eq(mac_text(get_link("lo").mac), "00:00:00:00:00:00");

  NL_OK(netns_mac_parse("01:00:5e:00:00:01", mac, &err_));
  NL_FAILS_STARTING_WITH(netns_link_set_mac("d0", mac, &err_),
                      "netns: set link \"d0\" address 01:00:5e:00:00:01: "
                      "Cannot assign requested address");
  NL_FAILS_WITH(netns_link_set_mac("nope", mac, &err_),
             "netns: set link \"nope\" address 01:00:5e:00:00:01: No such "
             "device");
  NL_FAILS_WITH(netns_mac_parse("02:42:ac:11:00", mac, &err_),
             "netns: MAC address \"02:42:ac:11:00\": expected six hex bytes "
             "like 02:42:ac:11:00:02");
  NL_FAILS_WITH(netns_mac_parse("02:42:ac:11:00:0g", mac, &err_),
             "netns: MAC address \"02:42:ac:11:00:0g\": expected six hex bytes "
             "like 02:42:ac:11:00:02");
}
END_TEST

/* Whether the kernel creates links of kind (probed by adding one on a veth
 * and deleting it): "Unknown device type" when the driver is missing. */
static bool kernel_has(const char *kind) {
  hull_error_t err = NULL;
  NL_OK(netns_link_add_veth("probe-p", "probe-q", &err_));
  int r = strcmp(kind, "macvlan") == 0
              ? netns_link_add_macvlan("probe", "probe-p", "bridge", &err)
              : netns_link_add_ipvlan("probe", "probe-p", "l2", &err);
  bool missing = r < 0 && err->errno_value == EOPNOTSUPP;
  ck_assert_msg(r == 0 || missing, "probing %s: %s", kind, err->msg);
  hull_error_release(&err);
  NL_OK(netns_link_del("probe-p", &err_));  /* takes probe along */
  return !missing;
}

/* What hull says whatever the kernel has: bad mode, no parent, and no
 * driver when there is none. */
START_TEST(macvlan_ipvlan_errors) {
  ENTER_PRIVATE_NETNS();
  add_live_link("eth0");
  NL_FAILS_WITH(netns_link_add_macvlan("m0", "eth0", "l2", &err_),
             "netns: add macvlan \"m0\" on \"eth0\": unknown mode \"l2\" "
             "(bridge, private, vepa, passthru)");
  NL_FAILS_WITH(netns_link_add_ipvlan("i0", "eth0", "bridge", &err_),
             "netns: add ipvlan \"i0\" on \"eth0\": unknown mode \"bridge\" "
             "(l2, l3, l3s)");
  NL_FAILS_WITH(netns_link_add_macvlan("m0", "nope", "bridge", &err_),
             "netns: add macvlan \"m0\" on \"nope\": No such device");
  NL_FAILS_WITH(netns_link_add_ipvlan("i0", "nope", "l2", &err_),
             "netns: add ipvlan \"i0\" on \"nope\": No such device");
  if (!kernel_has("macvlan"))
    NL_FAILS_WITH(netns_link_add_macvlan("m0", "eth0", "vepa", &err_),
               "netns: add macvlan \"m0\" on \"eth0\": Operation not "
               "supported (kernel: Unknown device type)");
  if (!kernel_has("ipvlan"))
    NL_FAILS_WITH(netns_link_add_ipvlan("i0", "eth0", "l3", &err_),
               "netns: add ipvlan \"i0\" on \"eth0\": Operation not "
               "supported (kernel: Unknown device type)");
  NL_FAILS_WITH(netns_link_index("m0", &err_),
             "netns: look up link \"m0\": No such device");
  NL_FAILS_WITH(netns_link_index("i0", &err_),
             "netns: look up link \"i0\": No such device");
}
END_TEST

START_TEST(macvlan_modes) {
  ENTER_PRIVATE_NETNS();
  SKIP_UNLESS(kernel_has("macvlan"), "kernel has no macvlan driver");
  add_live_link("eth0");
  int parent = netns_link_index("eth0", NULL);
  const char *modes[] = {"bridge", "private", "vepa"};
  for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "m%zu", i);
    NL_OK(netns_link_add_macvlan(name, "eth0", modes[i], &err_));
    struct netns_link m = get_link(name);
    ck_assert_str_eq(m.kind, "macvlan");
    ck_assert_str_eq(m.mode, modes[i]);
    ck_assert_int_eq(m.parent, parent);
  }
  NL_FAILS_WITH(netns_link_add_macvlan("m0", "eth0", "bridge", &err_),
             "netns: add macvlan \"m0\" on \"eth0\": File exists");
  /* passthru takes the parent whole: alone on a parent of its own. */
  add_live_link("eth1");
  NL_OK(netns_link_add_macvlan("mp", "eth1", "passthru", &err_));
  ck_assert_str_eq(get_link("mp").mode, "passthru");
}
END_TEST

START_TEST(ipvlan_modes) {
  ENTER_PRIVATE_NETNS();
  SKIP_UNLESS(kernel_has("ipvlan"), "kernel has no ipvlan driver");
  add_live_link("eth0");
  int parent = netns_link_index("eth0", NULL);
  const char *modes[] = {"l2", "l3", "l3s"};
  for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "i%zu", i);
    hull_error_t err = NULL;
    if (netns_link_add_ipvlan(name, "eth0", modes[i], &err) < 0) {
      /* l3s needs netfilter's l3mdev hooks (CONFIG_IPVLAN_L3S). */
      ck_assert_msg(strcmp(modes[i], "l3s") == 0, "%s", err->msg);
      hull_error_release(&err);
      continue;
    }
    struct netns_link l = get_link(name);
    ck_assert_str_eq(l.kind, "ipvlan");
    ck_assert_str_eq(l.mode, modes[i]);
    ck_assert_int_eq(l.parent, parent);
  }
}
END_TEST

/* A UDP datagram from the socket `from` to to_addr:port, read back on
 * `to`: true when it arrived within timeout_ms. (ARP retries once a
 * second: a first try that failed delays the next by up to that.) */
static bool datagram_passes(int from, int to, const char *to_addr, int port,
                            int timeout_ms) {
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, to_addr, &dst.sin_addr);
  if (sendto(from, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)) != 5)
    return false;
  struct pollfd p = {to, POLLIN, 0};
  char buf[16];
  return poll(&p, 1, timeout_ms) == 1 &&
         recv(to, buf, sizeof(buf), 0) == 5 &&
         memcmp(buf, "hello", 5) == 0;
}

static int udp_socket(const char *address, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, address, &a.sin_addr);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

/* Two veth pairs, a0-a1 and b0-b1, with a0 here and b0 in another
 * namespace: nothing joins a1 and b1 but the redirect, and yet a datagram
 * (after ARP) crosses both ways. */
START_TEST(tc_redirect_joins_two_links) {
  ENTER_PRIVATE_NETNS();
  pid_t holder = spawn_netns_holder();
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)holder);
  int there = open(path, O_RDONLY | O_CLOEXEC);
  int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(there, 0);
  ck_assert_int_ge(here, 0);
  NL_OK(netns_link_add_veth("a0", "a1", &err_));
  NL_OK(netns_link_add_veth("b0", "b1", &err_));
  NL_OK(netns_link_move("b0", there, NULL, &err_));
  struct netns_addr a0 = addr("10.77.0.1/24"), b0 = addr("10.77.0.2/24");
  NL_OK(netns_addr_add("a0", &a0, &err_));
  const char *up[] = {"a0", "a1", "b1"};
  for (size_t i = 0; i < 3; i++)
    NL_OK(netns_link_set_up(up[i], true, &err_));
  int sock_a = udp_socket("10.77.0.1", 7001);
  ck_assert_int_eq(setns(there, CLONE_NEWNET), 0);
  NL_OK(netns_addr_add("b0", &b0, &err_));
  NL_OK(netns_link_set_up("b0", true, &err_));
  int sock_b = udp_socket("10.77.0.2", 7002);
  ck_assert_int_eq(setns(here, CLONE_NEWNET), 0);

  ck_assert_msg(!datagram_passes(sock_a, sock_b, "10.77.0.2", 7002, 300),
                "a datagram crossed before the redirect");
  NL_OK(netns_tc_redirect_both("a1", "b1", &err_));
  ck_assert_msg(datagram_passes(sock_a, sock_b, "10.77.0.2", 7002, 5000),
                "a0 -> b0 did not arrive");
  ck_assert_msg(datagram_passes(sock_b, sock_a, "10.77.0.1", 7001, 5000),
                "b0 -> a0 did not arrive");

  /* A link that has its ingress qdisc already: the other keeps none. */
  NL_FAILS_STARTING_WITH(netns_tc_redirect_both("a0", "a1", &err_),
                      "netns: add ingress qdisc on \"a1\": File exists");
  NL_OK(netns_tc_redirect_both("a0", "lo", &err_));
  NL_FAILS_WITH(netns_tc_redirect_both("a0", "nope", &err_),
             "redirect \"a0\" and \"nope\": netns: look up link \"nope\": "
             "No such device");
  close(sock_a);
  close(sock_b);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  close(there);
  close(here);
}
END_TEST

/* A tap's queue and a veth end joined: a frame written to the queue leaves
 * the veth's peer, and one sent into the peer comes out of the queue, as
 * a VM's virtio-net would see it. */
START_TEST(tc_redirect_tap_queue) {
  ENTER_PRIVATE_NETNS();
  if (access("/dev/net/tun", R_OK | W_OK) != 0)
    SKIP_TEST("no /dev/net/tun");
  int tap = -1;
  NL_OK(netns_link_open_tap("tap-q", &tap, &err_));
  ck_assert_str_eq(get_link("tap-q").kind, "tun");
  NL_FAILS_WITH(netns_link_open_tap("tap-q", &tap, &err_),
             "netns: add tap \"tap-q\": File exists");
  NL_OK(netns_link_add_veth("v0", "v1", &err_));
  const char *up[] = {"tap-q", "v0", "v1"};
  for (size_t i = 0; i < 3; i++)
    NL_OK(netns_link_set_up(up[i], true, &err_));
  NL_OK(netns_tc_redirect_both("tap-q", "v1", &err_));

  int raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
  ck_assert_int_ge(raw, 0);
  struct sockaddr_ll ll = {.sll_family = AF_PACKET,
                           .sll_protocol = htons(0x88b5),
                           .sll_ifindex = get_link("v0").index};
  ck_assert_int_eq(bind(raw, (struct sockaddr *)&ll, sizeof(ll)), 0);
  /* Broadcast, from 02:00:00:00:00:01, the local experimental ethertype. */
  unsigned char frame[64] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5};
  memcpy(frame + 14, "from the guest", 14);
  ck_assert_int_eq(write(tap, frame, sizeof(frame)), sizeof(frame));
  struct pollfd p = {raw, POLLIN, 0};
  unsigned char got[128];
  ck_assert_int_eq(poll(&p, 1, 1000), 1);
  ck_assert_int_ge(recv(raw, got, sizeof(got), 0), 28);
  ck_assert_int_eq(memcmp(got + 14, "from the guest", 14), 0);

  memcpy(frame + 14, "to the guest!!", 14);
  ck_assert_int_eq(send(raw, frame, sizeof(frame), 0), sizeof(frame));
  /* The queue may hold the kernel's own frames first (IPv6 router
   * solicitations): read until ours. */
  bool found = false;
  p = (struct pollfd){tap, POLLIN, 0};
  while (!found && poll(&p, 1, 1000) == 1) {
    ssize_t n = read(tap, got, sizeof(got));
    found = n >= 28 && memcmp(got + 14, "to the guest!!", 14) == 0;
  }
  ck_assert_msg(found, "the frame sent into v0 did not come out of the tap");
  /* The tap lives as long as its queue. */
  close(tap);
  NL_FAILS_WITH(netns_link_index("tap-q", &err_),
             "netns: look up link \"tap-q\": No such device");
  /* v1's redirect to it is left, and taken over by the next tap; one to a
   * live link is someone's and stays. */
  NL_OK(netns_link_open_tap("tap-r", &tap, &err_));
  NL_OK(netns_link_set_up("tap-r", true, &err_));
  NL_OK(netns_tc_redirect_both("v1", "tap-r", &err_));
  ck_assert_int_eq(send(raw, frame, sizeof(frame), 0), sizeof(frame));
  found = false;
  p = (struct pollfd){tap, POLLIN, 0};
  while (!found && poll(&p, 1, 1000) == 1) {
    ssize_t n = read(tap, got, sizeof(got));
    found = n >= 28 && memcmp(got + 14, "to the guest!!", 14) == 0;
  }
  ck_assert_msg(found, "the frame did not come out of the second tap");
  NL_FAILS_STARTING_WITH(netns_tc_redirect_both("v1", "v0", &err_),
                      "netns: add ingress qdisc on \"v1\": File exists");
  close(raw);
  close(tap);
}
END_TEST

static Suite *netlink_suite(void) {
  Suite *s = suite_create("netlink");
  TCase *tc = tcase_create("netlink");
  tcase_add_test(tc, veth_and_bridge_ports);
  tcase_add_test(tc, dummy_and_tap);
  tcase_add_test(tc, addresses_v4_and_v6);
  tcase_add_test(tc, default_routes);
  tcase_add_test(tc, move_into_another_netns);
  tcase_add_test(tc, errors_name_what_was_asked);
  tcase_add_test(tc, neighbours);
  tcase_add_test(tc, set_mac_address);
  tcase_add_test(tc, macvlan_ipvlan_errors);
  tcase_add_test(tc, macvlan_modes);
  tcase_add_test(tc, ipvlan_modes);
  tcase_add_test(tc, tc_redirect_joins_two_links);
  tcase_add_test(tc, tc_redirect_tap_queue);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(netlink_suite)
