// Poll interval exponents (log2 seconds): limits and conversions.

/** Smallest poll exponent any client uses (chrony allows minpoll -6, 1/64 s). */
export const MIN_POLL_LOG2 = -6;

/** Largest poll exponent RFC 5905 allows (MAXPOLL 17, about 36 h). */
export const MAX_POLL_LOG2 = 17;

/**
 * Clamps a poll exponent into [{@link MIN_POLL_LOG2}, {@link MAX_POLL_LOG2}] (integers only;
 * a non-integer is truncated toward zero).
 *
 * @example
 * ```ts
 * clampPollLog2(-100); // -6
 * ```
 */
export function clampPollLog2(pollLog2: number): number {
  const whole = Math.trunc(pollLog2);
  if (!(whole >= MIN_POLL_LOG2)) return MIN_POLL_LOG2;
  return whole > MAX_POLL_LOG2 ? MAX_POLL_LOG2 : whole;
}

/**
 * Poll interval in seconds for an exponent (2^pollLog2).
 *
 * @example
 * ```ts
 * pollSeconds(6); // 64
 * ```
 */
export function pollSeconds(pollLog2: number): number {
  return Math.pow(2, pollLog2);
}
