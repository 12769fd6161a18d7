// The discipline's state, settings, actions and events, and the reads of it the discipline's parts share: the correction so far, the points and their fit.
import { estimatePhase, type PhaseEstimate, type PhaseSample } from "./phase_estimate.ts";

/** Thresholds and time constants of the discipline (ntp.conf `tinker` plus startup rules). */
export interface DisciplineSettings {
  /** `tinker step`: offsets over this are stepped (after stepout), seconds; 0 = never step. */
  readonly stepThresholdSeconds: number;
  /** `tinker panic`: steps over this are refused, seconds; 0 = no limit. */
  readonly panicThresholdSeconds: number;
  /** `tinker stepout`: how long large offsets must persist before a step, seconds. */
  readonly stepoutSeconds: number;
  /**
   * Startup step rule: during the startup window, offsets over this by more than their
   * uncertainty (or over `stepThresholdSeconds`) are stepped, once, seconds.
   */
  readonly startupStepThresholdSeconds: number;
  /** Length of the startup window after the first clock update, seconds. */
  readonly startupWindowSeconds: number;
  /** ntpd -g: the first step may exceed the panic threshold. */
  readonly allowFirstStepBeyondPanic: boolean;
  /** Shortest time over which an offset is slewed, seconds. */
  readonly minSlewSeconds: number;
  /** Smallest noise the model may learn for a sample with the minimum delay, seconds. */
  readonly sampleNoiseFloorSeconds: number;
}

/** ntpd's defaults (step 128 ms, panic 1000 s, stepout 900 s) plus this discipline's startup rule. */
export const defaultDisciplineSettings: DisciplineSettings = Object.freeze({
  stepThresholdSeconds: 0.128,
  panicThresholdSeconds: 1000,
  stepoutSeconds: 900,
  startupStepThresholdSeconds: 0.001,
  startupWindowSeconds: 16,
  allowFirstStepBeyondPanic: false,
  minSlewSeconds: 16,
  sampleNoiseFloorSeconds: 5e-6,
});

/** One sample as the discipline keeps it. */
export interface DisciplinePoint extends PhaseSample {
  /** Ignored as a spike (set while in the spike state). */
  readonly spike: boolean;
  /** Kept out of the fit: it lay more than `outlierSigmas` from the fit of the others. */
  readonly outlier: boolean;
}

/** Where the discipline is in its state machine (see the file header). */
export type DisciplinePhase = "unset" | "startup" | "sync" | "spike" | "panic";

/** Where the frequency prior came from. */
export type PriorOrigin = "driftFile" | "previousEstimate" | "none";

/** The discipline's whole state; treat as opaque and read it through the functions here. */
export interface DisciplineState {
  readonly settings: DisciplineSettings;
  readonly phase: DisciplinePhase;
  readonly firstUpdateMonotonicSeconds: number | null;
  readonly spikeSinceMonotonicSeconds: number | null;
  /** Cumulative correction applied up to `lastMonotonicSeconds` (frequency integral plus steps), seconds. */
  readonly correctionSeconds: number;
  /**
   * The phase adjustments alone up to `lastMonotonicSeconds`: steps plus the integral of the slew
   * term (applied minus estimated frequency), seconds. Clock filters refer old offsets to the
   * clock now with it.
   */
  readonly adjustmentSeconds: number;
  readonly lastMonotonicSeconds: number;
  /** The frequency the driver is running at now (base plus any slew), ppm. */
  readonly appliedFrequencyPpm: number;
  /** The frequency correction estimate (what the drift file holds), ppm. */
  readonly frequencyPpm: number;
  /** Standard error of `frequencyPpm`, ppm. */
  readonly frequencyErrorPpm: number;
  /** Standard error of the slope the samples alone give (no prior), ppm; Infinity before. */
  readonly measuredFrequencyErrorPpm: number;
  readonly priorFrequencyPpm: number;
  readonly priorVariancePpm2: number;
  readonly priorOrigin: PriorOrigin;
  /** When the current slew ends (the driver returns to `frequencyPpm`), or null. */
  readonly slewEndMonotonicSeconds: number | null;
  /** Recorded samples in time order (at most {@link maxPoints}). */
  readonly points: readonly DisciplinePoint[];
  /** The last offset estimate, seconds (positive: clock was behind). */
  readonly offsetSeconds: number;
  /** Standard error of the fitted phase at the last update, seconds. */
  readonly phaseErrorSeconds: number;
  /** The noise floor the last fit learnt, seconds. */
  readonly noiseFloorSeconds: number;
  /** RMS residual of the last fit, seconds. */
  readonly clockJitterSeconds: number;
  /**
   * Time span of the history the last fit used, seconds, when the runs test had to shorten it
   * (the phase stopped following a line: frequency wander); null when the whole history fits.
   */
  readonly stableSpanSeconds: number | null;
  /** How many sources fed that span (0 when there is none). */
  readonly stableSourceCount: number;
  readonly lastUpdateMonotonicSeconds: number | null;
  /**
   * The newest sample the last fit used, monotonic seconds, or null before the first update. Older
   * than the update when the update learnt nothing new: its own sample was left out (an outlier,
   * e.g. the first one after an outage), came from a source that does not contribute, or there
   * was none. The fit then extrapolates over that stretch, and the error bound says so.
   */
  readonly newestFitSampleMonotonicSeconds: number | null;
  /** True after a step until an update that does not step. */
  readonly awaitingConfirmation: boolean;
  readonly stepCount: number;
  /** Steps refused by the panic threshold so far. */
  readonly panicCount: number;
  /** Sudden frequency or phase changes detected so far. */
  readonly changeCount: number;
  /**
   * Running mean of the squared normalised prediction errors of contributor samples (each
   * judged against the fit before it): about 1 when the fit's standard errors are honest, more
   * when the model misses something (wander). The error bound scales by its square root.
   */
  readonly predictionScale2: number;
  /**
   * Since when the newest candidate samples are outliers (a change may be under way: polls
   * come down to minpoll to settle it), or null.
   */
  readonly suspectSinceMonotonicSeconds: number | null;
}

