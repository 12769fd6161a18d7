// The combine algorithm of RFC 5905 §11.2.3: survivors' offsets averaged with weights 1 / root distance.

/** A survivor's contribution. */
export interface CombineInput {
  /** Offset, seconds. */
  readonly offsetSeconds: number;
  /** Root distance, seconds (> 0). */
  readonly rootDistanceSeconds: number;
}

/** The combined system offset and the survivors' spread around the system peer. */
export interface CombineResult {
  /** Weighted mean offset, seconds. */
  readonly offsetSeconds: number;
  /** Weighted RMS of the offsets' differences from the system peer's, seconds. */
  readonly jitterSeconds: number;
}

/**
 * Weighted average of the survivors' offsets (weight 1 / root distance) and the weighted RMS
 * difference from the system peer's offset (RFC 5905 A.5.5.4). `systemPeerOffsetSeconds` is the
 * offset of the system peer (normally the first survivor).
 *
 * @throws {RangeError} When `survivors` is empty.
 * @example
 * ```ts
 * combine([{ offsetSeconds: 0.001, rootDistanceSeconds: 0.01 }], { systemPeerOffsetSeconds: 0.001 });
 * // { offsetSeconds: 0.001, jitterSeconds: 0 }
 * ```
 */
export function combine(
  survivors: readonly CombineInput[],
  options: { readonly systemPeerOffsetSeconds: number },
): CombineResult {
  if (survivors.length === 0) throw new RangeError("Cannot combine offsets: no survivors");
  let weights = 0;
  let weightedOffset = 0;
  let weightedSquares = 0;
  for (const s of survivors) {
    const weight = 1 / s.rootDistanceSeconds;
    weights += weight;
    weightedOffset += s.offsetSeconds * weight;
    weightedSquares += (s.offsetSeconds - options.systemPeerOffsetSeconds) ** 2 * weight;
  }
  return {
    offsetSeconds: weightedOffset / weights,
    jitterSeconds: Math.sqrt(weightedSquares / weights),
  };
}
