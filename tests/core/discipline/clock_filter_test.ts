// Tests of the RFC 5905 clock filter: lowest-delay choice, dispersion weights, jitter, missing stages and adjustment referral.
import assert from "node:assert/strict";
import {
  emptyClockFilter,
  evaluateFilter,
  type FilterEntry,
  filterRegisters,
  pushFilterEntry,
} from "../../../src/core/discipline/clock_filter.ts";
import {
  MAX_DISPERSION_SECONDS,
  PHI_SECONDS_PER_SECOND,
} from "../../../src/core/discipline/ntp_constants.ts";

const at = { monotonicSeconds: 100, adjustmentSeconds: 0, precisionLog2: -20 };

function sample(
  offsetSeconds: number,
  delaySeconds: number,
  monotonicSeconds: number,
  dispersionSeconds = 0,
): FilterEntry {
  return {
    kind: "sample",
    offsetSeconds,
    delaySeconds,
    dispersionSeconds,
    monotonicSeconds,
    adjustmentSeconds: 0,
  };
}

function fill(entries: FilterEntry[]) {
  // entries are given oldest first
  return entries.reduce(pushFilterEntry, emptyClockFilter);
}

Deno.test("evaluateFilter() of an empty register is null, and of missing stages only too", () => {
  assert.equal(evaluateFilter(emptyClockFilter, at), null);
  const onlyMissing = fill([{ kind: "missing", monotonicSeconds: 10 }]);
  assert.equal(evaluateFilter(onlyMissing, at), null);
});

Deno.test("evaluateFilter() picks the lowest-delay sample, not the newest", () => {
  const filter = fill([
    sample(0.004, 0.003, 97),
    sample(0.001, 0.001, 98),
    sample(0.003, 0.002, 99),
  ]);
  const out = evaluateFilter(filter, at);
  assert.equal(out?.offsetSeconds, 0.001);
  assert.equal(out?.delaySeconds, 0.001);
  assert.equal(out?.epochMonotonicSeconds, 98);
  assert.equal(out?.minDelaySeconds, 0.001);
  assert.equal(out?.validSamples, 3);
});

Deno.test("evaluateFilter() computes jitter as the RMS difference from the chosen offset over n - 1", () => {
  const filter = fill([
    sample(0.004, 0.003, 97),
    sample(0.001, 0.001, 98),
    sample(0.003, 0.002, 99),
  ]);
  const out = evaluateFilter(filter, at);
  const expected = Math.sqrt(((0.003 - 0.001) ** 2 + (0.004 - 0.001) ** 2) / 2);
  assert.ok(Math.abs((out?.jitterSeconds ?? 0) - expected) < 1e-15);
});

Deno.test("evaluateFilter() floors the jitter of a single sample at the precision", () => {
  const out = evaluateFilter(fill([sample(0.001, 0.001, 99)]), at);
  assert.equal(out?.jitterSeconds, 2 ** -20);
});

Deno.test("evaluateFilter() weights dispersions 1/2, 1/4, ... in delay order, aged to the newest entry", () => {
  const filter = fill([sample(0, 0.002, 90, 0.004), sample(0, 0.001, 100, 0.002)]);
  const out = evaluateFilter(filter, at);
  // Sorted: delay 0.001 (disp 0.002, age 0) then 0.002 (disp 0.004 aged 10 s).
  const expected = 0.002 / 2 + (0.004 + 10 * PHI_SECONDS_PER_SECOND) / 4;
  assert.ok(Math.abs((out?.dispersionSeconds ?? 0) - expected) < 1e-15);
  assert.equal(out?.updateMonotonicSeconds, 100);
});

Deno.test("never-filled stages are left out, but missing polls count as MAXDISP and sort last", () => {
  const one = evaluateFilter(fill([sample(0, 0.001, 100, 0.002)]), at);
  assert.ok(Math.abs((one?.dispersionSeconds ?? 0) - 0.001) < 1e-15);
  const withMissing = fill([
    sample(0, 0.001, 90, 0.002),
    { kind: "missing", monotonicSeconds: 95 },
    { kind: "missing", monotonicSeconds: 100 },
  ]);
  const out = evaluateFilter(withMissing, at);
  assert.equal(out?.offsetSeconds, 0);
  const expected = (0.002 + 10 * PHI_SECONDS_PER_SECOND) / 2 + MAX_DISPERSION_SECONDS / 4 +
    MAX_DISPERSION_SECONDS / 8;
  assert.ok(Math.abs((out?.dispersionSeconds ?? 0) - expected) < 1e-12);
});

Deno.test("offsets are referred to the clock now through the phase adjustment", () => {
  // A 100 ms step forward happened after the sample: the clock is no longer 100 ms behind.
  const entry = sample(0.1, 0.001, 50);
  const out = evaluateFilter(fill([entry]), { ...at, adjustmentSeconds: 0.1 });
  assert.ok(Math.abs(out?.offsetSeconds ?? 1) < 1e-15);
});

Deno.test("samples older than the Allan intercept sort by delay plus dispersion", () => {
  // Old low-delay sample with large aged dispersion loses to a fresh slightly slower one.
  const filter = fill([sample(0.005, 0.001, 0, 0.01), sample(0.002, 0.0015, 3000, 0)]);
  const out = evaluateFilter(filter, { ...at, monotonicSeconds: 3000 });
  assert.equal(out?.offsetSeconds, 0.002);
});

Deno.test("pushFilterEntry() keeps the eight newest entries, newest first", () => {
  let filter = emptyClockFilter;
  for (let i = 0; i < 10; i++) filter = pushFilterEntry(filter, sample(i, 0.001, i));
  assert.equal(filter.entries.length, 8);
  assert.equal(filter.entries[0]?.monotonicSeconds, 9);
  assert.equal(filter.entries[7]?.monotonicSeconds, 2);
  const shown = filterRegisters(filter, { monotonicSeconds: 9 });
  assert.deepEqual(shown.offsetSeconds, [9, 8, 7, 6, 5, 4, 3, 2]);
});
