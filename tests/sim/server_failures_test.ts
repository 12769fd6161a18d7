// Server failures: the system peer dies (reselection), all die (holdover until the root distance says stop), RATE and DENY kisses.
import assert from "node:assert/strict";
import { runScenario } from "../support/sim/scenario.ts";
import { acceptanceScenario, healthyServers, lanLink, summary } from "./_scenarios.ts";

Deno.test("when the system peer dies another source takes over and the clock stays within limits", () => {
  const dieAt = 3 * 3600;
  const before = runScenario(acceptanceScenario(2, { durationSeconds: dieAt }));
  const victim = before.series.at(-1)?.systemPeerId ?? 0;
  assert.ok(victim > 0);
  const servers = healthyServers(4).map((s, i) => ({
    ...s,
    server: { ...s.server, dieAtSeconds: i + 1 === victim ? dieAt : null },
  }));
  const result = runScenario(acceptanceScenario(2, { servers }));
  console.log(summary(`system peer ${victim} dies at 3 h, 3-6 h`, result, dieAt));
  const takeover = result.series.find((p) => p.trueSeconds > dieAt && p.systemPeerId !== victim);
  assert.ok(takeover !== undefined && takeover.systemPeerId !== 0);
  console.log(
    `new system peer ${takeover.systemPeerId} after ${(takeover.trueSeconds - dieAt).toFixed(0)} s`,
  );
  assert.ok(
    takeover.trueSeconds - dieAt < 3 * 1100,
    `takeover after ${takeover.trueSeconds - dieAt} s`,
  );
  assert.ok(
    result.series.filter((p) => p.trueSeconds >= takeover.trueSeconds).every((p) =>
      p.systemPeerId !== victim && p.synchronised
    ),
  );
  const stats = result.stats(dieAt);
  assert.ok(stats.rmsOffsetSeconds <= 100e-6 && stats.maxAbsOffsetSeconds <= 500e-6);
  const unreachable = result.events.filter((e) => e.event.kind === "unreachable");
  assert.equal(unreachable.length, 1);
  assert.equal(result.finalStatuses[victim - 1]?.condition, "unreachable");
  assert.equal(result.finalStatuses[victim - 1]?.tally, " ");
});

