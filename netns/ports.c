/* ports.c — the run.oci.network.ports syntax: "8080:80/tcp,5353:53/udp". */
#include "netns/netns.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_SYNTAX "host_port:container_port[/tcp|/udp]"

/* Decimal digits only (no sign, no spaces), 1..65535; 0 when not that. */
static unsigned port_number(const char *s, size_t len) {
  if (len == 0 || len > 5)
    return 0;
  unsigned v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v <= 65535 ? v : 0;
}

static int parse_item(const char *item, struct netns_port *out,
                      hull_error_t *err) {
  const char *colon = strchr(item, ':');
  if (colon == NULL)
    return hull_error(err, 0, "\"%s\": expected " ITEM_SYNTAX, item);
  const char *slash = strchr(colon, '/');
  const char *end = slash ? slash : colon + strlen(colon);
  out->proto = IPPROTO_TCP;
  if (slash && strcmp(slash + 1, "udp") == 0)
    out->proto = IPPROTO_UDP;
  else if (slash && strcmp(slash + 1, "tcp") != 0)
    return hull_error(err, 0, "\"%s\": protocol \"%s\" is not tcp or udp",
                      item, slash + 1);
  out->host_port = port_number(item, (size_t)(colon - item));
  if (out->host_port == 0)
    return hull_error(err, 0, "\"%s\": host port \"%.*s\" is not a number "
                      "from 1 to 65535", item, (int)(colon - item), item);
  out->container_port = port_number(colon + 1, (size_t)(end - colon - 1));
  if (out->container_port == 0)
    return hull_error(err, 0, "\"%s\": container port \"%.*s\" is not a "
                      "number from 1 to 65535", item, (int)(end - colon - 1),
                      colon + 1);
  return 0;
}

int netns_ports_parse(const char *text, struct netns_port **out, size_t *n,
                      hull_error_t *err) {
  *out = NULL;
  *n = 0;
  cleanup_free char *copy = xstrdup(text);
  cleanup_free struct netns_port *ports = NULL;
  size_t count = 0;
  char *next = copy;
  for (;;) {
    char *item = next, *comma = strchr(item, ',');
    if (comma)
      *comma = '\0';
    struct netns_port p;
    if (parse_item(item, &p, err) < 0)
      return -1;
    for (size_t i = 0; i < count; i++)
      if (ports[i].host_port == p.host_port && ports[i].proto == p.proto)
        return hull_error(err, 0, "\"%s\": host port %u/%s is published "
                          "twice", item, p.host_port,
                          p.proto == IPPROTO_UDP ? "udp" : "tcp");
    ports = xrealloc(ports, (count + 1) * sizeof(*ports));
    ports[count++] = p;
    if (comma == NULL)
      break;
    next = comma + 1;
  }
  *out = take_ptr(ports);
  *n = count;
  return 0;
}
