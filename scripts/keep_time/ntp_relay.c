/*
 * ntp_relay.c - the keep-time benchmark's network: delaying UDP relays for NTP, one per path, all
 * in one single-threaded process, accurate to tens of microseconds.
 *
 * Each path listens on LISTEN, forwards client requests to TARGET after OUT_DELAY + U(0,
 * OUT_JITTER) ms and the replies back after BACK_DELAY + U(0, BACK_JITTER) ms, both counted from
 * the kernel's receive timestamp (SO_TIMESTAMPNS). One upstream socket per path serves every
 * client: a reply goes back to the client whose request carried the transmit timestamp the
 * reply's origin echoes (chronyd sends every request from a new port). Datagrams wait in one
 * queue; the loop polls until 300 us before the earliest is due and spins to its due time.
 * Why C and not tests/support/udp_relay.ts: that relay's receive threads hand datagrams to the
 * event loop 0.3-1 ms late and its timers are coarse; through a 2.5 +- 0.5 ms path it delivered
 * 5.1-6.2 ms round trips whose low-delay tenth was 50-110 us biased, the size of the differences
 * the benchmark measures.
 *
 * scripts/bench_keep_time.ts builds it (gcc -O2, outside the repository) and runs it in its
 * network namespace under setpriv --bounding-set=-sys_time. Not for use on a real network.
 *
 *   ntp_relay LIFETIME_S SEED PATH...    PATH = LISTEN_IP:PORT,TARGET_IP:PORT,OUT_MS,OUT_JITTER_MS,
 *                                               BACK_MS,BACK_JITTER_MS
 * Prints "READY" on stderr when every socket is bound, the counters on stdout when it exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS 16
#define MAX_QUEUED 4096
#define MAX_WAITING 512
#define MAX_PACKET 2048
#define SPIN_LEAD_NS 300000LL

struct path {
    struct sockaddr_in listen, target;
    double out_ms, out_jitter_ms, back_ms, back_jitter_ms;
    int listen_fd, upstream_fd;
    /* Clients waiting for replies, by the transmit timestamp of their request (a ring). */
    struct { uint8_t stamp[8]; struct sockaddr_in client; int used; } waiting[MAX_WAITING];
    int next_waiting;
    unsigned long to_target, to_client, unmatched;
};

struct held {
    long long due_ns;
    int fd;
    struct sockaddr_in to;
    int length;
    uint8_t data[MAX_PACKET];
};

static struct path paths[MAX_PATHS];
static int path_count;
static struct held *queue[MAX_QUEUED];
static int queued;
static unsigned long dropped;
static uint64_t random_state;

static double uniform(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (double)(random_state >> 11) / 9007199254740992.0;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_endpoint(const char *text, struct sockaddr_in *out) {
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof host) return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static int open_socket(const struct sockaddr_in *bind_to) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) return -1;
    if (bind_to != NULL && bind(fd, (const struct sockaddr *)bind_to, sizeof *bind_to) != 0) return -1;
    return fd;
}

/* Queues a datagram for `fd` to send to `to` at `due_ns` (the queue is kept sorted, earliest first). */
static void hold(long long due_ns, int fd, const struct sockaddr_in *to, const uint8_t *data, int length) {
    if (queued >= MAX_QUEUED) { dropped++; return; }
    struct held *h = malloc(sizeof *h);
    if (h == NULL) { dropped++; return; }
    h->due_ns = due_ns;
    h->fd = fd;
    h->to = *to;
    h->length = length;
    memcpy(h->data, data, (size_t)length);
    int at = queued;
    while (at > 0 && queue[at - 1]->due_ns > due_ns) { queue[at] = queue[at - 1]; at--; }
    queue[at] = h;
    queued++;
}

