// Creates and configures one UDP socket through libc: the single place sockets get their options (v6-only, SO_REUSEPORT, kernel RX timestamps, buffers, timeouts, pktinfo) and their bind or connect.
import { Const, Errno, Layout, type Libc } from "./libc.ts";
import { decodeSockaddr, encodeSockaddr, type IpBytes, isWildcard } from "./sockaddr.ts";

/** What a socket needs; every option not given is left at the kernel default. */
export interface UdpSocketSpec {
  /** Local address (a wildcard binds every interface; IPv6 sockets are always v6-only). */
  readonly address: IpBytes;
  /** Local port; 0 lets the kernel choose. */
  readonly port: number;
  /** Join an SO_REUSEPORT group. */
  readonly reusePort?: boolean;
  /**
   * SO_TIMESTAMPNS: every datagram carries its kernel receive time. `true` fails the socket when
   * the kernel refuses it; "preferred" goes on without (see {@link UdpSocketHandle.receiveTimestamps}).
   */
  readonly receiveTimestamps?: boolean | "preferred";
  /** Requested SO_RCVBUF in bytes (best effort: the kernel caps it at net.core.rmem_max). */
  readonly receiveBufferBytes?: number;
  /** SO_RCVTIMEO in milliseconds, so a blocking receive returns now and then. */
  readonly receiveTimeoutMs?: number;
  /**
   * IP_PKTINFO / IPV6_RECVPKTINFO when the address is a wildcard (replies leave from the address
   * asked). `true` fails the socket when the kernel refuses it; "preferred" goes on without.
   */
  readonly packetInfoOnWildcard?: boolean | "preferred";
  /** Instead of binding, connect to this remote (nothing is sent; the kernel picks a route and a source address). */
  readonly connectTo?: { readonly address: IpBytes; readonly port: number };
}

/** A configured socket: its descriptor and where it ended up. */
export interface UdpSocketHandle {
  readonly fd: number;
  /** The local address the kernel reports (the chosen source address after a connect). */
  readonly localAddress: IpBytes;
  /** The local port the kernel reports (the chosen one for port 0). */
  readonly localPort: number;
  /** Bound to 0.0.0.0 or ::. */
  readonly wildcard: boolean;
  /** Whether SO_TIMESTAMPNS is on. */
  readonly receiveTimestamps: boolean;
  /** Whether IP_PKTINFO / IPV6_RECVPKTINFO is on (asked for, on a wildcard socket). */
  readonly packetInfo: boolean;
  /**
   * The receive buffer the kernel granted, bytes (what SO_RCVBUF reads back, halved: the
   * kernel doubles the value for its bookkeeping); null when none was asked for.
   */
  readonly receiveBufferBytes: number | null;
}

/** The step that failed and the errno it failed with; the socket is already closed. */
export class SocketSetupError extends Error {
  override name = "SocketSetupError";
  /** "socket", "bind", "connect", "getsockname" or the option name ("SO_REUSEPORT", ...). */
  readonly step: string;
  readonly errno: number;
  /** The errno's symbolic name where known ("EADDRINUSE"), else "UNKNOWN". */
  readonly code: string;
  /** The system's text for the errno ("Address already in use"). */
  readonly detail: string;
  constructor(step: string, errno: number, detail: string) {
    super(`${step} failed: ${detail}`);
    this.step = step;
    this.errno = errno;
    this.code = errnoNames[errno] ?? "UNKNOWN";
    this.detail = detail;
  }
}

const errnoNames: Readonly<Record<number, string>> = {
  [Errno.EPERM]: "EPERM",
  [Errno.EACCES]: "EACCES",
  [Errno.EADDRINUSE]: "EADDRINUSE",
  [Errno.EADDRNOTAVAIL]: "EADDRNOTAVAIL",
  [Errno.EAFNOSUPPORT]: "EAFNOSUPPORT",
};

function setInt(libc: Libc, fd: number, level: number, option: number, value: number): boolean {
  return libc.symbols.setsockopt(fd, level, option, new Int32Array([value]), 4) === 0;
}

/** An int socket option's value (0 when it cannot be read). */
function getInt(libc: Libc, fd: number, level: number, option: number): number {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  return libc.symbols.getsockopt(fd, level, option, value, length) === 0 ? value[0]! : 0;
}

