/*
 * net-throughput — TCP bulk throughput between two processes, for
 * bench/net-bench.sh (Debian's iperf3 is not installed here, and the bench
 * must not install anything).
 *
 *   net-throughput recv PORT
 *       listens on every address at PORT, prints "listening" once it does,
 *       takes one connection, reads it to its end, then answers one byte
 *       (so the sender's clock stops only when everything has arrived).
 *   net-throughput send ADDRESS PORT BYTES
 *       connects to ADDRESS (IPv4 or IPv6; retried for 5 s while the
 *       receiver comes up), writes BYTES in 128 KiB writes, shuts its side
 *       down, waits for the receiver's byte and prints one line:
 *         <MB/s> <bytes> <microseconds>
 *       MB is 10^6 bytes; the time runs from connect(2) done to the byte.
 *
 * Exits 0 on success, 1 with a one-line message on stderr otherwise.
 * Built by `make bench` (the Makefile's bench/net-throughput rule).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

static void die(const char *what) {
  fprintf(stderr, "net-throughput: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int receive(const char *port) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    die("socket");
  int one = 1, zero = 0;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  /* One socket for both families: the bench may use either. */
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                           .sin6_port = htons((uint16_t)atoi(port)),
                           .sin6_addr = IN6ADDR_ANY_INIT};
  if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
    die("bind/listen");
  printf("listening\n");
  fflush(stdout);
  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    die("accept");
  static char buf[CHUNK];
  for (;;) {
    ssize_t n = read(c, buf, sizeof(buf));
    if (n == 0)
      break;
    if (n < 0 && errno != EINTR)
      die("read");
  }
  if (write(c, "k", 1) != 1)
    die("write the acknowledgement");
  close(c);
  close(s);
  return 0;
}

static int connect_retrying(const char *host, const char *port) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *ai;
  int r = getaddrinfo(host, port, &hints, &ai);
  if (r != 0) {
    fprintf(stderr, "net-throughput: %s: %s\n", host, gai_strerror(r));
    exit(1);
  }
  for (int tries = 0;; tries++) {
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
      die("socket");
    if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
      freeaddrinfo(ai);
      return s;
    }
    if (tries == 500)
      die("connect");
    close(s);
    usleep(10000);
  }
}

static int send_bytes(const char *host, const char *port, const char *count) {
  long long total = atoll(count);
  if (total <= 0) {
    fprintf(stderr, "net-throughput: BYTES must be positive, not `%s'\n",
            count);
    return 1;
  }
  int s = connect_retrying(host, port);
  static char buf[CHUNK];
  memset(buf, 'x', sizeof(buf));
  int64_t start = now_us();
  for (long long left = total; left > 0;) {
    size_t want = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t n = write(s, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      die("write");
    left -= n;
  }
  if (shutdown(s, SHUT_WR) < 0)
    die("shutdown");
  char ack;
  if (read(s, &ack, 1) != 1)
    die("read the acknowledgement");
  int64_t us = now_us() - start;
  printf("%.1f %lld %lld\n", (double)total / (double)us, total, (long long)us);
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "recv") == 0)
    return receive(argv[2]);
  if (argc == 5 && strcmp(argv[1], "send") == 0)
    return send_bytes(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: net-throughput recv PORT\n"
                  "       net-throughput send ADDRESS PORT BYTES\n");
  return 1;
}
