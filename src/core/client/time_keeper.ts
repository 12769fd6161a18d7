// The daemon's one entry point for keeping time: all associations, selection and the discipline as one pure state machine.
//
// The daemon calls onTimer / onTransmitted / onPacket and carries out the returned actions:
//   send         write the local clock (NTP format) at request bytes 40..47, send, then call
//                onTransmitted with that timestamp and the clock read right before the send call;
//   setTimer     call onTimer at that monotonic time (each setTimer replaces the previous one);
//   setFrequency / step / setSyncStatus   the ClockDriver methods of the same names;
//   event        log it.
// Monotonic time is any clock that never steps (performance.now() / CLOCK_MONOTONIC); NTP
// timestamps are readings of the disciplined clock.
//
// Startup: selection waits until every selectable association has a sample, or until a sample
// arrives `startupWaitSeconds` after the first one, so a fast falseticker cannot win alone.
// Training: for TRAINING_WINDOW_SECONDS after the start, while the samples alone do not yet know
// the frequency well enough for the association's poll (its error would move the phase by more
// than TRAINING_NOISE_FRACTION of one sample's noise over the poll: clock_discipline.ts
// frequencyPollCeilingLog2), associations with iburst send extra requests between polls every
// 2^ceiling s, at least TRAINING_INTERVAL_SECONDS apart (4x below ntpd's `discard average` of
// 8 s); the poll itself stays at minpoll. A fresh start on a jittery path or a stale drift file
// is then settled in a minute or two instead of over many 64 s polls.
// Holdover: with no system peer the frequency is kept and the root dispersion grows at the
// discipline's error rate (three frequency standard errors plus 1 ppm); once the root distance
// grown at ntpd's 15 ppm, or the one published if it grows faster (holdoverDistanceAt), passes
// MAXDIST (1.5 s), about 27 h with a well-known frequency as with ntpd (which relies on this
// same dispersion check instead of a timeout), we declare ourselves unsynchronised.
import {
  adjustmentAt,
  createDiscipline,
  disciplineDeadline,
  type DisciplineSample,
  disciplineTimer,
  errorBoundAt,
  errorGrowthRate,
  recordSample,
  updateDiscipline,
  usefulPollCeilingLog2,
} from "../discipline/clock_discipline.ts";
import { Selection, selectSources } from "../discipline/select_sources.ts";
import {
  addSecondsToTimestamp,
  holdoverEndsAt,
  referenceFromUpdate,
} from "../discipline/system_reference.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import {
  type AssociationConfig,
  type AssociationSample,
  createAssociation,
  discardSamplesBefore,
  displayedHeader,
  invalidateOutstanding,
  onAssociationPacket,
  onAssociationTimer,
  onAssociationTransmitted,
  type PacketVerdict,
} from "./association.ts";
import { applyPollCeiling, PULL_IN_SPREAD_SECONDS, requestSoon } from "./association_schedule.ts";
import { peerFigures } from "./peer_figures.ts";
import { train } from "./training.ts";
import {
  STATUS_HORIZON_SLACK_SECONDS,
  syncStatus,
  syncVerdict,
  UNSYNCED_STATUS,
} from "./time_keeper_sync.ts";
import type {
  TimeKeeperAction,
  TimeKeeperOutput,
  TimeKeeperSettings,
  TimeKeeperState,
} from "./time_keeper_state.ts";

export * from "./time_keeper_state.ts";
export { TRAINING_INTERVAL_SECONDS, TRAINING_WINDOW_SECONDS } from "./training.ts";
export { estimatedError } from "./time_keeper_sync.ts";

/**
 * A new time keeper: associations in INIT, discipline unset. The actions set the drift file's
 * frequency (if any), mark the clock unsynchronised and ask for the first timer.
 *
 * @example
 * ```ts
 * import type { TimeKeeperSettings } from "./time_keeper_state.ts";
 * declare const settings: TimeKeeperSettings;
 * const { state, actions } = createTimeKeeper(settings, { monotonicSeconds: performance.now() / 1000 });
 * ```
 */