/** What the daemon must do to the clock (see ClockDriver in src/io/clock_driver.ts). */
export type ClockAction =
  /** Call setFrequencyPpm(freqPpm); already within +-500 ppm. */
  | { readonly kind: "setFrequency"; readonly freqPpm: number }
  /** Call stepSeconds(offsetSeconds): positive moves the clock forward. */
  | { readonly kind: "step"; readonly offsetSeconds: number };

/** Something worth a log line; each is returned once, when it happens. */
export type DisciplineEvent =
  /**
   * The clock was stepped. After a stepout (the clock jumped behind our back),
   * `discardBeforeMonotonicSeconds` says which samples predate the jump: clock filters must drop
   * them. Null for the startup step, whose samples stay valid.
   */
  | {
    readonly kind: "clockStepped";
    readonly offsetSeconds: number;
    readonly discardBeforeMonotonicSeconds: number | null;
  }
  | { readonly kind: "spikeDetected"; readonly offsetSeconds: number }
  | {
    readonly kind: "panic";
    readonly offsetSeconds: number;
    readonly thresholdSeconds: number;
  }
  | { readonly kind: "panicCleared"; readonly offsetSeconds: number }
  /** The samples contradict the prior frequency (e.g. a stale drift file): it is forgotten. */
  | {
    readonly kind: "priorContradicted";
    readonly origin: Exclude<PriorOrigin, "none">;
    readonly priorPpm: number;
    readonly measuredPpm: number;
    readonly measuredErrorPpm: number;
  }
  /**
   * The clock moved away from every source at once (its frequency or phase changed: a live
   * migration, a temperature step, someone adjusting it): the history before is dropped.
   * `residualSeconds` is how far the newest sample lay from the old fit; the frequency estimate
   * went from `fromPpm` to `toPpm`.
   */
  | {
    readonly kind: "clockChanged";
    readonly residualSeconds: number;
    readonly fromPpm: number;
    readonly toPpm: number;
  };

/** The result of every discipline call. */
export interface DisciplineOutput {
  readonly state: DisciplineState;
  readonly actions: readonly ClockAction[];
  readonly events: readonly DisciplineEvent[];
}

/** Most samples kept. */
export const maxPoints = 256;
/** Prior standard deviation of a drift file's frequency, ppm. */
export const DRIFT_PRIOR_STDDEV_PPM = 0.3;
/** Prior standard deviation without a drift file, ppm (effectively no prior). */
export const NO_PRIOR_STDDEV_PPM = 1000;
/** Smallest prior variance kept after a stepout step or a phase jump, ppm^2. */
export const MIN_PRIOR_VARIANCE_PPM2 = 0.01 ** 2;

/** A sample handed to the discipline when it arrives. */
export interface DisciplineSample {
  readonly sourceId: number;
  /** Arrival, monotonic seconds (not before the discipline's last call). */
  readonly monotonicSeconds: number;
  /** Measured offset, seconds (positive: the local clock is behind). */
  readonly offsetSeconds: number;
  /** Its delay, seconds: its excess over the source's smallest sets its weight. */
  readonly delaySeconds: number;
  /** The smallest delay in its source's clock filter when it arrived, seconds (recorded only). */
  readonly minDelaySeconds: number;
}

