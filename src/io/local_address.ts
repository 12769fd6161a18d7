// Which local address the kernel would send from to reach a host: a UDP connect() and getsockname() through libc, nothing sent.
import { ffiPermitted, openLibc } from "./libc.ts";
import { formatIp, parseIp } from "./sockaddr.ts";
import { openUdpSocket, SocketSetupError } from "./udp_socket_setup.ts";

/**
 * The local IP address the routing table picks for datagrams to `remote` (what ntpq's `dstadr`
 * shows for an association), or null when there is no route, `remote` is not an IP literal of
 * `family`, or FFI is not permitted. Connecting a UDP socket sends nothing; it only makes the
 * kernel choose the source address. (node:dgram's connect() under Deno does not reach the
 * kernel, so its address() stays the wildcard: libc it is.)
 *
 * @example
 * ```ts
 * localAddressFor({ hostname: "192.0.2.1", port: 123, family: 4 }); // "192.0.2.10"
 * ```
 */
export function localAddressFor(
  remote: { readonly hostname: string; readonly port: number; readonly family: 4 | 6 },
): string | null {
  if (!ffiPermitted()) return null;
  let address;
  try {
    address = parseIp(remote.hostname, remote.family);
  } catch {
    return null;
  }
  const libc = openLibc();
  try {
    const socket = openUdpSocket(libc, {
      address: wildcardOf(remote.family),
      port: 0,
      connectTo: { address, port: remote.port },
    });
    libc.symbols.close(socket.fd);
    return formatIp(socket.localAddress);
  } catch (error) {
    if (error instanceof SocketSetupError) return null;
    throw error;
  }
}

function wildcardOf(family: 4 | 6) {
  return parseIp(family === 4 ? "0.0.0.0" : "::", family);
}
