// pickUpstreams(): drops the unusable and falsetickers, ranks by delay then jitter, prefers diverse sources; examples and properties.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { CandidateFigures } from "../../src/core/pick/candidate_figures.ts";
import { pickUpstreams } from "../../src/core/pick/pick_upstreams.ts";
import { sourceKey } from "../../src/core/pick/source_key.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { unusable, usable } from "./_figures.ts";

const lines = (figures: readonly CandidateFigures[]) => figures.map((f) => f.candidate.line);

Deno.test("pickUpstreams() picks the nearest healthy candidates in order of delay and drops the rest", () => {
  const result = pickUpstreams([
    usable(1, { delaySeconds: 0.040 }),
    unusable(2, "unreachable"),
    usable(3, { delaySeconds: 0.005 }),
    unusable(4, "kissOfDeath"),
    usable(5, { delaySeconds: 0.020 }),
    usable(6, { delaySeconds: 0.0002 }),
    unusable(7, "unsynchronised"),
    usable(8, { delaySeconds: 0.080 }),
  ], { count: 4 });
  assert.deepEqual(lines(result.picked), [6, 3, 5, 1]);
  assert.deepEqual(
    result.verdicts.map((v) => [v.figures.candidate.line, v.verdict, v.rank]),
    [
      [6, "picked", 1],
      [3, "picked", 2],
      [5, "picked", 3],
      [1, "picked", 4],
      [8, "spare", 5],
      [
        2,
        "dropped",
        null,
      ],
      [4, "dropped", null],
      [7, "dropped", null],
    ],
  );
  assert.equal(result.verdicts[0]!.reason, "picked: nearest");
  // All share one source (GPS at 127.0.0.0/24): the spare says so.
  assert.equal(
    result.verdicts[4]!.reason,
    "spare: rank 5; same source .GPS.@127.0.0.0/24 as 127.0.0.1:11006",
  );
  assert.equal(result.verdicts[5]!.reason, "unreachable for the test");
});

Deno.test("pickUpstreams() ranks delays within the same millisecond by jitter", () => {
  const result = pickUpstreams([
    usable(1, { delaySeconds: 0.0101, jitterSeconds: 0.004 }),
    usable(2, { delaySeconds: 0.0108, jitterSeconds: 0.0002 }),
    usable(3, { delaySeconds: 0.0093, jitterSeconds: 0.009 }),
    usable(4, { delaySeconds: 0.0300, jitterSeconds: 0.00001 }),
  ], { count: 4 });
  assert.deepEqual(lines(result.picked), [3, 2, 1, 4]);
});

Deno.test("pickUpstreams() drops a falseticker whose offset disagrees with the majority, however near", () => {
  const result = pickUpstreams([
    usable(1, { delaySeconds: 0.010, offsetSeconds: 0.0003 }),
    usable(2, { delaySeconds: 0.0002, offsetSeconds: 0.5 }),
    usable(3, { delaySeconds: 0.020, offsetSeconds: -0.0004 }),
    usable(4, { delaySeconds: 0.030, offsetSeconds: 0.001 }),
  ], { count: 4 });
  assert.deepEqual(lines(result.picked), [1, 3, 4]);
  const dropped = result.verdicts.find((v) => v.figures.candidate.line === 2)!;
  assert.equal(dropped.verdict, "dropped");
  assert.match(
    dropped.reason,
    /^falseticker: offset \+0\.500000 s is outside .* where 3 of 4 sources agree$/,
  );
  assert.ok(result.agreement !== null && result.agreement.highSeconds < 0.5);
});

Deno.test("pickUpstreams() names no falseticker when there is no majority", () => {
  const result = pickUpstreams([
    usable(1, { delaySeconds: 0.010, offsetSeconds: 0 }),
    usable(2, { delaySeconds: 0.020, offsetSeconds: 1 }),
  ], { count: 4 });
  assert.equal(result.agreement, null);
  assert.deepEqual(lines(result.picked), [1, 2]);
});

