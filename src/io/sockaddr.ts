// Encodes and decodes struct sockaddr_in / sockaddr_in6 (Linux) and parses listen addresses.
import { formatIpAddress, isIpv4Mapped, parseIpAddress } from "../core/address/ip_text.ts";
import type { ClientAddress } from "../core/server/types.ts";
import { Const, Layout } from "./libc.ts";

/** An IP address as network-order bytes with its family. */
export interface IpBytes {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/**
 * Parses a listen host ("0.0.0.0", "127.0.0.1", "::", "[::1]", "fe80::1%2" is not supported)
 * into bytes; throws RangeError naming the text when it is not an IP address of `family`.
 */
export function parseIp(hostname: string, family: 4 | 6): IpBytes {
  const text = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  const parsed = parseIpAddress(text);
  if (parsed === null) {
    throw new RangeError(`Cannot parse listen address '${hostname}': not an IPv4 or IPv6 address`);
  }
  const parsedFamily = parsed.family;
  if (parsedFamily !== family) {
    throw new RangeError(
      `Cannot use listen address '${hostname}': it is IPv${parsedFamily}, not IPv${family}`,
    );
  }
  return { family, bytes: parsed.bytes };
}

/** Formats address bytes as text ("127.0.0.1", "::1"). */
export function formatIp(address: IpBytes): string {
  return formatIpAddress(address.bytes);
}

/** Formats an address and port as "127.0.0.1:123" or "[::1]:123". */
export function formatEndpoint(address: IpBytes, port: number): string {
  const text = formatIp(address);
  return address.family === 4 ? `${text}:${port}` : `[${text}]:${port}`;
}

/** Whether every byte of the address is zero (0.0.0.0 or ::). */
export function isWildcard(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/**
 * Writes a sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) for the address at `offset` of
 * `target` and returns its length.
 */
export function encodeSockaddr(
  target: Uint8Array,
  offset: number,
  endpoint: IpBytes & { readonly port: number },
): number {
  const view = new DataView(target.buffer, target.byteOffset + offset);
  if (endpoint.family === 4) {
    target.fill(0, offset, offset + Layout.sockaddrInBytes);
    view.setUint16(0, Const.AF_INET, true);
    view.setUint16(2, endpoint.port, false);
    target.set(endpoint.bytes, offset + 4);
    return Layout.sockaddrInBytes;
  }
  target.fill(0, offset, offset + Layout.sockaddrIn6Bytes);
  view.setUint16(0, Const.AF_INET6, true);
  view.setUint16(2, endpoint.port, false);
  target.set(endpoint.bytes, offset + 8);
  return Layout.sockaddrIn6Bytes;
}

/**
 * Reads a sockaddr_in / sockaddr_in6 at `offset` into a new ClientAddress (copying the bytes).
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) comes back as family 4.
 */
export function decodeSockaddr(source: Uint8Array, offset: number): ClientAddress {
  const view = new DataView(source.buffer, source.byteOffset + offset);
  const familyCode = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (familyCode === Const.AF_INET) {
    return { family: 4, bytes: source.slice(offset + 4, offset + 8), port };
  }
  if (familyCode !== Const.AF_INET6) {
    throw new RangeError(`Cannot decode socket address: family ${familyCode} is not IPv4 or IPv6`);
  }
  const bytes = source.slice(offset + 8, offset + 24);
  if (isIpv4Mapped(bytes)) return { family: 4, bytes: bytes.slice(12, 16), port };
  return { family: 6, bytes, port };
}
