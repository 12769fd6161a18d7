// Tests the pure struct timex encoder/decoder: layout offsets, round trips, units and step splitting.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Adj,
  decodeTimex,
  encodeTimex,
  ppmToTimexFreq,
  splitStepSeconds,
  Sta,
  timexFreqToPpm,
  TimexLayout,
} from "../../src/io/timex.ts";

Deno.test("encodeTimex() writes 208 bytes with every field at its LP64 offset", () => {
  const bytes = encodeTimex({
    modes: Adj.FREQUENCY | Adj.STATUS,
    offset: -7,
    freq: ppmToTimexFreq(-12.5),
    maxerror: 123_456,
    esterror: 789,
    status: Sta.UNSYNC | Sta.INS,
    constant: 3,
    timeSeconds: -1,
    timeFraction: 750_000_000,
    tick: 10_000,
    shift: -2,
    tai: 37,
  });
  assert.equal(bytes.length, 208);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 0x12);
  assert.equal(view.getUint32(4, true), 0, "padding after modes stays zero");
  assert.equal(view.getBigInt64(8, true), -7n);
  assert.equal(view.getBigInt64(16, true), -819_200n);
  assert.equal(view.getBigInt64(24, true), 123_456n);
  assert.equal(view.getBigInt64(32, true), 789n);
  assert.equal(view.getInt32(40, true), 0x50);
  assert.equal(view.getBigInt64(48, true), 3n);
  assert.equal(view.getBigInt64(72, true), -1n);
  assert.equal(view.getBigInt64(80, true), 750_000_000n);
  assert.equal(view.getBigInt64(88, true), 10_000n);
  assert.equal(view.getInt32(112, true), -2);
  assert.equal(view.getInt32(160, true), 37);
  assert.ok(bytes.subarray(164).every((byte) => byte === 0), "trailing padding is zero");
});

Deno.test("TimexLayout matches offsetof() of glibc's struct timex on x86_64", () => {
  // Values printed by a C program using offsetof(struct timex, ...) on this machine.
  assert.deepEqual(
    [
      TimexLayout.bytes,
      TimexLayout.offset,
      TimexLayout.freq,
      TimexLayout.maxerror,
      TimexLayout.esterror,
      TimexLayout.status,
      TimexLayout.constant,
      TimexLayout.precision,
      TimexLayout.tolerance,
      TimexLayout.timeSeconds,
      TimexLayout.tick,
      TimexLayout.ppsfreq,
      TimexLayout.jitter,
      TimexLayout.shift,
      TimexLayout.stabil,
      TimexLayout.jitcnt,
      TimexLayout.calcnt,
      TimexLayout.errcnt,
      TimexLayout.stbcnt,
      TimexLayout.tai,
    ],
    [208, 8, 16, 24, 32, 40, 48, 56, 64, 72, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160],
  );
});

Deno.test("decodeTimex() reads back every field encodeTimex() wrote", () => {
  const long = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
  const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  fc.assert(fc.property(
    fc.record({
      modes: fc.integer({ min: 0, max: 0xffff_ffff }),
      offset: long,
      freq: long,
      maxerror: long,
      esterror: long,
      status: int,
      constant: long,
      precision: long,
      tolerance: long,
      timeSeconds: long,
      timeFraction: long,
      tick: long,
      ppsfreq: long,
      jitter: long,
      shift: int,
      stabil: long,
      jitcnt: long,
      calcnt: long,
      errcnt: long,
      stbcnt: long,
      tai: int,
    }),
    (fields) => {
      assert.deepEqual(decodeTimex(encodeTimex(fields)), { ...fields });
    },
  ));
});

Deno.test("encodeTimex() leaves missing fields zero and decodeTimex() rejects short buffers", () => {
  assert.ok(encodeTimex({}).every((byte) => byte === 0));
  assert.throws(() => decodeTimex(new Uint8Array(207)), RangeError);
  assert.throws(() => encodeTimex({ freq: 1.5 }), /freq 1.5: not a safe integer/);
  assert.throws(() => encodeTimex({ status: 2 ** 31 }), /not a 32-bit signed integer/);
  assert.throws(() => encodeTimex({ modes: -1 }), /not a 32-bit unsigned integer/);
});

Deno.test("ppmToTimexFreq() scales by 2^16 and timexFreqToPpm() inverts it", () => {
  assert.equal(ppmToTimexFreq(1), 65536);
  assert.equal(ppmToTimexFreq(-500), -32_768_000);
  assert.equal(timexFreqToPpm(ppmToTimexFreq(12.345678)), Math.round(12.345678 * 65536) / 65536);
  fc.assert(fc.property(fc.double({ min: -500, max: 500, noNaN: true }), (freqPpm) => {
    assert.ok(Math.abs(timexFreqToPpm(ppmToTimexFreq(freqPpm)) - freqPpm) <= 0.5 / 65536);
  }));
});

Deno.test("splitStepSeconds() keeps the nanoseconds in 0..999999999 for negative steps", () => {
  assert.deepEqual(splitStepSeconds(-0.25), { seconds: -1, nanoseconds: 750_000_000 });
  assert.deepEqual(splitStepSeconds(1.5), { seconds: 1, nanoseconds: 500_000_000 });
  assert.deepEqual(splitStepSeconds(-3), { seconds: -3, nanoseconds: 0 });
  assert.deepEqual(splitStepSeconds(-1e-10), { seconds: 0, nanoseconds: 0 });
  assert.throws(() => splitStepSeconds(Number.NaN), RangeError);
  fc.assert(fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (offsetSeconds) => {
    const { seconds, nanoseconds } = splitStepSeconds(offsetSeconds);
    assert.ok(Number.isInteger(nanoseconds) && nanoseconds >= 0 && nanoseconds < 1e9);
    assert.ok(Math.abs(seconds + nanoseconds * 1e-9 - offsetSeconds) < 1e-6);
  }));
});
