/*
 * floor_responder.c - the benchmark's reference point: the least a single-threaded NTP responder
 * can cost with the I/O pattern `ntp serve` uses, written in C with nothing else in the way.
 *
 * Same system calls and socket options as our fast responders: one UDP socket on 127.0.0.1,
 * SO_TIMESTAMPNS, a 4 MiB receive buffer, blocking recvmmsg(64, MSG_WAITFORONE), one
 * clock_gettime per batch for the transmit timestamps, one sendmmsg per batch. It checks only
 * length and mode, keeps no rate table and no restrict list, so its rate is what the kernel's
 * UDP path allows on this machine: no implementation on one core can go much beyond it.
 * scripts/bench_serve.sh builds it outside the repository (gcc -O2) and runs it beside chronyd and
 * ours. Not a server to deploy: it answers stratum 10, refid LOCL, from the unsynchronised
 * local clock, and it runs until killed.
 *
 *   floor_responder PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define NTP_LEN 48
#define UNIX_TO_NTP 2208988800u

static uint64_t ntp_from_timespec(const struct timespec *t) {
    uint64_t fraction = ((uint64_t)t->tv_nsec << 32) / 1000000000u;
    return ((uint64_t)(uint32_t)(t->tv_sec + UNIX_TO_NTP) << 32) | fraction;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: floor_responder PORT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, rcvbuf = 4 << 20;
    if (fd < 0) { perror("socket"); return 1; }
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(fd, (struct sockaddr *)&address, sizeof address)) { perror("bind"); return 1; }

    static unsigned char request[BATCH][512], reply[BATCH][NTP_LEN], control[BATCH][64];
    static struct sockaddr_in from[BATCH], to[BATCH];
    static struct iovec request_iov[BATCH], reply_iov[BATCH];
    static struct mmsghdr received[BATCH], replies[BATCH];
    for (int i = 0; i < BATCH; i++) {
        request_iov[i] = (struct iovec){request[i], sizeof request[i]};
        reply_iov[i] = (struct iovec){reply[i], NTP_LEN};
        replies[i].msg_hdr = (struct msghdr){
            .msg_name = &to[i], .msg_namelen = sizeof to[i], .msg_iov = &reply_iov[i], .msg_iovlen = 1};
    }
    printf("READY %s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        for (int i = 0; i < BATCH; i++) /* the kernel overwrote the in/out lengths */
            received[i].msg_hdr = (struct msghdr){
                .msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &request_iov[i],
                .msg_iovlen = 1, .msg_control = control[i], .msg_controllen = sizeof control[i]};
        int count = recvmmsg(fd, received, BATCH, MSG_WAITFORONE, NULL);
        if (count <= 0) continue;
        int n = 0;
        for (int i = 0; i < count; i++) {
            const unsigned char *q = request[i];
            if (received[i].msg_len < NTP_LEN || (q[0] & 7) != 3) continue;
            struct timespec rx = {0, 0};
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&received[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&received[i].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
                    memcpy(&rx, CMSG_DATA(c), sizeof rx);
            unsigned char *r = reply[n];
            memset(r, 0, NTP_LEN);
            r[0] = (q[0] & 0x38) | 4; /* LI 0, the request's version, mode 4 */
            r[1] = 10;                /* stratum */
            r[2] = q[2];              /* poll */
            r[3] = 0xe9;              /* precision 2^-23 s */
            memcpy(r + 12, "LOCL", 4);
            memcpy(r + 24, q + 40, 8); /* origin = the request's transmit timestamp */
            uint64_t stamp = htobe64(ntp_from_timespec(&rx));
            memcpy(r + 32, &stamp, 8);
            to[n] = from[i];
            n++;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t transmit = htobe64(ntp_from_timespec(&now));
        for (int j = 0; j < n; j++) {
            memcpy(reply[j] + 16, &transmit, 8); /* reference time */
            memcpy(reply[j] + 40, &transmit, 8);
        }
        for (int sent = 0; sent < n;) {
            int m = sendmmsg(fd, replies + sent, n - sent, 0);
            sent += m > 0 ? m : 1; /* skip a reply that cannot be sent */
        }
    }
}
