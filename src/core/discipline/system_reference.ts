// The system variables a clock update sets (RFC 5905 §11.3 clock_update): stratum, refid, reference time, root delay and dispersion.
import { refidFromAddress } from "../packet/refid.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import {
  MAX_DISPERSION_SECONDS,
  MAX_DISTANCE_SECONDS,
  PHI_SECONDS_PER_SECOND,
} from "./ntp_constants.ts";
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
  /**
   * How fast the root dispersion grows after the update, seconds per second: the discipline's
   * error growth (three standard errors of the frequency plus 1 ppm, MAX_CLOCK_ERROR_PPM).
   */
  readonly dispersionRateSecondsPerSecond: number;
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
 * The reference after a clock update (RFC 5905 A.5.5.6, with the discipline's measured error in
 * place of the protocol's constants): root delay = peer root delay + delay; root dispersion =
 * peer root dispersion + growth * age + max(|offset|, discipline error) + sqrt(peer jitter^2 +
 * system jitter^2), where growth is the discipline's error growth rate (three frequency standard
 * errors plus 1 ppm). ntpd adds the peer's filter dispersion (its samples aged at PHI, 15 ppm)
 * and floors the sum at 1 ms; the discipline's error stands for our measurement instead (it is
 * fitted from the same samples), and on a LAN those terms made the root distance 200-1000 times
 * the actual error in simulation. It grows at the same rate afterwards (rootDispersionAt).
 * Holdover still ends as ntpd's does (time_keeper.ts: PHI).
 *
 * @example
 * ```ts
 * const ref = referenceFromUpdate(
 *   { address: new Uint8Array([192, 0, 2, 1]), stratum: 1, rootDelaySeconds: 0,
 *     rootDispersionSeconds: 1e-4, delaySeconds: 2e-4, dispersionSeconds: 1e-5,
 *     jitterSeconds: 1e-5, updateMonotonicSeconds: 100 },
 *   { offsetSeconds: 2e-5, disciplineErrorSeconds: 5e-5, errorGrowthSecondsPerSecond: 1.3e-6,
 *     systemJitterSeconds: 1e-5, leap: 0, referenceTime: { seconds: 3_900_000_000, fraction: 0 },
 *     monotonicSeconds: 100 },
 * );
 * ref.stratum; // 2
 * ```
 */
export function referenceFromUpdate(
  peer: SystemPeerFigures,
  update: {
    readonly offsetSeconds: number;
    /** The discipline's error bound at the update (clock_discipline.ts errorBoundAt), seconds. */
    readonly disciplineErrorSeconds: number;
    /** How fast the discipline's error bound grows (clock_discipline.ts errorGrowthRate), s/s. */
    readonly errorGrowthSecondsPerSecond: number;
    readonly systemJitterSeconds: number;
    readonly leap: 0 | 1 | 2;
    readonly referenceTime: NtpTimestamp;
    readonly monotonicSeconds: number;
  },
): SystemReference {
  const age = Math.max(0, update.monotonicSeconds - peer.updateMonotonicSeconds);
  const own = Math.max(Math.abs(update.offsetSeconds), update.disciplineErrorSeconds);
  // An error the discipline cannot bound yet is claimed as the protocol's largest (MAXDISP),
  // never as none.
  const spread = update.errorGrowthSecondsPerSecond * age +
    (Number.isFinite(own) ? own : MAX_DISPERSION_SECONDS);
  return {
    leap: update.leap,
    stratum: Math.min(16, peer.stratum + 1),
    referenceId: refidFromAddress(peer.address),
    referenceTime: update.referenceTime,
    rootDelaySeconds: peer.rootDelaySeconds + peer.delaySeconds,
    rootDispersionSeconds: peer.rootDispersionSeconds + spread +
      Math.hypot(peer.jitterSeconds, update.systemJitterSeconds),
    dispersionRateSecondsPerSecond: update.errorGrowthSecondsPerSecond,
    updateMonotonicSeconds: update.monotonicSeconds,
  };
}

