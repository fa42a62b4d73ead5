/* test_nft.c — hull's nftables rules (netns/nft.c), proved with packets.
 * Each test process (forked by Check) unshares a network namespace, its
 * "host", so the host's ruleset and interfaces are never touched; the
 * containers and the "outside" are more namespaces made the same way, held
 * by an fd. The test process itself is every client and every server: a
 * socket stays in the namespace it was made in, so it makes each socket
 * there and comes back; the kernel does the rest (a TCP handshake completes
 * before accept()). Also the run.oci.network.ports parser. */
#include "netns/netns.h"
#include "tests/netns-test.h"
#include "tests/suite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the run.oci.network.ports syntax ---------------------------------- */

START_TEST(ports_parse_good) {
  struct netns_port *p = NULL;
  size_t n = 0;
  NL_OK(netns_ports_parse("8080:80/tcp,5353:53/udp,9000:9000", &p, &n, &err_));
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(p[0].host_port, 8080);
  ck_assert_uint_eq(p[0].container_port, 80);
  ck_assert_int_eq(p[0].proto, IPPROTO_TCP);
  ck_assert_uint_eq(p[1].host_port, 5353);
  ck_assert_uint_eq(p[1].container_port, 53);
  ck_assert_int_eq(p[1].proto, IPPROTO_UDP);
  ck_assert_uint_eq(p[2].host_port, 9000);
  ck_assert_uint_eq(p[2].container_port, 9000);
  ck_assert_int_eq(p[2].proto, IPPROTO_TCP);
  free(p);
  /* One host port, two protocols; the ends of the range. */
  NL_OK(netns_ports_parse("53:53/udp,53:53,1:65535", &p, &n, &err_));
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(p[2].host_port, 1);
  ck_assert_uint_eq(p[2].container_port, 65535);
  free(p);
}
END_TEST

START_TEST(ports_parse_bad) {
  struct netns_port *p = NULL;
  size_t n = 9;
  NL_FAILS_WITH(netns_ports_parse("", &p, &n, &err_),
             "\"\": expected host_port:container_port[/tcp|/udp]");
  NL_FAILS_WITH(netns_ports_parse("8080", &p, &n, &err_),
             "\"8080\": expected host_port:container_port[/tcp|/udp]");
  NL_FAILS_WITH(netns_ports_parse("8080:80,", &p, &n, &err_),
             "\"\": expected host_port:container_port[/tcp|/udp]");
  NL_FAILS_WITH(netns_ports_parse("8080:80/sctp", &p, &n, &err_),
             "\"8080:80/sctp\": protocol \"sctp\" is not tcp or udp");
  NL_FAILS_WITH(netns_ports_parse("8080:80/", &p, &n, &err_),
             "\"8080:80/\": protocol \"\" is not tcp or udp");
  NL_FAILS_WITH(netns_ports_parse("1:1,0:80", &p, &n, &err_),
             "\"0:80\": host port \"0\" is not a number from 1 to 65535");
  NL_FAILS_WITH(netns_ports_parse("65536:80", &p, &n, &err_),
             "\"65536:80\": host port \"65536\" is not a number from 1 to "
             "65535");
  NL_FAILS_WITH(netns_ports_parse(" 80:80", &p, &n, &err_),
             "\" 80:80\": host port \" 80\" is not a number from 1 to 65535");
  NL_FAILS_WITH(netns_ports_parse("80:-1/udp", &p, &n, &err_),
             "\"80:-1/udp\": container port \"-1\" is not a number from 1 to "
             "65535");
  NL_FAILS_WITH(netns_ports_parse("80:", &p, &n, &err_),
             "\"80:\": container port \"\" is not a number from 1 to 65535");
  NL_FAILS_WITH(netns_ports_parse("80:8:1", &p, &n, &err_),
             "\"80:8:1\": container port \"8:1\" is not a number from 1 to "
             "65535");
  NL_FAILS_WITH(netns_ports_parse("8080:80,8080:81/tcp", &p, &n, &err_),
             "\"8080:81/tcp\": host port 8080/tcp is published twice");
  ck_assert_ptr_null(p);
  ck_assert_uint_eq(n, 0);
}
END_TEST

