// The plot axes: nice value ticks (1, 2, 5 x 10^n, covering the data, never too many), round UTC time ticks with dates across days, and the unit seconds read best in.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  niceStepAtLeast,
  niceTicks,
  secondsUnitFor,
  timeTicks,
} from "../../../src/core/stats/plot_axes.ts";
import { propertyRuns } from "../../support/property_runs.ts";

function isNice(step: number): boolean {
  const exponent = Math.floor(Math.log10(step));
  const mantissa = step / 10 ** exponent;
  return [1, 2, 5, 10].some((nice) => Math.abs(mantissa - nice) < 1e-9);
}

Deno.test("niceTicks() picks 1, 2, 5 x 10^n steps and widens the axis to whole steps", () => {
  assert.deepEqual(niceTicks(-12.3, 45.6, 7).values, [-20, 0, 20, 40, 60]);
  assert.deepEqual(niceTicks(0.1, 0.3, 7).labels, ["0.10", "0.15", "0.20", "0.25", "0.30"]);
  assert.deepEqual(niceTicks(-12.31, -12.28, 7).labels, [
    "-12.310",
    "-12.305",
    "-12.300",
    "-12.295",
    "-12.290",
    "-12.285",
    "-12.280",
  ]);
  assert.deepEqual(niceTicks(3, 3, 7).labels, [
    "2.999998",
    "2.999999",
    "3.000000",
    "3.000001",
    "3.000002",
  ]);
  assert.deepEqual(niceTicks(-0.4, 0.4, 2).values, [-0.5, 0, 0.5], "two ticks asked: three given");
  assert.deepEqual(niceTicks(Number.NaN, 1, 7).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-1e308, Number.POSITIVE_INFINITY, 7).labels, [
    "-1e+15",
    "-5e+14",
    "0",
    "5e+14",
    "1e+15",
  ]);
  assert.equal(niceStepAtLeast(0.013), 0.02);
  assert.equal(niceStepAtLeast(3), 5);
  assert.equal(niceStepAtLeast(5), 5);
  assert.equal(niceStepAtLeast(0.1), 0.1);
});

Deno.test("property: niceTicks() covers the data with at most maxTicks evenly spaced nice ticks", () => {
  const value = fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: -1e-3, max: 1e-3, noNaN: true }),
  );
  fc.assert(
    fc.property(value, value, fc.integer({ min: 3, max: 12 }), (a, b, maxTicks) => {
      const ticks = niceTicks(a, b, maxTicks);
      assert.ok(ticks.values.length >= 2 && ticks.values.length <= maxTicks, `${ticks.values}`);
      assert.ok(isNice(ticks.step), `step ${ticks.step}`);
      assert.ok(ticks.low <= Math.min(a, b) && ticks.high >= Math.max(a, b));
      ticks.values.forEach((tick, i) => {
        assert.ok(Math.abs(tick - (ticks.low + i * ticks.step)) <= ticks.step * 1e-6);
        assert.ok(Math.abs(tick / ticks.step - Math.round(tick / ticks.step)) < 1e-6);
        assert.equal(Number(ticks.labels[i]), Number(ticks.labels[i]), "a number");
        assert.ok(Math.abs(Number(ticks.labels[i]) - tick) <= ticks.step * 1e-6, ticks.labels[i]);
      });
      assert.equal(new Set(ticks.labels).size, ticks.labels.length, "labels differ");
    }),
    { seed: 61381, numRuns: propertyRuns(1000) },
  );
});

Deno.test("timeTicks() labels round UTC times HH:MM, with the date under the first tick and each new day", () => {
  const noon = Date.UTC(2026, 11, 6, 12) / 1000;
  const day = timeTicks(noon, noon + 86_400, 9);
  assert.deepEqual(day.map((t) => t.label), [
    "12:00",
    "15:00",
    "18:00",
    "21:00",
    "00:00",
    "03:00",
    "06:00",
    "09:00",
    "12:00",
  ]);
  assert.deepEqual(day.map((t) => t.dateLabel).filter((d) => d !== null), [
    "2026-12-06",
    "2026-12-07",
  ]);
  const hourTicks = timeTicks(noon + 60, noon + 3 * 3600, 9);
  assert.deepEqual(hourTicks.map((t) => t.label), [
    "12:30",
    "13:00",
    "13:30",
    "14:00",
    "14:30",
    "15:00",
  ]);
  assert.ok(hourTicks.every((t) => t.dateLabel === null), "one day: no dates");
  const week = timeTicks(noon, noon + 7 * 86_400, 9);
  assert.ok(week.every((t) => t.label === "00:00" && t.dateLabel !== null));
  assert.deepEqual(timeTicks(Number.NaN, noon, 9), []);
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 4e9, noNaN: true }),
      fc.double({ min: 1, max: 400 * 86_400, noNaN: true }),
      fc.integer({ min: 2, max: 12 }),
      (from, span, maxTicks) => {
        const ticks = timeTicks(from, from + span, maxTicks);
        assert.ok(ticks.length <= maxTicks, `${ticks.length} ticks`);
        assert.ok(ticks.every((t) => t.unixSeconds >= from && t.unixSeconds <= from + span));
        assert.ok(ticks.every((t) => /^\d\d:\d\d(:\d\d)?$/.test(t.label)));
      },
    ),
    { seed: 7, numRuns: propertyRuns(500) },
  );
});

Deno.test("secondsUnitFor() picks µs under a millisecond, ms under a second, else s", () => {
  assert.equal(secondsUnitFor([-12.3e-6, 45.6e-6]).name, "µs");
  assert.equal(secondsUnitFor([]).name, "µs");
  assert.deepEqual(secondsUnitFor([0.0021, -0.0004]), { name: "ms", perSecond: 1000 });
  assert.deepEqual(secondsUnitFor([-1.5, Number.NaN]), { name: "s", perSecond: 1 });
  assert.equal(secondsUnitFor([Number.POSITIVE_INFINITY, 1e-6]).name, "µs");
});
