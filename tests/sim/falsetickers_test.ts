// Falsetickers and noselect: a server 1 s off, one that answers first, two agreeing liars among five, and a noselect server are never selected.
import assert from "node:assert/strict";
import { runScenario } from "../support/sim/scenario.ts";
import { acceptanceScenario, healthyServers, lanLink, SEEDS, summary } from "./_scenarios.ts";

for (const seed of SEEDS) {
  Deno.test(`one of four servers 1 s off is never selected and never steers the clock (seed ${seed})`, () => {
    const servers = [...healthyServers(3), {
      server: { stratum: 1, offsetSeconds: 1 },
      link: lanLink,
    }];
    const result = runScenario(acceptanceScenario(seed, { servers }));
    console.log(summary(`1 of 4 off by 1 s, seed ${seed}, 2-6 h`, result, 7200));
    assert.ok(result.series.every((p) => p.systemPeerId !== 4));
    assert.equal(result.finalStatuses[3]?.tally, "x");
    assert.ok(result.clock.steps.every((s) => Math.abs(s.offsetSeconds) < 0.2));
    const stats = result.stats(7200);
    assert.ok(stats.rmsOffsetSeconds <= 100e-6 && stats.maxAbsOffsetSeconds <= 500e-6);
  });
}

Deno.test("a falseticker that answers first cannot capture the clock at startup", () => {
  const servers = [
    { server: { stratum: 1, offsetSeconds: 1 }, link: { delaySeconds: 10e-6 } },
    ...healthyServers(3).map((s) => ({ ...s, link: { ...lanLink, delaySeconds: 0.02 } })),
  ];
  const result = runScenario(acceptanceScenario(4, { servers, durationSeconds: 3600 }));
  console.log(summary("fast falseticker", result, 600));
  assert.ok(result.series.every((p) => p.systemPeerId !== 1));
  const steps = result.clock.steps.filter((s) => s.byDriver);
  assert.equal(steps.length, 1);
  assert.ok(Math.abs((steps[0]?.offsetSeconds ?? 0) + 0.1) < 1e-3);
  assert.ok(result.firstSyncSeconds !== null && result.firstSyncSeconds <= 4);
});

for (const seed of SEEDS) {
  Deno.test(`two agreeing falsetickers among five are never selected (seed ${seed})`, () => {
    const liar = { server: { stratum: 1, offsetSeconds: 0.3 }, link: lanLink };
    const result = runScenario(
      acceptanceScenario(seed, { servers: [...healthyServers(3), liar, liar] }),
    );
    console.log(summary(`2 of 5 off by 0.3 s, seed ${seed}, 2-6 h`, result, 7200));
    assert.ok(result.series.every((p) => p.systemPeerId !== 4 && p.systemPeerId !== 5));
    assert.deepEqual(result.finalStatuses.slice(3).map((s) => s.tally), ["x", "x"]);
    const stats = result.stats(7200);
    assert.ok(stats.rmsOffsetSeconds <= 100e-6 && stats.maxAbsOffsetSeconds <= 500e-6);
  });
}

Deno.test("a noselect server is polled and shown but never selected, even when it is the best", () => {
  const servers = [
    { server: { stratum: 1 }, link: { delaySeconds: 10e-6 }, association: { noselect: true } },
    ...healthyServers(3),
  ];
  const result = runScenario(acceptanceScenario(1, { servers, durationSeconds: 2 * 3600 }));
  assert.ok((result.sentPackets[0] ?? 0) > 10);
  assert.ok(result.series.every((p) => p.systemPeerId !== 1));
  assert.equal(result.finalStatuses[0]?.tally, " ");
  assert.equal(result.finalStatuses[0]?.condition, "reachable");
  assert.ok(result.firstSyncSeconds !== null && result.firstSyncSeconds <= 4);
});
