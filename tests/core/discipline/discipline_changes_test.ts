// Tests of the discipline under wrong priors and changing clocks: a stale drift file is dropped, a jittery path gives honest errors, a single jumping source is an outlier, a clock that changes is followed, and the error bound grows with time.
import assert from "node:assert/strict";
import {
  type ClockAction,
  createDiscipline,
  defaultDisciplineSettings,
  disciplineDeadline,
  type DisciplineEvent,
  type DisciplineState,
  disciplineTimer,
  errorBoundAt,
  errorGrowthRate,
  frequencyPollCeilingLog2,
  updateDiscipline,
  usefulPollCeilingLog2,
} from "../../../src/core/discipline/clock_discipline.ts";
import { TRAINING_NOISE_FRACTION } from "../../../src/core/client/training.ts";
import { createRandom } from "../../support/sim/random.ts";

const sources = [1, 2, 3, 4];

/**
 * A local clock `errorPpm` slow or fast, disciplined from four sources whose samples carry
 * uniform queueing of `jitterSeconds` each way (offset error (out - back) / 2).
 */
function fourSourceClock(options: {
  readonly errorPpm: number;
  readonly driftPpm: number | null;
  readonly jitterSeconds: number;
  readonly seed?: number;
}) {
  const random = createRandom(options.seed ?? 1);
  let trueOffset = 0; // local - true
  let appliedPpm = 0;
  let errorPpm = options.errorPpm;
  let now = 0;
  const created = createDiscipline(defaultDisciplineSettings, {
    monotonicSeconds: 0,
    currentFrequencyPpm: 0,
    driftPpm: options.driftPpm,
  });
  let state: DisciplineState = created.state;
  const events: { at: number; event: DisciplineEvent }[] = [];
  const apply = (actions: readonly ClockAction[]) => {
    for (const a of actions) {
      if (a.kind === "step") trueOffset += a.offsetSeconds;
      else appliedPpm = a.freqPpm;
    }
  };
  apply(created.actions);
  const advance = (to: number) => {
    for (;;) {
      const deadline = disciplineDeadline(state);
      const until = deadline !== null && deadline < to ? deadline : to;
      trueOffset += (errorPpm + appliedPpm) * 1e-6 * (until - now);
      now = until;
      if (until === to) break;
      const out = disciplineTimer(state, { monotonicSeconds: now });
      state = out.state;
      apply(out.actions);
    }
  };
  return {
    /** One sample from `sourceId` at `at`; `extraSeconds` shifts what that source reports. */
    measure(at: number, sourceId: number, extraSeconds = 0) {
      advance(at);
      const out = random.uniform() * options.jitterSeconds;
      const back = random.uniform() * options.jitterSeconds;
      const result = updateDiscipline(state, {
        monotonicSeconds: at,
        contributorIds: sources,
        trigger: {
          sourceId,
          monotonicSeconds: at,
          offsetSeconds: -trueOffset + (out - back) / 2 + extraSeconds,
          delaySeconds: 2e-3 + out + back,
          minDelaySeconds: 2e-3,
        },
      });
      state = result.state;
      apply(result.actions);
      for (const event of result.events) events.push({ at, event });
      return result;
    },
    /** Each source once, `spacing` seconds apart, starting at `at`. */
    round(at: number, spacing: number, extra: (id: number) => number = () => 0) {
      for (const [i, id] of sources.entries()) this.measure(at + i * spacing, id, extra(id));
    },
    shiftFrequency(deltaPpm: number) {
      errorPpm += deltaPpm;
    },
    get state() {
      return state;
    },
    get offset() {
      return trueOffset;
    },
    /** The frequency estimate's error, ppm (0 when the correction cancels the oscillator). */
    get frequencyErrorPpm() {
      return state.frequencyPpm + errorPpm;
    },
    events,
  };
}

Deno.test("a drift file 31 ppm off is contradicted within a minute of 16 s samples and forgotten", () => {
  // The oscillator is 20 ppm slow: the right correction is +20, the file says +51.
  const clock = fourSourceClock({ errorPpm: -20, driftPpm: 51, jitterSeconds: 1e-3 });
  for (let t = 0; t <= 10; t += 2) clock.round(t + 0.1, 0.1);
  for (let t = 26; t <= 90; t += 16) clock.round(t, 4);
  const contradicted = clock.events.find((e) => e.event.kind === "priorContradicted");
  assert.ok(contradicted !== undefined, "the drift file was never contradicted");
  assert.ok(contradicted.at <= 60, `contradicted at ${contradicted.at} s`);
  assert.equal(
    contradicted.event.kind === "priorContradicted" && contradicted.event.origin,
    "driftFile",
  );
  assert.equal(clock.state.priorOrigin, "none");
  assert.ok(
    Math.abs(clock.frequencyErrorPpm) < 3,
    `frequency error ${clock.frequencyErrorPpm} ppm`,
  );
  assert.ok(Math.abs(clock.offset) < 500e-6, `offset ${clock.offset}`);
});

