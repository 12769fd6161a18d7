// When to replace an upstream while serving: counts each association's unanswered and falseticker polls in a row.
//
// The daemon calls observePolls() after every time keeper transition. A poll is judged when the
// next one begins (its answer has had a whole poll interval to arrive): answered when a valid
// reply came after it started; a falseticker poll when selection called the source a
// falseticker at that moment. A DENY or RSTR kiss (the association is demobilised) is due at once.
import type { TimeKeeperState } from "../client/time_keeper.ts";
import { FLASH_BITS } from "../client/reply_check.ts";
import { Selection } from "../discipline/select_sources.ts";

/** One association's counters. */
export interface PollRecord {
  /** Start of the poll under way, monotonic seconds. */
  readonly pollStartMonotonicSeconds: number;
  /** Judged polls in a row without a valid reply. */
  readonly unansweredPolls: number;
  /** Judged polls in a row in which selection called it a falseticker. */
  readonly falsetickerPolls: number;
  /** The last reply rejected as unsynchronised (LI 3 / stratum 16): the server answers but has no time. */
  readonly unsynchronised: boolean;
  /** A replacement failed: it is not due again before this monotonic time, seconds. */
  readonly deferredUntilMonotonicSeconds: number;
}

/** The counters of every association being watched, by association id. */
export interface ReplacementTracker {
  readonly records: ReadonlyMap<number, PollRecord>;
}

/** Why an association is due for replacement. */
export type ReplacementReason =
  | { readonly kind: "unreachable"; readonly polls: number }
  | { readonly kind: "unsynchronised"; readonly polls: number }
  | { readonly kind: "falseticker"; readonly polls: number }
  | { readonly kind: "demobilised"; readonly code: string };

/** An association to replace, and why. */
export interface ReplacementDue {
  readonly associationId: number;
  readonly reason: ReplacementReason;
}

/** A tracker that watches nothing yet. */
export const emptyReplacementTracker: ReplacementTracker = Object.freeze({ records: new Map() });

/**
 * Updates the counters from the time keeper: new associations are watched from their current
 * poll, removed ones forgotten, and each association whose poll changed since the last call
 * has the previous poll judged.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "../client/time_keeper.ts";
 * declare const keeper: TimeKeeperState;
 * let tracker = emptyReplacementTracker;
 * tracker = observePolls(tracker, keeper);
 * ```
 */
export function observePolls(
  tracker: ReplacementTracker,
  keeper: TimeKeeperState,
): ReplacementTracker {
  const records = new Map<number, PollRecord>();
  let changed = tracker.records.size !== keeper.associations.length;
  for (const a of keeper.associations) {
    const id = a.config.id;
    const old = tracker.records.get(id);
    if (old === undefined) {
      changed = true;
      records.set(id, {
        pollStartMonotonicSeconds: a.pollStartMonotonicSeconds,
        unansweredPolls: 0,
        falsetickerPolls: 0,
        unsynchronised: false,
        deferredUntilMonotonicSeconds: -Infinity,
      });
      continue;
    }
    if (a.pollStartMonotonicSeconds === old.pollStartMonotonicSeconds) {
      records.set(id, old);
      continue;
    }
    changed = true;
    const answered = a.lastReceiveMonotonicSeconds !== null &&
      a.lastReceiveMonotonicSeconds >= old.pollStartMonotonicSeconds;
    const falseticker = keeper.selection?.codes.get(id) === Selection.falseticker;
    records.set(id, {
      pollStartMonotonicSeconds: a.pollStartMonotonicSeconds,
      unansweredPolls: answered ? 0 : old.unansweredPolls + 1,
      falsetickerPolls: falseticker ? old.falsetickerPolls + 1 : 0,
      unsynchronised: !answered && a.flashBits === FLASH_BITS.unsynchronised,
      deferredUntilMonotonicSeconds: old.deferredUntilMonotonicSeconds,
    });
  }
  return changed ? { records } : tracker;
}

/**
 * The associations due for replacement among `candidateIds` (the daemon passes its `[[server]]`
 * associations): demobilised by a kiss; or `afterPolls` judged polls in a row unanswered
 * (reported as unsynchronised when the server did answer, with LI 3) or as a falseticker.
 * Deferred ones wait until their time.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "../client/time_keeper.ts";
 * import type { ReplacementTracker } from "./replacement_policy.ts";
 * declare const tracker: ReplacementTracker;
 * declare const keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * replacementsDue(tracker, keeper, { afterPolls: 8, candidateIds: [1, 2, 3], monotonicSeconds: now });
 * ```
 */
export function replacementsDue(
  tracker: ReplacementTracker,
  keeper: TimeKeeperState,
  options: {
    readonly afterPolls: number;
    readonly candidateIds: readonly number[];
    readonly monotonicSeconds: number;
  },
): ReplacementDue[] {
  const due: ReplacementDue[] = [];
  for (const a of keeper.associations) {
    const id = a.config.id;
    const record = tracker.records.get(id);
    if (!options.candidateIds.includes(id) || record === undefined) continue;
    if (options.monotonicSeconds < record.deferredUntilMonotonicSeconds) continue;
    if (a.demobilisedBy !== null) {
      due.push({ associationId: id, reason: { kind: "demobilised", code: a.demobilisedBy } });
      continue;
    }
    if (record.unansweredPolls >= options.afterPolls) {
      const kind = record.unsynchronised ? "unsynchronised" : "unreachable";
      due.push({ associationId: id, reason: { kind, polls: record.unansweredPolls } });
    } else if (record.falsetickerPolls >= options.afterPolls) {
      due.push({
        associationId: id,
        reason: { kind: "falseticker", polls: record.falsetickerPolls },
      });
    }
  }
  return due;
}

/**
 * After a failed replacement (no usable candidate): the association is not due again before
 * `untilMonotonicSeconds` (the daemon waits as many polls as it waited before).
 *
 * @example
 * ```ts
 * import type { ReplacementTracker } from "./replacement_policy.ts";
 * declare let tracker: ReplacementTracker;
 * declare const now: number; // monotonic seconds
 * tracker = deferReplacement(tracker, 3, { untilMonotonicSeconds: now + 8 * 64 });
 * ```
 */
export function deferReplacement(
  tracker: ReplacementTracker,
  associationId: number,
  options: { readonly untilMonotonicSeconds: number },
): ReplacementTracker {
  const record = tracker.records.get(associationId);
  if (record === undefined) return tracker;
  const records = new Map(tracker.records);
  records.set(associationId, {
    ...record,
    deferredUntilMonotonicSeconds: options.untilMonotonicSeconds,
  });
  return { records };
}

/**
 * How a reason reads in the log: "unreachable for 8 polls", "a falseticker for 8 polls",
 * "demobilised by Kiss-o'-Death DENY".
 *
 * @example
 * ```ts
 * describeReason({ kind: "unreachable", polls: 8 }); // "unreachable for 8 polls"
 * ```
 */
export function describeReason(reason: ReplacementReason): string {
  const polls = (n: number) => `${n} poll${n === 1 ? "" : "s"}`;
  switch (reason.kind) {
    case "unreachable":
      return `unreachable for ${polls(reason.polls)}`;
    case "unsynchronised":
      return `unsynchronised for ${polls(reason.polls)}`;
    case "falseticker":
      return `a falseticker for ${polls(reason.polls)}`;
    case "demobilised":
      return `demobilised by Kiss-o'-Death ${reason.code}`;
  }
}
