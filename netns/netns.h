/* netns.h — what hull does with network interfaces, over rtnetlink.
 *
 * Everything talks rtnetlink through libmnl (no `ip`), in the calling
 * process's current network namespace; callers enter the right namespace
 * first. Each failure is one hull error naming what was asked, then the
 * kernel's errno and, when the kernel gave one, its extended-ack text:
 *   netns: add veth "h-3f2a" peer "eth0": File exists
 *   netns: add link "x" kind "nope": Operation not supported
 *     (kernel: Unknown device type)
 *
 * Files: nl.c (socket, request, acknowledgement, dumps, batches), link.c
 * (links of every kind: veth, bridge, dummy, tap, macvlan, ipvlan; up,
 * MTU, MAC, alias, name, master, namespace), addr.c, route.c, neigh.c
 * (permanent neighbour entries), tc.c (traffic control: two links joined
 * into one wire), carry.c (into another namespace and
 * back), attach.c (a container's veth pair on a bridge), loopback.c;
 * ipam.c (hull's networks and their addresses, on disk: no netlink);
 * nftables: nft.c (hull's rules for networks and published ports),
 * nft-rule.c (the expressions a rule is made of), nft-batch.c
 * (transactions, the table and its chains, rules found by tag), ports.c
 * (the run.oci.network.ports syntax). */
#ifndef HULL_NETNS_H
#define HULL_NETNS_H

#include "runtime/common/common.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* ---- links (link.c) ---------------------------------------------------- */

struct netns_link {
  int index;
  char name[IFNAMSIZ];
  unsigned flags;      /* IFF_* (IFF_UP: administratively up) */
  unsigned mtu;
  int master;          /* ifindex of the bridge it is a port of, 0: none */
  char kind[16];       /* "veth", "bridge", "dummy", "tun", "macvlan",
                        * "ipvlan"; "" for devices */
  char mode[16];       /* a macvlan's or ipvlan's mode ("bridge", "l3s"),
                        * "" for other kinds */
  int parent;          /* IFLA_LINK: the link a macvlan or ipvlan sits on
                        * (a veth: its peer), 0: none */
  unsigned char mac[6];/* its hardware address; all zero when it has none
                        * of 6 bytes (lo has 00:00:00:00:00:00 anyway) */
  bool has_mac;        /* IFLA_ADDRESS had 6 bytes (an Ethernet address) */
  char alias[256];     /* IFLA_IFALIAS ("" when none) */
};

/* Fills *out for the link called name; ENODEV when there is none. */
int netns_link_get(const char *name, struct netns_link *out,
                   hull_error_t *err);
int netns_link_get_by_index(int index, struct netns_link *out,
                            hull_error_t *err);
/* Every link of the namespace; *out is malloc'd (free it). */
int netns_link_list(struct netns_link **out, size_t *n, hull_error_t *err);
/* The ifindex of the link called name (> 0), or -1. */
int netns_link_index(const char *name, hull_error_t *err);

/* A link of a kind that needs no more than its name: "bridge", "dummy"
 * (any kind the kernel creates over RTM_NEWLINK from a name alone). */
int netns_link_add(const char *name, const char *kind, hull_error_t *err);
/* A veth pair: name here, peer its other end (same namespace). */
int netns_link_add_veth(const char *name, const char *peer, hull_error_t *err);
/* A veth pair made in one request, both ends configured at birth but down
 * (the kernel refuses IFF_UP before the pair is joined: ENOTCONN). */
struct netns_veth {
  const char *name;        /* this end, made here */
  const char *peer;        /* the other end */
  int peer_netns_fd;       /* -1: the peer is made here too; else in the
                              network namespace this fd refers to */
  int master;              /* ifindex of a bridge for this end, 0: none */
  unsigned mtu;            /* both ends; 0: the kernel's default */
};
int netns_link_add_veth_pair(const struct netns_veth *v, hull_error_t *err);
/* A persistent tap device (through /dev/net/tun: the kernel does not create
 * tun/tap over rtnetlink). */
int netns_link_add_tap(const char *name, hull_error_t *err);
/* A macvlan on the link parent, mode "bridge", "private", "vepa" or
 * "passthru". Kernels without the driver answer EOPNOTSUPP:
 *   netns: add macvlan "m0" on "eth0": Operation not supported
 *     (kernel: Unknown device type) */
