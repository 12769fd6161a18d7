// The clock discipline: estimates phase and frequency from the selected sources' samples and returns step/frequency actions.
//
// Estimator: a chrony-style weighted regression (phase_estimate.ts), not the RFC 5905 PLL/FLL.
// Every sample becomes a point of the *uncorrected* clock's phase, u = offset + C, where C is the
// cumulative correction applied so far (the whole frequency correction integrated over time,
// plus steps). u does not depend on what the discipline did, so a straight-line fit of u over
// time gives the frequency correction directly (its slope) and the offset now (fit(now) - C(now)):
// no feedback loop to tune or to go unstable. Points are weighted by 1 / sigma^2, sigma = noise
// floor + (delay - the source's minimum delay) / 2, the bound on the error queueing adds, so
// low-delay samples dominate as in a min-delay filter. A runs test (as chrony's regress.c)
// shortens the history when the points stop lying on a line (frequency wander), and then the
// poll is capped so the window still holds POLL_TARGET_SAMPLES polls. The slope is blended with
// a prior by inverse variance: the drift file (sd 0.3 ppm) or nothing (sd 1000 ppm), so a
// restart with a drift file needs no frequency training. Offsets are removed by a temporary
// frequency term over at least 16 s (chrony's way), never more than +-500 ppm in total.
//
// Why: the acceptance simulation (tests/sim: 4 servers, 100 us delay, 50 ppm and 100 ms off,
// wander 1e-3 ppm/sqrt(s)) gives, over 30 seeds, offset RMS <= 34 us and max <= 214 us over
// 2-6 h with frequency error RMS <= 0.043 ppm, and a frequency within about 1 ppm right after
// the 10 s initial burst (0.3 ppm with a drift file), so the 4 s / 1 ms start and the 1 ppm limit
// need no separate frequency-training phase. An RFC 5905 PLL/FLL was not simulated here; by its
// design (ntpd) it spends the stepout period (300-900 s) measuring frequency without a drift
// file and then converges with a time constant that grows with the poll, so it could not meet
// the start requirement without the same kind of startup rule.
//
// State machine (RFC 5905 §12 / ntpd's states, adapted):
// - unset: no update yet. The first update enters startup.
// - startup: for `startupWindowSeconds` after the first update, an |offset| over
//   `startupStepThresholdSeconds` (1 ms) is stepped, once: the explicit startup step rule, like chrony's
//   `makestep` or ntpd -g, that gets a clock 100 ms off within 1 ms in seconds instead of minutes.
// - sync: offsets are slewed; an offset over `stepThresholdSeconds` (128 ms; 0 = never step), or a
//   sample that far from the fit, starts a spike.
// - spike: such samples are ignored; one sample within the threshold returns to sync; if they
//   persist for `stepoutSeconds` after the first one (ntpd counts from its last update instead),
//   the jump is real: the history before it is dropped (the frequency is kept) and the clock
//   stepped.
// - panic: a step over `panicThresholdSeconds` (1000 s; 0 = none) is refused and reported; the
//   clock is left alone until the offset comes back under the threshold (then: unset again).
// After any step the clock counts as unsynchronised until the next update that does not step.
import { MAX_FREQUENCY_PPM } from "./ntp_constants.ts";
import {
  clampFrequencyPpm,
  estimatePhase,
  type PhaseEstimate,
  type PhaseSample,
} from "./phase_estimate.ts";

/** Thresholds and time constants of the discipline (ntp.conf `tinker` plus startup rules). */
export interface DisciplineSettings {
  /** `tinker step`: offsets over this are stepped (after stepout), seconds; 0 = never step. */
  readonly stepThresholdSeconds: number;
  /** `tinker panic`: steps over this are refused, seconds; 0 = no limit. */
  readonly panicThresholdSeconds: number;
  /** `tinker stepout`: how long large offsets must persist before a step, seconds. */
  readonly stepoutSeconds: number;
  /** Startup step rule: during the startup window, offsets over this are stepped, seconds. */
  readonly startupStepThresholdSeconds: number;
  /** Length of the startup window after the first clock update, seconds. */
  readonly startupWindowSeconds: number;
  /** ntpd -g: the first step may exceed the panic threshold. */
  readonly allowFirstStepBeyondPanic: boolean;
  /** Shortest time over which an offset is slewed, seconds. */
  readonly minSlewSeconds: number;
  /** Noise assumed for a sample with the minimum delay, seconds (weights 1 / sigma^2). */
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
}

