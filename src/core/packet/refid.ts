// Reference ID helpers: IPv4 and IPv6 (MD5) forms, ASCII codes, and ntpq-style text.
import { md5 } from "./md5.ts";

/**
 * The refid of an IPv4 upstream: its address as a big-endian uint32.
 *
 * @param address 4 bytes, network order.
 * @example
 * ```ts
 * refidFromIPv4(new Uint8Array([10, 123, 0, 1])); // 0x0a7b0001
 * ```
 */
export function refidFromIPv4(address: Uint8Array): number {
  if (address.length !== 4) {
    throw new RangeError(`Cannot make an IPv4 refid: ${address.length} bytes, expected 4`);
  }
  return (((address[0] as number) << 24) | ((address[1] as number) << 16) |
    ((address[2] as number) << 8) | (address[3] as number)) >>> 0;
}

/**
 * The refid of an IPv6 upstream: the first four bytes of the MD5 digest of its 16-byte
 * address, big-endian (RFC 5905 §7.3, as ntpd computes it).
 *
 * @param address 16 bytes, network order.
 * @example
 * ```ts
 * refidFromIPv6(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])); // 0xcf404dc8 (::1)
 * ```
 */
export function refidFromIPv6(address: Uint8Array): number {
  if (address.length !== 16) {
    throw new RangeError(`Cannot make an IPv6 refid: ${address.length} bytes, expected 16`);
  }
  return refidFromIPv4(md5(address).subarray(0, 4));
}

/**
 * The refid of an upstream address of either family (4 or 16 bytes).
 *
 * @example
 * ```ts
 * refidFromAddress(new Uint8Array([127, 0, 0, 1])); // 0x7f000001
 * ```
 */
export function refidFromAddress(address: Uint8Array): number {
  return address.length === 16 ? refidFromIPv6(address) : refidFromIPv4(address);
}

/**
 * A refid from an ASCII code of 1..4 characters, left-justified and NUL-padded ("GPS" ->
 * "GPS\0"), as used by stratum 1 servers and Kiss-o'-Death packets.
 *
 * @example
 * ```ts
 * refidFromAscii("RATE"); // 0x52415445
 * ```
 */
export function refidFromAscii(code: string): number {
  if (code.length < 1 || code.length > 4) {
    throw new RangeError(`Cannot make a refid from "${code}": expected 1..4 ASCII characters`);
  }
  let refid = 0;
  for (let i = 0; i < 4; i++) {
    const char = i < code.length ? code.charCodeAt(i) : 0;
    if (char > 0x7e || (i < code.length && char < 0x20)) {
      throw new RangeError(`Cannot make a refid from "${code}": not printable ASCII`);
    }
    refid = refid * 256 + char;
  }
  return refid;
}

/**
 * The ASCII reading of a refid: characters up to the first NUL; a byte that is not printable
 * ASCII shows as "?".
 *
 * @example
 * ```ts
 * refidToAscii(0x47505300); // "GPS"
 * ```
 */
export function refidToAscii(refid: number): string {
  let text = "";
  for (let shift = 24; shift >= 0; shift -= 8) {
    const char = (refid >>> shift) & 0xff;
    if (char === 0) break;
    text += char >= 0x20 && char <= 0x7e ? String.fromCharCode(char) : "?";
  }
  return text;
}

/**
 * A refid as a dotted quad ("10.123.0.1").
 *
 * @example
 * ```ts
 * refidToDottedQuad(0x7f7f0101); // "127.127.1.1"
 * ```
 */
export function refidToDottedQuad(refid: number): string {
  return `${(refid >>> 24) & 0xff}.${(refid >>> 16) & 0xff}.${(refid >>> 8) & 0xff}.${
    refid & 0xff
  }`;
}

/**
 * The refid as ntpq displays it: for stratum 0, 1 and 16 (kiss codes, reference clocks,
 * unsynchronised) the ASCII code between dots (".INIT.", ".GPS."); otherwise a dotted quad
 * (an IPv4 address, or the hash of an IPv6 one).
 *
 * @example
 * ```ts
 * formatRefid(refidFromAscii("INIT"), 16); // ".INIT."
 * formatRefid(0x0a7b0001, 3); // "10.123.0.1"
 * ```
 */
export function formatRefid(refid: number, stratum: number): string {
  if (stratum <= 1 || stratum >= 16) return `.${refidToAscii(refid)}.`;
  return refidToDottedQuad(refid);
}
