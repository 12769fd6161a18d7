// sparkline(): eight levels from min to max, a constant series at the middle, blanks for NaN and missing columns, exactly the width asked, buckets when values outnumber columns.
import assert from "node:assert/strict";
import fc from "fast-check";
import { SPARK_BARS, sparkline } from "../../../src/core/stats/sparkline.ts";
import { propertyRuns } from "../../support/property_runs.ts";

Deno.test("sparkline() scales the values from the lowest to the highest bar", () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([8, 1], 2), "█▁");
  assert.equal(sparkline([-12.3e-6, 45.6e-6, 0], 3), "▁█▂");
  assert.equal(sparkline([0, 50, 100], 3), "▁▅█", "half way rounds to the upper middle bar");
});

Deno.test("sparkline() draws a constant series as middle bars and blanks for NaN, infinities and no values", () => {
  assert.equal(sparkline([5, 5, 5], 3), "▄▄▄");
  assert.equal(sparkline([1, Number.NaN, 2], 3), "▁ █");
  assert.equal(sparkline([1, Number.POSITIVE_INFINITY, 2], 3), "▁ █");
  assert.equal(sparkline([], 4), "    ");
  assert.equal(sparkline([Number.NaN, Number.NaN], 2), "  ");
  assert.equal(sparkline([3], 1), "▄");
  assert.equal(sparkline([1, 2], 0), "");
});

Deno.test("sparkline() right-aligns fewer values than columns and averages more values per column", () => {
  assert.equal(sparkline([1, 2], 5), "   ▁█");
  assert.equal(sparkline([0, 0, 10, 10], 2), "▁█");
  assert.equal(sparkline([0, 10, 0, 10, 5, 5], 3), "▄▄▄", "each column the mean of two");
  assert.equal(sparkline([0, Number.NaN, Number.NaN, Number.NaN, 10, 10], 3), "▁ █");
  assert.equal(sparkline([-Number.MAX_VALUE, Number.MAX_VALUE], 2), "▁█", "no overflow");
  assert.equal(sparkline([Number.MAX_VALUE, Number.MAX_VALUE, 0, 0], 2), "█▁");
});

Deno.test("property: exactly `width` characters, bars or blanks, lowest value ▁ and highest █", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double(), fc.double({ min: -1e3, max: 1e3, noNaN: true }))),
      fc.integer({ min: 0, max: 80 }),
      (values, width) => {
        const line = sparkline(values, width);
        const chars = [...line];
        assert.equal(chars.length, width);
        assert.ok(chars.every((c) => c === " " || SPARK_BARS.includes(c)), line);
        const finite = values.filter(Number.isFinite);
        if (values.length <= width && finite.length > 0) {
          const shown = chars.slice(width - values.length);
          values.forEach((value, i) => {
            if (!Number.isFinite(value)) assert.equal(shown[i], " ");
          });
          const low = Math.min(...finite);
          const high = Math.max(...finite);
          const bar = (value: number) => shown[values.indexOf(value)];
          if (low === high) assert.equal(bar(low), "▄");
          else {
            assert.equal(bar(low), "▁");
            assert.equal(bar(high), "█");
          }
        }
      },
    ),
    { seed: 1207, numRuns: propertyRuns(500) },
  );
});
