// One probe of a candidate: the request to send and the verdict on what came back (offset, delay, header, KoD, unsynchronised).
import { checkReply, type ReplyRejection } from "../client/reply_check.ts";
import { measure } from "../client/measurement.ts";
import { decodePacket } from "../packet/decode_packet.ts";
import type { NtpPacket } from "../packet/ntp_packet.ts";
import type { LeapIndicator } from "../server/types.ts";
import { type NtpTimestamp, readTimestamp } from "../time/ntp_timestamp.ts";
import { secondsFromShort } from "../time/short_format.ts";

/** What one request to a candidate gave. */
export type ProbeSample =
  | {
    readonly kind: "ok";
    /** Server minus local clock, seconds (positive: the local clock is behind). */
    readonly offsetSeconds: number;
    /** Round trip minus the server's hold time, seconds. */
    readonly delaySeconds: number;
    readonly leap: LeapIndicator;
    readonly stratum: number;
    readonly referenceId: number;
    readonly rootDelaySeconds: number;
    readonly rootDispersionSeconds: number;
    readonly precisionLog2: number;
  }
  | { readonly kind: "noAnswer" }
  | { readonly kind: "kissOfDeath"; readonly code: string }
  | { readonly kind: "unsynchronised"; readonly leap: LeapIndicator; readonly stratum: number }
  | { readonly kind: "invalid"; readonly reason: ReplyRejection };

/** Offset of the transmit timestamp in a request, and of the origin timestamp in a reply. */
const transmitOffset = 40;
const originOffset = 24;

/**
 * A 48-byte mode 3 request (version 4) whose transmit timestamp is `transmit`: 8 random bytes,
 * so that the reply's origin proves it answers this request and no clock reading is revealed.
 *
 * @example
 * ```ts
 * const request = buildProbeRequest(crypto.getRandomValues(new Uint8Array(8)));
 * ```
 */
export function buildProbeRequest(transmit: Uint8Array): Uint8Array {
  if (transmit.length !== 8) {
    throw new RangeError(
      `Cannot build a probe request: transmit is ${transmit.length} bytes, not 8`,
    );
  }
  const request = new Uint8Array(48);
  request[0] = (4 << 3) | 3;
  request.set(transmit, transmitOffset);
  return request;
}

/**
 * True when `reply` echoes `request`'s transmit timestamp as its origin: it answers this request
 * (anything else is stray, late or spoofed and is not its answer).
 *
 * @example
 * ```ts
 * answersRequest(reply, request); // true for the server's answer to request
 * ```
 */
export function answersRequest(reply: Uint8Array, request: Uint8Array): boolean {
  if (reply.length < 48 || request.length < 48) return false;
  for (let i = 0; i < 8; i++) {
    if (reply[originOffset + i] !== request[transmitOffset + i]) return false;
  }
  return true;
}

/**
 * Judges one exchange with the client's packet tests (reply_check.ts): no reply; a reply that
 * fails them (`invalid`, e.g. not mode 4, bad header); a Kiss-o'-Death; an unsynchronised server
 * (LI 3 or stratum 16); otherwise offset and delay from T1 = `sentAt`, T2, T3 and T4 = `receivedAt`.
 *
 * @example
 * ```ts
 * judgeProbeReply({ request, sentAt, reply, receivedAt }, { localPrecisionLog2: -20 }).kind; // "ok"
 * ```
 */
export function judgeProbeReply(
  exchange: {
    readonly request: Uint8Array;
    readonly sentAt: NtpTimestamp;
    readonly reply: Uint8Array | null;
    readonly receivedAt: NtpTimestamp | null;
  },
  options: { readonly localPrecisionLog2: number },
): ProbeSample {
  const { reply, receivedAt, request } = exchange;
  if (reply === null || receivedAt === null) return { kind: "noAnswer" };
  let packet: NtpPacket;
  try {
    packet = decodePacket(reply);
  } catch {
    return { kind: "invalid", reason: "malformed" };
  }
  const check = checkReply(packet, {
    originTime: readTimestamp(new DataView(request.buffer, request.byteOffset), transmitOffset),
    lastServerTransmit: null,
  });
  if (!check.ok) {
    return check.reason === "unsynchronised"
      ? { kind: "unsynchronised", leap: packet.leap, stratum: packet.stratum }
      : { kind: "invalid", reason: check.reason };
  }
  if (check.kind === "kiss") return { kind: "kissOfDeath", code: check.code };
  const m = measure(
    {
      originTime: exchange.sentAt,
      serverReceiveTime: packet.receiveTime,
      serverTransmitTime: packet.transmitTime,
      destinationTime: receivedAt,
    },
    { localPrecisionLog2: options.localPrecisionLog2, serverPrecisionLog2: packet.precisionLog2 },
  );
  return {
    kind: "ok",
    offsetSeconds: m.offsetSeconds,
    delaySeconds: m.delaySeconds,
    leap: packet.leap,
    stratum: packet.stratum,
    referenceId: packet.referenceId,
    rootDelaySeconds: secondsFromShort(packet.rootDelayShort),
    rootDispersionSeconds: secondsFromShort(packet.rootDispersionShort),
    precisionLog2: packet.precisionLog2,
  };
}
