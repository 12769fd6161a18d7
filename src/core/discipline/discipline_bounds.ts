// What the discipline's state says ahead of time: the longest poll worth using and how large the clock's error can have grown by a given moment.
import { MAX_CLOCK_ERROR_PPM, MAX_FREQUENCY_PPM } from "./ntp_constants.ts";
import type { DisciplineState } from "./discipline_state.ts";

/** Samples the fit's window should hold at least (as chrony's `polltarget` per source). */
export const POLL_TARGET_SAMPLES = 16;

/**
 * The longest poll worth using, log2 seconds, or null for "no limit": when frequency wander made
 * the runs test shorten the history, the poll is capped so that the remaining window still holds
 * {@link POLL_TARGET_SAMPLES} samples (as chrony keeps about `polltarget` per regression): the
 * window is shared by all sources, so with N of them each may poll N times as long;
 * the poll never outruns the frequency estimate (see {@link frequencyPollCeilingLog2}); and
 * while the newest samples are outliers (a change may be under way) it is -Infinity: minpoll.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * usefulPollCeilingLog2(state); // null before the first update
 * ```
 */
export function usefulPollCeilingLog2(state: DisciplineState): number | null {
  if (state.suspectSinceMonotonicSeconds !== null) return -Infinity;
  const span = state.stableSpanSeconds;
  const sources = Math.max(1, state.stableSourceCount);
  const runs = span === null || span <= 0
    ? null
    : Math.floor(Math.log2(span * sources / POLL_TARGET_SAMPLES));
  const frequency = frequencyPollCeilingLog2(state, { measuredOnly: false });
  if (runs === null) return frequency;
  return frequency === null ? runs : Math.min(runs, frequency);
}

/**
 * The longest poll, log2 seconds, over which the frequency's standard error moves the phase by
 * no more than `noiseFraction` (in (0, 1], default 1; else a RangeError) of the noise of one
 * sample (the learnt floor or the fit's RMS residual, at least 10 us), or null before the first
 * update. With `measuredOnly`, the samples' own error is used (not the prior's): training goes on
 * until the data confirm a drift file.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * frequencyPollCeilingLog2(state, { measuredOnly: true, noiseFraction: 0.25 }); // null before the first update
 * ```
 */
export function frequencyPollCeilingLog2(
  state: DisciplineState,
  options: { readonly measuredOnly: boolean; readonly noiseFraction?: number },
): number | null {
  const fraction = options.noiseFraction ?? 1;
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`noiseFraction must be in (0, 1], not ${fraction}`);
  }
  if (state.lastUpdateMonotonicSeconds === null) return null;
  const errorPpm = options.measuredOnly ? state.measuredFrequencyErrorPpm : state.frequencyErrorPpm;
  const allowedDriftSeconds = fraction *
    Math.max(state.noiseFloorSeconds, state.clockJitterSeconds, 10e-6);
  if (!(errorPpm > 0)) return null;
  if (!Number.isFinite(errorPpm)) return -Infinity;
  return Math.floor(Math.log2(allowedDriftSeconds / (errorPpm * 1e-6)));
}

/**
 * The factor the discipline's standard errors are scaled by in its error bound: the square root
 * of the running mean of squared normalised prediction errors, at least 1.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * errorScale(state); // 1
 * ```
 */
export function errorScale(state: DisciplineState): number {
  return Math.sqrt(Math.max(1, state.predictionScale2));
}

/**
 * How fast the discipline's error bound grows after an update, seconds per second: three
 * (scaled) standard errors of the frequency plus MAX_CLOCK_ERROR_PPM for what the model does not
 * see (wander, temperature).
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: 1 });
 * errorGrowthRate(state); // (3 * 0.3 + 1) * 1e-6
 * ```
 */
export function errorGrowthRate(state: DisciplineState): number {
  // A frequency error not known at all counts as the largest a clock may have, never as none.
  const frequencyError = Number.isFinite(state.frequencyErrorPpm)
    ? state.frequencyErrorPpm
    : MAX_FREQUENCY_PPM;
  return (3 * errorScale(state) * frequencyError + MAX_CLOCK_ERROR_PPM) * 1e-6;
}

/**
 * An estimate of the clock's error at `monotonicSeconds` from the discipline alone, seconds:
 * three (scaled) standard errors of the fitted phase at the last update, plus
 * {@link errorGrowthRate} over the time since, plus MAX_CLOCK_ERROR_PPM over the stretch the fit
 * extrapolated to reach the update (from the newest sample it used: after an outage the first
 * sample is often an outlier, and a fit of the samples from before the outage knows nothing of
 * the wander since), plus the offset still being slewed. Infinity before the first update. The
 * time keeper adds it to the root dispersion.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * errorBoundAt(state, 10); // Infinity before the first update
 * ```
 */
export function errorBoundAt(state: DisciplineState, monotonicSeconds: number): number {
  const updated = state.lastUpdateMonotonicSeconds;
  if (updated === null) return Infinity;
  const age = Math.max(0, monotonicSeconds - updated);
  let unslewed = 0;
  const end = state.slewEndMonotonicSeconds;
  if (end !== null && end > updated) {
    unslewed = Math.abs(state.offsetSeconds) * Math.max(0, end - monotonicSeconds) /
      (end - updated);
  }
  const extrapolatedSeconds = Math.max(
    0,
    updated - (state.newestFitSampleMonotonicSeconds ?? updated),
  );
  return 3 * errorScale(state) * state.phaseErrorSeconds + errorGrowthRate(state) * age +
    MAX_CLOCK_ERROR_PPM * 1e-6 * extrapolatedSeconds + unslewed;
}
