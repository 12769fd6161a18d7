// Tests of when statistics lines are due: a filter sample gives peerstats, a clock update loopstats, a bogus reply neither; rawstats from a real header.
import assert from "node:assert/strict";
import {
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  DEFAULT_TOS,
  onPacket,
  onTimer,
  onTransmitted,
  type TimeKeeperSettings,
  type TimeKeeperState,
} from "../../../src/core/client/time_keeper.ts";
import { defaultDisciplineSettings } from "../../../src/core/discipline/clock_discipline.ts";
import {
  countReply,
  countRequest,
  NO_EXCHANGES,
  rawStatsRecord,
  replyOutcome,
} from "../../../src/core/stats/stats_records.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { formatRawStats } from "../../../src/core/stats/stats_lines.ts";
import { at, reply } from "../client/_replies.ts";

function settings(count: number): TimeKeeperSettings {
  return {
    associations: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      address: new Uint8Array([10, 0, 0, i + 1]),
      version: 4,
      minPollLog2: 6,
      maxPollLog2: 10,
      iburst: false,
      burst: false,
      prefer: false,
      noselect: false,
    })),
    ...DEFAULT_TOS,
    minClock: 1,
    discipline: defaultDisciplineSettings,
    precisionLog2: -20,
    driftPpm: null,
    currentFrequencyPpm: 0,
    randomSeed: 9,
    localReferenceIds: [],
    startupWaitSeconds: DEFAULT_STARTUP_WAIT_SECONDS,
  };
}

/** Runs timers at `now`; whether a request went out. */
function poll(state: TimeKeeperState, now: number): { state: TimeKeeperState; sent: boolean } {
  const out = onTimer(state, { monotonicSeconds: now });
  let next = out.state;
  let sent = false;
  for (const action of out.actions) {
    if (action.kind !== "send") continue;
    next = onTransmitted(next, { associationId: action.associationId, transmitTime: at(now) });
    sent = true;
  }
  return { state: next, sent };
}

function answer(state: TimeKeeperState, sentAt: number, overrides = {}) {
  const bytes = reply(at(sentAt), {
    t2: at(sentAt + 0.001),
    t3: at(sentAt + 0.0011),
  }, overrides);
  return {
    bytes,
    out: onPacket(state, bytes, {
      associationId: 1,
      receiveTime: at(sentAt + 0.0021),
      monotonicSeconds: sentAt + 0.0021,
    }),
  };
}

Deno.test("a valid reply is a filter sample; the reply that updates the clock is a loop update", () => {
  let state = createTimeKeeper(settings(1), { monotonicSeconds: 0 }).state;
  let samples = 0;
  let updates = 0;
  let answered = 0;
  for (let now = 1; answered < 8; now += 1) {
    const polled = poll(state, now);
    state = polled.state;
    if (!polled.sent) continue;
    answered++;
    const { out } = answer(state, now);
    const outcome = replyOutcome(state, out.state, 1);
    if (outcome.newSample) samples++;
    if (outcome.disciplineUpdated) updates++;
    state = out.state;
  }
  assert.equal(samples, 8);
  assert.ok(updates >= 6, `clock updates ${updates}`);
  assert.ok(updates <= samples);
});

Deno.test("a reply that is not answering our request (bogus origin, duplicate) is no sample", () => {
  let state = createTimeKeeper(settings(1), { monotonicSeconds: 0 }).state;
  state = poll(state, 1).state;
  const first = answer(state, 1);
  state = first.out.state;
  // The same reply again: a duplicate, dropped by the reply checks.
  const again = onPacket(state, first.bytes, {
    associationId: 1,
    receiveTime: at(1.5),
    monotonicSeconds: 1.5,
  });
  assert.deepEqual(replyOutcome(state, again.state, 1), {
    answered: false,
    newSample: false,
    disciplineUpdated: false,
  });
  // An unsynchronised server's reply (LI 3) counts for nothing.
  let now = 2;
  for (let sent = false; !sent; now++) ({ state, sent } = poll(state, now));
  const unsynced = answer(state, now - 1, { leap: 3, stratum: 16 });
  assert.deepEqual(replyOutcome(state, unsynced.out.state, 1), {
    answered: true,
    newSample: false,
    disciplineUpdated: false,
  });
});