export function createTimeKeeper(
  settings: TimeKeeperSettings,
  options: { readonly monotonicSeconds: number },
): TimeKeeperOutput {
  const ids = new Set(settings.associations.map((a) => a.id));
  if (ids.size !== settings.associations.length) {
    throw new RangeError("Cannot create the time keeper: association ids are not unique");
  }
  const discipline = createDiscipline(settings.discipline, {
    monotonicSeconds: options.monotonicSeconds,
    currentFrequencyPpm: settings.currentFrequencyPpm,
    driftPpm: settings.driftPpm,
  });
  const state: TimeKeeperState = {
    settings,
    startMonotonicSeconds: options.monotonicSeconds,
    associations: settings.associations.map((config) =>
      createAssociation(config, {
        monotonicSeconds: options.monotonicSeconds,
        randomSeed: settings.randomSeed,
      })
    ),
    discipline: discipline.state,
    selection: null,
    selectionOpen: false,
    firstSampleMonotonicSeconds: null,
    reference: null,
    synchronised: false,
  };
  const actions: TimeKeeperAction[] = [
    ...discipline.actions,
    { kind: "setSyncStatus", status: UNSYNCED_STATUS },
  ];
  return finish(state, actions, options.monotonicSeconds);
}

function reselect(
  state: TimeKeeperState,
  now: number,
  actions: TimeKeeperAction[],
): TimeKeeperState {
  if (!state.selectionOpen) return state;
  const figures = peerFigures(state, now);
  const previous = state.selection?.systemPeerId ?? null;
  const selection = selectSources(
    figures.map((f) => f.source),
    state.settings,
    previous,
  );
  if (selection.systemPeerId !== previous) {
    actions.push({
      kind: "event",
      event: {
        kind: "systemPeerChanged",
        associationId: selection.systemPeerId,
        previousAssociationId: previous,
      },
    });
  }
  return { ...state, selection };
}

/** Publishes sync changes, then adds the next timer. */
function finish(
  state: TimeKeeperState,
  actions: TimeKeeperAction[],
  now: number,
  refreshStatus = false,
): TimeKeeperOutput {
  const verdict = syncVerdict(state, now);
  let next = state;
  if (verdict.synced !== state.synchronised) {
    next = { ...state, synchronised: verdict.synced };
    const ref = next.reference;
    actions.push({
      kind: "event",
      event: verdict.synced && ref !== null
        ? { kind: "synchronised", stratum: ref.stratum, referenceId: ref.referenceId }
        : { kind: "unsynchronised", reason: verdict.reason },
    });
    refreshStatus = true;
  }
  const deadlines = next.associations
    .map((a) => a.nextSendMonotonicSeconds)
    .filter((t) => Number.isFinite(t));
  const disciplineAt = disciplineDeadline(next.discipline);
  if (disciplineAt !== null) deadlines.push(disciplineAt);
  if (next.synchronised && next.reference !== null) {
    deadlines.push(Math.max(now, holdoverEndsAt(next.reference)) + 1e-3);
  }
  const nextTimer = deadlines.length > 0 ? Math.min(...deadlines) : null;
  if (refreshStatus) {
    // The kernel keeps esterror as given until the next call: give the value it reaches by the
    // next timer (plus the time a reply takes), so it stays a bound in between.
    const until = Math.max(now, nextTimer ?? now) + STATUS_HORIZON_SLACK_SECONDS;
    actions.push({ kind: "setSyncStatus", status: syncStatus(next, now, until) });
  }
  if (nextTimer !== null) actions.push({ kind: "setTimer", atMonotonicSeconds: nextTimer });
  return { state: next, actions };
}

/**
 * Handles the timer: sends due polls (and burst packets), ends slews, notices unreachable
 * sources (reselecting without them) and the end of holdover.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * const { state, actions } = onTimer(keeper, { monotonicSeconds: performance.now() / 1000 });
 * ```
 */
export function onTimer(
  state: TimeKeeperState,
  options: { readonly monotonicSeconds: number },
): TimeKeeperOutput {
  const now = options.monotonicSeconds;
  const actions: TimeKeeperAction[] = [];
  const disciplined = disciplineTimer(state.discipline, { monotonicSeconds: now });
  actions.push(...disciplined.actions);
  let changed = false;
  const associations = state.associations.map((association) => {
    const out = onAssociationTimer(association, { monotonicSeconds: now });
    if (out.state.reach !== association.reach || out.state.filter !== association.filter) {
      changed = true;
    }
    for (const action of out.actions) {
      if (action.kind === "send" || action.kind === "event") actions.push(action);
    }
    return out.state;
  });
  let next: TimeKeeperState = { ...state, discipline: disciplined.state, associations };
  if (changed) next = reselect(next, now, actions);
  next = train(next, now);
  // Refresh what the kernel holds (esterror) at every timer while synchronised.
  return finish(next, actions, now, next.synchronised);
}

