// Tests of one association: polling and bursts, origin validation, duplicates, reach and its events, KoD, unsynchronised servers.
import assert from "node:assert/strict";
import {
  type AssociationAction,
  type AssociationConfig,
  type AssociationState,
  BURST_SPACING_SECONDS,
  createAssociation,
  IBURST_PACKETS,
  invalidateOutstanding,
  onAssociationPacket,
  onAssociationTimer,
  onAssociationTransmitted,
} from "../../../src/core/client/association.ts";
import {
  applyPollCeiling,
  requestSoon,
  setTraining,
} from "../../../src/core/client/association_schedule.ts";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { at, reply } from "./_replies.ts";
import { unixFromNtp } from "../../../src/core/time/ntp_timestamp.ts";

const config: AssociationConfig = {
  id: 7,
  address: new Uint8Array([192, 0, 2, 1]),
  version: 4,
  minPollLog2: 6,
  maxPollLog2: 10,
  iburst: true,
  burst: false,
  prefer: false,
  noselect: false,
};
const precisionLog2 = -20;

function sends(actions: readonly AssociationAction[]) {
  return actions.filter((a) => a.kind === "send");
}
function events(actions: readonly AssociationAction[]) {
  return actions.flatMap((a) => (a.kind === "event" ? [a.event.kind] : []));
}

/** Runs the timer at `now`; if a packet goes out, records T1 = at(now). */
function tick(state: AssociationState, now: number) {
  const out = onAssociationTimer(state, { monotonicSeconds: now });
  let next = out.state;
  if (sends(out.actions).length > 0) {
    next = onAssociationTransmitted(next, { transmitTime: at(now) });
  }
  return { state: next, actions: out.actions };
}

/** The server (offset `offsetSeconds`, 1 ms each way) answers the outstanding request. */
function answer(
  state: AssociationState,
  now: number,
  options: { offsetSeconds?: number; overrides?: Parameters<typeof reply>[2] } = {},
) {
  const origin = state.outstanding?.transmitTime ?? at(-1);
  const offset = options.offsetSeconds ?? 0;
  const bytes = reply(
    origin,
    { t2: at(now + 0.001 + offset), t3: at(now + 0.0011 + offset) },
    options.overrides,
  );
  return onAssociationPacket(state, bytes, {
    receiveTime: at(now + 0.0021),
    monotonicSeconds: now + 0.0021,
    adjustmentSeconds: 0,
    precisionLog2,
  });
}

/** Polls at every timer deadline until `until`, answering when `answered(now)` says so. */
function run(
  state: AssociationState,
  until: number,
  answered: (now: number) => boolean = () => true,
) {
  const log: { now: number; actions: readonly AssociationAction[] }[] = [];
  let now = state.nextSendMonotonicSeconds;
  while (now <= until) {
    const t = tick(state, now);
    state = t.state;
    log.push({ now, actions: t.actions });
    if (sends(t.actions).length > 0 && answered(now)) {
      const a = answer(state, now);
      state = a.state;
      log.push({ now, actions: a.actions });
    }
    now = state.nextSendMonotonicSeconds;
  }
  return { state, log };
}

Deno.test("a new association is INIT and polls within half a second", () => {
  const assoc = createAssociation(config, { monotonicSeconds: 100, randomSeed: 1 });
  assert.equal(assoc.reach, 0);
  assert.equal(assoc.server, null);
  assert.ok(assoc.nextSendMonotonicSeconds >= 100 && assoc.nextSendMonotonicSeconds < 100.5);
  const early = onAssociationTimer(assoc, { monotonicSeconds: 99 });
  assert.equal(sends(early.actions).length, 0);
});

Deno.test("the request is mode 3, version 4, our poll, zero transmit timestamp for the daemon to fill", () => {
  const assoc = createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 });
  const out = onAssociationTimer(assoc, { monotonicSeconds: 1 });
  const send = sends(out.actions)[0];
  assert.ok(send?.kind === "send");
  assert.equal(send.associationId, 7);
  assert.equal(send.request.length, 48);
  const packet = decodePacket(send.request);
  assert.equal(packet.mode, 3);
  assert.equal(packet.version, 4);
  assert.equal(packet.pollLog2, 6);
  assert.deepEqual(packet.transmitTime, { seconds: 0, fraction: 0 });
  assert.equal(packet.stratum, 0);
});