Deno.test("a right drift file is kept: no contradiction, frequency error stays small", () => {
  const clock = fourSourceClock({ errorPpm: -20, driftPpm: 20.1, jitterSeconds: 1e-3 });
  for (let t = 0; t <= 10; t += 2) clock.round(t + 0.1, 0.1);
  for (let t = 26; t <= 600; t += 16) clock.round(t, 4);
  assert.equal(clock.events.filter((e) => e.event.kind === "priorContradicted").length, 0);
  assert.ok(Math.abs(clock.frequencyErrorPpm) < 0.5, `frequency error ${clock.frequencyErrorPpm}`);
});

Deno.test("on a 2.5 +- 0.5 ms path the frequency's standard error is honest: the error stays within 3 of them", () => {
  let within = 0;
  const seeds = 40;
  for (let seed = 1; seed <= seeds; seed++) {
    const clock = fourSourceClock({ errorPpm: -20, driftPpm: null, jitterSeconds: 1e-3, seed });
    for (let t = 0; t <= 10; t += 2) clock.round(t + 0.1, 0.1);
    const error = Math.abs(clock.frequencyErrorPpm);
    if (error <= 3 * clock.state.frequencyErrorPpm) within++;
  }
  assert.ok(within >= seeds - 2, `${within} of ${seeds} within three standard errors`);
});

Deno.test("the learnt noise floor follows the path: microseconds on a clean path, more on a jittery one", () => {
  const clean = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 0 });
  const jittery = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 1e-3 });
  for (let t = 0; t <= 600; t += 16) {
    clean.round(t, 4);
    jittery.round(t, 4);
  }
  assert.ok(clean.state.noiseFloorSeconds < 10e-6, `clean ${clean.state.noiseFloorSeconds}`);
  assert.ok(jittery.state.noiseFloorSeconds > 20e-6, `jittery ${jittery.state.noiseFloorSeconds}`);
  assert.ok(jittery.state.phaseErrorSeconds > 5 * clean.state.phaseErrorSeconds);
});

Deno.test("one source that jumps by 5 ms is an outlier, not a change of the clock", () => {
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 0 });
  for (let t = 0; t <= 1200; t += 64) clock.round(t, 16);
  const before = clock.offset;
  for (let t = 1264; t <= 1800; t += 64) clock.round(t, 16, (id) => (id === 1 ? 0.005 : 0));
  assert.equal(clock.events.filter((e) => e.event.kind === "clockChanged").length, 0);
  assert.ok(clock.state.points.some((p) => p.outlier && p.sourceId === 1));
  assert.ok(Math.abs(clock.offset - before) < 50e-6, `offset moved ${clock.offset - before}`);
});

Deno.test("a frequency step of the clock is detected from three sources and followed within minutes", () => {
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 0 });
  for (let t = 0; t <= 3600; t += 64) clock.round(t, 16);
  clock.shiftFrequency(30);
  for (let t = 3664; t <= 4400; t += 64) clock.round(t, 16);
  const changes = clock.events.filter((e) => e.event.kind === "clockChanged");
  assert.deepEqual(changes.filter((e) => e.at < 3600), [], "a change before the step");
  const changed = changes.find((e) => e.at >= 3600);
  assert.ok(changed !== undefined, "no change detected");
  assert.ok(changed.at - 3600 <= 120, `detected after ${changed.at - 3600} s`);
  assert.ok(Math.abs(clock.frequencyErrorPpm) < 0.5, `frequency error ${clock.frequencyErrorPpm}`);
  assert.ok(Math.abs(clock.offset) < 100e-6, `offset ${clock.offset}`);
});

Deno.test("one outlier from a contributor brings the poll ceiling down until a good sample follows", () => {
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 0 });
  for (let t = 0; t <= 1200; t += 64) clock.round(t, 16);
  assert.notEqual(usefulPollCeilingLog2(clock.state), -Infinity);
  clock.measure(1264, 1, 0.002);
  assert.equal(usefulPollCeilingLog2(clock.state), -Infinity);
  assert.ok(clock.state.suspectSinceMonotonicSeconds !== null);
  clock.measure(1280, 2);
  assert.notEqual(usefulPollCeilingLog2(clock.state), -Infinity);
  assert.equal(clock.state.suspectSinceMonotonicSeconds, null);
});

