// Tests of what both responder back ends share: the soft clock correction and the first snapshot.
import assert from "node:assert/strict";
import {
  correctedNanoseconds,
  correctionOf,
  smearedNanoseconds,
  unsynchronisedSnapshot,
  withCorrectionEpoch,
  withoutLeapAnnouncement,
} from "../../src/io/responder_common.ts";
import type { PublishedSnapshot } from "../../src/io/snapshot_buffer.ts";

const none = { offsetSeconds: 0, freqPpm: 0, epochUnixSeconds: 0 };

Deno.test("correctedNanoseconds() leaves a reading alone without a correction", () => {
  assert.equal(correctedNanoseconds(1_795_860_000, 123_456_789, none), 123_456_789);
});

Deno.test("correctedNanoseconds() adds the offset in nanoseconds without losing resolution", () => {
  const correction = { offsetSeconds: 1.5e-6, freqPpm: 0, epochUnixSeconds: 0 };
  assert.equal(correctedNanoseconds(1_795_860_000, 7, correction), 1507);
  const step = { offsetSeconds: -2.25, freqPpm: 0, epochUnixSeconds: 0 };
  assert.equal(correctedNanoseconds(1_795_860_000, 0, step), -2_250_000_000);
});

Deno.test("correctedNanoseconds() adds freqPpm per second elapsed since the epoch", () => {
  // 100 ppm for 1000.5 s = 100.05 ms.
  const correction = { offsetSeconds: 0, freqPpm: 100, epochUnixSeconds: 1_795_859_000 };
  const result = correctedNanoseconds(1_795_860_000, 500_000_000, correction);
  assert.ok(Math.abs(result - (500_000_000 + 100_050_000)) < 1, `${result}`);
  // Before the epoch the term is negative.
  const before = correctedNanoseconds(1_795_858_000, 0, correction);
  assert.ok(Math.abs(before - -100_000_000) < 1, `${before}`);
});

Deno.test("withCorrectionEpoch() fills the epoch only when a correction is given without one", () => {
  const base = unsynchronisedSnapshot(-20);
  assert.equal(withCorrectionEpoch(base, () => 42), base);
  const withOffset: PublishedSnapshot = { ...base, clockOffsetSeconds: 0.1 };
  assert.equal(withCorrectionEpoch(withOffset, () => 42).clockEpochUnixSeconds, 42);
  const explicit: PublishedSnapshot = { ...base, clockFreqPpm: 1, clockEpochUnixSeconds: 7 };
  assert.equal(withCorrectionEpoch(explicit, () => 42), explicit);
  assert.deepEqual(correctionOf(explicit), { offsetSeconds: 0, freqPpm: 1, epochUnixSeconds: 7 });
});

Deno.test("unsynchronisedSnapshot() advertises LI 3, stratum 16 and refid INIT", () => {
  const snapshot = unsynchronisedSnapshot(-23);
  assert.equal(snapshot.leap, 3);
  assert.equal(snapshot.stratum, 16);
  assert.equal(snapshot.referenceId, 0x494e4954);
  assert.equal(snapshot.precisionLog2, -23);
});

Deno.test("a smearing listener adds the smear to the corrected time and strips LI 1 and 2, never LI 3", () => {
  const leap = Date.UTC(2027, 6, 1) / 1000;
  const smear = {
    startUnixSeconds: leap - 1000,
    leapUnixSeconds: leap,
    stepSeconds: -1,
    executing: false,
  } as const;
  assert.equal(smearedNanoseconds(leap - 500, 0, smear), -500_000_000);
  assert.equal(smearedNanoseconds(leap - 2000, 7, smear), 7);
  assert.equal(smearedNanoseconds(leap - 500, 123, null), 123);
  for (const [first, expected] of [[0x64, 0x24], [0xa4, 0x24], [0xe4, 0xe4], [0x24, 0x24]]) {
    const reply = new Uint8Array(48);
    reply[0] = first!;
    withoutLeapAnnouncement(reply);
    assert.equal(reply[0], expected);
  }
});
