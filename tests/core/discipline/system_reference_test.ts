// Tests of the system variables after a clock update: stratum, refid, root delay and dispersion, and their growth.
import assert from "node:assert/strict";
import { refidFromIPv6 } from "../../../src/core/packet/refid.ts";
import {
  addSecondsToTimestamp,
  holdoverDistanceAt,
  holdoverEndsAt,
  referenceFromUpdate,
  rootDispersionAt,
  rootDistanceAt,
  synchronisedVariables,
} from "../../../src/core/discipline/system_reference.ts";

const peer = {
  address: new Uint8Array([192, 0, 2, 7]),
  stratum: 1,
  rootDelaySeconds: 0.001,
  rootDispersionSeconds: 0.0005,
  delaySeconds: 0.0002,
  dispersionSeconds: 0.0001,
  jitterSeconds: 3e-5,
  updateMonotonicSeconds: 100,
};
const update = {
  offsetSeconds: 2e-5,
  disciplineErrorSeconds: 1e-5,
  errorGrowthSecondsPerSecond: 1e-6,
  systemJitterSeconds: 4e-5,
  leap: 0 as const,
  referenceTime: { seconds: 3_900_000_000, fraction: 0 },
  monotonicSeconds: 110,
};

Deno.test("referenceFromUpdate() sets stratum + 1, the IPv4 refid and root delay per RFC 5905", () => {
  const ref = referenceFromUpdate(peer, update);
  assert.equal(ref.stratum, 2);
  assert.equal(ref.referenceId, 0xc0000207);
  assert.ok(Math.abs(ref.rootDelaySeconds - 0.0012) < 1e-15);
  // 0.0005 + 1e-6 * 10 + max(2e-5, 1e-5) + hypot(3e-5, 4e-5): no 1 ms floor, no filter dispersion
  assert.ok(Math.abs(ref.rootDispersionSeconds - (0.0005 + 1e-5 + 2e-5 + 5e-5)) < 1e-15);
  assert.deepEqual(ref.referenceTime, update.referenceTime);
});

Deno.test("referenceFromUpdate() takes the discipline's error when it exceeds the offset", () => {
  const ref = referenceFromUpdate(peer, { ...update, disciplineErrorSeconds: 3e-4 });
  assert.ok(Math.abs(ref.rootDispersionSeconds - (0.0005 + 1e-5 + 3e-4 + 5e-5)) < 1e-15);
  const unknown = referenceFromUpdate(peer, { ...update, disciplineErrorSeconds: Infinity });
  assert.ok(Number.isFinite(unknown.rootDispersionSeconds));
});

Deno.test("referenceFromUpdate() uses the MD5 refid for an IPv6 system peer", () => {
  const address = new Uint8Array(16);
  address[15] = 1;
  assert.equal(
    referenceFromUpdate({ ...peer, address }, update).referenceId,
    refidFromIPv6(address),
  );
});

Deno.test("root dispersion grows at the discipline's error rate; holdover distance at 15 ppm", () => {
  const ref = referenceFromUpdate(peer, update);
  const later = rootDispersionAt(ref, { monotonicSeconds: 110 + 1000 });
  assert.ok(Math.abs(later - ref.rootDispersionSeconds - 0.001) < 1e-12);
  assert.ok(Math.abs(rootDistanceAt(ref, { monotonicSeconds: 1110 }) - (0.0006 + later)) < 1e-12);
  const holdover = holdoverDistanceAt(ref, { monotonicSeconds: 1110 });
  assert.ok(Math.abs(holdover - (0.0006 + ref.rootDispersionSeconds + 0.015)) < 1e-12);
  const sync = synchronisedVariables(ref, { monotonicSeconds: 1110 });
  assert.equal(sync.stratum, 2);
  assert.equal(sync.rootDispersionSeconds, later);
});

Deno.test("holdover ends when either distance passes 1.5 s: ntpd's 15 ppm or the one published", () => {
  // A well-known frequency (1 ppm): ntpd's 15 ppm growth decides, about 27 h.
  const known = referenceFromUpdate(peer, update);
  const start = 0.0006 + known.rootDispersionSeconds;
  assert.ok(Math.abs(holdoverEndsAt(known) - (110 + (1.5 - start) / 15e-6)) < 1e-6);
  // A poorly known one (23 ppm): the published distance decides, and sooner.
  const poor = referenceFromUpdate(peer, { ...update, errorGrowthSecondsPerSecond: 23e-6 });
  const ends = holdoverEndsAt(poor);
  assert.ok(Math.abs(ends - (110 + (1.5 - 0.0006 - poor.rootDispersionSeconds) / 23e-6)) < 1e-6);
  assert.ok(ends - 110 < 18.2 * 3600, `${(ends - 110) / 3600} h`);
  // Up to the end both the published distance and the judged one stay within 1.5 s...
  const justBefore = { monotonicSeconds: ends - 1 };
  assert.ok(rootDistanceAt(poor, justBefore) <= 1.5);
  assert.ok(holdoverDistanceAt(poor, justBefore) <= 1.5);
  // ...and past it the judged distance is the published one, over 1.5 s.
  const after = { monotonicSeconds: ends + 60 };
  assert.equal(holdoverDistanceAt(poor, after), rootDistanceAt(poor, after));
  assert.ok(holdoverDistanceAt(poor, after) > 1.5);
});

Deno.test("addSecondsToTimestamp() carries into seconds and wraps at the era boundary", () => {
  assert.deepEqual(addSecondsToTimestamp({ seconds: 10, fraction: 0 }, 0.5), {
    seconds: 10,
    fraction: 2 ** 31,
  });
  assert.deepEqual(addSecondsToTimestamp({ seconds: 10, fraction: 2 ** 31 }, 0.75), {
    seconds: 11,
    fraction: 2 ** 30,
  });
  assert.deepEqual(addSecondsToTimestamp({ seconds: 0xffffffff, fraction: 0 }, 1), {
    seconds: 0,
    fraction: 0,
  });
  assert.deepEqual(addSecondsToTimestamp({ seconds: 0, fraction: 0 }, -0.5), {
    seconds: 0xffffffff,
    fraction: 2 ** 31,
  });
});
