/* nl.c — one netlink request (or batch) and its replies, errors from the
 * kernel's extended ack. Each request opens its own socket: no state is shared
 * between calls, and the socket is in whatever network namespace the
 * caller is in at that moment. */
#include "netns/netns.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlmsghdr *netns_nl_start(char *buf, unsigned type, unsigned flags) {
  memset(buf, 0, NETNS_NL_BUF);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (uint16_t)type;
  nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = 1;   /* a fresh socket per request: nothing to tell apart */
  return nlh;
}

static void close_mnl(struct mnl_socket **nl) {
  if (*nl)
    mnl_socket_close(*nl);
}

/* The NLMSGERR_ATTR_MSG text of an error reply, NULL when there is none
 * (older kernels, or the code path set no message). */
static const char *ext_ack_message(const struct nlmsghdr *msg) {
  if (!(msg->nlmsg_flags & NLM_F_ACK_TLVS))
    return NULL;
  const struct nlmsgerr *e = mnl_nlmsg_get_payload(msg);
  /* The TLVs follow the echoed request: its header only when capped. */
  size_t off = sizeof(*e);
  if (!(msg->nlmsg_flags & NLM_F_CAPPED))
    off += e->msg.nlmsg_len - sizeof(e->msg);
  size_t payload = mnl_nlmsg_get_payload_len(msg);
  if (off >= payload)
    return NULL;
  const struct nlattr *attr;
  const char *text = NULL;
  mnl_attr_for_each_payload((const void *)((const char *)e + off),
                            payload - off) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
      text = mnl_attr_get_str(attr);
  }
  return text;
}

/* "netns: <what>: <strerror>", with the kernel's text when there is one,
 * and which message of a batch failed ("netns: <what>: <step>: ...") when
 * step is not NULL. */
static int step_error(hull_error_t *err, int error, const char *ext_ack,
                      const char *step, const char *fmt, va_list ap) {
  char what[512];
  vsnprintf(what, sizeof(what), fmt, ap);
  const char *sep = step ? ": " : "";
  step = step ? step : "";
  if (ext_ack && *ext_ack)
    hull_error(err, 0, "netns: %s%s%s: %s (kernel: %s)", what, sep, step,
               strerror(error), ext_ack);
  else
    hull_error(err, 0, "netns: %s%s%s: %s", what, sep, step,
               strerror(error));
  (*err)->errno_value = error;
  return -1;
}

static int kernel_error(hull_error_t *err, int error, const char *ext_ack,
                        const char *fmt, va_list ap) {
  return step_error(err, error, ext_ack, NULL, fmt, ap);
}

/* What one reply message means: 1 done (ack or end of dump), 0 more to
 * come, -1 an error in *err. */
static int one_reply(const struct nlmsghdr *msg, netns_nl_each each,
                     void *data, char *const *steps, hull_error_t *err,
                     const char *fmt, va_list ap) {
  if (msg->nlmsg_type == NLMSG_DONE)
    return 1;
  if (msg->nlmsg_type == NLMSG_ERROR) {
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(msg);
    if (mnl_nlmsg_get_payload_len(msg) < sizeof(*e))
      return kernel_error(err, EBADMSG, NULL, fmt, ap);
    if (e->error == 0)
      return 1;
    /* The error echoes the failed message's header: its seq says which. */
    const char *step = NULL;
    for (unsigned i = 0; steps && steps[i]; i++)
      if (i == e->msg.nlmsg_seq)
        step = steps[i];
    return step_error(err, -e->error, ext_ack_message(msg), step, fmt, ap);
  }
  if (msg->nlmsg_type < NLMSG_MIN_TYPE || each == NULL)
    return 0;
  if (each(msg, data, err) < 0) {
    char what[512];
    vsnprintf(what, sizeof(what), fmt, ap);
    return hull_error_wrap(err, "netns: %s", what);
  }
  return 0;
}

/* Sends len bytes of msgs on a fresh socket of protocol and reads replies
 * until the end: with acks 0, the ack, the end of a dump or a GET's reply
 * to the one message sent; else that many acks (a batch of messages each
 * asking for one, steps[seq] naming each). The first error ends it. */
static int vexchange(int protocol, const struct nlmsghdr *msgs, size_t len,
                     unsigned acks, char *const *steps, netns_nl_each each,
                     void *data, hull_error_t *err, const char *fmt,
                     va_list ap) {
  __attribute__((cleanup(close_mnl))) struct mnl_socket *nl =
      mnl_socket_open2(protocol, SOCK_CLOEXEC);
  if (nl == NULL)
    return kernel_error(err, errno, NULL, fmt, ap);
  /* Ask for the kernel's reason in text, and not to echo our request. Old
   * kernels refuse these; the errno alone then has to do. */
  int one = 1;
  setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_EXT_ACK, &one,
             sizeof(one));
  setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one,
             sizeof(one));
  /* The kernel takes a batch in one send: make room beyond the default. */
  int room = (int)len * 2;
  if (len > 65536)
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &room,
               sizeof(room));
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
      mnl_socket_sendto(nl, msgs, len) < 0)
    return kernel_error(err, errno, NULL, fmt, ap);
  unsigned portid = mnl_socket_get_portid(nl);
  unsigned acked = 0;
  /* Room for a dump's batch (the kernel fills up to 32 KiB at a time). */
  char buf[32768];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0)
      return kernel_error(err, errno, NULL, fmt, ap);
    const struct nlmsghdr *msg = (const struct nlmsghdr *)buf;
    int left = (int)n;
    for (; mnl_nlmsg_ok(msg, left); msg = mnl_nlmsg_next(msg, &left)) {
      /* A batch's replies carry each message's own sequence number. */
      if (!mnl_nlmsg_portid_ok(msg, portid) ||
          (acks == 0 && !mnl_nlmsg_seq_ok(msg, msgs->nlmsg_seq)))
        continue;
      va_list again;
      va_copy(again, ap);
      int done = one_reply(msg, each, data, steps, err, fmt, again);
      va_end(again);
      if (done < 0)
        return -1;
      if (acks > 0) {
        if (done > 0 && ++acked == acks)
          return 0;
        continue;
      }
      /* A GET without NLM_F_DUMP and without NLM_F_ACK ends at its reply. */
      if (done > 0 || (!(msgs->nlmsg_flags & (NLM_F_DUMP | NLM_F_ACK)) &&
                       msg->nlmsg_type >= NLMSG_MIN_TYPE))
        return 0;
    }
  }
}

int netns_nl_talk(struct nlmsghdr *req, netns_nl_each each, void *data,
                  hull_error_t *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vexchange(NETLINK_ROUTE, req, req->nlmsg_len, 0, NULL, each, data,
                    err, fmt, ap);
  va_end(ap);
  return r;
}

int netns_nl_talk_on(int protocol, struct nlmsghdr *req, netns_nl_each each,
                     void *data, hull_error_t *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vexchange(protocol, req, req->nlmsg_len, 0, NULL, each, data, err,
                    fmt, ap);
  va_end(ap);
  return r;
}

int netns_nl_batch(int protocol, const void *msgs, size_t len, unsigned acks,
                   char *const *steps, hull_error_t *err, const char *fmt,
                   ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vexchange(protocol, msgs, len, acks, steps, NULL, NULL, err, fmt,
                    ap);
  va_end(ap);
  return r;
}
