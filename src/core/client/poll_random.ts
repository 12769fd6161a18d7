// The associations' seeded pseudo-random numbers (xorshift32): poll jitter and the spread of early requests, the same for every run with the same seed.

/**
 * The next state of a xorshift32 generator (never 0 for a non-zero state); divide by 2^32 for a
 * uniform number in [0, 1).
 *
 * @example
 * ```ts
 * const r = nextRandom(1); // 270369
 * r / 2 ** 32; // uniform in [0, 1)
 * ```
 */
export function nextRandom(x: number): number {
  let v = x >>> 0;
  v ^= v << 13;
  v >>>= 0;
  v ^= v >>> 17;
  v ^= v << 5;
  return v >>> 0;
}
