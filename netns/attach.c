/* attach.c — a container on a hull bridge: the bridge itself (made on
 * first use, with its gateway addresses) and one veth pair per container,
 * the host end a port of the bridge, the other end the container's `eth0`
 * with its addresses and default routes.
 *
 * The host end's name comes from the container id (a hash: interface
 * names have 15 bytes, ids up to 1024) and its alias is the id itself, so
 * that delete removes only a link that is this container's, even after a
 * crash left nothing else to go by. */
#include "netns/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define ENDPOINT_PREFIX "hv"
#define DEFAULT_MTU 1500

void netns_endpoint_name(const char *owner, char out[IFNAMSIZ]) {
  /* FNV-1a, 64 bits: 13 hex digits after the prefix fill the name. */
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)owner; *p; p++)
    h = (h ^ *p) * 0x100000001b3ULL;
  snprintf(out, IFNAMSIZ, ENDPOINT_PREFIX "%013llx",
           (unsigned long long)(h & 0xfffffffffffffULL));
}

/* The alias that marks a host end as owner's: the id, cut to what the
 * kernel keeps (IFALIASZ - 1). */
static void owner_alias(const char *owner, char out[256]) {
  snprintf(out, 256, "%s", owner);
}

/* A bridge keeps the MAC address it was made with only when one was
 * given; otherwise it takes the lowest of its ports', and the containers'
 * neighbour caches go stale each time one joins. A random, locally
 * administered unicast one. */
static void random_mac(unsigned char mac[6]) {
  if (getrandom(mac, 6, 0) != 6)
    for (int i = 0; i < 6; i++)
      mac[i] = (unsigned char)(getpid() >> i);
  mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
}

static int add_bridge(const char *name, unsigned mtu, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(
      buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  unsigned char mac[6];
  random_mac(mac);
  mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  return netns_nl_talk(nlh, NULL, NULL, err, "add bridge \"%s\"", name);
}

static int add_gateway(const char *bridge, const struct netns_addr *gw,
                       hull_error_t *err) {
  if (gw == NULL)
    return 0;
  struct netns_addr a = *gw;
  /* No duplicate address detection: the subnet is hull's. */
  if (a.family == AF_INET6)
    a.flags |= IFA_F_NODAD;
  if (netns_addr_add(bridge, &a, err) == 0)
    return 0;
  /* Another create made it at the same moment. */
  if ((*err)->errno_value == EEXIST) {
    hull_error_release(err);
    return 0;
  }
  return -1;
}

int netns_bridge_ensure(const struct netns_bridge_config *b, bool create,
                        bool *created, hull_error_t *err) {
  *created = false;
  struct netns_link l;
  cleanup_error hull_error_t missing = NULL;
  if (netns_link_get(b->name, &l, &missing) == 0) {
    if (strcmp(l.kind, "bridge") != 0)
      return hull_error(err, 0, "netns: \"%s\" is a %s link, not a bridge",
                        b->name, *l.kind ? l.kind : "physical");
    return 0;
  }
  if (missing->errno_value != ENODEV) {
    *err = take_ptr(missing);
    return -1;
  }
  if (!create)
    return hull_error(err, ENODEV, "netns: bridge \"%s\" does not exist "
                                   "(and creating it is off)", b->name);
  if (add_bridge(b->name, b->mtu ? b->mtu : DEFAULT_MTU, err) < 0) {
    if ((*err)->errno_value != EEXIST)
      return -1;
    hull_error_release(err);
  } else {
    *created = true;
  }
  return add_gateway(b->name, b->gateway4, err) < 0 ||
                 add_gateway(b->name, b->gateway6, err) < 0
             ? -1
             : 0;
}

/* In the container's namespace: its addresses, then the default routes
 * through the bridge's addresses. */
static int configure_inner(const struct netns_bridge_config *b,
                           const struct netns_endpoint *e,
                           hull_error_t *err) {
  if (netns_link_set_up(e->inner, true, err) < 0)
    return -1;
  if (e->addr4 && netns_addr_add(e->inner, e->addr4, err) < 0)
    return -1;
  if (e->addr6) {
    struct netns_addr a = *e->addr6;
    a.flags |= IFA_F_NODAD;
    if (netns_addr_add(e->inner, &a, err) < 0)
      return -1;
  }
  if (e->addr4 && b->gateway4 &&
      netns_route_add(e->inner, NULL, b->gateway4, err) < 0)
    return -1;
  if (e->addr6 && b->gateway6 &&
      netns_route_add(e->inner, NULL, b->gateway6, err) < 0)
    return -1;
  return 0;
}

static int add_endpoint(const struct netns_bridge_config *b,
                        const struct netns_endpoint *e, int netns_fd,
                        hull_error_t *err) {
  int master = netns_link_index(b->name, err);
  if (master < 0)
    return -1;
  struct netns_veth v = {.name = e->host_if, .peer = e->inner,
                         .peer_netns_fd = netns_fd, .master = master,
                         .mtu = e->mtu ? e->mtu : DEFAULT_MTU};
  if (netns_link_add_veth_pair(&v, err) < 0)
    return -1;
  char alias[256];
  owner_alias(e->owner, alias);
  if (netns_link_set_alias(e->host_if, alias, err) < 0 ||
      netns_link_set_up(e->host_if, true, err) < 0)
    return -1;
  int home = -1;
  if (netns_enter(netns_fd, &home, err) < 0)
    return -1;
  int ret = configure_inner(b, e, err);
  netns_return(&home);
  return ret;
}

int netns_endpoint_add(const struct netns_bridge_config *b,
                       const struct netns_endpoint *e, int netns_fd,
                       hull_error_t *err) {
  if (add_endpoint(b, e, netns_fd, err) == 0)
    return 0;
  /* The pair goes with its host end; an EEXIST here was someone else's. */
  if ((*err)->errno_value != EEXIST) {
    cleanup_error hull_error_t ignored = NULL;
    netns_endpoint_del(e->owner, &ignored);
  }
  return -1;
}

int netns_endpoint_del(const char *owner, hull_error_t *err) {
  char name[IFNAMSIZ];
  netns_endpoint_name(owner, name);
  struct netns_link l;
  cleanup_error hull_error_t missing = NULL;
  if (netns_link_get(name, &l, &missing) < 0) {
    if (missing->errno_value == ENODEV)
      return 0;
    *err = take_ptr(missing);
    return -1;
  }
  char alias[256];
  owner_alias(owner, alias);
  /* A link of this name that is not marked as owner's (a crash before the
   * alias was set, or a hash collision) is left alone when it is marked as
   * another's; unmarked, it is an orphan of ours. */
  if (*l.alias && strcmp(l.alias, alias) != 0)
    return 0;
  if (netns_link_del(name, err) == 0)
    return 0;
  if ((*err)->errno_value != ENODEV)
    return -1;
  hull_error_release(err);
  return 0;
}

bool netns_endpoint_is_hulls(const struct netns_link *l) {
  return strncmp(l->name, ENDPOINT_PREFIX, strlen(ENDPOINT_PREFIX)) == 0 &&
         strlen(l->name) == IFNAMSIZ - 1 && strcmp(l->kind, "veth") == 0;
}
