// The packet tests a client applies to a server reply (RFC 5905 §8 and A.5.1.1; ntpd's TEST1..TEST7 flash bits).
import { MAX_DISPERSION_SECONDS, MAX_STRATUM } from "../discipline/ntp_constants.ts";
import { kissCodeOf } from "../packet/kiss_code.ts";
import { NtpMode, type NtpPacket } from "../packet/ntp_packet.ts";
import {
  isZeroTimestamp,
  ntpDiffSeconds,
  type NtpTimestamp,
  timestampsEqual,
} from "../time/ntp_timestamp.ts";
import { secondsFromShort } from "../time/short_format.ts";

/** Why a reply was not used. */
export type ReplyRejection =
  /** Not a decodable NTP packet. */
  | "malformed"
  /** Not mode 4 (server). */
  | "badMode"
  /** Version outside 1..4. */
  | "badVersion"
  /** The same transmit timestamp as the last reply accepted (a replay or a duplicate). */
  | "duplicate"
  /** The origin is not the transmit timestamp of our outstanding request (or none is outstanding). */
  | "bogusOrigin"
  /** LI 3 or stratum 16 or more: the server is not synchronised. */
  | "unsynchronised"
  /** Receive or transmit timestamp zero. */
  | "zeroTimestamp"
  /** Root delay / 2 + root dispersion too large, or the reference time after the transmit time. */
  | "badHeader";

/**
 * ntpd's flash bit for each rejection, as `ntpq rv &N flash` shows it (TEST1 duplicate,
 * TEST2 bogus, TEST3 invalid timestamps, TEST6 unsynchronised, TEST7 bad header).
 */
export const FLASH_BITS: Readonly<Record<ReplyRejection, number>> = Object.freeze({
  malformed: 0x0040,
  badMode: 0x0040,
  badVersion: 0x0040,
  duplicate: 0x0001,
  bogusOrigin: 0x0002,
  unsynchronised: 0x0020,
  zeroTimestamp: 0x0004,
  badHeader: 0x0040,
});

/** The verdict on a decoded reply. */
export type ReplyCheck =
  | { readonly ok: true; readonly kind: "time" }
  /** A Kiss-o'-Death whose origin matched (so it really answers our request). */
  | { readonly ok: true; readonly kind: "kiss"; readonly code: string }
  | { readonly ok: false; readonly reason: ReplyRejection };

/**
 * Applies the packet tests in ntpd's order: mode, version, duplicate (TEST1), origin (TEST2),
 * then kiss codes, synchronisation (TEST6), zero timestamps (TEST3) and header sanity (TEST7).
 * A Kiss-o'-Death is reported only when its origin matches, so nobody can silence an
 * association by spoofing DENY.
 *
 * @param expected.originTime The transmit timestamp of our outstanding request, or null.
 * @param expected.lastServerTransmit The transmit timestamp of the last reply accepted, or null.
 * @example
 * ```ts
 * import { decodePacket } from "../packet/decode_packet.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const datagram: Uint8Array;
 * declare const t1: NtpTimestamp; // our request's transmit timestamp
 * const packet = decodePacket(datagram);
 * checkReply(packet, { originTime: t1, lastServerTransmit: null }); // { ok: true, kind: "time" }
 * ```
 */
export function checkReply(
  packet: NtpPacket,
  expected: {
    readonly originTime: NtpTimestamp | null;
    readonly lastServerTransmit: NtpTimestamp | null;
  },
): ReplyCheck {
  if (packet.mode !== NtpMode.server) return { ok: false, reason: "badMode" };
  if (packet.version < 1 || packet.version > 4) return { ok: false, reason: "badVersion" };
  if (
    expected.lastServerTransmit !== null &&
    timestampsEqual(packet.transmitTime, expected.lastServerTransmit)
  ) {
    return { ok: false, reason: "duplicate" };
  }
  if (expected.originTime === null || !timestampsEqual(packet.originTime, expected.originTime)) {
    return { ok: false, reason: "bogusOrigin" };
  }
  const code = kissCodeOf(packet);
  if (code !== null) return { ok: true, kind: "kiss", code };
  if (packet.leap === 3 || packet.stratum >= MAX_STRATUM) {
    return { ok: false, reason: "unsynchronised" };
  }
  if (isZeroTimestamp(packet.receiveTime) || isZeroTimestamp(packet.transmitTime)) {
    return { ok: false, reason: "zeroTimestamp" };
  }
  const rootDelay = secondsFromShort(packet.rootDelayShort);
  const rootDispersion = secondsFromShort(packet.rootDispersionShort);
  if (
    rootDelay / 2 + rootDispersion >= MAX_DISPERSION_SECONDS ||
    (!isZeroTimestamp(packet.referenceTime) &&
      ntpDiffSeconds(packet.referenceTime, packet.transmitTime) > 0) ||
    ntpDiffSeconds(packet.transmitTime, packet.receiveTime) < 0
  ) {
    return { ok: false, reason: "badHeader" };
  }
  return { ok: true, kind: "time" };
}
