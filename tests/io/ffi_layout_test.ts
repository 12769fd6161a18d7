// Every FFI struct layout and constant the io layer uses, checked against the C headers of the architecture this Deno runs on (x86_64 natively; aarch64 under emulation in the CI's ARM stage, compiled with aarch64-linux-gnu-gcc and run with qemu-aarch64-static).
import assert from "node:assert/strict";
import { Const, Errno, Layout } from "../../src/io/libc.ts";
import { Adj, Sta, TimeState, TimexLayout } from "../../src/io/timex.ts";
import { runCommand } from "../support/processes.ts";

/** Prints, as JSON, what the headers say for each name below (offsets, sizes, constants). */
const program = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <time.h>
#include <linux/filter.h>
#define P(name, value) printf("%s\"%s\":%lld", first ? "" : ",", name, (long long)(value)), first = 0
int main(void) {
  int first = 1;
  printf("{");
  P("Layout.iovecBytes", sizeof(struct iovec));
  P("Layout.mmsghdrBytes", sizeof(struct mmsghdr));
  P("Layout.msgName", offsetof(struct msghdr, msg_name));
  P("Layout.msgNameLen", offsetof(struct msghdr, msg_namelen));
  P("Layout.msgIov", offsetof(struct msghdr, msg_iov));
  P("Layout.msgIovLen", offsetof(struct msghdr, msg_iovlen));
  P("Layout.msgControl", offsetof(struct msghdr, msg_control));
  P("Layout.msgControlLen", offsetof(struct msghdr, msg_controllen));
  P("Layout.msgFlags", offsetof(struct msghdr, msg_flags));
  P("Layout.msgLen", offsetof(struct mmsghdr, msg_len));
  P("Layout.msghdrBytes", sizeof(struct msghdr));
  P("Layout.cmsgHeaderBytes", CMSG_LEN(0));
  P("Layout.sockaddrIn6Bytes", sizeof(struct sockaddr_in6));
  P("Layout.sockaddrInBytes", sizeof(struct sockaddr_in));
  P("Layout.timespecBytes", sizeof(struct timespec));
  P("Layout.pollfdBytes", sizeof(struct pollfd));
  P("Const.AF_INET", AF_INET); P("Const.AF_INET6", AF_INET6);
  P("Const.SOCK_DGRAM", SOCK_DGRAM); P("Const.SOCK_CLOEXEC", SOCK_CLOEXEC);
  P("Const.SOCK_STREAM", SOCK_STREAM); P("Const.SO_TYPE", SO_TYPE);
  P("Const.SOL_SOCKET", SOL_SOCKET); P("Const.SO_REUSEADDR", SO_REUSEADDR);
  P("Const.SO_SNDBUF", SO_SNDBUF); P("Const.SO_RCVBUF", SO_RCVBUF);
  P("Const.SO_REUSEPORT", SO_REUSEPORT); P("Const.SO_RCVTIMEO", SO_RCVTIMEO);
  P("Const.SO_RCVBUFFORCE", SO_RCVBUFFORCE); P("Const.SO_TIMESTAMPNS", SO_TIMESTAMPNS);
  P("Const.SCM_TIMESTAMPNS", SCM_TIMESTAMPNS); P("Const.IPPROTO_IP", IPPROTO_IP);
  P("Const.IP_PKTINFO", IP_PKTINFO); P("Const.IPPROTO_IPV6", IPPROTO_IPV6);
  P("Const.IPV6_V6ONLY", IPV6_V6ONLY); P("Const.IPV6_RECVPKTINFO", IPV6_RECVPKTINFO);
  P("Const.IPV6_PKTINFO", IPV6_PKTINFO); P("Const.MSG_DONTWAIT", MSG_DONTWAIT);
  P("Const.MSG_TRUNC", MSG_TRUNC); P("Const.MSG_CTRUNC", MSG_CTRUNC);
  P("Const.MSG_WAITFORONE", MSG_WAITFORONE); P("Const.POLLIN", POLLIN);
  P("Const.CLOCK_REALTIME", CLOCK_REALTIME); P("Const.CLOCK_MONOTONIC", CLOCK_MONOTONIC);
  P("Const.SHUT_RD", SHUT_RD); P("Const.SHUT_RDWR", SHUT_RDWR);
  P("Errno.EPERM", EPERM); P("Errno.EINTR", EINTR); P("Errno.EBADF", EBADF);
  P("Errno.EAGAIN", EAGAIN); P("Errno.EACCES", EACCES); P("Errno.EINVAL", EINVAL);
  P("Errno.ENOTSOCK", ENOTSOCK); P("Errno.EAFNOSUPPORT", EAFNOSUPPORT);
  P("Errno.EADDRINUSE", EADDRINUSE); P("Errno.EADDRNOTAVAIL", EADDRNOTAVAIL);
  P("Errno.ENETUNREACH", ENETUNREACH); P("Errno.ECONNREFUSED", ECONNREFUSED);
  P("TimexLayout.bytes", sizeof(struct timex));
  P("TimexLayout.modes", offsetof(struct timex, modes));
  P("TimexLayout.offset", offsetof(struct timex, offset));
  P("TimexLayout.freq", offsetof(struct timex, freq));
  P("TimexLayout.maxerror", offsetof(struct timex, maxerror));
  P("TimexLayout.esterror", offsetof(struct timex, esterror));
  P("TimexLayout.status", offsetof(struct timex, status));
  P("TimexLayout.constant", offsetof(struct timex, constant));
  P("TimexLayout.precision", offsetof(struct timex, precision));
  P("TimexLayout.tolerance", offsetof(struct timex, tolerance));
  P("TimexLayout.timeSeconds", offsetof(struct timex, time.tv_sec));
  P("TimexLayout.timeFraction", offsetof(struct timex, time.tv_usec));
  P("TimexLayout.tick", offsetof(struct timex, tick));
  P("TimexLayout.ppsfreq", offsetof(struct timex, ppsfreq));
  P("TimexLayout.jitter", offsetof(struct timex, jitter));
  P("TimexLayout.shift", offsetof(struct timex, shift));
  P("TimexLayout.stabil", offsetof(struct timex, stabil));
  P("TimexLayout.jitcnt", offsetof(struct timex, jitcnt));
  P("TimexLayout.calcnt", offsetof(struct timex, calcnt));
  P("TimexLayout.errcnt", offsetof(struct timex, errcnt));
  P("TimexLayout.stbcnt", offsetof(struct timex, stbcnt));
  P("TimexLayout.tai", offsetof(struct timex, tai));
  P("Adj.OFFSET", ADJ_OFFSET); P("Adj.FREQUENCY", ADJ_FREQUENCY);
  P("Adj.MAXERROR", ADJ_MAXERROR); P("Adj.ESTERROR", ADJ_ESTERROR);
  P("Adj.STATUS", ADJ_STATUS); P("Adj.TIMECONST", ADJ_TIMECONST); P("Adj.TAI", ADJ_TAI);
  P("Adj.SETOFFSET", ADJ_SETOFFSET); P("Adj.MICRO", ADJ_MICRO); P("Adj.NANO", ADJ_NANO);
  P("Adj.TICK", ADJ_TICK);
  P("Sta.PLL", STA_PLL); P("Sta.PPSFREQ", STA_PPSFREQ); P("Sta.PPSTIME", STA_PPSTIME);
  P("Sta.FLL", STA_FLL); P("Sta.INS", STA_INS); P("Sta.DEL", STA_DEL);
  P("Sta.UNSYNC", STA_UNSYNC); P("Sta.FREQHOLD", STA_FREQHOLD);
  P("Sta.PPSSIGNAL", STA_PPSSIGNAL); P("Sta.PPSJITTER", STA_PPSJITTER);
  P("Sta.PPSWANDER", STA_PPSWANDER); P("Sta.PPSERROR", STA_PPSERROR);
  P("Sta.CLOCKERR", STA_CLOCKERR); P("Sta.NANO", STA_NANO); P("Sta.MODE", STA_MODE);
  P("Sta.CLK", STA_CLK); P("Sta.RONLY", STA_RONLY);
  P("TimeState.OK", TIME_OK); P("TimeState.INS", TIME_INS); P("TimeState.DEL", TIME_DEL);
  P("TimeState.OOP", TIME_OOP); P("TimeState.WAIT", TIME_WAIT); P("TimeState.ERROR", TIME_ERROR);
  P("stat.st_dev", offsetof(struct stat, st_dev));
  P("stat.st_ino", offsetof(struct stat, st_ino));
  P("stat.bytes.max256", sizeof(struct stat) <= 256);
  P("sock_fprog.bytes", sizeof(struct sock_fprog));
  P("sock_fprog.filter", offsetof(struct sock_fprog, filter));
  P("sock_filter.bytes", sizeof(struct sock_filter));
  P("SO_ATTACH_REUSEPORT_CBPF", SO_ATTACH_REUSEPORT_CBPF);
  P("timeval.bytes", sizeof(struct timeval));
  P("timeval.tv_usec", offsetof(struct timeval, tv_usec));
  P("cmsghdr.cmsg_level", offsetof(struct cmsghdr, cmsg_level));
  P("cmsghdr.cmsg_type", offsetof(struct cmsghdr, cmsg_type));
  P("cmsg.alignment", CMSG_ALIGN(1));
  P("in_pktinfo.ipi_ifindex", offsetof(struct in_pktinfo, ipi_ifindex));
  P("in_pktinfo.ipi_addr", offsetof(struct in_pktinfo, ipi_addr));
  P("in6_pktinfo.ipi6_addr", offsetof(struct in6_pktinfo, ipi6_addr));
  P("in6_pktinfo.ipi6_ifindex", offsetof(struct in6_pktinfo, ipi6_ifindex));
  P("sockaddr_in.sin_family", offsetof(struct sockaddr_in, sin_family));
  P("sockaddr_in.sin_port", offsetof(struct sockaddr_in, sin_port));
  P("sockaddr_in.sin_addr", offsetof(struct sockaddr_in, sin_addr));
  P("sockaddr_in6.sin6_port", offsetof(struct sockaddr_in6, sin6_port));
  P("sockaddr_in6.sin6_addr", offsetof(struct sockaddr_in6, sin6_addr));
  P("timespec.tv_nsec", offsetof(struct timespec, tv_nsec));
  printf("}\n");
  return 0;
}
`;

/** What this repository's tables say, under the same names. */
function ours(): Record<string, number> {
  const table: Record<string, number> = {};
  const add = (prefix: string, values: Record<string, number>) => {
    for (const [key, value] of Object.entries(values)) table[`${prefix}.${key}`] = value;
  };
  add("Layout", Layout);
  add("Const", Const);
  add("Errno", Errno);
  add("TimexLayout", TimexLayout);
  add("Adj", Adj);
  add("Sta", { ...Sta });
  add("TimeState", TimeState);
  // src/io/stderr_identity.ts reads st_dev and st_ino at 0 and 8 of a 256-byte buffer.
  Object.assign(table, { "stat.st_dev": 0, "stat.st_ino": 8, "stat.bytes.max256": 1 });
  // src/io/reuseport_steering.ts: struct sock_fprog (16 bytes, filter pointer at 8),
  // struct sock_filter (8 bytes), SO_ATTACH_REUSEPORT_CBPF 51.
  Object.assign(table, {
    "sock_fprog.bytes": 16,
    "sock_fprog.filter": 8,
    "sock_filter.bytes": 8,
    "SO_ATTACH_REUSEPORT_CBPF": 51,
  });
  // src/io/udp_socket_setup.ts setTimeout(): struct timeval as two int64 (16 bytes, usec at 8).
  Object.assign(table, { "timeval.bytes": 16, "timeval.tv_usec": 8 });
  // src/io/mmsg_batch.ts parseReceiveControl(): level at 8, type at 12, entries 8-aligned;
  // in_pktinfo ifindex at 0 and the destination (ipi_addr) at 8; in6_pktinfo address at 0 and
  // ifindex at 16; the SCM_TIMESTAMPNS timespec's nanoseconds at 8.
  Object.assign(table, {
    "cmsghdr.cmsg_level": 8,
    "cmsghdr.cmsg_type": 12,
    "cmsg.alignment": 8,
    "in_pktinfo.ipi_ifindex": 0,
    "in_pktinfo.ipi_addr": 8,
    "in6_pktinfo.ipi6_addr": 0,
    "in6_pktinfo.ipi6_ifindex": 16,
    "timespec.tv_nsec": 8,
  });
  // src/io/sockaddr.ts: family at 0, port at 2, IPv4 address at 4, IPv6 address at 8.
  Object.assign(table, {
    "sockaddr_in.sin_family": 0,
    "sockaddr_in.sin_port": 2,
    "sockaddr_in.sin_addr": 4,
    "sockaddr_in6.sin6_port": 2,
    "sockaddr_in6.sin6_addr": 8,
  });
  return table;
}

/** The compiler and runner for the architecture this Deno runs on. */
function toolchain(): { compiler: string; run: (binary: string) => string[] } {
  if (Deno.build.arch === "x86_64") return { compiler: "gcc", run: (b) => [b] };
  // Under qemu-user there is no binfmt here: run the aarch64 binary through qemu explicitly.
  return {
    compiler: "aarch64-linux-gnu-gcc",
    run: (b) => ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", b],
  };
}

Deno.test(`FFI struct layouts and constants match the C headers on ${Deno.build.arch}`, async () => {
  const { compiler, run } = toolchain();
  const dir = await Deno.makeTempDir({ prefix: "ntpt-ffi-layout-" });
  try {
    await Deno.writeTextFile(`${dir}/layout.c`, program);
    const built = await runCommand([compiler, "-O0", "-o", `${dir}/layout`, `${dir}/layout.c`]);
    assert.equal(built.code, 0, `${compiler} failed:\n${built.stderr}`);
    const printed = await runCommand(run(`${dir}/layout`));
    assert.equal(printed.code, 0, printed.stderr);
    const headers = JSON.parse(printed.stdout) as Record<string, number>;
    const table = ours();
    const names = Object.keys(headers);
    assert.ok(names.length >= 100, `${names.length} names`);
    const differences = names.filter((name) => table[name] !== headers[name]).map((name) =>
      `${name}: ours ${table[name]}, headers ${headers[name]}`
    );
    assert.deepEqual(differences, []);
    // Every entry of our tables is checked (none left out of the C program).
    const unchecked = Object.keys(table).filter((name) => !(name in headers));
    assert.deepEqual(unchecked, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
