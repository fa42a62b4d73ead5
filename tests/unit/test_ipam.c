/* test_ipam.c — hull's networks and the addresses in them (netns/ipam.c),
 * recorded under a temporary --root: subnets picked and refused, addresses
 * handed out, refused, released and reclaimed, parallel takers, and what a
 * crash leaves behind. */
#include "netns/netns.h"
#include "tests/suite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

static void setup(void) {
  strcpy(root, "/tmp/hull-ipam-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(root, &err);
  hull_error_release(&err);
}

/* ---- helpers ------------------------------------------------------------ */

static struct netns_addr addr(const char *text) {
  struct netns_addr a;
  hull_error_t err = NULL;
  ck_assert_msg(netns_addr_parse(text, &a, &err) == 0, "%s", err->msg);
  return a;
}

static const char *text(const struct netns_addr *a) {
  static char buf[4][INET6_ADDRSTRLEN + 8];
  static int next;
  char *b = buf[next++ % 4];
  return netns_addr_format(a, b, sizeof(buf[0]));
}

static void assert_error(int rc, hull_error_t *err, const char *msg) {
  ck_assert_int_lt(rc, 0);
  ck_assert_ptr_nonnull(*err);
  ck_assert_str_eq((*err)->msg, msg);
  hull_error_release(err);
}

/* The network `name` with the given subnets (NULL: picked), created. */
static struct netns_network network(const char *name, const char *subnet4,
                                    const char *subnet6) {
  struct netns_addr s4, s6;
  if (subnet4)
    s4 = addr(subnet4);
  if (subnet6)
    s6 = addr(subnet6);
  struct netns_network net;
  hull_error_t err = NULL;
  ck_assert_msg(netns_network_open(root, name, subnet4 ? &s4 : NULL,
                                   subnet6 ? &s6 : NULL, 0, true, &net,
                                   &err) == 0,
                "%s", err ? err->msg : "");
  return net;
}

/* Owners listed in a NULL-terminated array are dead; everyone else lives. */
static bool alive_unless_listed(const char *id, void *ctx) {
  for (const char *const *d = ctx; d && *d; d++)
    if (strcmp(*d, id) == 0)
      return false;
  return true;
}

static int take(const struct netns_network *net, int family, const char *want,
                const char *id, const char *const *dead,
                struct netns_addr *out, hull_error_t *err) {
  struct netns_addr w;
  if (want)
    w = addr(want);
  return netns_ipam_take(root, net, family, want ? &w : NULL, id,
                         alive_unless_listed, (void *)dead, out, err);
}

/* Takes and returns the address as text ("10.89.0.2/24"). */
static const char *take_ok(const struct netns_network *net, int family,
                           const char *want, const char *id) {
  struct netns_addr out;
  hull_error_t err = NULL;
  ck_assert_msg(take(net, family, want, id, NULL, &out, &err) == 0, "%s",
                err ? err->msg : "");
  return text(&out);
}

static void take_fails(const struct netns_network *net, int family,
                       const char *want, const char *id, const char *msg) {
  struct netns_addr out;
  hull_error_t err = NULL;
  assert_error(take(net, family, want, id, NULL, &out, &err), &err, msg);
}

static void release_ok(const char *id) {
  hull_error_t err = NULL;
  ck_assert_msg(netns_ipam_release(root, id, &err) == 0, "%s",
                err ? err->msg : "");
}

/* The owners of a network, joined with ',' ("" when none). */
static const char *owners(const char *name) {
  static char buf[512];
  cleanup_strv char **ids = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(netns_ipam_owners(root, name, &ids, &err) == 0, "%s",
                err ? err->msg : "");
  buf[0] = '\0';
  for (char **i = ids; i && *i; i++)
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
             i == ids ? "" : ",", *i);
  return buf;
}

static const char *networks(void) {
  static char buf[512];
  cleanup_strv char **names = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(netns_network_list(root, &names, &err) == 0, "%s",
                err ? err->msg : "");
  buf[0] = '\0';
  for (char **n = names; n && *n; n++)
    snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
             n == names ? "" : ",", *n);
  return buf;
}

