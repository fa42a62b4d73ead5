/* nft-rule.c — the expressions hull's rules are made of, each written as
 * `nft --debug=netlink` shows the nft command line writing it. Every match
 * loads into register 1 and compares; a rule is its matches in order, then
 * what it does. */
#include "netns/netns.h"
#include "netns/nftnl.h"

/* Before the kernel headers: glibc's then keep linux/in.h's out. */
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

/* NF_CT_STATE_BIT is kernel-internal: the ct state bits nft's
 * `established` and `related` stand for. */
#define CT_STATE_ESTABLISHED (1u << (IP_CT_ESTABLISHED + 1))
#define CT_STATE_RELATED (1u << (IP_CT_RELATED + 1))

struct nftnl_rule *netns_nft_rule_new(const char *chain, const char *tag) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_rule *r = api->nftnl_rule_alloc();
  if (r == NULL)
    abort();
  api->nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
  api->nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "hull");
  api->nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  struct nftnl_udata_buf *udata =
      api->nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
  if (udata == NULL ||
      !api->nftnl_udata_put_strz(udata, NFTNL_UDATA_RULE_COMMENT, tag))
    abort();   /* the callers keep tags to NETNS_NFT_TAG_MAX */
  api->nftnl_rule_set_data(r, NFTNL_RULE_USERDATA,
                           api->nftnl_udata_buf_data(udata),
                           api->nftnl_udata_buf_len(udata));
  api->nftnl_udata_buf_free(udata);
  return r;
}

static struct nftnl_expr *expr(struct nftnl_rule *r, const char *name) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = api->nftnl_expr_alloc(name);
  if (e == NULL)
    abort();
  api->nftnl_rule_add_expr(r, e);
  return e;
}

static void cmp(struct nftnl_rule *r, enum nft_cmp_ops op, const void *data,
                size_t len) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "cmp");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  api->nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, (uint32_t)len);
}

static void meta(struct nftnl_rule *r, enum nft_meta_keys key) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "meta");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void payload(struct nftnl_rule *r, enum nft_payload_bases base,
                    unsigned offset, unsigned len) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "payload");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* reg1 = reg1 & mask (len bytes). */
static void and_mask(struct nftnl_rule *r, const void *mask, size_t len) {
  const struct nftnl_api *api = nftnl_api();
  static const unsigned char zero[16];
  struct nftnl_expr *e = expr(r, "bitwise");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, (uint32_t)len);
  api->nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, (uint32_t)len);
  api->nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, (uint32_t)len);
}

static void ct(struct nftnl_rule *r, enum nft_ct_keys key) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "ct");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

static void immediate(struct nftnl_rule *r, enum nft_registers reg,
                      const void *data, size_t len) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "immediate");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
  api->nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, (uint32_t)len);
}

static uint8_t nfproto(int family) {
  return family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

void netns_nft_match_ifname(struct nftnl_rule *r, bool input,
                            const char *name, bool equal) {
  char padded[IFNAMSIZ] = {0};   /* the kernel loads all IFNAMSIZ bytes */
  strncpy(padded, name, sizeof(padded) - 1);
  meta(r, input ? NFT_META_IIFNAME : NFT_META_OIFNAME);
  cmp(r, equal ? NFT_CMP_EQ : NFT_CMP_NEQ, padded, sizeof(padded));
}

void netns_nft_match_family(struct nftnl_rule *r, int family) {
  uint8_t proto = nfproto(family);
  meta(r, NFT_META_NFPROTO);
  cmp(r, NFT_CMP_EQ, &proto, sizeof(proto));
}

void netns_nft_match_addr(struct nftnl_rule *r, bool source,
                          const struct netns_addr *prefix) {
  bool v4 = prefix->family == AF_INET;
  size_t len = netns_family_bytes(prefix->family);
  netns_nft_match_family(r, prefix->family);
  /* Where the addresses are in the IPv4 and IPv6 headers. */
  unsigned offset = v4 ? (source ? 12 : 16) : (source ? 8 : 24);
  payload(r, NFT_PAYLOAD_NETWORK_HEADER, offset, (unsigned)len);
  unsigned char mask[16] = {0}, want[16] = {0};
  for (unsigned bit = 0; bit < prefix->prefixlen && bit < len * 8; bit++)
    mask[bit / 8] |= (unsigned char)(0x80u >> (bit % 8));
  for (size_t i = 0; i < len; i++)
    want[i] = prefix->bytes[i] & mask[i];
  if (prefix->prefixlen < len * 8)
    and_mask(r, mask, len);
  cmp(r, NFT_CMP_EQ, want, len);
}

void netns_nft_match_dport(struct nftnl_rule *r, int proto, unsigned port) {
  uint8_t l4 = (uint8_t)proto;
  meta(r, NFT_META_L4PROTO);
  cmp(r, NFT_CMP_EQ, &l4, sizeof(l4));
  /* The destination port: bytes 2-3 of both the TCP and the UDP header. */
  uint16_t be = htons((uint16_t)port);
  payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, sizeof(be));
  cmp(r, NFT_CMP_EQ, &be, sizeof(be));
}

void netns_nft_match_dnat(struct nftnl_rule *r) {
  uint32_t bit = IPS_DST_NAT, none = 0;
  ct(r, NFT_CT_STATUS);
  and_mask(r, &bit, sizeof(bit));
  cmp(r, NFT_CMP_NEQ, &none, sizeof(none));
}

void netns_nft_match_not_reply(struct nftnl_rule *r) {
  uint32_t bits = CT_STATE_ESTABLISHED | CT_STATE_RELATED, none = 0;
  ct(r, NFT_CT_STATE);
  and_mask(r, &bits, sizeof(bits));
  cmp(r, NFT_CMP_EQ, &none, sizeof(none));
}

void netns_nft_match_local(struct nftnl_rule *r, bool on_iif, bool local) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "fib");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS,
                          NFTA_FIB_F_DADDR | (on_iif ? NFTA_FIB_F_IIF : 0));
  uint32_t type = RTN_LOCAL;
  cmp(r, local ? NFT_CMP_EQ : NFT_CMP_NEQ, &type, sizeof(type));
}

void netns_nft_match_unicast(struct nftnl_rule *r) {
  uint8_t type = PACKET_HOST;
  meta(r, NFT_META_PKTTYPE);
  cmp(r, NFT_CMP_EQ, &type, sizeof(type));
}

void netns_nft_verdict(struct nftnl_rule *r, int verdict) {
  const struct nftnl_api *api = nftnl_api();
  struct nftnl_expr *e = expr(r, "immediate");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

void netns_nft_masquerade(struct nftnl_rule *r) { expr(r, "masq"); }

void netns_nft_dnat(struct nftnl_rule *r, const struct netns_addr *to,
                    unsigned port) {
  const struct nftnl_api *api = nftnl_api();
  uint16_t be = htons((uint16_t)port);
  immediate(r, NFT_REG_1, to->bytes, netns_family_bytes(to->family));
  immediate(r, NFT_REG_2, &be, sizeof(be));
  struct nftnl_expr *e = expr(r, "nat");
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto(to->family));
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
  api->nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
                          NF_NAT_RANGE_PROTO_SPECIFIED);
}
