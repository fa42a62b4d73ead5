/* tc.c — traffic control over rtnetlink: the ingress qdisc and a u32
 * match-all filter whose mirred action redirects each frame to another
 * link, which is what `tc qdisc add dev A ingress; tc filter add dev A
 * parent ffff: protocol all u32 match u32 0 0 action mirred egress
 * redirect dev B` asks the kernel for. */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <string.h>

/* The ingress qdisc's handle, ffff:, which its filters name as parent. */
#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)

static struct tcmsg *tc_request(char *buf, unsigned type, unsigned flags,
                                int index, struct nlmsghdr **nlh) {
  *nlh = netns_nl_start(buf, type, NLM_F_ACK | flags);
  struct tcmsg *tcm = mnl_nlmsg_put_extra_header(*nlh, sizeof(*tcm));
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = index;
  return tcm;
}

static int ingress_qdisc(const char *link, int index, bool add,
                         hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh;
  struct tcmsg *tcm =
      tc_request(buf, add ? RTM_NEWQDISC : RTM_DELQDISC,
                 add ? NLM_F_CREATE | NLM_F_EXCL : 0, index, &nlh);
  tcm->tcm_handle = INGRESS_HANDLE;
  tcm->tcm_parent = TC_H_INGRESS;
  mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
  return netns_nl_talk(nlh, NULL, NULL, err, "%s ingress qdisc on \"%s\"",
                       add ? "add" : "delete", link);
}

/* u32 with one key of mask 0 (every frame matches), its action a mirred
 * egress redirect to `to`; the frame is stolen from the ingress path. */
static int redirect_filter(const char *from, int from_index, const char *to,
                           int to_index, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh;
  struct tcmsg *tcm = tc_request(buf, RTM_NEWTFILTER,
                                 NLM_F_CREATE | NLM_F_EXCL, from_index, &nlh);
  tcm->tcm_parent = INGRESS_HANDLE;
  /* Priority 1, every protocol (tcm_info: prio << 16 | protocol). */
  tcm->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
  mnl_attr_put_strz(nlh, TCA_KIND, "u32");
  struct nlattr *options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  struct {
    struct tc_u32_sel sel;
    struct tc_u32_key key;
  } match;
  memset(&match, 0, sizeof(match));
  match.sel.flags = TC_U32_TERMINAL;
  match.sel.nkeys = 1;
  mnl_attr_put(nlh, TCA_U32_SEL, sizeof(match), &match);
  struct nlattr *actions = mnl_attr_nest_start(nlh, TCA_U32_ACT);
  struct nlattr *first = mnl_attr_nest_start(nlh, 1); /* the action's order */
  mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
  struct nlattr *act_options = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
  struct tc_mirred mirred;
  memset(&mirred, 0, sizeof(mirred));
  mirred.action = TC_ACT_STOLEN;
  mirred.eaction = TCA_EGRESS_REDIR;
  mirred.ifindex = (unsigned)to_index;
  mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
  mnl_attr_nest_end(nlh, act_options);
  mnl_attr_nest_end(nlh, first);
  mnl_attr_nest_end(nlh, actions);
  mnl_attr_nest_end(nlh, options);
  return netns_nl_talk(nlh, NULL, NULL, err,
                       "redirect \"%s\" ingress to \"%s\"", from, to);
}

/* ---- what an earlier joining left ----------------------------------------- */

struct ingress_filters {
  int redirects_to_gone; /* mirred redirects to links that no longer exist */
  int others;            /* anything else: someone's filters, not ours */
};

