// The discipline's estimator: a weighted straight-line fit of the uncorrected clock's phase, a noise model learnt from its residuals, and a frequency prior the data may overrule.
//
// Noise model. A sample whose round trip took `excess` seconds more than its source's smallest
// delay had queueing of `excess` split between the two directions in an unknown way; its
// offset error is then (out - back) / 2, uniform in [-excess/2, +excess/2] for independent
// queueing (exponential or uniform), so its standard deviation is excess / (2 sqrt 3). On top
// comes a floor that does not depend on the delay (timestamping, relays, the smallest delay not
// yet seen): sigma^2 = floor^2 + (excess / (2 sqrt 3))^2. The floor is learnt from the
// residuals of the low-excess half of the samples (a moment estimate), never below the
// configured noise floor, so a jittery path is not mistaken for a precise one (a 5 us floor on a
// 2.5 +- 0.5 ms path made the fit trust one or two lucky samples and report a frequency good to
// 0.1 ppm that was 70 ppm wrong). With fewer than `minRegressionPoints` samples the residuals say
// too little; the floor is then at least c * (the smallest delay), as if all of the delay could
// be jitter.
//
// Prior. The drift file (or the frequency before a detected change) is blended with the fitted
// slope by inverse variance, as long as the two agree within `priorRejectSigmas` combined
// standard errors. When they do not (judged from `minRegressionPoints` points on), the data win
// and the prior is reported as contradicted (the discipline then forgets it for good): a stale
// drift file costs a few polls, not minutes.
import { MAX_FREQUENCY_PPM } from "./ntp_constants.ts";
import { fitRecentLine, type LineFit, type RegressionPoint } from "./regression.ts";

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
  /** How many sources the samples in that span came from (0 with no span). */
  readonly stableSourceCount: number;
  /** Frequency correction (the fitted slope blended with the prior), within +-500 ppm. */
  readonly frequencyPpm: number;
  /** Its standard error, ppm. */
  readonly frequencyErrorPpm: number;
  /** The fitted slope alone, ppm, and its standard error (Infinity when undetermined). */
  readonly measuredFrequencyPpm: number;
  readonly measuredFrequencyErrorPpm: number;
  /** True when the samples disagree with the prior beyond `priorRejectSigmas`: it was not used. */
  readonly priorContradicted: boolean;
  /** The noise floor the weights used (learnt from the residuals), seconds. */
  readonly noiseFloorSeconds: number;
  /** Samples used (after the runs test). */
  readonly count: number;
  /** The fitted phase at a monotonic time, seconds. */
  readonly phaseAt: (monotonicSeconds: number) => number;
  /** Standard error of phaseAt(t), seconds: the mean's error plus the frequency's, extrapolated. */
  readonly phaseErrorAt: (monotonicSeconds: number) => number;
  /** The standard deviation the noise model gives a sample, seconds. */
  readonly sampleSigma: (sample: PhaseSample) => number;
}

/** The runs test never cuts the history below this many samples; fewer give no noise estimate. */
export const minRegressionPoints = 8;

/** Standard errors by which the data must disagree with a prior to overrule it. */
export const priorRejectSigmas = 3;

/** Offset error per second of queueing excess: excess / 2 spread uniformly, sd = 1 / (2 sqrt 3). */
const excessToSigma = 1 / (2 * Math.sqrt(3));

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
 * The delay each source's samples are measured against, seconds: the smallest delay among the
 * source's samples (the history and the new ones). A sample's excess over it is its queueing
 * delay, which sets its noise. (An order-statistics correction, the smallest minus the gap to
 * the second smallest, was tried: on the simulated WAN paths it made the frequency's standard
 * error less honest, so the plain minimum stays.)
 */
function baseDelays(samples: readonly PhaseSample[]): Map<number, number> {
  const base = new Map<number, number>();
  for (const p of samples) {
    base.set(p.sourceId, Math.min(base.get(p.sourceId) ?? Infinity, p.delaySeconds));
  }
  return base;
}

/** Each sample's delay beyond its source's base delay (see {@link baseDelays}), seconds. */
function excessDelays(
  samples: readonly PhaseSample[],
  history: readonly PhaseSample[],
): { excess: number[]; smallestDelaySeconds: number } {
  const base = baseDelays([...history, ...samples]);
  const excess = samples.map((p) => Math.max(0, p.delaySeconds - (base.get(p.sourceId) ?? 0)));
  const smallest = Math.min(...base.values());
  return { excess, smallestDelaySeconds: Number.isFinite(smallest) ? smallest : 0 };
}

function sigmaOf(excess: number, floorSeconds: number): number {
  return Math.hypot(floorSeconds, excessToSigma * excess);
}

/**
 * The floor the residuals of the low-excess half imply: mean(r^2 - (c excess)^2), corrected for
 * the two fitted parameters. Null when too few samples say anything.
 */
