// The simulated network: per-link one-way delays with exponential or uniform jitter, delay spikes, asymmetry, random loss and outages.
import type { SimRandom } from "./random.ts";

/** How one client-server path behaves. */
export interface LinkOptions {
  /** Fixed one-way delay in each direction, seconds (default 100 us). */
  readonly delaySeconds?: number;
  /** Mean of the exponential queueing delay added to each packet, seconds (default 0). */
  readonly jitterMeanSeconds?: number;
  /** Width of a uniform random delay added to each packet, seconds: U(0, width) (default 0). */
  readonly jitterUniformSeconds?: number;
  /**
   * Delay spikes (bufferbloat): with this probability a packet going the way `spikeDirection`
   * says waits `spikeSeconds` more (default 0).
   */
  readonly spikeProbability?: number;
  /** Extra delay of a spike, seconds (default 50 ms). */
  readonly spikeSeconds?: number;
  /** Which way spikes happen (default "outbound": on the way to the server). */
  readonly spikeDirection?: "outbound" | "inbound" | "both";
  /** Extra fixed delay on the way to the server only, seconds (default 0). */
  readonly asymmetrySeconds?: number;
  /**
   * Width of a uniform random delay added on the way to the server only, seconds (default 0):
   * one-sided queueing, as an upload-saturated link has.
   */
  readonly outboundJitterUniformSeconds?: number;
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
  const uniformWidth = options.jitterUniformSeconds ?? 0;
  const loss = options.lossProbability ?? 0;
  const spikeProbability = options.spikeProbability ?? 0;
  const spikeSeconds = options.spikeSeconds ?? 0.05;
  const spikeDirection = options.spikeDirection ?? "outbound";
  const outages = options.outages ?? [];
  const outboundWidth = options.outboundJitterUniformSeconds ?? 0;
  const fate = (at: number, extra: number, way: "outbound" | "inbound"): number | null => {
    const lost = random.uniform() < loss;
    let delay = base + extra + random.exponential(jitter);
    if (uniformWidth > 0) delay += uniformWidth * random.uniform();
    if (way === "outbound" && outboundWidth > 0) delay += outboundWidth * random.uniform();
    if (
      spikeProbability > 0 && (spikeDirection === "both" || spikeDirection === way) &&
      random.uniform() < spikeProbability
    ) {
      delay += spikeSeconds;
    }
    if (lost || outages.some((o) => at >= o.fromSeconds && at < o.toSeconds)) return null;
    return delay;
  };
  return {
    outbound: (at) => fate(at, options.asymmetrySeconds ?? 0, "outbound"),
    inbound: (at) => fate(at, 0, "inbound"),
  };
}
