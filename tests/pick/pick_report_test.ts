// What `ntp pick` prints: the table rows and their reasons, the summary line, the [[server]] block and the JSON form.
import assert from "node:assert/strict";
import { pickedUpstream } from "../../src/cli/pick_command.ts";
import { pickJson, pickSummary, pickTable, serverBlock } from "../../src/cli/pick_report.ts";
import { pickUpstreams } from "../../src/core/pick/pick_upstreams.ts";
import { unusable, usable } from "./_figures.ts";

const result = pickUpstreams([
  usable(1, { delaySeconds: 0.0123, offsetSeconds: -0.0004, jitterSeconds: 0.0002 }),
  unusable(2, "kissOfDeath"),
  usable(3, {
    delaySeconds: 0.0021,
    offsetSeconds: 0.0001,
    jitterSeconds: 0.0001,
    stratum: 2,
    referenceId: 0xc0000201,
  }),
], { count: 4 });
const upstreams = result.picked.map((f) => pickedUpstream(f.candidate, { family: null }));

Deno.test("pickTable() lists the picked by rank, then the dropped, with figures in milliseconds", () => {
  const lines = pickTable(result);
  assert.equal(lines.length, 4);
  assert.match(
    lines[0]!,
    /^ # candidate +address +st refid +delay\/ms +offset\/ms +jitter\/ms +ok verdict$/,
  );
  assert.match(
    lines[1]!,
    /^ 1 127\.0\.0\.1:11003 +127\.0\.0\.1 +2 192\.0\.2\.1 +2\.100 +\+0\.100 +0\.100 4\/4 picked: nearest$/,
  );
  assert.match(
    lines[2]!,
    /^ 2 127\.0\.0\.1:11001 +127\.0\.0\.1 +1 \.GPS\. +12\.300 +-0\.400 +0\.200 4\/4 picked: rank 2$/,
  );
  assert.match(
    lines[3]!,
    /^ - 127\.0\.0\.1:11002 +127\.0\.0\.1 +- - +- +- +- 0\/4 dropped: kissOfDeath for the test$/,
  );
});

Deno.test("pickSummary() says how many were picked of how many, and how the falseticker vote went", () => {
  assert.equal(
    pickSummary(result, { count: 4 }),
    "picked 2 of 2 usable candidates (3 listed) (wanted 4: add candidates with --from FILE); " +
      "falseticker check: the majority agrees on -1.150 .. +1.350 ms",
  );
  const split = pickUpstreams([
    usable(1, { delaySeconds: 0.001, offsetSeconds: 0 }),
    usable(2, { delaySeconds: 0.001, offsetSeconds: 1 }),
  ], { count: 2 });
  assert.equal(
    pickSummary(split, { count: 2 }),
    "picked 2 of 2 usable candidates (2 listed); too few answered (2) to tell falsetickers apart",
  );
});

Deno.test("serverBlock() and pickJson() give the picked servers, best first", () => {
  assert.equal(
    serverBlock(upstreams),
    '[[server]]\naddress = "127.0.0.1"\nport = 11003\niburst = true\n\n' +
      '[[server]]\naddress = "127.0.0.1"\nport = 11001\niburst = true',
  );
  const json = pickJson(result, upstreams) as {
    picked: string[];
    candidates: {
      candidate: string;
      verdict: string;
      delaySeconds: number | null;
      refid: string | null;
    }[];
    serverBlock: string;
  };
  assert.deepEqual(json.picked, ["127.0.0.1:11003", "127.0.0.1:11001"]);
  assert.deepEqual(json.candidates.map((c) => [c.candidate, c.verdict, c.refid]), [
    ["127.0.0.1:11003", "picked", "192.0.2.1"],
    ["127.0.0.1:11001", "picked", ".GPS."],
    ["127.0.0.1:11002", "dropped", null],
  ]);
  assert.equal(json.candidates[0]!.delaySeconds, 0.0021);
  assert.equal(json.serverBlock, serverBlock(upstreams));
});