/**
 * The cumulative correction (frequency integrated over time, plus steps) at `monotonicSeconds`,
 * seconds. A sample's offset plus this value is the uncorrected clock's phase.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: 10 });
 * correctionAt(state, 100); // 0.001 s: 10 ppm over 100 s
 * ```
 */
export function correctionAt(state: DisciplineState, monotonicSeconds: number): number {
  const elapsed = Math.max(0, monotonicSeconds - state.lastMonotonicSeconds);
  return state.correctionSeconds + state.appliedFrequencyPpm * 1e-6 * elapsed;
}

/**
 * The cumulative phase adjustment (steps plus the slew part of the frequency) at
 * `monotonicSeconds`, seconds. An offset measured when it was a, referred to a clock whose
 * adjustment is now b, is offset + a - b (valid as far as the frequency estimate is right).
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * adjustmentAt(state, 120); // 0: no step or slew yet
 * ```
 */
export function adjustmentAt(state: DisciplineState, monotonicSeconds: number): number {
  const elapsed = Math.max(0, monotonicSeconds - state.lastMonotonicSeconds);
  return state.adjustmentSeconds +
    (state.appliedFrequencyPpm - state.frequencyPpm) * 1e-6 * elapsed;
}

/**
 * The state carried forward to `monotonicSeconds` (the correction and adjustment integrated);
 * unchanged for an earlier time.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: 10 });
 * advanceTo(state, 100).correctionSeconds; // 0.001
 * ```
 */
export function advanceTo(state: DisciplineState, monotonicSeconds: number): DisciplineState {
  if (monotonicSeconds <= state.lastMonotonicSeconds) return state;
  return {
    ...state,
    correctionSeconds: correctionAt(state, monotonicSeconds),
    adjustmentSeconds: adjustmentAt(state, monotonicSeconds),
    lastMonotonicSeconds: monotonicSeconds,
  };
}

/**
 * Records `sample` as a point of the uncorrected phase (its offset plus the correction at its
 * time), in time order, keeping the newest {@link maxPoints}.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * addPoint(state, { sourceId: 1, monotonicSeconds: 5, offsetSeconds: 1e-3, delaySeconds: 2e-4,
 *   minDelaySeconds: 2e-4 }, false).points.length; // 1
 * ```
 */
export function addPoint(
  state: DisciplineState,
  sample: DisciplineSample,
  spike: boolean,
): DisciplineState {
  const point: DisciplinePoint = {
    sourceId: sample.sourceId,
    monotonicSeconds: sample.monotonicSeconds,
    phaseSeconds: sample.offsetSeconds + correctionAt(state, sample.monotonicSeconds),
    delaySeconds: sample.delaySeconds,
    minDelaySeconds: Math.min(sample.minDelaySeconds, sample.delaySeconds),
    spike,
    outlier: false,
  };
  const points = [...state.points];
  let at = points.length;
  while (at > 0 && (points[at - 1] as DisciplinePoint).monotonicSeconds > point.monotonicSeconds) {
    at--;
  }
  points.splice(at, 0, point);
  return { ...state, points: points.slice(-maxPoints) };
}

/**
 * The fit of `points` with the state's noise floor, history and prior (phase_estimate.ts), or
 * null for none.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * fitPoints(state, state.points); // null: nothing recorded yet
 * ```
 */
export function fitPoints(
  state: DisciplineState,
  points: readonly DisciplinePoint[],
): PhaseEstimate | null {
  return estimatePhase(points, {
    history: state.points,
    noiseFloorSeconds: state.settings.sampleNoiseFloorSeconds,
    prior: { frequencyPpm: state.priorFrequencyPpm, variancePpm2: state.priorVariancePpm2 },
  });
}

/**
 * Whether a point comes from one of `contributorIds`.
 *
 * @example
 * ```ts
 * import type { DisciplinePoint } from "./discipline_state.ts";
 * const point: DisciplinePoint = { sourceId: 2, monotonicSeconds: 0, phaseSeconds: 0,
 *   delaySeconds: 1e-4, minDelaySeconds: 1e-4, spike: false, outlier: false };
 * isContributor(point, [1, 2]); // true
 * ```
 */
export function isContributor(p: DisciplinePoint, contributorIds: readonly number[]): boolean {
  return contributorIds.includes(p.sourceId);
}

/**
 * The points the fit uses: the contributors' points that are neither spikes nor outliers.
 *
 * @example
 * ```ts
 * import { createDiscipline } from "./clock_discipline.ts";
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * contributorPoints(state, [1]); // []
 * ```
 */
export function contributorPoints(
  state: DisciplineState,
  contributorIds: readonly number[],
): DisciplinePoint[] {
  return state.points.filter((p) => !p.spike && !p.outlier && isContributor(p, contributorIds));
}
