// The clock discipline: estimates phase and frequency from the selected sources' samples and returns step/frequency actions.
//
// Estimator: a chrony-style weighted regression (phase_estimate.ts), not the RFC 5905 PLL/FLL.
// Every sample becomes a point of the *uncorrected* clock's phase, u = offset + C, where C is the
// cumulative correction applied so far (the whole frequency correction integrated over time,
// plus steps). u does not depend on what the discipline did, so a straight-line fit of u over
// time gives the frequency correction directly (its slope) and the offset now (fit(now) - C(now)):
// no feedback loop to tune or to go unstable. The weights come from a noise model learnt from the
// residuals (phase_estimate.ts), so the fit's standard errors are honest on a jittery path too.
// A runs test (as chrony's regress.c) shortens the history when the points stop lying on a line
// (frequency wander), and then the poll is capped so the window still holds
// POLL_TARGET_SAMPLES polls. The slope is blended with a prior by inverse variance: the drift
// file (sd 0.3 ppm) or nothing (sd 1000 ppm); a prior the samples contradict by more than three
// standard errors is forgotten for good (a stale drift file costs a few polls, not minutes).
// Offsets are removed by a temporary frequency term over at least 16 s (chrony's way), never
// more than +-500 ppm in total.
//
// Sudden changes. A sample more than OUTLIER_SIGMAS from the contributors' fit (its own noise
// plus the fit's error, scaled by how well the fit has predicted lately: errorScale) is an
// outlier, kept out of the fit: one upstream that jumped, a delay spike the weights missed. An
// outlier from a contributor makes the discipline suspect a change: the time keeper asks every
// source for a sample now and the polls come down to minpoll. When the newest CHANGE_SAMPLES
// points, from two sources or more that agreed with the fit before, all lie that far on the same
// side, the clock itself changed (its frequency, its phase, or both: a live migration, a
// temperature step, someone adjusting it): the history is cut to the points since, and the
// frequency before becomes a prior of CHANGE_PRIOR_STDDEV_PPM, so the phase follows at once and
// the new slope as soon as the new points span enough time, instead of a runs test that needs
// many polls. Two points were too few: at 1024 s polls false alarms came about once a day and
// each cost up to 1.7 ms (a slope from two points seconds apart, extrapolated 1000 s).
//
// Poll: frequencyPollCeilingLog2() says how long a poll the frequency's standard error allows
// (its drift over one poll within the noise of one sample); in training (after the start, until
// the samples alone keep that drift within client/training.ts TRAINING_NOISE_FRACTION, a
// quarter, of one sample's noise) associations with iburst send extra requests
// every TRAINING_INTERVAL_SECONDS or more, so a fresh start or a stale drift file is settled in
// a minute or two rather than over many 64 s polls.
//
// Error bound: phaseErrorSeconds (the fit's standard error at the last update) and
// frequencyErrorPpm give errorBoundAt(), an estimate that grows with the time since the update
// (plus MAX_CLOCK_ERROR_PPM for what the fit cannot see, counted from the newest sample the fit
// used: an update that learnt nothing new, e.g. its own sample an outlier, hardly shrinks the
// bound); the time keeper adds it to the root dispersion and publishes it as the estimated error.
//
// Measured (tests/sim/keep_time_matrix_test.ts, three seeds, both clock drivers; README "Keeping
// time" has every scenario): the worst seed's RMS is 25-79 us on a 100 us LAN (the most in a 1 h
// holdover), 59-90 us on 2.5 +- 0.5 ms; a drift file 200 ppm off costs at most 0.8 ms in the
// first seconds; the root distance covers 100% of the samples at 0.9-4.3 times what is needed,
// the estimated error >= 99.5% (ten times the oscillator's wander) at 0.9-7.1 times.
//
// State machine (RFC 5905 §12 / ntpd's states, adapted):
// - unset: no update yet. The first update enters startup.
// - startup: for `startupWindowSeconds` after the first update, an |offset| over
//   `startupStepThresholdSeconds` (1 ms) by more than its uncertainty (startupUncertainty(): at
//   most half a round trip), or over `stepThresholdSeconds`, is stepped, once: the explicit
//   startup step rule, like chrony's `makestep` or ntpd -g, that gets a clock 100 ms off within
//   1 ms in seconds instead of minutes. Smaller or less certain offsets are slewed.
// - sync: offsets are slewed; an offset over `stepThresholdSeconds` (128 ms; 0 = never step), or a
//   sample that far from the fit, starts a spike. The latter also in startup, once there is a fit
//   of earlier samples: upstreams that jump by a second after those are not stepped at once, and
//   the spike ends the startup window (a sample back within the threshold returns to sync). A
//   jump under the threshold inside the window is still stepped by the fit's blend of the samples
//   before and after it, once, as a startup offset over 1 ms by more than its uncertainty is.
// - spike: such samples are ignored; one sample within the threshold returns to sync; if they
//   persist for `stepoutSeconds` after the first one (ntpd counts from its last update instead),
//   the jump is real: the history before it is dropped (the frequency is kept) and the clock
//   stepped.
// - panic: a step over `panicThresholdSeconds` (1000 s; 0 = none) is refused and reported; the
//   clock is left alone until the offset comes back under the threshold (then: unset again).
// After any step the clock counts as unsynchronised until the next update that does not step.
import {
  detectChange,
  OUTLIER_SIGMAS,
  PREDICTION_SCALE_GAIN,
  predictionZ,
} from "./clock_changes.ts";
import {
  addPoint,
  advanceTo,
  type ClockAction,
  contributorPoints,
  type DisciplineEvent,
  type DisciplineOutput,
  type DisciplinePoint,
  type DisciplineSample,
  type DisciplineSettings,
  type DisciplineState,
  DRIFT_PRIOR_STDDEV_PPM,
  fitPoints,
  isContributor,
  MIN_PRIOR_VARIANCE_PPM2,
  NO_PRIOR_STDDEV_PPM,
} from "./discipline_state.ts";
import { MAX_FREQUENCY_PPM } from "./ntp_constants.ts";
import { clampFrequencyPpm } from "./phase_estimate.ts";