/* Receives everything waiting on `fd`; returns each datagram's kernel receive time via the callback. */
static void drain(struct path *p, int from_client) {
    int fd = from_client ? p->listen_fd : p->upstream_fd;
    for (;;) {
        uint8_t data[MAX_PACKET];
        char control[256];
        struct sockaddr_in from;
        struct iovec iov = { data, sizeof data };
        struct msghdr msg = { &from, sizeof from, &iov, 1, control, sizeof control, 0 };
        ssize_t length = recvmsg(fd, &msg, 0);
        if (length < 0) return;
        long long received = now_ns();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                received = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
            }
        }
        if (length < 48) continue;
        if (from_client) {
            int slot = p->next_waiting;
            p->next_waiting = (slot + 1) % MAX_WAITING;
            memcpy(p->waiting[slot].stamp, data + 40, 8);
            p->waiting[slot].client = from;
            p->waiting[slot].used = 1;
            double ms = p->out_ms + uniform() * p->out_jitter_ms;
            hold(received + (long long)(ms * 1e6), p->upstream_fd, &p->target, data, (int)length);
            p->to_target++;
        } else {
            int found = -1;
            for (int i = 0; i < MAX_WAITING; i++) {
                if (p->waiting[i].used && memcmp(p->waiting[i].stamp, data + 24, 8) == 0) { found = i; break; }
            }
            if (found < 0) { p->unmatched++; continue; }
            p->waiting[found].used = 0;
            double ms = p->back_ms + uniform() * p->back_jitter_ms;
            hold(received + (long long)(ms * 1e6), p->listen_fd, &p->waiting[found].client, data, (int)length);
            p->to_client++;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ntp_relay LIFETIME_S SEED LISTEN,TARGET,OUT_MS,OUT_JITTER_MS,BACK_MS,BACK_JITTER_MS...\n");
        return 2;
    }
    long long end_ns = now_ns() + (long long)(atof(argv[1]) * 1e9);
    random_state = (uint64_t)strtoull(argv[2], NULL, 10) * 2654435761u + 88172645463325252ull;
    for (int i = 3; i < argc && path_count < MAX_PATHS; i++) {
        struct path *p = &paths[path_count];
        char listen[64], target[64];
        if (sscanf(argv[i], "%63[^,],%63[^,],%lf,%lf,%lf,%lf", listen, target, &p->out_ms,
                   &p->out_jitter_ms, &p->back_ms, &p->back_jitter_ms) != 6 ||
            parse_endpoint(listen, &p->listen) != 0 || parse_endpoint(target, &p->target) != 0) {
            fprintf(stderr, "ntp_relay: cannot parse path '%s'\n", argv[i]);
            return 2;
        }
        p->listen_fd = open_socket(&p->listen);
        p->upstream_fd = open_socket(NULL);
        if (p->listen_fd < 0 || p->upstream_fd < 0) {
            fprintf(stderr, "ntp_relay: cannot open the sockets of '%s': %s\n", argv[i], strerror(errno));
            return 1;
        }
        path_count++;
    }
    fprintf(stderr, "READY\n");
    struct pollfd fds[2 * MAX_PATHS];
    for (int i = 0; i < path_count; i++) {
        fds[2 * i] = (struct pollfd){ paths[i].listen_fd, POLLIN, 0 };
        fds[2 * i + 1] = (struct pollfd){ paths[i].upstream_fd, POLLIN, 0 };
    }
    while (now_ns() < end_ns) {
        int timeout_ms = 100;
        if (queued > 0) {
            long long wait = queue[0]->due_ns - SPIN_LEAD_NS - now_ns();
            timeout_ms = wait <= 0 ? 0 : (int)(wait / 1000000LL);
        }
        if (poll(fds, (nfds_t)(2 * path_count), timeout_ms) > 0) {
            for (int i = 0; i < path_count; i++) {
                if (fds[2 * i].revents & POLLIN) drain(&paths[i], 1);
                if (fds[2 * i + 1].revents & POLLIN) drain(&paths[i], 0);
            }
        }
        while (queued > 0 && queue[0]->due_ns - SPIN_LEAD_NS <= now_ns()) {
            struct held *h = queue[0];
            while (now_ns() < h->due_ns) { /* spin: poll's timeout is in whole milliseconds */ }
            sendto(h->fd, h->data, (size_t)h->length, 0, (struct sockaddr *)&h->to, sizeof h->to);
            memmove(queue, queue + 1, (size_t)(queued - 1) * sizeof queue[0]);
            queued--;
            free(h);
        }
    }
    printf("{\"dropped\":%lu,\"paths\":[", dropped);
    for (int i = 0; i < path_count; i++) {
        printf("%s{\"toTarget\":%lu,\"toClient\":%lu,\"unmatched\":%lu}", i ? "," : "",
               paths[i].to_target, paths[i].to_client, paths[i].unmatched);
    }
    printf("]}\n");
    return 0;
}
