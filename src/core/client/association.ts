// One upstream server as a pure state machine: polls (with iburst/burst), reply validation, reach, clock filter, poll adaptation, KoD.
//
// No I/O and no clock: time comes in as arguments, and the results are actions (ntpd-rs style).
// The transmit timestamp: a Send action carries a 48-byte request whose bytes 40..47 are zero; the
// daemon writes the local clock reading there, sends, and reports that value with
// onAssociationTransmitted(), together with the clock read right before the send call (the
// measurement's T1; work between the two, such as NTS fields, is no path delay). A reply is
// accepted only if its origin equals the written value, so forged or late replies are rejected.
//
// Burst spacing: bursts (iburst while unreachable, burst while reachable) send one packet every
// 2 s, as ntpd does. That respects ntpd's `discard minimum` (2 s, with 1 s of grace) and the
// average-rate credit of `restrict limited` (an iburst of 6 adds 6 * 8 s of headway minus the
// 2 s gaps, about 26 s of the 64 s limit), so real pool servers do not send RATE kisses.
import { evaluateFilter, type FilterOutput, pushFilterEntry } from "../discipline/clock_filter.ts";
import { type ClockFilter, emptyClockFilter } from "../discipline/clock_filter.ts";
import { MAX_DISPERSION_SECONDS } from "../discipline/ntp_constants.ts";
import { decodePacket } from "../packet/decode_packet.ts";
import { kissAction } from "../packet/kiss_code.ts";
import type { NtpPacket } from "../packet/ntp_packet.ts";
import { PacketError } from "../packet/packet_error.ts";
import { refidFromAscii } from "../packet/refid.ts";
import type { LeapIndicator } from "../server/types.ts";
import { type NtpTimestamp, unixFromNtp, ZERO_TIMESTAMP } from "../time/ntp_timestamp.ts";
import { isLeapSecondClose } from "../leap/leap_window.ts";
import { pollSeconds } from "../time/poll.ts";
import { secondsFromShort } from "../time/short_format.ts";
import { buildClientRequest } from "./client_request.ts";
import { measure } from "./measurement.ts";
import {
  adaptPoll,
  backOffForRate,
  backOffUnreachable,
  initialPollControl,
} from "./poll_control.ts";
import { isStableSample, type PollControl } from "./poll_control.ts";
import { nextRandom } from "./poll_random.ts";
import { answeredRecently, markReached, shiftReach } from "./reach_register.ts";
import { checkReply, FLASH_BITS, type ReplyRejection } from "./reply_check.ts";

/** Packets in an iburst (sent when the source is unreachable, once per unreachable spell). */
export const IBURST_PACKETS = 6;
/** Packets in a `burst` (sent at every poll while reachable). */
export const BURST_PACKETS = 8;
/** Spacing of burst packets, seconds (ntpd's). */
export const BURST_SPACING_SECONDS = 2;
/**
 * Extra requests (training, confirmation) are never closer than this to the previous one, nor the
 * poll after one, seconds.
 */
export const EXTRA_REQUEST_SPACING_SECONDS = 16;
/** Unanswered polls (after reach fell to zero) before the poll backs off (ntpd's NTP_UNREACH). */
export const UNREACH_BACKOFF_POLLS = 10;

/** What the configuration says about one upstream. */
export interface AssociationConfig {
  /** Association id (1..65535), unique and stable; ntpq's assid. */
  readonly id: number;
  /** The server's IP address, 4 or 16 bytes; its refid is what we advertise when it is our system peer. */
  readonly address: Uint8Array;
  /** NTP version sent (1..4). */
  readonly version: number;
  /** log2 seconds. */
  readonly minPollLog2: number;
  /** log2 seconds, >= minPollLog2. */
  readonly maxPollLog2: number;
  readonly iburst: boolean;
  readonly burst: boolean;
  readonly prefer: boolean;
  readonly noselect: boolean;
}

