// The moment of a leap second and the 5 s either side of it in which measurements are dropped.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emptyLeapWindow,
  isLeapSecondClose,
  LEAP_SECOND_CLOSE_SECONDS,
  leapDiscontinuityUnixSeconds,
  observeLeapAnnouncement,
  pendingLeapUnixSeconds,
} from "../../../src/core/leap/leap_window.ts";

const july2027 = Date.UTC(2027, 6, 1) / 1000;

Deno.test("an insertion falls at midnight, a deletion when 23:59:59 begins", () => {
  assert.equal(leapDiscontinuityUnixSeconds(1, july2027 - 3600), july2027);
  assert.equal(leapDiscontinuityUnixSeconds(2, july2027 - 3600), july2027 - 1);
  assert.equal(leapDiscontinuityUnixSeconds(1, july2027 - 86_400), july2027);
  // At midnight the announcement belongs to the new day (its end).
  assert.equal(leapDiscontinuityUnixSeconds(1, july2027), july2027 + 86_400);
  assert.equal(leapDiscontinuityUnixSeconds(0, july2027 - 1), null);
});

Deno.test("property: the leap is the end of the day the announcement is made on", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4_102_444_800 }),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      (
        seconds,
        fraction,
      ) => {
        const now = seconds + fraction;
        const leap = leapDiscontinuityUnixSeconds(1, now) as number;
        assert.ok(leap > now && leap - now <= 86_400, `${now} -> ${leap}`);
        assert.equal(leap % 86_400, 0);
        assert.equal(new Date((leap - 1) * 1000).toISOString().slice(11), "23:59:59.000Z");
      },
    ),
  );
});

Deno.test("close means within 5 s either side, the upper bound excluded", () => {
  assert.equal(LEAP_SECOND_CLOSE_SECONDS, 5);
  assert.equal(isLeapSecondClose(july2027 - 5, july2027), true);
  assert.equal(isLeapSecondClose(july2027 - 5.001, july2027), false);
  assert.equal(isLeapSecondClose(july2027 + 4.999, july2027), true);
  assert.equal(isLeapSecondClose(july2027 + 5, july2027), false);
  assert.equal(isLeapSecondClose(july2027, null), false);
});

Deno.test("the window remembers the leap until 5 s after it and forgets a withdrawn one", () => {
  let window = observeLeapAnnouncement(emptyLeapWindow, 1, july2027 - 7200);
  assert.equal(window.leapUnixSeconds, july2027);
  assert.equal(pendingLeapUnixSeconds(window, july2027 - 7200), july2027);
  // Past midnight nothing is announced any more; the leap is still close for 5 s.
  window = observeLeapAnnouncement(window, 0, july2027 + 1);
  assert.equal(pendingLeapUnixSeconds(window, july2027 + 1), july2027);
  assert.equal(pendingLeapUnixSeconds(window, july2027 + 5), null);
  window = observeLeapAnnouncement(window, 0, july2027 + 6);
  assert.equal(window.leapUnixSeconds, null);
  // Withdrawn an hour before: forgotten at once.
  window = observeLeapAnnouncement(emptyLeapWindow, 1, july2027 - 7200);
  window = observeLeapAnnouncement(window, 0, july2027 - 3600);
  assert.equal(window.leapUnixSeconds, null);
});