Deno.test("pickUpstreams() lets trusted reference intervals outvote candidates (the daemon's current servers)", () => {
  const candidates = [
    usable(1, { delaySeconds: 0.001, offsetSeconds: 0.3 }),
    usable(2, { delaySeconds: 0.010, offsetSeconds: 0.0001 }),
  ];
  const result = pickUpstreams(candidates, {
    count: 1,
    referenceIntervals: [
      { offsetSeconds: 0, rootDistanceSeconds: 0.002 },
      { offsetSeconds: 0.0005, rootDistanceSeconds: 0.002 },
    ],
  });
  assert.deepEqual(lines(result.picked), [2]);
  assert.equal(result.voters, 4);
});

Deno.test("pickUpstreams() prefers servers behind different references to nearer ones behind the same", () => {
  const gps = refidFromAscii("GPS");
  const op = (line: number, host: string, delay: number, refid = gps) =>
    usable(line, { delaySeconds: delay, host, referenceId: refid });
  const result = pickUpstreams([
    op(1, "a1.one.example", 0.001),
    op(2, "a2.one.example", 0.002),
    op(3, "a3.one.example", 0.003),
    op(4, "a4.one.example", 0.004),
    op(5, "b.two.example", 0.030),
    op(6, "c.three.example", 0.040, refidFromAscii("PPS")),
    op(7, "d.one.example", 0.050, refidFromAscii("PTB")),
  ], { count: 4 });
  // One GPS@one.example, then the other references, although three nearer ones share a receiver.
  assert.deepEqual(lines(result.picked), [1, 5, 6, 7]);
  const spare = result.verdicts.find((v) => v.figures.candidate.line === 2)!;
  assert.equal(
    spare.reason,
    "spare: rank 2; same source .GPS.@one.example as a1.one.example:11001",
  );
});

Deno.test("pickUpstreams() fills up with servers of a source already picked when there are too few sources", () => {
  const same = (line: number, delay: number) =>
    usable(line, { delaySeconds: delay, stratum: 2, referenceId: 0xc0000201 });
  const result = pickUpstreams([same(1, 0.004), same(2, 0.001), same(3, 0.003), same(4, 0.002)], {
    count: 3,
  });
  assert.deepEqual(lines(result.picked), [2, 4, 3]);
});

Deno.test("pickUpstreams() counts a key in takenSourceKeys as already in use", () => {
  const a = usable(1, { delaySeconds: 0.001, stratum: 2, referenceId: 0xc0000201 });
  const b = usable(2, { delaySeconds: 0.010, stratum: 2, referenceId: 0xc0000202 });
  const plain = pickUpstreams([a, b], { count: 1 });
  assert.deepEqual(lines(plain.picked), [1]);
  assert.equal(plain.verdicts[1]!.reason, "spare: rank 2, 1 already picked");
  assert.deepEqual(
    lines(pickUpstreams([a, b], { count: 1, takenSourceKeys: ["192.0.2.1"] }).picked),
    [2],
  );
});

const figuresArb: fc.Arbitrary<CandidateFigures[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        delayMs: fc.integer({ min: 0, max: 200_000 }).map((us) => us / 1000),
        jitterUs: fc.integer({ min: 1, max: 5000 }),
        offsetUs: fc.oneof(
          fc.integer({ min: -2000, max: 2000 }),
          fc.integer({ min: -2_000_000, max: 2_000_000 }),
        ),
        refid: fc.constantFrom("GPS", "PPS", "PTB", "DCF", "NIST"),
        operator: fc.constantFrom("one.example", "two.example", "three.example"),
        stratum: fc.constantFrom(1, 2),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom("unreachable", "kissOfDeath", "unsynchronised") },
  ),
  { maxLength: 14 },
).map((specs) =>
  specs.map((spec, i) =>
    typeof spec === "string" ? unusable(i + 1, spec as "unreachable") : usable(i + 1, {
      delaySeconds: spec.delayMs / 1000,
      jitterSeconds: spec.jitterUs / 1e6,
      offsetSeconds: spec.offsetUs / 1e6,
      referenceId: refidFromAscii(spec.refid),
      stratum: spec.stratum,
      host: `s${i}.${spec.operator}`,
    })
  )
);