/* ---- a small world of namespaces -------------------------------------- */

static struct netns_addr addr(const char *text) {
  struct netns_addr a;
  NL_OK(netns_addr_parse(text, &a, &err_));
  if (a.family == AF_INET6)
    a.flags = IFA_F_NODAD;   /* usable at once */
  return a;
}

/* A new network namespace, held by the returned fd; the caller stays in
 * (or comes back to) home. */
static int new_netns(int home) {
  ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
  int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  NL_OK(netns_loopback_up(&err_));
  ck_assert_int_eq(setns(home, CLONE_NEWNET), 0);
  return fd;
}

static void enter(int ns) { ck_assert_int_eq(setns(ns, CLONE_NEWNET), 0); }

struct world {
  int host;   /* the test's own namespace, where hull's rules go */
  int c1, c2; /* containers on bridge hb0: 10.99.0.2 and .3, fd99::2 */
  int c3;     /* a container on bridge hb1 (another network): 10.98.0.2 */
  int out;    /* outside: 192.168.77.2 (fd77::2) behind the host's up0 */
};

static void add_bridge(const char *name, const char *a4, const char *a6) {
  NL_OK(netns_link_add(name, "bridge", &err_));
  struct netns_addr a = addr(a4);
  NL_OK(netns_addr_add(name, &a, &err_));
  if (a6) {
    a = addr(a6);
    NL_OK(netns_addr_add(name, &a, &err_));
  }
  NL_OK(netns_link_set_up(name, true, &err_));
}

/* A veth pair: host_end here (a port of bridge when not NULL), the other
 * end in ns as eth0 with address a4 (and a6) and default routes via gw4
 * (and gw6) when not NULL. */
static void plug(const struct world *w, int ns, const char *host_end,
                 const char *bridge, const char *a4, const char *gw4,
                 const char *a6, const char *gw6) {
  char peer[IFNAMSIZ];
  snprintf(peer, sizeof(peer), "%s-p", host_end);
  NL_OK(netns_link_add_veth(host_end, peer, &err_));
  if (bridge)
    NL_OK(netns_link_set_master(host_end, bridge, &err_));
  NL_OK(netns_link_set_up(host_end, true, &err_));
  NL_OK(netns_link_move(peer, ns, "eth0", &err_));
  enter(ns);
  struct netns_addr a = addr(a4);
  NL_OK(netns_addr_add("eth0", &a, &err_));
  if (a6) {
    a = addr(a6);
    NL_OK(netns_addr_add("eth0", &a, &err_));
  }
  NL_OK(netns_link_set_up("eth0", true, &err_));
  if (gw4) {
    struct netns_addr gw = addr(gw4);
    NL_OK(netns_route_add("eth0", NULL, &gw, &err_));
  }
  if (gw6) {
    struct netns_addr gw = addr(gw6);
    NL_OK(netns_route_add("eth0", NULL, &gw, &err_));
  }
  enter(w->host);
}

/* The host's end of the outside link: up0, 192.168.77.1 and fd77::1. The
 * outside has no route to the containers' subnets: what it answers must
 * have been masqueraded. */
static struct world make_world(void) {
  struct world w;
  w.host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(w.host, 0);
  NL_OK(netns_loopback_up(&err_));
  w.c1 = new_netns(w.host);
  w.c2 = new_netns(w.host);
  w.c3 = new_netns(w.host);
  w.out = new_netns(w.host);
  add_bridge("hb0", "10.99.0.1/24", "fd99::1/64");
  add_bridge("hb1", "10.98.0.1/24", NULL);
  plug(&w, w.c1, "v-c1", "hb0", "10.99.0.2/24", "10.99.0.1", "fd99::2/64",
       "fd99::1");
  plug(&w, w.c2, "v-c2", "hb0", "10.99.0.3/24", "10.99.0.1", NULL, NULL);
  plug(&w, w.c3, "v-c3", "hb1", "10.98.0.2/24", "10.98.0.1", NULL, NULL);
  plug(&w, w.out, "up0", NULL, "192.168.77.2/24", NULL, "fd77::2/64", NULL);
  struct netns_addr up = addr("192.168.77.1/24");
  NL_OK(netns_addr_add("up0", &up, &err_));
  up = addr("fd77::1/64");
  NL_OK(netns_addr_add("up0", &up, &err_));
  return w;
}