/**
 * Root dispersion now: the value at the update plus its growth rate (the discipline's error
 * growth: three frequency standard errors plus 1 ppm) per second since.
 *
 * @example
 * ```ts
 * import type { SystemReference } from "./system_reference.ts";
 * declare const ref: SystemReference;
 * rootDispersionAt(ref, { monotonicSeconds: ref.updateMonotonicSeconds + 1000 });
 * // ref.rootDispersionSeconds + 1000 * ref.dispersionRateSecondsPerSecond (+ 1 ms at 1 ppm)
 * ```
 */
export function rootDispersionAt(
  ref: SystemReference,
  options: { readonly monotonicSeconds: number },
): number {
  return ref.rootDispersionSeconds +
    ref.dispersionRateSecondsPerSecond *
      Math.max(0, options.monotonicSeconds - ref.updateMonotonicSeconds);
}

/**
 * Root distance now: root delay / 2 + root dispersion now, seconds. When it exceeds MAXDIST
 * (1.5 s) clients would reject us, so the time keeper declares itself unsynchronised.
 *
 * @example
 * ```ts
 * import type { SystemReference } from "./system_reference.ts";
 * declare const ref: SystemReference;
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
 * The root distance holdover is judged by, seconds: the larger of the distance as ntpd would
 * have grown it since the update (root delay / 2 + root dispersion at the update + PHI, 15 ppm,
 * per second) and the root distance published now ({@link rootDistanceAt}, grown at the
 * discipline's measured rate). Holdover ends when it passes MAXDIST (1.5 s): about 27 h after
 * the last update as with ntpd while the frequency is well known, sooner when the published
 * distance grows faster (a poorly known frequency), so the daemon never claims to be
 * synchronised while publishing a distance clients reject.
 *
 * @example
 * ```ts
 * import type { SystemReference } from "./system_reference.ts";
 * declare const ref: SystemReference;
 * holdoverDistanceAt(ref, { monotonicSeconds: ref.updateMonotonicSeconds + 3600 }); // + 54 ms or more
 * ```
 */
export function holdoverDistanceAt(
  ref: SystemReference,
  options: { readonly monotonicSeconds: number },
): number {
  const ntpd = ref.rootDelaySeconds / 2 + ref.rootDispersionSeconds +
    PHI_SECONDS_PER_SECOND * Math.max(0, options.monotonicSeconds - ref.updateMonotonicSeconds);
  return Math.max(ntpd, rootDistanceAt(ref, options));
}

/**
 * When {@link holdoverDistanceAt} reaches MAXDIST (1.5 s), in monotonic seconds: the moment
 * holdover ends (now already, if it has).
 *
 * @example
 * ```ts
 * import type { SystemReference } from "./system_reference.ts";
 * declare const ref: SystemReference;
 * holdoverEndsAt(ref) - ref.updateMonotonicSeconds; // about 99 000 s (27 h) at 1 ppm
 * ```
 */
export function holdoverEndsAt(ref: SystemReference): number {
  const start = ref.rootDelaySeconds / 2 + ref.rootDispersionSeconds;
  const spare = Math.max(0, MAX_DISTANCE_SECONDS - start);
  const rate = Math.max(PHI_SECONDS_PER_SECOND, ref.dispersionRateSecondsPerSecond);
  return ref.updateMonotonicSeconds + spare / rate;
}

/**
 * The `synchronised` member of system_state.ts's SyncState for this reference at a time.
 *
 * @example
 * ```ts
 * import type { SystemReference } from "./system_reference.ts";
 * import type { SyncState } from "./system_state.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const ref: SystemReference;
 * declare const uptimeSeconds: number;
 * declare const now: NtpTimestamp; // the wall clock
 * declare const monotonicSeconds: number;
 * const precisionLog2 = -20;
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