/** The header fields of the server's last accepted (or unsynchronised) reply. */
export interface ServerHeader {
  readonly leap: LeapIndicator;
  readonly stratum: number;
  readonly pollLog2: number;
  readonly precisionLog2: number;
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
}

/** The request in flight. */
export interface OutstandingRequest {
  /** Reported by onAssociationTransmitted(); null until then (no reply can match). */
  readonly transmitTime: NtpTimestamp | null;
  /**
   * When the request left, as read right before the send call (T1 of the measurement); null
   * until reported. The transmit field may be older: it is written before the packet is
   * finished (NTS fields, the socket call), and that time would count as path delay.
   */
  readonly sentTime: NtpTimestamp | null;
  readonly sentMonotonicSeconds: number;
  /** The local clock was stepped after sending: a reply is no measurement. */
  readonly stale: boolean;
  /** Sent between polls (a training request): its sample does not steer the poll. */
  readonly extra: boolean;
}

/** The whole state of one association. Treat as read-only; change it through this module. */
export interface AssociationState {
  readonly config: AssociationConfig;
  readonly poll: PollControl;
  /** Reachability register (8 bits, bit 0 = the latest poll). */
  readonly reach: number;
  /** Polls since reach became zero (ntpd's `unreach`), 0 while reachable. */
  readonly unreachPolls: number;
  /** The iburst for the current unreachable spell was sent. */
  readonly unreachBurstSent: boolean;
  /** When the next packet goes out, monotonic seconds (Infinity once demobilised). */
  readonly nextSendMonotonicSeconds: number;
  /** When the current poll began, monotonic seconds. */
  readonly pollStartMonotonicSeconds: number;
  /** Packets of the current burst still to send after the last one. */
  readonly burstRemaining: number;
  /**
   * While the time keeper trains the frequency: extra requests between polls at this spacing,
   * seconds (see {@link setTraining}); null otherwise.
   */
  readonly trainingIntervalSeconds: number | null;
  /** When the last request went out, monotonic seconds (null before the first). */
  readonly lastSendMonotonicSeconds: number | null;
  readonly outstanding: OutstandingRequest | null;
  /** The transmit timestamp of the last accepted reply (for the duplicate test). */
  readonly lastServerTransmit: NtpTimestamp | null;
  /** Our receive timestamp of the last accepted reply (ntpq's `rec`). */
  readonly lastReceiveTime: NtpTimestamp | null;
  readonly lastReceiveMonotonicSeconds: number | null;
  readonly server: ServerHeader | null;
  readonly filter: ClockFilter;
  /** Flash bits of the last packet (0 when it was accepted). */
  readonly flashBits: number;
  /** The kiss code already reported in this spell (cleared by a good reply). */
  readonly kissReported: string | null;
  /**
   * The server sent a RATE kiss: from then on it gets one request per poll and no more (no
   * training, no early confirmation), even after its replies are good again.
   */
  readonly rateLimited: boolean;
  /** DENY or RSTR received: polling stopped for good. */
  readonly demobilisedBy: string | null;
  /** xorshift32 state for poll jitter. */
  readonly random: number;
}

/** Something worth a log line; each is returned once per occurrence, not per packet. */
export type AssociationEvent =
  /** The first valid reply after none for 8 polls (or ever). */
  | { readonly kind: "reachable"; readonly associationId: number }
  /** Reach fell to zero: no valid reply to the last 8 polls. */
  | { readonly kind: "unreachable"; readonly associationId: number }
  /** A RATE (or other non-fatal) kiss; pollLog2 is the poll now used. */
  | {
    readonly kind: "kissOfDeath";
    readonly associationId: number;
    readonly code: string;
    readonly pollLog2: number;
  }
  /** DENY or RSTR: this association stopped polling. */
  | { readonly kind: "demobilised"; readonly associationId: number; readonly code: string };

