// Poll adaptation and the drift file: the poll reaches 1024 s when stable and drops when not; a drift file skips frequency training.
import assert from "node:assert/strict";
import { runScenario } from "../support/sim/scenario.ts";
import { acceptanceScenario, summary } from "./_scenarios.ts";

const stableClock = { initialOffsetSeconds: 0.1, frequencyErrorPpm: 50 } as const;

Deno.test("on a stable network the poll climbs to 1024 s and stays there", () => {
  const result = runScenario(
    acceptanceScenario(1, { clock: stableClock, durationSeconds: 8 * 3600 }),
  );
  const reached = result.series.find((p) => p.pollsLog2.every((x) => x === 10));
  assert.ok(reached !== undefined);
  console.log(
    `${summary("stable oscillator, 2-8 h", result, 7200)}; all polls 1024 s from ${
      (reached.trueSeconds / 60).toFixed(0)
    } min`,
  );
  assert.ok(reached.trueSeconds < 2 * 3600);
  assert.ok(
    result.series.filter((p) => p.trueSeconds >= reached.trueSeconds).every((p) =>
      p.pollsLog2.every((x) => x === 10)
    ),
  );
  assert.ok(result.stats(7200).rmsOffsetSeconds <= 20e-6);
});

Deno.test("a sudden 1 ppm frequency change brings the poll down, and the clock recovers", () => {
  const changeAt = 5 * 3600;
  const result = runScenario(acceptanceScenario(1, {
    clock: stableClock,
    durationSeconds: 9 * 3600,
    interventions: [{ atSeconds: changeAt, run: (clock) => clock.shiftFrequency(1) }],
  }));
  const before = result.series.find((p) => p.trueSeconds >= changeAt);
  assert.ok(before?.pollsLog2.every((x) => x === 10));
  const dropped = result.series.find((p) =>
    p.trueSeconds > changeAt && p.pollsLog2.some((x) => x < 10)
  );
  assert.ok(dropped !== undefined, "poll never dropped");
  console.log(
    `${summary("1 ppm step at 5 h, 7-9 h", result, 7 * 3600)}; poll dropped ${
      (dropped.trueSeconds - changeAt).toFixed(0)
    } s after`,
  );
  assert.ok(dropped.trueSeconds - changeAt < 3 * 1100);
  const stats = result.stats(7 * 3600);
  assert.ok(stats.rmsOffsetSeconds <= 100e-6 && stats.rmsFrequencyErrorPpm <= 0.1);
});

Deno.test("a restart with a drift file skips frequency training: small frequency error from the first seconds", () => {
  let worstWithDrift = 0;
  let worstWithout = 0;
  for (const seed of [5, 6, 7]) {
    const withDrift = runScenario(
      acceptanceScenario(seed, { driftPpm: -49.9, durationSeconds: 1200 }),
    );
    const without = runScenario(acceptanceScenario(seed, { durationSeconds: 1200 }));
    const a = withDrift.stats(3, 600);
    const b = without.stats(3, 600);
    console.log(
      `seed ${seed}, 3-600 s: freq error max ${
        a.maxAbsFrequencyErrorPpm.toFixed(3)
      } ppm with the drift file, ${b.maxAbsFrequencyErrorPpm.toFixed(3)} ppm without; offset max ${
        (a.maxAbsOffsetSeconds * 1e6).toFixed(0)
      } us vs ${(b.maxAbsOffsetSeconds * 1e6).toFixed(0)} us`,
    );
    assert.ok(withDrift.firstSyncSeconds !== null && withDrift.firstSyncSeconds <= 4);
    assert.ok(a.maxAbsFrequencyErrorPpm <= 0.4, `seed ${seed}: ${a.maxAbsFrequencyErrorPpm}`);
    assert.ok(a.maxAbsOffsetSeconds <= 100e-6);
    worstWithDrift = Math.max(worstWithDrift, a.maxAbsFrequencyErrorPpm);
    worstWithout = Math.max(worstWithout, b.maxAbsFrequencyErrorPpm);
  }
  assert.ok(worstWithout > 2 * worstWithDrift, `without ${worstWithout}, with ${worstWithDrift}`);
});