/**
 * Records the transmit timestamp the daemon wrote into the request just sent, and when it was
 * handed to the kernel (`sentTime`, the measurement's T1; default the transmit timestamp): see
 * onAssociationTransmitted().
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare let keeper: TimeKeeperState;
 * declare const written: NtpTimestamp; // the request's transmit field
 * declare const sent: NtpTimestamp; // read right before sendmsg
 * keeper = onTransmitted(keeper, { associationId: 1, transmitTime: written, sentTime: sent });
 * ```
 */
export function onTransmitted(
  state: TimeKeeperState,
  options: {
    readonly associationId: number;
    readonly transmitTime: NtpTimestamp;
    readonly sentTime?: NtpTimestamp;
  },
): TimeKeeperState {
  return {
    ...state,
    associations: state.associations.map((a) =>
      a.config.id === options.associationId ? onAssociationTransmitted(a, options) : a
    ),
  };
}

function selectableHaveSamples(state: TimeKeeperState): boolean {
  return state.associations.every((a) =>
    a.config.noselect || a.demobilisedBy !== null ||
    a.filter.entries.some((e) => e.kind === "sample")
  );
}

/**
 * Records `sample` (if any) with the discipline and, when it comes from a contributor (or no
 * clock update has happened yet and selection has a system peer), updates the clock; then
 * carries out the consequences: stale requests after a step, filter samples from before a
 * jump, the poll ceiling, and the new reference.
 */
function applyUpdate(
  state: TimeKeeperState,
  sample: AssociationSample | null,
  options: { readonly receiveTime: NtpTimestamp; readonly monotonicSeconds: number },
  actions: TimeKeeperAction[],
): { state: TimeKeeperState; updated: boolean } {
  const now = options.monotonicSeconds;
  const selection = state.selection;
  const trigger: DisciplineSample | null = sample === null ? null : {
    sourceId: sample.associationId,
    monotonicSeconds: sample.monotonicSeconds,
    offsetSeconds: sample.offsetSeconds,
    delaySeconds: sample.delaySeconds,
    minDelaySeconds: sample.minDelaySeconds,
  };
  const recorded = trigger === null ? state.discipline : recordSample(state.discipline, trigger);
  const contributes = sample !== null && selection !== null &&
    selection.contributorIds.includes(sample.associationId);
  const candidateIds = selection === null ? [] : [...selection.codes]
    .filter(([id, code]) => code >= Selection.excess && !selection.contributorIds.includes(id))
    .map(([id]) => id);
  const candidate = sample !== null && candidateIds.includes(sample.associationId);
  const firstUpdate = state.discipline.lastUpdateMonotonicSeconds === null;
  if (
    selection === null || selection.systemPeerId === null ||
    (!contributes && !firstUpdate && !candidate)
  ) {
    return { state: { ...state, discipline: recorded }, updated: false };
  }
  const triggered = contributes || (candidate && !firstUpdate);
  const out = updateDiscipline(triggered ? state.discipline : recorded, {
    monotonicSeconds: now,
    contributorIds: selection.contributorIds,
    candidateIds,
    trigger: triggered ? trigger : null,
  });
  actions.push(...out.actions);
  for (const event of out.events) actions.push({ kind: "event", event });
  let next: TimeKeeperState = { ...state, discipline: out.state };
  const stepped = out.actions.find((a) => a.kind === "step");
  if (stepped !== undefined) {
    next = { ...next, associations: next.associations.map(invalidateOutstanding) };
  }
  for (const event of out.events) {
    if (event.kind !== "clockStepped" || event.discardBeforeMonotonicSeconds === null) continue;
    const before = { monotonicSeconds: event.discardBeforeMonotonicSeconds };
    next = { ...next, associations: next.associations.map((a) => discardSamplesBefore(a, before)) };
  }
  if (
    out.state.suspectSinceMonotonicSeconds !== null &&
    state.discipline.suspectSinceMonotonicSeconds === null
  ) {
    // The newest sample disagrees with the fit: ask every source now, to confirm or dismiss it.
    next = {
      ...next,
      associations: next.associations.map((a) =>
        requestSoon(a, { monotonicSeconds: now, withinSeconds: PULL_IN_SPREAD_SECONDS })
      ),
    };
  }
  const ceilingLog2 = usefulPollCeilingLog2(out.state);
  next = {
    ...next,
    associations: next.associations.map((a) =>
      applyPollCeiling(a, { ceilingLog2, monotonicSeconds: now })
    ),
  };
  next = train(next, now);
  if (out.actions.length === 0) return { state: next, updated: false };
  const figures = peerFigures(next, now).find((f) => f.source.id === selection.systemPeerId);
  if (figures === undefined) return { state: next, updated: true };
  const header = displayedHeader(figures.association);
  const reference = referenceFromUpdate(
    {
      address: figures.association.config.address,
      stratum: header.stratum,
      rootDelaySeconds: header.rootDelaySeconds,
      rootDispersionSeconds: header.rootDispersionSeconds,
      delaySeconds: figures.delaySeconds,
      dispersionSeconds: figures.dispersionSeconds,
      jitterSeconds: figures.jitterSeconds,
      updateMonotonicSeconds: figures.updateMonotonicSeconds,
    },
    {
      offsetSeconds: out.state.offsetSeconds,
      disciplineErrorSeconds: errorBoundAt(out.state, now),
      errorGrowthSecondsPerSecond: errorGrowthRate(out.state),
      systemJitterSeconds: selection.jitterSeconds,
      leap: selection.leap,
      referenceTime: addSecondsToTimestamp(options.receiveTime, stepped?.offsetSeconds ?? 0),
      monotonicSeconds: now,
    },
  );
  return { state: { ...next, reference }, updated: true };
}

