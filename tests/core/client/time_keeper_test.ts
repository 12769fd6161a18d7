// Tests of the time keeper's wiring: the startup selection gate, actions and events, status views and sync state.
import assert from "node:assert/strict";
import {
  associationStatuses,
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  DEFAULT_TOS,
  onPacket,
  onTimer,
  onTransmitted,
  synchronisedState,
  systemStatus,
  type TimeKeeperAction,
  type TimeKeeperSettings,
  type TimeKeeperState,
} from "../../../src/core/client/time_keeper.ts";
import { defaultDisciplineSettings } from "../../../src/core/discipline/clock_discipline.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { at, reply } from "./_replies.ts";

function settings(count: number, extra: Partial<TimeKeeperSettings> = {}): TimeKeeperSettings {
  return {
    associations: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      address: new Uint8Array([10, 0, 0, i + 1]),
      version: 4,
      minPollLog2: 6,
      maxPollLog2: 10,
      iburst: true,
      burst: false,
      prefer: false,
      noselect: false,
    })),
    ...DEFAULT_TOS,
    discipline: defaultDisciplineSettings,
    precisionLog2: -20,
    driftPpm: null,
    currentFrequencyPpm: 0,
    randomSeed: 9,
    localReferenceIds: [],
    startupWaitSeconds: DEFAULT_STARTUP_WAIT_SECONDS,
    ...extra,
  };
}

/** Sends every due request at `now` and returns the ids sent. */
function pollAll(
  state: TimeKeeperState,
  now: number,
): { state: TimeKeeperState; sent: number[]; actions: TimeKeeperAction[] } {
  const out = onTimer(state, { monotonicSeconds: now });
  let next = out.state;
  const sent: number[] = [];
  for (const action of out.actions) {
    if (action.kind !== "send") continue;
    next = onTransmitted(next, { associationId: action.associationId, transmitTime: at(now) });
    sent.push(action.associationId);
  }
  return { state: next, sent, actions: [...out.actions] };
}

/** Server `id` (clock `offsetSeconds` ahead of ours, 1 ms each way) answers the request sent at `sentAt`. */
function answer(
  state: TimeKeeperState,
  id: number,
  sentAt: number,
  offsetSeconds: number,
  overrides = {},
) {
  const bytes = reply(at(sentAt), {
    t2: at(sentAt + 0.001 + offsetSeconds),
    t3: at(sentAt + 0.0011 + offsetSeconds),
  }, overrides);
  return onPacket(state, bytes, {
    associationId: id,
    receiveTime: at(sentAt + 0.0021),
    monotonicSeconds: sentAt + 0.0021,
  });
}

const kinds = (actions: readonly TimeKeeperAction[]) =>
  actions.map((a) => (a.kind === "event" ? `event:${a.event.kind}` : a.kind));

Deno.test("createTimeKeeper() marks the clock unsynchronised and asks for the first timer", () => {
  const { state, actions } = createTimeKeeper(settings(2), { monotonicSeconds: 0 });
  assert.deepEqual(kinds(actions), ["setSyncStatus", "setTimer"]);
  const status = actions[0];
  assert.ok(status?.kind === "setSyncStatus");
  assert.equal(status.status.synchronised, false);
  assert.equal(systemStatus(state, { monotonicSeconds: 0 }).stratum, 16);
  assert.equal(synchronisedState(state, { monotonicSeconds: 0 }), undefined);
  assert.throws(
    () =>
      createTimeKeeper({
        ...settings(1),
        associations: [...settings(1).associations, ...settings(1).associations],
      }, { monotonicSeconds: 0 }),
    RangeError,
  );
});

Deno.test("the time keeper waits for every source's first sample before selecting and stepping", () => {
  let state = createTimeKeeper(settings(3), { monotonicSeconds: 0 }).state;
  const polled = pollAll(state, 1);
  state = polled.state;
  assert.deepEqual(polled.sent, [1, 2, 3]);
  let out = answer(state, 1, 1, 0.1);
  assert.equal(out.state.selection, null);
  out = answer(out.state, 2, 1, 0.1);
  assert.equal(out.state.selection, null);
  assert.equal(out.actions.some((a) => a.kind === "step"), false);
  out = answer(out.state, 3, 1, 0.1);
  assert.ok(out.state.selection !== null);
  const step = out.actions.find((a) => a.kind === "step");
  assert.ok(step?.kind === "step" && Math.abs(step.offsetSeconds - 0.1) < 1e-6);
  assert.ok(kinds(out.actions).includes("event:systemPeerChanged"));
  assert.ok(kinds(out.actions).includes("event:clockStepped"));
});

Deno.test("after the startup step the next update synchronises: stratum 2, refid of the system peer", () => {
  let state = createTimeKeeper(settings(3), { monotonicSeconds: 0 }).state;
  state = pollAll(state, 1).state;
  for (const id of [1, 2, 3]) state = answer(state, id, 1, 0.1).state;
  state = pollAll(state, 3).state;
  let out = answer(state, 1, 3, 0);
  state = out.state;
  for (const id of [2, 3]) {
    out = answer(state, id, 3, 0);
    state = out.state;
  }
  const sys = systemStatus(state, { monotonicSeconds: 4 });
  assert.equal(sys.synchronised, true);
  assert.equal(sys.stratum, 2);
  assert.equal(sys.leap, 0);
  assert.equal(sys.referenceId, 0x0a000000 + sys.systemPeerAssociationId);
  const sync = synchronisedState(state, { monotonicSeconds: 4 });
  assert.equal(sync?.stratum, 2);
  assert.ok((sync?.rootDispersionSeconds ?? 0) > 0.001);
});

Deno.test("the startup wait gives up on a silent source three seconds after the first sample", () => {
  let state = createTimeKeeper(settings(3), { monotonicSeconds: 0 }).state;
  state = pollAll(state, 1).state;
  for (const id of [1, 2]) state = answer(state, id, 1, 0).state;
  assert.equal(state.selection, null);
  state = pollAll(state, 5).state;
  const out = answer(state, 1, 5, 0);
  assert.ok(out.state.selection !== null);
  assert.ok(out.state.selection.systemPeerId !== null);
});

Deno.test("associationStatuses() shows INIT, reachable and demobilised sources with tallies", () => {
  let state = createTimeKeeper(settings(3), { monotonicSeconds: 0 }).state;
  state = pollAll(state, 1).state;
  state = answer(state, 1, 1, 0).state;
  state =
    answer(state, 2, 1, 0, { stratum: 0, leap: 3, referenceId: refidFromAscii("DENY") }).state;
  const statuses = associationStatuses(state, { monotonicSeconds: 2 });
  assert.deepEqual(statuses.map((s) => s.condition), ["reachable", "demobilised", "init"]);
  assert.deepEqual(statuses.map((s) => s.tally), [" ", " ", " "]); // selection has not run yet
  assert.equal(statuses[2]?.stratum, 16);
  assert.equal(statuses[2]?.referenceId, refidFromAscii("INIT"));
  assert.equal(statuses[1]?.demobilisedBy, "DENY");
  assert.ok(Math.abs((statuses[0]?.whenSeconds ?? 0) - (2 - 1.0021)) < 1e-9);
});

Deno.test("onPacket() for an unknown association changes nothing", () => {
  const { state } = createTimeKeeper(settings(1), { monotonicSeconds: 0 });
  const out = onPacket(state, new Uint8Array(48), {
    associationId: 99,
    receiveTime: at(0),
    monotonicSeconds: 0,
  });
  assert.equal(out.verdict, "unknownAssociation");
  assert.equal(out.state, state);
});
