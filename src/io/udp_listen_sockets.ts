// Opens and binds the responders' UDP sockets through libc: SO_REUSEPORT groups, kernel RX timestamps where the kernel grants them, clear bind and setup errors.
import { attachSourceSteering } from "./reuseport_steering.ts";
import type { ListenEndpoint } from "./responders_types.ts";
import { BindError } from "./bind_error.ts";
import { InheritedSocketError, ListenSetupError } from "./listen_setup_error.ts";
import type { Libc } from "./libc.ts";
import { formatEndpoint, type IpBytes, parseIp } from "./sockaddr.ts";
import {
  adoptUdpSocket,
  openUdpSocket,
  SocketSetupError,
  type UdpSocketHandle,
} from "./udp_socket_setup.ts";

/** A bound socket: its descriptor and the address it is bound to. */
export interface BoundSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  readonly address: IpBytes;
  readonly port: number;
  /** Bound to 0.0.0.0 or ::; replies then carry pktinfo so they leave from the address asked. */
  readonly wildcard: boolean;
  /** SO_TIMESTAMPNS is on (else receive times are read in userspace). */
  readonly receiveTimestamps: boolean;
  /** IP_PKTINFO / IPV6_RECVPKTINFO is on (wildcard sockets only). */
  readonly packetInfo: boolean;
  /** The receive buffer granted, bytes. */
  readonly receiveBufferBytes: number;
}