/* ---- networks ----------------------------------------------------------- */

START_TEST(default_network_gets_its_subnets) {
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(net.name, "hull0");
  ck_assert_str_eq(text(&net.subnet4), "10.89.0.0/24");
  ck_assert_str_eq(text(&net.gateway4), "10.89.0.1/24");
  ck_assert(net.has_v6);
  ck_assert_str_eq(text(&net.subnet6), "fd89:6875:6c6c::/64");
  ck_assert_str_eq(text(&net.gateway6), "fd89:6875:6c6c::1/64");
  ck_assert_uint_eq(net.mtu, 1500);
}
END_TEST

START_TEST(other_networks_get_the_lowest_free_subnets) {
  network("hull0", NULL, NULL);
  struct netns_network blue = network("blue", NULL, NULL);
  ck_assert_str_eq(text(&blue.subnet4), "10.89.1.0/24");
  ck_assert_str_eq(text(&blue.subnet6), "fd89:6875:6c6c:1::/64");
  /* One given in the way of N=2: the next picked skips it. */
  network("red", "10.89.2.0/24", "fd00:1::/64");
  struct netns_network green = network("green", NULL, NULL);
  ck_assert_str_eq(text(&green.subnet4), "10.89.3.0/24");
  ck_assert_str_eq(text(&green.subnet6), "fd89:6875:6c6c:3::/64");
  ck_assert_str_eq(networks(), "blue,green,hull0,red");
}
END_TEST

START_TEST(a_network_opens_as_recorded) {
  struct netns_addr s4 = addr("172.30.0.0/16");
  struct netns_addr none;
  memset(&none, 0, sizeof(none));
  struct netns_network made, again;
  hull_error_t err = NULL;
  ck_assert_int_eq(netns_network_open(root, "lab", &s4, &none, 9000, true,
                                      &made, &err), 0);
  ck_assert(!made.has_v6);
  ck_assert_uint_eq(made.mtu, 9000);
  ck_assert_int_eq(netns_network_open(root, "lab", NULL, NULL, 0, false,
                                      &again, &err), 0);
  ck_assert_str_eq(again.name, "lab");
  ck_assert_str_eq(text(&again.subnet4), "172.30.0.0/16");
  ck_assert_str_eq(text(&again.gateway4), "172.30.0.1/16");
  ck_assert(!again.has_v6);
  ck_assert_uint_eq(again.mtu, 9000);
  /* The same subnet given again is fine. */
  ck_assert_int_eq(netns_network_open(root, "lab", &s4, NULL, 9000, true,
                                      &again, &err), 0);
}
END_TEST

START_TEST(an_unknown_network_is_not_made_unless_asked) {
  struct netns_network net;
  hull_error_t err = NULL;
  assert_error(netns_network_open(root, "nope", NULL, NULL, 0, false, &net,
                                  &err),
               &err, "network \"nope\" does not exist");
  ck_assert_str_eq(networks(), "");
}
END_TEST

static void open_fails(const char *name, const char *subnet4,
                       const char *subnet6, unsigned mtu, const char *msg) {
  struct netns_addr s4, s6;
  if (subnet4)
    s4 = addr(subnet4);
  if (subnet6)
    s6 = addr(subnet6);
  struct netns_network net;
  hull_error_t err = NULL;
  assert_error(netns_network_open(root, name, subnet4 ? &s4 : NULL,
                                  subnet6 ? &s6 : NULL, mtu, true, &net, &err),
               &err, msg);
}