Deno.test("iburst sends six packets two seconds apart, then waits a poll interval", () => {
  const { log } = run(createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 }), 100);
  const sendTimes = log.filter((l) => sends(l.actions).length > 0).map((l) => l.now);
  assert.equal(sendTimes.length, IBURST_PACKETS + 1);
  for (let i = 1; i < IBURST_PACKETS; i++) {
    assert.ok(
      Math.abs((sendTimes[i] as number) - (sendTimes[i - 1] as number) - BURST_SPACING_SECONDS) <
        1e-9,
    );
  }
  const gap = (sendTimes[IBURST_PACKETS] as number) - (sendTimes[0] as number);
  assert.ok(gap >= 64 && gap < 64 * 1.07, `poll gap ${gap}`);
});

Deno.test("a reply is accepted only with our transmit timestamp as origin, once", () => {
  let state = tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state;
  const good = reply(at(1), { t2: at(1.001), t3: at(1.0011) });
  const forged = onAssociationPacket(state, reply(at(0.5), { t2: at(1.001), t3: at(1.0011) }), {
    receiveTime: at(1.0021),
    monotonicSeconds: 1.0021,
    adjustmentSeconds: 0,
    precisionLog2,
  });
  assert.equal(forged.verdict, "bogusOrigin");
  assert.equal(forged.state.flashBits, 0x02);
  const options = {
    receiveTime: at(1.0021),
    monotonicSeconds: 1.0021,
    adjustmentSeconds: 0,
    precisionLog2,
  };
  const accepted = onAssociationPacket(state, good, options);
  assert.equal(accepted.verdict, "sample");
  const sample = accepted.actions.find((a) => a.kind === "sample");
  assert.ok(sample?.kind === "sample");
  assert.ok(Math.abs(sample.sample.delaySeconds - 0.002) < 1e-9);
  assert.ok(Math.abs(sample.sample.offsetSeconds) < 1e-9);
  state = accepted.state;
  assert.equal(onAssociationPacket(state, good, options).verdict, "duplicate");
});

Deno.test("a reply before the daemon reported the transmit time cannot match", () => {
  const sent = onAssociationTimer(
    createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }),
    { monotonicSeconds: 1 },
  );
  const out = onAssociationPacket(sent.state, reply(at(1), { t2: at(1.001), t3: at(1.0011) }), {
    receiveTime: at(1.0021),
    monotonicSeconds: 1.0021,
    adjustmentSeconds: 0,
    precisionLog2,
  });
  assert.equal(out.verdict, "bogusOrigin");
});

Deno.test("the measurement's T1 is when the request was sent, not when its transmit field was written; the origin must still be the field", () => {
  // The field was written at 1.000 s, the datagram left at 1.003 s (NTS encryption, a pause of
  // the process); the path is 1 ms each way and the server's clock agrees with ours.
  const sent = onAssociationTimer(
    createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }),
    { monotonicSeconds: 1 },
  );
  const state = onAssociationTransmitted(sent.state, {
    transmitTime: at(1),
    sentTime: at(1.003),
  });
  const options = {
    receiveTime: at(1.0051),
    monotonicSeconds: 1.0051,
    adjustmentSeconds: 0,
    precisionLog2,
  };
  const byField = onAssociationPacket(
    state,
    reply(at(1.003), { t2: at(1.004), t3: at(1.0041) }),
    options,
  );
  assert.equal(byField.verdict, "bogusOrigin", "the origin is matched against the field");
  const accepted = onAssociationPacket(
    state,
    reply(at(1), { t2: at(1.004), t3: at(1.0041) }),
    options,
  );
  assert.equal(accepted.verdict, "sample");
  const sample = accepted.actions.find((a) => a.kind === "sample");
  assert.ok(sample?.kind === "sample");
  // Measured from the field (1.000 s) it would be 5 ms of delay and +1.5 ms of offset.
  assert.ok(Math.abs(sample.sample.delaySeconds - 0.002) < 1e-9, `${sample.sample.delaySeconds}`);
  assert.ok(Math.abs(sample.sample.offsetSeconds) < 1e-9, `${sample.sample.offsetSeconds}`);
});
Deno.test("reachable is reported once, unreachable once after eight unanswered polls", () => {
  const assoc = createAssociation({ ...config, iburst: false }, {
    monotonicSeconds: 0,
    randomSeed: 1,
  });
  const first = run(assoc, 64 * 4);
  const reached = first.log.flatMap((l) => events(l.actions));
  assert.deepEqual(reached, ["reachable"]);
  assert.equal(first.state.reach & 0xf, 0xf);
  const silent = run(first.state, 64 * 16, () => false);
  assert.deepEqual(silent.log.flatMap((l) => events(l.actions)), ["unreachable"]);
  assert.equal(silent.state.reach, 0);
  assert.ok(silent.state.lastReceiveMonotonicSeconds !== null);
});

