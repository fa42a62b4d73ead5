/* nft-batch.c — nftables transactions: messages gathered between
 * NFNL_MSG_BATCH_BEGIN and NFNL_MSG_BATCH_END and sent at once, which the
 * kernel applies whole or not at all; table hull and its base chains; the
 * table's rules dumped and found by their tag. */
#include "netns/netns.h"
#include "netns/nftnl.h"

/* Before the kernel headers: glibc's then keep linux/in.h's out. */
#include <netinet/in.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

/* More than any one message hull builds (a rule is a few hundred bytes). */
#define MSG_ROOM 4096

static void reserve(struct netns_nft_batch *b) {
  if (b->last) {
    b->len += NLMSG_ALIGN(b->last->nlmsg_len);
    b->last = NULL;
  }
  if (b->cap - b->len >= MSG_ROOM)
    return;
  b->cap = b->cap * 2 + MSG_ROOM;
  b->buf = xrealloc(b->buf, b->cap);
}

/* The next sequence number, step naming its message. */
static unsigned next_seq(struct netns_nft_batch *b, const char *step) {
  strv_append(&b->steps, step);
  return b->seq++;
}

int netns_nft_batch_start(struct netns_nft_batch *b, hull_error_t *err) {
  memset(b, 0, sizeof(*b));
  if (nftnl_api_load(err) < 0)
    return -1;
  const struct nftnl_api *api = nftnl_api();
  reserve(b);
  memset(b->buf, 0, b->cap);
  b->last = api->nftnl_batch_begin(b->buf, next_seq(b, "begin"));
  return 0;
}

struct nlmsghdr *netns_nft_batch_put(struct netns_nft_batch *b, unsigned type,
                                     unsigned flags, const char *step) {
  const struct nftnl_api *api = nftnl_api();
  reserve(b);
  memset(b->buf + b->len, 0, MSG_ROOM);
  b->last = api->nftnl_nlmsg_build_hdr(
      b->buf + b->len, (uint16_t)type, NFPROTO_INET,
      (uint16_t)(flags | NLM_F_ACK), next_seq(b, step));
  b->acks++;
  return b->last;
}

void netns_nft_batch_free(struct netns_nft_batch *b) {
  free(b->buf);
  strv_free(b->steps);
  memset(b, 0, sizeof(*b));
}

int netns_nft_batch_commit(struct netns_nft_batch *b, hull_error_t *err,
                           const char *fmt, ...) {
  const struct nftnl_api *api = nftnl_api();
  reserve(b);
  memset(b->buf + b->len, 0, MSG_ROOM);
  b->last = api->nftnl_batch_end(b->buf + b->len, next_seq(b, "end"));
  reserve(b);
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  int r = netns_nl_batch(NETLINK_NETFILTER, b->buf, b->len, b->acks, b->steps,
                         err, "%s", what);
  netns_nft_batch_free(b);
  return r;
}

/* ---- the table and its chains ----------------------------------------- */

static const struct base_chain {
  const char *name, *type;
  unsigned hook;
  int priority;
} base_chains[] = {
    {"prerouting", "nat", NF_INET_PRE_ROUTING, -100},   /* dstnat */
    {"output", "nat", NF_INET_LOCAL_OUT, -100},
    {"postrouting", "nat", NF_INET_POST_ROUTING, 100},  /* srcnat */
    {"forward", "filter", NF_INET_FORWARD, 0},          /* filter */
    {"input", "filter", NF_INET_LOCAL_IN, 0},
};

/* Without NLM_F_EXCL the kernel takes an existing table or chain with the
 * same settings as it is. */
void netns_nft_batch_table(struct netns_nft_batch *b) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_table *t = api->nftnl_table_alloc();
  if (t == NULL)
    abort();
  api->nftnl_table_set_str(t, NFTNL_TABLE_NAME, "hull");
  api->nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
  api->nftnl_table_nlmsg_build_payload(
      netns_nft_batch_put(b, NFT_MSG_NEWTABLE, NLM_F_CREATE,
                          "add table inet hull"),
      t);
  api->nftnl_table_free(t);
  for (size_t i = 0; i < sizeof(base_chains) / sizeof(*base_chains); i++) {
    const struct base_chain *bc = &base_chains[i];
    struct nftnl_chain *c = api->nftnl_chain_alloc();
    if (c == NULL)
      abort();
    api->nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "hull");
    api->nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, bc->name);
    api->nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, bc->type);
    api->nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, bc->hook);
    api->nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, bc->priority);
    api->nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    cleanup_free char *step = xasprintf("add chain %s", bc->name);
    api->nftnl_chain_nlmsg_build_payload(
        netns_nft_batch_put(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, step), c);
    api->nftnl_chain_free(c);
  }
}

