// Tests of ntpd's file generation suffixes: day, ISO week (year boundaries), month, year, age, pid, none.
import assert from "node:assert/strict";
import fc from "fast-check";
import { generationSuffix, type GenerationType } from "../../../src/core/stats/file_generation.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const context = { pid: 4321, uptimeSeconds: 0 };
const at = (iso: string): number => Date.parse(iso) / 1000;

Deno.test("day files are named by the UTC date, switching at UTC midnight", () => {
  assert.equal(generationSuffix("day", at("2026-12-06T23:59:59.999Z"), context), ".20261206");
  assert.equal(generationSuffix("day", at("2026-12-07T00:00:00Z"), context), ".20261207");
  assert.equal(generationSuffix("day", at("2027-01-01T00:00:00Z"), context), ".20270101");
});

Deno.test("week files use ISO 8601 weeks, also across the turn of a year", () => {
  // Python's date.isocalendar() for each: (2026, 50), (2026, 1), (2026, 53), (2020, 53), (2021, 1).
  assert.equal(generationSuffix("week", at("2026-12-07T12:00:00Z"), context), ".2026w50");
  assert.equal(generationSuffix("week", at("2026-01-01T00:00:00Z"), context), ".2026w01");
  assert.equal(generationSuffix("week", at("2027-01-03T23:59:59Z"), context), ".2026w53");
  assert.equal(generationSuffix("week", at("2020-12-31T00:00:00Z"), context), ".2020w53");
  assert.equal(generationSuffix("week", at("2021-01-04T00:00:00Z"), context), ".2021w01");
});

Deno.test("month, year, none, pid and age suffixes", () => {
  const t = at("2026-12-07T10:00:00Z");
  assert.equal(generationSuffix("month", t, context), ".202612");
  assert.equal(generationSuffix("year", t, context), ".2026");
  assert.equal(generationSuffix("none", t, context), "");
  assert.equal(generationSuffix("pid", t, context), ".#4321");
  assert.equal(generationSuffix("age", t, { pid: 1, uptimeSeconds: 86_399 }), ".a00000000");
  assert.equal(generationSuffix("age", t, { pid: 1, uptimeSeconds: 86_400 }), ".a00086400");
  assert.equal(generationSuffix("age", t, { pid: 1, uptimeSeconds: 200_000 }), ".a00172800");
});

Deno.test("the suffix changes exactly when the period changes (property)", () => {
  const types: GenerationType[] = ["day", "week", "month", "year"];
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.integer({ min: 946_684_800, max: 4_102_444_800 }),
      (type, unixSeconds) => {
        const here = generationSuffix(type, unixSeconds, context);
        const date = new Date(unixSeconds * 1000);
        // One second later is in the same period unless a UTC day boundary was crossed.
        const next = generationSuffix(type, unixSeconds + 1, context);
        const nextDate = new Date((unixSeconds + 1) * 1000);
        if (date.getUTCDate() === nextDate.getUTCDate()) assert.equal(next, here);
        if (type === "day" && date.getUTCDate() !== nextDate.getUTCDate()) {
          assert.notEqual(next, here);
        }
      },
    ),
    { seed: 0x5eed, numRuns: propertyRuns(2000) },
  );
});
