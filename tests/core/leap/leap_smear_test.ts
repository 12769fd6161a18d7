// Leap smearing: the linear ramp over the interval that ends at the leap, the clamp until the clock has stepped, and a served time that never jumps across the step.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type LeapSmear,
  leapSmearFor,
  smearOffsetSeconds,
} from "../../../src/core/leap/leap_smear.ts";

const leap = Date.UTC(2027, 6, 1) / 1000;

Deno.test("the smear ramps linearly to one second over the interval ending at the leap", () => {
  const insertion = leapSmearFor({ leapUnixSeconds: leap, kind: 1, executing: false }, 7200)!;
  assert.deepEqual(insertion, {
    startUnixSeconds: leap - 7200,
    leapUnixSeconds: leap,
    stepSeconds: -1,
    executing: false,
  });
  assert.equal(smearOffsetSeconds(leap - 7300, insertion), 0);
  assert.equal(smearOffsetSeconds(leap - 7200, insertion), 0);
  assert.equal(smearOffsetSeconds(leap - 3600, insertion), -0.5);
  assert.equal(smearOffsetSeconds(leap - 720, insertion), -0.9);
  // Past the leap and not stepped yet: the whole second.
  assert.equal(smearOffsetSeconds(leap + 0.02, insertion), -1);
  const deletion = leapSmearFor({ leapUnixSeconds: leap - 1, kind: 2, executing: false }, 100)!;
  assert.equal(smearOffsetSeconds(leap - 51, deletion), 0.5);
  assert.equal(leapSmearFor(null, 7200), null);
  assert.equal(leapSmearFor({ leapUnixSeconds: leap, kind: 1, executing: false }, 0), null);
  assert.equal(smearOffsetSeconds(leap, null), 0);
});

Deno.test("while the clock is being stepped, a reading before the leap is the stepped one", () => {
  const executing: LeapSmear = {
    startUnixSeconds: leap - 100,
    leapUnixSeconds: leap,
    stepSeconds: -1,
    executing: true,
  };
  assert.equal(smearOffsetSeconds(leap + 0.001, executing), -1);
  assert.equal(smearOffsetSeconds(leap - 0.999, executing), 0);
  // A deletion: the clock jumps from 23:59:59.0x to 00:00:00.0x; both sides are served right.
  const deleting: LeapSmear = {
    startUnixSeconds: leap - 101,
    leapUnixSeconds: leap - 1,
    stepSeconds: 1,
    executing: true,
  };
  assert.equal(smearOffsetSeconds(leap - 0.98, deleting), 1);
  assert.equal(smearOffsetSeconds(leap + 0.02, deleting), 0);
});

Deno.test("property: the smeared time never jumps, across the ramp and across the clock's step", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 86_400 }),
      fc.constantFrom<1 | 2>(1, 2),
      fc.double({ min: 0.001, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (interval, kind, stepLateSeconds, at) => {
        const moment = kind === 1 ? leap : leap - 1;
        const step = kind === 1 ? -1 : 1;
        const armed = { leapUnixSeconds: moment, kind, executing: false };
        // The smeared time against true time t: the clock reads t before its step (made
        // `stepLateSeconds` after the moment), t + step after it, when the smear is withdrawn.
        const served = (t: number) =>
          t < moment + stepLateSeconds
            ? t + smearOffsetSeconds(t, leapSmearFor(armed, interval))
            : t + step;
        const t = moment - interval - 1 + at * (interval + 2);
        const dt = 1e-3;
        const advance = served(t + dt) - served(t);
        assert.ok(advance > 0, `went back at ${t - moment}`);
        assert.ok(Math.abs(advance - dt) <= dt / interval + 1e-6, `${advance} at ${t - moment}`);
      },
    ),
  );
});