/** The sockets, one row per responder, and the optional features the kernel refused. */
export interface BoundSocketTable {
  /** rows[copy][endpointIndex]: one row of sockets per responder thread. */
  readonly rows: BoundSocket[][];
  /** One sentence per refused feature: what is missing and what it costs (for one warning). */
  readonly missing: readonly string[];
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

interface SocketRequest {
  readonly address: IpBytes;
  readonly port: number;
  readonly endpoint: string;
  readonly reusePort: boolean;
  readonly options?: BindOptions;
}

/** The receive options every listen socket gets, bound here or inherited. */
function receiveSpec(options: BindOptions) {
  return {
    receiveTimestamps: "preferred",
    receiveBufferBytes: options.receiveBufferBytes,
    receiveTimeoutMs: options.receiveTimeoutMs,
    packetInfoOnWildcard: "preferred",
  } as const;
}

/** A configured socket as the responders need it. */
function boundSocketOf(socket: UdpSocketHandle): BoundSocket {
  return {
    fd: socket.fd,
    family: socket.localAddress.family,
    address: socket.localAddress,
    port: socket.localPort,
    wildcard: socket.wildcard,
    receiveTimestamps: socket.receiveTimestamps,
    packetInfo: socket.packetInfo,
    receiveBufferBytes: socket.receiveBufferBytes ?? 0,
  };
}

/** Creates, configures and binds one socket; throws BindError (after closing it) on failure. */
function openSocket(libc: Libc, request: SocketRequest): BoundSocket {
  const { address, port, endpoint, options } = request;
  try {
    const socket = openUdpSocket(libc, {
      address,
      port,
      reusePort: request.reusePort,
      ...(options === undefined ? {} : receiveSpec(options)),
    });
    return { ...boundSocketOf(socket), address };
  } catch (error) {
    if (!(error instanceof SocketSetupError)) throw error;
    if (error.step === "bind" || error.step === "socket") {
      throw new BindError(endpoint, {
        code: error.code,
        detail: `${error.detail} (errno ${error.errno})`,
        port,
      });
    }
    throw new ListenSetupError(endpoint, error.step, error.detail);
  }
}

/**
 * Binds every endpoint `options.copies` times with SO_REUSEPORT, IPV6_V6ONLY (so [::] and
 * 0.0.0.0 coexist), SO_TIMESTAMPNS, SO_RCVTIMEO and, for wildcard addresses, pktinfo.
 * Returns the sockets, rows[copy][endpointIndex], and the optional features the kernel refused
 * (SO_TIMESTAMPNS, pktinfo, the BPF steering, a large receive buffer: the sockets work without
 * them). Before that, each endpoint is probed with a plain bind (no SO_REUSEPORT), so a port held
 * by any other process, even another instance of this server, fails with a BindError instead of
 * silently sharing the traffic; the probe also picks the port for port 0. A refused option the
 * responders need throws a ListenSetupError. On failure every socket opened so far is closed.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * const { rows, missing } = bindListenSockets(openLibc(), [{ hostname: "127.0.0.1", port: 0, family: 4 }],
 *   { copies: 2, receiveBufferBytes: 4 << 20, receiveTimeoutMs: 200 });
 * ```
 */
export function bindListenSockets(
  libc: Libc,
  listen: readonly ListenEndpoint[],
  options: BindOptions,
): BoundSocketTable {
  const inherited = listen.filter((entry) => entry.inheritedFd !== undefined);
  if (inherited.length > 0) {
    if (inherited.length !== listen.length || options.copies !== 1) {
      throw new RangeError(
        "inherited sockets are served on their own, by one responder thread: " +
          `${inherited.length} of ${listen.length} endpoints inherited, ${options.copies} copies`,
      );
    }
    return adoptListenSockets(libc, inherited, options);
  }
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
  const missing: string[] = [];
  try {
    for (let copy = 0; copy < options.copies; copy++) {
      const row: BoundSocket[] = [];
      sockets.push(row);
      for (const entry of resolved) {
        row.push(openSocket(libc, { ...entry, reusePort: true, options }));
      }
    }
    // One client, one thread: the group's socket index follows the bind order, copy 0 first.
    let steered = true;
    resolved.forEach((entry, index) => {
      const first = sockets[0]?.[index];
      if (first === undefined) return;
      steered = attachSourceSteering(libc, first.fd, {
        family: entry.address.family,
        sockets: options.copies,
      }) && steered;
    });
    missing.push(...missingFeatures(sockets.flat(), options));
    if (!steered) {
      missing.push(
        "the reuseport BPF steering was refused: a client's requests may reach different " +
          `responder threads, each with its own rate limit, so a client may get up to ${options.copies}x ` +
          "its limit",
      );
    }
  } catch (error) {
    closeSockets(libc, sockets);
    throw error;
  }
  return { rows: sockets, missing };
}

/**
 * Takes the inherited sockets of `listen` (each with its `inheritedFd`) as one row: the receive
 * options applied, the address as the kernel reports it. A socket that cannot be served as it is
 * (dual-stack IPv6, a refused option) throws an InheritedSocketError; the descriptors are left
 * open (systemd holds them anyway; the daemon exits).
 */
function adoptListenSockets(
  libc: Libc,
  listen: readonly ListenEndpoint[],
  options: BindOptions,
): BoundSocketTable {
  const row = listen.map((entry): BoundSocket => {
    const fd = entry.inheritedFd!;
    try {
      return boundSocketOf(adoptUdpSocket(libc, fd, receiveSpec(options)));
    } catch (error) {
      if (!(error instanceof SocketSetupError)) throw error;
      throw new InheritedSocketError(fd, error.step, error.detail);
    }
  });
  return {
    rows: [row],
    missing: missingFeatures(row, options, "set ReceiveBuffer= in the .socket unit"),
  };
}

/** One sentence per optional feature the kernel refused on some of `all`. */
function missingFeatures(
  all: readonly BoundSocket[],
  options: BindOptions,
  bufferFix = "raise net.core.rmem_max, or run with CAP_NET_ADMIN",
): string[] {
  const missing: string[] = [];
  if (all.some((socket) => !socket.receiveTimestamps)) {
    missing.push(
      "SO_TIMESTAMPNS refused: requests are stamped when a responder reads them, which adds " +
        "its queueing delay (microseconds idle, more under load) to the receive timestamps",
    );
  }
  if (all.some((socket) => socket.wildcard && !socket.packetInfo)) {
    missing.push(
      "IP_PKTINFO/IPV6_RECVPKTINFO refused: replies on a wildcard address leave from the " +
        "address the kernel routes from, which on a host with several addresses may not be " +
        "the one asked",
    );
  }
  const smallest = Math.min(...all.map((socket) => socket.receiveBufferBytes));
  if (smallest < options.receiveBufferBytes) {
    missing.push(
      `receive buffer capped at ${Math.round(smallest / 1024)} KiB (asked ` +
        `${Math.round(options.receiveBufferBytes / 1024)} KiB): bursts beyond it are dropped ` +
        `by the kernel; ${bufferFix}`,
    );
  }
  return missing;
}

/** Closes every socket in the table (errors ignored). */
export function closeSockets(libc: Libc, sockets: readonly (readonly BoundSocket[])[]): void {
  for (const row of sockets) for (const socket of row) libc.symbols.close(socket.fd);
}
