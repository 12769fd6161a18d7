// When the time keeper's statistics lines are due (a filter sample: peerstats; a clock update: loopstats) and a reply's rawstats record.
import type { TimeKeeperState } from "../client/time_keeper_state.ts";
import { decodePacket } from "../packet/decode_packet.ts";
import { secondsFromShort } from "../time/short_format.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import type { RawStatsRecord } from "./stats_lines.ts";

/** What one upstream reply did to the time keeper, for the statistics files. */
export interface ReplyOutcome {
  /** It answered our outstanding request (whatever else was wrong with it). */
  readonly answered: boolean;
  /** The reply became a sample of the association's clock filter (a peerstats line). */
  readonly newSample: boolean;
  /** The clock discipline took an update (a loopstats line). */
  readonly disciplineUpdated: boolean;
}

/**
 * Compares the time keeper before and after a reply from `associationId`: whether it gave a
 * filter sample (the association heard a valid reply and its filter changed) and whether the
 * discipline updated the clock.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "../client/time_keeper_state.ts";
 * declare const before: TimeKeeperState;
 * declare const after: TimeKeeperState;
 * const { newSample, disciplineUpdated } = replyOutcome(before, after, 1);
 * ```
 */
export function replyOutcome(
  before: TimeKeeperState,
  after: TimeKeeperState,
  associationId: number,
): ReplyOutcome {
  const was = before.associations.find((a) => a.config.id === associationId);
  const now = after.associations.find((a) => a.config.id === associationId);
  const newSample = now !== undefined &&
    now.lastReceiveMonotonicSeconds !== null &&
    now.lastReceiveMonotonicSeconds !== (was?.lastReceiveMonotonicSeconds ?? null) &&
    now.filter !== was?.filter && now.filter.entries.length > 0;
  return {
    answered: was?.outstanding != null && now?.outstanding === null,
    newSample,
    disciplineUpdated: after.discipline.lastUpdateMonotonicSeconds !== null &&
      after.discipline.lastUpdateMonotonicSeconds !== before.discipline.lastUpdateMonotonicSeconds,
  };
}

/** Where and when a reply arrived, for its rawstats line. */
export interface RawReplyContext {
  /** Wall-clock time the line is written, Unix seconds. */
  readonly unixSeconds: number;
  readonly sourceAddress: string;
  readonly destinationAddress: string | null;
  /** Our receive timestamp (T4). */
  readonly destinationTime: NtpTimestamp;
  /** Requests that went unanswered before the one this reply answers (NTPsec's outcount). */
  readonly lostRequests: number;
  /** Replies from the upstream refused since our last request, this one included (bogons). */
  readonly rejectedReplies: number;
  /** Why this reply was refused, as the association's flash bits; 0 when it was taken. */
  readonly flashBits: number;
}

/**
 * The rawstats record of a reply's NTP header; null when the bytes are not an NTP packet or
 * are a Kiss-o'-Death, leap 3 at stratum 0 (NTPsec writes no line for those). Stratum 0 is written as 16, and the
 * refid with it, as NTPsec does.
 *
 * @example
 * ```ts
 * declare const reply: Uint8Array;
 * const record = rawStatsRecord(reply, {
 *   unixSeconds: 1_796_601_600, sourceAddress: "192.0.2.1", destinationAddress: "192.0.2.10",
 *   destinationTime: { seconds: 0, fraction: 0 }, lostRequests: 0, rejectedReplies: 0, flashBits: 0,
 * });
 * ```
 */
export function rawStatsRecord(
  packet: Uint8Array,
  context: RawReplyContext,
): RawStatsRecord | null {
  let header;
  try {
    header = decodePacket(packet);
  } catch {
    return null;
  }
  // The originate column is the reply's origin (our transmit field), as NTPsec writes it; the
  // daemon's T1 is read a little later, right before the send call, so an offset computed from
  // these four columns can differ from peerstats by half of the time in between.
  // NTPsec's is_kod: unsynchronised at stratum 0 (our association takes any stratum 0 as one).
  if (header.stratum === 0 && header.leap === 3) return null;
  return {
    unixSeconds: context.unixSeconds,
    sourceAddress: context.sourceAddress,
    destinationAddress: context.destinationAddress,
    originate: header.originTime,
    receive: header.receiveTime,
    transmit: header.transmitTime,
    destination: context.destinationTime,
    leap: header.leap,
    version: header.version,
    mode: header.mode,
    stratum: header.stratum === 0 ? 16 : header.stratum,
    pollLog2: header.pollLog2,
    precisionLog2: header.precisionLog2,
    rootDelaySeconds: secondsFromShort(header.rootDelayShort),
    rootDispersionSeconds: secondsFromShort(header.rootDispersionShort),
    referenceId: header.referenceId,
    lostRequests: context.lostRequests,
    rejectedReplies: context.rejectedReplies,
    flashBits: context.flashBits,
  };
}

/** Per association, what rawstats counts between exchanges. */
export interface ExchangeCounts {
  /** Requests sent since a reply last answered one. */
  readonly sentSinceAnswer: number;
  /** Replies refused since the last request. */
  readonly refusedSinceRequest: number;
}

/** Nothing sent or received yet. */
export const NO_EXCHANGES: ExchangeCounts = Object.freeze({
  sentSinceAnswer: 0,
  refusedSinceRequest: 0,
});

/**
 * The counts after a request went out.
 *
 * @example
 * ```ts
 * countRequest(NO_EXCHANGES); // { sentSinceAnswer: 1, refusedSinceRequest: 0 }
 * ```
 */
export function countRequest(counts: ExchangeCounts): ExchangeCounts {
  return { sentSinceAnswer: counts.sentSinceAnswer + 1, refusedSinceRequest: 0 };
}

/**
 * The counts after a reply, with its rawstats fields, and whether it gets a rawstats line: as
 * NTPsec, every reply taken and the first one refused after each request (more would let a
 * flood of bogus replies fill the disk).
 *
 * @example
 * ```ts
 * const sent = countRequest(NO_EXCHANGES);
 * const taken = countReply(sent, { answered: true, newSample: true, disciplineUpdated: true });
 * taken.lostRequests; // 0
 * taken.rawstatsDue; // true
 * ```
 */
export function countReply(
  counts: ExchangeCounts,
  outcome: ReplyOutcome,
): {
  readonly counts: ExchangeCounts;
  readonly lostRequests: number;
  readonly rejectedReplies: number;
  readonly rawstatsDue: boolean;
} {
  const refused = !outcome.newSample;
  const rejectedReplies = counts.refusedSinceRequest + (refused ? 1 : 0);
  return {
    counts: {
      sentSinceAnswer: outcome.answered ? 0 : counts.sentSinceAnswer,
      refusedSinceRequest: rejectedReplies,
    },
    lostRequests: outcome.answered
      ? Math.max(0, counts.sentSinceAnswer - 1)
      : counts.sentSinceAnswer,
    rejectedReplies,
    rawstatsDue: !refused || rejectedReplies === 1,
  };
}
