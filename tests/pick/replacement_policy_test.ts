// The replacement policy on a real time keeper: unanswered, unsynchronised and falseticker polls in a row, KoD, deferral; and replaceAssociation().
import assert from "node:assert/strict";
import {
  associationStatuses,
  removeAssociation,
  replaceAssociation,
  type TimeKeeperState,
} from "../../src/core/client/time_keeper.ts";
import {
  deferReplacement,
  describeReason,
  emptyReplacementTracker,
  observePolls,
  replacementsDue,
  type ReplacementTracker,
} from "../../src/core/pick/replacement_policy.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { type Behaviour, keeperWith, run } from "./_keeper.ts";

/** Runs with a tracker and returns the first time each association became due, and why. */
function firstDue(
  keeper: TimeKeeperState,
  behaviour: (id: number) => Behaviour,
  options: { toSeconds: number; afterPolls: number },
): {
  keeper: TimeKeeperState;
  tracker: ReplacementTracker;
  due: Map<number, { at: number; why: string }>;
} {
  let tracker = emptyReplacementTracker;
  const due = new Map<number, { at: number; why: string }>();
  const ids = keeper.associations.map((a) => a.config.id);
  const final = run(keeper, {
    fromSeconds: 0,
    toSeconds: options.toSeconds,
    behaviour,
    observe: (k, now) => {
      tracker = observePolls(tracker, k);
      for (
        const d of replacementsDue(tracker, k, {
          afterPolls: options.afterPolls,
          candidateIds: ids,
          monotonicSeconds: now,
        })
      ) {
        if (!due.has(d.associationId)) {
          due.set(d.associationId, { at: now, why: describeReason(d.reason) });
        }
      }
    },
  });
  return { keeper: final, tracker, due };
}

const healthy: Behaviour = { kind: "answer", offsetSeconds: 0.0002 };

Deno.test("a server that dies is due for replacement once it has missed afterPolls polls in a row", () => {
  // Server 3 answers until t = 40 s, then never again; polls are every 8 s (plus up to 6 %).
  let now = 0;
  const behaviour = (
    id: number,
  ): Behaviour => (id === 3 && now > 40 ? { kind: "silent" } : healthy);
  let tracker = emptyReplacementTracker;
  let dueAt: number | null = null;
  let why = "";
  run(keeperWith(4), {
    fromSeconds: 0,
    toSeconds: 120,
    behaviour: (id) => behaviour(id),
    observe: (k, t) => {
      now = t;
      tracker = observePolls(tracker, k);
      const due = replacementsDue(tracker, k, {
        afterPolls: 3,
        candidateIds: [1, 2, 3, 4],
        monotonicSeconds: t,
      });
      assert.ok(due.every((d) => d.associationId === 3), JSON.stringify(due));
      if (due.length > 0 && dueAt === null) {
        dueAt = t;
        why = describeReason(due[0]!.reason);
      }
    },
  });
  assert.equal(why, "unreachable for 3 polls");
  // The 3rd unanswered poll is judged when the 4th begins: 4 polls of 8..8.5 s after the last answer.
  assert.ok(dueAt !== null && dueAt > 40 + 3 * 8 && dueAt <= 40 + 4 * 8.5 + 0.5, String(dueAt));
});

Deno.test("servers that answer are never due, however long they run", () => {
  const { due } = firstDue(keeperWith(4), () => healthy, { toSeconds: 200, afterPolls: 2 });
  assert.equal(due.size, 0);
});

Deno.test("a server that never answers, one that answers unsynchronised, and a falseticker are due for their reasons", () => {
  const { due } = firstDue(
    keeperWith(6),
    (id) =>
      id === 4 ? { kind: "silent" } : id === 5
        ? {
          kind: "reply",
          overrides: { leap: 3, stratum: 16, referenceId: refidFromAscii("INIT") },
        }
        : id === 6
        ? { kind: "answer", offsetSeconds: 0.5 }
        : healthy,
    { toSeconds: 100, afterPolls: 4 },
  );
  assert.deepEqual([...due.keys()].sort(), [4, 5, 6]);
  assert.equal(due.get(4)!.why, "unreachable for 4 polls");
  assert.equal(due.get(5)!.why, "unsynchronised for 4 polls");
  assert.equal(due.get(6)!.why, "a falseticker for 4 polls");
});

Deno.test("a DENY kiss makes a server due at once; only the ids asked about are considered", () => {
  let tracker = emptyReplacementTracker;
  const keeper = run(keeperWith(4), {
    fromSeconds: 0,
    toSeconds: 3,
    behaviour: (id) =>
      id === 2
        ? { kind: "reply", overrides: { stratum: 0, leap: 3, referenceId: refidFromAscii("DENY") } }
        : healthy,
    observe: (k) => {
      tracker = observePolls(tracker, k);
    },
  });
  const due = replacementsDue(tracker, keeper, {
    afterPolls: 8,
    candidateIds: [1, 2, 3, 4],
    monotonicSeconds: 3,
  });
  assert.deepEqual(due, [{ associationId: 2, reason: { kind: "demobilised", code: "DENY" } }]);
  assert.deepEqual(
    replacementsDue(tracker, keeper, { afterPolls: 8, candidateIds: [1, 3], monotonicSeconds: 3 }),
    [],
  );
  const deferred = deferReplacement(tracker, 2, { untilMonotonicSeconds: 100 });
  const later = { afterPolls: 8, candidateIds: [2] };
  assert.deepEqual(replacementsDue(deferred, keeper, { ...later, monotonicSeconds: 99 }), []);
  assert.equal(replacementsDue(deferred, keeper, { ...later, monotonicSeconds: 100 }).length, 1);
});

Deno.test("replaceAssociation() swaps one association for a new id, and the system peer moves on", () => {
  let keeper = run(keeperWith(4), { fromSeconds: 0, toSeconds: 60, behaviour: () => healthy });
  const peer = keeper.selection?.systemPeerId;
  assert.ok(peer !== null && peer !== undefined);
  const config = {
    ...keeper.associations[0]!.config,
    id: 9,
    address: new Uint8Array([10, 0, 0, 9]),
  };
  const out = replaceAssociation(keeper, peer, config, { monotonicSeconds: 60.1 });
  keeper = out.state;
  const ids = keeper.associations.map((a) => a.config.id);
  assert.deepEqual(ids, [1, 2, 3, 4].filter((id) => id !== peer).concat(9));
  assert.deepEqual(keeper.settings.associations.map((c) => c.id), ids);
  assert.ok(
    out.actions.some((a) =>
      a.kind === "event" && a.event.kind === "systemPeerChanged" &&
      a.event.previousAssociationId === peer && a.event.associationId !== null
    ),
    JSON.stringify(out.actions),
  );
  assert.equal(out.actions.filter((a) => a.kind === "setTimer").length, 1);
  const status = associationStatuses(keeper, { monotonicSeconds: 60.1 }).find((a) =>
    a.associationId === 9
  );
  assert.equal(status?.condition, "init");
  // The new association polls and joins selection.
  keeper = run(keeper, { fromSeconds: 60.5, toSeconds: 120, behaviour: () => healthy });
  const joined = associationStatuses(keeper, { monotonicSeconds: 120 }).find((a) =>
    a.associationId === 9
  );
  assert.equal(joined?.condition, "reachable");
  assert.throws(
    () =>
      replaceAssociation(keeper, ids[0]!, { ...config, id: ids[1]! }, { monotonicSeconds: 120 }),
    RangeError,
  );
  assert.equal(
    removeAssociation(keeper, 77, { monotonicSeconds: 120 }).state.associations.length,
    4,
  );
});
