// Acceptance: four servers on a 100 us LAN, 100 ms and 50 ppm off at start; synchronised within 4 s, then tight for hours.
import assert from "node:assert/strict";
import { runScenario } from "../support/sim/scenario.ts";
import { acceptanceScenario, SEEDS, summary } from "./_scenarios.ts";

for (const seed of SEEDS) {
  Deno.test(`four servers, 100 ms and 50 ppm off: synchronised within 4 s and within 100 us RMS over 2-6 h (seed ${seed})`, () => {
    const result = runScenario(acceptanceScenario(seed));
    console.log(summary(`seed ${seed}, 2-6 h`, result, 2 * 3600));
    assert.ok(
      result.firstSyncSeconds !== null && result.firstSyncSeconds <= 4,
      `sync at ${result.firstSyncSeconds}`,
    );
    const stats = result.stats(2 * 3600, 6 * 3600);
    assert.ok(stats.samples > 800);
    assert.ok(stats.rmsOffsetSeconds <= 100e-6, `RMS ${stats.rmsOffsetSeconds}`);
    assert.ok(stats.maxAbsOffsetSeconds <= 500e-6, `max ${stats.maxAbsOffsetSeconds}`);
    assert.ok(stats.rmsFrequencyErrorPpm <= 1, `freq RMS ${stats.rmsFrequencyErrorPpm}`);
  });
}

Deno.test("the start makes exactly one step and stays synchronised with LI 0 and stratum 2 from then on", () => {
  const result = runScenario(acceptanceScenario(1));
  const steps = result.clock.steps.filter((s) => s.byDriver);
  assert.equal(steps.length, 1);
  assert.ok(
    Math.abs((steps[0]?.offsetSeconds ?? 0) + 0.1) < 1e-3,
    `step ${steps[0]?.offsetSeconds}`,
  );
  assert.ok((steps[0]?.trueSeconds ?? 99) < 1);
  for (const point of result.series.filter((p) => p.trueSeconds >= 4)) {
    assert.ok(
      point.synchronised && point.leap === 0 && point.stratum === 2 && point.systemPeerId !== 0,
      `at ${point.trueSeconds}`,
    );
  }
  const last = result.clock.syncStatuses.at(-1)?.status;
  assert.equal(last?.synchronised, true);
  assert.ok((last?.maxErrorSeconds ?? 1) < 0.1);
});

Deno.test("the whole first minute stays within 1 ms once synchronised", () => {
  const result = runScenario(acceptanceScenario(2, { durationSeconds: 600 }));
  const after = result.series.filter((p) => p.trueSeconds >= (result.firstSyncSeconds ?? 0));
  assert.ok(after.length > 200);
  assert.ok(Math.max(...after.map((p) => Math.abs(p.offsetSeconds))) < 1e-3);
});
