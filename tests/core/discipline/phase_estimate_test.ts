// Tests of the phase estimator: slope as frequency correction, the prior blend, delay-based weights and the clamp.
import assert from "node:assert/strict";
import {
  clampFrequencyPpm,
  estimatePhase,
  type PhaseSample,
} from "../../../src/core/discipline/phase_estimate.ts";

const noPrior = { frequencyPpm: 0, variancePpm2: 1e6 };

function samples(slopePpm: number, times: number[], delay = (_: number) => 1e-4): PhaseSample[] {
  return times.map((t) => ({
    sourceId: 1,
    monotonicSeconds: t,
    phaseSeconds: 0.01 + slopePpm * 1e-6 * t,
    delaySeconds: delay(t),
    minDelaySeconds: 1e-4,
  }));
}

Deno.test("estimatePhase() turns the phase slope into the frequency correction and predicts the phase", () => {
  const points = samples(-50, [0, 64, 128, 192, 256]);
  const est = estimatePhase(points, { history: points, noiseFloorSeconds: 5e-6, prior: noPrior });
  assert.ok(est !== null);
  // The 1000 ppm "no prior" pulls by slope variance / 1e6 of the difference: below 1e-4 ppm.
  assert.ok(Math.abs(est.frequencyPpm + 50) < 1e-4, `freq ${est.frequencyPpm}`);
  assert.ok(Math.abs(est.measuredFrequencyPpm + 50) < 1e-9, `slope ${est.measuredFrequencyPpm}`);
  assert.ok(Math.abs(est.phaseAt(1000) - (0.01 - 50e-6 * 1000)) < 1e-7);
  assert.equal(est.stableSpanSeconds, null);
});

Deno.test("with one instant of data the prior decides the frequency", () => {
  const points = samples(0, [10, 10.0001, 10.0002]);
  const est = estimatePhase(points, {
    history: points,
    noiseFloorSeconds: 5e-6,
    prior: { frequencyPpm: -12, variancePpm2: 0.09 },
  });
  assert.ok(est !== null && Math.abs(est.frequencyPpm + 12) < 0.01, `freq ${est?.frequencyPpm}`);
  assert.ok((est?.frequencyErrorPpm ?? 1) <= 0.3 + 1e-9);
});

Deno.test("a sample delayed by queueing weighs little, judged against the source's minimum delay", () => {
  const points = samples(0, [0, 64, 128, 192]);
  const late: PhaseSample = {
    ...samples(0, [256])[0] as PhaseSample,
    phaseSeconds: 0.01 + 0.0004,
    delaySeconds: 1e-4 + 0.002,
  };
  const all = [...points, late];
  const est = estimatePhase(all, { history: all, noiseFloorSeconds: 5e-6, prior: noPrior });
  // Unweighted, the 0.4 ms outlier would tilt the line by about 2 ppm.
  assert.ok(Math.abs(est?.frequencyPpm ?? 9) < 0.1, `freq ${est?.frequencyPpm}`);
});

Deno.test("estimatePhase() of nothing is null and frequencies are clamped to +-500 ppm", () => {
  assert.equal(estimatePhase([], { history: [], noiseFloorSeconds: 5e-6, prior: noPrior }), null);
  assert.equal(clampFrequencyPpm(812), 500);
  assert.equal(clampFrequencyPpm(-812), -500);
  const steep = samples(900, [0, 10, 20]);
  assert.equal(
    estimatePhase(steep, { history: steep, noiseFloorSeconds: 5e-6, prior: noPrior })?.frequencyPpm,
    500,
  );
});