static void add_networks(void) {
  struct netns_addr s4 = addr("10.99.0.0/24"), s6 = addr("fd99::/64"),
                    t4 = addr("10.98.0.0/24");
  NL_OK(netns_nft_network_add("hb0", &s4, &s6, &err_));
  NL_OK(netns_nft_network_add("hb1", &t4, NULL, &err_));
}

/* What the kernel needs without hull's rules, so that a test's "before"
 * shows the rules, not a switched-off kernel, making the difference. */
static void enable_forwarding(void) {
  NL_OK(write_file("/proc/sys/net/ipv4/ip_forward", "1", 1, &err_));
  NL_OK(write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1", 1, &err_));
}

/* ---- clients and servers ----------------------------------------------- */

static void sockaddr_of(const char *ip, unsigned port,
                        struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    *len = sizeof(*in4);
  } else {
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    *len = sizeof(*in6);
  }
}

static const char *ip_of(const struct sockaddr_storage *ss, char *buf,
                         size_t size) {
  const void *a = ss->ss_family == AF_INET
                      ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                      : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
  ck_assert_ptr_nonnull(inet_ntop(ss->ss_family, a, buf, (socklen_t)size));
  return buf;
}

/* A server in ns on any address of family, port, TCP or UDP. */
static int serve(const struct world *w, int ns, int family, int type,
                 unsigned port) {
  enter(ns);
  int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ck_assert_int_ge(fd, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_storage ss;
  socklen_t len;
  sockaddr_of(family == AF_INET ? "0.0.0.0" : "::", port, &ss, &len);
  if (family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
  if (type == SOCK_STREAM)
    ck_assert_int_eq(listen(fd, 16), 0);
  enter(w->host);
  return fd;
}

/* How long a packet may take here: a connection that works is made within
 * a few milliseconds; one whose SYN is dropped would wait 1 s to resend. */
#define PATIENCE_MS 800

static bool ready(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  return poll(&p, 1, PATIENCE_MS) == 1 && (p.revents & events);
}

/* Throws away what an earlier attempt left queued on a server (a
 * connection that reached another server than it meant to). */
static void drain(int server) {
  char msg[8];
  for (;;) {
    int a = accept4(server, NULL, NULL, SOCK_CLOEXEC);
    if (a >= 0)
      close(a);
    else if (errno != EINTR &&
             recv(server, msg, sizeof(msg), MSG_DONTWAIT) < 0 &&
             errno != EINTR)
      return;
  }
}

/* Connects from namespace `from` to ip:port; when server accepts it,
 * returns the client address the server saw (in buf), else "". */
static const char *tcp_reach(const struct world *w, int from, int server,
                             const char *ip, unsigned port, char *buf,
                             size_t size) {
  drain(server);
  struct sockaddr_storage ss;
  socklen_t len;
  sockaddr_of(ip, port, &ss, &len);
  enter(from);
  int c = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ck_assert_int_ge(c, 0);
  int r = connect(c, (struct sockaddr *)&ss, len);
  enter(w->host);
  buf[0] = '\0';
  if (r < 0 && errno != EINPROGRESS)
    goto out;
  int error = 0;
  socklen_t elen = sizeof(error);
  if (!ready(c, POLLOUT) ||
      getsockopt(c, SOL_SOCKET, SO_ERROR, &error, &elen) < 0 || error)
    goto out;
  if (!ready(server, POLLIN))
    goto out;
  struct sockaddr_storage peer;
  socklen_t plen = sizeof(peer);
  int a = accept4(server, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
  if (a >= 0) {
    ip_of(&peer, buf, size);
    close(a);
  }
out:
  close(c);
  return buf;
}

/* Sends a datagram from `from` to ip:port; when server gets it and its
 * answer comes back, returns the client address the server saw. */
static const char *udp_reach(const struct world *w, int from, int server,
                             const char *ip, unsigned port, char *buf,
                             size_t size) {
  drain(server);
  struct sockaddr_storage ss;
  socklen_t len;
  sockaddr_of(ip, port, &ss, &len);
  enter(from);
  int c = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ck_assert_int_ge(c, 0);
  int r = connect(c, (struct sockaddr *)&ss, len);
  enter(w->host);
  buf[0] = '\0';
  char msg[8];
  struct sockaddr_storage peer;
  socklen_t plen = sizeof(peer);
  if (r < 0 || send(c, "ping", 4, 0) != 4 || !ready(server, POLLIN) ||
      recvfrom(server, msg, sizeof(msg), 0, (struct sockaddr *)&peer, &plen) !=
          4 ||
      sendto(server, "pong", 4, 0, (struct sockaddr *)&peer, plen) != 4 ||
      !ready(c, POLLIN) || recv(c, msg, sizeof(msg), 0) != 4 ||
      memcmp(msg, "pong", 4) != 0) {
    close(c);
    return buf;
  }
  close(c);
  return ip_of(&peer, buf, size);
}

#define TCP(from, server, ip, port)                                            \
  tcp_reach(&w, (from), (server), (ip), (port), seen, sizeof(seen))
#define UDP(from, server, ip, port)                                            \
  udp_reach(&w, (from), (server), (ip), (port), seen, sizeof(seen))

static bool owns(const char *id, bool bridge) {
  char **ids = NULL, **bridges = NULL;
  NL_OK(netns_nft_owners(&ids, &bridges, &err_));
  bool found = false;
  for (char **v = bridge ? bridges : ids; *v; v++)
    found |= strcmp(*v, id) == 0;
  strv_free(ids);
  strv_free(bridges);
  return found;
}

/* ---- published ports ---------------------------------------------------- */

static const struct netns_port c1_ports[] = {
    {8080, 80, IPPROTO_TCP},
    {5353, 53, IPPROTO_UDP},
};

START_TEST(publish_reaches_the_container) {
  ENTER_PRIVATE_NETNS();
  struct world w = make_world();
  add_networks();
  int web = serve(&w, w.c1, AF_INET, SOCK_STREAM, 80);
  int dns = serve(&w, w.c1, AF_INET, SOCK_DGRAM, 53);
  char seen[INET6_ADDRSTRLEN];

  /* Not published yet: nothing answers on 8080 anywhere. */
  ck_assert_str_eq(TCP(w.host, web, "127.0.0.1", 8080), "");
  ck_assert_str_eq(TCP(w.host, web, "192.168.77.1", 8080), "");
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 8080), "");
  ck_assert_str_eq(UDP(w.out, dns, "192.168.77.1", 5353), "");

  struct netns_addr c1 = addr("10.99.0.2/24");
  NL_OK(netns_nft_publish("c1", "hb0", &c1, NULL, c1_ports, 2, &err_));
  /* The host's own connections, by loopback (the container sees the
   * bridge's address: it could not answer 127.0.0.1), by the gateway, by
   * another of its addresses. */
  ck_assert_str_eq(TCP(w.host, web, "127.0.0.1", 8080), "10.99.0.1");
  ck_assert_str_eq(TCP(w.host, web, "10.99.0.1", 8080), "10.99.0.1");
  ck_assert_str_eq(TCP(w.host, web, "192.168.77.1", 8080), "192.168.77.1");
  ck_assert_str_eq(UDP(w.host, dns, "127.0.0.1", 5353), "10.99.0.1");
  /* From outside: the client's own address reaches the container. */
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 8080), "192.168.77.2");
  ck_assert_str_eq(UDP(w.out, dns, "192.168.77.1", 5353), "192.168.77.2");
  /* Only what was published, by its protocol. */
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 5353), "");
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 80), "");
  /* Another container on the network, by the gateway: masqueraded, so the
   * answer comes back through the host (hairpin). */
  ck_assert_str_eq(TCP(w.c2, web, "10.99.0.1", 8080), "10.99.0.1");
  /* One on another network, by any host address (masqueraded as it
   * leaves its network). */
  ck_assert_str_eq(TCP(w.c3, web, "10.98.0.1", 8080), "10.99.0.1");
  ck_assert(owns("c1", false));

  NL_OK(netns_nft_forget("c1", &err_));
  ck_assert(!owns("c1", false));
  ck_assert_str_eq(TCP(w.host, web, "127.0.0.1", 8080), "");
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 8080), "");
  ck_assert_str_eq(UDP(w.out, dns, "192.168.77.1", 5353), "");
  /* The network's rules stay. */
  ck_assert(owns("hb0", true));
}
END_TEST

