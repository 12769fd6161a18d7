// Weighted least-squares line fit with chrony's runs test for choosing how much history still fits a line.

/** One observation: y at x with weight 1 / sigma^2. */
export interface RegressionPoint {
  /** Abscissa (here: monotonic seconds). */
  readonly x: number;
  /** Ordinate (here: seconds of phase). */
  readonly y: number;
  /** 1 / variance of y, > 0. */
  readonly weight: number;
}

/** A fitted line y = yMean + slope * (x - xMean) and its uncertainty. */
export interface LineFit {
  /** Weighted mean of x. */
  readonly xMean: number;
  /** Weighted mean of y: the fit's value at xMean. */
  readonly yMean: number;
  /** dy/dx; 0 when it cannot be determined (one point, or all at the same x). */
  readonly slope: number;
  /** Variance of the slope (Infinity when undetermined). */
  readonly slopeVariance: number;
  /** Variance of yMean. */
  readonly yMeanVariance: number;
  /**
   * Reduced chi-square: sum(weight * residual^2) / (n - 2) for n > 2, else 1. Near 1 when the
   * weights describe the noise; the variances above are scaled by max(1, this).
   */
  readonly varianceScale: number;
  /** sqrt(sum(weight * residual^2) / sum(weight)): RMS residual, y units. */
  readonly rmsResidual: number;
  /** Points used. */
  readonly count: number;
}

/**
 * Fits a weighted least-squares line. Returns null for no points.
 *
 * @example
 * ```ts
 * fitLine([{ x: 0, y: 1, weight: 1 }, { x: 1, y: 3, weight: 1 }]); // slope 2, yMean 2, xMean 0.5
 * ```
 */
export function fitLine(points: readonly RegressionPoint[]): LineFit | null {
  const n = points.length;
  if (n === 0) return null;
  let sw = 0;
  let swx = 0;
  let swy = 0;
  for (const p of points) {
    sw += p.weight;
    swx += p.weight * p.x;
    swy += p.weight * p.y;
  }
  const xMean = swx / sw;
  const yMean = swy / sw;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += p.weight * (p.x - xMean) ** 2;
    sxy += p.weight * (p.x - xMean) * (p.y - yMean);
  }
  const determined = n >= 2 && sxx > 0;
  const slope = determined ? sxy / sxx : 0;
  let chi2 = 0;
  for (const p of points) chi2 += p.weight * (p.y - yMean - slope * (p.x - xMean)) ** 2;
  const varianceScale = n > 2 ? chi2 / (n - 2) : 1;
  const scale = Math.max(1, varianceScale);
  return {
    xMean,
    yMean,
    slope,
    slopeVariance: determined ? scale / sxx : Infinity,
    yMeanVariance: scale / sw,
    varianceScale,
    rmsResidual: Math.sqrt(chi2 / sw),
    count: n,
  };
}

/**
 * Number of runs (maximal groups of equal sign) in the residuals' signs; zeros count as positive.
 *
 * @example
 * ```ts
 * countRuns([1, 2, -1, -1, 3]); // 3
 * ```
 */
export function countRuns(residuals: readonly number[]): number {
  let runs = 0;
  let previous: boolean | null = null;
  for (const r of residuals) {
    const positive = r >= 0;
    if (positive !== previous) runs++;
    previous = positive;
  }
  return runs;
}

/** Fewest points the runs test judges; smaller sets always pass. */
const minPointsForRunsTest = 8;

/** One-sided critical z of the runs test (0.5 %): a good line is rarely rejected. */
const runsCriticalZ = 2.58;

/**
 * Wald-Wolfowitz runs test on residual signs in x order: false when there are too few runs for
 * random signs (the data curve away from a line, e.g. because the frequency wandered).
 *
 * @example
 * ```ts
 * runsTestPasses([1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1]); // true: 3 runs are not too few for 12 signs
 * runsTestPasses([1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1]); // false: 2 runs in 16
 * ```
 */
export function runsTestPasses(residuals: readonly number[]): boolean {
  const n = residuals.length;
  if (n < minPointsForRunsTest) return true;
  const positives = residuals.filter((r) => r >= 0).length;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return false;
  const product = 2 * positives * negatives;
  const mean = 1 + product / n;
  const variance = (product * (product - n)) / (n * n * (n - 1));
  return countRuns(residuals) >= mean - runsCriticalZ * Math.sqrt(variance);
}

/**
 * Fits the longest suffix (most recent points) of `points` (sorted by x) whose residuals pass
 * the runs test, dropping about an eighth of the oldest points per attempt and never going
 * below `minPoints`. Returns the fit and the index of the first point used; null for no points.
 *
 * @example
 * ```ts
 * import type { RegressionPoint } from "./regression.ts";
 * declare const points: readonly RegressionPoint[]; // sorted by x
 * const best = fitRecentLine(points, { minPoints: 8 });
 * best?.fit.slope;
 * ```
 */
export function fitRecentLine(
  points: readonly RegressionPoint[],
  options: { readonly minPoints: number },
): { readonly fit: LineFit; readonly firstIndex: number } | null {
  let first = 0;
  for (;;) {
    const used = points.slice(first);
    const fit = fitLine(used);
    if (fit === null) return null;
    const remaining = used.length;
    if (remaining <= options.minPoints) return { fit, firstIndex: first };
    const residuals = used.map((p) => p.y - fit.yMean - fit.slope * (p.x - fit.xMean));
    if (runsTestPasses(residuals)) return { fit, firstIndex: first };
    first = Math.min(
      points.length - options.minPoints,
      first + Math.max(1, Math.floor(remaining / 8)),
    );
  }
}