/** Standard errors of the fitted offset in {@link startupUncertainty}. */
export const STARTUP_STEP_SIGMAS = 3;

/**
 * How far the fitted offset may be from the truth, seconds, for the startup step rule: the
 * smaller of STARTUP_STEP_SIGMAS standard errors of the fit and the largest half round trip among
 * the samples it used (no sample's offset is off by more than half its delay on a path that is
 * symmetric at its fastest, whatever queueing or a pause of the process added). With one sample
 * that is half its delay: a pause between reading T1 and sending, which adds half of itself to
 * the offset and all of itself to the delay, cannot make an offset look certain. Not covered:
 * the first sample of a slow source fitted with fast ones before the noise model has eight
 * samples (each weighted by the fastest source's delay, the blend's standard error is small).
 *
 * @example
 * ```ts
 * import type { DisciplinePoint } from "./discipline_state.ts";
 * const point: DisciplinePoint = { sourceId: 1, monotonicSeconds: 0, phaseSeconds: 0.0024,
 *   delaySeconds: 0.005, minDelaySeconds: 0.005, spike: false, outlier: false };
 * startupUncertainty(0.0014, [point]); // 0.0025: half of the 5 ms round trip
 * ```
 */
export function startupUncertainty(
  phaseErrorSeconds: number,
  used: readonly DisciplinePoint[],
): number {
  const halfDelay = Math.max(0, ...used.map((p) => p.delaySeconds / 2));
  return Math.min(STARTUP_STEP_SIGMAS * phaseErrorSeconds, halfDelay);
}

export * from "./discipline_state.ts";
export * from "./discipline_bounds.ts";
export { CHANGE_PRIOR_STDDEV_PPM, CHANGE_SAMPLES, OUTLIER_SIGMAS } from "./clock_changes.ts";

/**
 * A new discipline. `currentFrequencyPpm` is what the driver runs at now; with a drift file
 * (`driftPpm` not null) its value becomes the frequency and a prior of 0.3 ppm, and the first
 * action sets it.
 *
 * @example
 * ```ts
 * import { defaultDisciplineSettings } from "./discipline_state.ts";
 * const { state, actions } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: -12.5 });
 * ```
 */