START_TEST(bad_subnets_are_refused) {
  open_fails("x", "10.1.2.3/24", NULL, 0,
             "subnet 10.1.2.3/24 is not a network address (10.1.2.0/24 is)");
  open_fails("x", "10.1.2.0/31", NULL, 0,
             "subnet 10.1.2.0/31 is too small (at most /30)");
  open_fails("x", "10.1.2.0/32", NULL, 0,
             "subnet 10.1.2.0/32 is too small (at most /30)");
  open_fails("x", NULL, "fd00::/121", 0,
             "subnet fd00::/121 is too small (at most /120)");
  open_fails("x", "fd00::/64", NULL, 0,
             "subnet fd00::/64 is not an IPv4 subnet");
  open_fails("x", NULL, "10.1.0.0/16", 0,
             "subnet 10.1.0.0/16 is not an IPv6 subnet");
  open_fails("x", NULL, "fd00::1/64", 0,
             "subnet fd00::1/64 is not a network address (fd00::/64 is)");
  open_fails("x/y", NULL, NULL, 0,
             "network name \"x/y\": not an interface name");
  open_fails(".x", NULL, NULL, 0,
             "network name \".x\": not an interface name");
  open_fails("", NULL, NULL, 0, "network name \"\": not an interface name");
  open_fails("a-name-too-long-1", NULL, NULL, 0,
             "network name \"a-name-too-long-1\": not an interface name");
  open_fails("x", NULL, NULL, 60, "MTU 60 is out of range (1280-65535 with "
                                  "IPv6)");
  ck_assert_str_eq(networks(), "");
}
END_TEST

START_TEST(overlapping_subnets_are_refused) {
  network("hull0", NULL, NULL);
  network("lab", "172.30.0.0/16", "fd00:30::/64");
  open_fails("x", "10.89.0.0/16", NULL, 0,
             "subnet 10.89.0.0/16 overlaps network \"hull0\" (10.89.0.0/24)");
  open_fails("x", "172.30.5.0/24", NULL, 0,
             "subnet 172.30.5.0/24 overlaps network \"lab\" (172.30.0.0/16)");
  open_fails("x", "10.9.0.0/24", "fd00::/16", 0,
             "subnet fd00::/16 overlaps network \"lab\" (fd00:30::/64)");
  open_fails("x", "10.9.0.0/24", "fd89:6875:6c6c::/64", 0,
             "subnet fd89:6875:6c6c::/64 overlaps network \"hull0\" "
             "(fd89:6875:6c6c::/64)");
  ck_assert_str_eq(networks(), "hull0,lab");
}
END_TEST

START_TEST(a_recorded_network_keeps_its_subnets) {
  network("hull0", NULL, NULL);
  open_fails("hull0", "10.90.0.0/24", NULL, 0,
             "network \"hull0\" has subnet 10.89.0.0/24, not 10.90.0.0/24");
  open_fails("hull0", NULL, "fd00::/64", 0,
             "network \"hull0\" has subnet fd89:6875:6c6c::/64, not "
             "fd00::/64");
  open_fails("hull0", NULL, NULL, 9000,
             "network \"hull0\" has MTU 1500, not 9000");
}
END_TEST

START_TEST(a_network_in_use_is_not_removed) {
  struct netns_network net = network("blue", NULL, NULL);
  take_ok(&net, AF_INET, NULL, "a");
  hull_error_t err = NULL;
  ck_assert_int_lt(netns_network_remove(root, "blue", &err), 0);
  ck_assert_str_eq(err->msg, "network \"blue\" is in use by container \"a\"");
  ck_assert_int_eq(err->errno_value, EBUSY);
  hull_error_release(&err);
  ck_assert_str_eq(networks(), "blue");

  release_ok("a");
  ck_assert_int_eq(netns_network_remove(root, "blue", &err), 0);
  ck_assert_str_eq(networks(), "");
  assert_error(netns_network_remove(root, "blue", &err), &err,
               "network \"blue\" does not exist");
  /* Its name and subnet can be had again. */
  network("blue", "10.89.1.0/24", NULL);
}
END_TEST

/* ---- addresses ---------------------------------------------------------- */

START_TEST(first_address_follows_the_gateway) {
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "b"), "10.89.0.3/24");
  ck_assert_str_eq(owners("hull0"), "a,b");
}
END_TEST

START_TEST(a_wanted_address_is_given) {
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET, "10.89.0.7", "a"), "10.89.0.7/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, "10.89.0.2/24", "b"),
                   "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "c"), "10.89.0.3/24");
}
END_TEST

