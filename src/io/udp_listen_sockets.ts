// Opens and binds the responders' UDP sockets through libc: SO_REUSEPORT groups, kernel RX timestamps, clear bind errors.
import { attachSourceSteering } from "./reuseport_steering.ts";
import type { ListenEndpoint } from "./responders_types.ts";
import { BindError } from "./bind_error.ts";
import { Const, Errno, Layout, type Libc } from "./libc.ts";
import { encodeSockaddr, formatEndpoint, type IpBytes, isWildcard, parseIp } from "./sockaddr.ts";

/** A bound socket: its descriptor and the address it is bound to. */
export interface BoundSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  readonly address: IpBytes;
  readonly port: number;
  /** Bound to 0.0.0.0 or ::; replies then carry pktinfo so they leave from the address asked. */
  readonly wildcard: boolean;
}

/** Options for {@link bindListenSockets}. */
export interface BindOptions {
  /** Sockets per endpoint (one per responder worker), joined in one SO_REUSEPORT group. */
  readonly copies: number;
  /** Requested SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max). */
  readonly receiveBufferBytes: number;
  /** SO_RCVTIMEO in milliseconds, so a blocking recvmmsg returns now and then. */
  readonly receiveTimeoutMs: number;
}

const errnoNames: Readonly<Record<number, string>> = {
  [Errno.EPERM]: "EPERM",
  [Errno.EACCES]: "EACCES",
  [Errno.EADDRINUSE]: "EADDRINUSE",
  [Errno.EADDRNOTAVAIL]: "EADDRNOTAVAIL",
  [Errno.EAFNOSUPPORT]: "EAFNOSUPPORT",
};

function bindError(
  libc: Libc,
  failure: { endpoint: string; port: number; errno: number },
): BindError {
  const { endpoint, port, errno } = failure;
  const detail = `${libc.strerror(errno)} (errno ${errno})`;
  return new BindError(endpoint, { code: errnoNames[errno] ?? "UNKNOWN", detail, port });
}

function setIntOption(
  libc: Libc,
  fd: number,
  setting: { level: number; option: number; value: number },
): boolean {
  const value = new Int32Array([setting.value]);
  return libc.symbols.setsockopt(fd, setting.level, setting.option, value, 4) === 0;
}

function boundPort(libc: Libc, fd: number): number {
  const name = new Uint8Array(Layout.sockaddrIn6Bytes);
  const length = new Uint32Array([name.length]);
  if (libc.symbols.getsockname(fd, name, length) !== 0) return -1;
  return new DataView(name.buffer).getUint16(2, false);
}

interface SocketRequest {
  readonly address: IpBytes;
  readonly port: number;
  readonly endpoint: string;
  readonly reusePort: boolean;
  readonly options?: BindOptions;
}

