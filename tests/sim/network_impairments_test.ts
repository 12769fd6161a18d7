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

/**
 * The real benchmark's asymmetric path (scripts/keep_time): out 6 ms + U(0, 2 ms), back 2.5 ms +
 * U(0, 0.5 ms). No client can see the fixed part: the lowest-delay samples are 1.75 ms off, the
 * average ones 2.125 ms. Twelve seeds measured (RMS about 1.75 ms from 60 s): 66-557 us over
 * 300 s, 129-312 us over 1800 s. Weighting the queueing excess two or three times harder
 * (excess / 2 or excess as the standard deviation instead of excess / (2 sqrt 3)) did not
 * lower that (300 s median 432 and 439 us vs 420) and doubled to quadrupled the error on the
 * symmetric 2.5 +- 0.5 ms path (300 s median 202 and 443 us vs 92): the spread between runs is
 * the frequency's, not the filter's bias. The noise floor learnt on this path is 60-170 us, for
 * which a plain weighted mean by the model would sit at 1.88-1.92 ms; the 60-1800 s means are 1.85-2.06 ms
 * (median 1.98). Learning the floor from the low-excess samples' spread about their own mean
 * (instead of about the fitted line, which the one-sided queueing pulls away from them) moved
 * that median by 26 us (2026-12-07): the floor is not what holds the estimate near 2 ms.
 */
export const oneSidedQueueingLink = {
  delaySeconds: 2.5e-3,
  jitterUniformSeconds: 0.5e-3,
  asymmetrySeconds: 3.5e-3,
  outboundJitterUniformSeconds: 1.5e-3,
} as const;

for (const seed of SEEDS) {
  Deno.test(`one-sided queueing (6+-1 ms out, 2.5+-0.25 ms back) stays between the lowest-delay and the average bias, give or take 0.6 ms (seed ${seed})`, () => {
    const servers = healthyServers(4).map((s) => ({ ...s, link: oneSidedQueueingLink }));
    const result = runScenario({
      servers,
      clock: { initialOffsetSeconds: -0.037, frequencyErrorPpm: -20 },
      durationSeconds: 1800,
      seed,
    });
    console.log(summary(`one-sided queueing, seed ${seed}, 60-1800 s`, result, 60));
    const window = result.series.filter((p) => p.trueSeconds >= 60);
    const lowestDelayBias = 1.75e-3;
    const averageBias = 2.125e-3;
    const aboutFloor = window.map((p) => p.offsetSeconds - lowestDelayBias);
    const rms = Math.sqrt(aboutFloor.reduce((s, o) => s + o * o, 0) / aboutFloor.length);
    assert.ok(rms <= 450e-6, `RMS about the lowest-delay bias ${rms}`);
    assert.ok(
      window.every((p) =>
        p.offsetSeconds > lowestDelayBias - 0.6e-3 && p.offsetSeconds < averageBias + 0.6e-3
      ),
      `range ${Math.min(...window.map((p) => p.offsetSeconds))}..${
        Math.max(...window.map((p) => p.offsetSeconds))
      }`,
    );
  });
}
