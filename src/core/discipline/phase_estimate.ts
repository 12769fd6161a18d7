// The discipline's estimator: a weighted straight-line fit of the uncorrected clock's phase, blended with a frequency prior.
import { MAX_FREQUENCY_PPM } from "./ntp_constants.ts";
import { fitRecentLine, type LineFit } from "./regression.ts";

/** One sample of the uncorrected clock's phase (offset + cumulative correction). */
export interface PhaseSample {
  /** The association it came from. */
  readonly sourceId: number;
  /** Monotonic time of the sample, seconds. */
  readonly monotonicSeconds: number;
  /** Offset plus the cumulative correction at that time, seconds. */
  readonly phaseSeconds: number;
  /** Round-trip delay, seconds. */
  readonly delaySeconds: number;
  /** The smallest delay its source had seen when it arrived (clock filter), seconds. */
  readonly minDelaySeconds: number;
}

/** What is known about the frequency before the samples: the drift file, or nothing much. */
export interface FrequencyPrior {
  /** ppm. */
  readonly frequencyPpm: number;
  /** ppm^2. */
  readonly variancePpm2: number;
}

/** The estimate from a set of samples. */
export interface PhaseEstimate {
  readonly fit: LineFit;
  /** Span of the samples used when the runs test dropped older ones, else null, seconds. */
  readonly stableSpanSeconds: number | null;
  /** Frequency correction (the fitted slope blended with the prior), within +-500 ppm. */
  readonly frequencyPpm: number;
  /** Its standard error, ppm. */
  readonly frequencyErrorPpm: number;
  /** The fitted phase at a monotonic time, seconds. */
  readonly phaseAt: (monotonicSeconds: number) => number;
}

/** The runs test never cuts the history below this many samples. */
const minRegressionPoints = 8;

/**
 * Clamps a frequency to the +-500 ppm every driver accepts.
 *
 * @example
 * ```ts
 * clampFrequencyPpm(812); // 500
 * ```
 */
export function clampFrequencyPpm(freqPpm: number): number {
  return Math.max(-MAX_FREQUENCY_PPM, Math.min(MAX_FREQUENCY_PPM, freqPpm));
}

/**
 * Weight of each sample: 1 / sigma^2 with sigma = noise floor + (delay - the source's smallest
 * delay anywhere in `history`) / 2, the bound on the error queueing adds; a source's first
 * samples are judged again once its minimum delay is known.
 */
function weights(
  samples: readonly PhaseSample[],
  history: readonly PhaseSample[],
  noiseFloorSeconds: number,
): number[] {
  const minDelay = new Map<number, number>();
  for (const p of history) {
    minDelay.set(p.sourceId, Math.min(minDelay.get(p.sourceId) ?? Infinity, p.minDelaySeconds));
  }
  return samples.map((p) => {
    const excess = Math.max(0, p.delaySeconds - (minDelay.get(p.sourceId) ?? p.minDelaySeconds));
    return 1 / (noiseFloorSeconds + excess / 2) ** 2;
  });
}

/**
 * Fits the longest recent run of `samples` (time order) that passes the runs test, and blends
 * the slope with `prior` by inverse variance. The slope of the uncorrected phase is the
 * frequency correction the clock needs (a clock running fast has a falling phase). Returns null
 * for no samples.
 *
 * @param options.history Every sample kept (for each source's minimum delay).
 * @param options.noiseFloorSeconds Noise of a minimum-delay sample.
 * @example
 * ```ts
 * const est = estimatePhase(samples, { history: samples, noiseFloorSeconds: 5e-6,
 *   prior: { frequencyPpm: 0, variancePpm2: 1e6 } });
 * est?.frequencyPpm;
 * ```
 */
export function estimatePhase(
  samples: readonly PhaseSample[],
  options: {
    readonly history: readonly PhaseSample[];
    readonly noiseFloorSeconds: number;
    readonly prior: FrequencyPrior;
  },
): PhaseEstimate | null {
  const w = weights(samples, options.history, options.noiseFloorSeconds);
  const best = fitRecentLine(
    samples.map((p, i) => ({ x: p.monotonicSeconds, y: p.phaseSeconds, weight: w[i] as number })),
    { minPoints: minRegressionPoints },
  );
  if (best === null) return null;
  const { fit } = best;
  const first = samples[best.firstIndex];
  const last = samples.at(-1);
  const stableSpanSeconds = best.firstIndex > 0 && first !== undefined && last !== undefined
    ? last.monotonicSeconds - first.monotonicSeconds
    : null;
  const prior = options.prior;
  const slopeVariancePpm2 = fit.slopeVariance * 1e12;
  const precision = 1 / prior.variancePpm2 + 1 / slopeVariancePpm2;
  const blended = Number.isFinite(slopeVariancePpm2)
    ? (prior.frequencyPpm / prior.variancePpm2 + (fit.slope * 1e6) / slopeVariancePpm2) / precision
    : prior.frequencyPpm;
  const frequencyPpm = clampFrequencyPpm(blended);
  return {
    fit,
    stableSpanSeconds,
    frequencyPpm,
    frequencyErrorPpm: Math.sqrt(1 / precision),
    phaseAt: (t) => fit.yMean + frequencyPpm * 1e-6 * (t - fit.xMean),
  };
}