Deno.test("after three unanswered polls the filter gets MAXDISP stages", () => {
  const first = run(
    createAssociation({ ...config, iburst: false }, { monotonicSeconds: 0, randomSeed: 1 }),
    64 * 2,
  );
  const silent = run(first.state, 64 * 6, () => false);
  const missing = silent.state.filter.entries.filter((e) => e.kind === "missing").length;
  assert.ok(missing >= 2 && missing <= 3, `missing ${missing}`);
});

Deno.test("a source that never answers stays INIT, iburst once, and backs off after ten more polls", () => {
  const { state, log } = run(
    createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }),
    64 * 40,
    () => false,
  );
  assert.equal(state.lastReceiveMonotonicSeconds, null);
  assert.deepEqual(log.flatMap((l) => events(l.actions)), []);
  const total = log.filter((l) => sends(l.actions).length > 0).length;
  assert.ok(total < IBURST_PACKETS + 30, `sent ${total}`);
  assert.ok(state.poll.pollLog2 > 6, `poll ${state.poll.pollLog2}`);
});

Deno.test("the burst option sends eight packets at every poll while reachable", () => {
  const { log } = run(
    createAssociation({ ...config, iburst: false, burst: true }, {
      monotonicSeconds: 0,
      randomSeed: 1,
    }),
    200,
  );
  const sendTimes = log.filter((l) => sends(l.actions).length > 0).map((l) => l.now);
  // Poll 1 is unanswered-before (reach 0): no burst; polls 2 and 3 burst 8 each.
  assert.ok(sendTimes.length >= 1 + 8 + 1, `sent ${sendTimes.length}`);
});

Deno.test("a RATE kiss backs the poll off, cancels the burst and is reported once", () => {
  let state = tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state;
  const kiss = { stratum: 0, leap: 3 as const, referenceId: refidFromAscii("RATE"), pollLog2: 4 };
  const first = answer(state, 1, { overrides: kiss });
  assert.equal(first.verdict, "kissOfDeath");
  assert.deepEqual(events(first.actions), ["kissOfDeath"]);
  state = first.state;
  assert.equal(state.poll.pollLog2, 7);
  assert.equal(state.burstRemaining, 0);
  assert.ok(state.nextSendMonotonicSeconds >= 1 + 128);
  state = tick(state, state.nextSendMonotonicSeconds).state;
  const second = answer(state, state.nextSendMonotonicSeconds, { overrides: kiss });
  assert.deepEqual(events(second.actions), []);
  assert.equal(second.state.poll.pollLog2, 8);
  assert.equal(second.state.reach, 0); // kisses are no answers
});

Deno.test("DENY demobilises the association; a forged DENY is ignored", () => {
  const state = tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state;
  const deny = { stratum: 0, leap: 3 as const, referenceId: refidFromAscii("DENY") };
  const forged = onAssociationPacket(state, reply(at(0.3), { t2: at(1), t3: at(1) }, deny), {
    receiveTime: at(1.002),
    monotonicSeconds: 1.002,
    adjustmentSeconds: 0,
    precisionLog2,
  });
  assert.equal(forged.verdict, "bogusOrigin");
  assert.equal(forged.state.demobilisedBy, null);
  const real = answer(state, 1, { overrides: deny });
  assert.deepEqual(events(real.actions), ["demobilised"]);
  assert.equal(real.state.demobilisedBy, "DENY");
  assert.equal(real.state.nextSendMonotonicSeconds, Infinity);
  assert.equal(sends(onAssociationTimer(real.state, { monotonicSeconds: 1e6 }).actions).length, 0);
});

