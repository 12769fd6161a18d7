// Training: extra requests from iburst associations while the samples alone do not yet know the frequency well enough for the poll (see time_keeper.ts).
import { frequencyPollCeilingLog2 } from "../discipline/clock_discipline.ts";
import { pollSeconds } from "../time/poll.ts";
import { EXTRA_REQUEST_SPACING_SECONDS, setTraining } from "./association_schedule.ts";
import type { TimeKeeperState } from "./time_keeper_state.ts";

/** Shortest spacing of training requests, seconds (association.ts EXTRA_REQUEST_SPACING_SECONDS). */
export const TRAINING_INTERVAL_SECONDS = EXTRA_REQUEST_SPACING_SECONDS;

/** Training happens only this long after the time keeper starts, seconds. */
export const TRAINING_WINDOW_SECONDS = 900;

/**
 * Sets each association's training interval (see the file header): 2^ceiling s from the
 * samples' own frequency error, at least TRAINING_INTERVAL_SECONDS, while that is shorter than
 * its poll, within the training window, for iburst associations that were not told to slow
 * down; otherwise none.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare let keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * keeper = train(keeper, now);
 * ```
 */
export function train(state: TimeKeeperState, now: number): TimeKeeperState {
  const inWindow = now - state.startMonotonicSeconds < TRAINING_WINDOW_SECONDS;
  const ceiling = inWindow
    ? frequencyPollCeilingLog2(state.discipline, { measuredOnly: true })
    : null;
  const associations = state.associations.map((a) => {
    let interval: number | null = null;
    // Never for a source that asked us to slow down (a RATE kiss, ever).
    const slowedDown = a.rateLimited || a.poll.floorLog2 > a.config.minPollLog2 ||
      a.kissReported !== null;
    if (ceiling !== null && a.config.iburst && !slowedDown) {
      const wanted = Math.max(TRAINING_INTERVAL_SECONDS, 2 ** ceiling);
      if (wanted < pollSeconds(a.poll.pollLog2)) interval = wanted;
    }
    return setTraining(a, { intervalSeconds: interval, monotonicSeconds: now });
  });
  return associations.every((a, i) => a === state.associations[i])
    ? state
    : { ...state, associations };
}