function learntFloor(
  samples: readonly PhaseSample[],
  excess: readonly number[],
  fit: LineFit,
  firstIndex: number,
): number | null {
  const used: { r: number; e: number }[] = [];
  for (let i = firstIndex; i < samples.length; i++) {
    const p = samples[i] as PhaseSample;
    const r = p.phaseSeconds - fit.yMean - fit.slope * (p.monotonicSeconds - fit.xMean);
    used.push({ r, e: excess[i] as number });
  }
  if (used.length < minRegressionPoints) return null;
  const sorted = used.map((u) => u.e).sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  const low = used.filter((u) => u.e <= median);
  let sum = 0;
  for (const u of low) sum += u.r * u.r - (excessToSigma * u.e) ** 2;
  const n = used.length;
  const meanSquare = (sum / low.length) * (n / (n - 2));
  return Math.sqrt(Math.max(0, meanSquare));
}

function fitWith(
  samples: readonly PhaseSample[],
  excess: readonly number[],
  floorSeconds: number,
) {
  const points: RegressionPoint[] = samples.map((p, i) => ({
    x: p.monotonicSeconds,
    y: p.phaseSeconds,
    weight: 1 / sigmaOf(excess[i] as number, floorSeconds) ** 2,
  }));
  return fitRecentLine(points, { minPoints: minRegressionPoints });
}

/**
 * Fits the longest recent run of `samples` (time order) that passes the runs test, with weights
 * from the noise model in the file header, and blends the slope with `prior` unless the data
 * contradict it. The slope of the uncorrected phase is the frequency correction the clock needs
 * (a clock running fast has a falling phase). Returns null for no samples.
 *
 * @param options.history Every sample kept (for each source's minimum delay).
 * @param options.noiseFloorSeconds The smallest noise floor the model may learn, seconds.
 * @example
 * ```ts
 * const samples = [0, 16, 32, 48, 64, 80, 96, 112].map((t) => ({ sourceId: 1,
 *   monotonicSeconds: t, phaseSeconds: 20e-6 * t, delaySeconds: 1e-4, minDelaySeconds: 1e-4 }));
 * const est = estimatePhase(samples, { history: samples, noiseFloorSeconds: 5e-6,
 *   prior: { frequencyPpm: 0, variancePpm2: 1e6 } });
 * est?.frequencyPpm; // 20
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
  if (samples.length === 0) return null;
  const { excess, smallestDelaySeconds } = excessDelays(samples, options.history);
  const minimum = options.noiseFloorSeconds;
  const few = samples.length < minRegressionPoints;
  let floor = few ? Math.max(minimum, excessToSigma * smallestDelaySeconds) : minimum;
  let best = fitWith(samples, excess, floor);
  for (let pass = 0; pass < 4 && best !== null && !few; pass++) {
    const learnt = learntFloor(samples, excess, best.fit, best.firstIndex);
    if (learnt === null) break;
    const next = Math.max(minimum, learnt);
    if (Math.abs(next - floor) <= 0.05 * floor) break;
    floor = next;
    best = fitWith(samples, excess, floor);
  }
  if (best === null) return null;
  const { fit } = best;
  const first = samples[best.firstIndex];
  const last = samples.at(-1);
  const stableSpanSeconds = best.firstIndex > 0 && first !== undefined && last !== undefined
    ? last.monotonicSeconds - first.monotonicSeconds
    : null;
  const stableSourceCount = stableSpanSeconds === null
    ? 0
    : new Set(samples.slice(best.firstIndex).map((p) => p.sourceId)).size;
  const prior = options.prior;
  const measuredPpm = fit.slope * 1e6;
  const slopeVariancePpm2 = fit.slopeVariance * 1e12;
  const determined = Number.isFinite(slopeVariancePpm2);
  const disagreement = (measuredPpm - prior.frequencyPpm) ** 2 /
    (slopeVariancePpm2 + prior.variancePpm2);
  const priorContradicted = determined && fit.count >= minRegressionPoints &&
    disagreement > priorRejectSigmas ** 2;
  let frequencyPpm: number;
  let variancePpm2: number;
  if (!determined) {
    frequencyPpm = prior.frequencyPpm;
    variancePpm2 = prior.variancePpm2;
  } else if (priorContradicted) {
    frequencyPpm = measuredPpm;
    variancePpm2 = slopeVariancePpm2;
  } else {
    const precision = 1 / prior.variancePpm2 + 1 / slopeVariancePpm2;
    frequencyPpm = (prior.frequencyPpm / prior.variancePpm2 + measuredPpm / slopeVariancePpm2) /
      precision;
    variancePpm2 = 1 / precision;
  }
  frequencyPpm = clampFrequencyPpm(frequencyPpm);
  const frequencyVariance = variancePpm2 * 1e-12;
  return {
    fit,
    stableSpanSeconds,
    stableSourceCount,
    frequencyPpm,
    frequencyErrorPpm: Math.sqrt(variancePpm2),
    measuredFrequencyPpm: measuredPpm,
    measuredFrequencyErrorPpm: Math.sqrt(slopeVariancePpm2),
    priorContradicted,
    noiseFloorSeconds: floor,
    count: fit.count,
    phaseAt: (t) => fit.yMean + frequencyPpm * 1e-6 * (t - fit.xMean),
    phaseErrorAt: (t) => Math.sqrt(fit.yMeanVariance + frequencyVariance * (t - fit.xMean) ** 2),
    sampleSigma: (sample) => {
      const base = baseDelays([...options.history, sample]).get(sample.sourceId) ?? 0;
      return sigmaOf(Math.max(0, sample.delaySeconds - base), floor);
    },
  };
}
