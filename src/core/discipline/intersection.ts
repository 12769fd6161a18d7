// The intersection ("select") algorithm of RFC 5905 §11.2.1 in ntpd 4.2.8's form (Marzullo's algorithm): truechimers versus falsetickers.

/** A source's correctness interval: offset +- root distance. */
export interface SourceInterval {
  readonly id: number;
  /** Offset, seconds (positive: local clock behind). */
  readonly offsetSeconds: number;
  /** Root distance, seconds (> 0): the half width of the interval. */
  readonly rootDistanceSeconds: number;
}

/** The outcome: the intersection interval and who lies in it, or no majority. */
export type IntersectionResult =
  | {
    readonly majority: true;
    /** Lower end of the intersection interval, seconds. */
    readonly lowSeconds: number;
    /** Upper end, seconds (>= lowSeconds). */
    readonly highSeconds: number;
    /** Falsetickers assumed by the final round (RFC 5905's "allow"); n - allow intervals cover [low, high]. */
    readonly allowedFalsetickers: number;
    /** Sources whose interval overlaps [low, high], in input order. */
    readonly truechimers: readonly number[];
    /** The others, in input order. */
    readonly falsetickers: readonly number[];
  }
  | { readonly majority: false };

interface Endpoint {
  readonly value: number;
  /** -1 lower edge, +1 upper edge (RFC 5905's types). */
  readonly type: -1 | 1;
}

/**
 * Marzullo's algorithm as ntpd 4.2.8 runs it: for allow = 0, 1, ... while allow < n/2, scan the
 * sorted interval edges up for the first point covered by n - allow intervals (low) and down for
 * the last (high); stop at the first allow with low <= high. Sources whose interval overlaps
 * [low, high] are truechimers; with no majority there are none. Edges that touch count as
 * overlapping (closed intervals). RFC 5905's extra rule (also count the midpoints outside the
 * interval and require no more than allow of them) is left out, as ntpd 4.2.8 left it out: it
 * rejects two overlapping sources whose offsets lie outside each other's overlap.
 *
 * @example
 * ```ts
 * intersect([
 *   { id: 1, offsetSeconds: 0.001, rootDistanceSeconds: 0.01 },
 *   { id: 2, offsetSeconds: 0.002, rootDistanceSeconds: 0.01 },
 *   { id: 3, offsetSeconds: 1.0, rootDistanceSeconds: 0.01 },
 * ]); // majority, truechimers [1, 2], falsetickers [3]
 * ```
 */
export function intersect(sources: readonly SourceInterval[]): IntersectionResult {
  const n = sources.length;
  if (n === 0) return { majority: false };
  const endpoints: Endpoint[] = [];
  for (const s of sources) {
    endpoints.push({ value: s.offsetSeconds - s.rootDistanceSeconds, type: -1 });
    endpoints.push({ value: s.offsetSeconds + s.rootDistanceSeconds, type: 1 });
  }
  endpoints.sort((a, b) => a.value - b.value || a.type - b.type);

  for (let allow = 0; 2 * allow < n; allow++) {
    let chime = 0;
    let low = Infinity;
    for (const e of endpoints) {
      chime -= e.type;
      if (chime >= n - allow) {
        low = e.value;
        break;
      }
    }
    chime = 0;
    let high = -Infinity;
    for (let i = endpoints.length - 1; i >= 0; i--) {
      const e = endpoints[i] as Endpoint;
      chime += e.type;
      if (chime >= n - allow) {
        high = e.value;
        break;
      }
    }
    if (high >= low) {
      const truechimers: number[] = [];
      const falsetickers: number[] = [];
      for (const s of sources) {
        const overlaps = s.offsetSeconds + s.rootDistanceSeconds >= low &&
          s.offsetSeconds - s.rootDistanceSeconds <= high;
        (overlaps ? truechimers : falsetickers).push(s.id);
      }
      return {
        majority: true,
        lowSeconds: low,
        highSeconds: high,
        allowedFalsetickers: allow,
        truechimers,
        falsetickers,
      };
    }
  }
  return { majority: false };
}