int netns_link_add_macvlan(const char *name, const char *parent,
                           const char *mode, hull_error_t *err);
/* An ipvlan on the link parent, mode "l2", "l3" or "l3s". */
int netns_link_add_ipvlan(const char *name, const char *parent,
                          const char *mode, hull_error_t *err);
/* A tap that lives as long as its queue: *fd (O_CLOEXEC) is the queue a
 * hypervisor reads and writes frames on (IFF_TAP | IFF_NO_PI); the device
 * goes when the last fd on it closes. */
int netns_link_open_tap(const char *name, int *fd, hull_error_t *err);
int netns_link_del(const char *name, hull_error_t *err);

int netns_link_set_up(const char *name, bool up, hull_error_t *err);
int netns_link_set_mtu(const char *name, unsigned mtu, hull_error_t *err);
/* IFLA_IFALIAS: free text the kernel keeps with the link (hull writes the
 * owning container's id there, to tell its links from others'). */
int netns_link_set_alias(const char *name, const char *alias,
                         hull_error_t *err);
/* Sets the link's hardware address (a multicast one is refused by the
 * kernel: EADDRNOTAVAIL). */
int netns_link_set_mac(const char *name, const unsigned char mac[6],
                       hull_error_t *err);
/* "02:42:ac:11:00:02" (either case) -> mac. */
int netns_mac_parse(const char *text, unsigned char mac[6], hull_error_t *err);
/* mac as "02:42:ac:11:00:02" into buf (18 bytes is enough). */
const char *netns_mac_format(const unsigned char mac[6], char *buf,
                             size_t size);
int netns_link_rename(const char *name, const char *new_name,
                      hull_error_t *err);
/* Makes name a port of the bridge master; master NULL: no longer a port. */
int netns_link_set_master(const char *name, const char *master,
                          hull_error_t *err);
/* Moves the link into the network namespace netns_fd refers to, renamed to
 * new_name there when not NULL. A failure leaves it here (the kernel
 * renames after moving: a taken name is undone by a move back). The kernel
 * takes the link down and drops its addresses on the way. */
int netns_link_move(const char *name, int netns_fd, const char *new_name,
                    hull_error_t *err);

/* ---- addresses (addr.c) ------------------------------------------------ */

struct netns_addr {
  int family;                 /* AF_INET or AF_INET6 */
  unsigned char bytes[16];    /* 4 used for AF_INET */
  unsigned prefixlen;
  unsigned char scope;        /* RT_SCOPE_*; on add, 0 (universe) mostly */
  unsigned flags;             /* IFA_F_* (on add: the settable ones, e.g.
                               * IFA_F_NODAD) */
};

/* "10.0.0.1/24", "fd00::1/64" (no prefix: /32, /128) -> *out. */
int netns_addr_parse(const char *text, struct netns_addr *out,
                     hull_error_t *err);
/* "10.0.0.1/24" into buf (INET6_ADDRSTRLEN + 4 bytes is enough). */
const char *netns_addr_format(const struct netns_addr *a, char *buf,
                              size_t size);

int netns_addr_add(const char *link, const struct netns_addr *a,
                   hull_error_t *err);
int netns_addr_del(const char *link, const struct netns_addr *a,
                   hull_error_t *err);
/* The addresses on link, of both families; *out is malloc'd (free it). */
int netns_addr_list(const char *link, struct netns_addr **out, size_t *n,
                    hull_error_t *err);

/* ---- routes (route.c) -------------------------------------------------- */

struct netns_route {
  int family;
  unsigned char dst[16];
  unsigned dst_len;           /* 0: the default route */
  bool has_gateway;
  unsigned char gateway[16];
  int oif;                    /* output ifindex, 0: none given */
};

/* A route in the main table: to dst (NULL: default) through gateway (NULL:
 * directly on link), out of link (NULL: let the kernel pick by gateway). */
int netns_route_add(const char *link, const struct netns_addr *dst,
                    const struct netns_addr *gateway, hull_error_t *err);
/* The main table's routes of family (AF_INET, AF_INET6); *out malloc'd. */
int netns_route_list(int family, struct netns_route **out, size_t *n,
                     hull_error_t *err);

/* ---- neighbours (neigh.c) --------------------------------------------- */

