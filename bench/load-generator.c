// Load generator for bench/server-throughput.ts: sends STUN Binding Requests at a paced rate
// from many UDP sockets and counts the replies. Native because one Node process can offer only
// about as many datagrams as one Node server answers, which would make the generator the limit.
//
// Usage: load-generator HOST PORT RATE DURATION_MS SOCKETS REQUEST_SIZE FRESH_IDS SEED
//   RATE          datagrams per second, all sockets together (0 = as fast as possible)
//   REQUEST_SIZE  bytes per request (>= 28); a PADDING attribute (0xCAFF) fills it up
//   FRESH_IDS     1 = a new session id for every request (floods the server's session table)
// Prints one JSON line: {"sent":..,"received":..,"stunReplies":..,"sendErrors":..,...}; received
// counts every datagram back, stunReplies those that are Binding Success Responses.
//
// Build: cc -O2 -o load-generator load-generator.c (the benchmark does this itself).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 1024
#define MAX_SIZE 1200
#define DRAIN_MS 300

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

static uint32_t crc32(const uint8_t *data, size_t length) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < length; i++) c = crc_table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

static uint32_t rng_state;
static uint32_t rng(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng_state = x;
}

/* A Binding Request (RFC 8489) with our transaction-id layout: 48-bit session id, 32-bit
   sequence, 16 random bits; PADDING up to `size`, FINGERPRINT last (section 14.7). */
static void build_request(uint8_t *m, size_t size, uint64_t session, uint32_t sequence) {
  put16(m, 0x0001);
  put16(m + 2, (uint32_t)(size - 20));
  put32(m + 4, 0x2112A442u);
  put16(m + 8, (uint32_t)(session >> 32));
  put32(m + 10, (uint32_t)session);
  put32(m + 14, sequence);
  put16(m + 18, rng() & 0xFFFF);
  size_t at = 20;
  if (size >= 28 + 4) {
    size_t padding = size - 28 - 4;
    put16(m + at, 0xCAFF);
    put16(m + at + 2, (uint32_t)padding);
    memset(m + at + 4, 0, padding);
    at += 4 + padding;
  }
  put16(m + at, 0x8028);
  put16(m + at + 2, 4);
  put32(m + at + 4, crc32(m, at) ^ 0x5354554Eu);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s HOST PORT RATE DURATION_MS SOCKETS REQUEST_SIZE FRESH_IDS SEED\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  double rate = atof(argv[3]);
  double duration = atof(argv[4]);
  int sockets = atoi(argv[5]);
  size_t size = (size_t)atoi(argv[6]);
  int fresh = atoi(argv[7]);
  rng_state = (uint32_t)strtoul(argv[8], NULL, 10) | 1;
  if (sockets < 1 || sockets > MAX_SOCKETS || size < 28 || size > MAX_SIZE || (size & 3) != 0) {
    fprintf(stderr, "load-generator: bad SOCKETS (1-%d) or REQUEST_SIZE (28-%d, multiple of 4)\n", MAX_SOCKETS, MAX_SIZE);
    return 2;
  }
  crc_init();

  struct sockaddr_in target = {0};
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
    fprintf(stderr, "load-generator: HOST must be an IPv4 address\n");
    return 2;
  }

  int fds[MAX_SOCKETS];
  int epoll = epoll_create1(0);
  for (int i = 0; i < sockets; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buffer = 4 << 20;
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&target, sizeof target) != 0) {
      perror("load-generator: socket");
      return 1;
    }
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &event);
  }

  /* Session ids: 24 random bits (this run) + 24-bit index, as the real client does. */
  uint64_t run = (uint64_t)(rng() & 0xFFFFFF) << 24;
  uint32_t *sequence = calloc((size_t)sockets, sizeof *sequence);
  uint8_t request[MAX_SIZE];
  uint8_t reply[2048];
  unsigned long long sent = 0, received = 0, send_errors = 0, stun_replies = 0, fresh_index = 0;
  struct epoll_event events[64];

  double start = now_ms();
  double sending_until = start + duration;
  double last_reply = start;
  for (;;) {
    double now = now_ms();
    int sending = now < sending_until;
    double due = rate > 0 ? rate * (now - start) / 1e3 : (double)sent + 256;
    int burst = 0;
    while (sending && (double)sent < due && burst < 256) {
      int s = (int)(sent % (unsigned long long)sockets);
      uint64_t session = fresh ? (((uint64_t)rng() << 16) ^ fresh_index++) : run + (uint64_t)s;
      build_request(request, size, session & 0xFFFFFFFFFFFFull, sequence[s]++);
      if (send(fds[s], request, size, 0) == (ssize_t)size) {
        sent++;
      } else {
        send_errors++;
        if (errno == EAGAIN || errno == ENOBUFS) break;
      }
      burst++;
    }
    int timeout = (sending && (double)sent < due) ? 0 : 1;
    int ready = epoll_wait(epoll, events, 64, timeout);
    for (int e = 0; e < ready; e++) {
      int fd = fds[events[e].data.u32];
      for (;;) {
        ssize_t n = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
        if (n < 0) break;
        received++;
        /* A Binding Success Response; the bare echo responder sends the request back instead. */
        if (n >= 20 && reply[0] == 0x01 && reply[1] == 0x01) stun_replies++;
        last_reply = now;
      }
    }
    if (!sending && (received >= sent || now - (last_reply > sending_until ? last_reply : sending_until) > DRAIN_MS)) break;
  }
  double elapsed = now_ms() - start;
  double seconds = duration / 1e3;
  printf("{\"sent\":%llu,\"received\":%llu,\"stunReplies\":%llu,\"sendErrors\":%llu,\"durationMs\":%.0f,\"elapsedMs\":%.0f,"
         "\"offeredPerSecond\":%.0f,\"repliesPerSecond\":%.0f}\n",
         sent, received, stun_replies, send_errors, duration, elapsed, sent / seconds, received / seconds);
  return 0;
}
