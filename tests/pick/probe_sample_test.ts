// judgeProbeReply() and candidateFigures(): one exchange's verdict, and a candidate's figures from its samples.
import assert from "node:assert/strict";
import { candidateFigures, type ProbeOutcome } from "../../src/core/pick/candidate_figures.ts";
import { judgeProbeReply, type ProbeSample } from "../../src/core/pick/probe_sample.ts";
import {
  answersRequest,
  buildExchangeRequest as buildProbeRequest,
} from "../../src/core/client/exchange.ts";
import { readTimestamp } from "../../src/core/time/ntp_timestamp.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { at, reply } from "../core/client/_replies.ts";

const request = buildProbeRequest(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
const origin = readTimestamp(new DataView(request.buffer), 40);

/** A reply to `request` from a server `offset` s ahead, 5 ms out and 5 ms back, sent at t = 0. */
function exchange(offset: number, overrides = {}) {
  return {
    request,
    sentAt: at(0),
    reply: reply(origin, { t2: at(0.005 + offset), t3: at(0.0051 + offset) }, overrides),
    receivedAt: at(0.0101),
  };
}

Deno.test("buildExchangeRequest() makes a version 4 client request carrying the random transmit bytes", () => {
  assert.equal(request.length, 48);
  assert.equal(request[0], 0x23);
  assert.deepEqual([...request.subarray(40)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => buildProbeRequest(new Uint8Array(4)), RangeError);
});

Deno.test("judgeProbeReply() measures offset and delay against the send and receive times", () => {
  const sample = judgeProbeReply(exchange(0.25), { localPrecisionLog2: -20 });
  assert.equal(sample.kind, "ok");
  if (sample.kind !== "ok") return;
  assert.ok(Math.abs(sample.offsetSeconds - 0.25) < 1e-6, String(sample.offsetSeconds));
  assert.ok(Math.abs(sample.delaySeconds - 0.01) < 1e-6, String(sample.delaySeconds));
  assert.equal(sample.stratum, 1);
  assert.equal(sample.referenceId, refidFromAscii("GPS"));
});

Deno.test("judgeProbeReply() tells no answer, Kiss-o'-Death, unsynchronised and a stray origin apart", () => {
  const judge = (e: Parameters<typeof judgeProbeReply>[0]) =>
    judgeProbeReply(e, { localPrecisionLog2: -20 });
  assert.deepEqual(judge({ ...exchange(0), reply: null, receivedAt: null }), { kind: "noAnswer" });
  assert.deepEqual(
    judge(exchange(0, { stratum: 0, leap: 3, referenceId: refidFromAscii("RATE") })),
    { kind: "kissOfDeath", code: "RATE" },
  );
  assert.deepEqual(judge(exchange(0, { stratum: 16, leap: 3 })), {
    kind: "unsynchronised",
    leap: 3,
    stratum: 16,
  });
  assert.deepEqual(judge(exchange(0, { originTime: at(5) })), {
    kind: "invalid",
    reason: "bogusOrigin",
  });
  assert.deepEqual(judge({ ...exchange(0), reply: new Uint8Array(10) }), {
    kind: "invalid",
    reason: "malformed",
  });
});

Deno.test("answersRequest() accepts only a reply whose origin echoes the request", () => {
  assert.equal(answersRequest(exchange(0).reply, request), true);
  assert.equal(answersRequest(exchange(0, { originTime: at(1) }).reply, request), false);
  assert.equal(answersRequest(new Uint8Array(20), request), false);
});

const ok = (offsetSeconds: number, delaySeconds: number): ProbeSample => ({
  kind: "ok",
  offsetSeconds,
  delaySeconds,
  leap: 0,
  stratum: 1,
  referenceId: refidFromAscii("PPS"),
  rootDelaySeconds: 0.002,
  rootDispersionSeconds: 0.001,
  precisionLog2: -20,
});
const outcome = (
  samples: ProbeSample[],
  skipped: ProbeOutcome["skipped"] = null,
): ProbeOutcome => ({
  candidate: { host: "127.0.0.1", port: 11001, line: 1 },
  address: "127.0.0.1",
  skipped,
  samples,
});

Deno.test("candidateFigures() takes delay and offset from the best sample and jitter as RMS from it", () => {
  const f = candidateFigures(outcome([ok(0.003, 0.030), ok(0.001, 0.010), ok(0.004, 0.020), {
    kind: "noAnswer",
  }]));
  assert.equal(f.problem, null);
  assert.equal(f.sent, 4);
  assert.equal(f.answered, 3);
  assert.equal(f.delaySeconds, 0.010);
  assert.equal(f.offsetSeconds, 0.001);
  const jitter = Math.sqrt(((0.002) ** 2 + (0.003) ** 2) / 2);
  assert.ok(Math.abs(f.jitterSeconds! - jitter) < 1e-12);
  // (root delay + delay) / 2 + root dispersion + jitter
  assert.ok(Math.abs(f.rootDistanceSeconds! - ((0.002 + 0.010) / 2 + 0.001 + jitter)) < 1e-12);
  assert.equal(f.stratum, 1);
});

Deno.test("candidateFigures() names the problem: KoD first, then too few answers, unsynchronised, invalid", () => {
  const kod = candidateFigures(outcome([ok(0, 0.01), { kind: "kissOfDeath", code: "RATE" }]));
  assert.equal(kod.problem, "kissOfDeath");
  assert.equal(kod.kissCode, "RATE");
  assert.match(kod.problemText, /^Kiss-o'-Death RATE/);
  const unsync = candidateFigures(
    outcome(Array(4).fill({ kind: "unsynchronised", leap: 3, stratum: 16 })),
  );
  assert.equal(unsync.problem, "unsynchronised");
  assert.equal(unsync.stratum, 16);
  const silent = candidateFigures(outcome(Array(4).fill({ kind: "noAnswer" })));
  assert.equal(silent.problem, "unreachable");
  assert.equal(silent.problemText, "no answer to 4 requests");
  const lossy = candidateFigures(
    outcome([ok(0, 0.01), { kind: "noAnswer" }, { kind: "noAnswer" }]),
  );
  assert.equal(lossy.problem, "unreachable");
  assert.equal(lossy.problemText, "answered only 1 of 3 requests");
  const bad = candidateFigures(outcome([{ kind: "invalid", reason: "badHeader" }]));
  assert.equal(bad.problem, "invalid");
  const unresolved = candidateFigures(outcome([], { kind: "unresolved", message: "no such name" }));
  assert.deepEqual([unresolved.problem, unresolved.problemText], ["unresolved", "no such name"]);
  const duplicate = candidateFigures(
    outcome([], { kind: "duplicate", of: { host: "a.example", port: 123, line: 2 } }),
  );
  assert.equal(duplicate.problemText, "same address as a.example (line 2)");
});

Deno.test("candidateFigures() leaves the worst quarter of the replies by delay out of the jitter", () => {
  // The first exchange was held up 40 ms on the way back (a first packet, a busy receiver).
  const f = candidateFigures(
    outcome([ok(-0.020, 0.041), ok(0.0001, 0.001), ok(0.0002, 0.0011), ok(0.0000, 0.0012)]),
  );
  assert.equal(f.delaySeconds, 0.001);
  const jitter = Math.sqrt(((0.0001) ** 2 + (0.0001) ** 2) / 2);
  assert.ok(Math.abs(f.jitterSeconds! - jitter) < 1e-12, String(f.jitterSeconds));
});
