/*
 * many_clients_load.c - paced NTPv4 load from many distinct client addresses, for the soak and
 * memory benchmarks (scripts/soak.ts, scripts/memory_bound.ts).
 *
 *   many_clients_load -4|-6 -a COUNT [-r RATE] [-d SECS] [-o OFFSET] [-b PREFIX] [-p PORT] HOST PORT
 *
 * Sends 48-byte client requests to HOST:PORT at RATE per second for SECS seconds (at most 900),
 * cycling through COUNT source addresses: IPv4 127.64.0.0 + OFFSET + i (any 127/8 address is
 * local), IPv6 PREFIX + 1 + OFFSET + i in the low 32 bits (PREFIX must be a local route, e.g.
 * `ip -6 route add local 2001:db8:5::/64 dev lo` in a namespace). One wildcard socket on PORT
 * (default: any) sends every datagram with its source in an IP_PKTINFO / IPV6_PKTINFO control
 * message and receives the replies. Every 10 s, and at the end, one line:
 *   T=SECS sent=N replies=N kod=N (RATE-limit kisses) other=N
 * Exits by itself (SIGALRM at SECS + 5 s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define NTP_LEN 48

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_alarm(int s) { (void)s; _exit(3); }

static void usage(void) {
    fprintf(stderr, "usage: many_clients_load -4|-6 -a COUNT [-r RATE] [-d SECS] [-o OFFSET] "
                    "[-b PREFIX] [-p PORT] HOST PORT\n");
    exit(2);
}

int main(int argc, char **argv) {
    int family = 0, opt;
    long count = 0, offset = 0, local_port = 0;
    double rate = 1000, secs = 10;
    const char *prefix = "2001:db8:5::";
    while ((opt = getopt(argc, argv, "46a:r:d:o:b:p:")) != -1) {
        switch (opt) {
        case '4': family = 4; break;
        case '6': family = 6; break;
        case 'a': count = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 'o': offset = atol(optarg); break;
        case 'b': prefix = optarg; break;
        case 'p': local_port = atol(optarg); break;
        default: usage();
        }
    }
    if (family == 0 || count <= 0 || count > (1L << 24) || rate <= 0 || secs <= 0 || secs > 900 ||
        optind + 2 != argc)
        usage();
    signal(SIGALRM, on_alarm);
    alarm((unsigned)secs + 5);

    int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int one = 1, big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    struct sockaddr_storage dst, local;
    socklen_t dst_len;
    struct in6_addr base6;
    memset(&dst, 0, sizeof dst);
    memset(&local, 0, sizeof local);
    if (family == 4) {
        struct sockaddr_in *d = (struct sockaddr_in *)&dst, *l = (struct sockaddr_in *)&local;
        d->sin_family = AF_INET;
        d->sin_port = htons(atoi(argv[optind + 1]));
        if (inet_pton(AF_INET, argv[optind], &d->sin_addr) != 1) usage();
        l->sin_family = AF_INET;
        l->sin_port = htons(local_port);
        dst_len = sizeof *d;
        if (bind(fd, (struct sockaddr *)l, sizeof *l) < 0) { perror("bind"); return 1; }
    } else {
        struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst, *l = (struct sockaddr_in6 *)&local;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        d->sin6_family = AF_INET6;
        d->sin6_port = htons(atoi(argv[optind + 1]));
        if (inet_pton(AF_INET6, argv[optind], &d->sin6_addr) != 1) usage();
        if (inet_pton(AF_INET6, prefix, &base6) != 1) usage();
        l->sin6_family = AF_INET6;
        l->sin6_port = htons(local_port);
        dst_len = sizeof *d;
        if (bind(fd, (struct sockaddr *)l, sizeof *l) < 0) { perror("bind"); return 1; }
    }

    static unsigned char sbuf[BATCH][NTP_LEN], rbuf[BATCH][128];
    static union { char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))]; struct cmsghdr align; } ctl[BATCH];
    static struct mmsghdr sm[BATCH], rm[BATCH];
    static struct iovec siov[BATCH], riov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        siov[i] = (struct iovec){sbuf[i], NTP_LEN};
        riov[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
        size_t space = family == 4 ? CMSG_SPACE(sizeof(struct in_pktinfo))
                                   : CMSG_SPACE(sizeof(struct in6_pktinfo));
        sm[i].msg_hdr = (struct msghdr){.msg_name = &dst, .msg_namelen = dst_len, .msg_iov = &siov[i],
                                        .msg_iovlen = 1, .msg_control = ctl[i].buf,
                                        .msg_controllen = space};
        rm[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1};
    }

    uint64_t sent = 0, replies = 0, kod = 0, other = 0, next_source = 0;
    uint64_t t0 = now_ns(), t_end = t0 + (uint64_t)(secs * 1e9), next_report = t0 + 10000000000ull;
    uint64_t t_stop = t_end + 500000000ull;
    for (;;) {
        uint64_t t = now_ns();
        if (t >= t_stop) break;
        int busy = 0;
        if (t < t_end) {
            uint64_t due = (uint64_t)((t - t0) * 1e-9 * rate);
            if (due > sent) {
                int n = due - sent > BATCH ? BATCH : (int)(due - sent);
                for (int i = 0; i < n; i++) {
                    uint32_t index = (uint32_t)(offset + (long)(next_source++ % (uint64_t)count));
                    unsigned char *p = sbuf[i];
                    memset(p, 0, NTP_LEN);
                    p[0] = 0x23;
                    uint32_t seq = htonl((uint32_t)(sent + i)), tag = htonl(0x5eadc1e7);
                    memcpy(p + 40, &tag, 4);
                    memcpy(p + 44, &seq, 4);
                    struct cmsghdr *c = CMSG_FIRSTHDR(&sm[i].msg_hdr);
                    if (family == 4) {
                        struct in_pktinfo info;
                        memset(&info, 0, sizeof info);
                        info.ipi_spec_dst.s_addr = htonl(0x7f400000u + index);
                        c->cmsg_level = IPPROTO_IP;
                        c->cmsg_type = IP_PKTINFO;
                        c->cmsg_len = CMSG_LEN(sizeof info);
                        memcpy(CMSG_DATA(c), &info, sizeof info);
                    } else {
                        struct in6_pktinfo info;
                        memset(&info, 0, sizeof info);
                        info.ipi6_addr = base6;
                        /* + 1: PREFIX::0 is the subnet-router anycast address, no source */
                        uint32_t low = htonl(ntohl(*(uint32_t *)&base6.s6_addr[12]) + index + 1);
                        memcpy(&info.ipi6_addr.s6_addr[12], &low, 4);
                        c->cmsg_level = IPPROTO_IPV6;
                        c->cmsg_type = IPV6_PKTINFO;
                        c->cmsg_len = CMSG_LEN(sizeof info);
                        memcpy(CMSG_DATA(c), &info, sizeof info);
                    }
                }
                int m = sendmmsg(fd, sm, n, 0);
                if (m < 0) {
                    if (errno != EAGAIN && errno != ENOBUFS) { perror("sendmmsg"); return 1; }
                } else {
                    sent += m;
                    if (m < n) next_source -= n - m;
                }
                busy = 1;
            }
        }
        int m;
        while ((m = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL)) > 0) {
            busy = 1;
            for (int i = 0; i < m; i++) {
                unsigned char *p = rbuf[i];
                if (rm[i].msg_len < NTP_LEN || (p[0] & 7) != 4) { other++; continue; }
                if (p[1] == 0 && memcmp(p + 12, "RATE", 4) == 0) kod++;
                else replies++;
            }
            if (m < BATCH) break;
        }
        if (t >= next_report || t >= t_stop) {
            printf("T=%.0f sent=%llu replies=%llu kod=%llu other=%llu\n", (t - t0) / 1e9,
                   (unsigned long long)sent, (unsigned long long)replies, (unsigned long long)kod,
                   (unsigned long long)other);
            fflush(stdout);
            next_report += 10000000000ull;
        }
        if (!busy) {
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        }
    }
    printf("END T=%.0f sent=%llu replies=%llu kod=%llu other=%llu\n", (now_ns() - t0) / 1e9,
           (unsigned long long)sent, (unsigned long long)replies, (unsigned long long)kod,
           (unsigned long long)other);
    return 0;
}
