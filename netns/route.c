/* route.c — routes in the main table. */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

int netns_route_add(const char *link, const struct netns_addr *dst,
                    const struct netns_addr *gateway, hull_error_t *err) {
  char dst_text[INET6_ADDRSTRLEN + 8] = "default";
  char via[INET6_ADDRSTRLEN + 16] = "";
  char dev[IFNAMSIZ + 8] = "";
  if (dst)
    netns_addr_format(dst, dst_text, sizeof(dst_text));
  if (gateway) {
    char host[INET6_ADDRSTRLEN] = "?";
    inet_ntop(gateway->family, gateway->bytes, host, sizeof(host));
    snprintf(via, sizeof(via), " via %s", host);
  }
  if (link)
    snprintf(dev, sizeof(dev), " dev \"%s\"", link);
  int family = dst ? dst->family : gateway ? gateway->family : AF_INET;
  if ((dst && gateway && dst->family != gateway->family) || (!link && !gateway))
    return hull_error(err, 0, "netns: add route %s%s%s: %s", dst_text, via,
                      dev, link ? "gateway and destination families differ"
                                : "needs a gateway or a link");
  int oif = 0;
  if (link && (oif = netns_link_index(link, err)) < 0)
    return hull_error_wrap(err, "add route %s%s", dst_text, via);

  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(
      buf, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
  rtm->rtm_family = (unsigned char)family;
  rtm->rtm_dst_len = dst ? (unsigned char)dst->prefixlen : 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_type = RTN_UNICAST;
  /* Without a gateway the destination is on the link itself. */
  rtm->rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (dst && dst->prefixlen)
    mnl_attr_put(nlh, RTA_DST, netns_family_bytes(family), dst->bytes);
  if (gateway)
    mnl_attr_put(nlh, RTA_GATEWAY, netns_family_bytes(family), gateway->bytes);
  if (oif)
    mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
  return netns_nl_talk(nlh, NULL, NULL, err, "add route %s%s%s", dst_text,
                       via, dev);
}

struct route_list {
  int family;
  struct netns_route *v;
  size_t n;
};

static int collect_route(const struct nlmsghdr *msg, void *data,
                         hull_error_t *err) {
  struct route_list *list = data;
  if (msg->nlmsg_type != RTM_NEWROUTE)
    return 0;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(msg);
  if (rtm->rtm_family != list->family)
    return 0;
  unsigned table = rtm->rtm_table;
  struct netns_route r = {.family = rtm->rtm_family,
                          .dst_len = rtm->rtm_dst_len};
  size_t len = netns_family_bytes(r.family);
  const struct nlattr *attr;
  mnl_attr_for_each(attr, msg, sizeof(*rtm)) {
    switch (mnl_attr_get_type(attr)) {
    case RTA_TABLE:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        table = mnl_attr_get_u32(attr);
      break;
    case RTA_DST:
      if (mnl_attr_get_payload_len(attr) == len)
        memcpy(r.dst, mnl_attr_get_payload(attr), len);
      break;
    case RTA_GATEWAY:
      if (mnl_attr_get_payload_len(attr) == len) {
        memcpy(r.gateway, mnl_attr_get_payload(attr), len);
        r.has_gateway = true;
      }
      break;
    case RTA_OIF:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        r.oif = (int)mnl_attr_get_u32(attr);
      break;
    }
  }
  if (table != RT_TABLE_MAIN)
    return 0;
  list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
  list->v[list->n++] = r;
  return 0;
}

int netns_route_list(int family, struct netns_route **out, size_t *n,
                     hull_error_t *err) {
  *out = NULL;
  *n = 0;
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(buf, RTM_GETROUTE, NLM_F_DUMP);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
  rtm->rtm_family = (unsigned char)family;
  struct route_list list = {.family = family};
  if (netns_nl_talk(nlh, collect_route, &list, err, "list %s routes",
                    family == AF_INET6 ? "IPv6" : "IPv4") < 0) {
    free(list.v);
    return -1;
  }
  *out = list.v;
  *n = list.n;
  return 0;
}