START_TEST(publish_and_forget_again) {
  ENTER_PRIVATE_NETNS();
  struct world w = make_world();
  /* No table yet: nothing to forget, no owners. */
  NL_OK(netns_nft_forget("c1", &err_));
  NL_OK(netns_nft_network_del("hb0", &err_));
  ck_assert(!owns("c1", false));
  ck_assert(!owns("hb0", true));

  add_networks();
  add_networks();   /* replaces, does not duplicate */
  int web = serve(&w, w.c1, AF_INET, SOCK_STREAM, 80);
  int other = serve(&w, w.c1, AF_INET, SOCK_STREAM, 81);
  char seen[INET6_ADDRSTRLEN];
  struct netns_addr c1 = addr("10.99.0.2/24");
  NL_OK(netns_nft_publish("c1", "hb0", &c1, NULL, c1_ports, 1, &err_));
  /* Published again with another port: the first mapping is gone. */
  struct netns_port moved = {8080, 81, IPPROTO_TCP};
  NL_OK(netns_nft_publish("c1", "hb0", &c1, NULL, &moved, 1, &err_));
  ck_assert_str_eq(TCP(w.out, other, "192.168.77.1", 8080), "192.168.77.2");
  ck_assert_str_eq(TCP(w.out, web, "192.168.77.1", 8080), "");
  /* Two containers, one forgotten. */
  struct netns_addr c2 = addr("10.99.0.3/24");
  struct netns_port p2 = {9090, 80, IPPROTO_TCP};
  int web2 = serve(&w, w.c2, AF_INET, SOCK_STREAM, 80);
  NL_OK(netns_nft_publish("c2", "hb0", &c2, NULL, &p2, 1, &err_));
  NL_OK(netns_nft_forget("c1", &err_));
  NL_OK(netns_nft_forget("c1", &err_));
  ck_assert_str_eq(TCP(w.out, other, "192.168.77.1", 8080), "");
  ck_assert_str_eq(TCP(w.out, web2, "192.168.77.1", 9090), "192.168.77.2");
  ck_assert(!owns("c1", false));
  ck_assert(owns("c2", false));
  NL_OK(netns_nft_forget("c2", &err_));

  /* The network's rules go with network_del: no more masquerade. */
  ck_assert(owns("hb0", true) && owns("hb1", true));
  NL_OK(netns_nft_network_del("hb0", &err_));
  NL_OK(netns_nft_network_del("hb0", &err_));
  ck_assert(!owns("hb0", true));
  ck_assert(owns("hb1", true));
  int away = serve(&w, w.out, AF_INET, SOCK_STREAM, 7000);
  ck_assert_str_eq(TCP(w.c1, away, "192.168.77.2", 7000), "");
}
END_TEST

