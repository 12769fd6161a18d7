// The simulated network: per-link one-way delays with exponential jitter, asymmetry, random loss and outages.
import type { SimRandom } from "./random.ts";

/** How one client-server path behaves. */
export interface LinkOptions {
  /** Fixed one-way delay in each direction, seconds (default 100 us). */
  readonly delaySeconds?: number;
  /** Mean of the exponential queueing delay added to each packet, seconds (default 0). */
  readonly jitterMeanSeconds?: number;
  /** Extra fixed delay on the way to the server only, seconds (default 0). */
  readonly asymmetrySeconds?: number;
  /** Probability that a packet (either direction) is lost (default 0). */
  readonly lossProbability?: number;
  /** True-time intervals during which every packet is lost. */
  readonly outages?: readonly { readonly fromSeconds: number; readonly toSeconds: number }[];
}

/** One path; each call draws the fate of one packet. */
export interface SimLink {
  /** Delay to the server for a packet sent at true time `atSeconds`, or null when it is lost. */
  outbound(atSeconds: number): number | null;
  /** Delay back to the client, or null when it is lost. */
  inbound(atSeconds: number): number | null;
}

/**
 * A link drawing from `random`.
 *
 * @example
 * ```ts
 * const link = createLink({ delaySeconds: 1e-4, jitterMeanSeconds: 2e-5 }, createRandom(1));
 * link.outbound(0); // about 1.2e-4
 * ```
 */
export function createLink(options: LinkOptions, random: SimRandom): SimLink {
  const base = options.delaySeconds ?? 100e-6;
  const jitter = options.jitterMeanSeconds ?? 0;
  const loss = options.lossProbability ?? 0;
  const outages = options.outages ?? [];
  const fate = (at: number, extra: number): number | null => {
    const lost = random.uniform() < loss;
    const delay = base + extra + random.exponential(jitter);
    if (lost || outages.some((o) => at >= o.fromSeconds && at < o.toSeconds)) return null;
    return delay;
  };
  return {
    outbound: (at) => fate(at, options.asymmetrySeconds ?? 0),
    inbound: (at) => fate(at, 0),
  };
}