function setTimeout(libc: Libc, fd: number, milliseconds: number): boolean {
  const timeout = new Uint32Array(4); // struct timeval { int64 tv_sec; int64 tv_usec; }
  timeout[0] = Math.floor(milliseconds / 1000);
  timeout[2] = (milliseconds % 1000) * 1000;
  return libc.symbols.setsockopt(fd, Const.SOL_SOCKET, Const.SO_RCVTIMEO, timeout, 16) === 0;
}

/** The local address and port of a socket, as the kernel reports them; null on failure. */
export function localNameOf(
  libc: Libc,
  fd: number,
): { readonly address: IpBytes; readonly port: number } | null {
  const name = new Uint8Array(Layout.sockaddrIn6Bytes);
  const length = new Uint32Array([name.length]);
  if (libc.symbols.getsockname(fd, name, length) !== 0) return null;
  const { port, ...address } = decodeSockaddr(name, 0);
  return { address, port };
}

/**
 * Creates a close-on-exec UDP socket, applies the options of `spec` in a fixed order and binds
 * it (or connects it, for `connectTo`). On any failure the socket is closed and a
 * SocketSetupError names the step; SO_RCVBUF alone is best effort.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * import { parseIp } from "./sockaddr.ts";
 * const libc = openLibc();
 * const socket = openUdpSocket(libc, {
 *   address: parseIp("127.0.0.1", 4),
 *   port: 0,
 *   receiveTimestamps: true,
 *   receiveTimeoutMs: 200,
 * });
 * libc.symbols.close(socket.fd);
 * ```
 */
export function openUdpSocket(libc: Libc, spec: UdpSocketSpec): UdpSocketHandle {
  const family = spec.address.family;
  const fd = libc.symbols.socket(
    family === 4 ? Const.AF_INET : Const.AF_INET6,
    Const.SOCK_DGRAM | Const.SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) {
    const errno = libc.errno();
    throw new SocketSetupError("socket", errno, libc.strerror(errno));
  }
  const fail = (step: string): never => {
    const errno = libc.errno();
    libc.symbols.close(fd);
    throw new SocketSetupError(step, errno, libc.strerror(errno));
  };
  const wildcard = isWildcard(spec.address.bytes);
  if (family === 6 && !setInt(libc, fd, Const.IPPROTO_IPV6, Const.IPV6_V6ONLY, 1)) {
    fail("IPV6_V6ONLY");
  }
  if (spec.reusePort === true && !setInt(libc, fd, Const.SOL_SOCKET, Const.SO_REUSEPORT, 1)) {
    fail("SO_REUSEPORT");
  }
  const { receiveTimestamps, receiveBufferBytes, packetInfo } = applyReceiveOptions(libc, fd, {
    family,
    wildcard,
    spec,
    fail,
  });
  const sockaddr = new Uint8Array(Layout.sockaddrIn6Bytes);
  if (spec.connectTo !== undefined) {
    const length = encodeSockaddr(sockaddr, 0, {
      ...spec.connectTo.address,
      port: spec.connectTo.port,
    });
    if (libc.symbols.connect(fd, sockaddr, length) !== 0) fail("connect");
  } else {
    const length = encodeSockaddr(sockaddr, 0, { ...spec.address, port: spec.port });
    if (libc.symbols.bind(fd, sockaddr, length) !== 0) fail("bind");
  }
  const local = localNameOf(libc, fd);
  if (local === null) return fail("getsockname");
  return {
    fd,
    localAddress: local.address,
    localPort: local.port,
    wildcard,
    receiveTimestamps,
    packetInfo,
    receiveBufferBytes,
  };
}

/**
 * The receive options of `spec` (SO_TIMESTAMPNS, SO_RCVBUF, SO_RCVTIMEO, pktinfo on a wildcard
 * address) on socket `fd`; `fail` is called (and must throw) for a required option refused.
 */
