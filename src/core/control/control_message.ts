// Mode 6 control messages (RFC 9327 / ntpd's ntp_control.h): the 12-byte header, opcodes, error codes, decode and encode.
import type { LeapIndicator } from "../server/types.ts";

/** Size of the control message header in bytes. */
export const CONTROL_HEADER_LENGTH = 12;

/** Most data bytes one control message carries (ntpd's CTL_MAX_DATA_LEN). */
export const CONTROL_MAX_DATA_LENGTH = 468;

/** Control message opcodes (the low five bits of byte 1). */
export const ControlOpcode = {
  unspecified: 0,
  readStatus: 1,
  readVariables: 2,
  writeVariables: 3,
  readClock: 4,
  writeClock: 5,
  setTrap: 6,
  asyncMessage: 7,
  configure: 8,
  saveConfig: 9,
  readMru: 10,
  readOrderedList: 11,
  requestNonce: 12,
  unsetTrap: 31,
} as const;

/** Error codes carried in the high byte of the status word of an error response. */
export const ControlErrorCode = {
  unspecified: 0,
  permission: 1,
  badFormat: 2,
  badOpcode: 3,
  badAssociation: 4,
  unknownVariable: 5,
  badValue: 6,
  restricted: 7,
} as const;

/** One of the {@link ControlErrorCode} values. */
export type ControlErrorCodeValue = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

/**
 * A decoded control message: the header fields plus the `count` data bytes. The `leap` and
 * `version` come from byte 0 (mode 6 is implied).
 */
export interface ControlMessage {
  readonly leap: LeapIndicator;
  /** NTP version, 0..7 (requests use 1..4; a response echoes the request's). */
  readonly version: number;
  /** R bit: set on responses. */
  readonly response: boolean;
  /** E bit: set on error responses (the error code is `status >> 8`). */
  readonly error: boolean;
  /** M bit: more fragments follow. */
  readonly more: boolean;
  /** 0..31, see {@link ControlOpcode}. */
  readonly opcode: number;
  /** uint16, chosen by the client and echoed. */
  readonly sequence: number;
  /** uint16: system or peer status word, or the error code in the high byte. */
  readonly status: number;
  /** uint16: 0 for the system, else an association. */
  readonly associationId: number;
  /** Byte offset of this fragment's data in the whole response (uint16). */
  readonly offset: number;
  /** The `count` data bytes (padding and any MAC excluded). */
  readonly data: Uint8Array;
}

/**
 * Decodes a control message of either direction. Returns null (never throws) when the bytes
 * are not one: fewer than 12 bytes, a mode other than 6, or a `count` larger than the bytes
 * that follow the header. Bytes after `count` (padding, a MAC, ntpstat's 564 zero bytes) are
 * ignored. The result's `data` is a copy.
 *
 * @example
 * ```ts
 * declare const datagram: Uint8Array;
 * const message = decodeControlMessage(datagram);
 * if (message !== null && message.response) console.log(message.status.toString(16));
 * ```
 */
export function decodeControlMessage(bytes: Uint8Array): ControlMessage | null {
  if (bytes.length < CONTROL_HEADER_LENGTH) return null;
  const first = bytes[0] as number;
  if ((first & 7) !== 6) return null;
  const second = bytes[1] as number;
  const count = word(bytes, 10);
  if (count > bytes.length - CONTROL_HEADER_LENGTH) return null;
  return {
    leap: (first >>> 6) as LeapIndicator,
    version: (first >>> 3) & 7,
    response: (second & 0x80) !== 0,
    error: (second & 0x40) !== 0,
    more: (second & 0x20) !== 0,
    opcode: second & 0x1f,
    sequence: word(bytes, 2),
    status: word(bytes, 4),
    associationId: word(bytes, 6),
    offset: word(bytes, 8),
    data: bytes.slice(CONTROL_HEADER_LENGTH, CONTROL_HEADER_LENGTH + count),
  };
}

/**
 * Decodes a control request a server may answer. Returns null for anything malformed, which a
 * server drops without a reply (as ntpd does): not a control message (see
 * {@link decodeControlMessage}), the response, error or more bit set, a non-zero offset, or a
 * version outside 1..4.
 *
 * @example
 * ```ts
 * decodeControlRequest(Uint8Array.fromHex("d60100010000000000000000"))?.opcode; // 1 (READSTAT from ntpq)
 * ```
 */
export function decodeControlRequest(bytes: Uint8Array): ControlMessage | null {
  const message = decodeControlMessage(bytes);
  if (message === null) return null;
  if (message.response || message.error || message.more || message.offset !== 0) return null;
  if (message.version < 1 || message.version > 4) return null;
  return message;
}

/**
 * Encodes a control message: the 12-byte header, the data, and zero padding to a multiple of
 * 4 bytes (the padding is not counted in `count`).
 *
 * @throws {RangeError} When a field does not fit its wire width or the data exceeds 65535 bytes.
 * @example
 * ```ts
 * declare const datagram: Uint8Array;
 * const request = decodeControlRequest(datagram);
 * const data = new TextEncoder().encode("leap=0, stratum=2\r\n");
 * if (request !== null) {
 *   const bytes = encodeControlMessage({ ...request, response: true, status: 0x0615, data });
 * }
 * ```
 */
export function encodeControlMessage(message: ControlMessage): Uint8Array {
  check("leap", message.leap, 3);
  check("version", message.version, 7);
  check("opcode", message.opcode, 31);
  check("sequence", message.sequence, 0xffff);
  check("status", message.status, 0xffff);
  check("associationId", message.associationId, 0xffff);
  check("offset", message.offset, 0xffff);
  check("data length", message.data.length, 0xffff);
  const length = CONTROL_HEADER_LENGTH + message.data.length;
  const bytes = new Uint8Array((length + 3) & ~3);
  bytes[0] = (message.leap << 6) | (message.version << 3) | 6;
  bytes[1] = (message.response ? 0x80 : 0) | (message.error ? 0x40 : 0) |
    (message.more ? 0x20 : 0) | message.opcode;
  putWord(bytes, 2, message.sequence);
  putWord(bytes, 4, message.status);
  putWord(bytes, 6, message.associationId);
  putWord(bytes, 8, message.offset);
  putWord(bytes, 10, message.data.length);
  bytes.set(message.data, CONTROL_HEADER_LENGTH);
  return bytes;
}

function check(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode control message: ${name} ${value} is not in 0..${max}`);
  }
}

function word(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
}

function putWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value & 0xff;
}