struct netns_neigh {
  int family;                 /* AF_INET or AF_INET6 */
  unsigned char ip[16];       /* 4 used for AF_INET */
  unsigned char mac[6];       /* all zero for an entry not resolved (yet) */
  unsigned state;             /* NUD_* (on set: NUD_PERMANENT, always) */
};

/* Adds a permanent entry ip -> mac on link, replacing any entry there for
 * that ip (resolved, stale or permanent). */
int netns_neigh_set(const char *link, const struct netns_neigh *n,
                    hull_error_t *err);
/* Removes link's entry for n's ip (its mac is not looked at); ENOENT when
 * there is none. */
int netns_neigh_del(const char *link, const struct netns_neigh *n,
                    hull_error_t *err);
/* link's entries of family (AF_INET, AF_INET6, AF_UNSPEC: both), in any
 * state; *out is malloc'd (free it). */
int netns_neigh_list(const char *link, int family, struct netns_neigh **out,
                     size_t *n, hull_error_t *err);
/* ---- traffic control (tc.c) ------------------------------------------- */

/* Joins links a and b into one wire, as Kata's "tcfilter" networking does
 * for a VM's tap and the container's veth: an ingress qdisc on each and,
 * on each, a u32 filter matching every frame with a mirred action that
 * redirects it to the other's egress. Frames arriving on either leave on
 * the other unchanged; the namespace's own IP stack never sees them. (u32
 * and not matchall: it is in every kernel that has tc at all.) A failure
 * leaves no qdisc behind on either link. An ingress qdisc already there
 * is refused (EEXIST), unless all its filters redirect to links that are
 * gone: what an earlier joining left when its other end went (a VM's tap
 * goes with the VM; the interface stays for the next container). */
int netns_tc_redirect_both(const char *a, const char *b, hull_error_t *err);

/* ---- between namespaces (carry.c) ------------------------------------- */

/* Enters the network namespace netns_fd refers to; *home_fd gets one for
 * the namespace the caller was in, for netns_return. */
int netns_enter(int netns_fd, int *home_fd, hull_error_t *err);
/* Goes back to *home_fd's namespace and closes it. Aborts when the kernel
 * refuses: hull must not go on in a namespace it did not mean to be in. */
void netns_return(int *home_fd);

/* What netns_link_carry did, also when it failed. */
struct netns_carried {
  bool moved;               /* the link left this namespace */
  char name[IFNAMSIZ];      /* its name there ("net%d" resolved) */
};

/* Moves link `from` of the current namespace into netns_fd's as `to` (a
 * template such as "net%d" lets the kernel pick a free name), keeping
 * what the kernel drops on the way: its permanent global-scope addresses
 * (as runtime-spec's netDevices asks: not the link-local or autoconfigured
 * ones the kernel makes anew) and its up state, or up whatever it was when
 * up is true. */
int netns_link_carry(const char *from, int netns_fd, const char *to,
                     bool up, struct netns_carried *out, hull_error_t *err);

/* ---- a container on a hull bridge (attach.c) --------------------------- */

struct netns_bridge_config {
  const char *name;                    /* the bridge's */
  const struct netns_addr *gateway4;   /* its addresses, with the subnet's */
  const struct netns_addr *gateway6;   /* prefix length; either may be NULL */
  unsigned mtu;                        /* 0: 1500 */
};

/* The bridge b->name: made when missing and create is true (a random MAC
 * of its own, MTU, up, the gateway addresses; *created says so), else
 * "netns: bridge \"x\" does not exist (and creating it is off)". */
int netns_bridge_ensure(const struct netns_bridge_config *b, bool create,
                        bool *created, hull_error_t *err);

/* One container's link to a bridge. */
struct netns_endpoint {
  const char *owner;                   /* the container's id */
  char host_if[IFNAMSIZ];              /* netns_endpoint_name(owner) */
  const char *inner;                   /* its name inside: "eth0" */
  const struct netns_addr *addr4;      /* the container's addresses, either */
  const struct netns_addr *addr6;      /* may be NULL */
  unsigned mtu;                        /* 0: 1500 */
};