export function createDiscipline(
  settings: DisciplineSettings,
  options: {
    readonly monotonicSeconds: number;
    readonly currentFrequencyPpm: number;
    readonly driftPpm: number | null;
  },
): DisciplineOutput {
  const hasDrift = options.driftPpm !== null;
  const freqPpm = clampFrequencyPpm(options.driftPpm ?? options.currentFrequencyPpm);
  const priorStdDev = hasDrift ? DRIFT_PRIOR_STDDEV_PPM : NO_PRIOR_STDDEV_PPM;
  const state: DisciplineState = {
    settings,
    phase: "unset",
    firstUpdateMonotonicSeconds: null,
    spikeSinceMonotonicSeconds: null,
    correctionSeconds: 0,
    adjustmentSeconds: 0,
    lastMonotonicSeconds: options.monotonicSeconds,
    appliedFrequencyPpm: freqPpm,
    frequencyPpm: freqPpm,
    frequencyErrorPpm: priorStdDev,
    measuredFrequencyErrorPpm: Infinity,
    priorFrequencyPpm: freqPpm,
    priorVariancePpm2: priorStdDev ** 2,
    priorOrigin: hasDrift ? "driftFile" : "none",
    slewEndMonotonicSeconds: null,
    points: [],
    offsetSeconds: 0,
    phaseErrorSeconds: Infinity,
    noiseFloorSeconds: settings.sampleNoiseFloorSeconds,
    clockJitterSeconds: 0,
    stableSpanSeconds: null,
    stableSourceCount: 0,
    lastUpdateMonotonicSeconds: null,
    newestFitSampleMonotonicSeconds: null,
    awaitingConfirmation: false,
    stepCount: 0,
    panicCount: 0,
    changeCount: 0,
    predictionScale2: 1,
    suspectSinceMonotonicSeconds: null,
  };
  const actions: ClockAction[] = hasDrift ? [{ kind: "setFrequency", freqPpm }] : [];
  return { state, actions, events: [] };
}

/**
 * Records a sample at its arrival without updating the clock (samples of sources that are not,
 * or not yet, contributors). In the spike state it is recorded as a spike: it may have been
 * measured after the jump, and must not mix into the fit unless the jump is confirmed.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * let { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * state = recordSample(state, { sourceId: 1, monotonicSeconds: 10, offsetSeconds: 0.1,
 *   delaySeconds: 2e-4, minDelaySeconds: 2e-4 });
 * ```
 */
export function recordSample(state: DisciplineState, sample: DisciplineSample): DisciplineState {
  return addPoint(state, sample, state.phase === "spike");
}

function step(
  state: DisciplineState,
  offsetSeconds: number,
  frequencyPpm: number,
  discardBeforeMonotonicSeconds: number | null = null,
): DisciplineOutput {
  const panic = state.settings.panicThresholdSeconds;
  const exempt = state.settings.allowFirstStepBeyondPanic && state.stepCount === 0;
  if (panic > 0 && Math.abs(offsetSeconds) > panic && !exempt) {
    const reported = state.phase !== "panic";
    return {
      state: { ...state, phase: "panic", offsetSeconds, panicCount: state.panicCount + 1 },
      actions: [],
      events: reported ? [{ kind: "panic", offsetSeconds, thresholdSeconds: panic }] : [],
    };
  }
  return {
    state: {
      ...state,
      correctionSeconds: state.correctionSeconds + offsetSeconds,
      adjustmentSeconds: state.adjustmentSeconds + offsetSeconds,
      appliedFrequencyPpm: frequencyPpm,
      frequencyPpm,
      slewEndMonotonicSeconds: null,
      offsetSeconds: 0,
      awaitingConfirmation: true,
      stepCount: state.stepCount + 1,
      spikeSinceMonotonicSeconds: null,
    },
    actions: [{ kind: "step", offsetSeconds }, { kind: "setFrequency", freqPpm: frequencyPpm }],
    events: [{ kind: "clockStepped", offsetSeconds, discardBeforeMonotonicSeconds }],
  };
}

function slew(
  state: DisciplineState,
  offsetSeconds: number,
  frequencyPpm: number,
): DisciplineOutput {
  const now = state.lastMonotonicSeconds;
  const headroomPpm = Math.max(1, MAX_FREQUENCY_PPM - Math.abs(frequencyPpm));
  const durationSeconds = Math.max(
    state.settings.minSlewSeconds,
    (Math.abs(offsetSeconds) * 1e6) / headroomPpm,
  );
  const appliedFrequencyPpm = clampFrequencyPpm(
    frequencyPpm + (offsetSeconds / durationSeconds) * 1e6,
  );
  return {
    state: {
      ...state,
      appliedFrequencyPpm,
      frequencyPpm,
      slewEndMonotonicSeconds: now + durationSeconds,
      offsetSeconds,
      awaitingConfirmation: false,
    },
    actions: [{ kind: "setFrequency", freqPpm: appliedFrequencyPpm }],
    events: [],
  };
}

