// Tests of source selection end to end: tally codes, prefer, noselect-style rejection, minsane, hysteresis and the leap vote.
import assert from "node:assert/strict";
import {
  Selection,
  type SelectionSource,
  selectSources,
  tallyCharacter,
} from "../../../src/core/discipline/select_sources.ts";

const settings = { minSane: 1, minClock: 3, maxClock: 10, precisionLog2: -20 };

function src(
  id: number,
  offsetSeconds: number,
  extra: Partial<SelectionSource> = {},
): SelectionSource {
  return {
    id,
    fit: true,
    offsetSeconds,
    rootDistanceSeconds: 0.002,
    baseDistanceSeconds: 0.002,
    jitterSeconds: 1e-5,
    stratum: 1,
    leap: 0,
    prefer: false,
    answeredRecently: true,
    ...extra,
  };
}

function tallies(result: ReturnType<typeof selectSources>): string {
  return [...result.codes.entries()].sort((a, b) => a[0] - b[0]).map(([, code]) =>
    tallyCharacter(code)
  ).join("");
}

Deno.test("tallyCharacter() maps the codes to ntpq's ' x.-+#*o'", () => {
  assert.equal(
    Object.values(Selection).map((code) => tallyCharacter(code)).join(""),
    " x.-+#*o",
  );
});

Deno.test("selectSources() marks unfit ' ', falseticker 'x', outlier '-', candidates '+' and the system peer '*'", () => {
  const result = selectSources(
    [
      src(1, 0),
      src(2, 0.0001),
      src(3, -0.0001),
      src(4, 0.0015), // inside the intersection but far from the others: an outlier
      src(5, 1), // a falseticker
      src(6, 0, { fit: false }),
    ],
    settings,
    null,
  );
  assert.equal(tallies(result), "*++-x ");
  assert.equal(result.systemPeerId, 1);
  assert.deepEqual(result.contributorIds, [1, 2, 3]);
  assert.equal(result.truechimerCount, 4);
  assert.equal(result.survivorCount, 3);
  assert.ok(Math.abs((result.offsetSeconds ?? 1) - 0) < 1e-9);
});

Deno.test("selectSources() marks truechimers beyond maxclock as excess '.' and survivors beyond six as backup '#'", () => {
  const sources = Array.from(
    { length: 9 },
    (_, i) => src(i + 1, i * 1e-6, { rootDistanceSeconds: 0.002 + i * 1e-4, jitterSeconds: 1e-3 }),
  );
  const result = selectSources(sources, { ...settings, maxClock: 8 }, null);
  assert.equal(tallies(result), "*+++++##.");
  assert.equal(result.contributorIds.length, 6);
});

Deno.test("selectSources() makes a surviving prefer peer the system peer and uses its offset alone", () => {
  const result = selectSources(
    [src(1, 0), src(2, 0.0002, { prefer: true }), src(3, -0.0001)],
    settings,
    1,
  );
  assert.equal(result.systemPeerId, 2);
  assert.deepEqual(result.contributorIds, [2]);
  assert.equal(result.offsetSeconds, 0.0002);
});

Deno.test("selectSources() chooses no system peer below minsane survivors", () => {
  const result = selectSources([src(1, 0), src(2, 0.0001)], { ...settings, minSane: 3 }, null);
  assert.equal(result.systemPeerId, null);
  assert.equal(result.offsetSeconds, null);
  assert.equal(tallies(result), "++");
});

Deno.test("selectSources() keeps the previous system peer unless it goes quiet or is much worse", () => {
  const best = src(1, 0, { rootDistanceSeconds: 0.002, baseDistanceSeconds: 0.002 });
  const previous = src(2, 0.0001, { rootDistanceSeconds: 0.003, baseDistanceSeconds: 0.003 });
  assert.equal(selectSources([best, previous, src(3, 0)], settings, 2).systemPeerId, 2);
  const quiet = { ...previous, answeredRecently: false };
  assert.equal(selectSources([best, quiet, src(3, 0)], settings, 2).systemPeerId, 1);
  const worse = { ...previous, baseDistanceSeconds: 0.01 };
  assert.equal(selectSources([best, worse, src(3, 0)], settings, 2).systemPeerId, 1);
  const higherStratum = { ...previous, stratum: 2 };
  assert.equal(selectSources([best, higherStratum, src(3, 0)], settings, 2).systemPeerId, 1);
});

Deno.test("selectSources() announces a leap second only when most combined survivors do", () => {
  const two = selectSources(
    [src(1, 0, { leap: 1 }), src(2, 0, { leap: 1 }), src(3, 0)],
    settings,
    null,
  );
  assert.equal(two.leap, 1);
  const one = selectSources([src(1, 0, { leap: 1 }), src(2, 0), src(3, 0)], settings, null);
  assert.equal(one.leap, 0);
});

Deno.test("selectSources() with no fit source or no majority has no system peer", () => {
  assert.equal(selectSources([src(1, 0, { fit: false })], settings, null).systemPeerId, null);
  const split = selectSources([src(1, 0), src(2, 1)], settings, null);
  assert.equal(split.systemPeerId, null);
  assert.equal(tallies(split), "xx");
});