Deno.test("rawstats records the reply's own header and timestamps; junk gives no record", () => {
  const bytes = reply(at(1), { t2: at(1.001), t3: at(1.0011) });
  const record = rawStatsRecord(bytes, {
    unixSeconds: 1_796_601_600,
    sourceAddress: "10.0.0.1",
    destinationAddress: "10.0.0.9",
    destinationTime: at(1.0021),
    lostRequests: 0,
    rejectedReplies: 0,
    flashBits: 0,
  });
  assert.ok(record !== null);
  assert.deepEqual(record.originate, at(1));
  assert.deepEqual(record.transmit, at(1.0011));
  assert.equal(record.stratum, 1);
  assert.equal(record.precisionLog2, -23);
  assert.ok(Math.abs(record.rootDispersionSeconds - 33 / 65536) < 1e-12);
  assert.match(formatRawStats(record), / 0 4 4 1 6 -23 0\.000000 0\.000504 \.GPS\. 0 0 0$/);
  assert.equal(
    rawStatsRecord(new Uint8Array(20), {
      unixSeconds: 0,
      sourceAddress: "10.0.0.1",
      destinationAddress: null,
      destinationTime: at(0),
      lostRequests: 0,
      rejectedReplies: 0,
      flashBits: 0,
    }),
    null,
  );
});

Deno.test("rawstats counts as NTPsec: lost requests before an answer, refused replies since a request, one refused line per request", () => {
  const taken = { answered: true, newSample: true, disciplineUpdated: false };
  const refusedAnswer = { answered: true, newSample: false, disciplineUpdated: false };
  const bogus = { answered: false, newSample: false, disciplineUpdated: false };
  // Two requests lost, the third answered and taken.
  let counts = countRequest(countRequest(countRequest(NO_EXCHANGES)));
  let reply = countReply(counts, taken);
  assert.deepEqual([reply.lostRequests, reply.rejectedReplies, reply.rawstatsDue], [2, 0, true]);
  counts = reply.counts;
  // Answered but refused (an unsynchronised upstream): no loss, one refusal, its line written.
  counts = countRequest(counts);
  reply = countReply(counts, refusedAnswer);
  assert.deepEqual([reply.lostRequests, reply.rejectedReplies, reply.rawstatsDue], [0, 1, true]);
  counts = countRequest(reply.counts);
  reply = countReply(counts, refusedAnswer);
  assert.deepEqual([reply.lostRequests, reply.rejectedReplies], [0, 1], "no growth per poll");
  // A duplicate then a flood of bogus replies: only the first refused one gets a line.
  counts = countRequest(reply.counts);
  const first = countReply(counts, bogus);
  const second = countReply(first.counts, bogus);
  assert.deepEqual([first.lostRequests, first.rejectedReplies, first.rawstatsDue], [1, 1, true]);
  assert.deepEqual([second.rejectedReplies, second.rawstatsDue], [2, false]);
  // The real answer after them is still written, with the refusals counted.
  const real = countReply(second.counts, taken);
  assert.deepEqual([real.lostRequests, real.rejectedReplies, real.rawstatsDue], [0, 2, true]);
});

Deno.test("rawstats writes stratum 0 as 16 with its refid as a dotted quad, and no line for a KoD", () => {
  const context = {
    unixSeconds: 1_796_601_600,
    sourceAddress: "10.0.0.1",
    destinationAddress: null,
    destinationTime: at(1.0021),
    lostRequests: 0,
    rejectedReplies: 1,
    flashBits: 0x20,
  };
  const unsynchronised = rawStatsRecord(
    reply(at(1), { t2: at(1.001), t3: at(1.0011) }, {
      leap: 0,
      stratum: 0,
      referenceId: refidFromAscii("INIT"),
    }),
    context,
  );
  assert.ok(unsynchronised !== null);
  assert.equal(unsynchronised.stratum, 16);
  assert.match(formatRawStats(unsynchronised), / 16 6 -23 .* 73\.78\.73\.84 0 1 20$/);
  const kiss = reply(at(1), { t2: at(1.001), t3: at(1.0011) }, {
    leap: 3,
    stratum: 0,
    referenceId: refidFromAscii("RATE"),
  });
  assert.equal(rawStatsRecord(kiss, context), null);
});