START_TEST(a_taken_address_is_refused) {
  struct netns_network net = network("hull0", NULL, NULL);
  take_ok(&net, AF_INET, "10.89.0.5", "other");
  take_fails(&net, AF_INET, "10.89.0.5", "mine",
             "10.89.0.5 is taken by container \"other\"");
  ck_assert_str_eq(owners("hull0"), "other");
}
END_TEST

START_TEST(addresses_that_are_not_hosts_are_refused) {
  struct netns_network net = network("hull0", NULL, NULL);
  take_fails(&net, AF_INET, "10.90.0.5", "a",
             "10.90.0.5 is outside network \"hull0\" (10.89.0.0/24)");
  take_fails(&net, AF_INET, "10.89.0.1", "a",
             "10.89.0.1 is the gateway of network \"hull0\"");
  take_fails(&net, AF_INET, "10.89.0.0", "a",
             "10.89.0.0 is the subnet address of network \"hull0\"");
  take_fails(&net, AF_INET, "10.89.0.255", "a",
             "10.89.0.255 is the broadcast address of network \"hull0\"");
  take_fails(&net, AF_INET, "10.89.0.5/16", "a",
             "10.89.0.5/16 does not match network \"hull0\" (10.89.0.0/24)");
  take_fails(&net, AF_INET, "fd89:6875:6c6c::5", "a",
             "fd89:6875:6c6c::5 is not an IPv4 address");
  take_fails(&net, AF_INET6, "fd89:6875:6c6c::1", "a",
             "fd89:6875:6c6c::1 is the gateway of network \"hull0\"");
  take_fails(&net, AF_INET6, "fd89:6875:6c6d::5", "a",
             "fd89:6875:6c6d::5 is outside network \"hull0\" "
             "(fd89:6875:6c6c::/64)");
  ck_assert_str_eq(owners("hull0"), "");
}
END_TEST

START_TEST(malformed_requests_are_refused) {
  struct netns_network net = network("hull0", NULL, NULL);
  /* What the caller parses first, and what reaches the allocator. */
  struct netns_addr a;
  hull_error_t err = NULL;
  assert_error(netns_addr_parse("10.89.0.300", &a, &err), &err,
               "netns: address \"10.89.0.300\": not an IP address");
  take_fails(&net, AF_INET, NULL, "a/b", "invalid container id \"a/b\"");
  take_fails(&net, AF_INET, NULL, "..", "invalid container id \"..\"");
  take_fails(&net, AF_INET, NULL, "", "invalid container id \"\"");
  take_fails(&net, AF_INET, NULL, "a=b", "invalid container id \"a=b\"");
  struct netns_addr none;
  memset(&none, 0, sizeof(none));
  struct netns_addr s4 = addr("172.31.0.0/16");
  struct netns_network nov6;
  ck_assert_int_eq(netns_network_open(root, "nov6", &s4, &none, 0, true,
                                      &nov6, &err), 0);
  take_fails(&nov6, AF_INET6, NULL, "a",
             "network \"nov6\" has no IPv6 subnet");
  /* A network removed under the caller. */
  ck_assert_int_eq(netns_network_remove(root, "nov6", &err), 0);
  take_fails(&nov6, AF_INET, NULL, "a", "network \"nov6\" does not exist");
  ck_assert_str_eq(owners("hull0"), "");
}
END_TEST

START_TEST(asking_again_gives_the_same_address) {
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, "10.89.0.2", "a"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "b"), "10.89.0.3/24");
  /* Another wanted address moves a there and frees the old one. */
  ck_assert_str_eq(take_ok(&net, AF_INET, "10.89.0.9", "a"), "10.89.0.9/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.9/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "c"), "10.89.0.2/24");
}
END_TEST

START_TEST(release_frees_every_address) {
  struct netns_network net = network("hull0", NULL, NULL);
  struct netns_network blue = network("blue", NULL, NULL);
  take_ok(&net, AF_INET, NULL, "a");
  take_ok(&net, AF_INET6, NULL, "a");
  take_ok(&blue, AF_INET, NULL, "a");
  take_ok(&net, AF_INET, NULL, "b");
  release_ok("a");
  ck_assert_str_eq(owners("hull0"), "b");
  ck_assert_str_eq(owners("blue"), "");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "c"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "c"),
                   "fd89:6875:6c6c::2/64");
  release_ok("a");          /* nothing held: fine */
  release_ok("never-was");
  ck_assert_str_eq(owners("nope"), "");
}
END_TEST