/**
 * Spike handling for a trigger sample in the startup, sync or spike state; null when it is no
 * spike (or there is no fit of the other samples to judge it by).
 */
function handleSpike(
  state: DisciplineState,
  trigger: DisciplinePoint,
  contributorIds: readonly number[],
): DisciplineOutput | null {
  const threshold = state.settings.stepThresholdSeconds;
  const now = state.lastMonotonicSeconds;
  const others = contributorPoints(state, contributorIds).filter((p) => p !== trigger);
  const before = fitPoints(state, others);
  if (before === null) return null;
  const residual = trigger.phaseSeconds - before.phaseAt(trigger.monotonicSeconds);
  if (Math.abs(residual) <= threshold) return null;

  const marked = state.points.map((p) => (p === trigger ? { ...p, spike: true } : p));
  const since = state.spikeSinceMonotonicSeconds ?? now;
  const spiking: DisciplineState = {
    ...state,
    points: marked,
    phase: "spike",
    spikeSinceMonotonicSeconds: since,
  };
  if (state.phase !== "spike") {
    return {
      state: spiking,
      actions: [],
      events: [{ kind: "spikeDetected", offsetSeconds: residual }],
    };
  }
  if (now - since < state.settings.stepoutSeconds) {
    return { state: spiking, actions: [], events: [] };
  }

  // The jump persisted: the clock was set behind our back. Keep only the samples since the first
  // spike, keep the frequency estimate as the prior, and step; the caller drops older filter
  // samples too (they were measured against the clock before the jump).
  const kept = marked
    .filter((p) => p.monotonicSeconds >= since)
    .map((p) => ({ ...p, spike: false, outlier: false }));
  const jumped: DisciplineState = {
    ...spiking,
    points: kept,
    phase: "sync",
    priorFrequencyPpm: state.frequencyPpm,
    priorVariancePpm2: Math.max(state.frequencyErrorPpm ** 2, MIN_PRIOR_VARIANCE_PPM2),
    priorOrigin: "previousEstimate",
  };
  const after = fitPoints(jumped, contributorPoints(jumped, contributorIds));
  const offset = after === null ? residual : after.phaseAt(now) - jumped.correctionSeconds;
  return step(jumped, offset, after?.frequencyPpm ?? state.frequencyPpm, since);
}

/**
 * Updates the clock after `trigger` (a sample of a contributor, recorded here) arrived at
 * `monotonicSeconds`: fits the contributors' history, then steps, slews or waits according to
 * the state machine in the file header. `contributorIds` are the sources selection combined
 * (only their samples are used). With `trigger` null, the fit is re-evaluated without a new
 * sample (e.g. when the contributors changed).
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings, type DisciplineState } from "./clock_discipline.ts";
 * let state: DisciplineState = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null }).state;
 * const out = updateDiscipline(state, { monotonicSeconds: 64, contributorIds: [1],
 *   trigger: { sourceId: 1, monotonicSeconds: 64, offsetSeconds: 2e-4, delaySeconds: 1e-4,
 *     minDelaySeconds: 1e-4 } });
 * state = out.state; // out.actions: what to do to the clock
 * ```
 */
