/*
 * ntpload.c - open-loop, paced NTPv4 load generator for loopback benchmarks.
 *
 * The team's independent load generator (written apart from the server it measures, first kept
 * outside this repository), kept here unchanged so scripts/bench_serve.sh runs from a clone alone.
 *
 * Sends 48-byte NTPv4 client requests (LI=0, VN=4, mode 3) to HOST:PORT at a
 * fixed target rate from several connected UDP sockets (= several source
 * ports), using sendmmsg/recvmmsg batches.  A reply counts as received only
 * if it is mode 4 and its origin timestamp equals the transmit timestamp we
 * sent.  Latency (send -> reply seen) is measured with CLOCK_MONOTONIC.
 *
 * The transmit timestamp is 32 random bits (high half) + a 32-bit sequence
 * number (low half); the sequence number indexes a ring of in-flight
 * requests, so matching is O(1) and the full 64-bit value is compared.
 *
 *   ntpload [-r RATE] [-d SECS] [-s NSOCK] [-a NADDR] [-b BATCH] [-p PID] HOST PORT
 *   ntpload --max [-r START] [-t TRIAL_SECS] [-s ..] [-a ..] [-b ..] [-p PID] HOST PORT
 *
 * -a N sends from 127.0.0.1 .. 127.0.0.N (socket i from 127.0.0.(1 + i % N), so at most
 * NSOCK addresses): a server that steers clients by source address spreads them.
 * --max doubles the rate until a trial loses >=1% (or the generator cannot
 * keep the pace), then bisects to ~3%.  -p PID reports the CPU use (utime +
 * stime from /proc/PID/stat, all threads) of the server during each trial.
 * Every run stops by itself: trials are <=50 s and the whole program exits
 * within 60 s (SIGALRM).  Output ends with one "RESULT ..." or "MAX ..." line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXSOCK 64
#define MAXBATCH 256
#define RING (1u << 21)     /* in-flight slots (power of two) */
#define NTP_LEN 48
#define DRAIN_NS 500000000ull /* wait this long for late replies after sending stops */
#define LATCAP (1u << 24)   /* max latency samples kept per trial */

struct slot { uint64_t xmt, t_ns; };
struct res {
    double rate, secs, sent_rate, recv_rate, loss, p50, p99, srv_cpu, gen_cpu;
    uint64_t sent, recv, unmatched, senderr;
    long rcvbuferr;
    int genlimited;
};

static int naddr = 1; /* -a N: socket i sends from 127.0.0.(1 + i % N): min(N, nsock) sources */
static int nsock = 8, batch = 32, pid_watch = 0;
static int fds[MAXSOCK];
static struct slot *ring;
static uint32_t *lat;
static size_t nlat;
static uint32_t seq;
static uint64_t rng = 88172645463325252ull;
static volatile sig_atomic_t stop_flag;