/* The host end's name for owner: "hv" and 13 hex digits of a hash. */
void netns_endpoint_name(const char *owner, char out[IFNAMSIZ]);
/* A veth pair: the host end a port of the bridge, marked as owner's (its
 * alias), the other end made in netns_fd's namespace as e->inner, with
 * e's addresses and default routes through the bridge's; both up. A
 * failure leaves no link behind. */
int netns_endpoint_add(const struct netns_bridge_config *b,
                       const struct netns_endpoint *e, int netns_fd,
                       hull_error_t *err);
/* Removes owner's endpoint (the pair goes with its host end); none is
 * fine, and a link of that name marked as another's is left alone. */
int netns_endpoint_del(const char *owner, hull_error_t *err);
/* True for a link named as netns_endpoint_name names them. */
bool netns_endpoint_is_hulls(const struct netns_link *l);

/* ---- the loopback (loopback.c) ----------------------------------------- */

/* Sets IFF_UP on `lo` (a new network namespace starts with it down and runc
 * brings it up, so hull does too). Already up is fine. */
int netns_loopback_up(hull_error_t *err);

/* ---- hull's networks and their addresses (ipam.c) -----------------------
 * What hull's own networks (run.oci.network=bridge) are, and which container
 * holds which address in them, kept under hull's --root in <root>/.networks/
 * (a dot-dir: `hull list` skips it). Every change happens under one lock for
 * all networks, so parallel `hull create`s never get the same address, and
 * each record appears or goes in one step, so a crash at any point leaves
 * no half-made record and no address handed out twice. The layout is
 * described at the top of ipam.c. These errors are for the user and carry
 * no "netns: " prefix: callers name the annotation, e.g.
 *   10.89.0.5 is taken by container "web" */

struct netns_network {
  char name[IFNAMSIZ];        /* also the bridge's name: "hull0" by default */
  struct netns_addr subnet4;  /* e.g. 10.89.0.0/24 */
  struct netns_addr gateway4; /* its first address, 10.89.0.1/24: the
                               * bridge's */
  bool has_v6;                /* false: subnet6 and gateway6 are zeroed */
  struct netns_addr subnet6;  /* e.g. fd89:6875:6c6c::/64 */
  struct netns_addr gateway6; /* fd89:6875:6c6c::1/64 */
  unsigned mtu;               /* as recorded: never 0 (1500 by default) */
};

/* The annotation that puts a container on one of hull's networks
 * (run.oci.network=bridge), and the prefix of its fellows
 * (run.oci.network.ports, ...): hull-network(8). */
#define NETNS_ANNOTATION "run.oci.network"
#define NETNS_ANNOTATION_PREFIX NETNS_ANNOTATION "."

/* The default network: its bridge's name. */
#define NETNS_DEFAULT_NETWORK "hull0"

/* The network `name` as recorded under <root>/.networks/<name>/; when it is
 * not recorded yet and create is true, records it with subnet4 and subnet6
 * when given, else picked: hull0 gets 10.89.0.0/24 and fd89:6875:6c6c::/64,
 * any other network the lowest 10.89.N.0/24 and fd89:6875:6c6c:N::/64
 * (N >= 1, the same N for both when both are picked) that no recorded
 * network uses. A subnet6 with family 0 (a zeroed struct) means no IPv6.
 * mtu 0: 1500 on creation, whatever is recorded otherwise.
 * Errors: a name that is no interface name (or starts with '.'); not
 * recorded and create false (network "x" does not exist); a subnet of the
 * wrong family, not a network address, too small (/31, /32, v6 > /120); one
 * that overlaps another recorded network; a given subnet or mtu that
 * differs from the recorded one. */
int netns_network_open(const char *root, const char *name,
                       const struct netns_addr *subnet4,
                       const struct netns_addr *subnet6, unsigned mtu,
                       bool create, struct netns_network *out,
                       hull_error_t *err);
/* Forgets a network (its directory) when no address is taken in it; else
 * fails with errno_value EBUSY: network "x" is in use by container "y". */
int netns_network_remove(const char *root, const char *name,
                         hull_error_t *err);
/* The names of the recorded networks, sorted (strv, NULL-terminated). */
int netns_network_list(const char *root, char ***names, hull_error_t *err);

/* Whether the container id still exists (so keeps its addresses). Called
 * with ipam's lock held: it must not call back into ipam. A NULL callback
 * counts every owner alive. */
