// Walks the bytes after the 48-byte header: RFC 7822 extension fields, then an optional MAC.
import type { ExtensionField, MessageAuthenticationCode } from "./ntp_packet.ts";
import { PacketError } from "./packet_error.ts";

/** Longest MAC (4-byte key id + 20-byte SHA-1 digest). A tail this short or shorter is a MAC. */
export const MAX_MAC_LENGTH = 24;

/** Shortest extension field (RFC 7822 §3: 16 octets including the 4-byte header). */
export const MIN_EXTENSION_FIELD_LENGTH = 16;

/** Result of {@link scanTrailer}; numbers so the hot path allocates nothing. */
export const TrailerStatus = {
  /** Empty, or a valid sequence of extension fields and/or a MAC. */
  ok: 0,
  /** Length not a multiple of 4, or a tail that is not a valid MAC length. */
  badLength: 1,
  /** An extension field whose length is < 16, not a multiple of 4, or overruns the datagram. */
  malformedExtension: 2,
} as const;

/** One of the {@link TrailerStatus} values. */
export type TrailerStatusValue = (typeof TrailerStatus)[keyof typeof TrailerStatus];

/**
 * True for the MAC lengths accepted: 4 (crypto-NAK, key id only), 20 (key id + MD5 or
 * AES-CMAC) and 24 (key id + SHA-1).
 *
 * @example
 * ```ts
 * isMacLength(20); // true
 * ```
 */
export function isMacLength(length: number): boolean {
  return length === 4 || length === 20 || length === 24;
}

/**
 * Checks, without allocating, that `bytes[start..]` is a valid trailer. The rule is ntpd's:
 * while more than {@link MAX_MAC_LENGTH} bytes remain, the next item is an extension field
 * (length >= 16, a multiple of 4, not overrunning the datagram); a remaining tail of 1..24
 * bytes must be a MAC of 4, 20 or 24 bytes. Hence, without a MAC the last extension field is
 * at least 28 bytes, as RFC 7822 §7.5 requires.
 *
 * @example
 * ```ts
 * declare const datagram: Uint8Array;
 * scanTrailer(datagram, 48) === TrailerStatus.ok;
 * ```
 */
export function scanTrailer(bytes: Uint8Array, start: number): TrailerStatusValue {
  const end = bytes.length;
  let offset = start;
  if (((end - offset) & 3) !== 0) return TrailerStatus.badLength;
  while (end - offset > MAX_MAC_LENGTH) {
    const fieldLength = ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    if (
      fieldLength < MIN_EXTENSION_FIELD_LENGTH || (fieldLength & 3) !== 0 ||
      fieldLength > end - offset
    ) {
      return TrailerStatus.malformedExtension;
    }
    offset += fieldLength;
  }
  const remaining = end - offset;
  if (remaining === 0 || isMacLength(remaining)) return TrailerStatus.ok;
  return TrailerStatus.badLength;
}

/**
 * Parses the trailer into copies of its extension fields and MAC (same rule as
 * {@link scanTrailer}).
 *
 * @throws {PacketError} `badLength` or `malformedExtension` when the trailer is invalid.
 * @example
 * ```ts
 * declare const datagram: Uint8Array;
 * const { extensionFields, mac } = parseTrailer(datagram, 48);
 * ```
 */
export function parseTrailer(
  bytes: Uint8Array,
  start: number,
): { extensionFields: ExtensionField[]; mac: MessageAuthenticationCode | null } {
  const status = scanTrailer(bytes, start);
  if (status === TrailerStatus.badLength) {
    throw new PacketError(
      "badLength",
      `${bytes.length - start} bytes after the header are neither extension fields nor a MAC`,
    );
  }
  if (status === TrailerStatus.malformedExtension) {
    throw new PacketError("malformedExtension", "an extension field has an invalid length");
  }
  const extensionFields: ExtensionField[] = [];
  let offset = start;
  while (bytes.length - offset > MAX_MAC_LENGTH) {
    const fieldType = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
    const fieldLength = ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    extensionFields.push({ fieldType, value: bytes.slice(offset + 4, offset + fieldLength) });
    offset += fieldLength;
  }
  let mac: MessageAuthenticationCode | null = null;
  if (bytes.length > offset) {
    const keyId = ((bytes[offset] as number) * 0x1000000) +
      (((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) |
        (bytes[offset + 3] as number));
    mac = { keyId, digest: bytes.slice(offset + 4) };
  }
  return { extensionFields, mac };
}
