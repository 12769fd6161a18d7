// The system variables a clock update sets (RFC 5905 §11.3 clock_update): stratum, refid, reference time, root delay and dispersion.
import { refidFromAddress } from "../packet/refid.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import { MIN_DISTANCE_SECONDS, PHI_SECONDS_PER_SECOND } from "./ntp_constants.ts";
import type { SyncState } from "./system_state.ts";

/** What the last clock update established; root dispersion grows from it at PHI. */
export interface SystemReference {
  readonly leap: 0 | 1 | 2;
  /** System peer's stratum + 1. */
  readonly stratum: number;
  /** The system peer's IPv4 address, or the first 4 bytes of the MD5 of its IPv6 address. */
  readonly referenceId: number;
  /** Local clock reading at the update. */
  readonly referenceTime: NtpTimestamp;
  /** Peer root delay + peer delay, seconds. */
  readonly rootDelaySeconds: number;
  /** Root dispersion at the update, seconds. */
  readonly rootDispersionSeconds: number;
  /** Monotonic time of the update, seconds. */
  readonly updateMonotonicSeconds: number;
}

/** The system peer's side of a clock update. */
export interface SystemPeerFigures {
  /** 4 or 16 address bytes. */
  readonly address: Uint8Array;
  readonly stratum: number;
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  /** Filter outputs, seconds. */
  readonly delaySeconds: number;
  readonly dispersionSeconds: number;
  readonly jitterSeconds: number;
  /** Monotonic time of the peer's newest filter entry, seconds. */
  readonly updateMonotonicSeconds: number;
}

/**
 * The reference after a clock update (RFC 5905 A.5.5.6): root delay = peer root delay + delay;
 * root dispersion = peer root dispersion + max(peer dispersion + PHI * age + |offset|, 1 ms)
 * + sqrt(peer jitter^2 + system jitter^2).
 *
 * @example
 * ```ts
 * const ref = referenceFromUpdate(peer, { offsetSeconds: 2e-5, systemJitterSeconds: 1e-5, leap: 0,
 *   referenceTime: now, monotonicSeconds: 100 });
 * ```
 */
export function referenceFromUpdate(
  peer: SystemPeerFigures,
  update: {
    readonly offsetSeconds: number;
    readonly systemJitterSeconds: number;
    readonly leap: 0 | 1 | 2;
    readonly referenceTime: NtpTimestamp;
    readonly monotonicSeconds: number;
  },
): SystemReference {
  const age = Math.max(0, update.monotonicSeconds - peer.updateMonotonicSeconds);
  const spread = Math.max(
    peer.dispersionSeconds + PHI_SECONDS_PER_SECOND * age + Math.abs(update.offsetSeconds),
    MIN_DISTANCE_SECONDS,
  );
  return {
    leap: update.leap,
    stratum: Math.min(16, peer.stratum + 1),
    referenceId: refidFromAddress(peer.address),
    referenceTime: update.referenceTime,
    rootDelaySeconds: peer.rootDelaySeconds + peer.delaySeconds,
    rootDispersionSeconds: peer.rootDispersionSeconds + spread +
      Math.hypot(peer.jitterSeconds, update.systemJitterSeconds),
    updateMonotonicSeconds: update.monotonicSeconds,
  };
}

/**
 * Root dispersion now: the value at the update plus PHI (15 ppm) per second since, as ntpd's
 * once-a-second `sys_rootdisp += clock_phi` does (honest growth in holdover).
 *
 * @example
 * ```ts
 * rootDispersionAt(ref, { monotonicSeconds: ref.updateMonotonicSeconds + 1000 }); // + 15 ms
 * ```
 */
export function rootDispersionAt(
  ref: SystemReference,
  options: { readonly monotonicSeconds: number },
): number {
  return ref.rootDispersionSeconds +
    PHI_SECONDS_PER_SECOND * Math.max(0, options.monotonicSeconds - ref.updateMonotonicSeconds);
}

/**
 * Root distance now: root delay / 2 + root dispersion now, seconds. When it exceeds MAXDIST
 * (1.5 s) clients would reject us, so the time keeper declares itself unsynchronised.
 *
 * @example
 * ```ts
 * rootDistanceAt(ref, { monotonicSeconds: 100 });
 * ```
 */
export function rootDistanceAt(
  ref: SystemReference,
  options: { readonly monotonicSeconds: number },
): number {
  return ref.rootDelaySeconds / 2 + rootDispersionAt(ref, options);
}

/**
 * The `synchronised` member of system_state.ts's SyncState for this reference at a time.
 *
 * @example
 * ```ts
 * const sync: SyncState = { uptimeSeconds, now, precisionLog2, synchronised: synchronisedVariables(ref, { monotonicSeconds }) };
 * ```
 */
export function synchronisedVariables(
  ref: SystemReference,
  options: { readonly monotonicSeconds: number },
): NonNullable<SyncState["synchronised"]> {
  return {
    leap: ref.leap,
    stratum: ref.stratum,
    referenceId: ref.referenceId,
    referenceTime: ref.referenceTime,
    rootDelaySeconds: ref.rootDelaySeconds,
    rootDispersionSeconds: rootDispersionAt(ref, options),
  };
}

const twoTo32 = 4_294_967_296;

/**
 * `ts` moved by `seconds` (either sign), wrapping within the NTP era like the wire format.
 *
 * @example
 * ```ts
 * addSecondsToTimestamp({ seconds: 10, fraction: 0 }, 0.5); // { seconds: 10, fraction: 2147483648 }
 * ```
 */
export function addSecondsToTimestamp(ts: NtpTimestamp, seconds: number): NtpTimestamp {
  const whole = Math.floor(seconds);
  let fraction = ts.fraction + Math.round((seconds - whole) * twoTo32);
  let carry = 0;
  if (fraction >= twoTo32) {
    fraction -= twoTo32;
    carry = 1;
  }
  const total = (ts.seconds + whole + carry) % twoTo32;
  return { seconds: total < 0 ? total + twoTo32 : total, fraction };
}
