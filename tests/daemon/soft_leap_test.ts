// The soft clock's leap second: an insertion steps the served time back one second at midnight UTC (23:59:59 repeats), a deletion forward one as 23:59:59 begins; once per leap; withdrawn announcements do nothing.
import assert from "node:assert/strict";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import { SoftLeapSecond } from "../../src/daemon/soft_leap.ts";
import { manualTime } from "./_time_keeping_fakes.ts";

/** A soft clock over a fake host clock that the test moves with the manual timers. */
function setUp(startUnixSeconds: number) {
  const time = manualTime(); // its monotonic clock starts at 1000
  const origin = time.monotonicSeconds();
  const kernel = {
    readRealtime: () => {
      const t = startUnixSeconds + (time.monotonicSeconds() - origin);
      const whole = Math.floor(t);
      return { unixSeconds: whole, nanoseconds: Math.round((t - whole) * 1e9) };
    },
  };
  const clock = createSoftClock({ kernel });
  const served = () => {
    const now = clock.now();
    return now.unixSeconds + now.nanoseconds / 1e9;
  };
  let steps = 0;
  const leap = new SoftLeapSecond({ clock, onStep: () => steps++, time });
  return { time, clock, served, leap, steps: () => steps };
}

const midnight = Date.UTC(2027, 6, 1) / 1000; // 2027-07-01 00:00:00 UTC

Deno.test("an announced insertion repeats 23:59:59: the served time steps back one second at midnight, once, and onStep comes again as the repeated second ends", () => {
  const { time, served, leap, steps } = setUp(midnight - 10);
  leap.announced(1);
  time.runDue(9.5);
  assert.equal(steps(), 0);
  assert.ok(Math.abs(served() - (midnight - 0.5)) < 1e-6);
  time.runDue(0.6); // past midnight: the timer fires
  assert.equal(steps(), 1);
  assert.ok(Math.abs(served() - (midnight - 0.9)) < 1e-6, `served ${served() - midnight}`);
  // Announced again in the repeated second (the date reads June 30 again): not twice.
  leap.announced(1);
  time.runDue(0.85); // 23:59:59.95 again
  assert.equal(steps(), 1);
  // The repeated second over (the new day): onStep once more, to serve LI 0 at once; no step.
  time.runDue(0.1);
  assert.equal(steps(), 2, "onStep when the repeated second ends");
  time.runDue(2);
  assert.equal(steps(), 2);
  assert.ok(Math.abs(served() - (midnight + 2.05)) < 1e-6, `served ${served() - midnight}`);
  leap.close();
  assert.equal(time.pending(), 0);
});

Deno.test("an announced deletion skips 23:59:59: the served time steps forward one second as it begins", () => {
  const { time, served, leap, steps } = setUp(midnight - 10);
  leap.announced(2);
  time.runDue(9.05); // 23:59:59.05
  assert.equal(steps(), 1);
  assert.ok(Math.abs(served() - (midnight + 0.05)) < 1e-6, `served ${served() - midnight}`);
  leap.announced(2); // still announced for a moment: the next day's end is another leap, not this
  time.runDue(0.5);
  assert.equal(steps(), 1, "once");
  leap.close();
});

Deno.test("after close() an announcement arms nothing", () => {
  const { time, leap, steps } = setUp(midnight - 10);
  leap.close();
  leap.announced(1);
  assert.equal(time.pending(), 0);
  time.runDue(20);
  assert.equal(steps(), 0);
});

Deno.test("an announcement withdrawn before the day ends steps nothing and leaves no timer", () => {
  const { time, served, leap, steps } = setUp(midnight - 100);
  leap.announced(1);
  time.runDue(50);
  leap.announced(0);
  time.runDue(60);
  assert.equal(steps(), 0);
  assert.equal(time.pending(), 0);
  assert.ok(served() > midnight);
});