/** Creates, configures and binds one socket; throws BindError (after closing it) on failure. */
function openSocket(libc: Libc, request: SocketRequest): BoundSocket {
  const { address, port, endpoint } = request;
  const domain = address.family === 4 ? Const.AF_INET : Const.AF_INET6;
  const fd = libc.symbols.socket(domain, Const.SOCK_DGRAM | Const.SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw bindError(libc, { endpoint, port, errno: libc.errno() });
  }
  const fail = (what: string): never => {
    const errno = libc.errno();
    libc.symbols.close(fd);
    if (what === "bind") throw bindError(libc, { endpoint, port, errno });
    throw new Error(`cannot set up ${endpoint}/udp: ${what} failed: ${libc.strerror(errno)}`);
  };
  const wildcard = isWildcard(address.bytes);
  if (
    address.family === 6 &&
    !setIntOption(libc, fd, { level: Const.IPPROTO_IPV6, option: Const.IPV6_V6ONLY, value: 1 })
  ) {
    fail("IPV6_V6ONLY");
  }
  if (
    request.reusePort &&
    !setIntOption(libc, fd, { level: Const.SOL_SOCKET, option: Const.SO_REUSEPORT, value: 1 })
  ) {
    fail("SO_REUSEPORT");
  }
  const options = request.options;
  if (options !== undefined) {
    if (
      !setIntOption(libc, fd, { level: Const.SOL_SOCKET, option: Const.SO_TIMESTAMPNS, value: 1 })
    ) fail("SO_TIMESTAMPNS");
    setIntOption(libc, fd, {
      level: Const.SOL_SOCKET,
      option: Const.SO_RCVBUF,
      value: options.receiveBufferBytes,
    });
    const timeout = new Uint32Array(4); // struct timeval { int64 tv_sec; int64 tv_usec; }
    timeout[0] = Math.floor(options.receiveTimeoutMs / 1000);
    timeout[2] = (options.receiveTimeoutMs % 1000) * 1000;
    if (libc.symbols.setsockopt(fd, Const.SOL_SOCKET, Const.SO_RCVTIMEO, timeout, 16) !== 0) {
      fail("SO_RCVTIMEO");
    }
    if (wildcard) {
      const ok = address.family === 4
        ? setIntOption(libc, fd, { level: Const.IPPROTO_IP, option: Const.IP_PKTINFO, value: 1 })
        : setIntOption(libc, fd, {
          level: Const.IPPROTO_IPV6,
          option: Const.IPV6_RECVPKTINFO,
          value: 1,
        });
      if (!ok) fail("PKTINFO");
    }
  }
  const sockaddr = new Uint8Array(Layout.sockaddrIn6Bytes);
  const length = encodeSockaddr(sockaddr, 0, { ...address, port });
  if (libc.symbols.bind(fd, sockaddr, length) !== 0) fail("bind");
  return { fd, family: address.family, address, port: boundPort(libc, fd), wildcard };
}

/**
 * Binds every endpoint `options.copies` times with SO_REUSEPORT, IPV6_V6ONLY (so [::] and
 * 0.0.0.0 coexist), SO_TIMESTAMPNS, SO_RCVTIMEO and, for wildcard addresses, pktinfo.
 * Returns sockets[copy][endpointIndex]. Before that, each endpoint is probed with a plain bind
 * (no SO_REUSEPORT), so a port held by any other process, even another instance of this
 * server, fails with a BindError instead of silently sharing the traffic; the probe also picks
 * the port for port 0. On failure every socket opened so far is closed.
 *
 * @example
 * ```ts
 * const sockets = bindListenSockets(openLibc(), [{ hostname: "127.0.0.1", port: 0, family: 4 }],
 *   { copies: 2, receiveBufferBytes: 4 << 20, receiveTimeoutMs: 200 });
 * ```
 */
export function bindListenSockets(
  libc: Libc,
  listen: readonly ListenEndpoint[],
  options: BindOptions,
): BoundSocket[][] {
  const resolved = listen.map((entry) => {
    const address = parseIp(entry.hostname, entry.family);
    if (!Number.isInteger(entry.port) || entry.port < 0 || entry.port > 65535) {
      throw new RangeError(`Cannot listen on port ${entry.port}: not in 0..65535`);
    }
    const endpoint = formatEndpoint(address, entry.port);
    const probe = openSocket(libc, { address, port: entry.port, endpoint, reusePort: false });
    libc.symbols.close(probe.fd);
    return { address, port: probe.port, endpoint: formatEndpoint(address, probe.port) };
  });
  const sockets: BoundSocket[][] = [];
  try {
    for (let copy = 0; copy < options.copies; copy++) {
      const row: BoundSocket[] = [];
      sockets.push(row);
      for (const entry of resolved) {
        row.push(openSocket(libc, { ...entry, reusePort: true, options }));
      }
    }
    // One client, one thread: the group's socket index follows the bind order, copy 0 first.
    resolved.forEach((entry, index) => {
      const first = sockets[0]?.[index];
      if (first === undefined) return;
      attachSourceSteering(libc, first.fd, {
        family: entry.address.family,
        sockets: options.copies,
      });
    });
  } catch (error) {
    closeSockets(libc, sockets);
    throw error;
  }
  return sockets;
}

/** Closes every socket in the table (errors ignored). */
export function closeSockets(libc: Libc, sockets: readonly (readonly BoundSocket[])[]): void {
  for (const row of sockets) for (const socket of row) libc.symbols.close(socket.fd);
}