Deno.test("property: every candidate gets one verdict; only usable truechimers are picked, best rank first", () => {
  fc.assert(
    fc.property(figuresArb, fc.integer({ min: 1, max: 7 }), (figures, count) => {
      const result = pickUpstreams(figures, { count });
      assert.equal(result.verdicts.length, figures.length);
      assert.deepEqual(
        new Set(result.verdicts.map((v) => v.figures)),
        new Set(figures),
      );
      const healthy = result.verdicts.filter((v) => v.verdict !== "dropped");
      assert.equal(result.picked.length, Math.min(count, healthy.length));
      for (const f of result.picked) assert.equal(f.problem, null);
      const ranks = result.verdicts.filter((v) => v.verdict === "picked").map((v) => v.rank!);
      assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
      // Ranks run 1..n over the healthy ones, by delay millisecond.
      const byRank = [...healthy].sort((a, b) => a.rank! - b.rank!);
      byRank.forEach((v, i) => {
        assert.equal(v.rank, i + 1);
        if (i > 0) {
          assert.ok(
            Math.floor(v.figures.delaySeconds! * 1000) >=
              Math.floor(byRank[i - 1]!.figures.delaySeconds! * 1000),
          );
        }
      });
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: picks rest on distinct sources whenever the healthy ones offer enough of them", () => {
  fc.assert(
    fc.property(figuresArb, fc.integer({ min: 1, max: 7 }), (figures, count) => {
      const result = pickUpstreams(figures, { count });
      const key = (f: CandidateFigures) =>
        sourceKey({ host: f.candidate.host, stratum: f.stratum!, referenceId: f.referenceId! });
      const healthy = result.verdicts.filter((v) => v.verdict !== "dropped").map((v) => v.figures);
      const distinct = new Set(healthy.map(key)).size;
      const pickedKeys = new Set(result.picked.map(key)).size;
      assert.equal(pickedKeys, Math.min(distinct, result.picked.length));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: with one source behind all, the pick is exactly the nearest `count`", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 7 }),
      (delaysMs, count) => {
        const figures = delaysMs.map((ms, i) =>
          usable(i + 1, { delaySeconds: ms / 1000 + 0.0005, stratum: 3, referenceId: 0x0a000001 })
        );
        const nearest = [...figures].sort((a, b) => a.delaySeconds! - b.delaySeconds!).slice(
          0,
          count,
        );
        assert.deepEqual(pickUpstreams(figures, { count }).picked, nearest);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: a lone candidate far off a tight majority is always dropped as a falseticker", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -500, max: 500 }), { minLength: 2, maxLength: 8 }),
      fc.integer({ min: 50, max: 5000 }),
      fc.boolean(),
      (offsetsUs, farMs, negative) => {
        const good = offsetsUs.map((us, i) =>
          usable(i + 1, {
            delaySeconds: 0.002,
            offsetSeconds: us / 1e6,
            rootDistanceSeconds: 0.002,
          })
        );
        const far = usable(99, {
          delaySeconds: 0.0001,
          offsetSeconds: (negative ? -farMs : farMs) / 1000,
          rootDistanceSeconds: 0.002,
        });
        const result = pickUpstreams([...good, far], { count: 7 });
        const verdict = result.verdicts.find((v) => v.figures === far)!;
        assert.equal(verdict.verdict, "dropped");
        assert.match(verdict.reason, /^falseticker/);
      },
    ),
    { numRuns: 300 },
  );
});
