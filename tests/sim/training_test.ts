// Training: after a start on a jittery path, iburst associations send extra requests (at least 16 s apart) until the frequency is known, then keep to their poll; never without iburst, never after a RATE kiss.
import assert from "node:assert/strict";
import { runScenario } from "../support/sim/scenario.ts";
import {
  TRAINING_INTERVAL_SECONDS,
  TRAINING_WINDOW_SECONDS,
} from "../../src/core/client/time_keeper.ts";
import { wanClock, wanLink } from "./_keep_time_matrix.ts";
import { healthyServers } from "./_scenarios.ts";

const wanServers = (iburst: boolean) =>
  healthyServers(4).map((s) => ({ ...s, link: wanLink, association: { iburst } }));

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

Deno.test("on a jittery path iburst associations train at >= 16 s spacing, then poll every 64 s or more", () => {
  const result = runScenario({
    servers: wanServers(true),
    clock: wanClock,
    durationSeconds: 3600,
    seed: 1,
  });
  for (const times of result.sendTimes) {
    const afterBurst = times.filter((t) => t > 12);
    const training = afterBurst.filter((t) => t < 300);
    // Without training: four polls in those 288 s.
    assert.ok(training.length >= 6, `only ${training.length} requests in 12-300 s`);
    for (const [i, gap] of gaps(afterBurst).entries()) {
      // Requests are spaced in monotonic seconds, which run at the local clock's rate.
      assert.ok(gap >= TRAINING_INTERVAL_SECONDS * (1 - 1e-4), `gap ${gap} after ${afterBurst[i]}`);
    }
    const late = times.filter((t) => t > TRAINING_WINDOW_SECONDS + 120);
    for (const gap of gaps(late)) assert.ok(gap >= 64 * (1 - 1e-4), `gap ${gap} after the window`);
  }
  const stats = result.stats(60, 600);
  console.log(
    `training: requests per association in 12-300 s: ${
      result.sendTimes.map((t) => t.filter((x) => x > 12 && x < 300).length).join(", ")
    }; offset RMS 60-600 s ${(stats.rmsOffsetSeconds * 1e6).toFixed(0)} us`,
  );
});

Deno.test("training lasts until the frequency is known well enough: 40 starts on a jittery path stay within 220 us RMS from 60 to 300 s", () => {
  // With training stopped once the frequency's drift over a 64 s poll was within one sample's
  // noise (before TRAINING_NOISE_FRACTION), these 40 seeds gave a median of 120 us and a worst of
  // 358 us; with a quarter of it, 90 us and 170 us.
  const rmsUs: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const result = runScenario({
      servers: wanServers(true),
      clock: wanClock,
      durationSeconds: 300,
      seed,
      sampleIntervalSeconds: 2,
    });
    rmsUs.push(result.stats(60, 300).rmsOffsetSeconds * 1e6);
  }
  const sorted = [...rmsUs].sort((a, b) => a - b);
  const median = sorted[20]!;
  const worst = sorted[39]!;
  console.log(
    `40 seeds, offset RMS 60-300 s: median ${median.toFixed(0)} us, worst ${worst.toFixed(0)} us`,
  );
  assert.ok(median <= 110, `median ${median} us`);
  assert.ok(worst <= 220, `worst ${worst} us`);
});

Deno.test("without iburst there is no training: one request per poll", () => {
  const result = runScenario({
    servers: wanServers(false),
    clock: wanClock,
    durationSeconds: 1200,
    seed: 1,
  });
  assert.equal(result.sendTimes.length, 4);
  for (const times of result.sendTimes) {
    assert.ok(times.length >= 10, `${times.length} requests in 1200 s`);
    for (const gap of gaps(times)) assert.ok(gap >= 64 * (1 - 1e-4), `gap ${gap}`);
  }
});

Deno.test("a server that sent a RATE kiss gets no training requests", () => {
  const servers = wanServers(true).map((s, i) => ({
    ...s,
    server: { ...s.server, rateLimitSeconds: i === 0 ? 30 : null },
  }));
  const result = runScenario({ servers, clock: wanClock, durationSeconds: 1200, seed: 1 });
  const kiss = result.events.find((e) => e.event.kind === "kissOfDeath");
  assert.ok(kiss !== undefined, "the rate-limited server never kissed");
  const after = (result.sendTimes[0] ?? []).filter((t) => t > kiss.trueSeconds + 1);
  assert.ok(after.length >= 4, `${after.length} requests after the kiss`);
  for (const gap of gaps(after)) assert.ok(gap >= 128 * (1 - 1e-4), `gap ${gap} after the kiss`);
});

for (const maxPollLog2 of [6, 10]) {
  Deno.test(`a lone server that sent a RATE kiss gets one request per poll from then on (maxpoll ${maxPollLog2})`, () => {
    // One source, so nothing else settles the frequency; minpoll 6 with maxpoll 6 cannot raise
    // the poll floor, so only the kiss itself can keep the extra requests away.
    const servers = wanServers(true).slice(0, 1).map((s) => ({
      ...s,
      association: { iburst: true, minPollLog2: 6, maxPollLog2 },
      server: { ...s.server, rateLimitSeconds: 20 },
    }));
    for (const seed of [1, 2, 3]) {
      const result = runScenario({ servers, clock: wanClock, durationSeconds: 1800, seed });
      const kisses = result.events.filter((e) => e.event.kind === "kissOfDeath");
      assert.ok(kisses.length >= 1, `seed ${seed}: the rate-limited server never kissed`);
      const first = kisses[0]!.trueSeconds;
      const after = (result.sendTimes[0] ?? []).filter((t) => t > first + 1);
      assert.ok(after.length >= 4, `seed ${seed}: ${after.length} requests after the kiss`);
      for (const gap of gaps(after)) {
        assert.ok(gap >= 64 * (1 - 1e-4), `seed ${seed}: gap ${gap} after the kiss`);
      }
      assert.equal(kisses.length, 1, `seed ${seed}: kissed again at ${kisses[1]?.trueSeconds} s`);
    }
  });
}
