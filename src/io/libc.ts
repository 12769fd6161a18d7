// Deno FFI bindings to the few libc calls the fast UDP path and the kernel clock need (Linux LP64).
//
// Struct layouts and constants below are those of Linux on x86_64 and aarch64 (both LP64, both
// use the asm-generic socket and errno numbers; time_t is 64-bit so SO_TIMESTAMPNS is the "old"
// value 35). Other architectures (mips, sparc, alpha, 32-bit) differ and are refused.

/** The libc symbols this project calls. All but pollOffThread block the calling thread. */
const symbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** connect(2) of a UDP socket: sends nothing, makes the kernel pick the source address. */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "usize", "i32"], result: "i32" },
  /**
   * poll(2) run on a runtime thread, returning a Promise: waits for an upstream socket without
   * blocking this thread or needing a worker. errno is not readable after it (another thread).
   */
  pollOffThread: {
    name: "poll",
    parameters: ["buffer", "usize", "i32"],
    result: "i32",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
  /** shutdown(fd, SHUT_RD) wakes a thread blocked in recvmmsg on that socket (udp_client). */
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** Declared for the kernel clock driver; this module never calls it. */
  clock_adjtime: { parameters: ["i32", "buffer"], result: "i32" },
  /** capget(2): this process's capabilities (Deno refuses /proc/self/status without -A). */
  capget: { parameters: ["buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The opened libc: its symbol table plus a reader of this thread's errno. */
export interface Libc {
  readonly symbols: Deno.DynamicLibrary<typeof symbols>["symbols"];
  /** errno of the calling thread; read it right after the failing call. */
  errno(): number;
  /** libc's text for an errno value ("Address already in use"). */
  strerror(errno: number): string;
}

/** Socket, protocol and clock constants (Linux, x86_64 and aarch64). */
export const Const = {
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_REUSEPORT: 15,
  SO_RCVTIMEO: 20,
  SO_RCVBUFFORCE: 33,
  SO_TIMESTAMPNS: 35,
  SCM_TIMESTAMPNS: 35,
  IPPROTO_IP: 0,
  IP_PKTINFO: 8,
  IPPROTO_IPV6: 41,
  IPV6_V6ONLY: 26,
  IPV6_RECVPKTINFO: 49,
  IPV6_PKTINFO: 50,
  MSG_DONTWAIT: 0x40,
  MSG_TRUNC: 0x20,
  MSG_CTRUNC: 0x08,
  MSG_WAITFORONE: 0x10000,
  POLLIN: 0x001,
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  SHUT_RD: 0,
  SHUT_RDWR: 2,
} as const;

/** errno values (asm-generic, shared by x86_64 and aarch64). */
export const Errno = {
  EPERM: 1,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  ENOTSOCK: 88,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNREFUSED: 111,
} as const;

/** Byte sizes and field offsets of the C structs used (LP64 Linux). */
export const Layout = {
  /** struct iovec { void *iov_base; size_t iov_len; } */
  iovecBytes: 16,
  /** struct msghdr (56 bytes) followed by unsigned msg_len and padding: struct mmsghdr. */
  mmsghdrBytes: 64,
  msgName: 0,
  msgNameLen: 8,
  msgIov: 16,
  msgIovLen: 24,
  msgControl: 32,
  msgControlLen: 40,
  msgFlags: 48,
  msgLen: 56,
  /** struct msghdr alone, for sendmsg. */
  msghdrBytes: 56,
  /** struct cmsghdr header { size_t cmsg_len; int cmsg_level; int cmsg_type; }; data follows. */
  cmsgHeaderBytes: 16,
  /** sockaddr_in6 is the larger of the two socket address structs. */
  sockaddrIn6Bytes: 28,
  sockaddrInBytes: 16,
  /** struct timespec { int64 tv_sec; long tv_nsec; } */
  timespecBytes: 16,
  /** struct pollfd { int fd; short events; short revents; } */
  pollfdBytes: 8,
} as const;

let opened: Libc | undefined;

/**
 * Opens libc.so.6 once per thread (every Worker has its own instance) and returns it.
 * Throws on platforms other than Linux x86_64/aarch64, and when --allow-ffi is missing.
 *
 * @example
 * ```ts
 * const libc = openLibc();
 * const fd = libc.symbols.socket(Const.AF_INET, Const.SOCK_DGRAM, 0);
 * ```
 */
export function openLibc(): Libc {
  if (opened !== undefined) return opened;
  if (
    Deno.build.os !== "linux" || (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64")
  ) {
    throw new Error(
      `the fast I/O path needs Linux on x86_64 or aarch64 (this is ${Deno.build.os}/${Deno.build.arch}); use io "portable"`,
    );
  }
  const library = Deno.dlopen("libc.so.6", symbols);
  const errnoPointer = library.symbols.__errno_location();
  if (errnoPointer === null) throw new Error("libc __errno_location() returned NULL");
  const errnoView = new Deno.UnsafePointerView(errnoPointer);
  opened = {
    symbols: library.symbols,
    errno: () => errnoView.getInt32(),
    strerror: (errno: number) => {
      const text = library.symbols.strerror(errno);
      return text === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(text);
    },
  };
  return opened;
}

/** Whether this process may use FFI (granted --allow-ffi) without prompting. */
export function ffiPermitted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** The address of a buffer's first byte, as a plain number (user-space pointers fit in 2^53). */
export function addressOf(buffer: Uint8Array): number {
  const pointer = Deno.UnsafePointer.of(buffer);
  return Number(Deno.UnsafePointer.value(pointer));
}

/** Writes a 64-bit pointer or size at `offset` (little-endian, as on x86_64 and aarch64). */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Reads a 64-bit unsigned value at `offset` (little-endian) as a number (exact below 2^53). */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}