static void read_action(const struct nlattr *action,
                        struct ingress_filters *f) {
  const char *kind = "";
  const struct nlattr *options = NULL, *attr;
  mnl_attr_for_each_nested(attr, action) {
    if (mnl_attr_get_type(attr) == TCA_ACT_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
      kind = mnl_attr_get_str(attr);
    if (mnl_attr_get_type(attr) == TCA_ACT_OPTIONS)
      options = attr;
  }
  const struct tc_mirred *parms = NULL;
  if (strcmp(kind, "mirred") == 0 && options)
    mnl_attr_for_each_nested(attr, options) {
      if (mnl_attr_get_type(attr) == TCA_MIRRED_PARMS &&
          mnl_attr_get_payload_len(attr) >= sizeof(*parms))
        parms = mnl_attr_get_payload(attr);
    }
  /* The kernel forgets the target when it goes: ifindex 0. */
  struct netns_link target;
  cleanup_error hull_error_t gone = NULL;
  if (parms && parms->eaction == TCA_EGRESS_REDIR &&
      (parms->ifindex == 0 ||
       (netns_link_get_by_index((int)parms->ifindex, &target, &gone) < 0 &&
        gone->errno_value == ENODEV)))
    f->redirects_to_gone++;
  else
    f->others++;
}

static int read_filter(const struct nlmsghdr *msg, void *data,
                       hull_error_t *err) {
  struct ingress_filters *f = data;
  if (msg->nlmsg_type != RTM_NEWTFILTER)
    return 0;
  const struct tcmsg *tcm = mnl_nlmsg_get_payload(msg);
  const char *kind = "";
  const struct nlattr *options = NULL, *attr;
  mnl_attr_for_each(attr, msg, sizeof(*tcm)) {
    if (mnl_attr_get_type(attr) == TCA_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
      kind = mnl_attr_get_str(attr);
    if (mnl_attr_get_type(attr) == TCA_OPTIONS)
      options = attr;
  }
  if (strcmp(kind, "u32") != 0) {
    f->others++;
    return 0;
  }
  /* u32 lists its hash table as a filter of its own, without actions. */
  const struct nlattr *actions = NULL;
  if (options)
    mnl_attr_for_each_nested(attr, options) {
      if (mnl_attr_get_type(attr) == TCA_U32_ACT)
        actions = attr;
    }
  if (actions)
    mnl_attr_for_each_nested(attr, actions) read_action(attr, f);
  return 0;
}

/* An ingress qdisc on link whose filters only redirect to links that are
 * gone — what a joining leaves when its other end (a VM's tap) went with
 * the VM, and the namespace lives on for the next one — is removed. */
static int clear_stale_ingress(const char *link, int index,
                               hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(buf, RTM_GETTFILTER, NLM_F_DUMP);
  struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = index;
  tcm->tcm_parent = INGRESS_HANDLE;
  struct ingress_filters f = {0};
  cleanup_error hull_error_t none = NULL;
  /* No ingress qdisc: nothing to clear (the kernel says EINVAL). */
  if (netns_nl_talk(nlh, read_filter, &f, &none, "list ingress filters of "
                    "\"%s\"", link) < 0)
    return 0;
  if (f.redirects_to_gone == 0 || f.others > 0)
    return 0;
  return ingress_qdisc(link, index, false, err);
}

int netns_tc_redirect_both(const char *a, const char *b, hull_error_t *err) {
  int ia = netns_link_index(a, err);
  if (ia < 0)
    return hull_error_wrap(err, "redirect \"%s\" and \"%s\"", a, b);
  int ib = netns_link_index(b, err);
  if (ib < 0)
    return hull_error_wrap(err, "redirect \"%s\" and \"%s\"", a, b);
  if (clear_stale_ingress(a, ia, err) < 0 ||
      clear_stale_ingress(b, ib, err) < 0 || ingress_qdisc(a, ia, true, err) < 0)
    return -1;
  int ret = ingress_qdisc(b, ib, true, err);
  if (ret == 0 && (redirect_filter(a, ia, b, ib, err) < 0 ||
                   redirect_filter(b, ib, a, ia, err) < 0)) {
    /* Deleting the qdisc deletes its filters. */
    cleanup_error hull_error_t ignored = NULL;
    ingress_qdisc(b, ib, false, &ignored);
    ret = -1;
  }
  if (ret < 0) {
    cleanup_error hull_error_t ignored = NULL;
    ingress_qdisc(a, ia, false, &ignored);
  }
  return ret;
}
