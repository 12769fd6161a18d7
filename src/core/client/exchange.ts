// One client exchange for the one-shot clients (`ntp query`, `ntp doctor`, `ntp pick`): the request with a random transmit timestamp, and the verdict on what came back, by the same packet tests and arithmetic the associations use (reply_check.ts, measurement.ts).
import { decodePacket } from "../packet/decode_packet.ts";
import type { NtpPacket } from "../packet/ntp_packet.ts";
import { type NtpTimestamp, readTimestamp } from "../time/ntp_timestamp.ts";
import { buildClientRequest, TRANSMIT_TIMESTAMP_OFFSET } from "./client_request.ts";
import { measure } from "./measurement.ts";
import { checkReply, type ReplyRejection } from "./reply_check.ts";
import { secondsFromShort } from "../time/short_format.ts";

/** Offset of the origin timestamp in a reply. */
const originOffset = 24;

/** The verdict on one exchange. */
export type ExchangeVerdict =
  | {
    readonly kind: "ok";
    /** Server minus local clock, seconds (positive: the local clock is behind). */
    readonly offsetSeconds: number;
    /** Round trip minus the server's hold time, seconds. */
    readonly delaySeconds: number;
    readonly packet: NtpPacket;
  }
  | { readonly kind: "noAnswer" }
  | { readonly kind: "kissOfDeath"; readonly code: string; readonly packet: NtpPacket }
  | { readonly kind: "unsynchronised"; readonly packet: NtpPacket }
  /** Not a packet at all (`packet` null) or one that fails the client's tests. */
  | {
    readonly kind: "invalid";
    readonly reason: ReplyRejection;
    readonly packet: NtpPacket | null;
  };

/**
 * A 48-byte mode 3 request (version 4) whose transmit timestamp is `transmit`: 8 random bytes,
 * so that the reply's origin proves it answers this request and no clock reading is revealed.
 *
 * @throws {RangeError} When `transmit` is not 8 bytes.
 * @example
 * ```ts
 * const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
 * request.length; // 48
 * ```
 */
export function buildExchangeRequest(transmit: Uint8Array): Uint8Array {
  if (transmit.length !== 8) {
    throw new RangeError(`Cannot build a request: transmit is ${transmit.length} bytes, not 8`);
  }
  const request = buildClientRequest({ version: 4, pollLog2: 0 });
  request.set(transmit, TRANSMIT_TIMESTAMP_OFFSET);
  return request;
}

/**
 * True when `reply` echoes `request`'s transmit timestamp as its origin: it answers this request
 * (anything else is stray, late or spoofed and is not its answer).
 *
 * @example
 * ```ts
 * const request = buildExchangeRequest(new Uint8Array(8).fill(7));
 * const reply = new Uint8Array(48);
 * reply.set(request.subarray(40, 48), 24);
 * answersRequest(reply, request); // true
 * ```
 */
export function answersRequest(reply: Uint8Array, request: Uint8Array): boolean {
  if (reply.length < 48 || request.length < 48) return false;
  for (let i = 0; i < 8; i++) {
    if (reply[originOffset + i] !== request[TRANSMIT_TIMESTAMP_OFFSET + i]) return false;
  }
  return true;
}

/**
 * Judges one exchange with the client's packet tests: no reply; not an NTP packet; a reply that
 * fails them (not mode 4, origin not our transmit timestamp, zero timestamps, a bad header);
 * a Kiss-o'-Death; an unsynchronised server (LI 3 or stratum 16); otherwise offset and delay
 * from T1 = `sentAt`, T2, T3 and T4 = `receivedAt`.
 *
 * @example
 * ```ts
 * const request = buildExchangeRequest(new Uint8Array(8).fill(1));
 * judgeExchange({ request, sentAt: { seconds: 0, fraction: 0 }, reply: null, receivedAt: null },
 *   { localPrecisionLog2: -20 }).kind; // "noAnswer"
 * ```
 */
export function judgeExchange(
  exchange: {
    readonly request: Uint8Array;
    readonly sentAt: NtpTimestamp;
    readonly reply: Uint8Array | null;
    readonly receivedAt: NtpTimestamp | null;
  },
  options: { readonly localPrecisionLog2: number },
): ExchangeVerdict {
  const { reply, receivedAt, request } = exchange;
  if (reply === null || receivedAt === null) return { kind: "noAnswer" };
  let packet: NtpPacket;
  try {
    packet = decodePacket(reply);
  } catch {
    return { kind: "invalid", reason: "malformed", packet: null };
  }
  const check = checkReply(packet, {
    originTime: readTimestamp(
      new DataView(request.buffer, request.byteOffset),
      TRANSMIT_TIMESTAMP_OFFSET,
    ),
    lastServerTransmit: null,
  });
  if (!check.ok) {
    return check.reason === "unsynchronised"
      ? { kind: "unsynchronised", packet }
      : { kind: "invalid", reason: check.reason, packet };
  }
  if (check.kind === "kiss") return { kind: "kissOfDeath", code: check.code, packet };
  const m = measure(
    {
      originTime: exchange.sentAt,
      serverReceiveTime: packet.receiveTime,
      serverTransmitTime: packet.transmitTime,
      destinationTime: receivedAt,
    },
    { localPrecisionLog2: options.localPrecisionLog2, serverPrecisionLog2: packet.precisionLog2 },
  );
  return { kind: "ok", offsetSeconds: m.offsetSeconds, delaySeconds: m.delaySeconds, packet };
}

/**
 * Root distance of an answer (the most its time can be off from the reference): (root delay +
 * round-trip delay) / 2 + root dispersion, seconds.
 *
 * @example
 * ```ts
 * import type { NtpPacket } from "../packet/ntp_packet.ts";
 * declare const packet: NtpPacket;
 * rootDistanceSeconds(packet, 0.002);
 * ```
 */
export function rootDistanceSeconds(packet: NtpPacket, delaySeconds: number): number {
  return (secondsFromShort(packet.rootDelayShort) + Math.max(0, delaySeconds)) / 2 +
    secondsFromShort(packet.rootDispersionShort);
}