/** Where the discipline is in its state machine (see the file header). */
export type DisciplinePhase = "unset" | "startup" | "sync" | "spike" | "panic";

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
  readonly priorFrequencyPpm: number;
  readonly priorVariancePpm2: number;
  /** When the current slew ends (the driver returns to `frequencyPpm`), or null. */
  readonly slewEndMonotonicSeconds: number | null;
  /** Recorded samples in time order (at most {@link maxPoints}). */
  readonly points: readonly DisciplinePoint[];
  /** The last offset estimate, seconds (positive: clock was behind). */
  readonly offsetSeconds: number;
  /** RMS residual of the last fit, seconds. */
  readonly clockJitterSeconds: number;
  /**
   * Time span of the history the last fit used, seconds, when the runs test had to shorten it
   * (the phase stopped following a line: frequency wander); null when the whole history fits.
   */
  readonly stableSpanSeconds: number | null;
  readonly lastUpdateMonotonicSeconds: number | null;
  /** True after a step until an update that does not step. */
  readonly awaitingConfirmation: boolean;
  readonly stepCount: number;
  /** Steps refused by the panic threshold so far. */
  readonly panicCount: number;
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
  | { readonly kind: "panicCleared"; readonly offsetSeconds: number };

/** The result of every discipline call. */
export interface DisciplineOutput {
  readonly state: DisciplineState;
  readonly actions: readonly ClockAction[];
  readonly events: readonly DisciplineEvent[];
}

/** Most samples kept. */
export const maxPoints = 256;
/** Prior standard deviation of a drift file's frequency, ppm. */
const driftPriorStdDevPpm = 0.3;
/** Prior standard deviation without a drift file, ppm (effectively no prior). */
const noPriorStdDevPpm = 1000;
/** Smallest prior variance kept after a stepout step, ppm^2. */
const minPriorVariancePpm2 = 0.01 ** 2;

/**
 * A new discipline. `currentFrequencyPpm` is what the driver runs at now; with a drift file
 * (`driftPpm` not null) its value becomes the frequency and a tight prior, and the first action
 * sets it.
 *
 * @example
 * ```ts
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
  const priorStdDev = hasDrift ? driftPriorStdDevPpm : noPriorStdDevPpm;
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
    priorFrequencyPpm: freqPpm,
    priorVariancePpm2: priorStdDev ** 2,
    slewEndMonotonicSeconds: null,
    points: [],
    offsetSeconds: 0,
    clockJitterSeconds: 0,
    stableSpanSeconds: null,
    lastUpdateMonotonicSeconds: null,
    awaitingConfirmation: false,
    stepCount: 0,
    panicCount: 0,
  };
  const actions: ClockAction[] = hasDrift ? [{ kind: "setFrequency", freqPpm }] : [];
  return { state, actions, events: [] };
}

/**
 * The cumulative correction (frequency integrated over time, plus steps) at `monotonicSeconds`,
 * seconds. A sample's offset plus this value is the uncorrected clock's phase.
 *
 * @example
 * ```ts
 * correctionAt(state, 120); // seconds
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
 * adjustmentAt(state, 120); // seconds
 * ```
 */
export function adjustmentAt(state: DisciplineState, monotonicSeconds: number): number {
  const elapsed = Math.max(0, monotonicSeconds - state.lastMonotonicSeconds);
  return state.adjustmentSeconds +
    (state.appliedFrequencyPpm - state.frequencyPpm) * 1e-6 * elapsed;
}

function advance(state: DisciplineState, monotonicSeconds: number): DisciplineState {
  if (monotonicSeconds <= state.lastMonotonicSeconds) return state;
  return {
    ...state,
    correctionSeconds: correctionAt(state, monotonicSeconds),
    adjustmentSeconds: adjustmentAt(state, monotonicSeconds),
    lastMonotonicSeconds: monotonicSeconds,
  };
}

/** A sample handed to the discipline when it arrives. */
export interface DisciplineSample {
  readonly sourceId: number;
  /** Arrival, monotonic seconds (not before the discipline's last call). */
  readonly monotonicSeconds: number;
  /** Measured offset, seconds (positive: the local clock is behind). */
  readonly offsetSeconds: number;
  /** Its delay and the smallest delay in its filter, seconds: they set its weight. */
  readonly delaySeconds: number;
  readonly minDelaySeconds: number;
}

/**
 * Records a sample at its arrival without updating the clock (samples of sources that are not,
 * or not yet, contributors). In the spike state it is recorded as a spike: it may have been
 * measured after the jump, and must not mix into the fit unless the jump is confirmed.
 *
 * @example
 * ```ts
 * state = recordSample(state, { sourceId: 1, monotonicSeconds: 10, offsetSeconds: 0.1,
 *   delaySeconds: 2e-4, minDelaySeconds: 2e-4 });
 * ```
 */
export function recordSample(state: DisciplineState, sample: DisciplineSample): DisciplineState {
  return addPoint(state, sample, state.phase === "spike");
}

function addPoint(
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
  };
  const points = [...state.points];
  let at = points.length;
  while (at > 0 && (points[at - 1] as DisciplinePoint).monotonicSeconds > point.monotonicSeconds) {
    at--;
  }
  points.splice(at, 0, point);
  return { ...state, points: points.slice(-maxPoints) };
}

function estimate(
  state: DisciplineState,
  points: readonly DisciplinePoint[],
): PhaseEstimate | null {
  return estimatePhase(points, {
    history: state.points,
    noiseFloorSeconds: state.settings.sampleNoiseFloorSeconds,
    prior: { frequencyPpm: state.priorFrequencyPpm, variancePpm2: state.priorVariancePpm2 },
  });
}