/** A measurement accepted into the filter. */
export interface AssociationSample {
  readonly associationId: number;
  /** Seconds, positive: the local clock is behind the server. */
  readonly offsetSeconds: number;
  readonly delaySeconds: number;
  readonly dispersionSeconds: number;
  readonly monotonicSeconds: number;
  /** The discipline's cumulative phase adjustment (steps and slews) when it arrived, seconds. */
  readonly adjustmentSeconds: number;
  /** The smallest delay in the filter register now, seconds. */
  readonly minDelaySeconds: number;
}

/** What the daemon (or the time keeper) must do. */
export type AssociationAction =
  /**
   * Write the local time at bytes 40..47, send to the server, then call onAssociationTransmitted()
   * with that value and the clock read right before the send call.
   */
  | { readonly kind: "send"; readonly associationId: number; readonly request: Uint8Array }
  /** Call onAssociationTimer() at this monotonic time (replaces any earlier request). */
  | { readonly kind: "setTimer"; readonly atMonotonicSeconds: number }
  | { readonly kind: "sample"; readonly sample: AssociationSample }
  | { readonly kind: "event"; readonly event: AssociationEvent };

/** What became of a received datagram. */
export type PacketVerdict = "sample" | "kissOfDeath" | "stale" | "nearLeap" | ReplyRejection;

/** The result of a state transition. */
export interface AssociationOutput {
  readonly state: AssociationState;
  readonly actions: readonly AssociationAction[];
}

/**
 * A new association in state INIT (never answered). Its first poll is due within half a second
 * of `monotonicSeconds` (a seeded stagger so that several associations do not send together).
 *
 * @example
 * ```ts
 * const config = { id: 1, address: new Uint8Array([192, 0, 2, 1]), version: 4, minPollLog2: 6,
 *   maxPollLog2: 10, iburst: true, burst: false, prefer: false, noselect: false };
 * const assoc = createAssociation(config, { monotonicSeconds: 0, randomSeed: 42 });
 * ```
 */
export function createAssociation(
  config: AssociationConfig,
  options: { readonly monotonicSeconds: number; readonly randomSeed: number },
): AssociationState {
  if (!(config.minPollLog2 <= config.maxPollLog2)) {
    throw new RangeError(
      `Cannot create association ${config.id}: minpoll ${config.minPollLog2} exceeds maxpoll ${config.maxPollLog2}`,
    );
  }
  const random = nextRandom(((options.randomSeed ^ Math.imul(config.id, 0x9e3779b9)) >>> 0) || 1);
  return {
    config,
    poll: initialPollControl(config),
    reach: 0,
    unreachPolls: 0,
    unreachBurstSent: false,
    nextSendMonotonicSeconds: options.monotonicSeconds + (random / 2 ** 32) * 0.5,
    pollStartMonotonicSeconds: options.monotonicSeconds,
    burstRemaining: 0,
    trainingIntervalSeconds: null,
    lastSendMonotonicSeconds: null,
    outstanding: null,
    lastServerTransmit: null,
    lastReceiveTime: null,
    lastReceiveMonotonicSeconds: null,
    server: null,
    filter: emptyClockFilter,
    flashBits: 0,
    kissReported: null,
    rateLimited: false,
    demobilisedBy: null,
    random: nextRandom(random),
  };
}

function withTimer(state: AssociationState, actions: AssociationAction[]): AssociationOutput {
  if (Number.isFinite(state.nextSendMonotonicSeconds)) {
    actions.push({ kind: "setTimer", atMonotonicSeconds: state.nextSendMonotonicSeconds });
  }
  return { state, actions };
}

/** The poll interval with ntpd's 0..6 % random lengthening, seconds. */
function jitteredPollSeconds(state: AssociationState): { seconds: number; random: number } {
  const random = nextRandom(state.random);
  return { seconds: pollSeconds(state.poll.pollLog2) * (1 + random / 2 ** 32 / 16), random };
}

