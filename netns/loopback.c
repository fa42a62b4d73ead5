/* loopback.c — bringing `lo` up over rtnetlink. */
#include "netns/netns.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

static void close_mnl(struct mnl_socket **nl) {
  if (*nl)
    mnl_socket_close(*nl);
}

/* Sends one request and waits for its acknowledgement; a NLMSG_ERROR reply
 * becomes errno through mnl_cb_run. */
static int rtnl_request(struct nlmsghdr *req, const char *what,
                        hull_error_t *err) {
  __attribute__((cleanup(close_mnl))) struct mnl_socket *nl =
      mnl_socket_open(NETLINK_ROUTE);
  if (nl == NULL)
    return hull_error(err, errno, "%s: open rtnetlink socket", what);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return hull_error(err, errno, "%s: bind rtnetlink socket", what);
  unsigned portid = mnl_socket_get_portid(nl);

  if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
    return hull_error(err, errno, "%s: send", what);

  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0)
      return hull_error(err, errno, "%s: receive", what);
    int r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, NULL, NULL);
    if (r < 0)
      return hull_error(err, errno, "%s", what);
    if (r == MNL_CB_STOP)      /* the ACK (an NLMSG_ERROR with error 0) */
      return 0;
  }
}

int netns_loopback_up(hull_error_t *err) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  memset(buf, 0, sizeof(buf));  /* attribute padding is sent as is */
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = (uint32_t)time(NULL);

  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = 0;        /* look `lo` up by name, not by assumed index */
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");

  return rtnl_request(nlh, "set link `lo` up", err);
}
