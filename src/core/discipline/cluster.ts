// The cluster algorithm of RFC 5905 §11.2.2: prune the truechimer with the largest selection jitter until the rest agree.

/** A truechimer as the cluster algorithm sees it. */
export interface ClusterCandidate {
  readonly id: number;
  /** Offset, seconds. */
  readonly offsetSeconds: number;
  /** Peer jitter, seconds. */
  readonly jitterSeconds: number;
  /** A prefer peer is never pruned (it has "the immunity idol"). */
  readonly prefer: boolean;
}

/** Survivors and outliers, each in input order. */
export interface ClusterResult {
  readonly survivors: readonly number[];
  readonly outliers: readonly number[];
}

/** Selection jitter of `i`: RMS of the other offsets' differences from its offset (n - 1 in the mean). */
function selectionJitter(candidates: readonly ClusterCandidate[], i: number): number {
  const own = (candidates[i] as ClusterCandidate).offsetSeconds;
  let sum = 0;
  for (const c of candidates) sum += (c.offsetSeconds - own) ** 2;
  return Math.sqrt(sum / (candidates.length - 1));
}

/**
 * Repeatedly discards the candidate with the largest selection jitter while more than `minClock`
 * remain and that jitter exceeds the smallest peer jitter among them (RFC 5905 A.5.5.3). Stops
 * rather than discard a prefer peer. Ties go to the later candidate in input order, which callers
 * sort by increasing metric (so the worse source goes first).
 *
 * @param options.minClock ntp.conf `tos minclock`, the fewest survivors kept (>= 1).
 * @param options.precisionLog2 Local precision; selection jitter below it counts as equal to it.
 * @example
 * ```ts
 * const truechimers = [
 *   { id: 1, offsetSeconds: 0.001, jitterSeconds: 1e-4, prefer: false },
 *   { id: 2, offsetSeconds: 0.0012, jitterSeconds: 1e-4, prefer: false },
 *   { id: 3, offsetSeconds: 0.0009, jitterSeconds: 2e-4, prefer: false },
 *   { id: 4, offsetSeconds: 0.02, jitterSeconds: 1e-4, prefer: false },
 * ];
 * cluster(truechimers, { minClock: 3, precisionLog2: -20 }).survivors; // [1, 2, 3] (4 is an outlier)
 * ```
 */
export function cluster(
  candidates: readonly ClusterCandidate[],
  options: { readonly minClock: number; readonly precisionLog2: number },
): ClusterResult {
  const precisionSeconds = Math.pow(2, options.precisionLog2);
  let current = [...candidates];
  const outliers = new Set<number>();
  while (current.length > Math.max(1, options.minClock)) {
    let worst = 0;
    let worstJitter = -Infinity;
    for (let i = 0; i < current.length; i++) {
      const jitter = selectionJitter(current, i);
      if (jitter >= worstJitter) {
        worstJitter = jitter;
        worst = i;
      }
    }
    const minPeerJitter = Math.min(...current.map((c) => c.jitterSeconds));
    const victim = current[worst] as ClusterCandidate;
    if (Math.max(worstJitter, precisionSeconds) <= minPeerJitter || victim.prefer) break;
    outliers.add(victim.id);
    current = current.filter((_, i) => i !== worst);
  }
  return {
    survivors: candidates.filter((c) => !outliers.has(c.id)).map((c) => c.id),
    outliers: candidates.filter((c) => outliers.has(c.id)).map((c) => c.id),
  };
}