/** Starts a new poll: shifts reach, notes unreachability, decides on a burst. */
function beginPoll(
  state: AssociationState,
  now: number,
  actions: AssociationAction[],
): AssociationState {
  const reach = shiftReach(state.reach);
  let filter = state.filter;
  if (!answeredRecently(reach) && filter.entries.some((e) => e.kind === "sample")) {
    filter = pushFilterEntry(filter, { kind: "missing", monotonicSeconds: now });
  }
  let next: AssociationState = { ...state, reach, filter, pollStartMonotonicSeconds: now };
  if (reach !== 0) {
    return { ...next, unreachPolls: 0, burstRemaining: state.config.burst ? BURST_PACKETS - 1 : 0 };
  }

  if (state.reach !== 0) {
    actions.push({ kind: "event", event: { kind: "unreachable", associationId: state.config.id } });
  }
  next = { ...next, unreachPolls: state.unreachPolls + 1 };
  if (state.config.iburst && !state.unreachBurstSent) {
    next = { ...next, unreachBurstSent: true, burstRemaining: IBURST_PACKETS - 1 };
  }
  if (next.unreachPolls > UNREACH_BACKOFF_POLLS) {
    next = { ...next, poll: backOffUnreachable(next.poll) };
  }
  return next;
}

/**
 * Handles the association's timer: when a packet is due, starts a poll (or continues a burst)
 * and returns a Send action; always returns the next SetTimer. Calling it early is harmless.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare const assoc: AssociationState;
 * declare const now: number; // monotonic seconds
 * const { state, actions } = onAssociationTimer(assoc, { monotonicSeconds: now });
 * ```
 */
export function onAssociationTimer(
  state: AssociationState,
  options: { readonly monotonicSeconds: number },
): AssociationOutput {
  const now = options.monotonicSeconds;
  const actions: AssociationAction[] = [];
  if (state.demobilisedBy !== null || now < state.nextSendMonotonicSeconds) {
    return withTimer(state, actions);
  }

  const inBurst = state.burstRemaining > 0;
  const pollDue = now >= state.pollStartMonotonicSeconds + pollSeconds(state.poll.pollLog2) ||
    state.lastSendMonotonicSeconds === null;
  const extra = !inBurst && !pollDue && state.trainingIntervalSeconds !== null;
  let next = inBurst
    ? { ...state, burstRemaining: state.burstRemaining - 1 }
    : extra
    ? state
    : beginPoll(state, now, actions);
  const request = buildClientRequest({
    version: next.config.version,
    pollLog2: next.poll.pollLog2,
  });
  actions.push({ kind: "send", associationId: next.config.id, request });
  const { seconds, random } = jitteredPollSeconds(next);
  // After an extra request the poll keeps the extra requests' spacing; otherwise the burst's.
  let nextSend = next.burstRemaining > 0 ? now + BURST_SPACING_SECONDS : Math.max(
    next.pollStartMonotonicSeconds + seconds,
    now + (extra ? EXTRA_REQUEST_SPACING_SECONDS : BURST_SPACING_SECONDS),
  );
  const training = next.trainingIntervalSeconds;
  if (next.burstRemaining === 0 && training !== null && nextSend - now >= 2 * training) {
    // A training request only where it leaves a full interval before the poll.
    nextSend = now + training;
  }
  next = {
    ...next,
    random,
    nextSendMonotonicSeconds: nextSend,
    lastSendMonotonicSeconds: now,
    outstanding: {
      transmitTime: null,
      sentTime: null,
      sentMonotonicSeconds: now,
      stale: false,
      extra,
    },
  };
  return withTimer(next, actions);
}

