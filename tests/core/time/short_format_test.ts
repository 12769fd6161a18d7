// Tests of the 16.16 short format and poll exponent helpers.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  secondsFromShort,
  SHORT_FORMAT_MAX_SECONDS,
  shortFromSeconds,
} from "../../../src/core/time/short_format.ts";
import {
  clampPollLog2,
  MAX_POLL_LOG2,
  MIN_POLL_LOG2,
  pollSeconds,
} from "../../../src/core/time/poll.ts";

Deno.test("secondsFromShort() reads the root delay and dispersion ntpd sent", () => {
  // tshark: Root Delay 0.000046 s (0x00000003), Root Dispersion 0.001221 s (0x00000050).
  assert.equal(secondsFromShort(0x00000003).toFixed(6), "0.000046");
  assert.equal(secondsFromShort(0x00000050).toFixed(6), "0.001221");
  assert.equal(secondsFromShort(0x00010000), 1);
  assert.equal(secondsFromShort(0xffffffff), SHORT_FORMAT_MAX_SECONDS);
});

Deno.test("shortFromSeconds() rounds up, never understating a delay or dispersion", () => {
  assert.equal(shortFromSeconds(0.00122), 0x50);
  assert.equal(shortFromSeconds(1), 0x10000);
  assert.equal(shortFromSeconds(1 / 65536 / 10), 1);
  fc.assert(
    fc.property(fc.double({ min: 0, max: 65535, noNaN: true }), (seconds) => {
      const raw = shortFromSeconds(seconds);
      assert.ok(secondsFromShort(raw) >= seconds);
      assert.ok(secondsFromShort(raw) - seconds <= 1 / 65536);
    }),
  );
});

Deno.test("shortFromSeconds() gives 0 for negative or NaN and saturates above 65536 s", () => {
  assert.equal(shortFromSeconds(-1), 0);
  assert.equal(shortFromSeconds(Number.NaN), 0);
  assert.equal(shortFromSeconds(1e9), 0xffffffff);
  assert.equal(shortFromSeconds(Number.POSITIVE_INFINITY), 0xffffffff);
});

Deno.test("shortFromSeconds() inverts secondsFromShort() for every raw value", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (raw) => {
      assert.equal(shortFromSeconds(secondsFromShort(raw)), raw);
    }),
  );
});

Deno.test("clampPollLog2() keeps poll exponents within -6..17", () => {
  assert.equal(clampPollLog2(-100), MIN_POLL_LOG2);
  assert.equal(clampPollLog2(6), 6);
  assert.equal(clampPollLog2(127), MAX_POLL_LOG2);
  assert.equal(clampPollLog2(Number.NaN), MIN_POLL_LOG2);
  assert.equal(pollSeconds(6), 64);
  assert.equal(pollSeconds(-2), 0.25);
});