static void on_sig(int s) { (void)s; stop_flag = 1; }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t xorshift(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* CPU seconds (user+system, all threads) used so far by process pid. */
static double proc_cpu_s(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    unsigned long ut, st;       /* fields 14 and 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* kernel-wide UDP receive-buffer overflow counter (Udp: RcvbufErrors) */
static long udp_rcvbuf_errors(void) {
    char line[1024], hdr[1024] = "";
    long v = -1;
    FILE *f = fopen("/proc/net/snmp", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Udp: ", 5)) continue;
        if (!hdr[0]) { strcpy(hdr, line); continue; }
        int col = 0;
        for (char *h = strtok(hdr, " \n"); h && strcmp(h, "RcvbufErrors"); h = strtok(NULL, " \n")) col++;
        char *t = strtok(line, " \n");
        for (int i = 0; t && i < col; i++) t = strtok(NULL, " \n");
        if (t) v = atol(t);
        break;
    }
    if (f) fclose(f);
    return v;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One paced run at `rate` req/s for `secs` seconds; fills *r. */
static void trial(double rate, double secs, struct res *r) {
    static unsigned char sbuf[MAXBATCH][NTP_LEN], rbuf[MAXBATCH][128];
    static struct mmsghdr sm[MAXBATCH], rm[MAXBATCH];
    static struct iovec siov[MAXBATCH], riov[MAXBATCH];
    struct pollfd pfd[MAXSOCK];
    for (int i = 0; i < MAXBATCH; i++) {
        siov[i] = (struct iovec){sbuf[i], NTP_LEN};
        riov[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
        sm[i].msg_hdr = (struct msghdr){.msg_iov = &siov[i], .msg_iovlen = 1};
        rm[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
    }
    for (int i = 0; i < nsock; i++) pfd[i] = (struct pollfd){fds[i], POLLIN, 0};
    memset(r, 0, sizeof *r);
    r->rate = rate; r->secs = secs;
    nlat = 0;
    uint64_t sent = 0, recv = 0, t0 = now_ns();
    uint64_t t_end = t0 + (uint64_t)(secs * 1e9), t_stop = t_end + DRAIN_NS;
    double c0 = pid_watch ? proc_cpu_s(pid_watch) : 0, g0 = self_cpu_s(), c1 = c0, g1 = g0;
    long rb0 = udp_rcvbuf_errors();
    int si = 0, ended = 0;

    while (!stop_flag) {
        uint64_t t = now_ns();
        int busy = 0;
        if (t >= t_stop) break;
        if (t < t_end) {
            /* open loop: send everything that is due by now, up to 4 batches per pass */
            uint64_t due = (uint64_t)((t - t0) * 1e-9 * rate);
            for (int k = 0; k < 4 && sent < due; k++) {
                int n = due - sent > (uint64_t)batch ? batch : (int)(due - sent);
                uint64_t ts = now_ns();
                for (int i = 0; i < n; i++, seq++) {
                    uint64_t x = (xorshift() & 0xffffffff00000000ull) | seq;
                    unsigned char *p = sbuf[i];
                    memset(p, 0, NTP_LEN);
                    p[0] = 0x23; /* LI=0 VN=4 mode=3 */
                    p[2] = 6;    /* poll 2^6 s */
                    p[3] = 0xec; /* precision 2^-20 s */
                    uint64_t be = htobe64(x);
                    memcpy(p + 40, &be, 8); /* transmit timestamp */
                    ring[seq % RING] = (struct slot){x, ts};
                }
                int m = sendmmsg(fds[si], sm, n, 0);
                si = (si + 1) % nsock;
                if (m < 0) { r->senderr++; break; }
                sent += m;
                busy = 1;
            }
        } else if (!ended) { /* sending window over: take CPU readings now */
            ended = 1;
            c1 = pid_watch ? proc_cpu_s(pid_watch) : 0;
            g1 = self_cpu_s();
        }
        /* drain replies from every socket */
        for (int s = 0; s < nsock; s++) {
            int m;
            while ((m = recvmmsg(fds[s], rm, batch, MSG_DONTWAIT, NULL)) > 0) {
                uint64_t tr = now_ns();
                busy = 1;
                for (int i = 0; i < m; i++) {
                    unsigned char *p = rbuf[i];
                    uint64_t o;
                    if (rm[i].msg_len < NTP_LEN || (p[0] & 7) != 4) { r->unmatched++; continue; }
                    memcpy(&o, p + 24, 8); /* origin timestamp */
                    o = be64toh(o);
                    struct slot *sl = &ring[(uint32_t)o % RING];
                    if (sl->xmt != o || sl->t_ns < t0) { r->unmatched++; continue; }
                    sl->xmt = 0; /* a duplicate reply will not match again */
                    recv++;
                    if (nlat < LATCAP) lat[nlat++] = tr - sl->t_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)(tr - sl->t_ns);
                }
                if (m < batch) break;
            }
        }
        if (!busy) { /* nothing to do: sleep until the next send is due or a reply arrives */
            uint64_t t2 = now_ns(), next = t2 < t_end ? t0 + (uint64_t)((sent + 1) * 1e9 / rate) : t_stop;
            uint64_t w = next > t2 ? next - t2 : 0;
            if (w > 20000) {
                struct timespec to = {w / 1000000000ull, w % 1000000000ull};
                ppoll(pfd, nsock, &to, NULL);
            }
        }
    }
    if (!ended) { c1 = pid_watch ? proc_cpu_s(pid_watch) : 0; g1 = self_cpu_s(); }
    r->rcvbuferr = udp_rcvbuf_errors() - rb0;
    r->sent = sent; r->recv = recv;
    r->sent_rate = sent / secs; r->recv_rate = recv / secs;
    r->loss = sent ? 100.0 * (double)(sent - recv) / sent : 0;
    r->srv_cpu = pid_watch ? 100.0 * (c1 - c0) / secs : -1;
    r->gen_cpu = 100.0 * (g1 - g0) / secs;
    r->genlimited = sent < 0.97 * rate * secs; /* we could not keep the pace */
    if (nlat) {
        qsort(lat, nlat, sizeof lat[0], cmp_u32);
        r->p50 = lat[nlat / 2] / 1e3;
        r->p99 = lat[(size_t)(nlat * 0.99)] / 1e3;
    }
}

static void print_res(const char *tag, const struct res *r) {
    printf("%s rate=%.0f secs=%.1f sent=%llu recv=%llu sent_rate=%.0f recv_rate=%.0f loss_pct=%.3f "
           "p50_us=%.1f p99_us=%.1f srv_cpu_pct=%.1f gen_cpu_pct=%.1f unmatched=%llu senderr=%llu rcvbuf_err=%ld genlimited=%d\n",
           tag, r->rate, r->secs, (unsigned long long)r->sent, (unsigned long long)r->recv, r->sent_rate,
           r->recv_rate, r->loss, r->p50, r->p99, r->srv_cpu, r->gen_cpu, (unsigned long long)r->unmatched,
           (unsigned long long)r->senderr, r->rcvbuferr, r->genlimited);
    fflush(stdout);
}

static void usage(void) {
    fprintf(stderr, "usage: ntpload [--max] [-r RATE] [-d SECS] [-t TRIAL_SECS] [-s NSOCK] [-a NADDR] [-b BATCH] [-p PID] HOST PORT\n");
    exit(2);
}

int main(int argc, char **argv) {
    double rate = 10000, secs = 5, tsecs = 2;
    int maxmode = 0, c;
    static const struct option lo[] = {{"max", no_argument, 0, 'm'}, {0, 0, 0, 0}};
    while ((c = getopt_long(argc, argv, "r:d:t:s:b:p:a:mh", lo, NULL)) != -1) {
        switch (c) {
        case 'r': rate = atof(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 't': tsecs = atof(optarg); break;
        case 's': nsock = atoi(optarg); break;
        case 'a': naddr = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;
        case 'p': pid_watch = atoi(optarg); break;
        case 'm': maxmode = 1; break;
        default: usage();
        }
    }
    if (argc - optind != 2 || rate <= 0 || secs <= 0 || secs > 50 || tsecs <= 0 || tsecs > 10 ||
        nsock < 1 || nsock > MAXSOCK || naddr < 1 || naddr > 254 || batch < 1 || batch > MAXBATCH)
        usage();

    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    signal(SIGALRM, on_sig);
    alarm(59);                    /* hard bound on the whole run */
    prctl(PR_SET_TIMERSLACK, 1);  /* precise ppoll wake-ups */
    ring = calloc(RING, sizeof *ring);
    lat = malloc(LATCAP * sizeof *lat);
    if (!ring || !lat) { perror("alloc"); return 1; }
    xorshift(); rng ^= (uint64_t)now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32;

    /* several connected sockets = several source ports; big receive buffers so
       that losses are the server's, not ours (SO_RCVBUFFORCE needs root) */
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
    if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) { fprintf(stderr, "bad address\n"); return 1; }
    if (naddr > 1 && ai->ai_family != AF_INET) { fprintf(stderr, "-a needs an IPv4 target\n"); return 2; }
    for (int i = 0; i < nsock; i++) {
        int bufsz = 8 << 20;
        fds[i] = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fds[i] < 0) { perror("socket"); return 1; }
        if (setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof bufsz))
            setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
        if (naddr > 1) { /* several loopback sources: a server that steers by source address spreads them */
            struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % naddr))};
            if (bind(fds[i], (struct sockaddr *)&src, sizeof src)) { perror("bind"); return 1; }
        }
        if (connect(fds[i], ai->ai_addr, ai->ai_addrlen)) { perror("connect"); return 1; }
    }
    freeaddrinfo(ai);

    struct res r, best = {0};
    if (!maxmode) {
        trial(rate, secs, &r);
        print_res("RESULT", &r);
        return 0;
    }
    /* --max: double until failure, then bisect; whole search bounded to ~55 s */
    uint64_t start = now_ns();
    double ok_rate = 0, bad_rate = 0, rr = rate;
    int genlim = 0;
    while (!stop_flag) {
        if ((now_ns() - start) / 1e9 + tsecs + DRAIN_NS / 1e9 + 0.3 > 55) break;
        trial(rr, tsecs, &r);
        print_res("TRIAL", &r);
        if (stop_flag) break;
        if (r.loss < 1.0 && !r.genlimited) { ok_rate = rr; best = r; }
        else { bad_rate = rr; genlim = r.genlimited; }
        if (bad_rate == 0) rr *= 2;
        else if (bad_rate - ok_rate <= 0.03 * bad_rate) break;
        else rr = (ok_rate + bad_rate) / 2;
        usleep(300000); /* let the server empty its queues */
    }
    best.rate = ok_rate;
    print_res(genlim ? "MAX(generator-limited)" : "MAX", &best);
    return 0;
}