START_TEST(a_release_before_any_network_is_fine) {
  release_ok("a");
  ck_assert_str_eq(networks(), "");
}
END_TEST

START_TEST(a_small_subnet_runs_out) {
  struct netns_network net = network("tiny", "10.77.0.0/30", NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.77.0.2/30");
  take_fails(&net, AF_INET, NULL, "b", "no free address in 10.77.0.0/30");
  ck_assert_str_eq(owners("tiny"), "a");
}
END_TEST

START_TEST(a_dead_owners_address_is_reclaimed) {
  struct netns_network net = network("tiny", "10.77.0.0/29", NULL);
  /* .2 to .6 */
  take_ok(&net, AF_INET, NULL, "a");
  take_ok(&net, AF_INET, NULL, "gone1");
  take_ok(&net, AF_INET, NULL, "b");
  take_ok(&net, AF_INET, NULL, "gone2");
  take_ok(&net, AF_INET, NULL, "c");
  const char *dead[] = {"gone1", "gone2", NULL};
  struct netns_addr out;
  hull_error_t err = NULL;
  ck_assert_int_eq(take(&net, AF_INET, NULL, "d", dead, &out, &err), 0);
  ck_assert_str_eq(text(&out), "10.77.0.3/29");
  ck_assert_int_eq(take(&net, AF_INET, "10.77.0.5", "e", dead, &out, &err), 0);
  ck_assert_str_eq(text(&out), "10.77.0.5/29");
  ck_assert_str_eq(owners("tiny"), "a,b,c,d,e");
  /* Everyone alive: none to reclaim. */
  assert_error(take(&net, AF_INET, NULL, "f", dead, &out, &err), &err,
               "no free address in 10.77.0.0/29");
}
END_TEST

START_TEST(free_addresses_go_before_reclaimed_ones) {
  struct netns_network net = network("hull0", NULL, NULL);
  take_ok(&net, AF_INET, NULL, "gone");
  const char *dead[] = {"gone", NULL};
  struct netns_addr out;
  hull_error_t err = NULL;
  ck_assert_int_eq(take(&net, AF_INET, NULL, "a", dead, &out, &err), 0);
  ck_assert_str_eq(text(&out), "10.89.0.3/24");
}
END_TEST

START_TEST(ipv6_addresses) {
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "a"),
                   "fd89:6875:6c6c::2/64");
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "b"),
                   "fd89:6875:6c6c::3/64");
  ck_assert_str_eq(take_ok(&net, AF_INET6, "fd89:6875:6c6c::abcd:1", "c"),
                   "fd89:6875:6c6c::abcd:1/64");
  take_fails(&net, AF_INET6, "fd89:6875:6c6c::abcd:1", "d",
             "fd89:6875:6c6c::abcd:1 is taken by container \"c\"");
  /* The families are counted apart. */
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "b"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "b"),
                   "fd89:6875:6c6c::3/64");
}
END_TEST

START_TEST(a_small_ipv6_subnet_runs_out) {
  struct netns_network net = network("tiny", "10.77.0.0/24", "fd00:77::/120");
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "c2"), "fd00:77::2/120");
  /* ::2 to ::ff: IPv6 has no broadcast address to keep. */
  for (int i = 3; i <= 0xff; i++) {
    char id[16];
    snprintf(id, sizeof(id), "c%d", i);
    take_ok(&net, AF_INET6, NULL, id);
  }
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "c255"), "fd00:77::ff/120");
  take_fails(&net, AF_INET6, NULL, "more", "no free address in fd00:77::/120");
}
END_TEST

/* ---- parallel takers ---------------------------------------------------- */

#define TAKERS 24

/* Each child waits on the start pipe, takes an address for "c<i>" and
 * writes it (text, fixed size) to the result pipe. */
