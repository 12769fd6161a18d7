// Leap smearing for private networks (NTPsec's leapsmearinterval): instead of stepping, the time served on a smearing listener runs slow (or fast) by one second spread linearly over the interval that ends at the leap, and the leap itself is never announced there.

/** The longest smear: a leap is known (announced) at most a day ahead. */
export const MAX_LEAP_SMEAR_SECONDS = 86_400;

/**
 * A smear in force, as the responders apply it to the served time `t` (Unix seconds):
 * 0 before `startUnixSeconds`, then `stepSeconds`·(t − start)/(leap − start) up to the leap, and
 * `stepSeconds` from the leap until the clock has executed it (the daemon then withdraws the
 * smear, in the same publication as the step). While `executing`, the clock is being stepped:
 * a reading at or past the leap is unstepped (`stepSeconds`), one before it is stepped (0).
 */
export interface LeapSmear {
  /** Where the smear begins: the leap less the configured interval, Unix seconds. */
  readonly startUnixSeconds: number;
  /** The discontinuity: midnight for an insertion, the start of 23:59:59 for a deletion. */
  readonly leapUnixSeconds: number;
  /** −1 for an insertion (the served time falls one second behind), +1 for a deletion. */
  readonly stepSeconds: -1 | 1;
  /** The clock is being stepped: readings may be from before or after the step. */
  readonly executing: boolean;
}

/** A leap second a clock has armed: its moment, insertion (1) or deletion (2), and whether the step is under way. */
export interface ArmedLeap {
  readonly leapUnixSeconds: number;
  readonly kind: 1 | 2;
  readonly executing: boolean;
}

/**
 * The smear over `intervalSeconds` for the leap the clock has armed (null when none is armed or
 * the interval is 0).
 *
 * @example
 * ```ts
 * const leap = Date.UTC(2027, 6, 1) / 1000;
 * const smear = leapSmearFor({ leapUnixSeconds: leap, kind: 1, executing: false }, 7200);
 * smear?.startUnixSeconds === leap - 7200; // true
 * smear?.stepSeconds; // -1
 * ```
 */
export function leapSmearFor(armed: ArmedLeap | null, intervalSeconds: number): LeapSmear | null {
  if (armed === null || intervalSeconds <= 0) return null;
  return {
    startUnixSeconds: armed.leapUnixSeconds - intervalSeconds,
    leapUnixSeconds: armed.leapUnixSeconds,
    stepSeconds: armed.kind === 1 ? -1 : 1,
    executing: armed.executing,
  };
}

/**
 * Seconds to add to the served time `unixSeconds` on a smearing listener.
 *
 * @example
 * ```ts
 * const leap = Date.UTC(2027, 6, 1) / 1000;
 * const smear = { startUnixSeconds: leap - 100, leapUnixSeconds: leap, stepSeconds: -1, executing: false } as const;
 * smearOffsetSeconds(leap - 150, smear); // 0
 * smearOffsetSeconds(leap - 50, smear); // -0.5
 * smearOffsetSeconds(leap + 0.01, smear); // -1 (the clock has not stepped yet)
 * smearOffsetSeconds(leap - 0.5, { ...smear, executing: true }); // 0 (already stepped)
 * smearOffsetSeconds(leap + 0.5, { ...smear, executing: true }); // -1 (not yet)
 * ```
 */
export function smearOffsetSeconds(unixSeconds: number, smear: LeapSmear | null): number {
  if (smear === null) return 0;
  if (smear.executing) {
    // Unstepped readings lie in the second after the leap; stepped ones before it (insertion,
    // the clock went back) or a second further on (deletion, the clock went forward).
    const after = unixSeconds - smear.leapUnixSeconds;
    return after >= 0 && after < 1 ? smear.stepSeconds : 0;
  }
  if (unixSeconds >= smear.leapUnixSeconds) return smear.stepSeconds;
  if (unixSeconds <= smear.startUnixSeconds) return 0;
  const length = smear.leapUnixSeconds - smear.startUnixSeconds;
  return (smear.stepSeconds * (unixSeconds - smear.startUnixSeconds)) / length;
}
