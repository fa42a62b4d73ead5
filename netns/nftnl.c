/* nftnl.c — loading libnftnl on demand (see nftnl.h). */
#include "netns/nftnl.h"

#include <stdlib.h>

#define SYM(name) LAZYLIB_SYMBOL(struct nftnl_api, name)

static const struct lazylib_symbol symbols[] = {
    SYM(nftnl_batch_begin),
    SYM(nftnl_batch_end),
    SYM(nftnl_nlmsg_build_hdr),
    SYM(nftnl_chain_alloc),
    SYM(nftnl_chain_free),
    SYM(nftnl_chain_nlmsg_build_payload),
    SYM(nftnl_chain_set_s32),
    SYM(nftnl_chain_set_str),
    SYM(nftnl_chain_set_u32),
    SYM(nftnl_table_alloc),
    SYM(nftnl_table_free),
    SYM(nftnl_table_nlmsg_build_payload),
    SYM(nftnl_table_set_str),
    SYM(nftnl_table_set_u32),
    SYM(nftnl_expr_alloc),
    SYM(nftnl_expr_set),
    SYM(nftnl_expr_set_u32),
    SYM(nftnl_rule_add_expr),
    SYM(nftnl_rule_alloc),
    SYM(nftnl_rule_free),
    SYM(nftnl_rule_get_str),
    SYM(nftnl_rule_nlmsg_build_payload),
    SYM(nftnl_rule_set_data),
    SYM(nftnl_rule_set_str),
    SYM(nftnl_rule_set_u32),
    SYM(nftnl_rule_set_u64),
    SYM(nftnl_udata_buf_alloc),
    SYM(nftnl_udata_buf_data),
    SYM(nftnl_udata_buf_free),
    SYM(nftnl_udata_buf_len),
    SYM(nftnl_udata_get),
    SYM(nftnl_udata_len),
    SYM(nftnl_udata_parse),
    SYM(nftnl_udata_put_strz),
    SYM(nftnl_udata_type),
};

static struct lazylib libnftnl = LAZYLIB("libnftnl.so.11", symbols,
                                         struct nftnl_api);

int nftnl_api_load(hull_error_t *err) {
  const void *table;
  return lazylib_load(&libnftnl, &table, err);
}

const struct nftnl_api *nftnl_api(void) {
  const void *table;
  cleanup_error hull_error_t err = NULL;
  if (lazylib_load(&libnftnl, &table, &err) < 0) {
    log_msg(LOG_ERROR, "netns: libnftnl used without nftnl_api_load(): %s", err->msg);
    abort();
  }
  return table;
}
