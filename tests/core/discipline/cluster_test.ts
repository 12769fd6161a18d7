// Tests of the cluster algorithm: pruning by selection jitter, the minclock floor and the prefer peer's immunity.
import assert from "node:assert/strict";
import fc from "fast-check";
import { cluster, type ClusterCandidate } from "../../../src/core/discipline/cluster.ts";

const c = (
  id: number,
  offsetSeconds: number,
  jitterSeconds = 1e-5,
  prefer = false,
): ClusterCandidate => ({
  id,
  offsetSeconds,
  jitterSeconds,
  prefer,
});
const options = { minClock: 3, precisionLog2: -20 };

Deno.test("cluster() prunes the candidate whose offset disagrees most until minclock remain", () => {
  const result = cluster([c(1, 0), c(2, 0.0001), c(3, -0.0001), c(4, 0.004), c(5, 0.002)], options);
  assert.deepEqual(result.survivors, [1, 2, 3]);
  assert.deepEqual(result.outliers, [4, 5]);
});

Deno.test("cluster() stops when the selection jitter is no larger than the smallest peer jitter", () => {
  // Offsets spread by about 0.1 ms, peer jitter 1 ms: nobody is an outlier.
  const result = cluster(
    [c(1, 0, 1e-3), c(2, 1e-4, 1e-3), c(3, -1e-4, 1e-3), c(4, 5e-5, 1e-3)],
    options,
  );
  assert.deepEqual(result.survivors, [1, 2, 3, 4]);
  assert.deepEqual(result.outliers, []);
});

Deno.test("cluster() never discards a prefer peer", () => {
  const result = cluster([c(1, 0), c(2, 0.0001), c(3, -0.0001), c(4, 0.004, 1e-5, true)], options);
  assert.ok(result.survivors.includes(4));
});

Deno.test("property: cluster() keeps at least min(minclock, n) survivors and partitions its input", () => {
  fc.assert(fc.property(
    fc.array(
      fc.record({
        offset: fc.double({ min: -1, max: 1, noNaN: true }),
        jitter: fc.double({ min: 1e-7, max: 1e-2, noNaN: true }),
      }),
      { minLength: 1, maxLength: 10 },
    ),
    fc.integer({ min: 1, max: 6 }),
    (list, minClock) => {
      const candidates = list.map((x, i) => c(i + 1, x.offset, x.jitter));
      const result = cluster(candidates, { minClock, precisionLog2: -20 });
      assert.ok(result.survivors.length >= Math.min(minClock, candidates.length));
      assert.equal(result.survivors.length + result.outliers.length, candidates.length);
    },
  ));
});
