// Kiss-o'-Death packets (RFC 5905 §7.4): codes, recognition, and building them as ntpd does.
import { NTP_HEADER_LENGTH, NtpMode, type NtpPacket } from "./ntp_packet.ts";
import { refidFromAscii, refidToAscii } from "./refid.ts";

/** The kiss codes of RFC 5905 §7.4 (plus NTSN from RFC 8915), with their meaning. */
export const KISS_CODES: Readonly<Record<string, string>> = Object.freeze({
  ACST: "The association belongs to a unicast server.",
  AUTH: "Server authentication failed.",
  AUTO: "Autokey sequence failed.",
  BCST: "The association belongs to a broadcast server.",
  CRYP: "Cryptographic authentication or identification failed.",
  DENY: "Access denied by remote server.",
  DROP: "Lost peer in symmetric mode.",
  RSTR: "Access denied due to local policy.",
  INIT: "The association has not yet synchronized for the first time.",
  MCST: "The association belongs to a dynamically discovered server.",
  NKEY: "No key found.",
  NTSN: "NTS negative-acknowledgment (NAK).",
  RATE: "Rate exceeded.",
  RMOT: "Alteration of association from a remote host running ntpdc.",
  STEP: "A step change in system time has occurred.",
});

/** refid of the RATE kiss code ("RATE" as a big-endian uint32). */
export const KISS_RATE_REFID = refidFromAscii("RATE");
/** refid of the DENY kiss code. */
export const KISS_DENY_REFID = refidFromAscii("DENY");
/** refid of the RSTR kiss code. */
export const KISS_RSTR_REFID = refidFromAscii("RSTR");

/** What a client must do on receiving a kiss code (RFC 5905 §7.4). */
export type KissAction = "reduceRate" | "demobilize" | "none";

/**
 * True when `packet` is a Kiss-o'-Death: a server or symmetric reply with stratum 0.
 *
 * @example
 * ```ts
 * import { decodePacket } from "./decode_packet.ts";
 * declare const reply: Uint8Array;
 * isKissOfDeath(decodePacket(reply)); // true for stratum 0 mode 4
 * ```
 */
export function isKissOfDeath(packet: NtpPacket): boolean {
  return packet.stratum === 0 &&
    (packet.mode === NtpMode.server || packet.mode === NtpMode.symmetricPassive ||
      packet.mode === NtpMode.symmetricActive);
}

/**
 * The kiss code of a Kiss-o'-Death packet ("RATE", "DENY", ...), or null if `packet` is not one.
 *
 * @example
 * ```ts
 * import type { NtpPacket } from "./ntp_packet.ts";
 * declare const packet: NtpPacket; // a RATE kiss
 * kissCodeOf(packet); // "RATE"
 * ```
 */
export function kissCodeOf(packet: NtpPacket): string | null {
  return isKissOfDeath(packet) ? refidToAscii(packet.referenceId) : null;
}

/**
 * The client's required reaction to a kiss code: DENY and RSTR demobilise the association,
 * RATE reduces the polling rate, every other code needs no action.
 *
 * @example
 * ```ts
 * kissAction("DENY"); // "demobilize"
 * ```
 */
export function kissAction(code: string): KissAction {
  if (code === "DENY" || code === "RSTR") return "demobilize";
  if (code === "RATE") return "reduceRate";
  return "none";
}

/**
 * Writes a 48-byte Kiss-o'-Death reply to `request` into `out`, the way ntpd's fast_xmit does:
 * LI 3, the request's version, mode 4, stratum 0, poll = max(request poll, `minimumPollLog2`),
 * the refid set to the kiss code, and precision, root delay, root dispersion and reference
 * time copied from the request. The origin, receive and transmit timestamps are all the
 * request's transmit timestamp, so the client can match the reply and no time is revealed.
 * Allocates nothing.
 *
 * @param request At least 48 bytes of a mode 3 (or 1) request.
 * @param out At least 48 bytes; bytes 0..47 are overwritten.
 * @example
 * ```ts
 * declare const request: Uint8Array; // the mode 3 request as received
 * const out = new Uint8Array(KISS_OF_DEATH_LENGTH);
 * writeKissOfDeath(request, out, { refid: KISS_RATE_REFID, minimumPollLog2: 3 });
 * ```
 */
export function writeKissOfDeath(
  request: Uint8Array,
  out: Uint8Array,
  options: { readonly refid: number; readonly minimumPollLog2: number },
): void {
  const first = request[0] as number;
  const replyMode = (first & 7) === NtpMode.symmetricActive
    ? NtpMode.symmetricPassive
    : NtpMode.server;
  out[0] = 0xc0 | (first & 0x38) | replyMode;
  out[1] = 0;
  const requestPoll = ((request[2] as number) << 24) >> 24;
  out[2] = Math.max(requestPoll, options.minimumPollLog2) & 0xff;
  out[3] = request[3] as number;
  for (let i = 4; i < 12; i++) out[i] = request[i] as number;
  const refid = options.refid;
  out[12] = refid >>> 24;
  out[13] = (refid >>> 16) & 0xff;
  out[14] = (refid >>> 8) & 0xff;
  out[15] = refid & 0xff;
  for (let i = 16; i < 24; i++) out[i] = request[i] as number;
  for (let i = 0; i < 8; i++) {
    const byte = request[40 + i] as number;
    out[24 + i] = byte;
    out[32 + i] = byte;
    out[40 + i] = byte;
  }
}

/**
 * The decoded form of {@link writeKissOfDeath}: the Kiss-o'-Death packet answering `request`.
 *
 * @example
 * ```ts
 * import { decodePacket } from "./decode_packet.ts";
 * declare const datagram: Uint8Array;
 * const request = decodePacket(datagram);
 * const kod = buildKissOfDeath(request, { code: "RATE", minimumPollLog2: 3 });
 * ```
 */
export function buildKissOfDeath(
  request: NtpPacket,
  options: { readonly code: string; readonly minimumPollLog2: number },
): NtpPacket {
  return {
    leap: 3,
    version: request.version,
    mode: request.mode === NtpMode.symmetricActive ? NtpMode.symmetricPassive : NtpMode.server,
    stratum: 0,
    pollLog2: Math.max(request.pollLog2, options.minimumPollLog2),
    precisionLog2: request.precisionLog2,
    rootDelayShort: request.rootDelayShort,
    rootDispersionShort: request.rootDispersionShort,
    referenceId: refidFromAscii(options.code),
    referenceTime: request.referenceTime,
    originTime: request.transmitTime,
    receiveTime: request.transmitTime,
    transmitTime: request.transmitTime,
    extensionFields: [],
    mac: null,
  };
}

/** Length of every Kiss-o'-Death reply this module writes. */
export const KISS_OF_DEATH_LENGTH = NTP_HEADER_LENGTH;
