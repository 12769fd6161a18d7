// Per-association figures at a given time: filter output, root distance, fitness, and the input selection takes.
import { adjustmentAt } from "../discipline/clock_discipline.ts";
import type { SelectionSource } from "../discipline/select_sources.ts";
import { baseDistance, rootDistance, unfitReason } from "../discipline/source_fitness.ts";
import { associationFilterOutput, type AssociationState, displayedHeader } from "./association.ts";
import { answeredRecently } from "./reach_register.ts";
import type { TimeKeeperState } from "./time_keeper_state.ts";

/** One association's filter output, root distance and selection input, evaluated at a time. */
export interface PeerFigures {
  readonly source: SelectionSource;
  readonly association: AssociationState;
  readonly delaySeconds: number;
  readonly dispersionSeconds: number;
  readonly jitterSeconds: number;
  readonly updateMonotonicSeconds: number;
  readonly offsetSeconds: number;
  readonly rootDistanceSeconds: number;
}

/**
 * Every association's figures at `now`: its clock filter output referred to the clock now, its
 * root distance and fitness, and the SelectionSource that selection takes.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * const figures = peerFigures(keeper, now);
 * ```
 */
export function peerFigures(state: TimeKeeperState, now: number): PeerFigures[] {
  const correction = adjustmentAt(state.discipline, now);
  const precisionLog2 = state.settings.precisionLog2;
  return state.associations.map((association) => {
    const out = associationFilterOutput(association, {
      monotonicSeconds: now,
      adjustmentSeconds: correction,
      precisionLog2,
    });
    const header = association.server;
    const inputs = out === null || header === null ? null : {
      rootDelaySeconds: header.rootDelaySeconds,
      rootDispersionSeconds: header.rootDispersionSeconds,
      delaySeconds: out.delaySeconds,
      dispersionSeconds: out.dispersionSeconds,
      jitterSeconds: out.jitterSeconds,
      updateMonotonicSeconds: out.updateMonotonicSeconds,
    };
    const distance = inputs === null ? Infinity : rootDistance(inputs, { monotonicSeconds: now });
    const shown = displayedHeader(association);
    const reason = unfitReason({
      noselect: association.config.noselect,
      demobilised: association.demobilisedBy !== null,
      hasSample: inputs !== null,
      reach: association.reach,
      stratum: shown.stratum,
      rootDistanceSeconds: distance,
      pollLog2: association.poll.pollLog2,
      referenceId: shown.referenceId,
      localReferenceIds: state.settings.localReferenceIds,
    });
    const source: SelectionSource = {
      id: association.config.id,
      fit: reason === null,
      offsetSeconds: out?.offsetSeconds ?? 0,
      rootDistanceSeconds: distance,
      baseDistanceSeconds: inputs === null ? Infinity : baseDistance(inputs),
      jitterSeconds: out?.jitterSeconds ?? 0,
      stratum: shown.stratum,
      leap: shown.leap,
      prefer: association.config.prefer,
      answeredRecently: answeredRecently(association.reach),
    };
    return {
      source,
      association,
      delaySeconds: out?.delaySeconds ?? 0,
      dispersionSeconds: out?.dispersionSeconds ?? 16,
      jitterSeconds: out?.jitterSeconds ?? 0,
      updateMonotonicSeconds: out?.updateMonotonicSeconds ?? now,
      offsetSeconds: out?.offsetSeconds ?? 0,
      rootDistanceSeconds: distance,
    };
  });
}