/**
 * Handles a datagram from association `associationId`'s server (the daemon matches the source
 * address and port). Valid replies feed the clock filter, selection and the discipline; the
 * result may contain clock actions. `verdict` tells what became of the packet (for counters).
 *
 * @param options.receiveTime T4: the disciplined clock when the datagram arrived (kernel
 *   timestamp mapped through the driver's fromKernel()).
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const keeper: TimeKeeperState;
 * declare const bytes: Uint8Array; // the datagram from association 1's server
 * declare const t4: NtpTimestamp;
 * declare const now: number; // monotonic seconds
 * const { state, actions, verdict } = onPacket(keeper, bytes,
 *   { associationId: 1, receiveTime: t4, monotonicSeconds: now });
 * ```
 */
export function onPacket(
  state: TimeKeeperState,
  bytes: Uint8Array,
  options: {
    readonly associationId: number;
    readonly receiveTime: NtpTimestamp;
    readonly monotonicSeconds: number;
    /** The leap second announced or just past (Unix seconds), see onAssociationPacket. */
    readonly leapUnixSeconds?: number | null;
  },
): TimeKeeperOutput & { readonly verdict: PacketVerdict | "unknownAssociation" } {
  const now = options.monotonicSeconds;
  const index = state.associations.findIndex((a) => a.config.id === options.associationId);
  const association = state.associations[index];
  if (association === undefined) return { state, actions: [], verdict: "unknownAssociation" };
  const actions: TimeKeeperAction[] = [];
  const out = onAssociationPacket(association, bytes, {
    receiveTime: options.receiveTime,
    monotonicSeconds: now,
    adjustmentSeconds: adjustmentAt(state.discipline, now),
    precisionLog2: state.settings.precisionLog2,
    leapUnixSeconds: options.leapUnixSeconds ?? null,
  });
  let sample: AssociationSample | null = null;
  for (const action of out.actions) {
    if (action.kind === "event") actions.push(action);
    if (action.kind === "sample") sample = action.sample;
  }
  const associations = state.associations.map((a, i) => (i === index ? out.state : a));
  let next: TimeKeeperState = { ...state, associations };
  let updated = false;
  if (sample !== null) {
    const first = next.firstSampleMonotonicSeconds ?? now;
    next = { ...next, firstSampleMonotonicSeconds: first };
    if (
      !next.selectionOpen &&
      (selectableHaveSamples(next) || now - first >= next.settings.startupWaitSeconds)
    ) {
      next = { ...next, selectionOpen: true };
    }
    next = reselect(next, now, actions);
    const applied = applyUpdate(next, sample, options, actions);
    next = applied.state;
    updated = applied.updated;
  } else if (
    out.state.reach !== association.reach || out.state.demobilisedBy !== association.demobilisedBy
  ) {
    // A demobilised source may have been the last one the startup was waiting for.
    if (
      !next.selectionOpen && next.firstSampleMonotonicSeconds !== null &&
      selectableHaveSamples(next)
    ) {
      next = { ...next, selectionOpen: true };
    }
    next = reselect(next, now, actions);
    const applied = applyUpdate(next, null, options, actions);
    next = applied.state;
    updated = applied.updated;
  }
  return { ...finish(next, actions, now, updated), verdict: out.verdict };
}