Deno.test("when every server dies the frequency is kept, root dispersion grows at the measured rate, and sync ends when 15 ppm of holdover reach 1.5 s", () => {
  const dieAt = 2 * 3600;
  const servers = healthyServers(4).map((s) => ({
    ...s,
    server: { ...s.server, dieAtSeconds: dieAt },
  }));
  const result = runScenario(acceptanceScenario(3, {
    servers,
    clock: { initialOffsetSeconds: 0.1, frequencyErrorPpm: 50 },
    durationSeconds: 40 * 3600,
    sampleIntervalSeconds: 60,
  }));
  const atDeath = result.series.find((p) => p.trueSeconds >= dieAt);
  assert.ok(atDeath !== undefined && atDeath.synchronised);
  const holdover = result.series.filter((p) => p.trueSeconds > dieAt + 3 * 3600);
  // Frequency kept: the estimate does not move once the last sample is in.
  const frozen = holdover[0]?.frequencyErrorPpm ?? NaN;
  assert.ok(holdover.every((p) => p.frequencyErrorPpm === frozen));
  assert.ok(Math.abs(frozen) < 0.05, `frequency error ${frozen}`);
  // Root dispersion grows at the discipline's rate: 1 ppm plus three frequency standard errors,
  // and still covers the actual error.
  const a = holdover.find((p) => p.trueSeconds >= 6 * 3600);
  const b = holdover.find((p) => p.trueSeconds >= 20 * 3600);
  assert.ok(a && b);
  const growth = (b.rootDispersionSeconds - a.rootDispersionSeconds) /
    (b.trueSeconds - a.trueSeconds);
  assert.ok(growth >= 1e-6 && growth < 1.1e-6, `growth ${growth}`);
  for (const p of holdover.filter((p) => p.synchronised)) {
    assert.ok(Math.abs(p.offsetSeconds) <= p.rootDispersionSeconds + p.rootDelaySeconds / 2);
  }
  // The clock drifts only as far as the frequency error allows.
  const drift =
    Math.abs((b.offsetSeconds - (atDeath?.offsetSeconds ?? 0)) / (b.trueSeconds - dieAt)) * 1e6;
  assert.ok(drift < 0.05, `drift ${drift} ppm`);
  // Synchronised (LI 0, stratum 2) until root distance passes 1.5 s, then LI 3 / stratum 16.
  const lost = result.events.find((e) => e.event.kind === "unsynchronised");
  assert.ok(
    lost !== undefined && lost.event.kind === "unsynchronised" &&
      lost.event.reason === "rootDistance",
  );
  console.log(
    `all servers dead at 2 h: synchronised in holdover until ${
      (lost.trueSeconds / 3600).toFixed(2)
    } h, frequency error ${frozen.toFixed(4)} ppm`,
  );
  assert.ok(lost.trueSeconds > dieAt + 25 * 3600 && lost.trueSeconds < dieAt + 30 * 3600);
  for (const p of result.series.filter((p) => p.trueSeconds > dieAt)) {
    if (p.trueSeconds < lost.trueSeconds) {
      assert.ok(p.synchronised && p.leap === 0 && p.stratum === 2);
    } else assert.ok(!p.synchronised && p.leap === 3 && p.stratum === 16);
  }
  assert.equal(result.clock.syncStatuses.at(-1)?.status.synchronised, false);
  assert.ok(result.series.at(-1)?.systemPeerId === 0);
});

Deno.test("a RATE kiss backs the poll off at least twofold and the server stops kissing", () => {
  const servers = healthyServers(4).map((s, i) => ({
    ...s,
    server: { ...s.server, rateLimitSeconds: i === 1 ? 100 : null },
  }));
  const result = runScenario(acceptanceScenario(1, { servers, durationSeconds: 3 * 3600 }));
  const kisses = result.events.filter((e) => e.event.kind === "kissOfDeath");
  assert.equal(kisses.length, 1);
  const kiss = kisses[0];
  assert.ok(
    kiss?.event.kind === "kissOfDeath" && kiss.event.associationId === 2 &&
      kiss.event.code === "RATE",
  );
  assert.ok(kiss.event.pollLog2 >= 7);
  console.log(
    `RATE kiss at ${
      kiss.trueSeconds.toFixed(1)
    } s: poll now 2^${kiss.event.pollLog2}; server sent ${result.servers[1]?.kissesSent} kiss(es)`,
  );
  assert.ok((result.servers[1]?.kissesSent ?? 99) <= 2);
  for (const p of result.series.filter((p) => p.trueSeconds > kiss.trueSeconds)) {
    assert.ok((p.pollsLog2[1] ?? 0) >= 7);
  }
  assert.equal(result.finalStatuses[1]?.condition, "reachable");
  assert.ok(result.firstSyncSeconds !== null && result.firstSyncSeconds <= 4);
});

Deno.test("a DENY kiss stops polling that server for good while the others keep time", () => {
  const servers = [...healthyServers(2), {
    server: { stratum: 1, kissCode: "DENY" },
    link: lanLink,
  }, ...healthyServers(1)];
  const result = runScenario(acceptanceScenario(1, { servers, durationSeconds: 2 * 3600 }));
  assert.equal(result.sentPackets[2], 1);
  assert.equal(result.finalStatuses[2]?.condition, "demobilised");
  assert.equal(result.events.filter((e) => e.event.kind === "demobilised").length, 1);
  assert.ok(result.firstSyncSeconds !== null && result.firstSyncSeconds <= 4);
  const stats = result.stats(3600);
  assert.ok(stats.rmsOffsetSeconds <= 100e-6);
});
