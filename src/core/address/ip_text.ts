// IP addresses as text and bytes: strict dotted-quad IPv4, RFC 4291 IPv6 text forms, RFC 5952 canonical output, netmask prefix lengths.

/** An IP address as network-order bytes (4 for IPv4, 16 for IPv6) with its family. */
export interface IpAddressBytes {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

const decimalOctet = /^(0|[1-9][0-9]{0,2})$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses a dotted quad of decimal octets without leading zeros ("192.0.2.1"); null for anything
 * else (short forms like "127.1", octal or hex parts, out-of-range octets).
 *
 * @example
 * ```ts
 * parseIpv4("192.0.2.1"); // Uint8Array [192, 0, 2, 1]
 * parseIpv4("192.0.2.01"); // null
 * ```
 */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!decimalOctet.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

/** The 16-bit groups of one side of "::" (or of the whole address); null when malformed. */
function groupsOf(text: string, allowTrailingIpv4: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && allowTrailingIpv4 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (hexGroup.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/**
 * Parses an IPv6 address in any RFC 4291 text form: eight groups of up to four hex digits, one
 * "::" for a run of zero groups, and a dotted quad as the last 32 bits ("::ffff:192.0.2.1").
 * Zone indexes ("%eth0") and brackets are not part of the address: null for those.
 *
 * @example
 * ```ts
 * parseIpv6("2001:DB8::1"); // 16 bytes: 20 01 0d b8 00 .. 00 01
 * parseIpv6("1::2::3"); // null
 * ```
 */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = groupsOf(halves[0]!, false);
    const tail = groupsOf(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = groupsOf(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/**
 * Parses an IPv4 (strict dotted quad) or IPv6 literal; null when the text is neither.
 *
 * @example
 * ```ts
 * parseIpAddress("::1")?.family; // 6
 * parseIpAddress("ntp.example"); // null
 * ```
 */
export function parseIpAddress(text: string): IpAddressBytes | null {
  if (text.includes(":")) {
    const bytes = parseIpv6(text);
    return bytes === null ? null : { family: 6, bytes };
  }
  const bytes = parseIpv4(text);
  return bytes === null ? null : { family: 4, bytes };
}

/**
 * Canonical text of 4 or 16 address bytes: dotted decimal for IPv4; for IPv6 the RFC 5952 form
 * (lower case, no leading zeros, the longest run of two or more zero groups as "::", the first
 * such run on a tie), always in hex (an IPv4-mapped address reads "::ffff:c000:201").
 *
 * @example
 * ```ts
 * formatIpAddress(Uint8Array.of(192, 0, 2, 1)); // "192.0.2.1"
 * formatIpAddress(parseIpv6("2001:db8:0:0:1:0:0:1")!); // "2001:db8::1:0:0:1"
 * ```
 */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * Whether 16 address bytes are an IPv4-mapped IPv6 address (::ffff:0:0/96).
 *
 * @example
 * ```ts
 * isIpv4Mapped(parseIpv6("::ffff:192.0.2.1")!); // true
 * ```
 */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * The prefix length of a netmask (leading one bits, then only zeros), or null when the mask is
 * not contiguous.
 *
 * @example
 * ```ts
 * prefixLengthOfMask(Uint8Array.of(255, 255, 255, 0)); // 24
 * prefixLengthOfMask(Uint8Array.of(255, 0, 255, 0)); // null
 * ```
 */
export function prefixLengthOfMask(mask: Uint8Array): number | null {
  let length = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set === 1 && ended) return null;
      if (set === 1) length++;
      else ended = true;
    }
  }
  return length;
}
