// Tests the drift file text format and the at-most-hourly / on-clean-exit write policy.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  afterDriftWrite,
  driftWriteDue,
  driftWriteIntervalSeconds,
  formatDriftText,
  initialDriftWriteState,
  parseDriftText,
} from "../../src/core/drift_policy.ts";

Deno.test("parseDriftText() reads ntpd's one number and chrony's number plus skew", () => {
  assert.deepEqual(parseDriftText("-12.345\n"), { ok: true, freqPpm: -12.345 });
  assert.deepEqual(parseDriftText("  7  "), { ok: true, freqPpm: 7 });
  assert.deepEqual(parseDriftText("+0.5"), { ok: true, freqPpm: 0.5 });
  assert.deepEqual(parseDriftText("1.5e1"), { ok: true, freqPpm: 15 });
  assert.deepEqual(parseDriftText("-3.210000 0.123\n"), { ok: true, freqPpm: -3.21 });
});

Deno.test("parseDriftText() rejects garbage, empty text and values beyond 500 ppm with a reason", () => {
  assert.deepEqual(parseDriftText(""), { ok: false, reason: "the file is empty" });
  assert.deepEqual(parseDriftText("\n \n"), { ok: false, reason: "the file is empty" });
  assert.deepEqual(parseDriftText("hello"), { ok: false, reason: "'hello' is not a number" });
  assert.deepEqual(parseDriftText("12ppm"), { ok: false, reason: "'12ppm' is not a number" });
  assert.deepEqual(parseDriftText("NaN"), { ok: false, reason: "'NaN' is not a number" });
  assert.deepEqual(parseDriftText("0x10"), { ok: false, reason: "'0x10' is not a number" });
  assert.deepEqual(parseDriftText("1 2 3"), {
    ok: false,
    reason: "expected one number, found 3 words",
  });
  assert.deepEqual(parseDriftText("500.001"), {
    ok: false,
    reason: "500.001 ppm is outside +-500 ppm",
  });
  assert.deepEqual(parseDriftText("-1e9"), { ok: false, reason: "-1e9 ppm is outside +-500 ppm" });
});

Deno.test("formatDriftText() writes three decimals and parseDriftText() reads it back", () => {
  assert.equal(formatDriftText(-12.34567), "-12.346\n");
  assert.equal(formatDriftText(0), "0.000\n");
  assert.equal(formatDriftText(-0.0001), "0.000\n");
  assert.throws(() => formatDriftText(Number.NaN), RangeError);
  fc.assert(fc.property(fc.double({ min: -500, max: 500, noNaN: true }), (freqPpm) => {
    const parsed = parseDriftText(formatDriftText(freqPpm));
    assert.ok(parsed.ok);
    assert.ok(Math.abs(parsed.freqPpm - freqPpm) <= 0.0005 + 1e-12);
  }));
});

Deno.test("driftWriteDue() waits an hour after the start and after each write", () => {
  let state = initialDriftWriteState(100, null);
  const at = (nowSeconds: number, freqPpm = -12.3) => ({
    nowSeconds,
    freqPpm,
    trusted: true,
    exiting: false,
  });
  assert.equal(driftWriteDue(state, at(100 + driftWriteIntervalSeconds - 1)), false);
  assert.equal(driftWriteDue(state, at(100 + driftWriteIntervalSeconds)), true);
  state = afterDriftWrite(state, at(3700));
  assert.deepEqual(state, { lastWriteSeconds: 3700, fileFreqPpm: -12.3 });
  assert.equal(driftWriteDue(state, at(3700 + 1800, -13)), false, "half an hour later");
  assert.equal(driftWriteDue(state, at(3700 + 3600, -13)), true, "an hour later, changed");
  assert.equal(driftWriteDue(state, at(3700 + 3600, -12.3004)), false, "unchanged at 0.001 ppm");
});

Deno.test("driftWriteDue() writes at a clean exit whatever the time, if the value changed", () => {
  const state = initialDriftWriteState(0, 5);
  const exit = { nowSeconds: 10, freqPpm: 6, trusted: true, exiting: true };
  assert.equal(driftWriteDue(state, exit), true);
  assert.equal(driftWriteDue(state, { ...exit, freqPpm: 5.0002 }), false);
  assert.equal(driftWriteDue(initialDriftWriteState(0, null), exit), true);
});

Deno.test("driftWriteDue() never writes an untrusted or non-finite frequency", () => {
  const state = initialDriftWriteState(0, null);
  const input = { nowSeconds: 1e6, freqPpm: 1, trusted: false, exiting: true };
  assert.equal(driftWriteDue(state, input), false);
  assert.equal(driftWriteDue(state, { ...input, trusted: true, freqPpm: Number.NaN }), false);
});
