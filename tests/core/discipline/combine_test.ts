// Tests of the combine algorithm: weights 1 / root distance and the jitter around the system peer.
import assert from "node:assert/strict";
import { combine } from "../../../src/core/discipline/combine.ts";

Deno.test("combine() averages offsets with weights 1 / root distance", () => {
  const result = combine(
    [{ offsetSeconds: 0.001, rootDistanceSeconds: 0.01 }, {
      offsetSeconds: 0.004,
      rootDistanceSeconds: 0.03,
    }],
    { systemPeerOffsetSeconds: 0.001 },
  );
  // (0.001 * 100 + 0.004 * 33.3) / 133.3 = 0.00175
  assert.ok(Math.abs(result.offsetSeconds - 0.00175) < 1e-12);
  const expectedJitter = Math.sqrt(((0.003 ** 2) * (1 / 0.03)) / (100 + 1 / 0.03));
  assert.ok(Math.abs(result.jitterSeconds - expectedJitter) < 1e-12);
});

Deno.test("combine() of one survivor is its offset with zero jitter", () => {
  const result = combine([{ offsetSeconds: -0.2, rootDistanceSeconds: 0.5 }], {
    systemPeerOffsetSeconds: -0.2,
  });
  assert.equal(result.offsetSeconds, -0.2);
  assert.equal(result.jitterSeconds, 0);
});

Deno.test("combine() refuses an empty survivor list", () => {
  assert.throws(() => combine([], { systemPeerOffsetSeconds: 0 }), RangeError);
});