Deno.test("after an outage, a first sample the fit leaves out (an outlier) does not shrink the error bound", () => {
  // The simulated 1 h holdover caught this: the first sample after the outage lay outside the
  // fit of the samples before it, yet the update reset the bound from 4.4 ms to 153 us, three
  // standard errors of that fit's extrapolation, while the clock was 267 us off.
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 0 });
  for (let t = 0; t <= 1200; t += 64) clock.round(t, 16);
  const outageEndSeconds = 1264 + 4000;
  const before = errorBoundAt(clock.state, outageEndSeconds);
  clock.measure(outageEndSeconds, 1, 0.0003); // 300 us from the extrapolation: the wander since
  assert.ok(clock.state.points.at(-1)?.outlier, "the first sample after the outage is an outlier");
  assert.equal(clock.state.lastUpdateMonotonicSeconds, outageEndSeconds);
  assert.ok(
    (clock.state.newestFitSampleMonotonicSeconds ?? Infinity) < 1264,
    "the fit's newest sample is from before the outage",
  );
  const after = errorBoundAt(clock.state, outageEndSeconds);
  assert.ok(after >= 0.9 * before, `bound ${after} s after the update, ${before} s before`);
  assert.ok(after > 0.0003 + 0.9 * 1e-6 * 4000, `bound ${after} s`);
  // Once a sample the fit uses arrives, the bound comes down again.
  clock.measure(outageEndSeconds + 2, 2, 0.0003);
  clock.measure(outageEndSeconds + 4, 3, 0.0003);
  clock.measure(outageEndSeconds + 6, 4, 0.0003);
  assert.equal(clock.state.newestFitSampleMonotonicSeconds, outageEndSeconds + 6);
  const settled = errorBoundAt(clock.state, outageEndSeconds + 6);
  assert.ok(settled < 0.5 * before, `bound ${settled} s once the fit uses new samples`);
  for (let t = outageEndSeconds + 64; t <= outageEndSeconds + 640; t += 64) {
    clock.round(t, 16, () => 0.0003);
  }
  const later = errorBoundAt(clock.state, clock.state.lastUpdateMonotonicSeconds ?? 0);
  assert.ok(later < 0.1 * before, `bound ${later} s ten minutes later`);
});

Deno.test("the error bound starts at three standard errors and grows with the time since the update", () => {
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 1e-3 });
  for (let t = 0; t <= 600; t += 16) clock.round(t, 4);
  const state = clock.state;
  const at = state.lastUpdateMonotonicSeconds ?? 0;
  const slewEnd = state.slewEndMonotonicSeconds ?? at;
  const afterSlew = errorBoundAt(state, slewEnd);
  const later = errorBoundAt(state, slewEnd + 1000);
  assert.ok(afterSlew >= 3 * state.phaseErrorSeconds);
  assert.ok(Math.abs(later - afterSlew - errorGrowthRate(state) * 1000) < 1e-12);
  assert.ok(errorGrowthRate(state) >= 1e-6, "at least 1 ppm for what the fit cannot see");
  assert.equal(
    errorBoundAt(
      createDiscipline(defaultDisciplineSettings, {
        monotonicSeconds: 0,
        currentFrequencyPpm: 0,
        driftPpm: null,
      }).state,
      10,
    ),
    Infinity,
  );
});

Deno.test("frequencyPollCeilingLog2() allows long polls only once the frequency is known", () => {
  const clock = fourSourceClock({ errorPpm: 10, driftPpm: null, jitterSeconds: 1e-3 });
  for (let t = 0; t <= 10; t += 2) clock.round(t + 0.1, 0.1);
  const early = frequencyPollCeilingLog2(clock.state, { measuredOnly: true }) ?? 99;
  for (let t = 26; t <= 3600; t += 64) clock.round(t, 4); // 64 s polls
  const late = frequencyPollCeilingLog2(clock.state, { measuredOnly: true }) ?? -99;
  assert.ok(early < 6, `after the burst: 2^${early} s`);
  assert.ok(late >= 7, `after an hour: 2^${late} s`);
  // Training's stricter rule (a fraction of a sample's noise): the poll it allows is that much shorter.
  const strict = frequencyPollCeilingLog2(clock.state, {
    measuredOnly: true,
    noiseFraction: TRAINING_NOISE_FRACTION,
  });
  assert.equal(strict, late + Math.floor(Math.log2(TRAINING_NOISE_FRACTION)));
  assert.throws(
    () => frequencyPollCeilingLog2(clock.state, { measuredOnly: true, noiseFraction: 0 }),
    RangeError,
  );
});