Deno.test("an unsynchronised reply consumes the request, records the header, but sets no reach", () => {
  const state = tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state;
  const out = answer(state, 1, {
    overrides: { leap: 3, stratum: 16, referenceId: refidFromAscii("INIT") },
  });
  assert.equal(out.verdict, "unsynchronised");
  assert.equal(out.state.reach, 0);
  assert.equal(out.state.server?.stratum, 16);
  assert.equal(out.state.outstanding, null);
  assert.equal(out.state.flashBits, 0x20);
});

Deno.test("a reply to a request sent before a clock step counts for reach but is no sample", () => {
  const state = invalidateOutstanding(
    tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state,
  );
  const out = answer(state, 1);
  assert.equal(out.verdict, "stale");
  assert.equal(out.state.reach, 1);
  assert.equal(out.actions.some((a) => a.kind === "sample"), false);
});

Deno.test("a malformed datagram is dropped without touching the request in flight", () => {
  const state = tick(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 1).state;
  const out = onAssociationPacket(state, new Uint8Array(20), {
    receiveTime: at(1.002),
    monotonicSeconds: 1.002,
    adjustmentSeconds: 0,
    precisionLog2,
  });
  assert.equal(out.verdict, "malformed");
  assert.notEqual(out.state.outstanding, null);
});

Deno.test("stable samples let the poll climb from minpoll toward maxpoll", () => {
  const { state } = run(
    createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }),
    6 * 3600,
  );
  assert.equal(state.poll.pollLog2, 10);
});

Deno.test("training sends extra requests between polls: the reach register and the poll stay as they are", () => {
  // After the iburst (six packets over 10 s) the next poll is 64 s on; train every 16 s.
  let state = run(createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 }), 11).state;
  const reachBefore = state.reach;
  const pollStart = state.pollStartMonotonicSeconds;
  state = setTraining(state, { intervalSeconds: 16, monotonicSeconds: 11 });
  assert.equal(state.trainingIntervalSeconds, 16);
  const last = state.lastSendMonotonicSeconds ?? 0;
  assert.ok(Math.abs(state.nextSendMonotonicSeconds - (last + 16)) < 1e-9);
  const { state: after, log } = run(state, pollStart + 60);
  const sendTimes = log.filter((l) => sends(l.actions).length > 0).map((l) => l.now);
  assert.ok(sendTimes.length >= 2, `sends at ${sendTimes}`);
  for (let i = 1; i < sendTimes.length; i++) {
    assert.ok((sendTimes[i] as number) - (sendTimes[i - 1] as number) >= 16 - 1e-9);
  }
  // Extra requests are no polls: the register did not shift, the poll did not start again.
  assert.equal(after.reach, reachBefore);
  assert.equal(after.pollStartMonotonicSeconds, pollStart);
  assert.equal(after.poll.pollLog2, 6);
  const ended = setTraining(after, { intervalSeconds: null, monotonicSeconds: pollStart + 60 });
  assert.equal(ended.trainingIntervalSeconds, null);
});

Deno.test("training never goes below the burst spacing and leaves a burst alone", () => {
  const fresh = createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 });
  const bursting = tick(fresh, fresh.nextSendMonotonicSeconds).state;
  assert.ok(bursting.burstRemaining > 0);
  const trained = setTraining(bursting, { intervalSeconds: 0.5, monotonicSeconds: 1 });
  assert.equal(trained.trainingIntervalSeconds, BURST_SPACING_SECONDS);
  assert.equal(trained.nextSendMonotonicSeconds, bursting.nextSendMonotonicSeconds);
});