static void taker(int i, int start, int result) {
  char c;
  if (read(start, &c, 1) != 0)
    _exit(2);
  hull_error_t err = NULL;
  struct netns_network net;
  if (netns_network_open(root, "hull0", NULL, NULL, 0, true, &net, &err) < 0)
    _exit(3);
  char id[16];
  snprintf(id, sizeof(id), "c%d", i);
  struct netns_addr out;
  for (int family = AF_INET, n = 0; n < 2; family = AF_INET6, n++) {
    if (netns_ipam_take(root, &net, family, NULL, id, alive_unless_listed,
                        NULL, &out, &err) < 0) {
      fprintf(stderr, "%s: %s\n", id, err->msg);
      _exit(4);
    }
    char line[64] = {0};
    netns_addr_format(&out, line, sizeof(line));
    if (write(result, line, sizeof(line)) != sizeof(line))
      _exit(5);
  }
  _exit(0);
}

START_TEST(parallel_takers_get_distinct_addresses) {
  int start[2], result[2];
  ck_assert_int_eq(pipe(start), 0);
  ck_assert_int_eq(pipe(result), 0);
  pid_t pids[TAKERS];
  for (int i = 0; i < TAKERS; i++) {
    pids[i] = fork();
    ck_assert_int_ge(pids[i], 0);
    if (pids[i] == 0) {
      close(start[1]);
      close(result[0]);
      taker(i, start[0], result[1]);
    }
  }
  close(start[0]);
  close(result[1]);
  close(start[1]); /* every child starts at once */
  for (int i = 0; i < TAKERS; i++) {
    int status;
    ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "taker %d: status %#x", i, status);
  }
  char got[2 * TAKERS][64];
  for (int i = 0; i < 2 * TAKERS; i++)
    ck_assert_int_eq(read(result[0], got[i], 64), 64);
  close(result[0]);
  for (int i = 0; i < 2 * TAKERS; i++)
    for (int j = i + 1; j < 2 * TAKERS; j++)
      ck_assert_msg(strcmp(got[i], got[j]) != 0, "%s handed out twice",
                    got[i]);
  /* Exactly .2 to .(TAKERS + 1) of each family: no gaps, none lost. */
  struct netns_network net = network("hull0", NULL, NULL);
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "last"), "10.89.0.26/24");
  ck_assert_str_eq(take_ok(&net, AF_INET6, NULL, "last"),
                   "fd89:6875:6c6c::1a/64");
  ck_assert_str_eq(networks(), "hull0");
}
END_TEST

/* ---- what a crash leaves ------------------------------------------------ */

static void touch(const char *rel) {
  cleanup_free char *path = xasprintf("%s/%s", root, rel);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "half", 4), 4);
  close(fd);
}

START_TEST(leftovers_of_a_crash_are_no_addresses) {
  struct netns_network net = network("hull0", NULL, NULL);
  /* Files that are no record: a dot-file (what a writer's temporary file
   * would be), names like an address without "=<owner>", or without an
   * owner after it. */
  touch(".networks/hull0/ipv4/.tmp-10.89.0.2=x.123");
  touch(".networks/hull0/ipv4/10.89.0.2.tmp");
  touch(".networks/hull0/ipv4/10.89.0.2");
  touch(".networks/hull0/ipv4/10.89.0.3=");
  touch(".networks/hull0/network.tmp-99");
  ck_assert_str_eq(owners("hull0"), "");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.2/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "b"), "10.89.0.3/24");
  ck_assert_str_eq(owners("hull0"), "a,b");
  hull_error_t err = NULL;
  release_ok("a");
  release_ok("b");
  ck_assert_int_eq(netns_network_remove(root, "hull0", &err), 0);
}
END_TEST

/* A taker moving a to another address is killed between making the new
 * record and removing the old one: a holds two until it asks again. */
START_TEST(a_move_cut_short_is_mended) {
  struct netns_network net = network("hull0", NULL, NULL);
  touch(".networks/hull0/ipv4/10.89.0.9=a");
  touch(".networks/hull0/ipv4/10.89.0.5=a");
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.5/24");
  ck_assert_str_eq(take_ok(&net, AF_INET, "10.89.0.9", "b"), "10.89.0.9/24");
  ck_assert_str_eq(owners("hull0"), "a,b");
}
END_TEST

