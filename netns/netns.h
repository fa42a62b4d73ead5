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
 * Files: nl.c (socket, request, acknowledgement, dumps), link.c, addr.c,
 * route.c, tc.c (traffic control), carry.c (into another namespace and back), loopback.c. */
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
  char kind[16];       /* "veth", "bridge", "dummy", "tun"; "" for devices */
  bool has_mac;        /* an Ethernet address (IFLA_ADDRESS of 6 bytes) */
  unsigned char mac[6];
};

/* Fills *out for the link called name; ENODEV when there is none. */
int netns_link_get(const char *name, struct netns_link *out,
                   hull_error_t *err);
int netns_link_get_by_index(int index, struct netns_link *out,
                            hull_error_t *err);
/* The ifindex of the link called name (> 0), or -1. */
int netns_link_index(const char *name, hull_error_t *err);
/* Every link of the namespace, by ifindex; *out is malloc'd (free it). */
int netns_link_list(struct netns_link **out, size_t *n, hull_error_t *err);
/* "02:42:ac:11:00:02" into buf (18 bytes), and back (-1: not one). */
const char *netns_mac_format(const unsigned char mac[6], char buf[18]);
int netns_mac_parse(const char *text, unsigned char mac[6]);

/* A link of a kind that needs no more than its name: "bridge", "dummy"
 * (any kind the kernel creates over RTM_NEWLINK from a name alone). */
int netns_link_add(const char *name, const char *kind, hull_error_t *err);
/* A veth pair: name here, peer its other end (same namespace). */
int netns_link_add_veth(const char *name, const char *peer, hull_error_t *err);
/* A persistent tap device (through /dev/net/tun: the kernel does not create
 * tun/tap over rtnetlink). */
int netns_link_add_tap(const char *name, hull_error_t *err);
/* A tap that lives as long as its queue: *fd (O_CLOEXEC) is the queue a
 * hypervisor reads and writes frames on (IFF_TAP | IFF_NO_PI); the device
 * goes when the last fd on it closes. */
int netns_link_open_tap(const char *name, int *fd, hull_error_t *err);
int netns_link_del(const char *name, hull_error_t *err);

int netns_link_set_up(const char *name, bool up, hull_error_t *err);
int netns_link_set_mtu(const char *name, unsigned mtu, hull_error_t *err);
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

/* ---- the loopback (loopback.c) ----------------------------------------- */

/* Sets IFF_UP on `lo` (a new network namespace starts with it down and runc
 * brings it up, so hull does too). Already up is fine. */
int netns_loopback_up(hull_error_t *err);

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

#endif