export function updateDiscipline(
  state: DisciplineState,
  options: {
    readonly monotonicSeconds: number;
    readonly contributorIds: readonly number[];
    /** Truechimers that are not (or not yet) contributors (default none). */
    readonly candidateIds?: readonly number[];
    readonly trigger: DisciplineSample | null;
  },
): DisciplineOutput {
  const candidateIds = options.candidateIds ?? [];
  let current = advanceTo(state, options.monotonicSeconds);
  let triggerPoint: DisciplinePoint | null = null;
  const triggerContributes = options.trigger !== null &&
    options.contributorIds.includes(options.trigger.sourceId);
  if (options.trigger !== null) {
    // A candidate's sample in the spike state is recorded as recordSample() would.
    current = addPoint(current, options.trigger, !triggerContributes && current.phase === "spike");
    triggerPoint = current.points.find((p) =>
      p.sourceId === options.trigger?.sourceId &&
      p.monotonicSeconds === options.trigger.monotonicSeconds
    ) ?? null;
  }
  const now = current.lastMonotonicSeconds;
  const threshold = current.settings.stepThresholdSeconds;
  if (
    triggerPoint !== null && threshold > 0 &&
    isContributor(triggerPoint, options.contributorIds) &&
    (current.phase === "sync" || current.phase === "spike" || current.phase === "startup")
  ) {
    // In startup too: once earlier samples agree, one over the threshold from their fit is a
    // spike, not an offset to step by (stepping by the fit's blend of both would be neither).
    const spike = handleSpike(current, triggerPoint, options.contributorIds);
    if (spike !== null) return spike;
  }

  const events: DisciplineEvent[] = [];
  let changed: { fromPpm: number; residualSeconds: number } | null = null;
  if (triggerPoint !== null && current.phase !== "unset" && current.phase !== "panic") {
    const marked = triggerPoint;
    const contributor = isContributor(marked, options.contributorIds);
    const z = predictionZ(current, marked, options.contributorIds);
    if (z !== null && Math.abs(z) <= OUTLIER_SIGMAS && contributor) {
      current = {
        ...current,
        predictionScale2: (1 - PREDICTION_SCALE_GAIN) * current.predictionScale2 +
          PREDICTION_SCALE_GAIN * z * z,
      };
    }
    if (z !== null && Math.abs(z) > OUTLIER_SIGMAS) {
      current = {
        ...current,
        points: current.points.map((p) => (p === marked ? { ...p, outlier: true } : p)),
        suspectSinceMonotonicSeconds: contributor
          ? current.suspectSinceMonotonicSeconds ?? now
          : current.suspectSinceMonotonicSeconds,
      };
    } else if (contributor) {
      current = { ...current, suspectSinceMonotonicSeconds: null };
    }
    const change = detectChange(current, options.contributorIds, candidateIds);
    if (change !== null) {
      changed = { fromPpm: current.frequencyPpm, residualSeconds: change.residualSeconds };
      current = change.state;
    }
  }

  const used = contributorPoints(current, options.contributorIds);
  const fitted = fitPoints(current, used);
  if (fitted === null) return { state: current, actions: [], events };
  if (changed !== null) {
    events.push({ kind: "clockChanged", ...changed, toPpm: fitted.frequencyPpm });
  }
  if (
    (fitted.priorContradicted || fitted.stableSpanSeconds !== null) &&
    current.priorOrigin !== "none"
  ) {
    if (fitted.priorContradicted) {
      events.push({
        kind: "priorContradicted",
        origin: current.priorOrigin,
        priorPpm: current.priorFrequencyPpm,
        measuredPpm: fitted.measuredFrequencyPpm,
        measuredErrorPpm: fitted.measuredFrequencyErrorPpm,
      });
    }
    current = { ...current, priorVariancePpm2: NO_PRIOR_STDDEV_PPM ** 2, priorOrigin: "none" };
  }
  const offset = fitted.phaseAt(now) - current.correctionSeconds;
  current = {
    ...current,
    frequencyErrorPpm: fitted.frequencyErrorPpm,
    measuredFrequencyErrorPpm: fitted.measuredFrequencyErrorPpm,
    phaseErrorSeconds: fitted.phaseErrorAt(now),
    noiseFloorSeconds: fitted.noiseFloorSeconds,
    clockJitterSeconds: fitted.fit.rmsResidual,
    stableSpanSeconds: fitted.stableSpanSeconds,
    stableSourceCount: fitted.stableSourceCount,
    lastUpdateMonotonicSeconds: now,
    newestFitSampleMonotonicSeconds: used.at(-1)?.monotonicSeconds ?? now,
  };

  if (current.phase === "panic") {
    const panic = current.settings.panicThresholdSeconds;
    if (panic > 0 && Math.abs(offset) > panic) {
      return { state: { ...current, offsetSeconds: offset }, actions: [], events };
    }
    events.push({ kind: "panicCleared", offsetSeconds: offset });
    current = { ...current, phase: "unset", firstUpdateMonotonicSeconds: null };
  }
  if (current.phase === "unset") {
    current = { ...current, phase: "startup", firstUpdateMonotonicSeconds: now };
  }
  if (
    current.phase === "startup" &&
    now - (current.firstUpdateMonotonicSeconds ?? now) > current.settings.startupWindowSeconds
  ) {
    current = { ...current, phase: "sync" };
  }
  if (
    current.phase === "spike" && (options.trigger === null || triggerContributes) &&
    !(threshold > 0 && Math.abs(offset) > threshold)
  ) {
    current = { ...current, phase: "sync", spikeSinceMonotonicSeconds: null };
  }

  // One startup step at most: with path jitter over the 1 ms threshold, later estimates would
  // otherwise step back and forth (seen behind a 2 ms-jitter relay); after it, slew. Under the
  // step threshold only an offset over 1 ms by more than its uncertainty (startupUncertainty):
  // a first sample whose round trip was slow (a pause of the process, a queue) is slewed, not
  // stepped by its error (a step leaves the clock unsynchronised until the next update confirms
  // it). Over the step threshold it is stepped at once, as before: waiting for stepout (900 s)
  // would be worse than a step by an uncertain amount.
  const startupStep = current.phase === "startup" && threshold > 0 &&
    current.stepCount === 0 &&
    (Math.abs(offset) > threshold ||
      Math.abs(offset) - startupUncertainty(fitted.phaseErrorAt(now), used) >
        current.settings.startupStepThresholdSeconds);
  let out: DisciplineOutput;
  if (startupStep) {
    out = step(current, offset, fitted.frequencyPpm);
  } else if (threshold > 0 && Math.abs(offset) > threshold) {
    // A large offset the fit itself arrived at (no single spike sample): wait out stepout.
    const since = current.spikeSinceMonotonicSeconds ?? now;
    const waiting = {
      ...current,
      phase: "spike" as const,
      spikeSinceMonotonicSeconds: since,
      offsetSeconds: offset,
    };
    if (current.spikeSinceMonotonicSeconds === null) {
      events.push({ kind: "spikeDetected", offsetSeconds: offset });
    }
    out = now - since >= current.settings.stepoutSeconds
      ? step(waiting, offset, fitted.frequencyPpm)
      : { state: waiting, actions: [], events: [] };
  } else {
    out = slew(current, offset, fitted.frequencyPpm);
  }
  return { state: out.state, actions: out.actions, events: [...events, ...out.events] };
}

