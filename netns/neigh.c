/* neigh.c — neighbour entries (ARP for IPv4, NDP for IPv6): a permanent
 * IP -> MAC entry on a link spares a container the first ARP round trip
 * and lets hull pin an address to the link that owns it. */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

static const char *ip_text(const struct netns_neigh *n, char *buf,
                           size_t size) {
  if (inet_ntop(n->family, n->ip, buf, (socklen_t)size) == NULL)
    snprintf(buf, size, "?");
  return buf;
}

static struct nlmsghdr *neigh_request(char *buf, unsigned type,
                                      unsigned flags, int index,
                                      const struct netns_neigh *n) {
  struct nlmsghdr *nlh = netns_nl_start(buf, type, flags);
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
  ndm->ndm_family = (unsigned char)n->family;
  ndm->ndm_ifindex = index;
  ndm->ndm_state = NUD_PERMANENT;
  mnl_attr_put(nlh, NDA_DST, netns_family_bytes(n->family), n->ip);
  return nlh;
}

int netns_neigh_set(const char *link, const struct netns_neigh *n,
                    hull_error_t *err) {
  char ip[INET6_ADDRSTRLEN], mac[18];
  ip_text(n, ip, sizeof(ip));
  netns_mac_format(n->mac, mac, sizeof(mac));
  cleanup_error hull_error_t lookup = NULL;
  int index = netns_link_index(link, &lookup);
  if (index < 0)
    return hull_error(err, lookup->errno_value,
                      "netns: add neighbour %s lladdr %s on \"%s\"", ip, mac,
                      link);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = neigh_request(
      buf, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, index, n);
  mnl_attr_put(nlh, NDA_LLADDR, sizeof(n->mac), n->mac);
  return netns_nl_talk(nlh, NULL, NULL, err,
                       "add neighbour %s lladdr %s on \"%s\"", ip, mac, link);
}

int netns_neigh_del(const char *link, const struct netns_neigh *n,
                    hull_error_t *err) {
  char ip[INET6_ADDRSTRLEN];
  ip_text(n, ip, sizeof(ip));
  cleanup_error hull_error_t lookup = NULL;
  int index = netns_link_index(link, &lookup);
  if (index < 0)
    return hull_error(err, lookup->errno_value,
                      "netns: delete neighbour %s on \"%s\"", ip, link);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = neigh_request(buf, RTM_DELNEIGH, NLM_F_ACK, index, n);
  return netns_nl_talk(nlh, NULL, NULL, err, "delete neighbour %s on \"%s\"",
                       ip, link);
}

struct neigh_list {
  int index;
  int family;
  struct netns_neigh *v;
  size_t n;
};

static int collect_neigh(const struct nlmsghdr *msg, void *data,
                         hull_error_t *err) {
  struct neigh_list *list = data;
  if (msg->nlmsg_type != RTM_NEWNEIGH)
    return 0;
  const struct ndmsg *ndm = mnl_nlmsg_get_payload(msg);
  /* A dump of AF_UNSPEC brings the bridge's forwarding database too. */
  if (ndm->ndm_ifindex != list->index ||
      (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
      (list->family != AF_UNSPEC && ndm->ndm_family != list->family))
    return 0;
  struct netns_neigh e = {.family = ndm->ndm_family, .state = ndm->ndm_state};
  size_t len = netns_family_bytes(e.family);
  bool have_ip = false;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, msg, sizeof(*ndm)) {
    unsigned type = mnl_attr_get_type(attr);
    size_t size = mnl_attr_get_payload_len(attr);
    if (type == NDA_DST && size == len) {
      memcpy(e.ip, mnl_attr_get_payload(attr), len);
      have_ip = true;
    }
    if (type == NDA_LLADDR && size == sizeof(e.mac))
      memcpy(e.mac, mnl_attr_get_payload(attr), sizeof(e.mac));
  }
  if (!have_ip)
    return 0;
  list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
  list->v[list->n++] = e;
  return 0;
}

int netns_neigh_list(const char *link, int family, struct netns_neigh **out,
                     size_t *n, hull_error_t *err) {
  *out = NULL;
  *n = 0;
  cleanup_error hull_error_t lookup = NULL;
  int index = netns_link_index(link, &lookup);
  if (index < 0)
    return hull_error(err, lookup->errno_value,
                      "netns: list neighbours of \"%s\"", link);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(buf, RTM_GETNEIGH, NLM_F_DUMP);
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
  ndm->ndm_family = (unsigned char)family;
  struct neigh_list list = {.index = index, .family = family};
  if (netns_nl_talk(nlh, collect_neigh, &list, err,
                    "list neighbours of \"%s\"", link) < 0) {
    free(list.v);
    return -1;
  }
  *out = list.v;
  *n = list.n;
  return 0;
}