/**
 * Records the transmit timestamp the daemon wrote into the request just sent: replies must carry
 * it as their origin. `sentTime` (default: the same) is when the datagram was handed to the
 * kernel, read right before the send call; it is the measurement's T1, so the time spent
 * finishing the packet (NTS encryption, the socket call's set-up, a pause of the process) is
 * not taken for path delay and half of it for offset.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare let assoc: AssociationState;
 * declare const written: NtpTimestamp; // the request's transmit field
 * declare const sent: NtpTimestamp; // read right before sendmsg
 * assoc = onAssociationTransmitted(assoc, { transmitTime: written, sentTime: sent });
 * ```
 */
export function onAssociationTransmitted(
  state: AssociationState,
  options: { readonly transmitTime: NtpTimestamp; readonly sentTime?: NtpTimestamp },
): AssociationState {
  if (state.outstanding === null || state.outstanding.transmitTime !== null) return state;
  return {
    ...state,
    outstanding: {
      ...state.outstanding,
      transmitTime: options.transmitTime,
      sentTime: options.sentTime ?? options.transmitTime,
    },
  };
}

/**
 * Marks the request in flight as stale, because the local clock was just stepped: its reply
 * still counts for reachability but is not a measurement.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare let assoc: AssociationState;
 * assoc = invalidateOutstanding(assoc);
 * ```
 */
export function invalidateOutstanding(state: AssociationState): AssociationState {
  if (state.outstanding === null) return state;
  return { ...state, outstanding: { ...state.outstanding, stale: true } };
}

/**
 * Drops clock filter samples taken before `monotonicSeconds` (after the local clock jumped behind
 * the discipline's back, they measured a different clock).
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare let assoc: AssociationState;
 * declare const jumpDetectedAt: number; // monotonic seconds
 * assoc = discardSamplesBefore(assoc, { monotonicSeconds: jumpDetectedAt });
 * ```
 */
export function discardSamplesBefore(
  state: AssociationState,
  options: { readonly monotonicSeconds: number },
): AssociationState {
  const entries = state.filter.entries.filter((e) =>
    e.monotonicSeconds >= options.monotonicSeconds
  );
  return entries.length === state.filter.entries.length ? state : { ...state, filter: { entries } };
}

function headerOf(packet: NtpPacket): ServerHeader {
  return {
    leap: packet.leap,
    stratum: packet.stratum,
    pollLog2: packet.pollLog2,
    precisionLog2: packet.precisionLog2,
    rootDelaySeconds: secondsFromShort(packet.rootDelayShort),
    rootDispersionSeconds: secondsFromShort(packet.rootDispersionShort),
    referenceId: packet.referenceId,
    referenceTime: packet.referenceTime,
  };
}

function reached(state: AssociationState, actions: AssociationAction[]): AssociationState {
  if (state.reach === 0) {
    actions.push({ kind: "event", event: { kind: "reachable", associationId: state.config.id } });
  }
  return { ...state, reach: markReached(state.reach), unreachPolls: 0, unreachBurstSent: false };
}

function handleKiss(
  state: AssociationState,
  packet: NtpPacket,
  code: string,
  now: number,
  actions: AssociationAction[],
): AssociationState {
  const id = state.config.id;
  const action = kissAction(code);
  if (action === "demobilize") {
    actions.push({ kind: "event", event: { kind: "demobilised", associationId: id, code } });
    return {
      ...state,
      demobilisedBy: code,
      burstRemaining: 0,
      outstanding: null,
      nextSendMonotonicSeconds: Infinity,
    };
  }
  if (action !== "reduceRate") return state;
  const poll = backOffForRate(state.poll, {
    serverPollLog2: packet.pollLog2,
    maxPollLog2: state.config.maxPollLog2,
  });
  if (state.kissReported !== code) {
    actions.push({
      kind: "event",
      event: { kind: "kissOfDeath", associationId: id, code, pollLog2: poll.pollLog2 },
    });
  }
  return {
    ...state,
    poll,
    kissReported: code,
    rateLimited: true,
    burstRemaining: 0,
    trainingIntervalSeconds: null,
    nextSendMonotonicSeconds: Math.max(
      state.nextSendMonotonicSeconds,
      now + pollSeconds(poll.pollLog2),
    ),
  };
}