START_TEST(a_network_half_made_is_no_network) {
  /* A creator killed before its network was complete. */
  cleanup_free char *dir = xasprintf("%s/.networks/.new-blue-123", root);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(dir, 0700, &err), 0);
  touch(".networks/.new-blue-123/network.tmp-123");
  ck_assert_str_eq(networks(), "");
  struct netns_network net;
  assert_error(netns_network_open(root, "blue", NULL, NULL, 0, false, &net,
                                  &err),
               &err, "network \"blue\" does not exist");
  network("blue", NULL, NULL);
  ck_assert_str_eq(networks(), "blue");
}
END_TEST

/* A taker killed while it holds the lock does not keep others out. */
START_TEST(a_killed_taker_leaves_no_lock) {
  struct netns_network net = network("hull0", NULL, NULL);
  cleanup_free char *lock = xasprintf("%s/.networks/.lock", root);
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) < 0)
      _exit(1);
    if (write(ready[1], "x", 1) != 1)
      _exit(1);
    pause();
    _exit(0);
  }
  char c;
  ck_assert_int_eq(read(ready[0], &c, 1), 1);
  kill(pid, SIGKILL);
  ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
  close(ready[0]);
  close(ready[1]);
  ck_assert_str_eq(take_ok(&net, AF_INET, NULL, "a"), "10.89.0.2/24");
}
END_TEST

static Suite *ipam_suite(void) {
  Suite *s = suite_create("ipam");
  TCase *nets = tcase_create("networks");
  tcase_add_checked_fixture(nets, setup, teardown);
  tcase_add_test(nets, default_network_gets_its_subnets);
  tcase_add_test(nets, other_networks_get_the_lowest_free_subnets);
  tcase_add_test(nets, a_network_opens_as_recorded);
  tcase_add_test(nets, an_unknown_network_is_not_made_unless_asked);
  tcase_add_test(nets, bad_subnets_are_refused);
  tcase_add_test(nets, overlapping_subnets_are_refused);
  tcase_add_test(nets, a_recorded_network_keeps_its_subnets);
  tcase_add_test(nets, a_network_in_use_is_not_removed);
  suite_add_tcase(s, nets);

  TCase *addrs = tcase_create("addresses");
  tcase_add_checked_fixture(addrs, setup, teardown);
  tcase_add_test(addrs, first_address_follows_the_gateway);
  tcase_add_test(addrs, a_wanted_address_is_given);
  tcase_add_test(addrs, a_taken_address_is_refused);
  tcase_add_test(addrs, addresses_that_are_not_hosts_are_refused);
  tcase_add_test(addrs, malformed_requests_are_refused);
  tcase_add_test(addrs, asking_again_gives_the_same_address);
  tcase_add_test(addrs, release_frees_every_address);
  tcase_add_test(addrs, a_release_before_any_network_is_fine);
  tcase_add_test(addrs, a_small_subnet_runs_out);
  tcase_add_test(addrs, a_dead_owners_address_is_reclaimed);
  tcase_add_test(addrs, free_addresses_go_before_reclaimed_ones);
  tcase_add_test(addrs, ipv6_addresses);
  tcase_add_test(addrs, a_small_ipv6_subnet_runs_out);
  suite_add_tcase(s, addrs);

  TCase *hard = tcase_create("concurrency and crashes");
  tcase_add_checked_fixture(hard, setup, teardown);
  tcase_set_timeout(hard, 30);
  tcase_add_test(hard, parallel_takers_get_distinct_addresses);
  tcase_add_test(hard, leftovers_of_a_crash_are_no_addresses);
  tcase_add_test(hard, a_move_cut_short_is_mended);
  tcase_add_test(hard, a_network_half_made_is_no_network);
  tcase_add_test(hard, a_killed_taker_leaves_no_lock);
  suite_add_tcase(s, hard);
  return s;
}

HULL_SUITE(ipam_suite)
