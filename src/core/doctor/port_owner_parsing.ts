// Finds which process holds a UDP port from `ss -Hulpn` output, or from /proc/net/udp{,6} plus the socket inodes of /proc/PID/fd.

/** A process holding a UDP socket on the port. */
export interface PortOwner {
  readonly pid: number;
  /** The process name ("chronyd"). */
  readonly name: string;
  /** The socket's local address as "ADDRESS:PORT" ("127.0.0.1:123", "[::]:123", "*:123"). */
  readonly localAddress: string;
}

/**
 * The owners in `ss -Hulpn 'sport = :PORT'` output (one socket per line, the users:(...) part
 * listing ("name",pid=N,fd=M) per holder), deduplicated by PID and address, for `port` only.
 *
 * @example
 * ```ts
 * parseSsUdpOwners('UNCONN 0 0 127.0.0.1:123 0.0.0.0:* users:(("chronyd",pid=812,fd=5))', 123);
 * // [{ pid: 812, name: "chronyd", localAddress: "127.0.0.1:123" }]
 * ```
 */
export function parseSsUdpOwners(text: string, port: number): PortOwner[] {
  const owners: PortOwner[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // State Recv-Q Send-Q Local Peer [users:(...)]
    const local = fields[3];
    if (local === undefined || !local.endsWith(`:${port}`)) continue;
    for (const match of line.matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g)) {
      const key = `${match[2]} ${local}`;
      if (seen.has(key)) continue;
      seen.add(key);
      owners.push({ pid: Number(match[2]), name: match[1]!, localAddress: local });
    }
  }
  return owners;
}

/** One socket of /proc/net/udp or udp6 bound to the port. */
export interface ProcUdpSocket {
  /** "ADDRESS:PORT" as ss would print it. */
  readonly localAddress: string;
  /** The socket inode, as in /proc/PID/fd links "socket:[INODE]". */
  readonly inode: number;
}

function hexIpv4(hex: string): string {
  // One 32-bit word in host order (little-endian on our targets).
  const value = Number.parseInt(hex, 16);
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24].join(".");
}

function hexIpv6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const value = Number.parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    bytes.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(":");
  const head = groups.slice(0, best.start).join(":");
  const tail = groups.slice(best.start + best.length).join(":");
  return `${head}::${tail}`;
}

/**
 * The sockets of a /proc/net/udp or /proc/net/udp6 text whose local port is `port`
 * (local_address "0100007F:007B" = 127.0.0.1:123; addresses are 32-bit words in host order,
 * little-endian on x86_64 and aarch64).
 */
export function parseProcNetUdp(text: string, port: number): ProcUdpSocket[] {
  const sockets: ProcUdpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const inode = Number(fields[9]);
    if (local === undefined || !Number.isInteger(inode)) continue;
    const [addressHex, portHex] = local.split(":");
    if (addressHex === undefined || portHex === undefined) continue;
    if (Number.parseInt(portHex, 16) !== port) continue;
    const address = addressHex.length === 8
      ? hexIpv4(addressHex)
      : addressHex.length === 32
      ? `[${hexIpv6(addressHex)}]`
      : null;
    if (address === null) continue;
    sockets.push({ localAddress: `${address}:${port}`, inode });
  }
  return sockets;
}

/** The inode of an fd link "socket:[190476]", or null for anything else. */
export function socketInodeOfLink(link: string): number | null {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match === null ? null : Number(match[1]);
}

/**
 * The owners whose socket keeps `address` from being bound: the same address, a wildcard of
 * its family ("0.0.0.0", "[::]") or a dual-stack "*"; for a wildcard `address`, every socket
 * of its family.
 *
 * @example
 * ```ts
 * const owners = parseSsUdpOwners(
 *   'UNCONN 0 0 0.0.0.0:123 0.0.0.0:* users:(("chronyd",pid=812,fd=5))',
 *   123,
 * );
 * ownersConflictingWith(owners, { hostname: "127.0.0.1", family: 4 });
 * // [{ pid: 812, name: "chronyd", localAddress: "0.0.0.0:123" }]
 * ```
 */
export function ownersConflictingWith(
  owners: readonly PortOwner[],
  address: { readonly hostname: string; readonly family: 4 | 6 },
): PortOwner[] {
  return owners.filter((owner) => {
    const host = owner.localAddress.slice(0, owner.localAddress.lastIndexOf(":"));
    if (host === "*") return true;
    const family = host.startsWith("[") ? 6 : 4;
    if (family !== address.family) return false;
    const bare = host.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
    const wildcard = address.family === 4 ? "0.0.0.0" : "::";
    return address.hostname === wildcard || bare === wildcard || bare === address.hostname;
  });
}