typedef bool (*netns_owner_alive)(const char *id, void *ctx);

/* An address of family (AF_INET/AF_INET6) in net for the container id (a
 * container id: not empty, no '/' or '=', not "." or ".."). want given: that
 * address (its prefix length, when not a host's /32 or /128, must be the
 * subnet's); it must lie in the subnet and not be the subnet's own, its
 * broadcast (IPv4) or its gateway address; taken by a live owner: error
 * `10.89.0.5 is taken by container "other"`. No want: the lowest address
 * no record holds, or when every one is held, the lowest whose owner is not
 * alive (owners are asked only then: asking each one on every take would
 * cost a lookup per container); none: `no free address in 10.89.0.0/30`. An address
 * whose owner is not alive is reclaimed. The same id asking again gets the
 * address it already holds (idempotent); with a different want it moves
 * there (one address per family per network per container). out carries
 * the subnet's prefix length. */
int netns_ipam_take(const char *root, const struct netns_network *net,
                    int family, const struct netns_addr *want, const char *id,
                    netns_owner_alive alive, void *ctx,
                    struct netns_addr *out, hull_error_t *err);
/* Frees every address id holds in every network; none is fine (delete
 * --force after a crash). */
int netns_ipam_release(const char *root, const char *id, hull_error_t *err);
/* The owners (container ids) holding addresses in network name, sorted and
 * each once (strv), for a leftover check; an unknown network has none. */
int netns_ipam_owners(const char *root, const char *name, char ***ids,
                      hull_error_t *err);

/* ---- nftables (nft.c, nft-rule.c, nft-batch.c, ports.c) ----------------
 * hull's packet rules live in one table, `inet hull` (both IP families),
 * with five base chains: prerouting (nat, dstnat), output (nat, -100),
 * postrouting (nat, srcnat), forward (filter) and input (filter). Each call
 * below is one nftables transaction, applied whole or not at all, sent over
 * libnftnl (loaded on first use: nftnl.h) + libmnl on a fresh
 * NETLINK_NETFILTER socket. Every rule carries a tag in its userdata, as
 * `nft ... comment "<tag>"` writes it: a container's id for its published
 * ports, "network <bridge>" for a network's own rules (a container id has
 * no space, so the two never meet). Rules are found again by dumping the
 * table and matching the tag (a call costs about a microsecond per rule in
 * the table), and deleted by handle. Errors: "netns: <what was asked>:
 * <the message the kernel refused>: <strerror> (kernel: <extended ack>)",
 * or "netns: <what was asked>: libnftnl.so.11: not loadable: <why>"; e.g.
 *   netns: add nftables rules of network "hb0": add chain forward:
 *     Operation not supported   (a chain of that name, other priority) */

struct netns_port {
  unsigned host_port;        /* 1..65535 */
  unsigned container_port;   /* 1..65535 */
  int proto;                 /* IPPROTO_TCP or IPPROTO_UDP */
};

/* The rules of a hull network: bridge `bridge` with subnets subnet4 and
 * subnet6 (either may be NULL, not both). Creates table `inet hull` and its
 * chains when missing, replaces the network's rules if it has some (so a
 * second call is harmless), in one transaction:
 *  - outbound NAT: traffic from the subnets leaving through any interface
 *    but the bridge is masqueraded; so is traffic into the bridge that was
 *    DNATed from the subnet itself (a container reaching a published port
 *    on the host: hairpin) or that comes from 127.0.0.0/8 (the host's
 *    connections to 127.0.0.1:<published port>), so replies come back;
 *  - isolation: a new connection forwarded into the bridge from any other
 *    interface is dropped (replies pass, and netns_nft_publish accepts its
 *    ports first), so containers of two hull networks cannot reach each
 *    other either way, nor can routed traffic from outside reach an
 *    unpublished port; containers on one bridge talk at L2, unaffected;
 *  - the host: a new connection from the bridge to any of the host's
 *    addresses but the bridge's own (its gateway) is dropped; replies to
 *    the host's connections, broadcast and multicast (ARP, DHCP, IPv6
 *    neighbour discovery) pass.
 * Before the rules it sets what the kernel needs: net.ipv4.ip_forward=1
 * (net.ipv6.conf.all.forwarding=1 too with subnet6: note that the host
 * then ignores router advertisements on interfaces with accept_ra=1) and
 * net.ipv4.conf.<bridge>.route_localnet=1 (so packets from 127.0.0.1 may
 * leave by the bridge). The bridge must exist. */
