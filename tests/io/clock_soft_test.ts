// Tests the soft clock's arithmetic, its snapshot fields, and that it never touches the host clock.
import assert from "node:assert/strict";
import fc from "fast-check";
import { applyCorrection, createSoftClock } from "../../src/io/clock_soft.ts";
import type { ClockReading } from "../../src/io/clock_driver.ts";
import type { KernelClockAccess } from "../../src/io/kernel_clock_access.ts";
import { correctedNanoseconds } from "../../src/io/responder_common.ts";
import {
  createSnapshotBuffer,
  createSnapshotReader,
  refreshSnapshot,
  writeSnapshot,
} from "../../src/io/snapshot_buffer.ts";
import type { SystemSnapshot } from "../../src/core/server/types.ts";
import { createSimulatedKernel } from "../support/simulated_kernel.ts";

function seconds(reading: ClockReading): number {
  return reading.unixSeconds + reading.nanoseconds * 1e-9;
}

/** A kernel whose time the test sets, and whose clock_adjtime throws if anyone calls it. */
function manualKernel(
  start: ClockReading,
): { access: KernelClockAccess; set(r: ClockReading): void } {
  let now = start;
  return {
    access: {
      readRealtime: () => now,
      adjtime: () => {
        throw new Error("the soft clock called clock_adjtime");
      },
    },
    set: (reading) => {
      now = reading;
    },
  };
}

Deno.test("now() is kernel time + offset + freq·(t - epoch)", () => {
  const kernel = manualKernel({ unixSeconds: 1_800_000_000, nanoseconds: 0 });
  const clock = createSoftClock({
    kernel: kernel.access,
    initialOffsetSeconds: 0.25,
    initialFreqPpm: 20,
  });
  assert.deepEqual(clock.correction(), {
    offsetSeconds: 0.25,
    freqPpm: 20,
    epochUnixSeconds: 1_800_000_000,
  });
  assert.deepEqual(clock.now(), { unixSeconds: 1_800_000_000, nanoseconds: 250_000_000 });
  kernel.set({ unixSeconds: 1_800_001_000, nanoseconds: 0 });
  // 1000 s later: +0.25 s + 20e-6 · 1000 s = +0.27 s.
  assert.deepEqual(clock.now(), { unixSeconds: 1_800_001_000, nanoseconds: 270_000_000 });
  assert.deepEqual(
    clock.fromKernel({ unixSeconds: 1_800_000_500, nanoseconds: 999_999_999 }),
    { unixSeconds: 1_800_000_501, nanoseconds: 260_019_999 }, // 999 999 999 + 0.25e9 + 20e-6 · 500.999999999e9
  );
});

Deno.test("a negative correction borrows from the seconds", () => {
  const kernel = manualKernel({ unixSeconds: 1_800_000_000, nanoseconds: 100 });
  const clock = createSoftClock({ kernel: kernel.access, initialOffsetSeconds: -1.5 });
  assert.deepEqual(clock.now(), { unixSeconds: 1_799_999_998, nanoseconds: 500_000_100 });
});

Deno.test("setFrequencyPpm() and stepSeconds() re-base the correction so the served time is continuous", () => {
  const kernel = manualKernel({ unixSeconds: 1_800_000_000, nanoseconds: 0 });
  const clock = createSoftClock({ kernel: kernel.access, initialFreqPpm: 100 });
  kernel.set({ unixSeconds: 1_800_000_100, nanoseconds: 0 });
  const before = seconds(clock.now());
  assert.equal(clock.setFrequencyPpm(-50), -50);
  assert.ok(Math.abs(seconds(clock.now()) - before) < 1e-9, "no jump at a frequency change");
  assert.ok(Math.abs(clock.correction().offsetSeconds - 0.01) < 1e-12);
  assert.equal(clock.correction().epochUnixSeconds, 1_800_000_100);
  kernel.set({ unixSeconds: 1_800_000_200, nanoseconds: 0 });
  // 0.01 s gathered at +100 ppm, then 100 s at -50 ppm: 0.01 - 0.005.
  assert.ok(Math.abs(seconds(clock.now()) - (1_800_000_200 + 0.005)) < 1e-6);
  clock.stepSeconds(-2.5);
  assert.ok(Math.abs(seconds(clock.now()) - (1_800_000_200 + 0.005 - 2.5)) < 1e-6);
  assert.equal(clock.getFrequencyPpm(), -50);
});