START_TEST(publish_errors) {
  ENTER_PRIVATE_NETNS();
  struct netns_addr c1 = addr("10.99.0.2/24");
  struct netns_port bad = {0, 80, IPPROTO_TCP};
  NL_FAILS_WITH(netns_nft_publish("c1", "hb0", &c1, NULL, &bad, 1, &err_),
             "netns: publish ports of \"c1\": port 0:80 (protocol 6) is not a "
             "TCP or UDP port from 1 to 65535");
  NL_FAILS_WITH(netns_nft_publish("c1", "hb0", NULL, NULL, c1_ports, 1, &err_),
             "netns: publish ports of \"c1\": no address to publish to");
  char long_id[NETNS_NFT_TAG_MAX + 2];
  memset(long_id, 'a', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  hull_error_t err = NULL;
  ck_assert_int_lt(netns_nft_publish(long_id, "hb0", &c1, NULL, c1_ports, 1,
                                     &err), 0);
  ck_assert(strstr(err->msg, ": container id longer than 200 bytes"));
  hull_error_release(&err);
  NL_FAILS_WITH(netns_nft_publish("network hb0", "hb0", &c1, NULL, c1_ports, 1,
                               &err_),
             "netns: publish ports of \"network hb0\": container id with a "
             "space");
  /* A bridge that is not there. */
  struct netns_addr s4 = addr("10.99.0.0/24");
  NL_FAILS_WITH(netns_nft_network_add("nope", &s4, NULL, &err_),
             "netns: set net.ipv4.conf.nope.route_localnet=1: open "
             "`/proc/sys/net/ipv4/conf/nope/route_localnet`: No such file or "
             "directory");
  /* Nothing was made on the way. */
  ck_assert(!owns("c1", false));
}
END_TEST

/* A transaction is whole or nothing, and its error names the message the
 * kernel refused. */
START_TEST(batch_is_atomic) {
  ENTER_PRIVATE_NETNS();
  struct netns_nft_batch b;
  NL_OK(netns_nft_batch_start(&b, &err_));
  netns_nft_batch_table(&b);
  struct nftnl_rule *r = netns_nft_rule_new("forward", "c1");
  netns_nft_verdict(r, NF_ACCEPT);
  netns_nft_batch_rule(&b, r, false);
  r = netns_nft_rule_new("nochain", "c2");
  netns_nft_verdict(r, NF_ACCEPT);
  netns_nft_batch_rule(&b, r, false);
  NL_FAILS_WITH(netns_nft_batch_commit(&b, &err_, "test batch"),
             "netns: test batch: add rule to chain nochain: No such file or "
             "directory");
  ck_assert(!owns("c1", false));
  /* Without the bad rule it goes through. */
  NL_OK(netns_nft_batch_start(&b, &err_));
  netns_nft_batch_table(&b);
  r = netns_nft_rule_new("forward", "c1");
  netns_nft_verdict(r, NF_ACCEPT);
  netns_nft_batch_rule(&b, r, false);
  NL_OK(netns_nft_batch_commit(&b, &err_, "test batch"));
  ck_assert(owns("c1", false));
}
END_TEST

/* ---- outbound NAT and isolation -------------------------------------- */

START_TEST(masquerade_outbound) {
  ENTER_PRIVATE_NETNS();
  struct world w = make_world();
  int away = serve(&w, w.out, AF_INET, SOCK_STREAM, 7000);
  char seen[INET6_ADDRSTRLEN];
  /* Forwarded, not masqueraded: the outside cannot answer 10.99.0.2. */
  enable_forwarding();
  ck_assert_str_eq(TCP(w.c1, away, "192.168.77.2", 7000), "");
  add_networks();
  ck_assert_str_eq(TCP(w.c1, away, "192.168.77.2", 7000), "192.168.77.1");
  ck_assert_str_eq(TCP(w.c3, away, "192.168.77.2", 7000), "192.168.77.1");
}
END_TEST

START_TEST(isolation_between_networks) {
  ENTER_PRIVATE_NETNS();
  struct world w = make_world();
  int c2_web = serve(&w, w.c2, AF_INET, SOCK_STREAM, 80);
  int c3_web = serve(&w, w.c3, AF_INET, SOCK_STREAM, 80);
  int c1_web = serve(&w, w.c1, AF_INET, SOCK_STREAM, 80);
  int host_ssh = serve(&w, w.host, AF_INET, SOCK_STREAM, 22);
  int out_web = serve(&w, w.out, AF_INET, SOCK_STREAM, 80);
  char seen[INET6_ADDRSTRLEN];

  /* Before: a plain router lets every container reach everything. */
  enable_forwarding();
  ck_assert_str_eq(TCP(w.c1, c3_web, "10.98.0.2", 80), "10.99.0.2");
  ck_assert_str_eq(TCP(w.c1, host_ssh, "192.168.77.1", 22), "10.99.0.2");
  ck_assert_str_eq(TCP(w.c1, host_ssh, "10.98.0.1", 22), "10.99.0.2");

  add_networks();
  /* One network: containers talk, and to their gateway. */
  ck_assert_str_eq(TCP(w.c1, c2_web, "10.99.0.3", 80), "10.99.0.2");
  ck_assert_str_eq(TCP(w.c1, host_ssh, "10.99.0.1", 22), "10.99.0.2");
  ck_assert_str_eq(TCP(w.c3, host_ssh, "10.98.0.1", 22), "10.98.0.2");
  /* Across networks, neither way. */
  ck_assert_str_eq(TCP(w.c1, c3_web, "10.98.0.2", 80), "");
  ck_assert_str_eq(TCP(w.c3, c1_web, "10.99.0.2", 80), "");
  /* The host's other addresses: not even replied to. */
  ck_assert_str_eq(TCP(w.c1, host_ssh, "192.168.77.1", 22), "");
  ck_assert_str_eq(TCP(w.c1, host_ssh, "10.98.0.1", 22), "");
  ck_assert_str_eq(TCP(w.c3, host_ssh, "10.99.0.1", 22), "");
  /* The outside: reachable from containers, while it cannot reach into a
   * network (even with a route) unless by a published port. */
  ck_assert_str_eq(TCP(w.c1, out_web, "192.168.77.2", 80), "192.168.77.1");
  enter(w.out);
  struct netns_addr via = addr("192.168.77.1"), dst = addr("10.99.0.0/24");
  NL_OK(netns_route_add("eth0", &dst, &via, &err_));
  enter(w.host);
  ck_assert_str_eq(TCP(w.out, c1_web, "10.99.0.2", 80), "");
  /* The host's own connections into its networks are not forwarding. */
  ck_assert_str_eq(TCP(w.host, c1_web, "10.99.0.2", 80), "10.99.0.1");
  ck_assert_str_eq(TCP(w.host, c3_web, "10.98.0.2", 80), "10.98.0.1");
}
END_TEST

/* ---- IPv6 -------------------------------------------------------------- */

START_TEST(ipv6_publish_and_masquerade) {
  ENTER_PRIVATE_NETNS();
  struct world w = make_world();
  int web = serve(&w, w.c1, AF_INET6, SOCK_STREAM, 80);
  int away = serve(&w, w.out, AF_INET6, SOCK_STREAM, 7000);
  char seen[INET6_ADDRSTRLEN];
  enable_forwarding();
  ck_assert_str_eq(TCP(w.c1, away, "fd77::2", 7000), "");
  ck_assert_str_eq(TCP(w.out, web, "fd77::1", 8080), "");

  add_networks();
  ck_assert_str_eq(TCP(w.c1, away, "fd77::2", 7000), "fd77::1");
  struct netns_addr c1_4 = addr("10.99.0.2/24"), c1_6 = addr("fd99::2/64");
  NL_OK(netns_nft_publish("c1", "hb0", &c1_4, &c1_6, c1_ports, 1, &err_));
  ck_assert_str_eq(TCP(w.out, web, "fd77::1", 8080), "fd77::2");
  ck_assert_str_eq(TCP(w.host, web, "fd77::1", 8080), "fd77::1");
  ck_assert_str_eq(TCP(w.host, web, "fd99::1", 8080), "fd99::1");
  /* The host's addresses but the gateway's stay closed to containers. */
  int host_ssh = serve(&w, w.host, AF_INET6, SOCK_STREAM, 22);
  ck_assert_str_eq(TCP(w.c1, host_ssh, "fd99::1", 22), "fd99::2");
  ck_assert_str_eq(TCP(w.c1, host_ssh, "fd77::1", 22), "");
  NL_OK(netns_nft_forget("c1", &err_));
  ck_assert_str_eq(TCP(w.out, web, "fd77::1", 8080), "");
}
END_TEST

static Suite *nft_suite(void) {
  Suite *s = suite_create("nft");
  TCase *parse = tcase_create("ports");
  tcase_add_test(parse, ports_parse_good);
  tcase_add_test(parse, ports_parse_bad);
  suite_add_tcase(s, parse);
  TCase *tc = tcase_create("nft");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, publish_reaches_the_container);
  tcase_add_test(tc, publish_and_forget_again);
  tcase_add_test(tc, publish_errors);
  tcase_add_test(tc, batch_is_atomic);
  tcase_add_test(tc, masquerade_outbound);
  tcase_add_test(tc, isolation_between_networks);
  tcase_add_test(tc, ipv6_publish_and_masquerade);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(nft_suite)