Deno.test("requestSoon() brings a reachable iburst association's next request within the window, 16 s after the last at the earliest", () => {
  const state = run(createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 }), 80).state;
  assert.ok(state.reach !== 0 && state.nextSendMonotonicSeconds > 100);
  const soon = requestSoon(state, { monotonicSeconds: 80, withinSeconds: 16 });
  assert.ok(soon.nextSendMonotonicSeconds >= 80 && soon.nextSendMonotonicSeconds <= 96);
  assert.ok(soon.nextSendMonotonicSeconds >= (state.lastSendMonotonicSeconds ?? 0) + 16);
  const silent = createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 });
  assert.equal(requestSoon(silent, { monotonicSeconds: 0, withinSeconds: 16 }), silent);
  const plain = { ...state, config: { ...config, iburst: false } };
  assert.equal(requestSoon(plain, { monotonicSeconds: 80, withinSeconds: 16 }), plain);
});

Deno.test("a lower poll ceiling brings the next poll forward, spread over 16 s", () => {
  let state = run(createAssociation(config, { monotonicSeconds: 0, randomSeed: 3 }), 3000).state;
  assert.ok(state.poll.pollLog2 >= 7, `poll ${state.poll.pollLog2}`);
  const now = state.pollStartMonotonicSeconds + 70;
  const before = state.nextSendMonotonicSeconds;
  state = applyPollCeiling(state, { ceilingLog2: 6, monotonicSeconds: now });
  assert.equal(state.poll.pollLog2, 6);
  assert.ok(state.nextSendMonotonicSeconds < before);
  assert.ok(state.nextSendMonotonicSeconds >= now && state.nextSendMonotonicSeconds <= now + 16);
});

Deno.test("a reply within 5 s of a leap second counts for reach but is no sample and keeps the old leap bits", () => {
  /** Ticks every 0.5 s from `from` until a request is out; returns the state and its send time. */
  const nextRequest = (state: AssociationState, from: number) => {
    for (let now = from;; now += 0.5) {
      const out = tick(state, now);
      state = out.state;
      if (sends(out.actions).length > 0) return { state, sentAt: now };
    }
  };
  const first = nextRequest(createAssociation(config, { monotonicSeconds: 0, randomSeed: 1 }), 0);
  const state = answer(first.state, first.sentAt, { overrides: { leap: 1 } }).state;
  assert.equal(state.server?.leap, 1);
  const near = nextRequest(state, first.sentAt + 0.5);
  // The leap falls 3 s after this request leaves: its sample would straddle it.
  const leapUnixSeconds = unixFromNtp(at(near.sentAt + 3), 2_000_000_000).unixSeconds;
  const withLeap = (out: ReturnType<typeof answer>, sentAt: number, leap: 0 | 1) =>
    onAssociationPacket(
      out.state,
      reply(at(sentAt), { t2: at(sentAt + 0.001), t3: at(sentAt + 0.0011) }, { leap }),
      {
        receiveTime: at(sentAt + 0.0021),
        monotonicSeconds: sentAt + 0.0021,
        adjustmentSeconds: 0,
        precisionLog2,
        leapUnixSeconds,
      },
    );
  const out = withLeap({ state: near.state, actions: [], verdict: "sample" }, near.sentAt, 0);
  assert.equal(out.verdict, "nearLeap");
  assert.equal(out.actions.some((a) => a.kind === "sample"), false);
  // Reach as any answer sets it; the request is consumed.
  assert.equal(out.state.reach, answer(near.state, near.sentAt).state.reach);
  assert.equal(out.state.reach & 1, 1);
  assert.equal(out.state.outstanding, null);
  assert.equal(out.state.server?.leap, 1);
  // A request more than 5 s after the leap is a sample again, with the new leap bits.
  let later = nextRequest(out.state, near.sentAt + 0.5);
  while (later.sentAt < near.sentAt + 3 + 5) {
    later = nextRequest(
      withLeap({ ...later, actions: [], verdict: "sample" }, later.sentAt, 0).state,
      later.sentAt + 0.5,
    );
  }
  const after = withLeap({ state: later.state, actions: [], verdict: "sample" }, later.sentAt, 0);
  assert.equal(after.verdict, "sample");
  assert.equal(after.state.server?.leap, 0);
});
