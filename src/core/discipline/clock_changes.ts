// Sudden changes: how far a sample lies from the fit (outliers), and the change of the clock itself that a run of them from several sources proves.
import { errorScale } from "./discipline_bounds.ts";
import {
  contributorPoints,
  type DisciplinePoint,
  type DisciplineState,
  fitPoints,
  isContributor,
} from "./discipline_state.ts";
import { minRegressionPoints } from "./phase_estimate.ts";

/** Normalised residual beyond which a sample is an outlier (and, in a row, a change). */
export const OUTLIER_SIGMAS = 5;
/**
 * Newest points, from two sources or more, that must all be outliers on one side for a sudden
 * change (one more when a single source is used).
 */
export const CHANGE_SAMPLES = 3;
/** Weight of each new sample in the running mean {@link DisciplineState.predictionScale2}. */
export const PREDICTION_SCALE_GAIN = 0.1;
/**
 * Prior standard deviation of the frequency after a detected change, ppm, centred on the
 * frequency before it: the few points since the change say little at first, and a slope from
 * two of them a second apart must not be applied as it is.
 */
export const CHANGE_PRIOR_STDDEV_PPM = 50;

/**
 * How far `trigger` lies from the contributors' fit of the other points, in (scaled) standard
 * errors of its own noise plus the fit's error: positive when it lies above. Null while the fit
 * has fewer than minRegressionPoints points.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings, type DisciplinePoint } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * const point: DisciplinePoint = { sourceId: 1, monotonicSeconds: 0, phaseSeconds: 0,
 *   delaySeconds: 1e-4, minDelaySeconds: 1e-4, spike: false, outlier: false };
 * predictionZ(state, point, [1]); // null: no history yet
 * ```
 */
export function predictionZ(
  state: DisciplineState,
  trigger: DisciplinePoint,
  contributorIds: readonly number[],
): number | null {
  const others = contributorPoints(state, contributorIds).filter((p) => p !== trigger);
  if (others.length < minRegressionPoints) return null;
  const fit = fitPoints(state, others);
  if (fit === null || fit.count < minRegressionPoints) return null;
  const t = trigger.monotonicSeconds;
  const sigma = Math.hypot(fit.sampleSigma(trigger), fit.phaseErrorAt(t)) * errorScale(state);
  return (trigger.phaseSeconds - fit.phaseAt(t)) / sigma;
}

/**
 * A sudden change of the clock (see the file header), or null: the newest CHANGE_SAMPLES points
 * of candidate sources (outliers included; CHANGE_SAMPLES + 1 when only one source is a
 * candidate), from two sources or more when there are several, all beyond OUTLIER_SIGMAS on one
 * side of the contributors' fit of the points before them. The state it returns has the
 * history cut and the prior set; `residualSeconds` is the newest point's distance from the old
 * fit.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * detectChange(state, [1, 2], []); // null: nothing to judge
 * ```
 */
export function detectChange(
  state: DisciplineState,
  contributorIds: readonly number[],
  candidateIds: readonly number[],
): { state: DisciplineState; residualSeconds: number } | null {
  const several = new Set([...contributorIds, ...candidateIds]).size > 1;
  const needed = several ? CHANGE_SAMPLES : CHANGE_SAMPLES + 1;
  const candidates = state.points.filter((p) =>
    !p.spike && (isContributor(p, contributorIds) || candidateIds.includes(p.sourceId))
  );
  if (candidates.length < minRegressionPoints + needed) return null;
  const recent = candidates.slice(-needed);
  const first = recent[0] as DisciplinePoint;
  const older = state.points.filter((p) =>
    p.monotonicSeconds < first.monotonicSeconds && !p.spike && !p.outlier &&
    isContributor(p, contributorIds)
  );
  if (several && new Set(recent.map((p) => p.sourceId)).size < 2) return null;
  const fit = fitPoints(state, older);
  const last = older.at(-1);
  if (fit === null || fit.count < minRegressionPoints || last === undefined) return null;
  const scale = errorScale(state);
  const zOf = (p: DisciplinePoint) =>
    (p.phaseSeconds - fit.phaseAt(p.monotonicSeconds)) /
    (Math.hypot(fit.sampleSigma(p), fit.phaseErrorAt(p.monotonicSeconds)) * scale);
  const z = recent.map(zOf);
  if (!z.every((v) => v > OUTLIER_SIGMAS) && !z.every((v) => v < -OUTLIER_SIGMAS)) return null;
  // Jumps beyond the step threshold are the spike and stepout rules' business.
  const threshold = state.settings.stepThresholdSeconds;
  if (
    threshold > 0 &&
    recent.some((p) => Math.abs(p.phaseSeconds - fit.phaseAt(p.monotonicSeconds)) > threshold)
  ) {
    return null;
  }
  // Each source must have agreed with the fit before (its previous point within the bound): a
  // source that was always off (a biased path the cluster algorithm pruned) signals no change.
  const agreedBefore = recent.every((p) => {
    const previous = candidates.findLast((q) =>
      q.sourceId === p.sourceId && q.monotonicSeconds < first.monotonicSeconds
    );
    return previous !== undefined && Math.abs(zOf(previous)) <= OUTLIER_SIGMAS;
  });
  if (!agreedBefore) return null;
  // The history is cut to the points since the change and the frequency before it becomes a
  // prior of CHANGE_PRIOR_STDDEV_PPM, so the phase follows at once and the slope as soon as the
  // new points span enough time (whether the frequency or the phase changed, or both).
  const residuals = recent.map((p) => p.phaseSeconds - fit.phaseAt(p.monotonicSeconds));
  const kept = state.points
    .filter((p) => p.monotonicSeconds >= first.monotonicSeconds)
    .map((p) => (recent.includes(p) ? { ...p, outlier: false } : p));
  return {
    state: {
      ...state,
      points: kept,
      priorFrequencyPpm: state.frequencyPpm,
      priorVariancePpm2: Math.max(CHANGE_PRIOR_STDDEV_PPM ** 2, state.frequencyErrorPpm ** 2),
      priorOrigin: "previousEstimate",
      suspectSinceMonotonicSeconds: null,
      changeCount: state.changeCount + 1,
    },
    residualSeconds: residuals.at(-1) as number,
  };
}