int netns_nft_network_add(const char *bridge, const struct netns_addr *subnet4,
                          const struct netns_addr *subnet6, hull_error_t *err);
/* Removes the network's rules (when the bridge is removed); none is fine.
 * The table and its chains stay (another network may be adding rules). */
int netns_nft_network_del(const char *bridge, hull_error_t *err);

/* Publishes ports of container `id` with address addr4 and/or addr6 (one
 * may be NULL) behind bridge: a connection to host_port/proto on any of
 * the host's local addresses is DNATed to the container's container_port,
 * whether it arrives from outside (prerouting) or is the host's own
 * (output: 127.0.0.1 included; ::1 is not, the kernel does not route IPv6
 * loopback out), and the forward chain accepts it ahead of the isolation
 * rules. Replaces the id's rules if it has some. Every rule tagged with id
 * (at most NETNS_NFT_TAG_MAX bytes, no space). */
int netns_nft_publish(const char *id, const char *bridge,
                      const struct netns_addr *addr4,
                      const struct netns_addr *addr6,
                      const struct netns_port *ports, size_t n,
                      hull_error_t *err);
/* Removes every rule tagged with id; none (or no table) is fine, so it
 * can run again after a crash (delete --force). */
int netns_nft_forget(const char *id, hull_error_t *err);
/* What the rules in table hull are tagged with, for a leftover check: the
 * container ids in *ids and the networks' bridges in *bridges, each once,
 * both NULL-terminated strvs (empty without a table); free with
 * strv_free. */
int netns_nft_owners(char ***ids, char ***bridges, hull_error_t *err);

/* The longest tag a rule carries (the kernel keeps 256 bytes of userdata). */
#define NETNS_NFT_TAG_MAX 200

/* The value of the annotation run.oci.network.ports:
 *   "8080:80/tcp,5353:53/udp,9000:9000"   (no protocol: tcp)
 * host_port:container_port[/tcp|/udp] items, ports 1..65535, a host port
 * published once per protocol. *out is malloc'd (free it). Errors name the
 * item, e.g. "\"8080:80/sctp\": protocol \"sctp\" is not tcp or udp"; the
 * caller prefixes the annotation's name. */
int netns_ports_parse(const char *text, struct netns_port **out, size_t *n,
                      hull_error_t *err);

/* ---- plumbing shared by the files above (nl.c) --------------------------
 * Not for other modules. */

struct nlmsghdr;

/* The bytes of an address of family (AF_INET: 4, AF_INET6: 16). */
static inline size_t netns_family_bytes(int family) {
  return family == AF_INET ? 4 : 16;
}

/* A request buffer: MNL_SOCKET_BUFFER_SIZE bytes, zeroed (attribute padding
 * is sent as is). */
#define NETNS_NL_BUF 8192

/* Starts a request of type with flags (NLM_F_REQUEST is added) in buf. */
struct nlmsghdr *netns_nl_start(char *buf, unsigned type, unsigned flags);

/* Called for each reply message of a request (a dump's entries, a GET's
 * answer); returns 0 to go on, negative to stop with *err set. */
typedef int (*netns_nl_each)(const struct nlmsghdr *msg, void *data,
                             hull_error_t *err);

/* Sends req on a fresh rtnetlink socket and reads replies until the ack,
 * the end of a dump, or an error: a kernel error becomes "netns: <what>:
 * <strerror>[ (kernel: <ext-ack message>)]", what formatted from fmt. */
