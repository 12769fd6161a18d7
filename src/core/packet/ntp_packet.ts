// The decoded form of an NTP time packet (RFC 5905 §7.3) with RFC 7822 extension fields and MAC.
import type { LeapIndicator } from "../server/types.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";

/** Size of the fixed NTP header in bytes. */
export const NTP_HEADER_LENGTH = 48;

/** Association modes (the low three bits of the first byte). */
export const NtpMode = {
  reserved: 0,
  symmetricActive: 1,
  symmetricPassive: 2,
  client: 3,
  server: 4,
  broadcast: 5,
  control: 6,
  private: 7,
} as const;

/** One of the {@link NtpMode} values. */
export type NtpModeValue = (typeof NtpMode)[keyof typeof NtpMode];

/** One RFC 7822 extension field. Its wire length is 4 + `value.length` bytes. */
export interface ExtensionField {
  /** Field type, uint16. */
  readonly fieldType: number;
  /** Body after the 4-byte type/length header, padding included; length is a multiple of 4, >= 12. */
  readonly value: Uint8Array;
}

/** The trailing message authentication code: key id plus digest (empty for a crypto-NAK). */
export interface MessageAuthenticationCode {
  /** Key identifier, uint32. */
  readonly keyId: number;
  /** 16 (MD5, AES-CMAC) or 20 (SHA-1) bytes, or 0 for a 4-byte crypto-NAK. */
  readonly digest: Uint8Array;
}

/**
 * A decoded NTP packet of modes 0..5. Root delay and dispersion are kept as the raw 16.16
 * short-format words so that decode(encode(p)) reproduces every bit; convert them with
 * `secondsFromShort` / `shortFromSeconds` from `../time/short_format.ts`.
 */
export interface NtpPacket {
  readonly leap: LeapIndicator;
  /** Version number as on the wire, 0..7 (valid requests use 1..4). */
  readonly version: number;
  /** Association mode, 0..5. */
  readonly mode: NtpModeValue;
  /** 0 = unspecified or Kiss-o'-Death, 1 = primary, 2..15 secondary, 16 unsynchronised. */
  readonly stratum: number;
  /** Poll interval exponent, log2 seconds, signed 8-bit. */
  readonly pollLog2: number;
  /** Clock precision exponent, log2 seconds, signed 8-bit. */
  readonly precisionLog2: number;
  /** Root delay, raw 16.16 short format (uint32, seconds * 65536). */
  readonly rootDelayShort: number;
  /** Root dispersion, raw 16.16 short format (uint32, seconds * 65536). */
  readonly rootDispersionShort: number;
  /** Reference ID as a big-endian uint32. */
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
  readonly originTime: NtpTimestamp;
  readonly receiveTime: NtpTimestamp;
  readonly transmitTime: NtpTimestamp;
  readonly extensionFields: readonly ExtensionField[];
  readonly mac: MessageAuthenticationCode | null;
}