void netns_nft_batch_rule(struct netns_nft_batch *b, struct nftnl_rule *r,
                          bool at_head) {
  const struct nftnl_api *api = nftnl_api();
  /* NEWRULE without NLM_F_APPEND (nor a position) inserts at the head. */
  unsigned flags = NLM_F_CREATE | (at_head ? 0 : NLM_F_APPEND);
  cleanup_free char *step = xasprintf(
      "add rule to chain %s", api->nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
  api->nftnl_rule_nlmsg_build_payload(
      netns_nft_batch_put(b, NFT_MSG_NEWRULE, flags, step), r);
  api->nftnl_rule_free(r);
}

/* ---- the table's rules, by tag ---------------------------------------- */

static int comment_of(const struct nftnl_udata *attr, void *data) {
  const struct nftnl_api *api = nftnl_api();
  const char **tag = data;
  size_t len = api->nftnl_udata_len(attr);
  const char *value = api->nftnl_udata_get(attr);
  if (api->nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 &&
      value[len - 1] == '\0')
    *tag = value;
  return 0;
}

/* What a dump says of a rule that hull needs: its chain, its handle, its
 * tag (NULL: untagged). Read straight from the attributes: parsing every
 * expression (nftnl_rule_nlmsg_parse) would cost most of a dump's time. */
struct dumped_rule {
  const char *chain;
  uint64_t handle;
  const char *tag;
};

typedef void (*each_rule_fn)(const struct dumped_rule *r, void *data);

struct dump {
  each_rule_fn fn;
  void *data;
};

static int dumped_rule(const struct nlmsghdr *msg, void *data,
                       hull_error_t *err) {
  const struct nftnl_api *api = nftnl_api();
  struct dump *d = data;
  struct dumped_rule r = {0};
  bool have_handle = false;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, msg, sizeof(struct nfgenmsg)) {
    switch (mnl_attr_get_type(attr)) {
    case NFTA_RULE_CHAIN:
      if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        r.chain = mnl_attr_get_str(attr);
      break;
    case NFTA_RULE_HANDLE:
      if (mnl_attr_validate(attr, MNL_TYPE_U64) == 0) {
        r.handle = be64toh(mnl_attr_get_u64(attr));
        have_handle = true;
      }
      break;
    case NFTA_RULE_USERDATA:
      api->nftnl_udata_parse(mnl_attr_get_payload(attr),
                             mnl_attr_get_payload_len(attr), comment_of,
                             &r.tag);
      break;
    }
  }
  if (r.chain == NULL || !have_handle)
    return hull_error(err, EBADMSG, "a rule without chain or handle");
  d->fn(&r, d->data);
  return 0;
}

/* Calls fn for each rule of table hull; no table, no calls. */
static int each_rule(each_rule_fn fn, void *data, hull_error_t *err) {
  if (nftnl_api_load(err) < 0)
    return hull_error_wrap(err, "netns: list rules of table inet hull");
  const struct nftnl_api *api = nftnl_api();
  char buf[NETNS_NL_BUF] = {0};
  struct nlmsghdr *nlh = api->nftnl_nlmsg_build_hdr(
      buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, 1);
  struct nftnl_rule *r = api->nftnl_rule_alloc();
  if (r == NULL)
    abort();
  api->nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "hull");
  api->nftnl_rule_nlmsg_build_payload(nlh, r);
  api->nftnl_rule_free(r);
  struct dump d = {fn, data};
  hull_error_t dump_err = NULL;
  if (netns_nl_talk_on(NETLINK_NETFILTER, nlh, dumped_rule, &d, &dump_err,
                       "list rules of table inet hull") < 0) {
    if (dump_err->errno_value == ENOENT) {   /* no table (older kernels) */
      hull_error_release(&dump_err);
      return 0;
    }
    *err = dump_err;
    return -1;
  }
  return 0;
}

struct forget {
  struct netns_nft_batch *b;
  const char *tag;
  size_t n;
};

static void forget_rule(const struct dumped_rule *r, void *data) {
  const struct nftnl_api *api = nftnl_api();
  struct forget *f = data;
  if (r->tag == NULL || strcmp(r->tag, f->tag) != 0)
    return;
  struct nftnl_rule *del = api->nftnl_rule_alloc();
  if (del == NULL)
    abort();
  api->nftnl_rule_set_u32(del, NFTNL_RULE_FAMILY, NFPROTO_INET);
  api->nftnl_rule_set_str(del, NFTNL_RULE_TABLE, "hull");
  api->nftnl_rule_set_str(del, NFTNL_RULE_CHAIN, r->chain);
  api->nftnl_rule_set_u64(del, NFTNL_RULE_HANDLE, r->handle);
  cleanup_free char *step = xasprintf("delete rule %llu of chain %s",
                                      (unsigned long long)r->handle, r->chain);
  api->nftnl_rule_nlmsg_build_payload(
      netns_nft_batch_put(f->b, NFT_MSG_DELRULE, 0, step), del);
  api->nftnl_rule_free(del);
  f->n++;
}

int netns_nft_batch_forget(struct netns_nft_batch *b, const char *tag,
                           size_t *n, hull_error_t *err) {
  struct forget f = {b, tag, 0};
  if (each_rule(forget_rule, &f, err) < 0)
    return -1;
  if (n)
    *n = f.n;
  return 0;
}

struct each_tag {
  void (*fn)(const char *tag, void *data);
  void *data;
};

static void pass_tag(const struct dumped_rule *r, void *data) {
  struct each_tag *e = data;
  e->fn(r->tag, e->data);
}

int netns_nft_each_tag(void (*fn)(const char *tag, void *data), void *data,
                       hull_error_t *err) {
  struct each_tag e = {fn, data};
  return each_rule(pass_tag, &e, err);
}