function applyReceiveOptions(
  libc: Libc,
  fd: number,
  context: {
    readonly family: 4 | 6;
    readonly wildcard: boolean;
    readonly spec: Omit<UdpSocketSpec, "address" | "port">;
    readonly fail: (step: string) => never;
    /** Inherited already set up: its receive buffer is only ever raised. */
    readonly inherited?: boolean;
  },
): { receiveTimestamps: boolean; receiveBufferBytes: number | null; packetInfo: boolean } {
  const { family, wildcard, spec, fail } = context;
  let receiveTimestamps = false;
  if (spec.receiveTimestamps === true || spec.receiveTimestamps === "preferred") {
    receiveTimestamps = setInt(libc, fd, Const.SOL_SOCKET, Const.SO_TIMESTAMPNS, 1);
    if (!receiveTimestamps && spec.receiveTimestamps === true) fail("SO_TIMESTAMPNS");
  }
  let receiveBufferBytes: number | null = null;
  if (spec.receiveBufferBytes !== undefined) {
    const wanted = spec.receiveBufferBytes;
    receiveBufferBytes = getInt(libc, fd, Const.SOL_SOCKET, Const.SO_RCVBUF) / 2;
    if (receiveBufferBytes < wanted) {
      // SO_RCVBUFFORCE (CAP_NET_ADMIN) is not capped; SO_RCVBUF is, at net.core.rmem_max, which
      // could LOWER an inherited socket's buffer (systemd's ReceiveBuffer=): only on our own.
      setInt(libc, fd, Const.SOL_SOCKET, Const.SO_RCVBUFFORCE, wanted);
      receiveBufferBytes = getInt(libc, fd, Const.SOL_SOCKET, Const.SO_RCVBUF) / 2;
      if (receiveBufferBytes < wanted && !context.inherited) {
        setInt(libc, fd, Const.SOL_SOCKET, Const.SO_RCVBUF, wanted);
        receiveBufferBytes = getInt(libc, fd, Const.SOL_SOCKET, Const.SO_RCVBUF) / 2;
      }
    }
  }
  if (spec.receiveTimeoutMs !== undefined && !setTimeout(libc, fd, spec.receiveTimeoutMs)) {
    fail("SO_RCVTIMEO");
  }
  let packetInfo = false;
  if (spec.packetInfoOnWildcard !== undefined && spec.packetInfoOnWildcard !== false && wildcard) {
    packetInfo = family === 4
      ? setInt(libc, fd, Const.IPPROTO_IP, Const.IP_PKTINFO, 1)
      : setInt(libc, fd, Const.IPPROTO_IPV6, Const.IPV6_RECVPKTINFO, 1);
    if (!packetInfo && spec.packetInfoOnWildcard === true) fail("PKTINFO");
  }
  return { receiveTimestamps, receiveBufferBytes, packetInfo };
}

/**
 * Takes a UDP socket this process inherited already bound (systemd socket activation): applies
 * the receive options of `spec` and reports where it is bound. The socket is left open on
 * failure (it is the caller's); a SocketSetupError names the step.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * declare const fd: number; // from LISTEN_FDS
 * const socket = adoptUdpSocket(openLibc(), fd, { receiveTimestamps: "preferred", receiveTimeoutMs: 200 });
 * ```
 */
export function adoptUdpSocket(
  libc: Libc,
  fd: number,
  spec: Omit<UdpSocketSpec, "address" | "port" | "connectTo" | "reusePort">,
): UdpSocketHandle {
  const fail = (step: string): never => {
    const errno = libc.errno();
    throw new SocketSetupError(step, errno, libc.strerror(errno));
  };
  const local = localNameOf(libc, fd);
  if (local === null) return fail("getsockname");
  const wildcard = isWildcard(local.address.bytes);
  if (
    local.address.family === 6 && getInt(libc, fd, Const.IPPROTO_IPV6, Const.IPV6_V6ONLY) !== 1
  ) {
    // IPv4 clients would arrive as ::ffff:a.b.c.d and meet only the IPv6 restrict rules.
    throw new SocketSetupError(
      "IPV6_V6ONLY",
      0,
      "the inherited IPv6 socket also takes IPv4 (dual stack); set BindIPv6Only=ipv6-only " +
        "and add ListenDatagram=0.0.0.0:123 in the .socket unit",
    );
  }
  const options = applyReceiveOptions(libc, fd, {
    family: local.address.family,
    wildcard,
    spec,
    fail,
    inherited: true,
  });
  return { fd, localAddress: local.address, localPort: local.port, wildcard, ...options };
}
