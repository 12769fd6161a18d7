// A UDP socket that talks to one server, for the one-shot clients (query, status, doctor): resolves the name, opens an upstream socket (FFI, kernel stamps) and lets only that address and port answer.
import { formatIpAddress, isIpv4Mapped, parseIpv6 } from "../core/address/ip_text.ts";
import { type ResolvedAddress, resolveServerName } from "./resolve_name.ts";
import { openUpstreamSocket } from "./udp_client.ts";
import type {
  SendOutcome,
  UpstreamDatagram,
  UpstreamSocket,
  UpstreamSocketOptions,
} from "./upstream_socket_types.ts";

/** How a peer's socket is opened: the back end, the clock of its stamps, or an opener of one's own. */
export interface UdpPeerSocketOptions extends Pick<UpstreamSocketOptions, "backend" | "readClock"> {
  /**
   * Opens the socket; default openUpstreamSocket (which loads the dgram back end on demand, a
   * dynamic import that needs --allow-read: a library passes openDgramSocket itself). `backend`
   * applies to the default only.
   */
  readonly open?: (options: UpstreamSocketOptions) => Promise<UpstreamSocket>;
}

/** A socket bound to one peer. Close it (or `await using`) when done. */
export interface UdpPeer extends AsyncDisposable {
  /** The address the host name resolved to (canonical IP literal). */
  readonly address: string;
  readonly port: number;
  /** Sends to the peer; the outcome carries the kernel time read just before the send. */
  send(data: Uint8Array): SendOutcome;
  /** Receives every datagram from the peer (others are dropped); null to ignore them. */
  onDatagram: ((datagram: UpstreamDatagram) => void) | null;
  /** Stops receiving and closes the socket; idempotent. */
  close(): Promise<void>;
}

/**
 * Resolves `target.host` (preferring IPv4 when a name has both, since a daemon listening on
 * 0.0.0.0 only is common) and opens a socket for it. A failed lookup is reported through
 * `onResolveError`, whose error is thrown.
 *
 * @example
 * ```ts
 * await using peer = await connectUdpPeer({ host: "127.0.0.1", port: 123 }, (m) => new Error(m));
 * peer.onDatagram = (datagram) => console.log(datagram.data.length, datagram.receiveKernel);
 * peer.send(new Uint8Array(48).fill(0x23, 0, 1));
 * ```
 */
export async function connectUdpPeer(
  target: { readonly host: string; readonly port: number },
  onResolveError: (message: string) => Error,
  socket?: UdpPeerSocketOptions,
): Promise<UdpPeer> {
  const outcome = await resolveServerName(target.host);
  if (!outcome.ok) throw onResolveError(outcome.message);
  const first = unmapped(
    outcome.addresses.find((a) => a.family === 4) ?? outcome.addresses[0]!,
  );
  const address = first.hostname;
  const port = target.port;
  let opened: UpstreamSocket | null = null;
  const peer: UdpPeer = {
    address,
    port,
    onDatagram: null,
    send: (data) =>
      opened === null
        ? { ok: false, message: "the socket is closed" }
        : opened.send(data, { hostname: address, port }),
    close: async () => {
      const open = opened;
      opened = null;
      await open?.close();
    },
    [Symbol.asyncDispose]: () => peer.close(),
  };
  const { open = openUpstreamSocket, ...socketOptions } = socket ?? {};
  opened = await open({
    ...socketOptions,
    family: first.family,
    onDatagram: (datagram) => {
      if (datagram.from.hostname !== address || datagram.from.port !== port) return;
      peer.onDatagram?.(datagram);
    },
  });
  return peer;
}

/** An IPv4-mapped IPv6 address (::ffff:192.0.2.1) as the IPv4 address it stands for. */
function unmapped(address: ResolvedAddress): ResolvedAddress {
  if (address.family !== 6) return address;
  const bytes = parseIpv6(address.hostname);
  if (bytes === null || !isIpv4Mapped(bytes)) return address;
  return { hostname: formatIpAddress(bytes.subarray(12)), family: 4 };
}