/**
 * Handles the discipline's own deadline (see {@link disciplineDeadline}): ends a slew by returning
 * the driver to the frequency estimate.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * const out = disciplineTimer(state, { monotonicSeconds: 80 });
 * ```
 */
export function disciplineTimer(
  state: DisciplineState,
  options: { readonly monotonicSeconds: number },
): DisciplineOutput {
  const current = advanceTo(state, options.monotonicSeconds);
  const end = current.slewEndMonotonicSeconds;
  if (end === null || options.monotonicSeconds < end) {
    return { state: current, actions: [], events: [] };
  }
  return {
    state: { ...current, slewEndMonotonicSeconds: null, appliedFrequencyPpm: current.frequencyPpm },
    actions: [{ kind: "setFrequency", freqPpm: current.frequencyPpm }],
    events: [],
  };
}

/**
 * When the discipline next needs {@link disciplineTimer}, monotonic seconds, or null.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * disciplineDeadline(state); // null: no slew under way
 * ```
 */
export function disciplineDeadline(state: DisciplineState): number | null {
  return state.slewEndMonotonicSeconds;
}

/**
 * True when the discipline has the clock under control: at least one update, the last one not a
 * step, and no refused (panic) step outstanding.
 *
 * @example
 * ```ts
 * import { createDiscipline, defaultDisciplineSettings } from "./clock_discipline.ts";
 * const { state } = createDiscipline(defaultDisciplineSettings,
 *   { monotonicSeconds: 0, currentFrequencyPpm: 0, driftPpm: null });
 * isDisciplined(state); // false: no update yet
 * ```
 */
export function isDisciplined(state: DisciplineState): boolean {
  return state.phase !== "unset" && state.phase !== "panic" && !state.awaitingConfirmation &&
    state.lastUpdateMonotonicSeconds !== null;
}