function contributorPoints(
  state: DisciplineState,
  contributorIds: readonly number[],
): DisciplinePoint[] {
  return state.points.filter((p) => !p.spike && contributorIds.includes(p.sourceId));
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

/** Spike handling for a trigger sample in the sync or spike state; null when it is no spike. */
function handleSpike(
  state: DisciplineState,
  trigger: DisciplinePoint,
  contributorIds: readonly number[],
): DisciplineOutput | null {
  const threshold = state.settings.stepThresholdSeconds;
  const now = state.lastMonotonicSeconds;
  const others = contributorPoints(state, contributorIds).filter((p) => p !== trigger);
  const before = estimate(state, others);
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
    .map((p) => ({ ...p, spike: false }));
  const jumped: DisciplineState = {
    ...spiking,
    points: kept,
    phase: "sync",
    priorFrequencyPpm: state.frequencyPpm,
    priorVariancePpm2: Math.max(state.frequencyErrorPpm ** 2, minPriorVariancePpm2),
  };
  const after = estimate(jumped, contributorPoints(jumped, contributorIds));
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
 * const out = updateDiscipline(state, { monotonicSeconds: 64, contributorIds: [1, 2, 3], trigger: sample });
 * for (const action of out.actions) apply(action);
 * ```
 */
export function updateDiscipline(
  state: DisciplineState,
  options: {
    readonly monotonicSeconds: number;
    readonly contributorIds: readonly number[];
    readonly trigger: DisciplineSample | null;
  },
): DisciplineOutput {
  let current = advance(state, options.monotonicSeconds);
  let triggerPoint: DisciplinePoint | null = null;
  if (options.trigger !== null) {
    current = addPoint(current, options.trigger, false);
    triggerPoint = current.points.find((p) =>
      p.sourceId === options.trigger?.sourceId &&
      p.monotonicSeconds === options.trigger.monotonicSeconds
    ) ?? null;
  }
  const now = current.lastMonotonicSeconds;
  const threshold = current.settings.stepThresholdSeconds;
  if (
    triggerPoint !== null && threshold > 0 &&
    (current.phase === "sync" || current.phase === "spike")
  ) {
    const spike = handleSpike(current, triggerPoint, options.contributorIds);
    if (spike !== null) return spike;
  }

  const fitted = estimate(current, contributorPoints(current, options.contributorIds));
  if (fitted === null) return { state: current, actions: [], events: [] };
  const offset = fitted.phaseAt(now) - current.correctionSeconds;
  const events: DisciplineEvent[] = [];
  current = {
    ...current,
    frequencyErrorPpm: fitted.frequencyErrorPpm,
    clockJitterSeconds: fitted.fit.rmsResidual,
    stableSpanSeconds: fitted.stableSpanSeconds,
    lastUpdateMonotonicSeconds: now,
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
  if (current.phase === "spike") {
    current = { ...current, phase: "sync", spikeSinceMonotonicSeconds: null };
  }

  // One startup step at most: with path jitter over the 1 ms threshold, later estimates would
  // otherwise step back and forth (seen behind a 2 ms-jitter relay); after it, slew.
  const startupStep = current.phase === "startup" && threshold > 0 &&
    current.stepCount === 0 &&
    Math.abs(offset) > current.settings.startupStepThresholdSeconds;
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
 * const out = disciplineTimer(state, { monotonicSeconds: 80 });
 * ```
 */
export function disciplineTimer(
  state: DisciplineState,
  options: { readonly monotonicSeconds: number },
): DisciplineOutput {
  const current = advance(state, options.monotonicSeconds);
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
 * disciplineDeadline(state); // e.g. 80
 * ```
 */
export function disciplineDeadline(state: DisciplineState): number | null {
  return state.slewEndMonotonicSeconds;
}

/** Polls the fit's window should hold at least (chrony's `polltarget`). */
export const POLL_TARGET_SAMPLES = 16;

/**
 * The longest poll worth using, log2 seconds, or null for "no limit": when frequency wander made
 * the runs test shorten the history, the poll is capped so that the remaining window still holds
 * {@link POLL_TARGET_SAMPLES} polls (as chrony keeps about `polltarget` samples per regression).
 * Without wander the whole history fits a line and the poll may climb to maxpoll.
 *
 * @example
 * ```ts
 * usefulPollCeilingLog2(state); // e.g. 9 when the last fit spanned 75 minutes
 * ```
 */
export function usefulPollCeilingLog2(state: DisciplineState): number | null {
  const span = state.stableSpanSeconds;
  if (span === null || span <= 0) return null;
  return Math.floor(Math.log2(span / POLL_TARGET_SAMPLES));
}

/**
 * True when the discipline has the clock under control: at least one update, the last one not a
 * step, and no refused (panic) step outstanding.
 *
 * @example
 * ```ts
 * if (isDisciplined(state)) publishSynchronised();
 * ```
 */
export function isDisciplined(state: DisciplineState): boolean {
  return state.phase !== "unset" && state.phase !== "panic" && !state.awaitingConfirmation &&
    state.lastUpdateMonotonicSeconds !== null;
}