/**
 * Handles a datagram from the server: decodes and validates it (see reply_check.ts), then either
 * takes a measurement into the clock filter (a Sample action), reacts to a Kiss-o'-Death (RATE:
 * poll backs off; DENY/RSTR: polling stops), or drops it. `verdict` says which, for counters.
 *
 * @param options.receiveTime T4, the local clock when the datagram arrived.
 * @param options.adjustmentSeconds The discipline's cumulative phase adjustment now (0 without one).
 * @param options.precisionLog2 Local clock precision.
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const assoc: AssociationState;
 * declare const bytes: Uint8Array; // the datagram
 * declare const t4: NtpTimestamp;
 * declare const now: number;
 * const { state, actions, verdict } = onAssociationPacket(assoc, bytes,
 *   { receiveTime: t4, monotonicSeconds: now, adjustmentSeconds: 0, precisionLog2: -20 });
 * ```
 */
export function onAssociationPacket(
  state: AssociationState,
  bytes: Uint8Array,
  options: {
    readonly receiveTime: NtpTimestamp;
    readonly monotonicSeconds: number;
    readonly adjustmentSeconds: number;
    readonly precisionLog2: number;
    /**
     * The leap second announced or just past (Unix seconds of the discontinuity), or null. A reply
     * whose request left or arrived within 5 s of it updates reachability only: its offset may
     * straddle the step, and its leap bits are the old day's (verdict "nearLeap").
     */
    readonly leapUnixSeconds?: number | null;
  },
): AssociationOutput & { readonly verdict: PacketVerdict } {
  const now = options.monotonicSeconds;
  const actions: AssociationAction[] = [];
  const reject = (reason: ReplyRejection, base: AssociationState = state) => ({
    ...withTimer({ ...base, flashBits: FLASH_BITS[reason] }, actions),
    verdict: reason as PacketVerdict,
  });
  let packet: NtpPacket;
  try {
    packet = decodePacket(bytes);
  } catch (error) {
    if (error instanceof PacketError) return reject("malformed");
    throw error;
  }
  const origin = state.outstanding?.transmitTime ?? null;
  const sentTime = state.outstanding?.sentTime ?? null; // set together with the origin
  const check = checkReply(packet, {
    originTime: origin,
    lastServerTransmit: state.lastServerTransmit,
  });
  if (
    !check.ok && (check.reason === "duplicate" || check.reason === "bogusOrigin" || origin === null)
  ) {
    return reject(check.reason);
  }
  // The reply answers our outstanding request: it is consumed whatever else is wrong with it.
  const stale = state.outstanding?.stale ?? false;
  let next: AssociationState = { ...state, outstanding: null };
  if (!check.ok) {
    const keepHeader = check.reason === "unsynchronised" ? { server: headerOf(packet) } : {};
    return reject(check.reason, { ...next, ...keepHeader });
  }
  if (check.kind === "kiss") {
    next = handleKiss(next, packet, check.code, now, actions);
    return { ...withTimer({ ...next, flashBits: 0 }, actions), verdict: "kissOfDeath" };
  }
  next = reached(next, actions);
  const leap = options.leapUnixSeconds ?? null;
  if (
    leap !== null && origin !== null &&
    (isLeapSecondClose(unixSecondsOf(origin, leap), leap) ||
      isLeapSecondClose(unixSecondsOf(options.receiveTime, leap), leap))
  ) {
    next = {
      ...next,
      lastServerTransmit: packet.transmitTime,
      lastReceiveTime: options.receiveTime,
      lastReceiveMonotonicSeconds: now,
      flashBits: 0,
    };
    return { ...withTimer(next, actions), verdict: "nearLeap" };
  }
  next = {
    ...next,
    server: headerOf(packet),
    lastServerTransmit: packet.transmitTime,
    kissReported: null,
  };
  next = {
    ...next,
    lastReceiveTime: options.receiveTime,
    lastReceiveMonotonicSeconds: now,
    flashBits: 0,
  };
  if (stale || origin === null || sentTime === null) {
    return { ...withTimer(next, actions), verdict: "stale" };
  }

  const m = measure(
    {
      originTime: sentTime,
      serverReceiveTime: packet.receiveTime,
      serverTransmitTime: packet.transmitTime,
      destinationTime: options.receiveTime,
    },
    { localPrecisionLog2: options.precisionLog2, serverPrecisionLog2: packet.precisionLog2 },
  );
  if (m.delaySeconds >= MAX_DISPERSION_SECONDS) return reject("badHeader", next);
  const filterOptions = {
    monotonicSeconds: now,
    adjustmentSeconds: options.adjustmentSeconds,
    precisionLog2: options.precisionLog2,
  };
  const previous = evaluateFilter(state.filter, filterOptions);
  const filter = pushFilterEntry(state.filter, {
    kind: "sample",
    offsetSeconds: m.offsetSeconds,
    delaySeconds: m.delaySeconds,
    dispersionSeconds: m.dispersionSeconds,
    monotonicSeconds: now,
    adjustmentSeconds: options.adjustmentSeconds,
  });
  let poll = next.poll;
  const extraRequest = state.outstanding?.extra ?? false;
  if (previous !== null && state.burstRemaining === 0 && !extraRequest) {
    const stable = isStableSample({
      differenceSeconds: m.offsetSeconds - previous.offsetSeconds,
      jitterSeconds: previous.jitterSeconds,
      precisionLog2: options.precisionLog2,
    });
    poll = adaptPoll(poll, { stable });
  }
  next = { ...next, filter, poll };
  const output = evaluateFilter(filter, filterOptions) as FilterOutput;
  actions.push({
    kind: "sample",
    sample: {
      associationId: state.config.id,
      offsetSeconds: m.offsetSeconds,
      delaySeconds: m.delaySeconds,
      dispersionSeconds: m.dispersionSeconds,
      monotonicSeconds: now,
      adjustmentSeconds: options.adjustmentSeconds,
      minDelaySeconds: output.minDelaySeconds,
    },
  });
  return { ...withTimer(next, actions), verdict: "sample" };
}