Deno.test("setFrequencyPpm() clamps to +-500 ppm like the kernel driver", () => {
  const kernel = manualKernel({ unixSeconds: 1_800_000_000, nanoseconds: 0 });
  const clock = createSoftClock({ kernel: kernel.access });
  assert.equal(clock.setFrequencyPpm(800), 500);
  assert.equal(clock.setFrequencyPpm(-800), -500);
  assert.throws(() => clock.setFrequencyPpm(Number.POSITIVE_INFINITY), RangeError);
  assert.throws(() => clock.stepSeconds(Number.NaN), RangeError);
});

Deno.test("the soft clock never calls clock_adjtime, whatever it is asked to do", () => {
  const kernel = manualKernel({ unixSeconds: 1_800_000_000, nanoseconds: 0 });
  const clock = createSoftClock({ kernel: kernel.access, initialFreqPpm: 3 });
  clock.setFrequencyPpm(42);
  clock.stepSeconds(10);
  clock.setSyncStatus({ synchronised: true, leap: 1, maxErrorSeconds: 0.1, estErrorSeconds: 0.01 });
  clock.now();
  clock.fromKernel({ unixSeconds: 1_800_000_001, nanoseconds: 5 });
  clock.getFrequencyPpm();
  assert.equal(clock.kind, "soft");
  assert.deepEqual(clock.syncStatus(), {
    synchronised: true,
    leap: 1,
    maxErrorSeconds: 0.1,
    estErrorSeconds: 0.01,
  });
});

Deno.test("the soft clock leaves a simulated kernel's state untouched", () => {
  const kernel = createSimulatedKernel();
  const before = { ...kernel.state };
  const clock = createSoftClock({ kernel: kernel.access });
  clock.setFrequencyPpm(100);
  clock.stepSeconds(1);
  clock.setSyncStatus({ synchronised: true, leap: 0, maxErrorSeconds: 0.1, estErrorSeconds: 0.01 });
  assert.deepEqual(kernel.state, before);
  assert.equal(kernel.calls.length, 0);
});

const system: SystemSnapshot = {
  leap: 0,
  stratum: 2,
  precisionLog2: -23,
  referenceId: 0x7f000001,
  referenceTime: { seconds: 0, fraction: 0 },
  rootDelaySeconds: 0,
  rootDispersionSeconds: 0,
};

Deno.test("snapshotFields() published through the snapshot buffer give responders the time now() serves", () => {
  const buffer = createSnapshotBuffer();
  const reader = createSnapshotReader(buffer, system);
  fc.assert(fc.property(
    fc.double({ min: -1000, max: 1000, noNaN: true }),
    fc.double({ min: -500, max: 500, noNaN: true }),
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.integer({ min: 0, max: 999_999_999 }),
    (offsetSeconds, freqPpm, laterSeconds, nanoseconds) => {
      const start = { unixSeconds: 1_800_000_000, nanoseconds: 123_456_789 };
      const kernel = manualKernel(start);
      const clock = createSoftClock({
        kernel: kernel.access,
        initialOffsetSeconds: offsetSeconds,
        initialFreqPpm: freqPpm,
      });
      const raw = { unixSeconds: start.unixSeconds + laterSeconds, nanoseconds };
      kernel.set(raw);
      const served = clock.now();
      // What a responder computes from the published snapshot.
      writeSnapshot(buffer, { ...system, ...clock.snapshotFields() });
      assert.ok(refreshSnapshot(reader));
      const responderNs = correctedNanoseconds(raw.unixSeconds, raw.nanoseconds, reader.correction);
      const differenceNs = (served.unixSeconds - raw.unixSeconds) * 1e9 + served.nanoseconds -
        responderNs;
      assert.ok(Math.abs(differenceNs) <= 1, `differs by ${differenceNs} ns`);
      assert.ok(served.nanoseconds >= 0 && served.nanoseconds < 1e9);
      assert.ok(Number.isInteger(served.nanoseconds));
    },
  ));
});

Deno.test("applyCorrection() with a zero correction is the identity", () => {
  const raw = { unixSeconds: 1_800_000_000, nanoseconds: 999_999_999 };
  assert.deepEqual(
    applyCorrection(raw, { offsetSeconds: 0, freqPpm: 0, epochUnixSeconds: 0 }),
    raw,
  );
});

Deno.test("the default soft clock reads the real CLOCK_REALTIME", () => {
  const clock = createSoftClock({ initialOffsetSeconds: 3600 });
  const differenceSeconds = seconds(clock.now()) - Date.now() / 1000;
  assert.ok(Math.abs(differenceSeconds - 3600) < 0.01, `differs by ${differenceSeconds}`);
});
