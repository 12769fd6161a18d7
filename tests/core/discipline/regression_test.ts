// Tests of the weighted line fit and the runs test that bounds the history the discipline uses.
import assert from "node:assert/strict";
import {
  countRuns,
  fitLine,
  fitRecentLine,
  runsTestPasses,
} from "../../../src/core/discipline/regression.ts";
import { createRandom } from "../../support/sim/random.ts";

Deno.test("fitLine() recovers an exact line and weights points", () => {
  const fit = fitLine([{ x: 0, y: 1, weight: 1 }, { x: 1, y: 3, weight: 1 }, {
    x: 2,
    y: 5,
    weight: 1,
  }]);
  assert.equal(fit?.slope, 2);
  assert.equal(fit?.xMean, 1);
  assert.equal(fit?.yMean, 3);
  assert.equal(fit?.rmsResidual, 0);
  const weighted = fitLine([{ x: 0, y: 0, weight: 3 }, { x: 0, y: 4, weight: 1 }]);
  assert.equal(weighted?.yMean, 1);
  assert.equal(weighted?.slopeVariance, Infinity);
  assert.equal(fitLine([]), null);
});

Deno.test("fitLine() slope variance is 1 / sum(w (x - mean)^2) when the weights match the noise", () => {
  const points = [-1, 0, 1].map((x) => ({ x, y: 0, weight: 4 }));
  const fit = fitLine(points);
  assert.equal(fit?.slopeVariance, 1 / 8);
  assert.equal(fit?.yMeanVariance, 1 / 12);
});

Deno.test("countRuns() counts sign groups and runsTestPasses() rejects long runs", () => {
  assert.equal(countRuns([1, 2, -1, -1, 3]), 3);
  assert.equal(countRuns([]), 0);
  const blocks = [...Array(8).fill(1), ...Array(8).fill(-1), ...Array(8).fill(1)];
  assert.equal(runsTestPasses(blocks), false);
  assert.equal(runsTestPasses([1, -1, 1, -1, 1, -1, 1, -1, 1, -1]), true);
  assert.equal(runsTestPasses([1, 1, 1]), true); // too few to judge
});

Deno.test("fitRecentLine() drops the old part of a history that bends", () => {
  // A line that changed slope at x = 100: only the recent straight part should be kept.
  const points = Array.from({ length: 200 }, (_, x) => ({
    x,
    y: (x < 100 ? 0.5 * x : 50 + 2 * (x - 100)) + (x % 2 === 0 ? 0.01 : -0.01),
    weight: 1e4,
  }));
  const best = fitRecentLine(points, { minPoints: 8 });
  assert.ok(best !== null);
  assert.ok(best.firstIndex >= 90, `first index ${best.firstIndex}`);
  assert.ok(Math.abs(best.fit.slope - 2) < 0.05, `slope ${best.fit.slope}`);
});

Deno.test("fitRecentLine() keeps the whole history when it is a line with noise", () => {
  const random = createRandom(11);
  const points = Array.from(
    { length: 64 },
    (_, x) => ({ x, y: 3 * x + 0.01 * random.normal(), weight: 1e4 }),
  );
  const best = fitRecentLine(points, { minPoints: 8 });
  assert.equal(best?.firstIndex, 0);
});
