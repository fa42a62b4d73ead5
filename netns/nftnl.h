/* nftnl.h — libnftnl, loaded on first use (private to netns/).
 * Only the commands that touch hull's networks build nftables messages;
 * linking libnftnl would load it into every hull command. */
#ifndef HULL_NETNS_NFTNL_H
#define HULL_NETNS_NFTNL_H

#include "runtime/common/common.h"

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#define API(name) __typeof__(name) *name

struct nftnl_api {
  /* the transaction's framing (common.h) */
  API(nftnl_batch_begin);
  API(nftnl_batch_end);
  API(nftnl_nlmsg_build_hdr);
  /* table and chains */
  API(nftnl_chain_alloc);
  API(nftnl_chain_free);
  API(nftnl_chain_nlmsg_build_payload);
  API(nftnl_chain_set_s32);
  API(nftnl_chain_set_str);
  API(nftnl_chain_set_u32);
  API(nftnl_table_alloc);
  API(nftnl_table_free);
  API(nftnl_table_nlmsg_build_payload);
  API(nftnl_table_set_str);
  API(nftnl_table_set_u32);
  /* rules and their expressions */
  API(nftnl_expr_alloc);
  API(nftnl_expr_set);
  API(nftnl_expr_set_u32);
  API(nftnl_rule_add_expr);
  API(nftnl_rule_alloc);
  API(nftnl_rule_free);
  API(nftnl_rule_get_str);
  API(nftnl_rule_nlmsg_build_payload);
  API(nftnl_rule_set_data);
  API(nftnl_rule_set_str);
  API(nftnl_rule_set_u32);
  API(nftnl_rule_set_u64);
  /* userdata: a rule's tag */
  API(nftnl_udata_buf_alloc);
  API(nftnl_udata_buf_data);
  API(nftnl_udata_buf_free);
  API(nftnl_udata_buf_len);
  API(nftnl_udata_get);
  API(nftnl_udata_len);
  API(nftnl_udata_parse);
  API(nftnl_udata_put_strz);
  API(nftnl_udata_type);
};

#undef API

/* Loads libnftnl once per process: "libnftnl.so.11: not loadable: ...".
 * Every nftables call starts here (netns_nft_batch_start, the dumps). */
int nftnl_api_load(hull_error_t *err);
/* libnftnl's functions, for the code that runs once nftnl_api_load()
 * succeeded: the message builders, which have no error path. Called
 * first, it loads the library, and aborts when it cannot (a bug: the
 * entry point should have called nftnl_api_load()). */
const struct nftnl_api *nftnl_api(void);

#endif