/**
 * The clock filter's current output for this association, or null before the first sample.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare const assoc: AssociationState;
 * declare const now: number;
 * associationFilterOutput(assoc, { monotonicSeconds: now, adjustmentSeconds: 0, precisionLog2: -20 });
 * ```
 */
export function associationFilterOutput(
  state: AssociationState,
  options: {
    readonly monotonicSeconds: number;
    readonly adjustmentSeconds: number;
    readonly precisionLog2: number;
  },
): FilterOutput | null {
  return evaluateFilter(state.filter, options);
}

/** refid "INIT", shown for a server that never answered. */
const refidInit = refidFromAscii("INIT");

/**
 * The server header to display: the last one received, or stratum 16 / refid INIT / LI 3 before
 * any reply (what ntpq shows for a new association).
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare const assoc: AssociationState;
 * displayedHeader(assoc).stratum; // 16 until the server answers
 * ```
 */
export function displayedHeader(state: AssociationState): ServerHeader {
  return state.server ?? {
    leap: 3,
    stratum: 16,
    pollLog2: 0,
    precisionLog2: 0,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0,
    referenceId: refidInit,
    referenceTime: ZERO_TIMESTAMP,
  };
}

/** An NTP timestamp as Unix seconds, in the era nearest `pivotUnixSeconds`. */
function unixSecondsOf(ts: NtpTimestamp, pivotUnixSeconds: number): number {
  const unix = unixFromNtp(ts, pivotUnixSeconds);
  return unix.unixSeconds + unix.nanoseconds / 1e9;
}
