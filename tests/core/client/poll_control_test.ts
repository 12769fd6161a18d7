// Tests of poll control: the jiggle counter climbing and dropping, RATE back-off and the discipline's ceiling.
import assert from "node:assert/strict";
import {
  adaptPoll,
  backOffForRate,
  initialPollControl,
  isStableSample,
  limitPoll,
  POLL_COUNTER_LIMIT,
} from "../../../src/core/client/poll_control.ts";

Deno.test("the poll climbs one step after the counter passes the limit with stable samples", () => {
  let poll = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
  let samples = 0;
  while (poll.pollLog2 === 6) {
    poll = adaptPoll(poll, { stable: true });
    samples++;
  }
  assert.equal(poll.pollLog2, 7);
  assert.equal(samples, Math.floor(POLL_COUNTER_LIMIT / 6) + 1);
  for (let i = 0; i < 100; i++) poll = adaptPoll(poll, { stable: true });
  assert.equal(poll.pollLog2, 10);
});

Deno.test("unstable samples bring the poll down, never below the floor", () => {
  let poll = { ...initialPollControl({ minPollLog2: 6, maxPollLog2: 10 }), pollLog2: 10 };
  poll = adaptPoll(poll, { stable: false });
  assert.equal(poll.pollLog2, 10);
  poll = adaptPoll(poll, { stable: false });
  assert.equal(poll.pollLog2, 9);
  for (let i = 0; i < 100; i++) poll = adaptPoll(poll, { stable: false });
  assert.equal(poll.pollLog2, 6);
});

Deno.test("isStableSample() gates at four jitters, at least the precision", () => {
  assert.equal(
    isStableSample({ differenceSeconds: 3.9e-5, jitterSeconds: 1e-5, precisionLog2: -20 }),
    true,
  );
  assert.equal(
    isStableSample({ differenceSeconds: -4.1e-5, jitterSeconds: 1e-5, precisionLog2: -20 }),
    false,
  );
  assert.equal(
    isStableSample({ differenceSeconds: 3e-6, jitterSeconds: 0, precisionLog2: -20 }),
    true,
  );
});

Deno.test("a RATE kiss at least doubles the poll, honours the server's poll, caps at maxpoll and raises the floor", () => {
  const start = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
  const once = backOffForRate(start, { serverPollLog2: 4, maxPollLog2: 10 });
  assert.equal(once.pollLog2, 7);
  assert.equal(once.floorLog2, 7);
  assert.equal(backOffForRate(start, { serverPollLog2: 9, maxPollLog2: 10 }).pollLog2, 9);
  assert.equal(
    backOffForRate({ ...start, pollLog2: 10 }, { serverPollLog2: 4, maxPollLog2: 10 }).pollLog2,
    10,
  );
  let poll = once;
  for (let i = 0; i < 100; i++) poll = adaptPoll(poll, { stable: false });
  assert.equal(poll.pollLog2, 7);
});

Deno.test("limitPoll() lowers the ceiling and the poll, but not below the floor, and lifts it again", () => {
  const poll = { ...initialPollControl({ minPollLog2: 6, maxPollLog2: 10 }), pollLog2: 10 };
  const capped = limitPoll(poll, { maxPollLog2: 10, ceilingLog2: 8 });
  assert.equal(capped.ceilingLog2, 8);
  assert.equal(capped.pollLog2, 8);
  assert.equal(
    limitPoll({ ...capped, floorLog2: 9 }, { maxPollLog2: 10, ceilingLog2: 8 }).ceilingLog2,
    9,
  );
  assert.equal(limitPoll(capped, { maxPollLog2: 10, ceilingLog2: null }).ceilingLog2, 10);
});