/**
 * Removes association `associationId` (its samples leave selection at once) and reselects: if it
 * was the system peer another one takes over, or none (holdover). Unknown ids change nothing.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number;
 * const { state, actions } = removeAssociation(keeper, 3, { monotonicSeconds: now });
 * ```
 */
export function removeAssociation(
  state: TimeKeeperState,
  associationId: number,
  options: { readonly monotonicSeconds: number },
): TimeKeeperOutput {
  const now = options.monotonicSeconds;
  if (!state.associations.some((a) => a.config.id === associationId)) {
    return finish(state, [], now);
  }
  const actions: TimeKeeperAction[] = [];
  let next: TimeKeeperState = {
    ...state,
    settings: {
      ...state.settings,
      associations: state.settings.associations.filter((c) => c.id !== associationId),
    },
    associations: state.associations.filter((a) => a.config.id !== associationId),
  };
  next = reselect(next, now, actions);
  return finish(next, actions, now);
}

/**
 * Adds an association (state INIT, first poll within half a second, as at startup) and asks for
 * the timer it needs. Its id must be new.
 *
 * @throws {RangeError} When an association with that id exists.
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number;
 * const config = { id: 9, address: new Uint8Array([192, 0, 2, 9]), version: 4, minPollLog2: 6,
 *   maxPollLog2: 10, iburst: true, burst: false, prefer: false, noselect: false };
 * const { state, actions } = addAssociation(keeper, config, { monotonicSeconds: now });
 * ```
 */
export function addAssociation(
  state: TimeKeeperState,
  config: AssociationConfig,
  options: { readonly monotonicSeconds: number },
): TimeKeeperOutput {
  if (state.associations.some((a) => a.config.id === config.id)) {
    throw new RangeError(`Cannot add association ${config.id}: the id is in use`);
  }
  const association = createAssociation(config, {
    monotonicSeconds: options.monotonicSeconds,
    randomSeed: state.settings.randomSeed,
  });
  const next: TimeKeeperState = {
    ...state,
    settings: { ...state.settings, associations: [...state.settings.associations, config] },
    associations: [...state.associations, association],
  };
  return finish(next, [], options.monotonicSeconds);
}

/**
 * Replaces association `associationId` by a new one with `config` (which carries a new id, so
 * status views see one go and the other come): {@link removeAssociation} then
 * {@link addAssociation}, with the actions of both.
 *
 * @throws {RangeError} When `config.id` is in use by another association.
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * import type { AssociationConfig } from "./association.ts";
 * declare const keeper: TimeKeeperState;
 * declare const config: AssociationConfig; // the new server
 * declare const now: number;
 * const { state, actions } = replaceAssociation(keeper, 3, { ...config, id: 9 }, { monotonicSeconds: now });
 * ```
 */
export function replaceAssociation(
  state: TimeKeeperState,
  associationId: number,
  config: AssociationConfig,
  options: { readonly monotonicSeconds: number },
): TimeKeeperOutput {
  const removed = removeAssociation(state, associationId, options);
  const added = addAssociation(removed.state, config, options);
  // Only the last setTimer counts (each replaces the previous one).
  return {
    state: added.state,
    actions: [...removed.actions.filter((a) => a.kind !== "setTimer"), ...added.actions],
  };
}

export {
  type AssociationStatus,
  associationStatuses,
  synchronisedState,
  type SystemStatus,
  systemStatus,
} from "./time_keeper_status.ts";
