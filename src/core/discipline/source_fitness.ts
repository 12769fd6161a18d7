// A source's root distance and whether it may take part in selection (RFC 5905 A.5.5.2 fit(), ntpd's peer_unfit).
import { MAX_DISTANCE_SECONDS, MAX_STRATUM, MIN_DISTANCE_SECONDS } from "./ntp_constants.ts";
import { PHI_SECONDS_PER_SECOND } from "./ntp_constants.ts";

/** What the root distance of a source is made of. */
export interface DistanceInputs {
  /** The server's root delay and dispersion (from its last accepted reply), seconds. */
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  /** Filter output: delay, peer dispersion, jitter, seconds. */
  readonly delaySeconds: number;
  readonly dispersionSeconds: number;
  readonly jitterSeconds: number;
  /** Monotonic time of the filter's newest entry, seconds. */
  readonly updateMonotonicSeconds: number;
}

/**
 * Root distance, seconds: (root delay + delay) / 2 + root dispersion + dispersion
 * + PHI * (now - update) + jitter, at least 1 ms (ntpd's `tos mindist`).
 *
 * @example
 * ```ts
 * const inputs = { rootDelaySeconds: 0.01, rootDispersionSeconds: 0.005, delaySeconds: 0.002,
 *   dispersionSeconds: 0.001, jitterSeconds: 5e-4, updateMonotonicSeconds: 100 };
 * rootDistance(inputs, { monotonicSeconds: 200 }); // 0.014: 0.006 + 0.005 + 0.001 + 0.0015 + 0.0005
 * ```
 */
export function rootDistance(
  inputs: DistanceInputs,
  options: { readonly monotonicSeconds: number },
): number {
  const age = Math.max(0, options.monotonicSeconds - inputs.updateMonotonicSeconds);
  return Math.max(
    MIN_DISTANCE_SECONDS,
    (inputs.rootDelaySeconds + inputs.delaySeconds) / 2 + inputs.rootDispersionSeconds +
      inputs.dispersionSeconds + PHI_SECONDS_PER_SECOND * age + inputs.jitterSeconds,
  );
}

/**
 * The part of the root distance that does not grow between polls: (root delay + delay) / 2 +
 * root dispersion + jitter, at least 1 ms. The system peer hysteresis compares these, so that
 * sources are not swapped merely because one was polled more recently.
 *
 * @example
 * ```ts
 * import type { DistanceInputs } from "./source_fitness.ts";
 * declare const inputs: DistanceInputs;
 * baseDistance(inputs); // seconds
 * ```
 */
export function baseDistance(inputs: DistanceInputs): number {
  return Math.max(
    MIN_DISTANCE_SECONDS,
    (inputs.rootDelaySeconds + inputs.delaySeconds) / 2 + inputs.rootDispersionSeconds +
      inputs.jitterSeconds,
  );
}

/** Why a source cannot be selected (ntpq's tally ' '); null when it is fit. */
export type UnfitReason =
  | "noselect"
  | "demobilised"
  | "noSample"
  | "unreachable"
  | "stratum"
  | "distance"
  | "loop";

/**
 * RFC 5905 fit(): a source is unfit when it is configured noselect or was demobilised, has no
 * sample, is unreachable (reach 0), has stratum 16 or more, has a root distance over
 * MAXDIST + PHI * poll, or is synchronised to us (its refid is one of our own addresses' refids).
 *
 * @example
 * ```ts
 * unfitReason({ noselect: false, demobilised: false, hasSample: true, reach: 0xff, stratum: 2,
 *   rootDistanceSeconds: 0.01, pollLog2: 6, referenceId: 0x0a000001, localReferenceIds: [] }); // null
 * ```
 */
export function unfitReason(source: {
  readonly noselect: boolean;
  readonly demobilised: boolean;
  readonly hasSample: boolean;
  readonly reach: number;
  readonly stratum: number;
  readonly rootDistanceSeconds: number;
  readonly pollLog2: number;
  readonly referenceId: number;
  readonly localReferenceIds: readonly number[];
}): UnfitReason | null {
  if (source.noselect) return "noselect";
  if (source.demobilised) return "demobilised";
  if (!source.hasSample) return "noSample";
  if (source.reach === 0) return "unreachable";
  if (source.stratum >= MAX_STRATUM || source.stratum < 1) return "stratum";
  const limit = MAX_DISTANCE_SECONDS + PHI_SECONDS_PER_SECOND * Math.pow(2, source.pollLog2);
  if (source.rootDistanceSeconds > limit) return "distance";
  if (source.localReferenceIds.includes(source.referenceId)) return "loop";
  return null;
}