int netns_nl_talk(struct nlmsghdr *req, netns_nl_each each, void *data,
                  hull_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same on a socket of protocol (NETLINK_NETFILTER: dumps of nftables
 * objects). */
int netns_nl_talk_on(int protocol, struct nlmsghdr *req, netns_nl_each each,
                     void *data, hull_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Sends len bytes of messages at once (an nftables batch) and waits for
 * acks acknowledgements, one per message sent with NLM_F_ACK; the first
 * error the kernel reports ends it, formatted as netns_nl_talk's with the
 * failed message's name from steps (a strv indexed by sequence number, may
 * be NULL): "netns: <what>: <step>: <strerror>...". */
int netns_nl_batch(int protocol, const void *msgs, size_t len, unsigned acks,
                   char *const *steps, hull_error_t *err, const char *fmt,
                   ...)
    __attribute__((format(printf, 7, 8)));

/* ---- nftables plumbing (nft-batch.c, nft-rule.c) ------------------------
 * Not for other modules. */

struct nftnl_rule;

/* A transaction being built: the messages between NFNL_MSG_BATCH_BEGIN and
 * NFNL_MSG_BATCH_END, in a buffer that grows. */
struct netns_nft_batch {
  char *buf;
  size_t len, cap;
  struct nlmsghdr *last;   /* the message being filled, not yet counted */
  char **steps;            /* what each message asks, by sequence number */
  unsigned seq;
  unsigned acks;           /* messages that will be acknowledged */
};

/* Starts a batch (with BATCH_BEGIN), loading libnftnl the first time
 * (nftnl.h): "libnftnl.so.11: not loadable: ...". The functions below need
 * a started batch, or a rule made while one is. */
int netns_nft_batch_start(struct netns_nft_batch *b, hull_error_t *err);
/* Adds a message of type with flags (NLM_F_ACK is added) for family inet,
 * step saying what it asks for errors ("add chain input"); the caller
 * fills its payload before the next call. */
struct nlmsghdr *netns_nft_batch_put(struct netns_nft_batch *b, unsigned type,
                                     unsigned flags, const char *step);
/* Adds table hull and its base chains (existing ones are left as they are). */
void netns_nft_batch_table(struct netns_nft_batch *b);
/* Adds rule r (built by netns_nft_rule_new): appended to its chain, or
 * inserted at its head. Frees r. */
void netns_nft_batch_rule(struct netns_nft_batch *b, struct nftnl_rule *r,
                          bool at_head);
/* Adds the deletion of every rule of table hull tagged tag (found by a dump
 * now); how many in *n when not NULL. */
int netns_nft_batch_forget(struct netns_nft_batch *b, const char *tag,
                           size_t *n, hull_error_t *err);
/* Ends the batch, sends it and frees it (also on error). */
int netns_nft_batch_commit(struct netns_nft_batch *b, hull_error_t *err,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void netns_nft_batch_free(struct netns_nft_batch *b);

/* Calls fn with the tag of each rule in table hull (NULL: untagged). No
 * table: no calls. */
int netns_nft_each_tag(void (*fn)(const char *tag, void *data), void *data,
                       hull_error_t *err);

/* A rule for chain of table hull, tagged tag; expressions are added in the
 * order they run (nft-rule.c). */
struct nftnl_rule *netns_nft_rule_new(const char *chain, const char *tag);
/* meta iifname/oifname (input: true: iifname) equal to name, or not. */
void netns_nft_match_ifname(struct nftnl_rule *r, bool input,
                            const char *name, bool equal);
/* The packet is of family (AF_INET, AF_INET6). */
void netns_nft_match_family(struct nftnl_rule *r, int family);
/* Source (or destination) address within prefix; matches the family too. */
void netns_nft_match_addr(struct nftnl_rule *r, bool source,
                          const struct netns_addr *prefix);
/* meta l4proto proto, th dport port. */
void netns_nft_match_dport(struct nftnl_rule *r, int proto, unsigned port);
/* ct status dnat: the connection was DNATed. */
void netns_nft_match_dnat(struct nftnl_rule *r);
/* ct state is neither established nor related: a new connection (or an
 * invalid or untracked packet). */
void netns_nft_match_not_reply(struct nftnl_rule *r);
/* fib daddr type local (on_iif: fib daddr . iif type: local on the
 * interface it came in by), or not. */
void netns_nft_match_local(struct nftnl_rule *r, bool on_iif, bool local);
/* meta pkttype host: unicast to this host. */
void netns_nft_match_unicast(struct nftnl_rule *r);
/* Ends with verdict (NF_ACCEPT, NF_DROP). */
void netns_nft_verdict(struct nftnl_rule *r, int verdict);
void netns_nft_masquerade(struct nftnl_rule *r);
/* dnat ip (or ip6, as to's family) to to:port. */
void netns_nft_dnat(struct nftnl_rule *r, const struct netns_addr *to,
                    unsigned port);

#endif
