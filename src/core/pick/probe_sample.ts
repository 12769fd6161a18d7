// One probe of a candidate: the request to send and the verdict on what came back (offset, delay, header, KoD, unsynchronised).
import { judgeExchange } from "../client/exchange.ts";
import type { ReplyRejection } from "../client/reply_check.ts";
import type { LeapIndicator } from "../server/types.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
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

/**
 * Judges one exchange (core/client/exchange.ts, the one judgement every one-shot client uses)
 * and keeps what `ntp pick` compares: offset, delay and the header fields.
 *
 * @example
 * ```ts
 * import { buildExchangeRequest } from "../client/exchange.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const sentAt: NtpTimestamp;
 * declare const reply: Uint8Array | null;
 * declare const receivedAt: NtpTimestamp | null;
 * const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
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
  const verdict = judgeExchange(exchange, options);
  switch (verdict.kind) {
    case "noAnswer":
      return verdict;
    case "invalid":
      return { kind: "invalid", reason: verdict.reason };
    case "kissOfDeath":
      return { kind: "kissOfDeath", code: verdict.code };
    case "unsynchronised":
      return { kind: "unsynchronised", leap: verdict.packet.leap, stratum: verdict.packet.stratum };
    case "ok": {
      const packet = verdict.packet;
      return {
        kind: "ok",
        offsetSeconds: verdict.offsetSeconds,
        delaySeconds: verdict.delaySeconds,
        leap: packet.leap,
        stratum: packet.stratum,
        referenceId: packet.referenceId,
        rootDelaySeconds: secondsFromShort(packet.rootDelayShort),
        rootDispersionSeconds: secondsFromShort(packet.rootDispersionShort),
        precisionLog2: packet.precisionLog2,
      };
    }
  }
}
