// Network impairments: 30 % packet loss each way, and an asymmetric path whose error theory bounds at half the asymmetry.
import assert from "node:assert/strict";
import { runScenario, verdictCount } from "../support/sim/scenario.ts";
import { acceptanceScenario, healthyServers, lanLink, SEEDS, summary } from "./_scenarios.ts";

for (const seed of SEEDS) {
  Deno.test(`30 % loss on every packet keeps the clock within 100 us RMS over 2-6 h (seed ${seed})`, () => {
    const servers = healthyServers(4).map((s) => ({
      ...s,
      link: { ...lanLink, lossProbability: 0.3 },
    }));
    const result = runScenario(acceptanceScenario(seed, { servers }));
    console.log(summary(`30% loss, seed ${seed}, 2-6 h`, result, 7200));
    const sent = result.sentPackets.reduce((a, b) => a + b, 0);
    const received = verdictCount(result, "sample");
    assert.ok(received < 0.6 * sent && received > 0.35 * sent, `received ${received} of ${sent}`);
    assert.ok(
      result.firstSyncSeconds !== null && result.firstSyncSeconds <= 10,
      `sync at ${result.firstSyncSeconds}`,
    );
    const stats = result.stats(7200);
    assert.ok(stats.rmsOffsetSeconds <= 100e-6, `RMS ${stats.rmsOffsetSeconds}`);
    assert.ok(stats.maxAbsOffsetSeconds <= 500e-6, `max ${stats.maxAbsOffsetSeconds}`);
    assert.ok(stats.rmsFrequencyErrorPpm <= 1);
  });
}

Deno.test("an asymmetric path shifts the clock by half the asymmetry, as theory says, and no more", () => {
  const asymmetrySeconds = 1e-3;
  const servers = healthyServers(4).map((s) => ({ ...s, link: { ...lanLink, asymmetrySeconds } }));
  const result = runScenario(acceptanceScenario(1, { servers }));
  console.log(summary("1 ms outbound asymmetry, 2-6 h", result, 7200));
  const window = result.series.filter((p) => p.trueSeconds >= 7200);
  const mean = window.reduce((s, p) => s + p.offsetSeconds, 0) / window.length;
  // Outbound longer: the server's time looks later, so the clock is set ahead by asymmetry / 2.
  assert.ok(Math.abs(mean - asymmetrySeconds / 2) < 50e-6, `mean ${mean}`);
  assert.ok(window.every((p) => Math.abs(p.offsetSeconds - asymmetrySeconds / 2) < 150e-6));
  // The protocol's own bound: the error never exceeds half the round-trip delay (1.2 ms + jitter).
  assert.ok(
    window.every((p) =>
      Math.abs(p.offsetSeconds) < (2 * lanLink.delaySeconds + asymmetrySeconds) / 2 + 100e-6
    ),
  );
});
