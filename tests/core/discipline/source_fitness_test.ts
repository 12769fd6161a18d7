// Tests of root distance and the fitness rules that decide which sources selection may consider.
import assert from "node:assert/strict";
import {
  baseDistance,
  rootDistance,
  unfitReason,
} from "../../../src/core/discipline/source_fitness.ts";

const inputs = {
  rootDelaySeconds: 0.01,
  rootDispersionSeconds: 0.002,
  delaySeconds: 0.004,
  dispersionSeconds: 0.001,
  jitterSeconds: 0.0005,
  updateMonotonicSeconds: 100,
};

Deno.test("rootDistance() adds half the delays, the dispersions, 15 ppm of age and the jitter", () => {
  const expected = 0.014 / 2 + 0.002 + 0.001 + 15e-6 * 1000 + 0.0005;
  assert.ok(Math.abs(rootDistance(inputs, { monotonicSeconds: 1100 }) - expected) < 1e-15);
  assert.ok(Math.abs(baseDistance(inputs) - (0.007 + 0.002 + 0.0005)) < 1e-15);
});

Deno.test("rootDistance() never goes below 1 ms (ntpd's mindist)", () => {
  const tiny = {
    ...inputs,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0,
    delaySeconds: 1e-4,
    dispersionSeconds: 0,
    jitterSeconds: 0,
  };
  assert.equal(rootDistance(tiny, { monotonicSeconds: 100 }), 0.001);
  assert.equal(baseDistance(tiny), 0.001);
});

const fit = {
  noselect: false,
  demobilised: false,
  hasSample: true,
  reach: 0x01,
  stratum: 2,
  rootDistanceSeconds: 0.05,
  pollLog2: 6,
  referenceId: 0xc0000201,
  localReferenceIds: [0x0a000001],
};

Deno.test("unfitReason() accepts a reachable synchronised source at a sane distance", () => {
  assert.equal(unfitReason(fit), null);
});

Deno.test("unfitReason() names each rule that rejects a source", () => {
  assert.equal(unfitReason({ ...fit, noselect: true }), "noselect");
  assert.equal(unfitReason({ ...fit, demobilised: true }), "demobilised");
  assert.equal(unfitReason({ ...fit, hasSample: false }), "noSample");
  assert.equal(unfitReason({ ...fit, reach: 0 }), "unreachable");
  assert.equal(unfitReason({ ...fit, stratum: 16 }), "stratum");
  assert.equal(unfitReason({ ...fit, stratum: 0 }), "stratum");
  assert.equal(unfitReason({ ...fit, referenceId: 0x0a000001 }), "loop");
});

Deno.test("unfitReason() allows MAXDIST plus 15 ppm of one poll interval", () => {
  assert.equal(
    unfitReason({ ...fit, pollLog2: 10, rootDistanceSeconds: 1.5 + 15e-6 * 1024 - 1e-6 }),
    null,
  );
  assert.equal(
    unfitReason({ ...fit, pollLog2: 10, rootDistanceSeconds: 1.5 + 15e-6 * 1024 + 1e-6 }),
    "distance",
  );
});
