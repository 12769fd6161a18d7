// Which local address the kernel would send from to reach a host: a UDP connect() and getsockname() through libc, nothing sent.
import { Const, ffiPermitted, Layout, openLibc } from "./libc.ts";
import { decodeSockaddr, encodeSockaddr, formatIp, parseIp } from "./sockaddr.ts";

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
  const fd = libc.symbols.socket(
    remote.family === 4 ? Const.AF_INET : Const.AF_INET6,
    Const.SOCK_DGRAM | Const.SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) return null;
  try {
    const name = new Uint8Array(Layout.sockaddrIn6Bytes);
    const length = encodeSockaddr(name, 0, { ...address, port: remote.port });
    if (libc.symbols.connect(fd, name, length) !== 0) return null;
    const local = new Uint8Array(Layout.sockaddrIn6Bytes);
    const localLength = new Uint32Array([local.length]);
    if (libc.symbols.getsockname(fd, local, localLength) !== 0) return null;
    return formatIp(decodeSockaddr(local, 0));
  } finally {
    libc.symbols.close(fd);
  }
}
