// The judge of the sync acceptance (tests/support/served_time_watch.ts) fails on what it must: unanswered, unsynchronised, wrong stratum/refid, offsets at 1 ms, too few short-delay samples.
import assert from "node:assert/strict";
import {
  type AnsweredSample,
  firstSynchronised,
  ipv4RefidHex,
  parseWatchOutput,
  servedSampleProblems,
} from "../support/served_time_watch.ts";

const good: AnsweredSample = {
  wallSeconds: 1,
  answered: true,
  leap: 0,
  stratum: 2,
  refidHex: "7f000001",
  offsetSeconds: 20e-6,
  delaySeconds: 100e-6,
};
const expectation = { stratum: 2, refidHex: "7f000001", maxAbsOffsetSeconds: 0.001 };

Deno.test("servedSampleProblems() accepts synchronised samples within 1 ms", () => {
  assert.deepEqual(
    servedSampleProblems([good, { ...good, offsetSeconds: -999e-6 }], expectation),
    [],
  );
});

Deno.test("servedSampleProblems() reports every unsynchronised, wrong or silent sample", () => {
  const problems = servedSampleProblems([
    good,
    { ...good, leap: 3, stratum: 16, refidHex: "494e4954" },
    { ...good, offsetSeconds: 0.001 },
    { wallSeconds: 2, answered: false },
  ], expectation);
  assert.deepEqual(problems, [
    "1970-01-01T00:00:01.000Z: LI=3",
    "1970-01-01T00:00:01.000Z: stratum 16",
    "1970-01-01T00:00:01.000Z: refid 494e4954",
    "1970-01-01T00:00:01.000Z: offset 1.000 ms (delay 0.100 ms)",
    "1970-01-01T00:00:02.000Z: no answer",
  ]);
  assert.deepEqual(servedSampleProblems([], expectation), ["no samples"]);
});

Deno.test("servedSampleProblems() ignores long-delay offsets but fails when most samples are such", () => {
  const slow = { ...good, delaySeconds: 0.01, offsetSeconds: 0.004 };
  assert.deepEqual(servedSampleProblems([good, good, good, slow], expectation), []);
  assert.deepEqual(servedSampleProblems([good, slow, slow], expectation), [
    "only 1 of 3 samples had a delay below 1 ms",
  ]);
});

Deno.test("parseWatchOutput() skips a line still being written and firstSynchronised() finds LI=0 at the stratum", () => {
  const line =
    '{"wall": 2, "answered": true, "leap": 0, "stratum": 2, "refid": "7f000001", "offset": 2e-05, "delay": 0.0001}';
  const unsynced = line.replace('"leap": 0', '"leap": 3');
  const samples = parseWatchOutput(
    `{"wall": 1, "answered": false}\n${unsynced}\n${line}\n{"wall": 3, "answ`,
  );
  assert.equal(samples.length, 3);
  assert.deepEqual(firstSynchronised(samples, 2), { ...good, wallSeconds: 2 });
  assert.equal(firstSynchronised(samples, 3), undefined);
});

Deno.test("ipv4RefidHex() spells an IPv4 address as a refid and rejects anything else", () => {
  assert.equal(ipv4RefidHex("127.0.0.1"), "7f000001");
  assert.equal(ipv4RefidHex("10.201.2.1"), "0ac90201");
  assert.throws(() => ipv4RefidHex("::1"), RangeError);
  assert.throws(() => ipv4RefidHex("1.2.3.256"), RangeError);
});
