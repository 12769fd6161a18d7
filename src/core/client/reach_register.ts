// The 8-bit reachability register of RFC 5905 §13: shifted left at every poll, bit 0 set by a valid reply.

/** The register of a source never heard from. */
export const EMPTY_REACH = 0;

/**
 * Shifts the register at a poll: the oldest bit falls out, bit 0 starts as "no answer yet".
 *
 * @example
 * ```ts
 * shiftReach(0b1); // 0b10
 * ```
 */
export function shiftReach(reach: number): number {
  return (reach << 1) & 0xff;
}

/**
 * Marks the current poll as answered (sets bit 0).
 *
 * @example
 * ```ts
 * markReached(0b10); // 0b11
 * ```
 */
export function markReached(reach: number): number {
  return (reach | 1) & 0xff;
}

/**
 * True when one of the last three polls was answered; otherwise ntpd shifts a MAXDISP stage
 * into the clock filter at each poll.
 *
 * @example
 * ```ts
 * answeredRecently(0b1000); // false
 * ```
 */
export function answeredRecently(reach: number): boolean {
  return (reach & 0b111) !== 0;
}

/**
 * The register as ntpq prints it (octal, e.g. "377").
 *
 * @example
 * ```ts
 * formatReach(0xff); // "377"
 * ```
 */
export function formatReach(reach: number): string {
  return (reach & 0xff).toString(8);
}
